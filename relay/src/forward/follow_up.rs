//! The visitor's follow-up (`POST /v1/replies/{stream}/messages`, `{"content": "…"}`): sent as
//! the stream's vendor's follow-up operation (`Operation::follow_up`, e.g. LiveDesk's
//! send-message as `incoming`) into the stream's conversation, with the request's
//! `Idempotency-Key` scoped to the stream, so a retry never sends twice.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use hail::catalog::{visit_all, Visitor};
use hail::{ErrorCode, Operation};

use crate::problem::ProblemResponse;
use crate::replies::log::StreamRecord;
use crate::state::AppState;

type Send = fn(
    Arc<AppState>,
    StreamRecord,
    String,
    String,
    String,
) -> Pin<Box<dyn Future<Output = Response> + std::marker::Send>>;

/// The follow-up operation of each vendor that has one.
struct FollowUps(HashMap<&'static str, Send>);

/// The follow-ups, collected once.
fn follow_ups() -> &'static FollowUps {
    static FOLLOW_UPS: std::sync::OnceLock<FollowUps> = std::sync::OnceLock::new();
    FOLLOW_UPS.get_or_init(FollowUps::collect)
}

/// The body's one field.
const CONTENT_FIELD: &str = "content";

impl FollowUps {
    /// Every operation that carries a follow-up, by vendor (from the catalog).
    fn collect() -> Self {
        struct Collect(HashMap<&'static str, Send>);
        impl Visitor for Collect {
            fn visit<Op: Operation>(&mut self) {
                if Op::follow_up("1", "x").is_some() {
                    self.0
                        .insert(Op::VENDOR, |state, record, key, content, id| {
                            Box::pin(send_one::<Op>(state, record, key, content, id))
                        });
                }
            }
        }
        let mut c = Collect(HashMap::new());
        visit_all(&mut c);
        Self(c.0)
    }
}

async fn send_one<Op: Operation>(
    state: Arc<AppState>,
    record: StreamRecord,
    key: String,
    content: String,
    request_id: String,
) -> Response {
    let Some(op) = Op::follow_up(&record.conversation, &content) else {
        return ProblemResponse::new(
            ErrorCode::Internal,
            "this stream's conversation cannot take a follow-up",
        )
        .into_response();
    };
    // The stream is the caller: its keys are its own.
    let caller = format!("replies:{}", record.id);
    super::send_as::<Op>(state, caller, key, op, request_id).await
}

/// `POST /v1/replies/{stream}/messages`: the stream's token (as for reading it), then the
/// follow-up, sent as the vendor's follow-up operation.
pub async fn handle(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    let (parts, _) = request.into_parts();
    let query = parts.uri.query();
    let record = match crate::replies::authorize(&state.replies, &id, &parts.headers, query).await {
        Ok(r) => r,
        Err(response) => return response,
    };
    let request_id = crate::request_id::of(&parts.headers).to_owned();
    let Some(&send) = follow_ups().0.get(record.vendor.as_str()) else {
        return ProblemResponse::new(
            ErrorCode::OperationDisabled,
            format!("{} takes no follow-ups through the relay", record.vendor),
        )
        .into_response();
    };
    let key = match parts.headers.get(hail::protocol::IDEMPOTENCY_KEY) {
        Some(k) if hail::protocol::is_valid_idempotency_key(k.as_bytes()) => {
            String::from_utf8_lossy(k.as_bytes()).into_owned()
        }
        Some(_) => return ProblemResponse::from(super::Refusal::KeyInvalid).into_response(),
        None => return ProblemResponse::from(super::Refusal::KeyMissing).into_response(),
    };
    let body = parts
        .extensions
        .get::<super::Buffered>()
        .map(|b| b.0.clone())
        .unwrap_or_default();
    let content = match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(serde_json::Value::Object(map)) if map.len() == 1 => match map.get(CONTENT_FIELD) {
            Some(serde_json::Value::String(s)) => s.clone(),
            _ => return invalid(),
        },
        _ => return invalid(),
    };
    send(state, record, key, content, request_id).await
}

fn invalid() -> Response {
    ProblemResponse::new(
        ErrorCode::InvalidRequest,
        "the body must be {\"content\": \"…\"} (the visitor's message, a string)",
    )
    .into_response()
}
