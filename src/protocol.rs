//! The relay protocol (DESIGN.md, "The relay protocol"): paths, headers, the success envelope and
//! the problem body. The relay serves exactly this; the SDK speaks exactly this.

use serde::{Deserialize, Serialize};

use crate::error::{ErrorCode, Violation};

/// Prefix of every operation path: `POST /v1/{vendor}/{operation}`.
pub const OPERATION_PATH_PREFIX: &str = "/v1/";
/// `GET`: the enabled operations.
pub const CAPABILITIES_PATH: &str = "/v1/capabilities";
/// Prefix of a reply stream's path: `GET /v1/replies/{stream}` (SSE), and
/// `POST /v1/replies/{stream}/messages` (the visitor's follow-up).
pub const REPLIES_PATH_PREFIX: &str = "/v1/replies/";
/// Sandbox only: `POST` makes a simulated agent answer in a conversation.
pub const SANDBOX_REPLIES_PATH: &str = "/v1/sandbox/replies";
/// Sandbox only: `GET` lists, `DELETE` clears what the simulated vendors received.
pub const SANDBOX_OUTBOX_PATH: &str = "/v1/sandbox/outbox";

/// Request header: one key per logical send, reused on every retry.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// Response header: `true` when the answer is a stored one.
pub const IDEMPOTENT_REPLAYED: &str = "idempotent-replayed";
/// Response header: the relay's id of this request.
pub const REQUEST_ID: &str = "x-request-id";
/// Content type of failures.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// Longest `Idempotency-Key`, in bytes.
pub const IDEMPOTENCY_KEY_MAX_BYTES: usize = 255;

/// The relay path of an operation id, e.g. `/v1/memoio/start-conversation`.
pub fn operation_path(id: &str) -> String {
    let mut path = String::with_capacity(OPERATION_PATH_PREFIX.len() + id.len());
    path.push_str(OPERATION_PATH_PREFIX);
    path.push_str(id);
    path
}

/// Whether `key` is a valid `Idempotency-Key`: 1–255 visible ASCII characters.
pub fn is_valid_idempotency_key(key: &[u8]) -> bool {
    (1..=IDEMPOTENCY_KEY_MAX_BYTES).contains(&key.len()) && key.iter().all(|b| b.is_ascii_graphic())
}

/// The vendor's side of a success.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upstream {
    /// The vendor's HTTP status.
    pub status: u16,
}

/// `200` body: `{"data": <vendor result>, "upstream": {"status": n}}`, and `"reconciled": true`
/// when an earlier try's outcome was unknown and a vendor read-back found what it did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Success<T> {
    /// The decoded vendor result.
    pub data: T,
    /// The vendor's side.
    pub upstream: Upstream,
    /// The result was found by reading back from the vendor, not sent now.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reconciled: bool,
    /// Where the replies to the conversation this send opened arrive (DESIGN.md, "Replies").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replies: Option<RepliesAccess>,
}

/// A reply stream, as a send that opened a conversation answers it: `{"url", "token",
/// "expiresAt"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepliesAccess {
    /// The stream's path on the relay, `/v1/replies/{stream}`.
    pub url: String,
    /// The bearer token of this one stream (relay-minted; no vendor id).
    pub token: String,
    /// When the token stops working (RFC 3339, UTC).
    pub expires_at: String,
}

/// An `application/problem+json` failure body. Every error the relay answers is one, with a
/// relay code (never an SDK-only one): operation failures, and also unknown paths (404
/// `unknown_operation`), wrong methods (405 `method_not_allowed`, with `Allow`), oversized or
/// slow requests (400 `invalid_request`, 413 `payload_too_large`). Its `detail` may carry a
/// vendor's text: redacted of every credential the relay holds and at most 1 KiB. A vendor's
/// 429/503 (it did not act) is `upstream_unavailable`, retryable, with `Retry-After`; LiveDesk's
/// refusal of a second contact with a taken e-mail address, phone number or identifier is
/// `409 contact_exists`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// One of [`ErrorCode`].
    pub code: ErrorCode,
    /// A short title for the code.
    pub title: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong, for a human.
    pub detail: String,
    /// The first offending field, as a path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Whether retrying with the same key may succeed.
    pub retryable: bool,
    /// The relay's request id.
    pub request_id: String,
    /// The vendor's side, for `upstream_*` codes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream: Option<Upstream>,
    /// Every violation, for `invalid_field` (a problem+json extension member).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<Violation>,
}

impl Problem {
    /// A problem of `code` with `detail`.
    pub fn new(code: ErrorCode, detail: impl Into<String>, request_id: impl Into<String>) -> Self {
        Self {
            code,
            title: code.title(),
            status: code.http_status(),
            detail: detail.into(),
            field: None,
            retryable: code.retryable(),
            request_id: request_id.into(),
            upstream: None,
            errors: Vec::new(),
        }
    }

    /// `invalid_field` from validation results; `field` and `detail` from the first violation.
    pub fn invalid(violations: Vec<Violation>, request_id: impl Into<String>) -> Self {
        let first = violations.first();
        let detail = first.map_or_else(|| "invalid request".to_owned(), |v| v.message.clone());
        let field = first.map(|v| v.field.clone());
        Self {
            field,
            errors: violations,
            ..Self::new(ErrorCode::InvalidField, detail, request_id)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_are_visible_ascii_up_to_255() {
        assert!(is_valid_idempotency_key(b"a"));
        assert!(is_valid_idempotency_key(&[b'k'; 255]));
        assert!(!is_valid_idempotency_key(b""));
        assert!(!is_valid_idempotency_key(&[b'k'; 256]));
        assert!(!is_valid_idempotency_key(b"has space"));
        assert!(!is_valid_idempotency_key("ü".as_bytes()));
    }

    #[test]
    fn problem_body_has_the_protocol_fields() {
        let p = Problem::invalid(
            vec![Violation::new(
                "receiver",
                crate::validate::rule::EMAIL,
                "receiver is not an e-mail address",
            )],
            "req-1",
        );
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["code"], "invalid_field");
        assert_eq!(json["status"], 400);
        assert_eq!(json["field"], "receiver");
        assert_eq!(json["retryable"], false);
        assert_eq!(json["requestId"], "req-1");
        assert_eq!(json["errors"][0]["code"], "email");
    }
}
