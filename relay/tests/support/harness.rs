//! An in-process relay on a real loopback socket, configured from TOML text, with its
//! simulated vendors; and a small HTTP client for it.
#![allow(dead_code)]

use std::sync::Arc;

use hail_relay::config::Config;
use hail_relay::state::{build, AppState};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::Value;

/// Test defaults: short vendor timeouts, so timeout faults resolve quickly.
pub const BASE: &str = "
[upstream]
timeout_ms = 1000
connect_timeout_ms = 500
";

/// A rate limit no test reaches, unless a test sets its own.
const GENEROUS_RATE_LIMIT: &str = "[rate_limit]\nper_minute = 6000\nburst = 1000\n\
    auth_failures_per_minute = 6000\nauth_failures_burst = 1000\n";

pub struct Relay {
    pub url: String,
    pub state: Arc<AppState>,
    pub http: reqwest::Client,
}

/// A sandbox relay with `extra` TOML after [`BASE`].
pub async fn sandbox(extra: &str) -> Relay {
    let limit = if extra.contains("[rate_limit]") {
        ""
    } else {
        GENEROUS_RATE_LIMIT
    };
    let config = Config::parse(&format!("{BASE}\n{limit}\n{extra}")).expect("test config");
    let sandbox = hail_relay::sandbox::start()
        .await
        .expect("simulated vendors");
    serve(build(&config, Some(sandbox)).expect("relay state")).await
}

/// A relay from `state`, served on a free loopback port.
pub async fn serve(state: AppState) -> Relay {
    let state = Arc::new(state);
    let app = hail_relay::app::router(state.clone(), None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    // The relay's own server, as the binary runs it.
    tokio::spawn(hail_relay::server::serve(
        listener,
        app,
        state.limits.server,
        state.vendors.calls.clone(),
        std::future::pending(),
    ));
    Relay {
        url: format!("http://{addr}"),
        state,
        http: reqwest::Client::new(),
    }
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
}

impl Relay {
    /// `POST /v1/{op}` with `headers` (name, value) and a JSON body text.
    pub async fn post_with(&self, op: &str, headers: &[(&str, &str)], body: &str) -> Answer {
        let mut req = self
            .http
            .post(format!("{}/v1/{op}", self.url))
            .header("content-type", "application/json")
            .body(body.to_owned());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = req.send().await.expect("relay answers");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
            text,
        }
    }

    /// `POST /v1/{op}` with an idempotency key.
    pub async fn post(&self, op: &str, key: &str, body: &str) -> Answer {
        self.post_with(op, &[("idempotency-key", key)], body).await
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Answer {
        let res = self
            .http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .expect("relay answers");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        Answer {
            status,
            headers,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
        }
    }

    /// Queues sandbox faults (a JSON object or array).
    pub async fn fault(&self, faults: Value) {
        let res = self
            .http
            .post(format!("{}/v1/sandbox/faults", self.url))
            .json(&faults)
            .send()
            .await
            .expect("faults");
        assert_eq!(
            res.status(),
            202,
            "{}",
            res.text().await.unwrap_or_default()
        );
    }

    /// Outbox entries of `vendor` whose body contains `needle`, that the vendor acted on (2xx).
    pub fn deliveries(&self, vendor: &str, needle: &str) -> usize {
        let sandbox = self.state.sandbox.as_ref().expect("sandbox");
        sandbox
            .outbox
            .list()
            .iter()
            .filter(|e| {
                e.vendor == vendor && e.body.contains(needle) && (200..300).contains(&e.status)
            })
            .count()
    }
}

/// A unique marker for one test's messages.
pub fn marker(name: &str) -> String {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    format!(
        "{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

/// A valid MEMOIO start-conversation body carrying `mark`.
pub fn memoio(mark: &str) -> String {
    serde_json::json!({"receiver": "anna@example.com", "message": format!("Hello {mark}"), "channel": "sales"}).to_string()
}
