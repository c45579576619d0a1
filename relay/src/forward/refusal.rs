//! Why a request is answered before any vendor call: each kind says its code and its detail,
//! and becomes a problem document through [`ProblemResponse`] like every relay error.

use std::time::Duration;

use hail::ErrorCode;

use crate::limits::Refused;
use crate::policy::PolicyError;
use crate::problem::ProblemResponse;
use crate::store::StoreError;

/// A request the relay refuses, or cannot take on now.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// No policy for the operation (every catalog operation has one).
    #[error("no such operation")]
    UnknownOperation,
    /// The operation is off.
    #[error("this operation is disabled on this relay")]
    Disabled,
    /// The vendor has no account on this relay.
    #[error("{vendor} is not configured on this relay")]
    VendorMissing {
        /// The vendor's name.
        vendor: &'static str,
    },
    /// The body is over the limit.
    #[error("the body is larger than {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The body could not be read.
    #[error("the body could not be read")]
    Unreadable,
    /// The body is no JSON.
    #[error("the body is not valid JSON")]
    NotJson,
    /// The body is JSON but no object.
    #[error("the body must be a JSON object")]
    NotAnObject,
    /// The request's shape is wrong where no field can be named.
    #[error("{0}")]
    Malformed(String),
    /// Fields break their rules (`invalid_field`, every violation listed).
    #[error("{}", .0.first().map_or("invalid request", |v| v.message.as_str()))]
    Invalid(Vec<hail::Violation>),
    /// The caller was not admitted.
    #[error(transparent)]
    Caller(#[from] Refused),
    /// The request is against the operation's policy.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// Sending as the caller needs a verified chayns caller.
    #[error("sending as the caller needs access = \"chayns\" for this operation")]
    CallerTokenMissing,
    /// The caller is over its request rate.
    #[error("too many requests: retry in {} s", seconds(*wait))]
    RateLimited {
        /// Until its next request.
        wait: Duration,
    },
    /// A sending operation without a key.
    #[error("this operation sends a message: send an Idempotency-Key header")]
    KeyMissing,
    /// A key the protocol does not allow.
    #[error("Idempotency-Key must be 1 to 255 visible ASCII characters")]
    KeyInvalid,
    /// The key's request is still running.
    #[error("a request with this Idempotency-Key is still in progress")]
    InFlight,
    /// The key was used with another body.
    #[error("this Idempotency-Key was used with another request body")]
    KeyReused,
    /// The store could not hold the key: nothing may be sent.
    #[error("the idempotency store is unavailable; nothing was sent, try again")]
    StoreUnavailable(#[source] StoreError),
    /// The validated request could not be encoded for its fingerprint.
    #[error("the request could not be encoded")]
    Unencodable,
}

/// `wait` in whole seconds, rounded up, for the detail (`Retry-After` is
/// [`crate::problem::whole_seconds`], at least 1).
fn seconds(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

impl Refusal {
    /// The problem code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::UnknownOperation => ErrorCode::UnknownOperation,
            Self::Disabled | Self::VendorMissing { .. } => ErrorCode::OperationDisabled,
            Self::TooLarge { .. } => ErrorCode::PayloadTooLarge,
            Self::Unreadable
            | Self::NotJson
            | Self::NotAnObject
            | Self::Malformed(_)
            | Self::KeyInvalid => ErrorCode::InvalidRequest,
            Self::Invalid(_) => ErrorCode::InvalidField,
            Self::Caller(e) => e.code(),
            Self::Policy(e) => e.code(),
            Self::CallerTokenMissing => ErrorCode::Forbidden,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::KeyMissing => ErrorCode::IdempotencyKeyMissing,
            Self::InFlight => ErrorCode::IdempotencyInFlight,
            Self::KeyReused => ErrorCode::IdempotencyKeyReused,
            Self::StoreUnavailable(_) => ErrorCode::UpstreamUnavailable,
            Self::Unencodable => ErrorCode::Internal,
        }
    }
}

impl From<Refusal> for ProblemResponse {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Caller(e) => {
                ProblemResponse::new(e.code(), e.to_string()).retry_after(e.retry_after())
            }
            Refusal::Policy(e) => ProblemResponse::new(e.code(), e.to_string()).field(e.field()),
            Refusal::Invalid(violations) => ProblemResponse::invalid(violations),
            Refusal::KeyInvalid => {
                ProblemResponse::new(refusal.code(), refusal.to_string()).field("Idempotency-Key")
            }
            Refusal::RateLimited { wait } => {
                ProblemResponse::new(refusal.code(), refusal.to_string())
                    .retry_after(Some(crate::problem::whole_seconds(wait)))
            }
            other => ProblemResponse::new(other.code(), other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(refusal: Refusal) -> (u16, Option<u64>, serde_json::Value) {
        let stored = ProblemResponse::from(refusal).stored("req-1");
        let body = serde_json::from_slice(&stored.body).unwrap();
        (stored.status, stored.retry_after, body)
    }

    #[test]
    fn a_refusal_keeps_its_code_detail_field_and_wait() {
        let (status, retry_after, body) = answer(Refusal::KeyInvalid);
        assert_eq!((status, retry_after), (400, None));
        assert_eq!(body["code"], "invalid_request");
        assert_eq!(body["field"], "Idempotency-Key");
        assert_eq!(body["requestId"], "req-1");

        let wait = Duration::from_millis(1_500);
        let (status, retry_after, body) = answer(Refusal::RateLimited { wait });
        assert_eq!((status, retry_after), (429, Some(2)));
        assert_eq!(body["detail"], "too many requests: retry in 2 s");

        let (status, _, body) = answer(Refusal::VendorMissing { vendor: "mluvii" });
        assert_eq!(status, 403);
        assert_eq!(body["code"], "operation_disabled");
        assert_eq!(body["detail"], "mluvii is not configured on this relay");
    }
}
