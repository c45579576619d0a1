//! Failed authentication is throttled: each failure counts against the client address's request
//! limit, and against a second, stricter limit for failures only. While an address is over the
//! latter, its invalid tokens are refused (`rate_limited`) and no token of it is sent to chayns:
//! a flood of bogus tokens costs the relay (and chayns, which verifies `access = "chayns"`
//! tokens) a bounded number of checks. A valid credential that costs nothing to check — a JWT,
//! verified locally, or a chayns token whose verdict is cached — is still accepted: others'
//! failures from a shared address (an office, a carrier's NAT, a proxy) lock no one out.
//!
//! Kept in memory per instance (also with a Redis store): a failure budget needs no sharing to
//! bound what one instance sends to chayns.
//!
//! [`Limits`] is the part of the relay's state that bounds requests: rates, failures, sizes and
//! times.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use hail::ErrorCode;
use http::HeaderMap;

use crate::caller::{authenticate as check, AuthError, Caller};
use crate::config::{Access, RateLimitConfig};
use crate::gate::Gate;
use crate::problem::whole_seconds;
use crate::rate_limit::Limiter;
use crate::serving::ServerLimits;

/// What bounds requests: one part of the relay's state (see `state`).
pub struct Limits {
    /// Requests per caller.
    pub limiter: Limiter,
    /// Failed authentications per client address.
    pub auth_failures: AuthFailures,
    /// Longest a request may take.
    pub request_timeout: Duration,
    /// Largest request body, in bytes.
    pub body_limit: usize,
    /// Longest wait for a whole request body.
    pub body_read_timeout: Duration,
    /// Largest request head, in bytes.
    pub max_header_bytes: usize,
    /// Connection limits and timeouts of the server.
    pub server: ServerLimits,
}

/// Most addresses remembered as over their failure budget.
const BLOCKED_MAX: u64 = 100_000;

/// The failure limit per client address.
pub struct AuthFailures {
    limiter: Option<DefaultKeyedRateLimiter<IpAddr>>,
    /// Addresses over budget, until when.
    blocked: moka::sync::Cache<IpAddr, Instant>,
}

impl AuthFailures {
    /// From config (`auth_failures_per_minute = 0` turns it off).
    pub fn new(config: RateLimitConfig) -> Self {
        let limiter = NonZeroU32::new(config.auth_failures_per_minute).map(|per_minute| {
            let burst = NonZeroU32::new(config.auth_failures_burst).unwrap_or(NonZeroU32::MIN);
            RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst))
        });
        Self {
            limiter,
            blocked: moka::sync::Cache::builder()
                .max_capacity(BLOCKED_MAX)
                .time_to_live(Duration::from_secs(3600))
                .build(),
        }
    }

    /// How long `ip` must wait before its next authentication, if it is over budget.
    pub fn blocked(&self, ip: IpAddr) -> Option<Duration> {
        let until = self.blocked.get(&ip)?;
        let wait = until.saturating_duration_since(Instant::now());
        (!wait.is_zero()).then_some(wait)
    }

    /// Counts a failure of `ip`; how long it must wait if that put it over budget.
    pub fn failed(&self, ip: IpAddr) -> Option<Duration> {
        let limiter = self.limiter.as_ref()?;
        let wait = limiter
            .check_key(&ip)
            .err()?
            .wait_time_from(DefaultClock::default().now());
        self.blocked.insert(ip, Instant::now() + wait);
        Some(wait)
    }

    /// Drops the buckets of addresses that are full again (idle).
    pub fn sweep(&self) {
        if let Some(limiter) = &self.limiter {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

/// Why a caller was not admitted: its authentication failed, or its address failed too often.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Refused {
    /// The check said no.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// Too many failures from this address: `rate_limited`, for `wait`.
    #[error("too many failed authentications: retry in {} s", whole_seconds(*wait))]
    Throttled {
        /// Until the next check.
        wait: Duration,
    },
}

impl Refused {
    /// The problem code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Auth(e) => e.code(),
            Self::Throttled { .. } => ErrorCode::RateLimited,
        }
    }

    /// For `Retry-After`, in whole seconds.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::Auth(e) => e.retry_after(),
            Self::Throttled { wait } => Some(whole_seconds(*wait)),
        }
    }
}

/// [`crate::caller::authenticate`], with failures counted and throttled per client address.
pub async fn authenticate(
    gate: &Gate,
    limits: &Limits,
    access: Access,
    headers: &HeaderMap,
    ip: IpAddr,
    deadline: Instant,
) -> Result<Caller, Refused> {
    let checks_token = matches!(access, Access::Jwt | Access::Chayns);
    let blocked = checks_token
        .then(|| limits.auth_failures.blocked(ip))
        .flatten();
    if let Some(wait) = blocked {
        // Only what is expensive is withheld: a check that would be sent to chayns.
        let cached = gate.chayns.as_ref().is_some_and(|chayns| {
            crate::caller::bearer(headers).is_ok_and(|token| chayns.is_cached(token))
        });
        if access == Access::Chayns && !cached {
            return Err(Refused::Throttled { wait });
        }
    }
    match check(
        access,
        headers,
        ip,
        gate.jwt.as_ref(),
        gate.chayns.as_ref(),
        deadline,
    )
    .await
    {
        Ok(caller) => Ok(caller),
        Err(e)
            if checks_token
                && matches!(e.code(), ErrorCode::Unauthenticated | ErrorCode::Forbidden) =>
        {
            // An address over its budget is told so again, and not charged further.
            if let Some(wait) = blocked {
                return Err(Refused::Throttled { wait });
            }
            // Both limits are charged; the longer wait is the one to tell.
            let general = limits.limiter.check(&format!("ip:{ip}")).await.err();
            match general
                .into_iter()
                .chain(limits.auth_failures.failed(ip))
                .max()
            {
                Some(wait) => Err(Refused::Throttled { wait }),
                None => Err(e.into()),
            }
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_beyond_the_burst_block_the_address() {
        let f = AuthFailures::new(RateLimitConfig {
            auth_failures_per_minute: 6,
            auth_failures_burst: 2,
            ..RateLimitConfig::default()
        });
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert_eq!(f.blocked(a), None);
        assert_eq!(f.failed(a), None);
        assert_eq!(f.failed(a), None);
        let wait = f.failed(a).unwrap();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(10),
            "{wait:?}"
        );
        assert!(f.blocked(a).is_some());
        assert_eq!(f.blocked(b), None, "another address has its own budget");
    }
}
