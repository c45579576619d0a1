//! Simulated LiveDesk, keeping the rules of the code it derives from (Chatwoot), each named with
//! its source as `shared/VENDORS.md` ("EngageLab LiveDesk") gives it:
//! - contacts: e-mail (case-insensitively), phone number and identifier unique per account; a
//!   duplicate is 422 `{"message": "Email has already been taken", "attributes": ["email"]}`;
//!   phone numbers E.164 (`\+[1-9]\d{1,14}`) (Chatwoot `app/models/contact.rb`, and its
//!   controller's `RecordInvalid` answer);
//! - the contact search: `q` contained in name, e-mail, phone number or identifier (any case),
//!   15 a page, `meta.count` the total, `sort`/`direction` as asked; without `sort` no promised
//!   order (LiveDesk documents none): here, the order the records happen to be kept in;
//! - a contact's conversations: newest first, at most 20, only inboxes the API user may see
//!   ([`HIDDEN_INBOX`] is one it may not);
//! - a conversation's messages: the last 20, oldest first, `{meta, payload}`, `message_type` an
//!   integer (incoming 0, outgoing 1); a message is `outgoing` unless `message_type` says
//!   `incoming`;
//! - 404 `{"error": "Resource could not be found"}` for a contact or conversation that is not
//!   there.
//!
//! Records are kept (bounded) so that the relay's look-ups find them.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Router;
use base64::Engine as _;
use hail::vendors::livedesk::{create_contact, create_conversation, look_back, send_message};
use serde_json::{json, Value};

use super::sim::{route, Received, Sim};
use super::{LIVEDESK_API_KEY, LIVEDESK_API_SECRET, LIVEDESK_SEED_CONVERSATION};

/// The sandbox's LiveDesk account (project) id, as in the seed sample.
const ACCOUNT_ID: u64 = 17_623_000_010_928;
/// A contact that exists from the start: the seed sample's (`meta.sender.id` of conversation 40).
pub const SEED_CONTACT: u64 = 2_219_256;
/// An inbox whose conversations the sandbox's API user may not see: a contact's conversation
/// list leaves them out, as Chatwoot filters it by the user's inboxes.
pub const HIDDEN_INBOX: u64 = 999;

pub(super) fn routes() -> Router<Arc<Sim>> {
    let r = Router::new();
    let r = route(r, create_contact::CALL, contact);
    let r = route(r, look_back::SEARCH, search);
    let r = route(r, look_back::CONTACT_CONVERSATIONS, contact_conversations);
    let r = route(r, create_conversation::CALL, conversation);
    let r = route(r, send_message::CALL, message);
    route(r, look_back::MESSAGES, messages)
}

/// How long after a message is made its webhook leaves: Chatwoot sends webhooks from a
/// background job once the request committed, never before the API's answer.
const WEBHOOK_JOB_DELAY: std::time::Duration = std::time::Duration::from_millis(50);

