//! What a vendor answered: its errors, answers passed on as they came, and the tolerant
//! decoding of its fields.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;

/// The vendor answered with an error, or not in a way Hail understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamError {
    /// `upstream_rejected` (vendor 4xx), `upstream_unavailable` (5xx), `unauthenticated` (the
    /// relay's credential was refused).
    pub code: ErrorCode,
    /// The vendor's HTTP status.
    pub status: u16,
    /// The vendor's own message, for `detail`.
    pub message: String,
}

impl UpstreamError {
    /// The default mapping of a non-success status: 5xx → unavailable, else rejected.
    pub fn from_status(status: http::StatusCode, message: String) -> Self {
        let code = if status.is_server_error() {
            ErrorCode::UpstreamUnavailable
        } else {
            ErrorCode::UpstreamRejected
        };
        Self {
            code,
            status: status.as_u16(),
            message,
        }
    }
}

/// A vendor answer passed on as it came: its JSON, or its text as a JSON string. For endpoints
/// whose success body is undocumented.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RawReply(Box<serde_json::value::RawValue>);

impl RawReply {
    /// The body's JSON, or its trimmed text as a JSON string.
    pub fn from_body(body: &[u8]) -> Self {
        if let Ok(raw) = serde_json::from_slice(body) {
            return Self(raw);
        }
        let text = String::from_utf8_lossy(body);
        // A string always serializes; the fallback is unreachable but keeps this panic-free.
        Self(
            serde_json::value::to_raw_value(text.trim())
                .unwrap_or_else(|_| serde_json::value::to_raw_value(&()).unwrap_or_default()),
        )
    }

    /// The reply as JSON text.
    pub fn json(&self) -> &str {
        self.0.get()
    }
}

/// Success when 2xx, passing the body on; else the status mapping of
/// [`UpstreamError::from_status`] with `message` taken from the body.
pub fn decode_raw(
    status: http::StatusCode,
    body: &[u8],
    message: impl Fn(&[u8]) -> String,
) -> Result<RawReply, UpstreamError> {
    if status.is_success() {
        Ok(RawReply::from_body(body))
    } else {
        Err(UpstreamError::from_status(status, message(body)))
    }
}

/// Tolerant decoding of vendor fields: a field of an unexpected type becomes `None` instead of
/// failing the whole answer. Use as `#[serde(default, deserialize_with = "lenient")]`.
pub fn lenient<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: DeserializeOwned,
{
    let value = serde_json::Value::deserialize(deserializer)?;
    Ok(serde_json::from_value(value).ok())
}

/// Longest vendor error text carried into a problem `detail`, in bytes.
pub const UPSTREAM_MESSAGE_MAX_BYTES: usize = 1024;

/// A vendor body as text for an error message: lossy UTF-8, cut at a char boundary.
pub fn body_excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut end = text.len().min(UPSTREAM_MESSAGE_MAX_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    // `get`, not indexing: the boundary is checked above, and indexing would link in the
    // panic message machinery of string slicing.
    text.get(..end).unwrap_or_default().trim().to_owned()
}

#[cfg(feature = "openapi")]
mod schemas {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type};
    use utoipa::openapi::RefOr;

    impl utoipa::PartialSchema for super::RawReply {
        fn schema() -> RefOr<Schema> {
            ObjectBuilder::new()
                .schema_type(SchemaType::AnyValue)
                .description(Some(
                    "The vendor's answer as it came (JSON, or its text as a string)",
                ))
                .into()
        }
    }

    impl utoipa::ToSchema for super::RawReply {}

    /// A vendor value that is a number or a string (e.g. Chatwoot's message type).
    pub fn number_or_string() -> Schema {
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(SchemaType::new(Type::Number)))
            .item(ObjectBuilder::new().schema_type(SchemaType::new(Type::String)))
            .build()
            .into()
    }
}

#[cfg(feature = "openapi")]
pub use schemas::number_or_string;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_excerpt_cuts_at_a_char_boundary() {
        let body = "ü".repeat(UPSTREAM_MESSAGE_MAX_BYTES);
        let cut = body_excerpt(body.as_bytes());
        assert!(cut.len() <= UPSTREAM_MESSAGE_MAX_BYTES);
        assert!(cut.chars().all(|c| c == 'ü'));
    }
}
