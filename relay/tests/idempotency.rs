//! Idempotency and faults: replay, mismatch, in-flight; each sandbox fault gives the expected
//! code, and the outbox shows exactly one delivery where the vendor accepted, never two.

#[path = "support/harness.rs"]
mod harness;

use harness::{marker, memoio, sandbox, Relay};
use serde_json::json;

const OP: &str = "memoio/start-conversation";

#[tokio::test]
async fn replay_mismatch_and_scope() {
    let relay = sandbox("").await;
    let mark = marker("replay");
    let first = relay.post(OP, "key-r", &memoio(&mark)).await;
    assert_eq!(first.status, 200);
    assert!(first.headers.get("idempotent-replayed").is_none());
    let again = relay.post(OP, "key-r", &memoio(&mark)).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.body, first.body);
    assert_eq!(relay.deliveries("memoio", &mark), 1);

    let other = relay.post(OP, "key-r", &memoio("something else")).await;
    assert_eq!(
        (other.status.as_u16(), other.code()),
        (422, "idempotency_key_reused")
    );
    // A validation failure is no use of the key.
    let bad = relay
        .post(
            OP,
            "key-v",
            r#"{"receiver":"x","message":"m","channel":"c"}"#,
        )
        .await;
    assert_eq!(bad.code(), "invalid_field");
    assert_eq!(relay.post(OP, "key-v", &memoio("fine")).await.status, 200);
}

#[tokio::test]
async fn a_key_in_flight_is_409() {
    let relay = sandbox("").await;
    let mark = marker("inflight");
    // The vendor acts, then answers slowly (within the 1 s vendor timeout).
    relay
        .fault(json!({"vendor": "memoio", "kind": "timeout", "delayMs": 600, "afterAccept": true}))
        .await;
    let body = memoio(&mark);
    let (first, second) = tokio::join!(relay.post(OP, "key-f", &body), async {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        relay.post(OP, "key-f", &body).await
    });
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(
        (second.status.as_u16(), second.code()),
        (409, "idempotency_in_flight")
    );
    assert_eq!(second.body["retryable"], true);
    assert_eq!(relay.deliveries("memoio", &mark), 1);
}

async fn send(relay: &Relay, key: &str, mark: &str) -> harness::Answer {
    relay.post(OP, key, &memoio(mark)).await
}

#[tokio::test]
async fn vendor_503_with_retry_after_is_retried_by_the_relay() {
    let relay = sandbox("").await;
    let mark = marker("503ra");
    relay
        .fault(json!({"vendor": "memoio", "kind": "status", "status": 503, "retryAfter": 0}))
        .await;
    let a = send(&relay, "k", &mark).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(relay.deliveries("memoio", &mark), 1);
}

#[tokio::test]
async fn vendor_503_is_retryable_with_the_same_key() {
    let relay = sandbox("").await;
    let mark = marker("503");
    relay
        .fault(json!([{"vendor": "memoio", "kind": "status", "status": 503}]))
        .await;
    let a = send(&relay, "k", &mark).await;
    assert_eq!(
        (a.status.as_u16(), a.code()),
        (502, "upstream_unavailable"),
        "{}",
        a.text
    );
    assert_eq!(a.body["retryable"], true);
    assert_eq!(a.body["upstream"]["status"], 503);
    assert_eq!(relay.deliveries("memoio", &mark), 0);
    let retry = send(&relay, "k", &mark).await;
    assert_eq!(retry.status, 200, "{}", retry.text);
    assert!(retry.headers.get("idempotent-replayed").is_none());
    assert_eq!(relay.deliveries("memoio", &mark), 1);
}

/// `outcome_unknown`, not retryable, saying that nothing is sent again with this key.
fn assert_unknown(a: &harness::Answer) {
    assert_eq!(
        (a.status.as_u16(), a.code()),
        (502, "outcome_unknown"),
        "{}",
        a.text
    );
    assert_eq!(a.body["retryable"], false);
    assert!(
        a.body["detail"]
            .as_str()
            .unwrap()
            .contains("not sent again"),
        "{}",
        a.text
    );
}

