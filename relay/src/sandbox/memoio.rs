//! Simulated MEMOIO: checks the secret key and MEMOIO's required parameters, records, answers.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use hail::vendors::memoio::{start_conversation, start_direct_conversation};
use serde_json::{json, Value};

use super::sim::{Received, Sim};
use super::MEMOIO_SECRET_KEY;

pub(super) fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route(
            start_conversation::CALL.path,
            post(|s: State<Arc<Sim>>, r: Request| {
                answer(s, r, &["receiver", "message", "channel"])
            }),
        )
        .route(
            start_direct_conversation::CALL.path,
            post(|s: State<Arc<Sim>>, r: Request| answer(s, r, &["sender", "receiver", "message"])),
        )
}

async fn answer(
    State(sim): State<Arc<Sim>>,
    req: Request,
    required: &'static [&'static str],
) -> Response {
    let req = Received::read(req).await;
    let (status, body) = check(&req, required, &sim);
    req.answer(&sim, "memoio", status, &body)
}

fn check(req: &Received, required: &[&str], sim: &Sim) -> (StatusCode, Value) {
    if req.header("authorization") != Some(MEMOIO_SECRET_KEY) {
        return (StatusCode::UNAUTHORIZED, json!({ "error": "invalid key" }));
    }
    let form: Vec<(String, String)> = form_urlencoded::parse(&req.body).into_owned().collect();
    let value = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    for name in required {
        if value(name).is_none_or(|v| v.trim().is_empty()) {
            return (
                StatusCode::BAD_REQUEST,
                json!({ "error": format!("{name} is missing") }),
            );
        }
    }
    for name in ["receiver", "sender"] {
        if value(name).is_some_and(|v| !v.contains('@')) {
            return (
                StatusCode::BAD_REQUEST,
                json!({ "error": format!("{name} is invalid") }),
            );
        }
    }
    (
        StatusCode::OK,
        json!({ "success": true, "conversationId": format!("sbx-{}", sim.id()) }),
    )
}
