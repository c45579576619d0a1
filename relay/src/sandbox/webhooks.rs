//! The simulated vendors' webhooks, delivered over HTTP to the relay as the vendors deliver them
//! (`shared/VENDORS.md`, "inbound"):
//! - LiveDesk as Chatwoot does: `message_created` for **every** message of a conversation (the
//!   visitor's, an agent's, one sent through the API, private notes), `message_type` a string,
//!   signed (`X-Chatwoot-Timestamp`, `X-Chatwoot-Signature: sha256=HMAC(secret, "{ts}.{body}")`,
//!   `X-Chatwoot-Delivery` the same on every retry), retried on a 5xx or no answer;
//! - mluvii: `{"eventType", "data"}` with HTTP Basic from the callback URL, retried twice.
//!
//! `POST /v1/sandbox/replies {"vendor", "conversationId", "content", "private"?, "delivery"?}`
//! makes an agent answer; `delivery` plays a fault: `duplicate` (delivered twice), `dropped`
//! (never delivered), `bad_signature`, `late` (delivered after the next one).

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use hail::ErrorCode;
use hmac::{Hmac, Mac};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use serde_json::{json, Value};

use super::sim::Sim;
use super::Sandbox;
use crate::problem::ProblemResponse;

/// Where the simulated vendors deliver: the relay's address and each intake's secrets.
pub struct Target {
    /// `http://127.0.0.1:PORT`.
    pub relay: String,
    /// LiveDesk: the path secret and the signing secret.
    pub livedesk: Option<(SecretString, Option<SecretString>)>,
    /// mluvii: the path secret and HTTP Basic.
    pub mluvii: Option<(SecretString, Option<(String, SecretString)>)>,
}

/// The simulated vendors' side of webhooks.
#[derive(Default)]
pub struct Webhooks {
    target: OnceLock<Target>,
}

impl Webhooks {
    /// Sets where to deliver (once the relay listens).
    pub fn deliver_to(&self, target: Target) {
        let _ = self.target.set(target);
    }
}

/// How one delivery goes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// Once, as normal.
    #[default]
    Once,
    /// Twice, the same delivery id.
    Duplicate,
    /// Never.
    Dropped,
    /// Signed with a wrong secret.
    BadSignature,
    /// After a pause long enough for the next one to overtake it.
    Late,
}

/// Tries per delivery (a first one and the vendors' retries).
const TRIES: usize = 3;
/// How long `late` waits.
const LATE: Duration = Duration::from_millis(400);

fn rfc3339_now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// Delivers LiveDesk's `message_created` for `message` (as the simulated LiveDesk keeps it), in
/// the background, as Chatwoot's job does.
pub fn livedesk_message(
    sim: &Arc<Sim>,
    message: &Value,
    fault: Fault,
) -> Option<tokio::task::JoinHandle<Vec<u16>>> {
    let sim = sim.clone();
    let body = livedesk_body(message);
    sim.webhooks.target.get()?;
    Some(tokio::spawn(async move {
        deliver(&sim, "livedesk", body, fault).await
    }))
}

fn livedesk_body(message: &Value) -> Value {
    let incoming = message["message_type"].as_u64() == Some(0);
    json!({
        "event": "message_created",
        "id": message["id"],
        "content": message["content"],
        "created_at": rfc3339_now(),
        "message_type": if incoming { "incoming" } else { "outgoing" },
        "content_type": "text",
        "private": message["private"].as_bool().unwrap_or(false),
        "content_attributes": {},
        "source_id": null,
        "sender": if incoming {
            json!({"id": 0, "name": "Visitor", "type": "contact"})
        } else {
            json!({"id": 1, "name": "Sandbox Agent", "type": "user"})
        },
        "inbox": {"id": message["inbox_id"], "name": "API"},
        "conversation": {"id": message["conversation_id"], "inbox_id": message["inbox_id"], "status": "open"},
        "account": {"id": 1, "name": "Sandbox"}
    })
}

