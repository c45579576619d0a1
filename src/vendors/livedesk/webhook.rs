//! LiveDesk's webhook (the API channel's "Webhook URL"), read as Chatwoot, its origin, sends it
//! (`shared/VENDORS.md`, "LiveDesk inbound"): `message_created` with `message_type`
//! `incoming` | `outgoing` | `activity` | `template` (strings here), `private` for internal
//! notes, `sender.type` `user` | `contact` | `agent_bot`, `conversation.id`; and
//! `conversation_status_changed` with the conversation's `id` and `status`.
//!
//! Authenticity: LiveDesk documents no signature. Chatwoot ≥ 4.11 signs when a secret is set:
//! `X-Chatwoot-Timestamp: ts`, `X-Chatwoot-Signature: sha256=hex(HMAC-SHA256(secret,
//! "{ts}.{body}"))`, `X-Chatwoot-Delivery` the same on every redelivery ([`verify`]).

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;

use crate::inbound::{Author, Delivery, InboundError, Kind, ReplyEvent};

/// The signature header.
pub const SIGNATURE_HEADER: &str = "x-chatwoot-signature";
/// The signed timestamp header (Unix seconds).
pub const TIMESTAMP_HEADER: &str = "x-chatwoot-timestamp";
/// The delivery id header, the same on every redelivery.
pub const DELIVERY_HEADER: &str = "x-chatwoot-delivery";
/// How far a signed timestamp may be from the relay's clock, either way.
pub const WINDOW_SECS: u64 = 300;

/// Checks a Chatwoot-style signature: `signature` is `sha256=` and the hex HMAC-SHA256 of
/// `"{timestamp}.{body}"` with `secret`, and `timestamp` within [`WINDOW_SECS`] of `now_secs`.
/// The comparison takes the same time whatever the signature (`Mac::verify_slice`).
pub fn verify(
    secret: &SecretString,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now_secs: u64,
) -> Result<(), InboundError> {
    let (Some(timestamp), Some(signature)) = (timestamp, signature) else {
        return Err(InboundError::BadSignature);
    };
    let hex = signature
        .trim()
        .strip_prefix("sha256=")
        .ok_or(InboundError::BadSignature)?;
    let expected = decode_hex(hex).ok_or(InboundError::BadSignature)?;
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.expose_secret().as_bytes())
        .map_err(|_| InboundError::BadSignature)?;
    mac.update(timestamp.trim().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&expected)
        .map_err(|_| InboundError::BadSignature)?;
    // Checked after the signature: an unsigned timestamp says nothing.
    let ts: u64 = timestamp.trim().parse().map_err(|_| InboundError::Stale)?;
    if ts.abs_diff(now_secs) > WINDOW_SECS {
        return Err(InboundError::Stale);
    }
    Ok(())
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.len() % 2 != 0 {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

#[derive(Deserialize)]
struct Event {
    #[serde(default)]
    event: String,
}

/// Reads one delivery. `delivery_id`: the `X-Chatwoot-Delivery` header, if sent.
pub fn parse(body: &[u8], delivery_id: Option<&str>) -> Result<Delivery, InboundError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|_| InboundError::Unreadable("not JSON"))?;
    let kind: Event = serde_json::from_value(value.clone())
        .map_err(|_| InboundError::Unreadable("no event name"))?;
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    };
    let id = |v: &Value| Some(text(v)).filter(|s| !s.is_empty());
    match kind.event.as_str() {
        "message_created" => {
            let conversation = id(&value["conversation"]["id"])
                .ok_or(InboundError::Unreadable("no conversation id"))?;
            let message = id(&value["id"]).ok_or(InboundError::Unreadable("no message id"))?;
            let author = match (
                value["message_type"].as_str(),
                value["sender"]["type"].as_str(),
            ) {
                // Agents' replies are outgoing; a bot's carry its type.
                (Some("outgoing"), Some("agent_bot")) => Some(Author::Bot),
                (Some("outgoing"), _) => Some(Author::Agent),
                (Some("template"), _) => Some(Author::Bot),
                // The visitor's own words, and activity lines, are not replies.
                _ => None,
            };
            let visible = value["private"].as_bool() != Some(true);
            let event = author.filter(|_| visible).map(|author| ReplyEvent {
                kind: Kind::Message,
                author,
                text: text(&value["content"]),
                at: text(&value["created_at"]),
                vendor_message_id: message.clone(),
            });
            Ok(Delivery {
                // By the message, not the delivery: a message read from the conversation's list
                // (`RecentMessages`, filling a gap) is then the same as its webhook.
                dedup_key: format!("livedesk:message:{message}"),
                conversation,
                event,
            })
        }
        "conversation_status_changed" => {
            let conversation =
                id(&value["id"]).ok_or(InboundError::Unreadable("no conversation id"))?;
            let status = text(&value["status"]);
            let at = id(&value["updated_at"])
                .or_else(|| id(&value["timestamp"]))
                .unwrap_or_default();
            Ok(Delivery {
                dedup_key: dedup(delivery_id, &format!("status:{conversation}:{status}:{at}")),
                event: Some(ReplyEvent {
                    kind: Kind::Status,
                    author: Author::System,
                    text: status,
                    at,
                    vendor_message_id: String::new(),
                }),
                conversation,
            })
        }
        // Other events (typing, updates, conversation_created) carry nothing for the page.
        other => Ok(Delivery {
            conversation: id(&value["conversation"]["id"])
                .or_else(|| id(&value["id"]))
                .unwrap_or_default(),
            dedup_key: dedup(delivery_id, &format!("{other}:{}", text(&value["id"]))),
            event: None,
        }),
    }
}

