//! Command line: `hail-relay --config relay.toml`, `--check-config`, `--sandbox`, and
//! `hail-relay webhooks register <vendor> --url …`.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use hail::catalog::{visit_all, Visitor};
use hail::Operation;

use crate::config::Config;
use crate::startup_error::{Result, StartupError};
use crate::state::{build, AppState};

/// The Hail relay.
#[derive(Debug, Parser)]
#[command(name = "hail-relay", version, about)]
pub struct Args {
    /// The configuration file (see relay.example.toml); `HAIL_RELAY_…` variables override it.
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Validate the configuration, print the effective policies (no secrets), and exit.
    #[arg(long)]
    pub check_config: bool,
    /// Run against built-in simulated vendors on loopback, every operation public unless the
    /// configuration says otherwise.
    #[arg(long, global = true)]
    pub sandbox: bool,
    /// Address to listen on, overriding the configuration (`127.0.0.1:0` picks a free port;
    /// the chosen URL is printed).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Serve this folder at `/` (the demo page).
    #[arg(long)]
    pub www: Option<PathBuf>,
    /// Instead of serving: a task with the configured vendors.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// A task instead of serving.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The vendors' webhooks (replies).
    Webhooks {
        #[command(subcommand)]
        action: Webhooks,
    },
}

/// What to do with a vendor's webhooks.
#[derive(Debug, Subcommand)]
pub enum Webhooks {
    /// Registers the relay's intake at the vendor (mluvii), updating it if registered already.
    Register {
        /// The vendor (`mluvii`).
        vendor: String,
        /// The intake URL the vendor calls: `https://RELAY/v1/hooks/mluvii/<hook_secret>`, with
        /// `user:password@` when `[replies.mluvii]` has `basic_user`.
        #[arg(long)]
        url: String,
    },
}

/// The relay app and its listen address, from the arguments.
pub async fn app(args: &Args) -> Result<(crate::app::Front, Arc<AppState>, SocketAddr)> {
    let config = match (&args.config, args.sandbox) {
        (Some(path), _) => Config::load(path)?,
        (None, true) => Config::sandbox_defaults()?,
        (None, false) => {
            return Err(StartupError::Usage(
                "give --config relay.toml (see relay.example.toml), or --sandbox",
            ))
        }
    };
    if let Some(www) = &args.www {
        if !www.is_dir() {
            return Err(StartupError::setting(
                "--www",
                format_args!("{}: not a folder", www.display()),
            ));
        }
    }
    let sandbox = if args.sandbox {
        Some(
            crate::sandbox::start()
                .await
                .map_err(StartupError::Sandbox)?,
        )
    } else {
        None
    };
    let state = Arc::new(build(&config, sandbox)?);
    let listen = args.listen.unwrap_or(config.listen);
    Ok((
        crate::app::router(state.clone(), args.www.clone()),
        state,
        listen,
    ))
}

/// The effective policy table, one line per operation (no secrets).
pub fn policy_table(state: &AppState) -> String {
    struct Table<'a>(&'a AppState, String);
    impl Visitor for Table<'_> {
        fn visit<Op: Operation>(&mut self) {
            let p = self.0.gate.policy(Op::ID).cloned().unwrap_or_default();
            let configured = self.0.vendors.accounts.has::<Op::Credential>();
            let pins: Vec<_> = p.pin.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let binds: Vec<_> = p.bind.iter().map(|(k, v)| format!("{k}←{v}")).collect();
            self.1.push_str(&format!(
                "{:<34} {:<9} {:<11} {:<5} {}\n",
                Op::ID,
                p.access.as_str(),
                if configured { "configured" } else { "-" },
                if Op::SENDS { "yes" } else { "no" },
                [pins, binds].concat().join(" "),
            ));
        }
    }
    let mut t = Table(
        state,
        format!(
            "{:<34} {:<9} {:<11} {:<5} {}\n",
            "operation", "access", "vendor", "sends", "pin / bind"
        ),
    );
    visit_all(&mut t);
    let hooks = state.replies.hook_urls();
    t.1.push_str(&format!(
        "reply webhooks: {}\n",
        if hooks.is_empty() {
            "none ([replies] has no intake)".to_owned()
        } else {
            hooks.join("; ")
        }
    ));
    t.1.push_str(&format!(
        "idempotency store: {}\norigins: {}\nrate limit, idempotency and timeouts as configured; secrets are never printed\n",
        state.records.store.describe(),
        if state.gate.allowed_origins.is_empty() { "none (no browser access)".to_owned() } else { state.gate.allowed_origins.join(", ") }
    ));
    t.1
}

/// Runs the relay until SIGINT or SIGTERM (or checks the configuration).
pub async fn run(args: Args) -> Result<()> {
    let (app, state, listen) = app(&args).await?;
    if let Some(Command::Webhooks {
        action: Webhooks::Register { vendor, url },
    }) = &args.command
    {
        let done = crate::register::register(&state, vendor, url)
            .await
            .map_err(StartupError::Upstream)?;
        println!("{done}");
        return Ok(());
    }
    if args.check_config {
        print!("{}", policy_table(&state));
        return Ok(());
    }
    // One listener, bound exclusively, with a handle per serving thread.
    let listeners = crate::server::listeners(listen, state.limits.server.workers)?;
    let addr = listeners
        .first()
        .and_then(|l| l.local_addr().ok())
        .ok_or_else(|| StartupError::Listen {
            addr: listen,
            source: std::io::Error::other("no address"),
        })?;
    let mode = if state.sandbox.is_some() {
        " (sandbox)"
    } else {
        ""
    };
    // The first stdout line is read by `cargo xtask` to learn the port.
    println!("hail-relay{mode} listening on http://{addr}");
    let _ = std::io::stdout().flush();
    tracing::info!(%addr, sandbox = state.sandbox.is_some(), workers = listeners.len(), "relay started");
    let sweeper = state.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            every.tick().await;
            sweeper.limits.limiter.sweep();
            sweeper.limits.auth_failures.sweep();
            // Between health checks too, an operator learns that sends cannot be recorded (a
            // deleted store file, a full disk, a Redis that may evict).
            if let Err(e) = sweeper.records.store.health().await {
                tracing::error!(error = %e, "the idempotency store cannot record sends");
            }
        }
    });
    if let Some(sandbox) = &state.sandbox {
        sandbox.deliver_to(sandbox_target(&state, addr));
    }
    let shutdown = tokio_util::sync::CancellationToken::new();
    state.replies.start(shutdown.clone());
    let signalled = shutdown.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        signalled.cancel();
    });
    crate::server::serve_threads(
        listeners,
        app,
        state.limits.server,
        state.vendors.calls.clone(),
        shutdown,
    )
    .await
    .map_err(StartupError::Serve)
}

/// Where the simulated vendors deliver: this relay, with its intakes' secrets.
fn sandbox_target(state: &AppState, addr: SocketAddr) -> crate::sandbox::Target {
    let hooks = &state.replies.hooks;
    crate::sandbox::Target {
        relay: format!("http://{addr}"),
        livedesk: hooks
            .get("livedesk")
            .map(|h| (h.path_secret.clone(), h.signing.clone())),
        mluvii: hooks
            .get("mluvii")
            .map(|h| (h.path_secret.clone(), h.basic.clone())),
    }
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
    tracing::info!("shutdown signal received");
}