#[tokio::test]
async fn a_timeout_before_the_vendor_acted_is_unknown_where_the_vendor_cannot_be_asked() {
    let relay = sandbox("").await;
    let mark = marker("tbefore");
    relay
        .fault(json!({"vendor": "memoio", "kind": "timeout", "delayMs": 1500}))
        .await;
    let a = send(&relay, "k", &mark).await;
    // The relay cannot know the vendor did not act, and MEMOIO has no read-back.
    assert_unknown(&a);
    assert_eq!(relay.deliveries("memoio", &mark), 0);
    let again = send(&relay, "k", &mark).await;
    assert_unknown(&again);
    assert!(again.body["detail"]
        .as_str()
        .unwrap()
        .contains("memoio offers no way to look up"));
    assert_eq!(relay.deliveries("memoio", &mark), 0);
}

#[tokio::test]
async fn a_timeout_after_the_vendor_acted_is_never_sent_twice() {
    let relay = sandbox("").await;
    let mark = marker("tafter");
    relay
        .fault(json!({"vendor": "memoio", "kind": "timeout", "delayMs": 1500, "afterAccept": true}))
        .await;
    assert_unknown(&send(&relay, "k", &mark).await);
    for _ in 0..2 {
        assert_unknown(&send(&relay, "k", &mark).await);
    }
    assert_eq!(relay.deliveries("memoio", &mark), 1);
}

#[tokio::test]
async fn a_connection_dropped_after_the_vendor_acted_is_never_sent_twice() {
    let relay = sandbox("").await;
    let mark = marker("drop");
    relay
        .fault(json!({"vendor": "memoio", "kind": "drop"}))
        .await;
    assert_unknown(&send(&relay, "k", &mark).await);
    assert_unknown(&send(&relay, "k", &mark).await);
    assert_eq!(relay.deliveries("memoio", &mark), 1);
}

fn contact(mark: &str) -> String {
    json!({"inboxId": 407, "name": mark, "email": format!("{mark}@example.com")}).to_string()
}

#[tokio::test]
async fn livedesk_reads_back_a_contact_it_created_and_answers_with_it() {
    let relay = sandbox("").await;
    let mark = marker("lookfound");
    relay
        .fault(
            json!({"vendor": "livedesk", "kind": "timeout", "delayMs": 1500, "afterAccept": true}),
        )
        .await;
    let op = "livedesk/create-contact";
    assert_unknown(&relay.post(op, "k", &contact(&mark)).await);
    let again = relay.post(op, "k", &contact(&mark)).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.body["reconciled"], true);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.body["data"]["name"], mark.as_str());
    // Resolved: from now on a plain replay.
    let third = relay.post(op, "k", &contact(&mark)).await;
    assert_eq!(third.body, again.body);
    assert_eq!(relay.deliveries("livedesk", &mark), 1);
}

#[tokio::test]
async fn livedesk_sends_when_the_read_back_proves_nothing_was_created() {
    let relay = sandbox("").await;
    let mark = marker("looknone");
    relay
        .fault(json!({"vendor": "livedesk", "kind": "timeout", "delayMs": 1500}))
        .await;
    let op = "livedesk/create-contact";
    assert_unknown(&relay.post(op, "k", &contact(&mark)).await);
    assert_eq!(relay.deliveries("livedesk", &mark), 0);
    let again = relay.post(op, "k", &contact(&mark)).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert!(again.body.get("reconciled").is_none());
    assert_eq!(relay.deliveries("livedesk", &mark), 1);
}

#[tokio::test]
async fn livedesk_start_conversation_reads_back_the_message_step() {
    let relay = sandbox("").await;
    let mark = marker("lookmsg");
    relay
        .fault(json!({"vendor": "livedesk", "path": "/messages", "kind": "drop"}))
        .await;
    let body = json!({"inboxId": 407, "contact": {"identifier": mark}, "content": format!("Hello {mark}")})
        .to_string();
    let a = relay.post("livedesk/start-conversation", "k", &body).await;
    assert_unknown(&a);
    assert!(
        a.body["detail"]
            .as_str()
            .unwrap()
            .starts_with("send message"),
        "{}",
        a.text
    );
    let again = relay.post("livedesk/start-conversation", "k", &body).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.body["reconciled"], true);
    let entries = relay.state.sandbox.as_ref().unwrap().outbox.list();
    let posts = |path: &str| {
        entries
            .iter()
            .filter(|e| e.method == "POST" && e.url.ends_with(path))
            .count()
    };
    assert_eq!((posts("/contacts"), posts("/conversations")), (1, 1));
    assert_eq!(relay.deliveries("livedesk", &format!("Hello {mark}")), 1);
}

