//! The stores under pressure (DESIGN.md, "Reliability rules"): an `outcome_unknown` record is
//! never evicted by a store's size bounds — a flood of unique keys must not let an unknown key
//! send again — and a Redis that may evict keys on its own is refused.

#[path = "support/harness.rs"]
mod harness;
#[path = "support/process.rs"]
mod process;

use hail_relay::config::Config;
use harness::{marker, memoio, Relay};
use serde_json::json;

const OP: &str = "memoio/start-conversation";

/// A sandbox relay with `store` (top-level TOML) and bounds far below the flood below.
async fn relay(store: &str) -> Relay {
    let text = format!(
        "{store}\n[idempotency]\nmax_entries = 5\nmax_bytes = 2000\n\
         [upstream]\ntimeout_ms = 1000\nconnect_timeout_ms = 500\n\
         [rate_limit]\nper_minute = 0\n"
    );
    let config = Config::parse(&text).expect("test config");
    let sandbox = hail_relay::sandbox::start()
        .await
        .expect("simulated vendors");
    harness::serve(hail_relay::state::build(&config, Some(sandbox)).expect("relay state")).await
}

fn assert_unknown(a: &harness::Answer) {
    assert_eq!(
        (a.status.as_u16(), a.code()),
        (502, "outcome_unknown"),
        "{}",
        a.text
    );
}

/// An unknown outcome, then a flood of unique keys (each sent and replayed, like retried keys),
/// then the unknown key's retry: still unknown, and still one delivery.
async fn unknown_survives_a_flood(relay: &Relay) {
    let mark = marker("evict");
    relay
        .fault(json!({"vendor": "memoio", "kind": "timeout", "delayMs": 1500, "afterAccept": true}))
        .await;
    assert_unknown(&relay.post(OP, "the-unknown-key", &memoio(&mark)).await);
    assert_eq!(relay.deliveries("memoio", &mark), 1);
    // 400 keys: over 1024 store writes, so the embedded store's sweep runs, and far over the
    // bounds (the sandbox outbox keeps 1000 entries: the first delivery is still listed).
    for i in 0..400 {
        let key = format!("flood-{i}");
        let body = memoio(&format!("flood {i}"));
        let sent = relay.post(OP, &key, &body).await;
        assert_eq!(sent.status, 200, "{}", sent.text);
        assert_eq!(relay.post(OP, &key, &body).await.status, 200);
    }
    assert_unknown(&relay.post(OP, "the-unknown-key", &memoio(&mark)).await);
    assert_eq!(relay.deliveries("memoio", &mark), 1, "sent again");
}

#[tokio::test]
async fn memory_store_keeps_an_unknown_key_through_a_flood() {
    unknown_survives_a_flood(&relay("store = \"memory\"").await).await;
}

#[tokio::test]
async fn embedded_store_keeps_an_unknown_key_through_a_flood() {
    let dir = std::env::temp_dir().join(format!("hail-store-flood-{}", process::free_port()));
    let relay = relay(&format!(
        "store = \"embedded\"\ndata_dir = \"{}\"",
        dir.display()
    ))
    .await;
    unknown_survives_a_flood(&relay).await;
}

#[tokio::test]
async fn redis_store_keeps_an_unknown_key_through_a_flood() {
    let port = process::free_port();
    let _redis = process::redis_server(port, &[]);
    let relay = relay(&format!(
        "store = {{ redis = \"redis://127.0.0.1:{port}\", timeout_ms = 500 }}"
    ))
    .await;
    unknown_survives_a_flood(&relay).await;
}

/// Redis's own size bound: under `maxmemory` with an evicting policy, Redis drops keys when
/// full — an unknown key among them. The relay refuses to send through such a Redis (and says
/// why on /healthz) rather than risk a second delivery.
#[tokio::test]
async fn a_redis_that_may_evict_records_is_refused() {
    let port = process::free_port();
    let _redis = process::redis_server(
        port,
        &[
            "--appendonly",
            "no",
            "--maxmemory",
            "64mb",
            "--maxmemory-policy",
            "allkeys-lru",
        ],
    );
    let relay = relay(&format!(
        "store = {{ redis = \"redis://127.0.0.1:{port}\", timeout_ms = 500 }}"
    ))
    .await;
    let health = relay.get("/healthz").await;
    assert_eq!(health.status, 503, "{}", health.text);
    assert!(
        health.body["store"]
            .as_str()
            .unwrap_or("")
            .contains("maxmemory-policy"),
        "{}",
        health.text
    );
    let mark = marker("evicting");
    let refused = relay.post(OP, "k", &memoio(&mark)).await;
    assert_eq!(
        (refused.status.as_u16(), refused.code()),
        (502, "upstream_unavailable"),
        "{}",
        refused.text
    );
    assert_eq!(relay.deliveries("memoio", &mark), 0);
}
