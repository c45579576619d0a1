//! `application/problem+json` responses.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use hail::protocol::{Problem, IDEMPOTENT_REPLAYED, PROBLEM_CONTENT_TYPE, REQUEST_ID};
use hail::ErrorCode;

use crate::idempotency::StoredResponse;

/// A problem answer, with the request id also as `X-Request-Id`.
pub struct ProblemResponse(pub Problem);

impl ProblemResponse {
    /// A problem of `code` with `detail` for request `request_id`.
    pub fn new(code: ErrorCode, detail: impl Into<String>, request_id: &str) -> Self {
        Self(Problem::new(code, detail, request_id))
    }
}

impl IntoResponse for ProblemResponse {
    fn into_response(self) -> Response {
        let request_id = self.0.request_id.clone();
        respond(stored_problem(self.0), &request_id)
    }
}

/// A problem as a storable (and replayable) answer. This is the one step every problem passes
/// before it is stored or sent: its `detail` is redacted of every credential and bounded
/// (vendor text may echo the request), and a code the protocol reserves for the SDK becomes
/// the relay's own.
pub fn stored_problem(mut p: Problem) -> StoredResponse {
    p.detail = crate::scrub::detail(&p.detail);
    if let Some(code) = relay_code(p.code) {
        p.code = code;
        p.title = code.title();
        p.status = code.http_status();
    }
    // Serializing a struct of strings and numbers cannot fail; fall back to a fixed body anyway.
    let body = serde_json::to_vec(&p).unwrap_or_else(|_| br#"{"code":"internal"}"#.to_vec());
    StoredResponse {
        status: p.status,
        content_type: PROBLEM_CONTENT_TYPE,
        body: Bytes::from(body),
        retry_after: None,
        replayed: false,
    }
}

/// The relay's code for an SDK-only one (`None` if `code` is the relay's): a vendor answer the
/// relay cannot read is `upstream_unavailable` (retryable only where the caller said so: the
/// vendor may have acted).
fn relay_code(code: ErrorCode) -> Option<ErrorCode> {
    match code {
        ErrorCode::InvalidResponse | ErrorCode::NetworkError => {
            Some(ErrorCode::UpstreamUnavailable)
        }
        ErrorCode::Timeout => Some(ErrorCode::UpstreamTimeout),
        ErrorCode::Aborted => Some(ErrorCode::Internal),
        _ => None,
    }
}

/// The HTTP answer for `stored`, with this request's id as `X-Request-Id` (also on a replay).
pub fn respond(stored: StoredResponse, request_id: &str) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, stored.body).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(stored.content_type),
    );
    if let Ok(id) = HeaderValue::from_str(request_id) {
        h.insert(REQUEST_ID, id);
    }
    if stored.replayed {
        h.insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    }
    if let Some(secs) = stored.retry_after {
        h.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

/// A fresh server-side request id.
pub fn new_request_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// The id the request-id layer gave this request (see `app::router`), or a fresh one where a
/// request did not pass it.
pub fn request_id(headers: &http::HeaderMap) -> String {
    headers
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map_or_else(new_request_id, str::to_owned)
}
