//! Requests per caller: a keyed token bucket (governor). Idle callers' buckets are dropped by
//! a periodic sweep, so memory follows the callers active in the last minutes.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::RateLimitConfig;

/// The limiter; `None` inside when the limit is off.
pub struct Limiter(Option<DefaultKeyedRateLimiter<String>>);

impl Limiter {
    /// From config (`per_minute = 0` turns it off).
    pub fn new(config: RateLimitConfig) -> Self {
        let Some(per_minute) = NonZeroU32::new(config.per_minute) else {
            return Self(None);
        };
        let burst = NonZeroU32::new(config.burst).unwrap_or(NonZeroU32::MIN);
        Self(Some(RateLimiter::keyed(
            Quota::per_minute(per_minute).allow_burst(burst),
        )))
    }

    /// `Ok` if `caller` may make a request now, else how long to wait.
    pub fn check(&self, caller: &str) -> Result<(), Duration> {
        let Some(limiter) = &self.0 else {
            return Ok(());
        };
        limiter
            .check_key(&caller.to_owned())
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// Drops the buckets of callers that are full again (idle).
    pub fn sweep(&self) {
        if let Some(limiter) = &self.0 {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_caller() {
        let l = Limiter::new(RateLimitConfig {
            per_minute: 60,
            burst: 2,
        });
        assert!(l.check("a").is_ok());
        assert!(l.check("a").is_ok());
        let wait = l.check("a").unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        assert!(l.check("b").is_ok(), "another caller has its own bucket");
        assert!(Limiter::new(RateLimitConfig {
            per_minute: 0,
            burst: 0
        })
        .check("a")
        .is_ok());
    }
}
