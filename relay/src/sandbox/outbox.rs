//! What the simulated vendors received, newest first, bounded.

use std::collections::VecDeque;
use std::sync::Mutex;

use axum::http::{HeaderMap, Method, Uri};
use serde::Serialize;

/// Most entries kept; older ones are dropped.
pub const OUTBOX_MAX_ENTRIES: usize = 1000;

/// Header names whose values are credentials and are shown as `<redacted>`.
const CREDENTIAL_HEADERS: [&str; 3] = ["authorization", "api_access_token", "cookie"];

/// One request a simulated vendor received.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxEntry {
    /// Increasing number of the entry.
    pub seq: u64,
    /// The vendor, e.g. `memoio`.
    pub vendor: &'static str,
    /// The HTTP method.
    pub method: String,
    /// The URL as received (the simulated vendor's loopback host).
    pub url: String,
    /// Headers, credentials redacted.
    pub headers: Vec<(String, String)>,
    /// The body as text (lossy UTF-8).
    pub body: String,
    /// The status the simulated vendor answered.
    pub status: u16,
}

/// The outbox.
#[derive(Default)]
pub struct Outbox {
    inner: Mutex<(u64, VecDeque<OutboxEntry>)>,
}

impl Outbox {
    /// Records a request and the status the vendor answered.
    pub fn record(
        &self,
        vendor: &'static str,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
        status: u16,
    ) {
        let url = match headers.get("host").and_then(|h| h.to_str().ok()) {
            Some(host) => format!("http://{host}{uri}"),
            None => uri.to_string(),
        };
        let headers = headers
            .iter()
            .map(|(name, value)| {
                let shown = if CREDENTIAL_HEADERS.contains(&name.as_str()) {
                    "<redacted>".to_owned()
                } else {
                    String::from_utf8_lossy(value.as_bytes()).into_owned()
                };
                (name.as_str().to_owned(), shown)
            })
            .collect();
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.0 += 1;
        let entry = OutboxEntry {
            seq: inner.0,
            vendor,
            method: method.to_string(),
            url,
            headers,
            body: String::from_utf8_lossy(body).into_owned(),
            status,
        };
        inner.1.push_front(entry);
        inner.1.truncate(OUTBOX_MAX_ENTRIES);
    }

    /// Every entry, newest first.
    pub fn list(&self) -> Vec<OutboxEntry> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.1.iter().cloned().collect()
    }

    /// Forgets every entry.
    pub fn clear(&self) {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .1
            .clear();
    }
}
