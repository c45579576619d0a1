//! The relay over real HTTP on loopback: forwarding every vendor through the sandbox, the
//! protocol's success and problem bodies.

#[path = "support/harness.rs"]
mod harness;

use harness::{marker, memoio, sandbox};
use serde_json::json;

const OP: &str = "memoio/start-conversation";

#[tokio::test]
async fn forwards_to_memoio_with_the_secret_and_answers_the_envelope() {
    let relay = sandbox("").await;
    let mark = marker("fwd");
    let a = relay.post(OP, "key-1", &memoio(&mark)).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.body["upstream"], json!({"status": 200}));
    assert_eq!(a.body["data"]["success"], true);
    assert_eq!(a.headers["content-type"], "application/json");
    assert_eq!(a.headers["x-request-id"].len(), 32);

    let entries = relay.state.sandbox.as_ref().unwrap().outbox.list();
    let e = entries
        .iter()
        .find(|e| e.body.contains(&mark))
        .expect("delivered");
    assert_eq!(
        (e.vendor, e.method.as_str(), e.status),
        ("memoio", "POST", 200)
    );
    assert!(
        e.url.ends_with("/memoio/api/start-conversation"),
        "{}",
        e.url
    );
    assert_eq!(
        e.body,
        format!("receiver=anna%40example.com&message=Hello+{mark}&channel=sales")
    );
    let auth: Vec<_> = e
        .headers
        .iter()
        .filter(|(k, _)| k == "authorization")
        .collect();
    assert_eq!(
        auth,
        [&("authorization".to_owned(), "<redacted>".to_owned())]
    );
}

#[tokio::test]
async fn every_operation_reaches_its_simulated_vendor() {
    let relay = sandbox("").await;
    let guid = hail_relay::sandbox::MLUVII_SUBSCRIPTION;
    let cases = [
        (
            "memoio/start-direct-conversation",
            json!({"sender": "bob@company.com", "receiver": "anna@example.com", "message": "Hi"}),
        ),
        (
            "chayns/intercom",
            json!({"message": "Hi", "userIds": [1_234_567]}),
        ),
        (
            "livedesk/create-contact",
            json!({"inboxId": 407, "name": "Anna"}),
        ),
        (
            "livedesk/create-conversation",
            json!({"inboxId": 407, "contactId": 2_219_256}),
        ),
        (
            "livedesk/send-message",
            json!({"conversationId": 40, "content": "Hi"}),
        ),
        (
            "livedesk/start-conversation",
            json!({"inboxId": 407, "contact": {"email": "anna@example.com"}, "content": "Hi"}),
        ),
        ("mluvii/whatsapp-subscriptions", json!({})),
        (
            "mluvii/whatsapp-send-templates",
            json!({"subscriptionId": guid, "formId": 1, "language": "cs",
            "recipients": [{"contactId": "+420123456789", "fieldValues": ["Anna"]}]}),
        ),
        (
            "mluvii/whatsapp-sent-templates",
            json!({"subscriptionId": guid, "limit": 5}),
        ),
    ];
    for (i, (op, body)) in cases.iter().enumerate() {
        let a = relay
            .post(op, &format!("every-{i}"), &body.to_string())
            .await;
        assert_eq!(a.status, 200, "{op}: {}", a.text);
    }
    let started = relay
        .post(
            "livedesk/start-conversation",
            "every-x",
            &json!({"inboxId": 407, "contact": {"name": "B"}, "content": "Hi"}).to_string(),
        )
        .await;
    let d = &started.body["data"];
    assert!(
        d["contact"]["id"].is_u64()
            && d["conversation"]["id"].is_u64()
            && d["message"]["id"].is_u64(),
        "{d}"
    );
    assert_eq!(d["conversation"]["contactId"], d["contact"]["id"]);
    let subs = relay.post("mluvii/whatsapp-subscriptions", "", "{}").await;
    assert_eq!(subs.body["data"][0]["id"], guid);
}

#[tokio::test]
async fn invalid_fields_are_problems_naming_the_field_and_send_nothing() {
    let relay = sandbox("").await;
    let mark = marker("invalid");
    let body =
        json!({"receiver": "anna@", "message": mark, "channel": "", "tags": ["a,b"]}).to_string();
    let a = relay.post(OP, "k", &body).await;
    assert_eq!(a.status, 400);
    assert_eq!(a.headers["content-type"], "application/problem+json");
    assert_eq!(a.code(), "invalid_field");
    assert_eq!(a.body["field"], "receiver");
    assert_eq!(a.body["retryable"], false);
    assert_eq!(a.body["requestId"].as_str().map(str::len), Some(32));
    let fields: Vec<_> = a.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["receiver", "channel", "tags[0]"]);
    assert_eq!(relay.deliveries("memoio", &mark), 0);
}

