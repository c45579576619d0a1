//! The relay attacked as a hostile caller and a hostile (or broken) vendor would: the real
//! `hail-relay` binary on loopback, in production mode with canary secrets, in front of a fake
//! vendor in this test process that echoes the request, answers 429, stalls, or answers
//! garbage on demand, and counts chayns token checks.

#[path = "support/process.rs"]
mod process;

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use process::{listening, write_config, Proc, BIN};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const MEMOIO_KEY: &str = "canary-memoio-key-4711";
const TAPP_ID: u64 = 42;
const TAPP_SECRET: &str = "canary-tapp-secret-0815";
const LIVEDESK_KEY: &str = "canary-livedesk-key-1234";
const LIVEDESK_SECRET: &str = "canary-livedesk-secret-5678";
const MLUVII_SECRET: &str = "canary-mluvii-secret-9999";
const MLUVII_ISSUED: &str = "canary-issued-token-abcdef";
const JWT_SECRET: &str = "canary-jwt-secret-0123456789abcdef0123456789";
const LOCATION: u64 = 77;
/// The one chayns user token the fake chayns accepts.
const GOOD_USER_TOKEN: &str = "good-user-token";

/// What the fake vendor does with API calls (token endpoints always work).
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// 200 with a small JSON body.
    Ok,
    /// The request (method, URL, headers, body) echoed back with this status.
    Echo(u16),
    /// 429 with `Retry-After: 1`.
    TooMany,
    /// 200 that is not JSON.
    Garbage,
    /// Waits this long, then answers 200 (and counts the call as completed).
    Stall(u64),
}

struct Vendor {
    mode: Mutex<Mode>,
    token_checks: AtomicUsize,
    token_check_delay_ms: AtomicUsize,
    calls: AtomicUsize,
    completed: AtomicUsize,
}

struct Fake {
    url: String,
    vendor: Arc<Vendor>,
}

async fn fake_vendor(mode: Mode) -> Fake {
    let vendor = Arc::new(Vendor {
        mode: Mutex::new(mode),
        token_checks: AtomicUsize::new(0),
        token_check_delay_ms: AtomicUsize::new(0),
        calls: AtomicUsize::new(0),
        completed: AtomicUsize::new(0),
    });
    let app = axum::Router::new()
        .fallback(answer)
        .with_state(vendor.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Fake { url, vendor }
}

async fn answer(
    State(v): State<Arc<Vendor>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    if path.ends_with("/AccessToken") {
        v.token_checks.fetch_add(1, Ordering::SeqCst);
        let delay = v.token_check_delay_ms.load(Ordering::SeqCst) as u64;
        tokio::time::sleep(Duration::from_millis(delay)).await;
        let auth = headers
            .get("authorization")
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        if auth == format!("Bearer {GOOD_USER_TOKEN}") {
            let body = json!({"data": [{"locationId": LOCATION, "userId": 5, "firstName": "A", "expires": "2099-01-01T00:00:00Z"}]});
            return axum::Json(body).into_response();
        }
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"message": "invalid token"})),
        )
            .into_response();
    }
    if path.ends_with("/login/connect/token") {
        return axum::Json(json!({"access_token": MLUVII_ISSUED, "expires_in": 3600}))
            .into_response();
    }
    v.calls.fetch_add(1, Ordering::SeqCst);
    let mode = *v.mode.lock().unwrap();
    match mode {
        Mode::Ok => axum::Json(json!({"id": 1})).into_response(),
        Mode::Echo(status) => {
            // The credential first: within any excerpt the relay takes.
            let mut echo = String::new();
            if let Some(auth) = headers.get("authorization") {
                echo.push_str(&format!("authorization: {}\n", auth.to_str().unwrap_or("")));
            }
            echo.push_str(&format!("{method} {uri}\n"));
            echo.push_str(&String::from_utf8_lossy(&body));
            let status = StatusCode::from_u16(status).unwrap();
            if status.is_success() {
                axum::Json(json!({"echo": echo})).into_response()
            } else {
                (status, echo).into_response()
            }
        }
        Mode::TooMany => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "1")],
            "slow down",
        )
            .into_response(),
        Mode::Garbage => (StatusCode::OK, "<html>not json</html>").into_response(),
        Mode::Stall(ms) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            v.completed.fetch_add(1, Ordering::SeqCst);
            axum::Json(json!({"id": 2})).into_response()
        }
    }
}