/// Delivers `body` to the relay's intake of `vendor`, retrying as the vendor does; the statuses
/// the relay answered (none when dropped or unreachable).
async fn deliver(sim: &Sim, vendor: &str, body: Value, fault: Fault) -> Vec<u16> {
    let Some(target) = sim.webhooks.target.get() else {
        return Vec::new();
    };
    if fault == Fault::Late {
        tokio::time::sleep(LATE).await;
    }
    if fault == Fault::Dropped {
        return Vec::new();
    }
    let body = Bytes::from(body.to_string());
    let delivery_id = uuid::Uuid::new_v4().to_string();
    let times = if fault == Fault::Duplicate { 2 } else { 1 };
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut statuses = Vec::new();
    for _ in 0..times {
        for _ in 0..TRIES {
            let Some(request) = request(target, vendor, &body, &delivery_id, fault) else {
                return statuses;
            };
            let status =
                match tokio::time::timeout(Duration::from_secs(5), client.request(request)).await {
                    Ok(Ok(r)) => r.status().as_u16(),
                    _ => 0,
                };
            statuses.push(status);
            if status != 0 && status < 500 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    statuses
}

fn request(
    target: &Target,
    vendor: &str,
    body: &Bytes,
    delivery_id: &str,
    fault: Fault,
) -> Option<http::Request<Full<Bytes>>> {
    let mut builder = http::Request::post("/").header("content-type", "application/json");
    let path = match vendor {
        "livedesk" => {
            let (path, signing) = target.livedesk.as_ref()?;
            if let Some(secret) = signing {
                let ts = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs())
                    .to_string();
                let key = if fault == Fault::BadSignature {
                    "not-the-secret".to_owned()
                } else {
                    secret.expose_secret().to_owned()
                };
                let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).ok()?;
                mac.update(ts.as_bytes());
                mac.update(b".");
                mac.update(body);
                let hex: String = mac
                    .finalize()
                    .into_bytes()
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                builder = builder
                    .header("x-chatwoot-timestamp", ts)
                    .header("x-chatwoot-signature", format!("sha256={hex}"))
                    .header("x-chatwoot-delivery", delivery_id);
            }
            path.expose_secret().to_owned()
        }
        "mluvii" => {
            let (path, basic) = target.mluvii.as_ref()?;
            if let Some((user, password)) = basic {
                let password = if fault == Fault::BadSignature {
                    "not-the-password"
                } else {
                    password.expose_secret()
                };
                let encoded =
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
                builder = builder.header("authorization", format!("Basic {encoded}"));
            }
            path.expose_secret().to_owned()
        }
        _ => return None,
    };
    builder
        .uri(format!("{}/v1/hooks/{vendor}/{path}", target.relay))
        .body(Full::new(body.clone()))
        .ok()
}

/// `POST /v1/sandbox/replies`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Ask {
    vendor: String,
    conversation_id: Value,
    content: String,
    #[serde(default)]
    private: bool,
    #[serde(default)]
    delivery: Fault,
}

/// `POST /v1/sandbox/replies`: an agent of the simulated vendor answers in a conversation
/// (LiveDesk) or session (mluvii); answered once the vendor's delivery ended (`late` at once).
pub async fn reply(State(sandbox): State<Arc<Sandbox>>, body: Bytes) -> Response {
    let refuse = |code, detail: String| ProblemResponse::new(code, detail).into_response();
    let ask: Ask = match serde_json::from_slice(&body) {
        Ok(a) => a,
        Err(e) => return refuse(ErrorCode::InvalidRequest, e.to_string()),
    };
    let conversation = match &ask.conversation_id {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    let Some(conversation) = conversation else {
        return refuse(
            ErrorCode::InvalidField,
            "conversationId: a whole number, or its decimal string".into(),
        );
    };
    let sim = &sandbox.sim;
    let (vendor, body, id) = match ask.vendor.as_str() {
        "livedesk" => {
            let Some(message) =
                super::livedesk::agent_message(sim, conversation, &ask.content, ask.private)
            else {
                return refuse(
                    ErrorCode::UnknownOperation,
                    format!("no LiveDesk conversation {conversation}"),
                );
            };
            let id = message["id"].as_u64().unwrap_or_default();
            ("livedesk", livedesk_body(&message), id)
        }
        "mluvii" => {
            let id = sim.id();
            let body = json!({"eventType": "SessionActivityChatMessage", "data": {
                "sessionId": conversation, "activityId": id, "time": rfc3339_now(),
                "type": "ChatMessage", "client": "User", "text": ask.content, "userId": 1}});
            ("mluvii", body, id)
        }
        other => {
            return refuse(
                ErrorCode::InvalidField,
                format!("vendor: {other} delivers no replies (livedesk or mluvii)"),
            )
        }
    };
    let statuses = if ask.delivery == Fault::Late {
        let sim = sim.clone();
        tokio::spawn(async move { deliver(&sim, vendor, body, Fault::Late).await });
        Vec::new()
    } else {
        deliver(sim, vendor, body, ask.delivery).await
    };
    (
        StatusCode::OK,
        Json(json!({ "messageId": id, "deliveries": statuses })),
    )
        .into_response()
}
