//! mluvii's webhooks (`shared/VENDORS.md`, "mluvii inbound"): `{"eventType": …, "data": {…}}`,
//! keys in any case. A chat activity (`SessionActivityChatMessage`) names who wrote it in
//! `client`: `User` (an operator), `Guest` (the visitor), `Chatbot`; `SessionActivityChatbot
//! Message` is the bot's; `SessionEnded` ends the session. No signature: the callback URL
//! carries a secret and mluvii's FAQ advises HTTP Basic (`user:password@` in the URL), which the
//! relay checks. An event may come again: activities are told apart by `activityId`.
//! **Assumed** (inferred, not published): the activity fields `sessionId`, `activityId`,
//! `time`, `client`, `text`.

use serde_json::Value;

use super::{lower_keys, request, AccessToken};
use crate::base_url::BaseUrl;
use crate::inbound::{Author, Delivery, InboundError, Kind, Registered, ReplyEvent};
use crate::vendor_call::VendorCall;

/// Registers a callback URL for event types: `{"EventTypes": [...], "CallbackUrl": "..."}`.
pub const REGISTER: VendorCall = VendorCall::post("/api/v1/Webhooks");
/// Updates a registered webhook (after a 409: the URL is registered already).
pub const UPDATE: VendorCall = VendorCall::put("/api/v1/Webhooks/{id}");
/// The events a reply stream needs: an operator's and a chatbot's messages, and the end.
pub const EVENT_TYPES: &[&str] = &[
    "SessionActivityChatMessage",
    "SessionActivityChatbotMessage",
    "SessionEnded",
];

/// mluvii's webhook registration (`hail-relay webhooks register mluvii --url …`).
/// **Assumed** (not published): the answers carry the webhook's id as a number, as `id` (any
/// case) of an object or as the whole body, the 409's too.
pub struct Registration;

fn webhook_body(url: &str) -> Value {
    serde_json::json!({ "EventTypes": EVENT_TYPES, "CallbackUrl": url })
}

impl crate::inbound::Registration for Registration {
    const VENDOR: &'static str = <super::Mluvii as crate::operation::Vendor>::NAME;
    type Credential = AccessToken;

    fn register(base: &BaseUrl, token: &AccessToken, url: &str) -> Option<http::Request<Vec<u8>>> {
        request(&REGISTER, base, &[], "", token, Some(&webhook_body(url))).ok()
    }

    fn update(
        base: &BaseUrl,
        token: &AccessToken,
        id: &str,
        url: &str,
    ) -> Option<http::Request<Vec<u8>>> {
        request(
            &UPDATE,
            base,
            &[("id", id)],
            "",
            token,
            Some(&webhook_body(url)),
        )
        .ok()
    }

    fn registered(status: http::StatusCode, body: &[u8]) -> Registered {
        let id = serde_json::from_slice::<Value>(body)
            .ok()
            .map(lower_keys)
            .and_then(|v| match v {
                Value::Number(n) => Some(n.to_string()),
                Value::String(s) => Some(s),
                Value::Object(_) => match &v["id"] {
                    Value::Number(n) => Some(n.to_string()),
                    Value::String(s) => Some(s.clone()),
                    _ => None,
                },
                _ => None,
            });
        match (status.as_u16(), id) {
            (200..=299, id) => Registered::Done(id),
            (409, Some(id)) => Registered::Exists(id),
            (status, _) => Registered::Refused(status),
        }
    }
}

