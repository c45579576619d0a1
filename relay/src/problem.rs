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

/// A problem as a storable (and replayable) answer.
pub fn stored_problem(p: Problem) -> StoredResponse {
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
