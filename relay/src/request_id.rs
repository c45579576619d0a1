//! The request id: made once per request, by tower-http's request-id layer (see `app::router`),
//! and only read everywhere else: in logs, in problem bodies, in stored answers.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use hail::protocol::REQUEST_ID;
use tower_http::request_id::{MakeRequestId, RequestId};

/// The header that carries it.
pub const HEADER: HeaderName = HeaderName::from_static(REQUEST_ID);

/// Makes the relay's ids: a random UUID in its 32-digit form (the protocol's `requestId`;
/// tower-http's `MakeRequestUuid` writes the 36-character hyphenated one).
#[derive(Debug, Clone, Copy, Default)]
pub struct NewRequestId;

impl MakeRequestId for NewRequestId {
    fn make_request_id<B>(&mut self, _: &http::Request<B>) -> Option<RequestId> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

/// Drops an id the client sent: ids in logs and answers are the relay's own (the layer keeps
/// one it finds).
pub async fn drop_clients(mut req: Request) -> Request {
    req.headers_mut().remove(HEADER);
    req
}

/// The id the layer gave this request (empty only for a request that did not pass it).
pub fn of(headers: &HeaderMap) -> &str {
    text(headers.get(HEADER))
}

/// The id in the header's `value` (the layer's ids are text).
pub fn text(value: Option<&HeaderValue>) -> &str {
    value.and_then(|v| v.to_str().ok()).unwrap_or_default()
}
