//! `cargo xtask <setup|pkg|test|demo>`: the project's build and test driver (DESIGN.md, "Commands").

mod bench;
mod demo;
mod fuzz;
mod leaks;
mod pkg;
mod relay;
mod run;
mod setup;
mod soak;
mod test;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  setup          install what is missing: wasm32 target, Chromium + ChromeDriver, npm dev tools, wasm-bindgen CLI
  pkg            build the npm package into pkg/ and pack it
  pkg-relay      build the relay's npm packages (launcher + this platform's binary) into pkg-relay/ and pack them
  test           every check (fmt, clippy, native, relay, browser, Node, end-to-end); ends with `N passed, N failed`
  demo [--port N]  build pkg/, start the sandbox relay serving www/ (default port 8787)
  bench [--seconds N]  size, SDK vs fetch, relay vs nginx vs vendor; writes target/bench/report.json
  fuzz [--seconds N]   every cargo-fuzz target for N seconds (nightly)
  soak [--seconds N]   a bounded mix of valid and invalid requests: status counts and memory";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup::run(),
        Some("pkg") => pkg::run().map(|_| ()),
        Some("pkg-relay") => pkg::relay::run(pkg::relay::Build::Release).map(|_| ()),
        Some("test") => test::run(),
        Some("demo") => demo::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("soak") => soak::run(&args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(format!("unknown command\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
