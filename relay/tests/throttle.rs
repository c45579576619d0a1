//! The failed-authentication throttle stops guessing without locking out valid callers who
//! share an address with the guessers, and a global cap bounds the token checks sent to chayns
//! from many addresses. The real `hail-relay` binary in front of a fake vendor and a fake
//! chayns on loopback; addresses are simulated with a trusted proxy and `X-Forwarded-For`.

#[path = "support/process.rs"]
mod process;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use process::{listening, write_config, Proc, BIN};
use serde_json::{json, Value};

const JWT_SECRET: &str = "canary-jwt-secret-0123456789abcdef0123456789";
const LOCATION: u64 = 77;
const GOOD_USER_TOKEN: &str = "good-user-token";
const THROTTLE: &str =
    "per_minute = 6000\nburst = 1000\nauth_failures_per_minute = 6\nauth_failures_burst = 5";

#[derive(Default)]
struct Chayns {
    checks: AtomicUsize,
    in_flight: AtomicUsize,
    peak: AtomicUsize,
    delay_ms: AtomicUsize,
}

async fn answer(State(c): State<Arc<Chayns>>, uri: Uri, headers: HeaderMap) -> Response {
    if !uri.path().ends_with("/AccessToken") {
        return axum::Json(json!({"id": 1})).into_response();
    }
    c.checks.fetch_add(1, Ordering::SeqCst);
    let now = c.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    c.peak.fetch_max(now, Ordering::SeqCst);
    let delay = c.delay_ms.load(Ordering::SeqCst) as u64;
    tokio::time::sleep(Duration::from_millis(delay)).await;
    c.in_flight.fetch_sub(1, Ordering::SeqCst);
    let auth = headers.get("authorization").and_then(|h| h.to_str().ok());
    if auth == Some(&format!("Bearer {GOOD_USER_TOKEN}")) {
        let body = json!({"data": [{"locationId": LOCATION, "userId": 5, "firstName": "A", "expires": "2099-01-01T00:00:00Z"}]});
        return axum::Json(body).into_response();
    }
    (
        StatusCode::UNAUTHORIZED,
        axum::Json(json!({"message": "invalid token"})),
    )
        .into_response()
}

async fn fake() -> (String, Arc<Chayns>) {
    let chayns = Arc::new(Chayns::default());
    let app = axum::Router::new()
        .fallback(answer)
        .with_state(chayns.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, chayns)
}

fn relay(name: &str, vendor: &str, rate_limit: &str, chayns_callers: &str) -> (Proc, String) {
    let config = format!(
        "store = \"memory\"\n[http]\ntrusted_proxies = [\"127.0.0.1\"]\n[rate_limit]\n{rate_limit}\n\
         [chayns_callers]\n{chayns_callers}\n\
         [jwt]\nalgorithm = \"HS256\"\nsecret = {{ env = \"T_JWT\" }}\naudience = \"hail-relay\"\nissuer = \"https://shop.example\"\n\
         [vendors.memoio]\nbase_url = \"{vendor}/memoio\"\nsecret_key = {{ env = \"T_MEMOIO\" }}\n\
         [vendors.chayns]\nbase_url = \"{vendor}/chayns\"\nlocation_id = {LOCATION}\ntapp_id = 42\ntapp_secret = {{ env = \"T_TAPP\" }}\n\
         [operations.\"memoio/start-conversation\"]\naccess = \"jwt\"\n\
         [operations.\"chayns/intercom\"]\naccess = \"chayns\"\n"
    );
    let path = write_config(&format!("throttle-{name}.toml"), &config);
    listening(
        std::process::Command::new(BIN)
            .args(["--listen", "127.0.0.1:0", "--config"])
            .arg(&path)
            .env("T_JWT", JWT_SECRET)
            .env("T_MEMOIO", "canary-memoio-key-4711")
            .env("T_TAPP", "canary-tapp-secret-0815")
            .stderr(std::process::Stdio::null()),
    )
}

struct Answer {
    status: u16,
    retry_after: Option<String>,
    body: Value,
}

async fn post(url: &str, op: &str, token: &str, from: &str, body: &Value) -> Answer {
    static N: AtomicUsize = AtomicUsize::new(0);
    let res = reqwest::Client::new()
        .post(format!("{url}/v1/{op}"))
        .header(
            "idempotency-key",
            format!("t-{}", N.fetch_add(1, Ordering::SeqCst)),
        )
        .header("authorization", format!("Bearer {token}"))
        .header("x-forwarded-for", from)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let retry_after = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = serde_json::from_str(&res.text().await.unwrap()).unwrap_or(Value::Null);
    Answer {
        status,
        retry_after,
        body,
    }
}

