//! `--sandbox`: simulated vendors on loopback, called by the relay over real HTTP with sandbox
//! credentials, recording every request they act on in an outbox, and failing on demand.
//!
//! Each vendor lives under its own path: `http://127.0.0.1:PORT/{memoio,chayns,chayns-user,
//! livedesk,mluvii}`. The credentials below are not secrets: they exist only between the relay
//! and its own simulated vendors on loopback.

mod chayns;
mod faults;
mod livedesk;
mod memoio;
mod mluvii;
mod outbox;
mod sim;
mod webhooks;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use hail::credential::Section;
use hail::protocol::SANDBOX_OUTBOX_PATH;
use hail::ErrorCode;
use secrecy::SecretString;
use tokio::net::TcpListener;
use tower_http::cors::CorsLayer;

pub use faults::{Fault, Faults, FAULTS_MAX};
pub use outbox::{Outbox, OutboxEntry};
use sim::Sim;
pub use webhooks::Target;

use crate::problem::ProblemResponse;

/// `POST` queues faults, `DELETE` clears them.
pub const SANDBOX_FAULTS_PATH: &str = "/v1/sandbox/faults";

/// The sandbox MEMOIO secret key.
pub const MEMOIO_SECRET_KEY: &str = "sandbox-memoio-secret";
/// The sandbox chayns site.
pub const CHAYNS_LOCATION_ID: u64 = 77_890;
/// The sandbox chayns Tapp.
pub const CHAYNS_TAPP_ID: u64 = 4_242;
/// The sandbox chayns Tapp secret.
pub const CHAYNS_TAPP_SECRET: &str = "sandbox-tapp-secret";
/// Sandbox chayns users: `(tobitAccessToken, userId, firstName, lastName)`.
pub const CHAYNS_USERS: [(&str, u64, &str, &str); 2] = [
    ("sandbox-user-token", 1_234_567, "Anna", "Sandbox"),
    ("sandbox-user-token-2", 7_654_321, "Ben", "Sandbox"),
];
/// The sandbox LiveDesk API key.
pub const LIVEDESK_API_KEY: &str = "sandbox-livedesk-key";
/// The sandbox LiveDesk API secret.
pub const LIVEDESK_API_SECRET: &str = "sandbox-livedesk-secret";
/// A LiveDesk conversation that exists from the start (the seed sample's).
pub const LIVEDESK_SEED_CONVERSATION: u64 = 40;
/// The sandbox mluvii OAuth client.
pub const MLUVII_CLIENT_ID: &str = "sandbox-mluvii-client";
/// The sandbox mluvii OAuth client secret.
pub const MLUVII_CLIENT_SECRET: &str = "sandbox-mluvii-secret";
/// The sandbox mluvii WhatsApp subscription.
pub const MLUVII_SUBSCRIPTION: &str = "6f9619ff-8b86-d011-b42d-00c04fc964ff";

/// The running simulated vendors.
pub struct Sandbox {
    /// Where they listen (`http://127.0.0.1:PORT`).
    pub root: String,
    /// What they received.
    pub outbox: Arc<Outbox>,
    /// Faults for their next calls.
    pub faults: Arc<Faults>,
    /// The simulated vendors themselves (their records, their webhooks).
    sim: Arc<Sim>,
}

/// Starts the simulated vendors on a free loopback port.
pub async fn start() -> std::io::Result<Sandbox> {
    let sim = Arc::new(Sim::default());
    let app = Router::new()
        .nest("/memoio", memoio::routes())
        .nest("/chayns", chayns::backend_routes())
        .nest("/chayns-user", chayns::user_routes())
        .nest("/livedesk", livedesk::routes())
        .nest("/mluvii", mluvii::routes())
        .layer(axum::middleware::from_fn_with_state(
            sim.clone(),
            sim::apply_faults,
        ))
        // The chayns user API is called straight from the browser.
        .layer(CorsLayer::very_permissive())
        .with_state(sim.clone());
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "the simulated vendors stopped");
        }
    });
    Ok(Sandbox {
        root: format!("http://{addr}"),
        outbox: sim.outbox.clone(),
        faults: sim.faults.clone(),
        sim,
    })
}

