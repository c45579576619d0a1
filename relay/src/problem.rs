//! `application/problem+json` responses.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use hail::protocol::{Problem, PROBLEM_CONTENT_TYPE, REQUEST_ID};
use hail::ErrorCode;

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
        let status =
            StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let request_id = HeaderValue::from_str(&self.0.request_id).ok();
        // Serializing a struct of strings and numbers cannot fail; fall back to a fixed body anyway.
        let body =
            serde_json::to_vec(&self.0).unwrap_or_else(|_| br#"{"code":"internal"}"#.to_vec());
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
        );
        if let Some(id) = request_id {
            headers.insert(REQUEST_ID, id);
        }
        response
    }
}

/// A fresh server-side request id.
pub fn new_request_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}
