//! The request id: made once per request, by the app's front service (see `app::Front`), and
//! only read everywhere else: in logs, in problem bodies, in stored answers.

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use hail::protocol::REQUEST_ID;

/// The header that carries it.
pub const HEADER: HeaderName = HeaderName::from_static(REQUEST_ID);

/// A new id: a random UUID in its 32-digit form (the protocol's `requestId`), written straight
/// into the header value (no `String` on the way).
pub fn new() -> HeaderValue {
    let mut text = [0u8; uuid::fmt::Simple::LENGTH];
    let text = uuid::Uuid::new_v4().simple().encode_lower(&mut text);
    // 32 lowercase hex digits are always a valid header value: the fallback is never taken.
    HeaderValue::from_str(text).unwrap_or(HeaderValue::from_static("0"))
}

/// The id the front service gave this request (empty only for a request that did not pass it).
pub fn of(headers: &HeaderMap) -> &str {
    text(headers.get(HEADER))
}

/// The id in the header's `value` (the relay's ids are text).
pub fn text(value: Option<&HeaderValue>) -> &str {
    value.and_then(|v| v.to_str().ok()).unwrap_or_default()
}