#[tokio::test]
async fn livedesk_start_conversation_resumes_after_a_failed_middle_step() {
    let relay = sandbox("").await;
    let mark = marker("resume");
    relay
        .fault(json!({"vendor": "livedesk", "path": "/api/v2/accounts/conversations", "kind": "status", "status": 503}))
        .await;
    let body =
        json!({"inboxId": 407, "contact": {"name": mark}, "content": format!("Hello {mark}")})
            .to_string();
    let a = relay.post("livedesk/start-conversation", "k", &body).await;
    assert_eq!(
        (a.status.as_u16(), a.code()),
        (502, "upstream_unavailable"),
        "{}",
        a.text
    );
    assert!(
        a.body["detail"]
            .as_str()
            .unwrap()
            .starts_with("create conversation"),
        "{}",
        a.text
    );
    assert_eq!(a.body["retryable"], true);
    let retry = relay.post("livedesk/start-conversation", "k", &body).await;
    assert_eq!(retry.status, 200, "{}", retry.text);
    let entries = relay.state.sandbox.as_ref().unwrap().outbox.list();
    let contacts = entries
        .iter()
        .filter(|e| e.url.ends_with("/contacts") && e.body.contains(&mark))
        .count();
    assert_eq!(contacts, 1, "no second contact");
    let contact_id = retry.body["data"]["contact"]["id"].as_u64().unwrap();
    let conversations: Vec<_> = entries
        .iter()
        .filter(|e| {
            e.url.ends_with("/conversations")
                && e.body.contains(&format!("\"contact_id\":{contact_id}"))
        })
        .collect();
    assert_eq!(conversations.len(), 1);
    assert_eq!(relay.deliveries("livedesk", &format!("Hello {mark}")), 1);
}

#[tokio::test]
async fn mluvii_tokens_are_refreshed_once_after_a_302() {
    let relay = sandbox("").await;
    let guid = hail_relay::sandbox::MLUVII_SUBSCRIPTION;
    assert_eq!(
        relay
            .post("mluvii/whatsapp-subscriptions", "", "{}")
            .await
            .status,
        200
    );
    relay
        .fault(json!({"vendor": "mluvii", "kind": "revokeTokens"}))
        .await;
    let mark = marker("mluvii");
    let body = json!({"subscriptionId": guid, "formId": 1, "language": "cs",
        "recipients": [{"contactId": "+420123456789", "fieldValues": [mark]}]})
    .to_string();
    let a = relay
        .post("mluvii/whatsapp-send-templates", "k", &body)
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(relay.deliveries("mluvii", &mark), 1);
}

/// A read-back that finds nothing is proof only once the vendor has had time to finish a
/// request the latest try may have sent at the last moment: until then, still unknown.
#[tokio::test]
async fn nothing_found_right_after_the_try_is_not_yet_proof() {
    let relay =
        sandbox("[http]\nrequest_timeout_ms = 1500\n[idempotency]\nlook_back_quiet_seconds = 1\n")
            .await;
    let mark = marker("quiet");
    relay
        .fault(json!({"vendor": "livedesk", "kind": "timeout", "delayMs": 1500}))
        .await;
    let op = "livedesk/create-contact";
    assert_unknown(&relay.post(op, "k", &contact(&mark)).await);
    let early = relay.post(op, "k", &contact(&mark)).await;
    assert_unknown(&early);
    assert!(
        early.body["detail"]
            .as_str()
            .unwrap()
            .contains("check again with the same key in"),
        "{}",
        early.text
    );
    assert_eq!(relay.deliveries("livedesk", &mark), 0);
    let started = std::time::Instant::now();
    let last = loop {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let a = relay.post(op, "k", &contact(&mark)).await;
        if a.status == 200 || started.elapsed() > std::time::Duration::from_secs(15) {
            break a;
        }
        assert_unknown(&a);
    };
    assert_eq!(last.status, 200, "{}", last.text);
    assert_eq!(relay.deliveries("livedesk", &mark), 1);
}
