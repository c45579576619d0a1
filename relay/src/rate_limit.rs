//! Requests per caller: a keyed token bucket (GCRA). In memory (governor) for one instance,
//! where idle callers' buckets are dropped by a periodic sweep; in Redis when several instances
//! share the limit.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::RateLimitConfig;
use crate::store::RedisStore;

/// The limiter.
pub enum Limiter {
    /// No limit (`per_minute = 0`).
    Off,
    /// In this process.
    Memory(DefaultKeyedRateLimiter<String>),
    /// Shared through Redis.
    Redis {
        /// The store.
        store: Arc<RedisStore>,
        /// Time between two requests at the sustained rate.
        interval: Duration,
        /// Requests allowed at once.
        burst: u32,
    },
}

impl Limiter {
    /// From config, in memory (`per_minute = 0` turns it off).
    pub fn new(config: RateLimitConfig) -> Self {
        let Some(per_minute) = NonZeroU32::new(config.per_minute) else {
            return Self::Off;
        };
        let burst = NonZeroU32::new(config.burst).unwrap_or(NonZeroU32::MIN);
        Self::Memory(RateLimiter::keyed(
            Quota::per_minute(per_minute).allow_burst(burst),
        ))
    }

    /// From config, shared through `store`.
    pub fn redis(config: RateLimitConfig, store: Arc<RedisStore>) -> Self {
        if config.per_minute == 0 {
            return Self::Off;
        }
        Self::Redis {
            store,
            interval: Duration::from_secs(60) / config.per_minute,
            burst: config.burst.max(1),
        }
    }

    /// `Ok` if `caller` may make a request now, else how long to wait. If Redis cannot be
    /// reached the request is let through (and logged): idempotency, not the rate limit, is
    /// what must fail closed.
    pub async fn check(&self, caller: &str) -> Result<(), Duration> {
        match self {
            Self::Off => Ok(()),
            Self::Memory(limiter) => limiter
                .check_key(&caller.to_owned())
                .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now())),
            Self::Redis {
                store,
                interval,
                burst,
            } => match store.rate_limit(caller, *interval, *burst).await {
                Ok(verdict) => verdict,
                Err(e) => {
                    tracing::warn!(error = %e, "rate limit store unavailable; request let through");
                    Ok(())
                }
            },
        }
    }

    /// Drops the in-memory buckets of callers that are full again (idle).
    pub fn sweep(&self) {
        if let Self::Memory(limiter) = self {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn limits_per_caller() {
        let l = Limiter::new(RateLimitConfig {
            per_minute: 60,
            burst: 2,
            ..RateLimitConfig::default()
        });
        assert!(l.check("a").await.is_ok());
        assert!(l.check("a").await.is_ok());
        let wait = l.check("a").await.unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        assert!(
            l.check("b").await.is_ok(),
            "another caller has its own bucket"
        );
        let off = Limiter::new(RateLimitConfig {
            per_minute: 0,
            burst: 0,
            ..RateLimitConfig::default()
        });
        assert!(off.check("a").await.is_ok());
    }
}