/// An agent's message in `conversation` (`POST /v1/sandbox/replies`): kept as the simulated
/// LiveDesk keeps every message; `None` when there is no such conversation.
pub(super) fn agent_message(
    sim: &Sim,
    conversation: u64,
    content: &str,
    private: bool,
) -> Option<Value> {
    let mut records = records(sim);
    if !records.has_conversation(conversation) {
        return None;
    }
    let message = json!({ "id": sim.id(), "content": content, "inbox_id": 407,
        "conversation_id": conversation, "message_type": 1, "content_type": "text", "status": "sent",
        "private": private, "content_attributes": {}, "source_id": null,
        "created_at": now_secs() as u64 });
    Records::keep(&mut records.messages, message.clone());
    Some(message)
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

    fn has_contact(&self, id: u64) -> bool {
        id == SEED_CONTACT || self.contacts.iter().any(|c| c["id"].as_u64() == Some(id))
    }

    fn has_conversation(&self, id: u64) -> bool {
        id == LIVEDESK_SEED_CONVERSATION
            || self
                .conversations
                .iter()
                .any(|c| c["id"].as_u64() == Some(id))
    }

    /// The unique detail of `new` another contact already has: its Chatwoot message and field.
    fn taken(&self, new: &Value) -> Option<(&'static str, &'static str)> {
        let same = |field: &str, any_case: bool| {
            new[field].as_str().is_some_and(|v| {
                self.contacts.iter().any(|c| {
                    c[field].as_str().is_some_and(|have| {
                        if any_case {
                            have.eq_ignore_ascii_case(v)
                        } else {
                            have == v
                        }
                    })
                })
            })
        };
        [
            ("email", true, "Email has already been taken"),
            ("phone_number", false, "Phone number has already been taken"),
            ("identifier", false, "Identifier has already been taken"),
        ]
        .into_iter()
        .find(|(field, any_case, _)| same(field, *any_case))
        .map(|(field, _, message)| (message, field))
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

fn error(status: StatusCode, message: &str) -> (StatusCode, Value) {
    (status, json!({ "message": message }))
}

fn not_found() -> (StatusCode, Value) {
    (
        StatusCode::NOT_FOUND,
        json!({ "error": "Resource could not be found" }),
    )
}

fn unauthorized() -> (StatusCode, Value) {
    error(StatusCode::UNAUTHORIZED, "Invalid API key")
}

fn authorized(req: &Received) -> bool {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{LIVEDESK_API_KEY}:{LIVEDESK_API_SECRET}"))
    );
    req.header("authorization") == Some(expected.as_str())
}

/// A query parameter.
fn param(req: &Received, name: &str) -> Option<String> {
    form_urlencoded::parse(req.uri.query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Whether `phone` is E.164, as Chatwoot's contact model requires.
fn is_e164(phone: &str) -> bool {
    let digits = phone.strip_prefix('+').unwrap_or("");
    digits.starts_with(|c: char| ('1'..='9').contains(&c))
        && (2..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
}

/// `GET` the contact search.
async fn search(State(sim): State<Arc<Sim>>, req: Request) -> Response {
    let req = Received::read(req).await;
    let answer = if authorized(&req) {
        let q = param(&req, "q").unwrap_or_default().to_lowercase();
        let page: usize = param(&req, "page")
            .and_then(|p| p.parse().ok())
            .unwrap_or(1);
        let mut found: Vec<Value> = records(&sim)
            .contacts
            .iter()
            .filter(|c| {
                ["name", "email", "phone_number", "identifier"]
                    .iter()
                    .any(|f| c[f].as_str().is_some_and(|v| v.to_lowercase().contains(&q)))
            })
            .cloned()
            .collect();
        if let Some(sort) = param(&req, "sort") {
            let key = |c: &Value| match &c[sort.as_str()] {
                Value::Number(n) => format!("{:020}", n.as_u64().unwrap_or(0)),
                other => other.as_str().unwrap_or("").to_lowercase(),
            };
            // Ties in creation time (a second apart at most) go by id, as records are made.
            found.sort_by(|a, b| {
                key(a)
                    .cmp(&key(b))
                    .then(a["id"].as_u64().cmp(&b["id"].as_u64()))
            });
            if param(&req, "direction").as_deref() == Some("desc") {
                found.reverse();
            }
        }
        let count = found.len();
        let page_items: Vec<Value> = found
            .into_iter()
            .skip(
                page.saturating_sub(1)
                    .saturating_mul(look_back::SEARCH_PAGE),
            )
            .take(look_back::SEARCH_PAGE)
            .collect();
        (
            StatusCode::OK,
            json!({ "meta": { "count": count, "current_page": page }, "payload": page_items }),
        )
    } else {
        unauthorized()
    };
    req.answer(&sim, "livedesk", answer.0, &answer.1)
}

async fn contact_conversations(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<u64>,
    req: Request,
) -> Response {
    let req = Received::read(req).await;
    let answer = {
        let r = records(&sim);
        if !authorized(&req) {
            unauthorized()
        } else if !r.has_contact(id) {
            not_found()
        } else {
            let listed: Vec<Value> = r
                .conversations
                .iter()
                .rev()
                .filter(|c| c["meta"]["sender"]["id"].as_u64() == Some(id))
                .filter(|c| c["inbox_id"].as_u64() != Some(HIDDEN_INBOX))
                .take(look_back::CONVERSATIONS_MAX)
                .cloned()
                .collect();
            (StatusCode::OK, json!({ "payload": listed }))
        }
    };
    req.answer(&sim, "livedesk", answer.0, &answer.1)
}

async fn messages(State(sim): State<Arc<Sim>>, Path(id): Path<u64>, req: Request) -> Response {
    let req = Received::read(req).await;
    let answer = {
        let r = records(&sim);
        if !authorized(&req) {
            unauthorized()
        } else if !r.has_conversation(id) {
            not_found()
        } else {
            let mut last: Vec<Value> = r
                .messages
                .iter()
                .rev()
                .filter(|m| m["conversation_id"].as_u64() == Some(id))
                .take(look_back::MESSAGES_MAX)
                .cloned()
                .collect();
            last.reverse();
            (
                StatusCode::OK,
                json!({ "meta": { "contact_last_seen_at": 0 }, "payload": last }),
            )
        }
    };
    req.answer(&sim, "livedesk", answer.0, &answer.1)
}

async fn contact(State(sim): State<Arc<Sim>>, req: Request) -> Response {
    let req = Received::read(req).await;
    let answer = match (authorized(&req), req.json()) {
        (false, _) => unauthorized(),
        (true, None) => error(StatusCode::BAD_REQUEST, "The body is not JSON"),
        (true, Some(b)) if !b["inbox_id"].is_u64() => {
            error(StatusCode::UNPROCESSABLE_ENTITY, "inbox_id is required")
        }
        (true, Some(b)) if b["phone_number"].as_str().is_some_and(|p| !is_e164(p)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({ "message": "Phone number should be in e164 format", "attributes": ["phone_number"] }),
        ),
        (true, Some(b)) => {
            // Checked and kept under one lock: two creates at once make one contact.
            let mut r = records(&sim);
            if let Some((message, field)) = r.taken(&b) {
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    json!({ "message": message, "attributes": [field] }),
                )
            } else {
                let id = sim.id();
                let contact = json!({ "id": id, "name": b["name"], "email": b["email"], "phone_number": b["phone_number"],
                                      "identifier": b["identifier"], "custom_attributes": {}, "created_at": now_secs() as u64 });
                Records::keep(&mut r.contacts, contact.clone());
                (
                    StatusCode::OK,
                    json!({ "payload": {
                        "contact": contact,
                        "contact_inbox": { "source_id": format!("sbx-source-{id}"), "inbox": { "id": b["inbox_id"] } }
                    } }),
                )
            }
        }
    };
    req.answer(&sim, "livedesk", answer.0, &answer.1)
}

async fn conversation(State(sim): State<Arc<Sim>>, req: Request) -> Response {
    let req = Received::read(req).await;
    let answer = match (authorized(&req), req.json()) {
        (false, _) => unauthorized(),
        (true, None) => error(StatusCode::BAD_REQUEST, "The body is not JSON"),
        (true, Some(b)) if !b["inbox_id"].is_u64() => {
            error(StatusCode::UNPROCESSABLE_ENTITY, "inbox_id is required")
        }
        (true, Some(b)) if !(b["contact_id"].is_u64() || b["source_id"].is_string()) => error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "contact_id or source_id is required",
        ),
        (true, Some(b))
            if b["contact_id"]
                .as_u64()
                .is_some_and(|c| !records(&sim).has_contact(c)) =>
        {
            not_found()
        }
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
        (false, _) => unauthorized(),
        (true, _) if !known => not_found(),
        (true, None) => error(StatusCode::BAD_REQUEST, "The body is not JSON"),
        (true, Some(b)) if b["content"].as_str().is_none_or(|c| c.trim().is_empty()) => {
            error(StatusCode::UNPROCESSABLE_ENTITY, "content is required")
        }
        (true, Some(b)) => {
            let message_type = match b["message_type"].as_str() {
                None | Some("outgoing") => Some(1),
                Some("incoming") => Some(0),
                Some(_) => None,
            };
            match message_type {
                None => error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "message_type is not a valid message type",
                ),
                Some(t) => {
                    let message = json!({ "id": sim.id(), "content": b["content"], "inbox_id": 407, "conversation_id": id,
                        "message_type": t, "content_type": "text", "status": "sent",
                        "private": b["private"].as_bool().unwrap_or(false), "content_attributes": b["content_attributes"],
                        "source_id": null, "created_at": now_secs() as u64 });
                    Records::keep(&mut records(&sim).messages, message.clone());
                    // Chatwoot's webhook job runs after the answer, for every message.
                    let (later, m) = (sim.clone(), message.clone());
                    tokio::spawn(async move {
                        tokio::time::sleep(WEBHOOK_JOB_DELAY).await;
                        super::webhooks::livedesk_message(&later, &m, Default::default());
                    });
                    (StatusCode::OK, message)
                }
            }
        }
    };
    req.answer(&sim, "livedesk", answer.0, &answer.1)
}
