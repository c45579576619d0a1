//! HTTP hygiene: CORS allow-list, body limit, health, metrics, request ids, the OpenAPI document.

#[path = "support/harness.rs"]
mod harness;

use harness::{memoio, sandbox, serve};
use reqwest::Method;

const OP: &str = "memoio/start-conversation";
const ORIGINS: &str =
    "[http]\nallowed_origins = [\"https://shop.example\"]\nbody_limit_bytes = 1024";

#[tokio::test]
async fn cors_preflights_are_answered_for_allowed_origins_only() {
    let relay = sandbox(ORIGINS).await;
    let preflight = |origin: &'static str| {
        relay
            .http
            .request(Method::OPTIONS, format!("{}/v1/{OP}", relay.url))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type,idempotency-key,authorization",
            )
            .send()
    };
    let ok = preflight("https://shop.example").await.unwrap();
    assert!(ok.status().is_success());
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    let allowed = ok.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        allowed.contains("idempotency-key") && allowed.contains("authorization"),
        "{allowed}"
    );

    let refused = preflight("https://evil.example").await.unwrap();
    assert_eq!(refused.status(), 403);
    assert!(refused
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "origin_not_allowed");

    let post = relay
        .post_with(
            OP,
            &[("idempotency-key", "k"), ("origin", "https://evil.example")],
            &memoio("x"),
        )
        .await;
    assert_eq!(
        (post.status.as_u16(), post.code()),
        (403, "origin_not_allowed")
    );
    let post = relay
        .post_with(
            OP,
            &[("idempotency-key", "k"), ("origin", "https://shop.example")],
            &memoio("x"),
        )
        .await;
    assert_eq!(post.status, 200);
    let exposed = post.headers["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        exposed.contains("x-request-id") && exposed.contains("idempotent-replayed"),
        "{exposed}"
    );
    // Server-to-server calls send no Origin and are not refused.
    assert_eq!(relay.post(OP, "k2", &memoio("y")).await.status, 200);
}

#[tokio::test]
async fn bodies_over_the_limit_are_payload_too_large() {
    let relay = sandbox(ORIGINS).await;
    let big =
        serde_json::json!({"receiver": "a@b.co", "channel": "c", "message": "x".repeat(2000)})
            .to_string();
    let a = relay.post(OP, "k", &big).await;
    assert_eq!(
        (a.status.as_u16(), a.code()),
        (413, "payload_too_large"),
        "{}",
        a.text
    );
}

#[tokio::test]
async fn health_metrics_and_request_ids() {
    let relay = sandbox("").await;
    let h = relay.get("/healthz").await;
    assert_eq!(
        (h.status.as_u16(), h.body["status"].as_str()),
        (200, Some("ok"))
    );
    let a = relay.post(OP, "m1", &memoio("metrics")).await;
    let b = relay.post(OP, "m2", &memoio("metrics")).await;
    assert_ne!(
        a.headers["x-request-id"], b.headers["x-request-id"],
        "fresh ids"
    );
    let own = relay
        .post_with(
            OP,
            &[("idempotency-key", "m3"), ("x-request-id", "client-chosen")],
            &memoio("metrics"),
        )
        .await;
    assert_ne!(
        own.headers["x-request-id"], "client-chosen",
        "ids are the relay's own"
    );
    relay.post(OP, "m4", "{").await;
    let m = relay.get("/metrics").await;
    assert_eq!(m.status, 200);
    assert!(
        m.text.contains(&format!(
            "hail_relay_requests_total{{operation=\"{OP}\",code=\"ok\"}}"
        )),
        "{}",
        m.text
    );
    assert!(m.text.contains("code=\"invalid_request\""), "{}", m.text);
    assert!(
        m.text.contains("vendor=\"memoio\",status=\"200\"}"),
        "{}",
        m.text
    );
}

#[tokio::test]
async fn only_a_sandbox_relay_documents_and_routes_the_sandbox_endpoints() {
    const PATHS: [&str; 2] = ["/v1/sandbox/outbox", "/v1/sandbox/faults"];
    let sandboxed = sandbox("").await;
    let config = hail_relay::config::Config::parse("store = \"memory\"").expect("config");
    let production = serve(hail_relay::state::build(&config, None).expect("state")).await;
    for (relay, listed) in [(&sandboxed, true), (&production, false)] {
        let doc = relay.get("/v1/openapi.json").await;
        assert_eq!(doc.status, 200);
        for path in PATHS {
            assert_eq!(
                doc.body["paths"][path].is_object(),
                listed,
                "{path}: {}",
                doc.text
            );
        }
    }
    // What the document says is what is routed: the outbox answers its documented shape; a
    // relay without the sandbox has no such path.
    let outbox = sandboxed.get("/v1/sandbox/outbox").await;
    assert_eq!(outbox.status, 200);
    assert!(outbox.body["entries"].is_array());
    let queued = sandboxed
        .http
        .post(format!("{}/v1/sandbox/faults", sandboxed.url))
        .body(r#"[{"vendor":"memoio","kind":"drop"},{"kind":"status","status":503,"retryAfter":null}]"#)
        .send()
        .await
        .expect("relay answers");
    assert_eq!(queued.status(), 202);
    assert_eq!(queued.text().await.unwrap_or_default(), r#"{"queued":2}"#);
    assert_eq!(production.get("/v1/sandbox/outbox").await.status, 404);
}
