//! The answers of failed vendor calls: what the caller is told, and whether the vendor may have
//! acted (which decides whether the key may send again).

use std::time::Duration;

use axum::http::StatusCode;
use hail::{ErrorCode, Operation};

use super::named;
use crate::idempotency::StoredResponse;
use crate::problem::ProblemResponse;
use crate::upstream::{is_not_now, Acted};

/// A vendor call that got no usable answer (`f`): the answer, and whether the vendor may have
/// acted.
pub(super) fn unanswered<Op: Operation>(
    mut f: crate::upstream::CallFailure,
    reads: bool,
    step: Option<&str>,
    request_id: &str,
) -> (StoredResponse, Acted) {
    if (!Op::SENDS || reads) && f.code == ErrorCode::OutcomeUnknown {
        // A read has no key and sends nothing: a timeout or a drop is just that.
        f.code = ErrorCode::UpstreamTimeout;
        f.detail = "the vendor did not answer in time";
        f.acted = Acted::No;
    } else if Op::SENDS && f.acted == Acted::Maybe {
        // Sent, and no answer that says what happened (e.g. one too large to read): the
        // caller must not take it for "not sent".
        f.code = ErrorCode::OutcomeUnknown;
    }
    let p = ProblemResponse::new(f.code, named(step, f.detail.to_owned()));
    // Replayed as is for the same key: retrying cannot tell whether it was sent.
    let retryable = f.code.retryable() && f.acted == Acted::No;
    (p.retryable(retryable).stored(request_id), f.acted)
}

/// A vendor answer the operation refused (`e`): the answer, and whether the vendor may have
/// acted.
pub(super) fn refused<Op: Operation>(
    e: hail::UpstreamError,
    status: StatusCode,
    retry_after: Option<Duration>,
    reads: bool,
    step: Option<&str>,
    request_id: &str,
) -> (StoredResponse, Acted) {
    let not_now = is_not_now(status);
    let acted = if not_now || reads {
        Acted::No
    } else {
        Acted::Maybe
    };
    let code = if not_now {
        // 429/503 after the relay's own retries: the vendor did not act, so the
        // caller may send the same request again, after the vendor's wait.
        ErrorCode::UpstreamUnavailable
    } else if e.code == ErrorCode::Unauthenticated {
        ErrorCode::UpstreamRejected
    } else if Op::SENDS && !reads && status.is_success() {
        // The vendor accepted it, but its answer cannot be read: it may well have
        // acted, so this is no "not sent".
        ErrorCode::OutcomeUnknown
    } else {
        e.code
    };
    let message = if code == ErrorCode::OutcomeUnknown {
        format!("the vendor accepted the request (HTTP {}) but its answer could not be read ({}); it is not sent again with this key", status.as_u16(), e.message)
    } else {
        e.message
    };
    let retry_after = not_now.then(|| retry_after.map_or(1, crate::problem::whole_seconds));
    let p = ProblemResponse::new(code, named(step, message))
        .upstream(e.status)
        .retryable(acted == Acted::No && code.retryable())
        .retry_after(retry_after);
    (p.stored(request_id), acted)
}