fn memoio_body() -> Value {
    json!({"receiver": "anna@example.com", "message": "Hello", "channel": "sales"})
}

/// 40 failures from `from`: the address ends up throttled.
async fn fail_often(url: &str, op: &str, from: &str, body: &Value) {
    let mut throttled = 0;
    for i in 0..40 {
        let a = post(url, op, &format!("bogus-{i}"), from, body).await;
        assert!(matches!(a.status, 401 | 429), "{}", a.body);
        throttled += usize::from(a.status == 429);
    }
    assert!(throttled >= 30, "the guessing is throttled: {throttled}");
}

#[tokio::test]
async fn a_valid_jwt_is_accepted_from_an_address_that_just_failed() {
    let (vendor, _) = fake().await;
    let (_proc, url) = relay("jwt", &vendor, THROTTLE, "");
    let shared = "198.51.100.20";
    fail_often(&url, "memoio/start-conversation", shared, &memoio_body()).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims =
        json!({"sub": "u1", "aud": "hail-relay", "iss": "https://shop.example", "exp": now + 600});
    let token = encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap();
    let a = post(
        &url,
        "memoio/start-conversation",
        &token,
        shared,
        &memoio_body(),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    // The guessing itself is still refused.
    let a = post(
        &url,
        "memoio/start-conversation",
        "bogus-x",
        shared,
        &memoio_body(),
    )
    .await;
    assert_eq!(a.status, 429, "{}", a.body);
}

#[tokio::test]
async fn a_cached_chayns_token_is_accepted_from_an_address_that_just_failed() {
    let (vendor, chayns) = fake().await;
    let (_proc, url) = relay("chayns", &vendor, THROTTLE, "");
    let shared = "198.51.100.21";
    let body = json!({"message": "m", "asCaller": true});
    let a = post(&url, "chayns/intercom", GOOD_USER_TOKEN, shared, &body).await;
    assert_eq!(a.status, 200, "{}", a.body);
    fail_often(&url, "chayns/intercom", shared, &body).await;
    let checks = chayns.checks.load(Ordering::SeqCst);
    let a = post(&url, "chayns/intercom", GOOD_USER_TOKEN, shared, &body).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(
        chayns.checks.load(Ordering::SeqCst),
        checks,
        "from the cache"
    );
    // A token not checked yet is not sent to chayns from the throttled address.
    let a = post(&url, "chayns/intercom", "never-seen", shared, &body).await;
    assert_eq!(a.status, 429, "{}", a.body);
    assert_eq!(chayns.checks.load(Ordering::SeqCst), checks);
}

#[tokio::test]
async fn token_checks_sent_to_chayns_are_capped_across_addresses() {
    let (vendor, chayns) = fake().await;
    chayns.delay_ms.store(300, Ordering::SeqCst);
    let (_proc, url) = relay(
        "cap",
        &vendor,
        THROTTLE,
        "max_concurrent_checks = 2\nchecks_per_minute = 3",
    );
    let body = json!({"message": "m", "asCaller": true});
    // 24 addresses, each with its own bogus token, at once: each address is within its own
    // failure budget, so only the global cap stands between them and chayns.
    let answers = futures_util::future::join_all((0..24).map(|i| {
        let (url, body) = (url.clone(), body.clone());
        async move {
            post(
                &url,
                "chayns/intercom",
                &format!("bogus-{i}"),
                &format!("203.0.113.{i}"),
                &body,
            )
            .await
        }
    }))
    .await;
    let checks = chayns.checks.load(Ordering::SeqCst);
    assert!(checks <= 3, "{checks} checks reached chayns");
    assert!(chayns.peak.load(Ordering::SeqCst) <= 2);
    let mut capped = 0;
    for a in &answers {
        match a.status {
            401 => assert_eq!(a.body["code"], "unauthenticated"),
            429 => {
                // Not an authentication failure: retryable, with Retry-After.
                assert_eq!(a.body["code"], "rate_limited", "{}", a.body);
                assert_eq!(a.body["retryable"], true, "{}", a.body);
                assert!(a.retry_after.is_some(), "{}", a.body);
                capped += 1;
            }
            other => panic!("{other}: {}", a.body),
        }
    }
    assert!(capped >= 21, "{capped} refused by the cap");
}
