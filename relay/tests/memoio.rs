//! The relay over real HTTP on loopback: MEMOIO start-conversation through the sandbox.

use std::sync::Arc;

use hail::vendors::memoio::{Memoio, SecretKey};
use hail::BaseUrl;
use hail_relay::app::{router, AppOptions, AppState};
use hail_relay::sandbox::{self, Sandbox};
use hail_relay::vendors::{Account, Accounts, UpstreamTimeouts};
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{json, Value};

const OP: &str = "/v1/memoio/start-conversation";

struct Relay {
    url: String,
    sandbox: Sandbox,
    http: reqwest::Client,
}

async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// The sandbox relay as `hail-relay --sandbox` runs it.
async fn sandbox_relay() -> Relay {
    let (app, sandbox) = hail_relay::cli::sandbox_app(None).await.unwrap();
    Relay {
        url: serve(app).await,
        sandbox,
        http: reqwest::Client::new(),
    }
}

/// A relay whose MEMOIO account is `base` with `key`.
async fn relay_with(base: BaseUrl, key: &str, sandbox: Sandbox) -> Relay {
    let mut accounts = Accounts::default();
    accounts.insert(
        Account::new::<Memoio>(
            base,
            SecretKey::new(SecretString::from(key)),
            UpstreamTimeouts::default(),
        )
        .unwrap(),
    );
    let state = Arc::new(AppState {
        accounts,
        outbox: Some(sandbox.outbox.clone()),
    });
    let app = router(
        state,
        AppOptions {
            www: None,
            any_origin: false,
        },
    );
    Relay {
        url: serve(app).await,
        sandbox,
        http: reqwest::Client::new(),
    }
}

impl Relay {
    async fn post(
        &self,
        path: &str,
        key: Option<&str>,
        body: &str,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut req = self
            .http
            .post(format!("{}{path}", self.url))
            .header("content-type", "application/json")
            .body(body.to_owned());
        if let Some(key) = key {
            req = req.header("idempotency-key", key);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.json().await.unwrap_or(Value::Null);
        (status, headers, body)
    }
}

fn valid() -> String {
    json!({"receiver": "anna@example.com", "message": "Hello", "channel": "sales", "references": ["A-1"]}).to_string()
}

#[tokio::test]
async fn forwards_to_memoio_with_the_secret_and_answers_the_envelope() {
    let relay = sandbox_relay().await;
    let (status, headers, body) = relay.post(OP, Some("key-1"), &valid()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"data": {"success": true}, "upstream": {"status": 200}})
    );
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["x-request-id"].len(), 32);

    let entries = relay.sandbox.outbox.list();
    assert_eq!(entries.len(), 1);
    let e = &entries[0];
    assert_eq!(
        (e.vendor, e.method.as_str(), e.status),
        ("memoio", "POST", 200)
    );
    assert!(e.url.ends_with("/api/start-conversation"));
    assert_eq!(
        e.body,
        "receiver=anna%40example.com&message=Hello&channel=sales&references=A-1"
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
async fn outbox_is_served_and_cleared_over_http() {
    let relay = sandbox_relay().await;
    relay.post(OP, Some("k"), &valid()).await;
    let url = format!("{}/v1/sandbox/outbox", relay.url);
    let listed: Value = relay
        .http
        .get(&url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["entries"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        listed["entries"][0]["headers"][2],
        json!(["authorization", "<redacted>"])
    );
    assert!(!listed.to_string().contains(sandbox::MEMOIO_SECRET_KEY));
    let cleared = relay.http.delete(&url).send().await.unwrap();
    assert_eq!(cleared.status(), 204);
    assert!(relay.sandbox.outbox.list().is_empty());
}

#[tokio::test]
async fn invalid_fields_are_problems_naming_the_field_and_send_nothing() {
    let relay = sandbox_relay().await;
    let body = json!({"receiver": "anna@", "message": "", "channel": "sales", "tags": ["a,b"]})
        .to_string();
    let (status, headers, problem) = relay.post(OP, Some("k"), &body).await;
    assert_eq!(status, 400);
    assert_eq!(headers["content-type"], "application/problem+json");
    assert_eq!(problem["code"], "invalid_field");
    assert_eq!(problem["field"], "receiver");
    assert_eq!(problem["retryable"], false);
    assert_eq!(problem["requestId"].as_str().map(str::len), Some(32));
    let fields: Vec<_> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["receiver", "message", "tags[0]"]);
    assert!(relay.sandbox.outbox.list().is_empty());
}

#[tokio::test]
async fn malformed_requests_get_their_codes() {
    let relay = sandbox_relay().await;
    let cases: [(&str, Option<&str>, &str, u16, &str); 7] = [
        (OP, None, &valid(), 400, "idempotency_key_missing"),
        (OP, Some("with space"), &valid(), 400, "invalid_request"),
        (OP, Some("k"), "{\"receiver\":", 400, "invalid_request"),
        (OP, Some("k"), "[1,2]", 400, "invalid_request"),
        (
            OP,
            Some("k"),
            r#"{"receiver":"a@b.co","message":"m","channel":"c","x":1}"#,
            400,
            "invalid_field",
        ),
        (
            OP,
            Some("k"),
            r#"{"receiver":"a@b.co","message":"m","channel":"c"} trailing"#,
            400,
            "invalid_request",
        ),
        (
            "/v1/memoio/no-such-thing",
            Some("k"),
            "{}",
            404,
            "unknown_operation",
        ),
    ];
    for (path, key, body, status, code) in cases {
        let (got, _, problem) = relay.post(path, key, body).await;
        assert_eq!(
            (got.as_u16(), problem["code"].as_str()),
            (status, Some(code)),
            "{body}"
        );
    }
    assert!(relay.sandbox.outbox.list().is_empty());
}

#[tokio::test]
async fn a_wrong_secret_is_upstream_rejected_with_the_vendor_status() {
    let sandbox = sandbox::start().await.unwrap();
    let base = sandbox.base.clone();
    let relay = relay_with(base, "wrong-key", sandbox).await;
    let (status, _, problem) = relay.post(OP, Some("k"), &valid()).await;
    assert_eq!(status, 502);
    assert_eq!(problem["code"], "upstream_rejected");
    assert_eq!(problem["upstream"]["status"], 401);
    assert!(problem["detail"].as_str().unwrap().contains("invalid key"));
    assert!(!problem.to_string().contains("wrong-key"));
    assert_eq!(relay.sandbox.outbox.list()[0].status, 401);
}

#[tokio::test]
async fn an_unreachable_vendor_is_upstream_unavailable_and_retryable() {
    // A port that was just free: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let base = BaseUrl::parse(&format!("http://{closed}")).unwrap();
    let relay = relay_with(
        base,
        sandbox::MEMOIO_SECRET_KEY,
        sandbox::start().await.unwrap(),
    )
    .await;
    let (status, _, problem) = relay.post(OP, Some("k"), &valid()).await;
    assert_eq!(status, 502);
    assert_eq!(problem["code"], "upstream_unavailable");
    assert_eq!(problem["retryable"], true);
}

#[tokio::test]
async fn the_sandbox_answers_cors_preflights() {
    let relay = sandbox_relay().await;
    let res = relay
        .http
        .request(reqwest::Method::OPTIONS, format!("{}{OP}", relay.url))
        .header("origin", "http://localhost:5173")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,idempotency-key",
        )
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "http://localhost:5173"
    );
    let allowed = res.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(allowed.contains("idempotency-key"), "{allowed}");
}
