//! `hail-relay`: see `hail_relay::cli`.

use clap::Parser;
use tracing_subscriber::EnvFilter;

/// mimalloc instead of glibc's malloc: under `cargo xtask bench` glibc's allocator took 15% of
/// the relay's CPU (its arena locks: about one futex call per request), mimalloc's thread-local
/// heaps 0.76–0.81× that CPU per request. The library crate sets no allocator: that is the
/// binary's choice.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .json()
        .with_writer(std::io::stderr)
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    hail_relay::failpoint::setup();
    match hail_relay::cli::run(hail_relay::cli::Args::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hail-relay: {e}");
            std::process::ExitCode::from(2)
        }
    }
}
