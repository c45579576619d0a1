//! LiveDesk as it really behaves (its Chatwoot rules, kept by the sandbox): a returning visitor
//! is an existing contact, found by identifier, e-mail address (any case) or phone number, and
//! gets a new conversation on it; a duplicate create is `contact_exists`; concurrent starts make
//! one contact; a visitor's first message is `incoming`.

#[path = "support/harness.rs"]
mod harness;

use harness::{marker, sandbox, Relay};
use serde_json::{json, Value};

const START: &str = "livedesk/start-conversation";
const CONTACT: &str = "livedesk/create-contact";

/// The POSTs LiveDesk acted on (2xx) whose URL ends with `suffix` and whose body contains
/// `needle`.
fn posts(relay: &Relay, suffix: &str, needle: &str) -> usize {
    let sandbox = relay.state.sandbox.as_ref().expect("sandbox");
    sandbox
        .outbox
        .list()
        .iter()
        .filter(|e| {
            e.vendor == "livedesk"
                && e.method == "POST"
                && e.url.ends_with(suffix)
                && e.body.contains(needle)
                && (200..300).contains(&e.status)
        })
        .count()
}

async fn start(relay: &Relay, key: &str, contact: Value, content: &str) -> Value {
    let body = json!({"inboxId": 407, "contact": contact, "content": content}).to_string();
    let a = relay.post(START, key, &body).await;
    assert_eq!(a.status, 200, "{}", a.text);
    a.body["data"].clone()
}

#[tokio::test]
async fn a_returning_visitor_gets_a_second_conversation_on_the_one_contact() {
    let relay = sandbox("").await;
    let mark = marker("returning");
    let email = format!("{mark}@example.com");
    let phone = format!("+42077{}", 1_000_000 + std::process::id() % 1_000_000);
    let identifier = format!("crm-{mark}");
    let first = start(
        &relay,
        "v-1",
        json!({"name": "Anna", "email": email, "phoneNumber": phone, "identifier": identifier}),
        &format!("first {mark}"),
    )
    .await;
    let contact = first["contact"]["id"].clone();
    assert!(contact.is_u64(), "{first}");
    // Found by e-mail in another case, by phone alone, by identifier alone.
    for (key, details) in [
        ("v-2", json!({"email": email.to_uppercase()})),
        ("v-3", json!({"phoneNumber": phone})),
        (
            "v-4",
            json!({"identifier": identifier, "name": "Someone Else"}),
        ),
    ] {
        let again = start(&relay, key, details.clone(), &format!("again {mark} {key}")).await;
        assert_eq!(again["contact"]["id"], contact, "{details}");
        // Nothing LiveDesk stored of the contact beyond its id reaches the caller.
        assert_eq!(
            again["contact"].as_object().map(|o| o.len()),
            Some(1),
            "{again}"
        );
        assert_ne!(again["conversation"]["id"], first["conversation"]["id"]);
    }
    // One contact made, four conversations, every first message the visitor's own words.
    assert_eq!(posts(&relay, "/contacts", &mark), 1);
    let on_contact = format!("\"contact_id\":{contact}");
    assert_eq!(posts(&relay, "/conversations", &on_contact), 4);
    let sandbox = relay.state.sandbox.as_ref().expect("sandbox");
    let firsts: Vec<_> = sandbox
        .outbox
        .list()
        .into_iter()
        .filter(|e| e.method == "POST" && e.url.ends_with("/messages") && e.body.contains(&mark))
        .collect();
    assert_eq!(firsts.len(), 4);
    assert!(
        firsts
            .iter()
            .all(|e| e.body.contains("\"message_type\":\"incoming\"")),
        "{:?}",
        firsts.iter().map(|e| &e.body).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_duplicate_contact_is_contact_exists_not_a_vendor_failure() {
    let relay = sandbox("").await;
    let mark = marker("dup");
    let body = json!({"inboxId": 407, "name": mark, "email": format!("{mark}@example.com")});
    assert_eq!(
        relay.post(CONTACT, "c-1", &body.to_string()).await.status,
        200
    );
    let other_case = json!({"inboxId": 407, "email": format!("{mark}@EXAMPLE.com")});
    let dup = relay.post(CONTACT, "c-2", &other_case.to_string()).await;
    assert_eq!(dup.status, 409, "{}", dup.text);
    assert_eq!(dup.code(), "contact_exists");
    assert_eq!(dup.body["retryable"], false);
    assert!(dup.body["detail"]
        .as_str()
        .is_some_and(|d| d.contains("Email has already been taken")));
}

#[tokio::test]
async fn concurrent_starts_for_one_new_visitor_make_one_contact_and_two_conversations() {
    let relay = sandbox("").await;
    for round in 0..5 {
        let mark = marker(&format!("race{round}"));
        let contact = json!({"email": format!("{mark}@example.com")});
        let (key_a, key_b) = (format!("r-{round}-a"), format!("r-{round}-b"));
        let (text_a, text_b) = (format!("a {mark}"), format!("b {mark}"));
        let (a, b) = tokio::join!(
            start(&relay, &key_a, contact.clone(), &text_a),
            start(&relay, &key_b, contact.clone(), &text_b),
        );
        assert_eq!(a["contact"]["id"], b["contact"]["id"], "round {round}");
        assert_ne!(a["conversation"]["id"], b["conversation"]["id"]);
        assert_eq!(posts(&relay, "/contacts", &mark), 1, "round {round}");
    }
}

#[tokio::test]
async fn the_agent_can_still_speak_first_and_sends_say_who_speaks() {
    let relay = sandbox("").await;
    let mark = marker("speaker");
    let body = json!({"inboxId": 407, "contact": {"email": format!("{mark}@example.com")},
                      "content": format!("from us {mark}"), "messageType": "outgoing"});
    let a = relay.post(START, "s-1", &body.to_string()).await;
    assert_eq!(a.status, 200, "{}", a.text);
    // LiveDesk lists message types as integers: outgoing 1.
    assert_eq!(a.body["data"]["message"]["messageType"], 1);
    let conversation = a.body["data"]["conversation"]["id"].clone();
    let reply = json!({"conversationId": conversation, "content": format!("visitor {mark}"), "messageType": "incoming"});
    let r = relay
        .post("livedesk/send-message", "s-2", &reply.to_string())
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["messageType"], 0);
    let bad = json!({"conversationId": conversation, "content": "x", "messageType": "activity"});
    let refused = relay
        .post("livedesk/send-message", "s-3", &bad.to_string())
        .await;
    assert_eq!(
        (refused.status.as_u16(), refused.body["field"].as_str()),
        (400, Some("messageType"))
    );
}

#[tokio::test]
async fn a_phone_number_livedesk_refuses_is_never_sent() {
    // Hail validates E.164 before the network, as LiveDesk requires it.
    let relay = sandbox("").await;
    let body = json!({"inboxId": 407, "phoneNumber": "00420123456789"});
    let a = relay.post(CONTACT, "p-1", &body.to_string()).await;
    assert_eq!((a.status.as_u16(), a.code()), (400, "invalid_field"));
}
