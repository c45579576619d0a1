//! Stable error codes shared by the SDK, the relay protocol and the JS errors, and field violations.

use serde::{Deserialize, Serialize};

// Never rename one: callers branch on these strings.
/// A stable, snake_case error code. The same strings appear in relay problem bodies (`code`)
/// and in `HailError.code`.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[cfg_attr(feature = "web", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ErrorCode {
    InvalidRequest,
    InvalidField,
    Unauthenticated,
    Forbidden,
    OriginNotAllowed,
    UnknownOperation,
    OperationDisabled,
    PayloadTooLarge,
    RateLimited,
    IdempotencyKeyMissing,
    IdempotencyKeyReused,
    IdempotencyInFlight,
    UpstreamRejected,
    UpstreamUnavailable,
    UpstreamTimeout,
    /// The vendor may have acted (a timeout after sending, a connection dropped after the
    /// request was written, a relay that died mid-call): the same key never sends again unless a
    /// vendor read-back proves it did not act.
    OutcomeUnknown,
    Internal,
    // SDK-side only: never sent by the relay.
    NetworkError,
    Timeout,
    Aborted,
    InvalidResponse,
    /// 405: the path exists, but not for this method (every operation is a POST). Added after
    /// the SDK-only codes to keep the order of the others stable.
    MethodNotAllowed,
    /// 409: the vendor already has a contact with one of these unique details (LiveDesk: the
    /// e-mail address, the phone number or the identifier); `livedesk/start-conversation`
    /// finds and uses that contact instead.
    ContactExists,
    /// A reply stream's token is past its `expiresAt` (or the stream was closed): start again.
    RepliesExpired,
    /// A reply stream refused the token: not this stream's, revoked, or no such stream.
    RepliesRefused,
}

impl ErrorCode {
    /// Every code, in declaration order.
    pub const ALL: &'static [ErrorCode] = <Self as strum::VariantArray>::VARIANTS;

    /// The wire string, e.g. `"invalid_field"`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Parses a wire string; `None` for a code this version does not know.
    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }

    /// The relay's HTTP status for this code (DESIGN.md, "HTTP status per code").
    pub const fn http_status(self) -> u16 {
        match self {
            Self::InvalidRequest | Self::InvalidField | Self::IdempotencyKeyMissing => 400,
            Self::Unauthenticated => 401,
            Self::Forbidden | Self::OriginNotAllowed | Self::OperationDisabled => 403,
            Self::UnknownOperation => 404,
            Self::IdempotencyInFlight | Self::ContactExists => 409,
            Self::RepliesExpired => 410,
            Self::RepliesRefused => 403,
            Self::PayloadTooLarge => 413,
            Self::IdempotencyKeyReused => 422,
            Self::RateLimited => 429,
            Self::UpstreamRejected | Self::UpstreamUnavailable | Self::OutcomeUnknown => 502,
            Self::UpstreamTimeout => 504,
            Self::Internal | Self::NetworkError | Self::Timeout | Self::Aborted => 500,
            Self::InvalidResponse => 502,
            Self::MethodNotAllowed => 405,
        }
    }

    /// Whether the same request, with the same idempotency key, may succeed when sent again.
    pub const fn retryable(self) -> bool {
        matches!(
            self,
            Self::RateLimited
                | Self::IdempotencyInFlight
                | Self::UpstreamUnavailable
                | Self::UpstreamTimeout
                | Self::NetworkError
                | Self::Timeout
        )
    }

    /// A short human title for problem bodies.
    pub const fn title(self) -> &'static str {
        match self {
            Self::InvalidRequest => "The request is malformed",
            Self::InvalidField => "A field is invalid",
            Self::Unauthenticated => "Authentication is required",
            Self::Forbidden => "The caller may not do this",
            Self::OriginNotAllowed => "This origin is not allowed",
            Self::UnknownOperation => "No such operation",
            Self::OperationDisabled => "The operation is disabled",
            Self::PayloadTooLarge => "The request body is too large",
            Self::RateLimited => "Too many requests",
            Self::IdempotencyKeyMissing => "An Idempotency-Key header is required",
            Self::IdempotencyKeyReused => "The Idempotency-Key was used with another request",
            Self::IdempotencyInFlight => "A request with this Idempotency-Key is in progress",
            Self::UpstreamRejected => "The vendor rejected the request",
            Self::UpstreamUnavailable => "The vendor is unavailable",
            Self::UpstreamTimeout => "The vendor did not answer in time",
            Self::OutcomeUnknown => "The vendor may or may not have acted",
            Self::Internal => "Internal error",
            Self::NetworkError => "Network error",
            Self::Timeout => "Timed out",
            Self::Aborted => "Aborted",
            Self::InvalidResponse => "Invalid response",
            Self::MethodNotAllowed => "The method is not allowed here",
            Self::ContactExists => "A contact with these details already exists",
            Self::RepliesExpired => "The reply stream's token has expired",
            Self::RepliesRefused => "The reply stream refused this token",
        }
    }
}

