//! Two relay processes sharing one Redis (Debian's `redis-server`, started here on loopback):
//! one delivery per key whichever instance gets it, a shared rate limit, and a clear, retryable
//! refusal while Redis is down, with recovery when it is back.

#[path = "support/process.rs"]
mod process;

use std::time::{Duration, Instant};

use process::{free_port, listening, redis_server, relay_cmd, write_config, Proc};
use serde_json::{json, Value};

const OP: &str = "memoio/start-conversation";

fn relay(name: &str, config: &str) -> (Proc, String) {
    let path = write_config(&format!("redis-{name}.toml"), config);
    listening(
        relay_cmd()
            .args(["--sandbox", "--listen", "127.0.0.1:0", "--config"])
            .arg(&path)
            .env("RUST_LOG", "warn"),
    )
}

fn config(redis_port: u16, vendors_root: Option<&str>, extra: &str) -> String {
    let vendor = vendors_root.map_or(String::new(), |root| {
        format!("[vendors.memoio]\nbase_url = \"{root}/memoio\"\n")
    });
    format!(
        "store = {{ redis = \"redis://127.0.0.1:{redis_port}\", timeout_ms = 300 }}\n\
         [upstream]\ntimeout_ms = 2000\n{vendor}{extra}"
    )
}

async fn get_json(http: &reqwest::Client, url: &str) -> Value {
    http.get(url).send().await.unwrap().json().await.unwrap()
}

struct Pair {
    _redis: Option<Proc>,
    _a: Proc,
    _b: Proc,
    a: String,
    b: String,
    http: reqwest::Client,
    redis_port: u16,
}

/// Relays A and B on one Redis; B calls A's simulated vendors, so A's outbox sees every delivery.
async fn pair(extra: &str) -> Pair {
    let redis_port = free_port();
    let redis = redis_server(redis_port, &[]);
    let (a_proc, a) = relay(&format!("a-{redis_port}"), &config(redis_port, None, extra));
    let http = reqwest::Client::new();
    let caps = get_json(&http, &format!("{a}/v1/capabilities")).await;
    let root = caps["chaynsUserApi"]
        .as_str()
        .unwrap()
        .trim_end_matches("/chayns-user")
        .to_owned();
    let (b_proc, b) = relay(
        &format!("b-{redis_port}"),
        &config(redis_port, Some(&root), extra),
    );
    Pair {
        _redis: Some(redis),
        _a: a_proc,
        _b: b_proc,
        a,
        b,
        http,
        redis_port,
    }
}

impl Pair {
    async fn post(
        &self,
        relay: &str,
        key: &str,
        body: &str,
        headers: &[(&str, &str)],
    ) -> (u16, Value, reqwest::header::HeaderMap) {
        let mut req = self
            .http
            .post(format!("{relay}/v1/{OP}"))
            .header("idempotency-key", key)
            .body(body.to_owned());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        (status, res.json().await.unwrap_or(Value::Null), headers)
    }

    async fn deliveries(&self, needle: &str) -> usize {
        let outbox = get_json(&self.http, &format!("{}/v1/sandbox/outbox", self.a)).await;
        outbox["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["body"].as_str().unwrap_or("").contains(needle) && e["status"] == 200)
            .count()
    }

    async fn fault(&self, fault: Value) {
        let res = self
            .http
            .post(format!("{}/v1/sandbox/faults", self.a))
            .json(&fault)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 202);
    }
}

fn body(mark: &str) -> String {
    json!({"receiver": "anna@example.com", "message": format!("Hello {mark}"), "channel": "sales"})
        .to_string()
}

#[tokio::test]
async fn a_retry_on_the_other_instance_is_replayed() {
    let p = pair("").await;
    let mark = format!("ab-{}", std::process::id());
    let (status, first, _) = p.post(&p.a, "key-1", &body(&mark), &[]).await;
    assert_eq!(status, 200, "{first}");
    let (status, again, headers) = p.post(&p.b, "key-1", &body(&mark), &[]).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(headers["idempotent-replayed"], "true");
    assert_eq!(again, first);
    let (status, other, _) = p.post(&p.b, "key-1", &body("different"), &[]).await;
    assert_eq!(
        (status, other["code"].as_str()),
        (422, Some("idempotency_key_reused"))
    );
    assert_eq!(p.deliveries(&mark).await, 1);
}

#[tokio::test]
async fn the_same_key_on_both_at_once_is_delivered_once() {
    let p = pair("").await;
    let mark = format!("both-{}", std::process::id());
    // The vendor acts, then answers slowly: the first request is still in flight when the second arrives.
    p.fault(json!({"vendor": "memoio", "kind": "timeout", "delayMs": 800, "afterAccept": true}))
        .await;
    let b = body(&mark);
    let (first, second) = tokio::join!(p.post(&p.a, "key-2", &b, &[]), async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        p.post(&p.b, "key-2", &b, &[]).await
    });
    assert_eq!(first.0, 200, "{}", first.1);
    let replayed = second.2.get("idempotent-replayed").is_some();
    assert!(
        second.0 == 409 && second.1["code"] == "idempotency_in_flight"
            || second.0 == 200 && replayed,
        "{second:?}"
    );
    assert_eq!(p.deliveries(&mark).await, 1);
}

#[tokio::test]
async fn the_rate_limit_is_shared() {
    let p = pair("[rate_limit]\nper_minute = 60\nburst = 2\n").await;
    assert_eq!(p.post(&p.a, "r1", &body("r1"), &[]).await.0, 200);
    assert_eq!(p.post(&p.b, "r2", &body("r2"), &[]).await.0, 200);
    let (status, problem, headers) = p.post(&p.a, "r3", &body("r3"), &[]).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (429, Some("rate_limited"))
    );
    assert!(headers.contains_key("retry-after"));
}

#[tokio::test]
async fn redis_down_fails_closed_and_recovers() {
    let mut p = pair("").await;
    let mark = format!("down-{}", std::process::id());
    drop(p._redis.take());
    let (status, problem, _) = p.post(&p.a, "key-d", &body(&mark), &[]).await;
    assert_eq!(status, 502, "{problem}");
    assert_eq!(problem["code"], "upstream_unavailable");
    assert_eq!(problem["retryable"], true);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("idempotency store"),
        "{problem}"
    );
    assert_eq!(
        p.deliveries(&mark).await,
        0,
        "nothing is sent without the idempotency guard"
    );
    let health = p.http.get(format!("{}/healthz", p.a)).send().await.unwrap();
    assert_eq!(health.status(), 503);
    // Back on the same port: the same key goes through, once.
    p._redis = Some(redis_server(p.redis_port, &[]));
    let started = Instant::now();
    loop {
        let (status, answer, _) = p.post(&p.a, "key-d", &body(&mark), &[]).await;
        if status == 200 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "no recovery: {answer}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(p.deliveries(&mark).await, 1);
    assert_eq!(
        p.http
            .get(format!("{}/healthz", p.a))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}
