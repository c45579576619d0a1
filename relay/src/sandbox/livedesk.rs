//! Simulated LiveDesk (Chatwoot-style): contacts, conversations, messages, with ids that count up.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use base64::Engine as _;
use serde_json::{json, Value};

use super::sim::{Received, Sim};
use super::{LIVEDESK_API_KEY, LIVEDESK_API_SECRET, LIVEDESK_SEED_CONVERSATION};

/// The sandbox's LiveDesk account (project) id, as in the seed sample.
const ACCOUNT_ID: u64 = 17_623_000_010_928;

pub(super) fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/api/v2/accounts/contacts", post(contact))
        .route("/api/v2/accounts/conversations", post(conversation))
        .route(
            "/api/v2/accounts/conversations/{id}/messages",
            post(message),
        )
}

fn error(status: StatusCode, message: &str) -> (StatusCode, Value) {
    (status, json!({ "message": message }))
}

fn authorized(req: &Received) -> bool {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{LIVEDESK_API_KEY}:{LIVEDESK_API_SECRET}"))
    );
    req.header("authorization") == Some(expected.as_str())
}

async fn contact(State(sim): State<Arc<Sim>>, req: Request) -> Response {
    let req = Received::read(req).await;
    let answer = match (authorized(&req), req.json()) {
        (false, _) => error(StatusCode::UNAUTHORIZED, "Invalid API key"),
        (true, None) => error(StatusCode::BAD_REQUEST, "The body is not JSON"),
        (true, Some(b)) if !b["inbox_id"].is_u64() => {
            error(StatusCode::UNPROCESSABLE_ENTITY, "inbox_id is required")
        }
        (true, Some(b)) => {
            let id = sim.id();
            (
                StatusCode::OK,
                json!({ "payload": {
                    "contact": { "id": id, "name": b["name"], "email": b["email"], "phone_number": b["phone_number"],
                                 "identifier": b["identifier"], "custom_attributes": {} },
                    "contact_inbox": { "source_id": format!("sbx-source-{id}"), "inbox": { "id": b["inbox_id"] } }
                } }),
            )
        }
    };
    req.answer(&sim, "livedesk", answer.0, &answer.1)
}

async fn conversation(State(sim): State<Arc<Sim>>, req: Request) -> Response {
    let req = Received::read(req).await;
    let answer = match (authorized(&req), req.json()) {
        (false, _) => error(StatusCode::UNAUTHORIZED, "Invalid API key"),
        (true, None) => error(StatusCode::BAD_REQUEST, "The body is not JSON"),
        (true, Some(b)) if !b["inbox_id"].is_u64() => {
            error(StatusCode::UNPROCESSABLE_ENTITY, "inbox_id is required")
        }
        (true, Some(b)) if !(b["contact_id"].is_u64() || b["source_id"].is_string()) => error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "contact_id or source_id is required",
        ),
        (true, Some(b)) => {
            let id = sim.id();
            sim.conversations
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(id);
            (
                StatusCode::OK,
                json!({
                    "meta": { "sender": { "id": b["contact_id"], "availability_status": "offline" }, "channel": "Channel::Api" },
                    "id": id, "messages": [], "account_id": ACCOUNT_ID,
                    "uuid": format!("00000000-0000-4000-8000-{id:012}"), "inbox_id": b["inbox_id"],
                    "status": "open", "can_reply": true, "created_at": 1_766_572_062, "updated_at": 1_766_572_062.58
                }),
            )
        }
    };
    req.answer(&sim, "livedesk", answer.0, &answer.1)
}

async fn message(State(sim): State<Arc<Sim>>, Path(id): Path<u64>, req: Request) -> Response {
    let req = Received::read(req).await;
    let known = id == LIVEDESK_SEED_CONVERSATION
        || sim
            .conversations
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&id);
    let answer = match (authorized(&req), req.json()) {
        (false, _) => error(StatusCode::UNAUTHORIZED, "Invalid API key"),
        (true, _) if !known => error(StatusCode::NOT_FOUND, "Conversation not found"),
        (true, None) => error(StatusCode::BAD_REQUEST, "The body is not JSON"),
        (true, Some(b)) if b["content"].as_str().is_none_or(|c| c.trim().is_empty()) => {
            error(StatusCode::UNPROCESSABLE_ENTITY, "content is required")
        }
        (true, Some(b)) => (
            StatusCode::OK,
            json!({ "id": sim.id(), "content": b["content"], "conversation_id": id, "message_type": "outgoing",
                    "private": b["private"].as_bool().unwrap_or(false), "content_attributes": b["content_attributes"] }),
        ),
    };
    req.answer(&sim, "livedesk", answer.0, &answer.1)
}
