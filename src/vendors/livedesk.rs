//! EngageLab LiveDesk (a Chatwoot derivative): contacts, conversations and messages.
//!
//! Facts and assumptions: `shared/VENDORS.md`, "EngageLab LiveDesk". The API channel creates no
//! contact by itself: create contact → create conversation → send message
//! (`start_conversation` does all three as one operation).

pub mod create_contact;
pub mod create_conversation;
pub mod look_back;
pub mod send_message;
pub mod start_conversation;
#[cfg(feature = "inbound")]
pub mod webhook;

use secrecy::SecretString;
use serde::Deserialize;

use crate::base_url::BaseUrl;
use crate::credential::{Credential, Section, SectionError};
use crate::encode::Encoded;
use crate::encode::{basic, json};
use crate::operation::Vendor;
use crate::reply::{body_excerpt, lenient, UpstreamError};
use crate::vendor_call::VendorCall;

/// The LiveDesk API.
pub struct LiveDesk;

impl Vendor for LiveDesk {
    const NAME: &'static str = "livedesk";
    const DEFAULT_BASE_URL: &'static str = "https://livedesk-api.engagelab.com";
    // Its API channel's webhook (VENDORS.md, "LiveDesk inbound").
    const REPLIES: bool = true;
}

/// The company's API key and secret (the key implies the account).
pub struct ApiKey {
    /// API key.
    pub key: SecretString,
    /// API secret.
    pub secret: SecretString,
}

impl Credential for ApiKey {
    type Vendor = LiveDesk;
    const KEYS: &'static [&'static str] = &["api_key", "api_secret"];
    fn from_section(section: &Section) -> Result<Self, SectionError> {
        Ok(Self {
            key: section.secret("api_key")?,
            secret: section.secret("api_secret")?,
        })
    }
}

/// Longest name, identifier or source id, in chars. **Assumed** (Hail's limit).
pub const NAME_MAX_CHARS: usize = 255;
/// Longest message content, in chars. **Assumed** (Chatwoot's limit is 150 000; Hail's is lower).
pub const CONTENT_MAX_CHARS: usize = 20_000;

/// The LiveDesk request `call` (path fields from `fields`, then `query`) with Basic key:secret
/// and, for a POST, a JSON body.
pub(crate) fn request<B: serde::Serialize>(
    call: &VendorCall,
    base: &BaseUrl,
    fields: &[(&str, &str)],
    query: &str,
    key: &ApiKey,
    body: Option<&B>,
) -> Encoded {
    use secrecy::ExposeSecret;
    let auth = basic(
        key.key.expose_secret(),
        &key.secret,
        "the LiveDesk API key is not a valid header value",
    )?;
    json(
        call.http_method(),
        call.url(base, fields, query)?,
        auth,
        body,
    )
}

/// A Chatwoot-style error body: `message`, `error` or `errors` (strings or objects).
#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default, deserialize_with = "lenient")]
    message: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    error: Option<String>,
    #[serde(default)]
    errors: Option<serde_json::Value>,
}

/// The message of a LiveDesk error answer.
/// **Assumed**: error bodies are Chatwoot-style (`message` / `error` / `errors`).
pub(crate) fn error_message(body: &[u8]) -> String {
    let Ok(e) = serde_json::from_slice::<ErrorBody>(body) else {
        return body_excerpt(body);
    };
    if let Some(m) = e.message.or(e.error) {
        return m;
    }
    match e.errors {
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .map(|i| match i {
                serde_json::Value::String(s) => s.clone(),
                other => other
                    .get("message")
                    .and_then(|m| m.as_str())
                    .map_or_else(|| other.to_string(), str::to_owned),
            })
            .collect::<Vec<_>>()
            .join("; "),
        Some(other) => other.to_string(),
        None => body_excerpt(body),
    }
}

/// A success body as `T`, or the status mapping with the vendor's message.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    status: http::StatusCode,
    body: &[u8],
    what: &'static str,
) -> Result<T, UpstreamError> {
    if !status.is_success() {
        return Err(UpstreamError::from_status(status, error_message(body)));
    }
    serde_json::from_slice(body).map_err(|_| UpstreamError {
        code: crate::ErrorCode::InvalidResponse,
        status: status.as_u16(),
        message: format!("LiveDesk's answer has no {what}"),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn base() -> BaseUrl {
        BaseUrl::parse(LiveDesk::DEFAULT_BASE_URL).unwrap()
    }

    pub(crate) fn key() -> ApiKey {
        ApiKey {
            key: SecretString::from("key"),
            secret: SecretString::from("secret"),
        }
    }

    #[test]
    fn chatwoot_style_errors() {
        assert_eq!(
            error_message(br#"{"message":"Inbox not found"}"#),
            "Inbox not found"
        );
        assert_eq!(
            error_message(br#"{"error":"Unauthorized"}"#),
            "Unauthorized"
        );
        assert_eq!(
            error_message(br#"{"errors":["Email has already been taken","x"]}"#),
            "Email has already been taken; x"
        );
        assert_eq!(
            error_message(br#"{"errors":[{"field":"email","message":"is invalid"}]}"#),
            "is invalid"
        );
        assert_eq!(error_message(b"Bad Gateway"), "Bad Gateway");
        let e = decode::<serde_json::Value>(
            http::StatusCode::UNPROCESSABLE_ENTITY,
            br#"{"message":"m"}"#,
            "x",
        )
        .unwrap_err();
        assert_eq!(
            (e.code, e.status),
            (crate::ErrorCode::UpstreamRejected, 422)
        );
    }
}
