//! Who may use a stream: the bearer of its token (`Authorization: Bearer`, or `?token=` for
//! `EventSource`, which sends no headers; the relay logs paths, never queries), before it
//! expires.

use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use hail::ErrorCode;

use super::log::StreamRecord;
use super::{token, Replies};
use crate::idempotency::now_ms;
use crate::problem::ProblemResponse;

/// The stream a request's token opens, or the problem answer.
pub async fn authorize(
    replies: &Replies,
    id: &str,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<StreamRecord, Response> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned())
        .or_else(|| query_value(query, "token"));
    let Some(given) = given.filter(|t| !t.is_empty()) else {
        return Err(ProblemResponse::new(
            ErrorCode::Unauthenticated,
            "the stream's token is required: Authorization: Bearer {token}",
        )
        .into_response());
    };
    let refused = || {
        ProblemResponse::new(
            ErrorCode::RepliesRefused,
            "this token does not open this stream",
        )
        .into_response()
    };
    let record = match replies.log.stream(id).await {
        Ok(Some(record)) => record,
        Ok(None) => return Err(refused()),
        Err(e) => {
            tracing::error!(error = %e, "replies: the log is unavailable");
            return Err(ProblemResponse::new(
                ErrorCode::UpstreamUnavailable,
                "the reply log is unavailable; try again",
            )
            .into_response());
        }
    };
    if !token::same(&token::hash(&given), &record.token_hash) {
        return Err(refused());
    }
    if record.expires_ms <= now_ms() {
        return Err(ProblemResponse::new(
            ErrorCode::RepliesExpired,
            "this stream's token has expired; start a new conversation",
        )
        .into_response());
    }
    Ok(record)
}

/// The value of `name` in a query string.
pub fn query_value(query: Option<&str>, name: &str) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
