//! What the simulated vendors received, newest first, bounded.

use std::collections::VecDeque;
use std::sync::Mutex;

use axum::http::{HeaderMap, Method, Uri};
use serde::Serialize;

/// Most entries kept; older ones are dropped.
pub const OUTBOX_MAX_ENTRIES: usize = 1000;

/// Header names whose values are credentials and are shown as `<redacted>`.
const CREDENTIAL_HEADERS: [&str; 3] = ["authorization", "api_access_token", "cookie"];
/// Body fields (JSON keys or form names) whose values are credentials.
const CREDENTIAL_FIELDS: [&str; 4] = ["UserAccessToken", "client_secret", "access_token", "key"];
const REDACTED: &str = "<redacted>";

/// The body as text, credential fields redacted (JSON and form bodies).
fn redact_body(body: &[u8]) -> String {
    if let Ok(mut json) = serde_json::from_slice::<serde_json::Value>(body) {
        redact_json(&mut json);
        return json.to_string();
    }
    let text = String::from_utf8_lossy(body);
    let is_form = !text.is_empty() && text.split('&').all(|pair| pair.contains('='));
    if is_form && form_urlencoded::parse(body).any(|(k, _)| CREDENTIAL_FIELDS.contains(&k.as_ref()))
    {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (k, v) in form_urlencoded::parse(body) {
            let shown = if CREDENTIAL_FIELDS.contains(&k.as_ref()) {
                REDACTED.into()
            } else {
                v
            };
            out.append_pair(&k, &shown);
        }
        return out.finish();
    }
    text.into_owned()
}

fn redact_json(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if CREDENTIAL_FIELDS.contains(&k.as_str()) {
                    *v = serde_json::Value::String(REDACTED.to_owned());
                } else {
                    redact_json(v);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_json),
        _ => {}
    }
}

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
    /// The body as text (lossy UTF-8), credential fields redacted.
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
                    REDACTED.to_owned()
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
            body: redact_body(body),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_fields_in_bodies_are_redacted() {
        assert_eq!(
            redact_body(br#"{"Message":"m","UserAccessToken":"tok","x":[{"access_token":"t"}]}"#),
            r#"{"Message":"m","UserAccessToken":"<redacted>","x":[{"access_token":"<redacted>"}]}"#
        );
        assert_eq!(
            redact_body(b"grant_type=client_credentials&client_id=c&client_secret=s%26"),
            "grant_type=client_credentials&client_id=c&client_secret=%3Credacted%3E"
        );
        assert_eq!(
            redact_body(b"receiver=a%40b.co&message=hi"),
            "receiver=a%40b.co&message=hi"
        );
    }
}
