//! Simulated LiveDesk (Chatwoot-style): contacts, conversations, messages, with ids that count up,
//! kept (bounded) so that the relay's read-backs after an unknown outcome can find them: contact
//! search, a contact's conversations, a conversation's messages.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use base64::Engine as _;
use serde_json::{json, Value};

use super::sim::{Received, Sim};
use super::{LIVEDESK_API_KEY, LIVEDESK_API_SECRET, LIVEDESK_SEED_CONVERSATION};

/// The sandbox's LiveDesk account (project) id, as in the seed sample.
const ACCOUNT_ID: u64 = 17_623_000_010_928;

pub(super) fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/api/v2/accounts/contacts", post(contact).get(search))
        .route(
            "/api/v2/accounts/contacts/{id}/conversations",
            get(contact_conversations),
        )
        .route("/api/v2/accounts/conversations", post(conversation))
        .route(
            "/api/v2/accounts/conversations/{id}/messages",
            post(message).get(messages),
        )
}

/// Most records of each kind kept; the oldest go first.
const KEEP: usize = 10_000;

/// What the simulated LiveDesk made.
#[derive(Default)]
pub struct Records {
    contacts: VecDeque<Value>,
    conversations: VecDeque<Value>,
    messages: VecDeque<Value>,
}

impl Records {
    fn keep(list: &mut VecDeque<Value>, item: Value) {
        if list.len() >= KEEP {
            list.pop_front();
        }
        list.push_back(item);
    }

    fn has_conversation(&self, id: u64) -> bool {
        id == LIVEDESK_SEED_CONVERSATION
            || self
                .conversations
                .iter()
                .any(|c| c["id"].as_u64() == Some(id))
    }
}

fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn records(sim: &Sim) -> std::sync::MutexGuard<'_, Records> {
    sim.livedesk.lock().unwrap_or_else(|p| p.into_inner())
}

/// `{"payload": [...]}` of the records `pick` selects, or 401.
fn listed(sim: &Sim, req: Received, pick: impl Fn(&Records) -> Vec<Value>) -> Response {
    let answer = if authorized(&req) {
        (StatusCode::OK, json!({ "payload": pick(&records(sim)) }))
    } else {
        error(StatusCode::UNAUTHORIZED, "Invalid API key")
    };
    req.answer(sim, "livedesk", answer.0, &answer.1)
}

/// `GET /contacts?q=`: contacts whose e-mail, phone number or identifier equals `q`.
async fn search(State(sim): State<Arc<Sim>>, req: Request) -> Response {
    let req = Received::read(req).await;
    let q = form_urlencoded::parse(req.uri.query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == "q")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    listed(&sim, req, |r| {
        r.contacts
            .iter()
            .filter(|c| {
                ["email", "phone_number", "identifier"]
                    .iter()
                    .any(|f| c[f].as_str().is_some_and(|v| v.eq_ignore_ascii_case(&q)))
            })
            .cloned()
            .collect()
    })
}

async fn contact_conversations(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<u64>,
    req: Request,
) -> Response {
    let req = Received::read(req).await;
    listed(&sim, req, |r| {
        r.conversations
            .iter()
            .filter(|c| c["meta"]["sender"]["id"].as_u64() == Some(id))
            .cloned()
            .collect()
    })
}

async fn messages(State(sim): State<Arc<Sim>>, Path(id): Path<u64>, req: Request) -> Response {
    let req = Received::read(req).await;
    listed(&sim, req, |r| {
        r.messages
            .iter()
            .filter(|m| m["conversation_id"].as_u64() == Some(id))
            .cloned()
            .collect()
    })
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
            let contact = json!({ "id": id, "name": b["name"], "email": b["email"], "phone_number": b["phone_number"],
                                  "identifier": b["identifier"], "custom_attributes": {}, "created_at": now_secs() as u64 });
            Records::keep(&mut records(&sim).contacts, contact.clone());
            (
                StatusCode::OK,
                json!({ "payload": {
                    "contact": contact,
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
            let now = now_secs();
            let conversation = json!({
                "meta": { "sender": { "id": b["contact_id"], "availability_status": "offline" }, "channel": "Channel::Api" },
                "id": id, "messages": [], "account_id": ACCOUNT_ID,
                "uuid": format!("00000000-0000-4000-8000-{id:012}"), "inbox_id": b["inbox_id"],
                "status": "open", "can_reply": true, "created_at": now as u64, "updated_at": now
            });
            Records::keep(&mut records(&sim).conversations, conversation.clone());
            (StatusCode::OK, conversation)
        }
    };
    req.answer(&sim, "livedesk", answer.0, &answer.1)
}

async fn message(State(sim): State<Arc<Sim>>, Path(id): Path<u64>, req: Request) -> Response {
    let req = Received::read(req).await;
    let known = records(&sim).has_conversation(id);
    let answer = match (authorized(&req), req.json()) {
        (false, _) => error(StatusCode::UNAUTHORIZED, "Invalid API key"),
        (true, _) if !known => error(StatusCode::NOT_FOUND, "Conversation not found"),
        (true, None) => error(StatusCode::BAD_REQUEST, "The body is not JSON"),
        (true, Some(b)) if b["content"].as_str().is_none_or(|c| c.trim().is_empty()) => {
            error(StatusCode::UNPROCESSABLE_ENTITY, "content is required")
        }
        (true, Some(b)) => {
            let message = json!({ "id": sim.id(), "content": b["content"], "conversation_id": id, "message_type": "outgoing",
                    "private": b["private"].as_bool().unwrap_or(false), "content_attributes": b["content_attributes"],
                    "created_at": now_secs() as u64 });
            Records::keep(&mut records(&sim).messages, message.clone());
            (StatusCode::OK, message)
        }
    };
    req.answer(&sim, "livedesk", answer.0, &answer.1)
}
