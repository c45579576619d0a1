//! `POST /v1/hooks/{vendor}/{secret}`: a vendor's webhook delivery. In order: the vendor must
//! have an intake here and the path its secret (compared in constant time), HTTP Basic where
//! configured (mluvii), the signature where configured (LiveDesk, Chatwoot-style) — all before
//! the body is read as JSON; then the delivery is stored (deduplicated, filtered, numbered per
//! stream) and only then acknowledged, so a vendor retries what this relay did not keep.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use hail::inbound::{receive, InboundError};
use hail::ErrorCode;
use secrecy::ExposeSecret as _;

use crate::problem::ProblemResponse;
use crate::replies::log::Appended;
use crate::replies::token::same_secret;
use crate::replies::Hook;
use crate::state::AppState;

/// `POST /v1/hooks/{vendor}/{secret}`.
pub async fn intake(
    State(state): State<Arc<AppState>>,
    Path((vendor, secret)): Path<(String, String)>,
    request: Request,
) -> Response {
    let replies = &state.replies;
    // The same answer for an unknown vendor, one without an intake and a wrong secret: the
    // path says nothing to someone guessing it.
    let Some((&name, hook)) = replies
        .hooks
        .get_key_value(vendor.as_str())
        .filter(|(_, hook)| same_secret(&secret, hook.path_secret.expose_secret()))
    else {
        if let Some((&name, _)) = replies.hooks.get_key_value(vendor.as_str()) {
            crate::metrics::webhook(name, "refused");
        }
        return ProblemResponse::new(ErrorCode::UnknownOperation, "no webhook intake here")
            .into_response();
    };
    let (parts, body) = request.into_parts();
    if !basic_ok(hook, &parts.headers) {
        crate::metrics::webhook(name, "refused");
        let mut response = ProblemResponse::new(
            ErrorCode::Unauthenticated,
            "HTTP Basic credentials required",
        )
        .into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            axum::http::HeaderValue::from_static("Basic realm=\"hail-relay webhooks\""),
        );
        return response;
    }
    // The front service read it already, bounded (the body is those bytes again).
    let body = match axum::body::to_bytes(body, state.limits.body_limit).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return ProblemResponse::new(ErrorCode::PayloadTooLarge, "the body is too large")
                .into_response()
        }
    };
    let headers = &parts.headers;
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let delivery = match receive(name, hook.signing.as_ref(), &header, &body, now) {
        Ok(d) => d,
        Err(e @ (InboundError::BadSignature | InboundError::Stale)) => {
            crate::metrics::webhook(name, "refused");
            tracing::warn!(vendor = name, "replies: a webhook was refused: {e}");
            return ProblemResponse::new(ErrorCode::Unauthenticated, e.to_string()).into_response();
        }
        Err(e) => {
            crate::metrics::webhook(name, "unreadable");
            return ProblemResponse::new(ErrorCode::InvalidRequest, e.to_string()).into_response();
        }
    };
    match replies.log.append(name, &delivery).await {
        Ok(appended) => {
            crate::metrics::webhook(name, appended.outcome());
            if let Appended::Streamed(streams) = &appended {
                for (id, _) in streams {
                    // No receiver (no stream open here) is fine: the log has it.
                    let _ = replies.hub.send(Arc::from(id.as_str()));
                }
            }
            (
                StatusCode::OK,
                Json(serde_json::json!({ "received": appended.outcome() })),
            )
                .into_response()
        }
        Err(e) => {
            // Not stored, not acknowledged: the vendor delivers it again.
            tracing::error!(vendor = name, error = %e, "replies: cannot store a webhook delivery");
            ProblemResponse::new(
                ErrorCode::UpstreamUnavailable,
                "the delivery could not be stored; deliver it again",
            )
            .into_response()
        }
    }
}

/// Whether the request carries the hook's HTTP Basic credentials, where it has some.
fn basic_ok(hook: &Hook, headers: &HeaderMap) -> bool {
    let Some((user, password)) = &hook.basic else {
        return true;
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok());
    let expected = format!("{user}:{}", password.expose_secret());
    given.is_some_and(|g| same_secret(&g, &expected))
}
