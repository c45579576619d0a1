//! Why a caller is not admitted: one error type whose kinds say the code and the detail.

use hail::ErrorCode;

/// Why a caller was not admitted. Its text is the problem's `detail` and names no secret.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{kind}")]
pub struct AuthError {
    kind: AuthErrorKind,
}

impl AuthError {
    /// What went wrong.
    pub fn kind(&self) -> &AuthErrorKind {
        &self.kind
    }

    /// The problem code: mostly `unauthenticated`; `forbidden` for another site's token; the
    /// relay's own or the vendor's code where chayns could not be asked.
    pub fn code(&self) -> ErrorCode {
        use AuthErrorKind as K;
        match &self.kind {
            K::Disabled => ErrorCode::OperationDisabled,
            K::JwtNotConfigured | K::ChaynsNotConfigured => ErrorCode::Internal,
            K::OtherSite => ErrorCode::Forbidden,
            K::ChecksBusy { .. } => ErrorCode::RateLimited,
            K::ChaynsUnreachable { code, .. } | K::ChaynsFailed { code, .. } => *code,
            K::NoBearer
            | K::AuthorizationNotText
            | K::NotBearer
            | K::InvalidJwt { .. }
            | K::Expired
            | K::NotAHeaderValue
            | K::ChaynsRefused
            | K::NoUser => ErrorCode::Unauthenticated,
        }
    }
}

impl AuthError {
    /// For `Retry-After`, in whole seconds: when the relay could not check the token now.
    pub fn retry_after(&self) -> Option<u64> {
        match &self.kind {
            AuthErrorKind::ChecksBusy { wait } => Some(crate::problem::whole_seconds(*wait)),
            _ => None,
        }
    }
}

impl From<AuthErrorKind> for AuthError {
    fn from(kind: AuthErrorKind) -> Self {
        Self { kind }
    }
}

/// The kinds of [`AuthError`].
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum AuthErrorKind {
    /// The operation is off.
    #[error("this operation is disabled")]
    Disabled,
    /// `access = "jwt"` without a `[jwt]` section (the config check refuses that).
    #[error("no [jwt] section is configured")]
    JwtNotConfigured,
    /// `access = "chayns"` without chayns callers (the config check refuses that).
    #[error("chayns callers are not configured")]
    ChaynsNotConfigured,
    /// No `Authorization` header.
    #[error("this operation needs Authorization: Bearer <token>")]
    NoBearer,
    /// An `Authorization` header that is not text.
    #[error("the Authorization header is not text")]
    AuthorizationNotText,
    /// Another scheme, or no token.
    #[error("the Authorization header must be Bearer <token>")]
    NotBearer,
    /// A JWT that does not verify.
    #[error("the token is not valid: {reason}")]
    InvalidJwt {
        /// Which check failed.
        reason: &'static str,
    },
    /// A token past its expiry.
    #[error("the token has expired")]
    Expired,
    /// A token that cannot be sent on to chayns.
    #[error("the token is not a valid header value")]
    NotAHeaderValue,
    /// chayns does not know the token.
    #[error("chayns does not accept the token")]
    ChaynsRefused,
    /// chayns knows the token but names no user.
    #[error("chayns names no user for the token")]
    NoUser,
    /// A token of another chayns site.
    #[error("the token belongs to another chayns site")]
    OtherSite,
    /// The relay's cap on token checks sent to chayns (all callers together) is reached: the
    /// token was not checked, so this says nothing about it (`rate_limited`, retryable).
    #[error("too many token checks are under way: retry in {} s", crate::problem::whole_seconds(*wait))]
    ChecksBusy {
        /// Until a check is likely to be free.
        wait: std::time::Duration,
    },
    /// chayns could not be reached.
    #[error("chayns could not verify the token: {detail}")]
    ChaynsUnreachable {
        /// The upstream code.
        code: ErrorCode,
        /// What happened to the call.
        detail: &'static str,
    },
    /// chayns answered with an error.
    #[error("chayns could not verify the token (HTTP {status})")]
    ChaynsFailed {
        /// The vendor's code.
        code: ErrorCode,
        /// chayns' HTTP status.
        status: u16,
    },
}
