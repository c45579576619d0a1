//! Simulated MEMOIO: checks the secret key and MEMOIO's required parameters, records, answers.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};

use super::{Outbox, MEMOIO_SECRET_KEY};

pub(super) fn routes() -> Router<Arc<Outbox>> {
    Router::new().route(
        hail::vendors::memoio::start_conversation::PATH,
        post(start_conversation),
    )
}

async fn start_conversation(
    State(outbox): State<Arc<Outbox>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (status, answer) = answer(&headers, &body);
    outbox.record("memoio", &method, &uri, &headers, &body, status.as_u16());
    (status, Json(answer)).into_response()
}

fn answer(headers: &HeaderMap, body: &[u8]) -> (StatusCode, serde_json::Value) {
    let key = headers.get("authorization").map(|v| v.as_bytes());
    if key != Some(MEMOIO_SECRET_KEY.as_bytes()) {
        return (
            StatusCode::UNAUTHORIZED,
            serde_json::json!({ "error": "invalid key" }),
        );
    }
    let form: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    let value = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    for required in ["receiver", "message", "channel"] {
        if value(required).is_none_or(|v| v.trim().is_empty()) {
            return (
                StatusCode::BAD_REQUEST,
                serde_json::json!({ "error": format!("{required} is missing") }),
            );
        }
    }
    if !value("receiver").is_some_and(|r| r.contains('@')) {
        return (
            StatusCode::BAD_REQUEST,
            serde_json::json!({ "error": "receiver is invalid" }),
        );
    }
    (StatusCode::OK, serde_json::json!({ "success": true }))
}