/// A conversation's last messages (`look_back::MESSAGES`, the last 20, oldest first), read when
/// a stream resumes to fill what missed webhooks left out (the relay down past LiveDesk's
/// retries). Each message reads as its `message_created` would: the same event, the same key.
pub struct RecentMessages;

impl crate::inbound::Backfill for RecentMessages {
    const VENDOR: &'static str = <super::LiveDesk as crate::operation::Vendor>::NAME;
    type Credential = super::ApiKey;

    fn request(
        base: &crate::base_url::BaseUrl,
        credential: &super::ApiKey,
        conversation: &str,
    ) -> Option<http::Request<Vec<u8>>> {
        super::look_back::messages_request(base, credential, conversation.parse().ok()?).ok()
    }

    fn read(
        conversation: &str,
        status: http::StatusCode,
        body: &[u8],
    ) -> Result<Vec<Delivery>, InboundError> {
        if !status.is_success() {
            return Err(InboundError::Unreadable("the message list was refused"));
        }
        let list: Value =
            serde_json::from_slice(body).map_err(|_| InboundError::Unreadable("not JSON"))?;
        let payload = list["payload"]
            .as_array()
            .ok_or(InboundError::Unreadable("no payload"))?;
        Ok(payload
            .iter()
            .filter_map(|m| {
                // The list writes `message_type` as an integer (incoming 0, outgoing 1,
                // activity 2, template 3); the webhook as a string.
                let kind = match m["message_type"].as_u64() {
                    Some(0) => "incoming",
                    Some(1) => "outgoing",
                    Some(2) => "activity",
                    Some(3) => "template",
                    _ => m["message_type"].as_str()?,
                };
                let at = m["created_at"]
                    .as_u64()
                    .map(|secs| {
                        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
                        humantime::format_rfc3339_seconds(t).to_string()
                    })
                    .unwrap_or_default();
                let webhook = serde_json::json!({
                    "event": "message_created", "id": m["id"], "content": m["content"],
                    "created_at": at, "message_type": kind, "private": m["private"],
                    "sender": m["sender"], "conversation": {"id": conversation},
                });
                parse(webhook.to_string().as_bytes(), None).ok()
            })
            .collect())
    }
}

/// The delivery id when LiveDesk sends one, else what identifies the event itself.
fn dedup(delivery_id: Option<&str>, fallback: &str) -> String {
    match delivery_id.map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => format!("livedesk:delivery:{d}"),
        None => format!("livedesk:{fallback}"),
    }
}

#[cfg(test)]
#[path = "webhook/tests.rs"]
mod tests;
