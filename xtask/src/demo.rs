//! `cargo xtask demo [--port N]`: the demo page against the sandbox relay.

use crate::relay::Relay;
use crate::run::root;

pub fn run(args: &[String]) -> Result<(), String> {
    let port = match args {
        [] => 8787,
        [flag, port] if flag == "--port" => port
            .parse::<u16>()
            .map_err(|_| format!("--port {port}: not a port number"))?,
        _ => return Err("usage: cargo xtask demo [--port N]".into()),
    };
    crate::setup::run()?;
    crate::pkg::run()?;
    crate::pkg::copy_web_build(&root().join("www/pkg"))?;
    let relay = Relay::start(&format!("127.0.0.1:{port}"), Some("www"), None)?;
    println!("\nHail demo: open {}/  (Ctrl-C to stop)\n", relay.url);
    relay.wait()
}
