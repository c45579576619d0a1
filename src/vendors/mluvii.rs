//! mluvii: OAuth2 client credentials, and the WhatsApp API (beta).
//!
//! Facts and assumptions: `shared/VENDORS.md`, "mluvii". A request without a valid token is
//! redirected (302) to a login page: redirects are never followed, and a 302 (or 401) means
//! "refresh the token once and retry".

pub mod token;
#[cfg(feature = "inbound")]
pub mod webhook;
pub mod whatsapp_send_templates;
pub mod whatsapp_sent_templates;
pub mod whatsapp_subscriptions;

use secrecy::SecretString;

use crate::base_url::BaseUrl;
use crate::credential::{Credential, Issued, Section, SectionError};
use crate::encode::Encoded;
use crate::encode::{bearer, json};
use crate::error::ErrorCode;
use crate::operation::Vendor;
use crate::reply::{body_excerpt, decode_raw, RawReply, UpstreamError};
use crate::vendor_call::VendorCall;

/// The mluvii API. On-premise installations have their own host (configurable).
pub struct Mluvii;

impl Vendor for Mluvii {
    const NAME: &'static str = "mluvii";
    const DEFAULT_BASE_URL: &'static str = "https://app.mluvii.com";
    // Its webhooks (VENDORS.md, "mluvii inbound").
    const REPLIES: bool = true;
}

/// The company's OAuth client (relay only).
pub struct ClientCredentials {
    /// `client_id`.
    pub client_id: String,
    /// `client_secret`.
    pub client_secret: SecretString,
}

impl Credential for ClientCredentials {
    type Vendor = Mluvii;
    const KEYS: &'static [&'static str] = &["client_id", "client_secret"];
    fn from_section(section: &Section) -> Result<Self, SectionError> {
        Ok(Self {
            client_id: section.setting("client_id")?.to_owned(),
            client_secret: section.secret("client_secret")?,
        })
    }
}

/// A bearer token obtained with [`ClientCredentials`] (see [`token`]).
#[derive(Clone, Debug)]
pub struct AccessToken(pub SecretString);

impl Issued for AccessToken {
    type Request = token::RequestToken;
    fn secret(&self) -> &SecretString {
        &self.0
    }
}

/// The mluvii request `call` (path fields from `fields`, then `query`) with the bearer token and
/// an optional JSON body.
pub(crate) fn request<B: serde::Serialize>(
    call: &VendorCall,
    base: &BaseUrl,
    fields: &[(&str, &str)],
    query: &str,
    token: &AccessToken,
    body: Option<&B>,
) -> Encoded {
    let auth = bearer(
        &token.0,
        "the mluvii access token is not a valid header value",
    )?;
    json(
        call.http_method(),
        call.url(base, fields, query)?,
        auth,
        body,
    )
}

/// `value` with every object key rewritten by `key`, at every depth.
fn map_keys(value: serde_json::Value, key: &impl Fn(&str) -> String) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (key(&k), map_keys(v, key)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(|v| map_keys(v, key)).collect()),
        other => other,
    }
}

/// An answer to read into a typed struct whose fields are `#[serde(rename_all = "lowercase")]`:
/// every key in lower case. mluvii's API answers camelCase (its own sample integration reads it
/// so, `shared/VENDORS.md`), its documentation writes PascalCase (`ID`, `DepartmentId`): read
/// case-insensitively, either arrives.
pub(crate) fn lower_keys(value: serde_json::Value) -> serde_json::Value {
    map_keys(value, &|k| k.to_ascii_lowercase())
}

/// An answer passed on to callers: every key in camelCase, whatever case mluvii wrote (`ID` →
/// `id`, `PhoneNumber` → `phoneNumber`, `formID` as is), so a caller reads one spelling.
pub(crate) fn camel_keys(value: serde_json::Value) -> serde_json::Value {
    map_keys(value, &|k| {
        if k.chars().all(|c| !c.is_ascii_lowercase()) {
            return k.to_ascii_lowercase();
        }
        let mut chars = k.chars();
        chars.next().map_or_else(String::new, |first| {
            first.to_ascii_lowercase().to_string() + chars.as_str()
        })
    })
}

/// A success answer passed on with its keys in camelCase ([`camel_keys`]).
pub(crate) fn decode_camel(
    status: http::StatusCode,
    body: &[u8],
) -> Result<RawReply, UpstreamError> {
    let raw = decode(status, body)?;
    Ok(
        match serde_json::from_str::<serde_json::Value>(raw.json()) {
            Ok(value) => RawReply::from_body(camel_keys(value).to_string().as_bytes()),
            Err(_) => raw,
        },
    )
}

/// Decodes an API answer: 302 (mluvii's redirect to its login page) and 401 mean the token was
/// refused (`unauthenticated`: the relay refreshes it once); other failures carry the body.
/// **Assumed**: success bodies are passed on as they come.
pub(crate) fn decode(status: http::StatusCode, body: &[u8]) -> Result<RawReply, UpstreamError> {
    if matches!(status.as_u16(), 302 | 401) {
        return Err(UpstreamError {
            code: ErrorCode::Unauthenticated,
            status: status.as_u16(),
            message: "mluvii refused the access token".to_owned(),
        });
    }
    decode_raw(status, body, body_excerpt)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn base() -> BaseUrl {
        BaseUrl::parse(Mluvii::DEFAULT_BASE_URL).unwrap()
    }

    pub(crate) fn token() -> AccessToken {
        AccessToken(SecretString::from("tok"))
    }

    pub(crate) const GUID: &str = "3f2504e0-4f89-11d3-9a0c-0305e82c3301";

    #[test]
    fn a_redirect_to_the_login_page_is_unauthenticated() {
        for status in [302, 401] {
            let e = decode(
                http::StatusCode::from_u16(status).unwrap(),
                b"<html>login</html>",
            )
            .unwrap_err();
            assert_eq!(e.code, ErrorCode::Unauthenticated);
            assert!(!e.message.contains("html"));
        }
        let e = decode(http::StatusCode::BAD_REQUEST, b"formID unknown").unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (ErrorCode::UpstreamRejected, "formID unknown")
        );
        assert_eq!(decode(http::StatusCode::OK, b"[]").unwrap().json(), "[]");
    }
}