/// A stable rule code of a [`crate::Violation`], e.g. `required`, `email`, `too_long`: the same
/// strings in the SDK's violations and the relay's problem bodies; never rename one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Rule {
    /// A required field is missing or empty.
    Required,
    /// The value has the wrong JSON type, or the request is not an object.
    Type,
    /// Not an e-mail address.
    Email,
    /// Longer than the field's limit.
    TooLong,
    /// More list items than the field's limit.
    TooMany,
    /// A list item is empty.
    EmptyItem,
    /// A list item contains the vendor's list separator.
    Separator,
    /// A control character where it could break a header, a form or a display.
    ControlChar,
    /// A value outside the documented set.
    NotAllowed,
    /// A field the operation does not have.
    UnknownField,
    /// Not a phone number in international format (`+` and 7 to 15 digits).
    Phone,
    /// Not a GUID (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, hex).
    Guid,
    /// Not an absolute `http(s)` URL.
    Url,
    /// A number outside its range (ids: 1 to 2^53−1, so JS numbers stay exact).
    Range,
    /// A list that must have at least one item is empty.
    EmptyList,
    /// Not an RFC 3339 date-time.
    DateTime,
    /// Not a language code (`cs`, `en`, `en_US`, `pt-BR`).
    Language,
    /// Fields that must (or must not) appear together.
    Conflict,
}

impl Rule {
    /// The wire string, e.g. `"too_long"`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl PartialEq<&str> for Rule {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// One broken rule of one field: what `validate()` returns, and what the relay reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// The field as a path, e.g. `receiver`, `tags[2]`, `recipients[0].contactId`.
    pub field: String,
    /// A stable rule code, e.g. `required`, `email`, `too_long`.
    pub code: Rule,
    /// A human-readable message naming the limit.
    pub message: String,
}

impl Violation {
    /// A violation of `rule` by `field`.
    pub fn new(field: impl Into<String>, code: Rule, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_their_wire_strings() {
        for &code in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
        assert_eq!(ErrorCode::parse("nope"), None);
    }

    #[test]
    fn statuses_follow_the_protocol_table() {
        assert_eq!(ErrorCode::InvalidField.http_status(), 400);
        assert_eq!(ErrorCode::IdempotencyKeyReused.http_status(), 422);
        assert_eq!(ErrorCode::IdempotencyInFlight.http_status(), 409);
        assert_eq!(ErrorCode::UpstreamTimeout.http_status(), 504);
        assert_eq!(ErrorCode::MethodNotAllowed.http_status(), 405);
        assert!(!ErrorCode::MethodNotAllowed.retryable());
        assert_eq!(ErrorCode::ContactExists.http_status(), 409);
        assert!(!ErrorCode::ContactExists.retryable());
        assert_eq!(ErrorCode::OutcomeUnknown.http_status(), 502);
        assert!(!ErrorCode::OutcomeUnknown.retryable());
        assert!(ErrorCode::RateLimited.retryable());
        assert!(!ErrorCode::InvalidField.retryable());
    }
}
