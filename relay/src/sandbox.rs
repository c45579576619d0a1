//! `--sandbox`: simulated vendors on loopback, called by the relay over real HTTP with sandbox
//! credentials, recording every request they receive in an outbox.

mod memoio;
mod outbox;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use hail::protocol::SANDBOX_OUTBOX_PATH;
use hail::BaseUrl;
use secrecy::SecretString;
use tokio::net::TcpListener;

pub use outbox::{Outbox, OutboxEntry};

use crate::app::AppState;
use crate::vendors::{Account, Accounts, UpstreamTimeouts};

/// The sandbox MEMOIO secret key. Not a secret: it exists only between the relay and its own
/// simulated vendor on loopback.
pub const MEMOIO_SECRET_KEY: &str = "sandbox-memoio-secret";

/// The running simulated vendors.
pub struct Sandbox {
    /// Where they listen.
    pub base: BaseUrl,
    /// What they received.
    pub outbox: Arc<Outbox>,
}

/// Starts the simulated vendors on a free loopback port.
pub async fn start() -> std::io::Result<Sandbox> {
    let outbox = Arc::new(Outbox::default());
    let app = Router::new()
        .merge(memoio::routes())
        .with_state(outbox.clone());
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "the simulated vendors stopped");
        }
    });
    let base = BaseUrl::parse(&format!("http://{addr}"))
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    Ok(Sandbox { base, outbox })
}

/// The accounts that point every vendor at the simulated ones.
pub fn accounts(sandbox: &Sandbox) -> Result<Accounts, String> {
    let mut accounts = Accounts::default();
    accounts.insert(Account::new::<hail::vendors::memoio::Memoio>(
        sandbox.base.clone(),
        hail::vendors::memoio::SecretKey::new(SecretString::from(MEMOIO_SECRET_KEY)),
        UpstreamTimeouts::default(),
    )?);
    Ok(accounts)
}

/// The relay's sandbox routes: the outbox.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route(SANDBOX_OUTBOX_PATH, get(list_outbox).delete(clear_outbox))
}

async fn list_outbox(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let entries = state.outbox.as_ref().map(|o| o.list()).unwrap_or_default();
    Json(serde_json::json!({ "entries": entries }))
}

async fn clear_outbox(State(state): State<Arc<AppState>>) -> StatusCode {
    if let Some(outbox) = &state.outbox {
        outbox.clear();
    }
    StatusCode::NO_CONTENT
}
