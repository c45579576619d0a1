//! Where idempotency records live: in memory, in the embedded SQLite file (the default) or in
//! Redis (shared by several instances). Each backend keeps the records of
//! [`crate::idempotency`] and applies its one state machine; none decides anything itself.

pub mod embedded;
pub mod memory;
pub mod redis;

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;

use crate::idempotency::{Begin, Fingerprint, Hold, Settle};

pub use embedded::EmbeddedStore;
pub use memory::MemoryStore;
pub use redis::RedisStore;

/// The idempotency records and how a read-back at the vendor treats their times: one part of
/// the relay's state (see `state`).
pub struct Records {
    /// Where the records live.
    pub store: std::sync::Arc<dyn Store>,
    /// See `IdempotencyConfig::look_back_quiet_seconds`.
    pub look_back_quiet: Duration,
    /// See `IdempotencyConfig::look_back_skew_seconds`.
    pub look_back_skew: Duration,
}

/// The store failed (e.g. Redis unreachable): sending must fail closed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct StoreError(pub String);

/// Where idempotency records live.
#[async_trait]
pub trait Store: Send + Sync {
    /// Decides what a request with `key` may do (see [`Begin`]) and, where it may go on, marks
    /// the key in flight for `hold` (the request's own deadline plus a margin).
    async fn begin(
        &self,
        key: &str,
        fingerprint: Fingerprint,
        hold: Duration,
    ) -> Result<Begin, StoreError>;
    /// Saves the progress of a multi-call operation, while `hold` lasts. `Ok(false)`: the hold
    /// is gone (expired and taken over): the caller must not go on.
    async fn progress(&self, key: &str, hold: Hold, progress: Bytes) -> Result<bool, StoreError>;
    /// Ends the flight of `key`, if `hold` is still the record's. `Ok(false)`: it was not
    /// (expired and taken over), and nothing was written.
    async fn settle(
        &self,
        key: &str,
        fingerprint: Fingerprint,
        hold: Hold,
        settle: Settle,
    ) -> Result<bool, StoreError>;
    /// A health description for `/healthz`.
    async fn health(&self) -> Result<(), StoreError> {
        Ok(())
    }
    /// Whether records survive a restart of this process.
    fn durable(&self) -> bool;
    /// What and where the store is, for `--check-config` (no credentials).
    fn describe(&self) -> String;
}

/// Begins `key` on `store`, for tests that expect to get a hold.
#[cfg(test)]
pub(crate) async fn held(
    store: &impl Store,
    key: &str,
    fingerprint: Fingerprint,
    hold: Duration,
) -> (Begin, Hold) {
    let begin = store.begin(key, fingerprint, hold).await.unwrap(); // ok: test helper; an error fails the test
    let hold = begin.expect_hold();
    (begin, hold)
}
