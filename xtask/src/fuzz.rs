//! `cargo xtask fuzz [--seconds N]`: every cargo-fuzz target for N seconds (default 60) with the
//! nightly toolchain. Runs start from the committed seeds (`fuzz/seeds/`) and the corpus grown by
//! earlier runs (`fuzz/corpus/`, not committed); crashes land in `fuzz/artifacts/`.

use crate::run::{cmd, output, root, status};

/// The fuzz targets (`fuzz/fuzz_targets/*.rs`).
pub const TARGETS: [&str; 4] = [
    "requests",
    "vendor_answers",
    "headers_and_jwt",
    "scrub_and_problems",
];

pub fn run(args: &[String]) -> Result<(), String> {
    let seconds = crate::run::seconds_arg(args, 60, "fuzz")?;
    if output(cmd("rustup").args(["run", "nightly", "rustc", "--version"])).is_none() {
        return Err("the nightly toolchain is missing: `rustup toolchain install nightly`".into());
    }
    if output(cmd("cargo").args(["fuzz", "--version"])).is_none() {
        status(cmd("cargo").args(["install", "--locked", "cargo-fuzz"]))?;
    }
    for target in TARGETS {
        let corpus = root().join("fuzz/corpus").join(target);
        std::fs::create_dir_all(&corpus).map_err(|e| e.to_string())?;
        let seeds = root().join("fuzz/seeds").join(target);
        println!("==> fuzz {target} for {seconds} s");
        status(
            cmd("cargo")
                .args(["+nightly", "fuzz", "run", "--fuzz-dir", "fuzz", target])
                .arg(&corpus)
                .arg(&seeds)
                .args([
                    "--",
                    &format!("-max_total_time={seconds}"),
                    "-rss_limit_mb=4096",
                ]),
        )?;
    }
    Ok(())
}