impl Sandbox {
    /// Where the simulated vendors deliver their webhooks (set once the relay listens).
    pub fn deliver_to(&self, target: Target) {
        self.sim.webhooks.deliver_to(target);
    }

    /// The config sections pointing every vendor at its simulation, with sandbox credentials.
    pub fn sections(&self) -> BTreeMap<&'static str, (String, Section)> {
        let secret = |s: &str| {
            let s = SecretString::from(s.to_owned());
            crate::scrub::register(&s);
            s
        };
        let mut out = BTreeMap::new();
        let mut memoio = Section::new();
        memoio.set_secret("secret_key", secret(MEMOIO_SECRET_KEY));
        out.insert("memoio", memoio);
        let mut chayns = Section::new();
        chayns
            .set("tapp_id", CHAYNS_TAPP_ID.to_string())
            .set("location_id", CHAYNS_LOCATION_ID.to_string())
            .set_secret("tapp_secret", secret(CHAYNS_TAPP_SECRET));
        out.insert("chayns", chayns);
        let mut livedesk = Section::new();
        livedesk
            .set_secret("api_key", secret(LIVEDESK_API_KEY))
            .set_secret("api_secret", secret(LIVEDESK_API_SECRET));
        out.insert("livedesk", livedesk);
        let mut mluvii = Section::new();
        mluvii
            .set("client_id", MLUVII_CLIENT_ID)
            .set_secret("client_secret", secret(MLUVII_CLIENT_SECRET));
        out.insert("mluvii", mluvii);
        out.into_iter()
            .map(|(name, section)| (name, (format!("{}/{name}", self.root), section)))
            .collect()
    }
}

/// The relay's sandbox routes: the outbox and the faults. Their state is the sandbox alone: the
/// relay merges them only when it runs one.
pub fn routes() -> Router<Arc<Sandbox>> {
    Router::new()
        .route(SANDBOX_OUTBOX_PATH, get(list_outbox).delete(clear_outbox))
        .route(
            hail::protocol::SANDBOX_REPLIES_PATH,
            axum::routing::post(webhooks::reply),
        )
        .route(
            SANDBOX_FAULTS_PATH,
            axum::routing::post(add_faults).delete(clear_faults),
        )
}

async fn list_outbox(State(sandbox): State<Arc<Sandbox>>) -> Response {
    Json(serde_json::json!({ "entries": sandbox.outbox.list() })).into_response()
}

async fn clear_outbox(State(sandbox): State<Arc<Sandbox>>) -> StatusCode {
    sandbox.outbox.clear();
    StatusCode::NO_CONTENT
}

async fn add_faults(State(sandbox): State<Arc<Sandbox>>, body: axum::body::Bytes) -> Response {
    let refuse =
        |detail: String| ProblemResponse::new(ErrorCode::InvalidRequest, detail).into_response();
    // One fault object, or an array of them.
    let parsed = match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(one @ serde_json::Value::Object(_)) => {
            serde_json::from_value::<Fault>(one).map(|f| vec![f])
        }
        Ok(many @ serde_json::Value::Array(_)) => serde_json::from_value::<Vec<Fault>>(many),
        _ => return refuse("send a fault object or an array of them".into()),
    };
    let faults = match parsed {
        Ok(f) => f,
        Err(e) => return refuse(e.to_string()),
    };
    match sandbox.faults.push(&faults) {
        Ok(()) => (
            StatusCode::ACCEPTED,
            Json(serde_json::json!({ "queued": faults.len() })),
        )
            .into_response(),
        Err(e) => refuse(e),
    }
}

async fn clear_faults(State(sandbox): State<Arc<Sandbox>>) -> StatusCode {
    sandbox.faults.clear();
    StatusCode::NO_CONTENT
}
