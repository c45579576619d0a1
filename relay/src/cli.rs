//! Command line: `hail-relay --sandbox [--listen ADDR] [--www DIR]`.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;
use tokio::net::TcpListener;

use crate::app::{router, AppOptions, AppState};
use crate::sandbox::Sandbox;

/// Address the relay listens on by default.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8787";

/// The Hail relay.
#[derive(Debug, Parser)]
#[command(name = "hail-relay", version, about)]
pub struct Args {
    /// Run against built-in simulated vendors on loopback, every operation open to public callers.
    #[arg(long)]
    pub sandbox: bool,
    /// Address to listen on (`127.0.0.1:0` picks a free port; the chosen URL is printed).
    #[arg(long, default_value = DEFAULT_LISTEN)]
    pub listen: SocketAddr,
    /// Serve this folder at `/` (the demo page).
    #[arg(long)]
    pub www: Option<PathBuf>,
}

/// The relay app in sandbox mode, with its simulated vendors already listening.
pub async fn sandbox_app(www: Option<PathBuf>) -> Result<(axum::Router, Sandbox), String> {
    let sandbox = crate::sandbox::start()
        .await
        .map_err(|e| format!("starting the simulated vendors: {e}"))?;
    let state = Arc::new(AppState {
        accounts: crate::sandbox::accounts(&sandbox)?,
        outbox: Some(sandbox.outbox.clone()),
    });
    let app = router(
        state,
        AppOptions {
            www,
            any_origin: true,
        },
    );
    Ok((app, sandbox))
}

/// Runs the relay until SIGINT or SIGTERM.
pub async fn run(args: Args) -> Result<(), String> {
    if !args.sandbox {
        return Err(
            "production mode (--config) is not available in this version; run with --sandbox"
                .into(),
        );
    }
    if let Some(www) = &args.www {
        if !www.is_dir() {
            return Err(format!("--www {}: not a folder", www.display()));
        }
    }
    let (app, sandbox) = sandbox_app(args.www).await?;
    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("listening on {}: {e}", args.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    // The first stdout line is read by `cargo xtask` to learn the port.
    println!("hail-relay (sandbox) listening on http://{addr}");
    let _ = std::io::stdout().flush();
    tracing::info!(%addr, vendors = %sandbox.base.as_str(), "relay started in sandbox mode");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| e.to_string())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down: finishing in-flight requests");
}