/// A relay in production mode in front of `vendor`, with `extra` TOML (may override sections
/// by adding keys to them; `[http]`, `[rate_limit]` and operations are given by the test).
struct Relay {
    proc: Proc,
    url: String,
    log: Arc<Mutex<String>>,
    http: reqwest::Client,
}

fn relay(name: &str, vendor: &str, http: &str, rate_limit: &str, operations: &str) -> Relay {
    relay_with_open_files(name, vendor, http, rate_limit, operations, None)
}

/// [`relay`], with the process's open-file limit set to `open_files` (as systemd's
/// `LimitNOFILE` would).
fn relay_with_open_files(
    name: &str,
    vendor: &str,
    http: &str,
    rate_limit: &str,
    operations: &str,
    open_files: Option<u32>,
) -> Relay {
    relay_full(
        name,
        vendor,
        "store = \"memory\"",
        http,
        rate_limit,
        operations,
        open_files,
    )
}

/// [`relay`] with `top` (top-level keys, e.g. the store) and an open-file limit.
fn relay_full(
    name: &str,
    vendor: &str,
    top: &str,
    http: &str,
    rate_limit: &str,
    operations: &str,
    open_files: Option<u32>,
) -> Relay {
    let config = format!(
        "{top}\n[http]\n{http}\n[rate_limit]\n{rate_limit}\n[upstream]\ntimeout_ms = 3000\nconnect_timeout_ms = 500\nretries = 1\n\
         [jwt]\nalgorithm = \"HS256\"\nsecret = {{ env = \"T_JWT\" }}\naudience = \"hail-relay\"\nissuer = \"https://shop.example\"\n\
         [vendors.memoio]\nbase_url = \"{vendor}/memoio\"\nsecret_key = {{ env = \"T_MEMOIO\" }}\n\
         [vendors.chayns]\nbase_url = \"{vendor}/chayns\"\nlocation_id = {LOCATION}\ntapp_id = {TAPP_ID}\ntapp_secret = {{ env = \"T_TAPP\" }}\n\
         [vendors.livedesk]\nbase_url = \"{vendor}/livedesk\"\napi_key = {{ env = \"T_LDK\" }}\napi_secret = {{ env = \"T_LDS\" }}\n\
         [vendors.mluvii]\nbase_url = \"{vendor}/mluvii\"\nclient_id = \"hail\"\nclient_secret = {{ env = \"T_MLS\" }}\n\
         {operations}\n"
    );
    let path = write_config(&format!("attack-{name}.toml"), &config);
    let mut command = match open_files {
        Some(n) => {
            let mut sh = Command::new("sh");
            sh.args(["-c", &format!("ulimit -n {n} && exec \"$0\" \"$@\""), BIN]);
            sh
        }
        None => Command::new(BIN),
    };
    let (mut proc, url) = listening(
        command
            .args(["--listen", "127.0.0.1:0", "--config"])
            .arg(&path)
            .env("RUST_LOG", "info")
            .env("T_JWT", JWT_SECRET)
            .env("T_MEMOIO", MEMOIO_KEY)
            .env("T_TAPP", TAPP_SECRET)
            .env("T_LDK", LIVEDESK_KEY)
            .env("T_LDS", LIVEDESK_SECRET)
            .env("T_MLS", MLUVII_SECRET)
            .stderr(Stdio::piped()),
    );
    let log = Arc::new(Mutex::new(String::new()));
    let mut stderr = proc.0.stderr.take().unwrap();
    let sink = log.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    Relay {
        proc,
        url,
        log,
        http: reqwest::Client::new(),
    }
}

