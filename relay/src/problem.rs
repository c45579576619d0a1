//! `application/problem+json` answers, and the one way every relay error becomes one.
//!
//! An error is answered as a [`ProblemResponse`]: code, detail and whatever else the problem
//! says, but no request id. It gets the request's id (made once, by the request-id layer) in
//! [`ProblemResponse::stored`], the only place a problem is finished: the operation handler
//! calls it to store an answer before sending it; for every other handler and middleware
//! [`finish`] does (called by the app's front service on every answer), which also makes one of
//! the framework's bare error answers. Either way the answer carries its [`ProblemCode`] in the response's extensions,
//! where the metrics read it.

use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use hail::protocol::{Problem, Upstream, IDEMPOTENT_REPLAYED, PROBLEM_CONTENT_TYPE, REQUEST_ID};
use hail::ErrorCode;

use crate::idempotency::StoredResponse;

/// A problem to answer, not yet for a particular request.
#[derive(Debug, Clone)]
pub struct ProblemResponse {
    /// Its request id stays empty until [`ProblemResponse::stored`]. Boxed: errors travel in
    /// `Result`s, which stay small.
    problem: Box<Problem>,
    retry_after: Option<u64>,
}

/// The code of a problem answer, in the response's extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProblemCode(pub ErrorCode);

impl ProblemResponse {
    /// A problem of `code` with `detail`.
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            problem: Box::new(Problem::new(code, detail, String::new())),
            retry_after: None,
        }
    }

    /// `invalid_field` for these violations of the operation's field rules.
    pub fn invalid(violations: Vec<hail::Violation>) -> Self {
        Self {
            problem: Box::new(Problem::invalid(violations, String::new())),
            retry_after: None,
        }
    }

    /// Names the offending field.
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.problem.field = Some(field.into());
        self
    }

    /// The vendor's HTTP status, for `upstream_*` codes.
    pub fn upstream(mut self, status: u16) -> Self {
        self.problem.upstream = Some(Upstream { status });
        self
    }

    /// Whether retrying may succeed, where the code alone does not say.
    pub fn retryable(mut self, retryable: bool) -> Self {
        self.problem.retryable = retryable;
        self
    }

    /// `Retry-After`, in seconds.
    pub fn retry_after(mut self, seconds: Option<u64>) -> Self {
        self.retry_after = seconds;
        self
    }

    /// Its code.
    pub fn code(&self) -> ErrorCode {
        self.problem.code
    }

    /// The answer for the request with id `request_id`, ready to store or send.
    pub fn stored(self, request_id: &str) -> StoredResponse {
        let mut problem = *self.problem;
        problem.request_id = request_id.to_owned();
        let mut stored = stored_problem(problem);
        stored.retry_after = self.retry_after;
        stored
    }
}

/// The answer is only started here: [`finish`] writes its body with the request's id.
/// Until then it has its status, and the problem in its extensions.
impl IntoResponse for ProblemResponse {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = status.into_response();
        response.extensions_mut().insert(self);
        response
    }
}

/// Every error the relay answers is a problem document (protocol): routing (404), method
/// (405), and the bare answers of the framework's layers are turned into one here, keeping
/// their headers (`Allow`, CORS). JSON answers are left as they are (problems, and the
/// `/healthz` status document). `method` and `uri` are the request's, `id` its request id.
pub fn finish(mut response: Response, method: &Method, uri: &Uri, id: &str) -> Response {
    if let Some(problem) = response.extensions_mut().remove::<ProblemResponse>() {
        return render(response, problem, id);
    }
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with(PROBLEM_CONTENT_TYPE) || t.starts_with("application/json"));
    if json {
        return response;
    }
    let path = uri.path();
    let (code, detail) = match status {
        StatusCode::NOT_FOUND => (ErrorCode::UnknownOperation, format!("nothing at {path}")),
        StatusCode::METHOD_NOT_ALLOWED => (
            ErrorCode::MethodNotAllowed,
            format!("{method} is not allowed on {path} (operations are POST)"),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            ErrorCode::PayloadTooLarge,
            "the body is too large".to_owned(),
        ),
        s if s.is_client_error() => (
            ErrorCode::InvalidRequest,
            format!("the request was refused (HTTP {})", s.as_u16()),
        ),
        s => (
            ErrorCode::Internal,
            format!("the request failed (HTTP {})", s.as_u16()),
        ),
    };
    render(response, ProblemResponse::new(code, detail), id)
}

/// Finishes `response` as `problem` for request `request_id`: its status, body and problem
/// headers replace the response's, the others (`Allow`, CORS, `Connection`) stay.
fn render(response: Response, problem: ProblemResponse, request_id: &str) -> Response {
    let (mut parts, _) = response.into_parts();
    let (answer, body) = respond(problem.stored(request_id), request_id).into_parts();
    parts.status = answer.status;
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.extend(answer.headers);
    parts.extensions.extend(answer.extensions);
    Response::from_parts(parts, body)
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
        code: Some(p.code),
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

/// The HTTP answer for `stored`, with this request's id as `X-Request-Id` (also on a replay)
/// and, for a problem, its [`ProblemCode`] in the extensions.
pub fn respond(stored: StoredResponse, request_id: &str) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, stored.body).into_response();
    if let Some(code) = stored.code {
        response.extensions_mut().insert(ProblemCode(code));
    }
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

/// `wait` in whole seconds, rounded up, at least 1 (for `Retry-After`).
pub fn whole_seconds(wait: std::time::Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}