/// Reads one delivery.
pub fn parse(body: &[u8]) -> Result<Delivery, InboundError> {
    let value: Value = serde_json::from_slice(body)
        .map(lower_keys)
        .map_err(|_| InboundError::Unreadable("not JSON"))?;
    let event = value["eventtype"]
        .as_str()
        .ok_or(InboundError::Unreadable("no eventType"))?
        .to_owned();
    let data = &value["data"];
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    };
    match event.as_str() {
        "SessionActivityChatMessage" | "SessionActivityChatbotMessage" => {
            let session = Some(text(&data["sessionid"]))
                .filter(|s| !s.is_empty())
                .ok_or(InboundError::Unreadable("no sessionId"))?;
            let activity = Some(text(&data["activityid"]))
                .filter(|s| !s.is_empty())
                .ok_or(InboundError::Unreadable("no activityId"))?;
            let author = match (event.as_str(), data["client"].as_str()) {
                ("SessionActivityChatbotMessage", _) | (_, Some("Chatbot")) => Some(Author::Bot),
                (_, Some("User")) => Some(Author::Agent),
                // The visitor's own words (`Guest`), and clients this version does not know.
                _ => None,
            };
            Ok(Delivery {
                conversation: session,
                dedup_key: format!("mluvii:activity:{activity}"),
                event: author.map(|author| ReplyEvent {
                    kind: Kind::Message,
                    author,
                    text: text(&data["text"]),
                    at: text(&data["time"]),
                    vendor_message_id: activity,
                }),
            })
        }
        "SessionEnded" => {
            let session = text(&data["id"]);
            Ok(Delivery {
                dedup_key: format!("mluvii:ended:{session}"),
                event: Some(ReplyEvent {
                    kind: Kind::Status,
                    author: Author::System,
                    text: "ended".to_owned(),
                    at: text(&data["ended"]),
                    vendor_message_id: String::new(),
                }),
                conversation: session,
            })
        }
        other => {
            let session = Some(text(&data["sessionid"]))
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| text(&data["id"]));
            Ok(Delivery {
                dedup_key: format!("mluvii:{other}:{session}:{}", text(&data["activityid"])),
                conversation: session,
                event: None,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chat(client: &str) -> Vec<u8> {
        json!({"eventType": "SessionActivityChatMessage", "data": {"sessionId": 5001,
               "activityId": 77, "time": "2026-12-03T10:00:00Z", "type": "ChatMessage",
               "client": client, "text": "Dobrý den"}})
        .to_string()
        .into_bytes()
    }

    #[test]
    fn an_operators_message_is_an_event_and_the_guests_is_not() {
        let d = parse(&chat("User")).unwrap();
        assert_eq!(
            (d.conversation.as_str(), d.dedup_key.as_str()),
            ("5001", "mluvii:activity:77")
        );
        let e = d.event.unwrap();
        assert_eq!(
            (e.kind, e.author, e.text.as_str()),
            (Kind::Message, Author::Agent, "Dobrý den")
        );
        assert_eq!(
            parse(&chat("Chatbot")).unwrap().event.map(|e| e.author),
            Some(Author::Bot)
        );
        assert_eq!(parse(&chat("Guest")).unwrap().event, None);
        // Keys in PascalCase, as mluvii's documentation writes them.
        let pascal = br#"{"EventType":"SessionActivityChatMessage","Data":{"SessionId":5001,"ActivityId":78,"Client":"User","Text":"Hi"}}"#;
        assert_eq!(
            parse(pascal).unwrap().event.map(|e| e.text),
            Some("Hi".into())
        );
    }

    #[test]
    fn sessions_end_and_other_events_carry_nothing() {
        let ended =
            br#"{"eventType":"SessionEnded","data":{"id":5001,"ended":"2026-12-03T11:00:00Z"}}"#;
        let d = parse(ended).unwrap();
        assert_eq!(
            (d.conversation.as_str(), d.event.map(|e| e.kind)),
            ("5001", Some(Kind::Status))
        );
        let joined = br#"{"eventType":"SessionOperatorJoined","data":{"id":5001,"userId":3}}"#;
        assert_eq!(parse(joined).unwrap().event, None);
        assert!(parse(b"[]").is_err());
        assert!(parse(br#"{"eventType":"SessionActivityChatMessage","data":{}}"#).is_err());
    }
}