const PUBLIC_ALL: &str = "[operations.\"memoio/start-conversation\"]\naccess = \"public\"\n\
    [operations.\"chayns/intercom\"]\naccess = \"public\"\n\
    [operations.\"livedesk/start-conversation\"]\naccess = \"public\"\n\
    [operations.\"livedesk/create-contact\"]\naccess = \"public\"\n\
    [operations.\"mluvii/whatsapp-subscriptions\"]\naccess = \"public\"\n";
const GENEROUS: &str = "per_minute = 6000\nburst = 1000";

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
    text: String,
}

impl Relay {
    async fn post(&self, op: &str, headers: &[(&str, &str)], body: &Value) -> Answer {
        let mut req = self
            .http
            .post(format!("{}/v1/{op}", self.url))
            .header("idempotency-key", format!("k-{}", unique()))
            .json(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        read(req.send().await.expect("the relay answers")).await
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Answer {
        read(req.send().await.expect("the relay answers")).await
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

async fn read(res: reqwest::Response) -> Answer {
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap_or_default();
    Answer {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        text,
    }
}

fn unique() -> u64 {
    static N: AtomicUsize = AtomicUsize::new(0);
    N.fetch_add(1, Ordering::SeqCst) as u64
}

fn memoio_body() -> Value {
    json!({"receiver": "anna@example.com", "message": "Hello", "channel": "sales"})
}

/// The relay's error codes (the protocol's, less the SDK-only ones).
fn is_relay_code(code: &str) -> bool {
    hail::ErrorCode::parse(code).is_some()
        && !["network_error", "timeout", "aborted", "invalid_response"].contains(&code)
}

fn assert_problem(a: &Answer, status: u16, code: &str) {
    assert_eq!(a.status, status, "{}", a.text);
    assert_eq!(
        a.headers.get("content-type").map(|v| v.to_str().unwrap()),
        Some("application/problem+json"),
        "{}",
        a.text
    );
    assert_eq!(a.body["code"], code, "{}", a.text);
    assert!(is_relay_code(code));
    assert_eq!(a.body["status"], status, "{}", a.text);
    // One id per request, the same in the header and the body.
    assert_eq!(
        a.body["requestId"].as_str(),
        a.headers.get("x-request-id").map(|v| v.to_str().unwrap()),
        "{}",
        a.text
    );
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn jwt(claims: Value) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap()
}

// 1. Secrets reach the browser through vendor error text.
#[tokio::test]
async fn vendor_echoes_never_show_a_credential() {
    let fake = fake_vendor(Mode::Echo(400)).await;
    let relay = relay("echo", &fake.url, "", GENEROUS, PUBLIC_ALL);
    let b64 = |s: String| base64::engine::general_purpose::STANDARD.encode(s);
    let canaries = [
        MEMOIO_KEY.to_owned(),
        TAPP_SECRET.to_owned(),
        b64(format!("{TAPP_ID}:{TAPP_SECRET}")),
        LIVEDESK_KEY.to_owned(),
        LIVEDESK_SECRET.to_owned(),
        b64(format!("{LIVEDESK_KEY}:{LIVEDESK_SECRET}")),
        MLUVII_ISSUED.to_owned(),
        MLUVII_SECRET.to_owned(),
    ];
    let calls = [
        ("memoio/start-conversation", memoio_body()),
        ("chayns/intercom", json!({"message": "m", "userIds": [1]})),
        (
            "livedesk/start-conversation",
            json!({"inboxId": 1, "contact": {"name": "A"}, "content": "m"}),
        ),
        ("mluvii/whatsapp-subscriptions", json!({})),
    ];
    for status in [400, 200] {
        *fake.vendor.mode.lock().unwrap() = Mode::Echo(status);
        for (op, body) in &calls {
            if status == 200 && !op.starts_with("memoio") {
                // Only MEMOIO's success answers are passed on as they come; the others are
                // typed (an echo is no contact, no subscription list).
                continue;
            }
            let a = relay.post(op, &[], body).await;
            // The echo came through (the vendor's text reaches the caller) ...
            assert!(a.text.contains("<redacted>"), "{op} {status}: {}", a.text);
            // ... without any credential, in any form, whole or in part.
            for canary in &canaries {
                let middle = &canary[4..canary.len() - 4];
                assert!(
                    !a.text.contains(middle),
                    "{op} {status}: {canary} leaked: {}",
                    a.text
                );
            }
            if status == 400 {
                assert_eq!(a.body["code"], "upstream_rejected", "{}", a.text);
                let detail = a.body["detail"].as_str().unwrap();
                assert!(detail.len() <= 1100, "bounded: {}", detail.len());
            } else {
                assert_eq!(a.status, 200, "{}", a.text);
            }
        }
    }
}

// 8. Protocol contract: every error is a problem document with a relay code.
#[tokio::test]
async fn every_error_is_a_problem_document() {
    let fake = fake_vendor(Mode::Garbage).await;
    let relay = relay(
        "problems",
        &fake.url,
        "max_header_bytes = 8192",
        GENEROUS,
        PUBLIC_ALL,
    );
    let outside = relay
        .send(relay.http.get(format!("{}/nothing/here", relay.url)))
        .await;
    assert_problem(&outside, 404, "unknown_operation");
    let wrong_method = relay
        .send(
            relay
                .http
                .get(format!("{}/v1/memoio/start-conversation", relay.url)),
        )
        .await;
    assert_problem(&wrong_method, 405, "method_not_allowed");
    assert!(wrong_method.headers.contains_key("allow"));
    let post_health = relay
        .send(relay.http.post(format!("{}/healthz", relay.url)))
        .await;
    assert_problem(&post_health, 405, "method_not_allowed");
    let big = relay
        .send(
            relay
                .http
                .get(format!("{}/v1/capabilities", relay.url))
                .header("x-padding", "p".repeat(20_000)),
        )
        .await;
    assert_problem(&big, 400, "invalid_request");
    // A vendor answering 200 with something unreadable: a relay code, not the SDK's
    // `invalid_response`; the vendor accepted it, so the outcome is unknown, not "not sent".
    let garbage = relay
        .post(
            "livedesk/create-contact",
            &[],
            &json!({"inboxId": 1, "name": "A"}),
        )
        .await;
    assert_problem(&garbage, 502, "outcome_unknown");
    assert_eq!(garbage.body["retryable"], false);
}

// 7. A vendor 429 after the relay's own retries.
#[tokio::test]
async fn a_final_vendor_429_is_retryable_with_retry_after() {
    let fake = fake_vendor(Mode::TooMany).await;
    let relay = relay("429", &fake.url, "", GENEROUS, PUBLIC_ALL);
    let a = relay
        .post("memoio/start-conversation", &[], &memoio_body())
        .await;
    assert_eq!(
        fake.vendor.calls.load(Ordering::SeqCst),
        2,
        "one retry after the vendor's Retry-After"
    );
    assert_problem(&a, 502, "upstream_unavailable");
    assert_eq!(a.body["retryable"], true, "{}", a.text);
    assert_eq!(a.body["upstream"]["status"], 429);
    assert_eq!(a.headers["retry-after"], "1");
}

// 4. JWT `nbf`.
#[tokio::test]
async fn tokens_not_yet_valid_are_refused() {
    let fake = fake_vendor(Mode::Ok).await;
    let relay = relay(
        "nbf",
        &fake.url,
        "",
        GENEROUS,
        "[operations.\"memoio/start-conversation\"]\naccess = \"jwt\"\n",
    );
    let claims = |nbf: u64| json!({"sub": "u1", "aud": "hail-relay", "iss": "https://shop.example", "exp": now() + 7200, "nbf": nbf});
    let later = format!("Bearer {}", jwt(claims(now() + 3600)));
    let a = relay
        .post(
            "memoio/start-conversation",
            &[("authorization", &later)],
            &memoio_body(),
        )
        .await;
    assert_problem(&a, 401, "unauthenticated");
    assert!(a.text.contains("not yet valid"), "{}", a.text);
    // Within the leeway (30 s by default) it is accepted.
    let skewed = format!("Bearer {}", jwt(claims(now() + 10)));
    let a = relay
        .post(
            "memoio/start-conversation",
            &[("authorization", &skewed)],
            &memoio_body(),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(fake.vendor.calls.load(Ordering::SeqCst), 1);
}

// 5. Pins are exact.
#[tokio::test]
async fn pins_are_exact() {
    let fake = fake_vendor(Mode::Echo(200)).await;
    let relay = relay(
        "pins",
        &fake.url,
        "",
        GENEROUS,
        "[operations.\"memoio/start-conversation\"]\naccess = \"public\"\npin = { channel = \"sales\" }\n",
    );
    let mut body = memoio_body();
    body["channel"] = json!("SALES");
    let a = relay.post("memoio/start-conversation", &[], &body).await;
    assert_problem(&a, 403, "forbidden");
    assert_eq!(a.body["field"], "channel");
    assert_eq!(fake.vendor.calls.load(Ordering::SeqCst), 0, "nothing sent");
    body["channel"] = json!("sales");
    let a = relay.post("memoio/start-conversation", &[], &body).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert!(a.text.contains("channel=sales"), "{}", a.text);
}

// 6. Caller identity for rate limits.
#[tokio::test]
async fn one_host_is_one_caller_however_it_is_addressed() {
    let fake = fake_vendor(Mode::Ok).await;
    let cases: [(&str, [&str; 3]); 3] = [
        // Addresses rotating inside one IPv6 /64.
        (
            "v6",
            ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::3"],
        ),
        // IPv4-mapped IPv6 and IPv4.
        (
            "mapped",
            ["::ffff:198.51.100.7", "198.51.100.7", "198.51.100.7:4711"],
        ),
        // Bracketed and with ports.
        (
            "ports",
            ["[2001:db8:9::1]:4711", "[2001:db8:9::2]", "2001:db8:9::3"],
        ),
    ];
    for (name, hops) in cases {
        let relay = relay(
            &format!("ident-{name}"),
            &fake.url,
            "trusted_proxies = [\"127.0.0.1\"]",
            "per_minute = 1\nburst = 2",
            PUBLIC_ALL,
        );
        let mut statuses = Vec::new();
        for hop in hops {
            let a = relay
                .post(
                    "memoio/start-conversation",
                    &[("x-forwarded-for", hop)],
                    &memoio_body(),
                )
                .await;
            statuses.push(a.status);
        }
        assert_eq!(statuses, [200, 200, 429], "{name}: {hops:?}");
        // Another client behind the same proxy, given as ip:port, has its own budget.
        let a = relay
            .post(
                "memoio/start-conversation",
                &[("x-forwarded-for", "203.0.113.50:1234")],
                &memoio_body(),
            )
            .await;
        assert_eq!(a.status, 200, "{name}: {}", a.text);
    }
}

// 2. Failed authentication is throttled.
#[tokio::test]
async fn failed_jwt_logins_are_throttled() {
    let fake = fake_vendor(Mode::Ok).await;
    let relay = relay(
        "jwt-fail",
        &fake.url,
        "",
        "per_minute = 6000\nburst = 1000\nauth_failures_per_minute = 6\nauth_failures_burst = 5",
        "[operations.\"memoio/start-conversation\"]\naccess = \"jwt\"\n",
    );
    let mut counts = std::collections::BTreeMap::new();
    let mut retry_after = None;
    for i in 0..40 {
        let bad = format!("Bearer not.a.jwt{i}");
        let a = relay
            .post(
                "memoio/start-conversation",
                &[("authorization", &bad)],
                &memoio_body(),
            )
            .await;
        *counts.entry(a.status).or_insert(0) += 1;
        if a.status == 429 {
            assert_eq!(a.body["code"], "rate_limited");
            retry_after = a.headers.get("retry-after").cloned();
        }
    }
    assert!(counts.get(&401).copied().unwrap_or(0) <= 6, "{counts:?}");
    assert!(counts.get(&429).copied().unwrap_or(0) >= 34, "{counts:?}");
    assert!(retry_after.is_some());
}

#[tokio::test]
async fn failed_chayns_token_checks_are_throttled_cached_and_coalesced() {
    let fake = fake_vendor(Mode::Ok).await;
    let chayns = "[operations.\"chayns/intercom\"]\naccess = \"chayns\"\n";
    let body = json!({"message": "m", "asCaller": true});
    // 40 bogus tokens from one address: a bounded number of checks reach chayns.
    let relay1 = relay(
        "chayns-flood",
        &fake.url,
        "",
        "per_minute = 6000\nburst = 1000\nauth_failures_per_minute = 6\nauth_failures_burst = 5",
        chayns,
    );
    for i in 0..40 {
        let bad = format!("Bearer bogus-{i}");
        let a = relay1
            .post("chayns/intercom", &[("authorization", &bad)], &body)
            .await;
        assert!(matches!(a.status, 401 | 429), "{}", a.text);
    }
    let checks = fake.vendor.token_checks.load(Ordering::SeqCst);
    assert!(checks <= 6, "{checks} token checks reached chayns");
    drop(relay1);

    // Without the failure limit: one refused token is checked once (negative cache), and
    // concurrent checks of one token are one check.
    let relay2 = relay(
        "chayns-cache",
        &fake.url,
        "",
        "per_minute = 6000\nburst = 1000\nauth_failures_per_minute = 0",
        chayns,
    );
    fake.vendor.token_checks.store(0, Ordering::SeqCst);
    for _ in 0..5 {
        let a = relay2
            .post(
                "chayns/intercom",
                &[("authorization", "Bearer bogus-again")],
                &body,
            )
            .await;
        assert_problem(&a, 401, "unauthenticated");
    }
    assert_eq!(fake.vendor.token_checks.load(Ordering::SeqCst), 1);
    fake.vendor.token_checks.store(0, Ordering::SeqCst);
    fake.vendor
        .token_check_delay_ms
        .store(400, Ordering::SeqCst);
    let good = format!("Bearer {GOOD_USER_TOKEN}");
    let auth = [("authorization", good.as_str())];
    let burst = (0..8).map(|_| relay2.post("chayns/intercom", &auth, &body));
    for a in futures_util::future::join_all(burst).await {
        assert_eq!(a.status, 200, "{}", a.text);
    }
    assert_eq!(fake.vendor.token_checks.load(Ordering::SeqCst), 1);
}

// 3. Header and body read timeouts, connection limits.
async fn connect(url: &str) -> TcpStream {
    TcpStream::connect(url.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Whether the relay closes `stream` within `within` (reading whatever it sends first).
async fn closed_within(stream: &mut TcpStream, within: Duration) -> (bool, String) {
    let mut got = Vec::new();
    let deadline = Instant::now() + within;
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (true, String::from_utf8_lossy(&got).into_owned()),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => return (false, String::from_utf8_lossy(&got).into_owned()),
        }
    }
}

#[tokio::test]
async fn half_sent_requests_are_cut_off() {
    let fake = fake_vendor(Mode::Ok).await;
    let relay = relay(
        "slow",
        &fake.url,
        "header_read_timeout_ms = 500\nbody_read_timeout_ms = 500",
        GENEROUS,
        PUBLIC_ALL,
    );
    let mut headers = connect(&relay.url).await;
    headers
        .write_all(b"POST /v1/memoio/start-conversation HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    let (closed, _) = closed_within(&mut headers, Duration::from_secs(3)).await;
    assert!(closed, "a half-sent head is cut off");

    let mut body = connect(&relay.url).await;
    body.write_all(
        b"POST /v1/memoio/start-conversation HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nidempotency-key: s\r\ncontent-length: 100\r\n\r\n{\"rec",
    )
    .await
    .unwrap();
    let (closed, answer) = closed_within(&mut body, Duration::from_secs(3)).await;
    assert!(closed, "a half-sent body is cut off: {answer}");
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert_eq!(fake.vendor.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn connections_are_capped_per_address() {
    let fake = fake_vendor(Mode::Ok).await;
    let relay = relay(
        "conns",
        &fake.url,
        "max_connections_per_address = 4\nheader_read_timeout_ms = 60000",
        GENEROUS,
        PUBLIC_ALL,
    );
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(connect(&relay.url).await);
    }
    // Let the relay accept them.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut fifth = connect(&relay.url).await;
    let _ = fifth
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await;
    let (closed, answer) = closed_within(&mut fifth, Duration::from_secs(3)).await;
    assert!(
        closed && answer.is_empty(),
        "over the limit: closed unanswered: {answer}"
    );
    drop(idle);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ok = relay
        .send(relay.http.get(format!("{}/healthz", relay.url)))
        .await;
    assert_eq!(ok.status, 200);
}

#[tokio::test]
async fn a_connection_flood_does_not_exhaust_open_files() {
    let fake = fake_vendor(Mode::Ok).await;
    let relay = relay_with_open_files(
        "flood",
        &fake.url,
        "max_connections = 48\nmax_connections_per_address = 1000\nheader_read_timeout_ms = 1000",
        GENEROUS,
        PUBLIC_ALL,
        Some(128),
    );
    // More idle connections than the relay has file descriptors.
    let mut flood = Vec::new();
    for _ in 0..200 {
        if let Ok(s) = TcpStream::connect(relay.url.trim_start_matches("http://")).await {
            flood.push(s);
        }
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    drop(flood);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let a = relay
        .post("memoio/start-conversation", &[], &memoio_body())
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let log = relay.log();
    assert!(!log.contains("Too many open files"), "{log}");
    assert!(log.contains("connection limit reached"), "{log}");
}

#[tokio::test]
async fn shutdown_closes_slow_connections_at_its_deadline_and_completes_vendor_calls() {
    let fake = fake_vendor(Mode::Stall(1500)).await;
    let data = std::env::temp_dir().join(format!("hail-attack-shutdown-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let store = format!("store = \"embedded\"\ndata_dir = \"{}\"", data.display());
    let http =
        "shutdown_grace_ms = 300\nheader_read_timeout_ms = 60000\nbody_read_timeout_ms = 60000";
    let relay = relay_full(
        "shutdown", &fake.url, &store, http, GENEROUS, PUBLIC_ALL, None,
    );
    // A client that never finishes its request.
    let mut slow = connect(&relay.url).await;
    slow.write_all(b"POST /v1/memoio/start-conversation HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    // A request whose vendor call takes 1.5 s.
    let in_flight = relay
        .http
        .post(format!("{}/v1/memoio/start-conversation", relay.url))
        .header("idempotency-key", "in-flight")
        .json(&memoio_body())
        .send();
    let in_flight = tokio::spawn(in_flight);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let pid = relay.proc.0.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let (closed, _) = closed_within(&mut slow, Duration::from_secs(5)).await;
    assert!(closed, "the slow connection is closed at the deadline");
    let mut relay = relay;
    let exit = tokio::task::spawn_blocking(move || {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = relay.proc.0.try_wait().unwrap() {
                return (Some(status), relay);
            }
            if Instant::now() > deadline {
                return (None, relay);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    })
    .await
    .unwrap();
    let (status, relay) = exit;
    assert!(
        status.is_some_and(|s| s.success()),
        "exits cleanly after SIGTERM"
    );
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "{took:?}");
    // The vendor call under way completed before the exit.
    assert_eq!(fake.vendor.completed.load(Ordering::SeqCst), 1);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(relay.log().contains("vendor answered"), "{}", relay.log());
    let _ = in_flight.await;
    drop(relay);
    // ... and its outcome was stored: the same key after a restart is replayed, not sent.
    let again = relay_full(
        "shutdown-2",
        &fake.url,
        &store,
        http,
        GENEROUS,
        PUBLIC_ALL,
        None,
    );
    let replay = again
        .send(
            again
                .http
                .post(format!("{}/v1/memoio/start-conversation", again.url))
                .header("idempotency-key", "in-flight")
                .json(&memoio_body()),
        )
        .await;
    assert_eq!(replay.status, 200, "{}", replay.text);
    assert_eq!(replay.headers["idempotent-replayed"], "true");
    assert_eq!(fake.vendor.calls.load(Ordering::SeqCst), 1);
    drop(again);
    let _ = std::fs::remove_dir_all(&data);
}