#[tokio::test]
async fn malformed_requests_get_their_codes() {
    let relay = sandbox("").await;
    let valid = memoio("m");
    let cases: [(&str, Option<&str>, &str, u16, &str); 9] = [
        (OP, None, &valid, 400, "idempotency_key_missing"),
        (OP, Some("with space"), &valid, 400, "invalid_request"),
        (OP, Some("k1"), "{\"receiver\":", 400, "invalid_request"),
        (OP, Some("k2"), "[1,2]", 400, "invalid_request"),
        (OP, Some("k3"), "", 400, "invalid_request"),
        (
            OP,
            Some("k4"),
            r#"{"receiver":"a@b.co","message":"m","channel":"c","x":1}"#,
            400,
            "invalid_field",
        ),
        (
            OP,
            Some("k5"),
            r#"{"receiver":"a@b.co","message":"m","channel":"c"} trailing"#,
            400,
            "invalid_request",
        ),
        (
            OP,
            Some("k6"),
            r#"{"receiver":"a@b.co","message":7,"channel":"c"}"#,
            400,
            "invalid_field",
        ),
        (
            "memoio/no-such-thing",
            Some("k"),
            "{}",
            404,
            "unknown_operation",
        ),
    ];
    for (op, key, body, status, code) in cases {
        let headers: Vec<(&str, &str)> = key.map(|k| ("idempotency-key", k)).into_iter().collect();
        let a = relay.post_with(op, &headers, body).await;
        assert_eq!((a.status.as_u16(), a.code()), (status, code), "{body}");
    }
    let unknown = relay
        .post_with(
            OP,
            &[("idempotency-key", "k4")],
            r#"{"receiver":"a@b.co","message":"m","channel":"c","x":1}"#,
        )
        .await;
    assert_eq!(unknown.body["errors"][0]["code"], "unknown_field");
}

#[tokio::test]
async fn a_wrong_secret_is_upstream_rejected_with_the_vendor_status() {
    let relay = sandbox("[vendors.memoio]\nsecret_key = { value = \"wrong-key\" }").await;
    let mark = marker("wrong");
    let a = relay.post(OP, "k", &memoio(&mark)).await;
    assert_eq!(a.status, 502);
    assert_eq!(a.code(), "upstream_rejected");
    assert_eq!(a.body["upstream"]["status"], 401);
    assert!(a.body["detail"].as_str().unwrap().contains("invalid key"));
    assert!(!a.text.contains("wrong-key"));
}

#[tokio::test]
async fn an_unreachable_vendor_is_upstream_unavailable_and_retryable() {
    // A port that was just free: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let relay = sandbox(&format!("[vendors.memoio]\nbase_url = \"http://{closed}\"")).await;
    let a = relay.post(OP, "k", &memoio("x")).await;
    assert_eq!(a.status, 502);
    assert_eq!(a.code(), "upstream_unavailable");
    assert_eq!(a.body["retryable"], true);
}

#[tokio::test]
async fn reads_need_no_idempotency_key() {
    let relay = sandbox("").await;
    let a = relay
        .post_with("mluvii/whatsapp-subscriptions", &[], "{}")
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
}

/// Every operation's declared example, sent as it is, is answered 200 by its simulated vendor:
/// an operation added without its sandbox endpoint fails here (and the demo's JSON form, which
/// sends that example, would fail for a newcomer).
#[tokio::test]
async fn every_declared_example_reaches_its_simulated_vendor() {
    struct Examples(Vec<(&'static str, &'static str)>);
    impl hail::catalog::Visitor for Examples {
        fn visit<Op: hail::Operation>(&mut self) {
            self.0.push((Op::ID, Op::EXAMPLE));
        }
    }
    let mut examples = Examples(Vec::new());
    hail::catalog::visit_all(&mut examples);
    assert_eq!(examples.0.len(), hail::catalog::ids().len());
    let relay = sandbox("").await;
    for (i, (id, example)) in examples.0.into_iter().enumerate() {
        let a = relay.post(id, &format!("example-{i}"), example).await;
        assert_eq!(a.status.as_u16(), 200, "{id}: {}", a.text);
        assert!(
            a.body["data"] != serde_json::Value::Null,
            "{id}: {}",
            a.text
        );
    }
}
