//! Unit tests of `webhook.rs`, compiled only through its `#[cfg(test)] mod tests`.
use super::*;
use serde_json::json;

const NOW: u64 = 1_766_572_000;

fn sign(secret: &str, ts: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{ts}.").as_bytes());
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    format!(
        "sha256={}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

#[test]
fn signatures_are_checked_over_timestamp_and_body_within_the_window() {
    let secret = SecretString::from("whsec");
    let body = br#"{"event":"message_created"}"#;
    let ts = NOW.to_string();
    let good = sign("whsec", &ts, body);
    assert_eq!(
        verify(&secret, Some(&ts), Some(&good), body, NOW + 10),
        Ok(())
    );
    let tampered = br#"{"event":"message_created "}"#;
    assert_eq!(
        verify(&secret, Some(&ts), Some(&good), tampered, NOW),
        Err(InboundError::BadSignature)
    );
    assert_eq!(
        verify(&secret, Some("1766572001"), Some(&good), body, NOW),
        Err(InboundError::BadSignature),
        "the timestamp is signed"
    );
    assert_eq!(
        verify(&secret, Some(&ts), Some(&good), body, NOW + WINDOW_SECS + 1),
        Err(InboundError::Stale)
    );
    for bad in [
        None,
        Some("sha256=zz"),
        Some("md5=00"),
        Some(good.trim_start_matches("sha256=")),
    ] {
        assert_eq!(
            verify(&secret, Some(&ts), bad, body, NOW),
            Err(InboundError::BadSignature),
            "{bad:?}"
        );
    }
    assert_eq!(
        verify(&secret, None, Some(&good), body, NOW),
        Err(InboundError::BadSignature)
    );
}

fn message(message_type: &str, sender: &str, private: bool) -> Vec<u8> {
    json!({"event": "message_created", "id": 91, "content": "How can I help?",
           "created_at": "2026-12-03T10:00:00.000Z", "message_type": message_type,
           "content_type": "text", "private": private, "content_attributes": {},
           "sender": {"id": 1, "name": "Eva", "type": sender}, "inbox": {"id": 407},
           "conversation": {"id": 40, "inbox_id": 407, "status": "open"}, "account": {"id": 1}})
    .to_string()
    .into_bytes()
}

#[test]
fn an_agents_reply_is_an_event_and_notes_activity_and_the_visitor_are_not() {
    let d = parse(&message("outgoing", "user", false), Some("d-1")).unwrap();
    assert_eq!(d.conversation, "40");
    // Keyed by the message, whatever the delivery id: the list reads the same key.
    assert_eq!(d.dedup_key, "livedesk:message:91");
    assert_eq!(
        d.event,
        Some(ReplyEvent {
            kind: Kind::Message,
            author: Author::Agent,
            text: "How can I help?".into(),
            at: "2026-12-03T10:00:00.000Z".into(),
            vendor_message_id: "91".into(),
        })
    );
    let bot = parse(&message("outgoing", "agent_bot", false), None).unwrap();
    assert_eq!(bot.event.map(|e| e.author), Some(Author::Bot));
    assert_eq!(bot.dedup_key, "livedesk:message:91");
    for (message_type, sender, private) in [
        ("outgoing", "user", true),
        ("incoming", "contact", false),
        ("activity", "user", false),
    ] {
        let d = parse(&message(message_type, sender, private), None).unwrap();
        assert_eq!(d.event, None, "{message_type} {sender} {private}");
        assert_eq!(d.conversation, "40");
    }
}

#[test]
fn status_changes_and_other_events_and_broken_bodies() {
    let body = json!({"event": "conversation_status_changed", "id": 40, "status": "resolved",
                      "updated_at": 1766572100, "timestamp": 1766572100});
    let d = parse(body.to_string().as_bytes(), None).unwrap();
    let e = d.event.unwrap();
    assert_eq!(
        (e.kind, e.author, e.text.as_str()),
        (Kind::Status, Author::System, "resolved")
    );
    assert_eq!(d.conversation, "40");
    let typing = json!({"event": "conversation_typing_on", "conversation": {"id": 40}});
    let d = parse(typing.to_string().as_bytes(), None).unwrap();
    assert_eq!((d.event, d.conversation.as_str()), (None, "40"));
    assert!(parse(b"<html>", None).is_err());
    assert!(parse(br#"{"event":"message_created","id":1}"#, None).is_err());
}

#[test]
fn the_message_list_reads_as_the_webhooks_would() {
    use crate::inbound::Backfill as _;
    // LiveDesk's list: `message_type` an integer, `created_at` Unix seconds.
    let list = json!({"meta": {}, "payload": [
        {"id": 90, "content": "Hello", "message_type": 0, "private": false, "created_at": 1_766_570_000, "sender": {"type": "contact"}},
        {"id": 91, "content": "How can I help?", "message_type": 1, "private": false, "created_at": 1_766_570_060, "sender": {"id": 1, "type": "user"}},
        {"id": 92, "content": "note", "message_type": 1, "private": true, "created_at": 1_766_570_070},
        {"id": 93, "content": "Eva joined", "message_type": 2, "private": false, "created_at": 1_766_570_080}
    ]})
    .to_string();
    let read = RecentMessages::read("40", http::StatusCode::OK, list.as_bytes()).unwrap();
    let keys: Vec<_> = read.iter().map(|d| d.dedup_key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "livedesk:message:90",
            "livedesk:message:91",
            "livedesk:message:92",
            "livedesk:message:93"
        ]
    );
    let events: Vec<_> = read.iter().filter_map(|d| d.event.clone()).collect();
    assert_eq!(events.len(), 1);
    assert_eq!(
        (
            events[0].author,
            events[0].text.as_str(),
            events[0].at.as_str()
        ),
        (Author::Agent, "How can I help?", "2025-12-24T09:54:20Z")
    );
    // The webhook of message 91 is the same delivery.
    let hook = parse(&message("outgoing", "user", false), Some("d-9")).unwrap();
    assert_eq!(hook.dedup_key, read[1].dedup_key);
    assert!(RecentMessages::read("40", http::StatusCode::NOT_FOUND, b"{}").is_err());
}
