//! A request's idempotency lease: its key in the store, the fingerprint of its body and its hold
//! on the key. Progress and the outcome are written only through it, so nothing is written for
//! a key this request does not hold.

use std::time::Duration;

use axum::body::Bytes;

use crate::idempotency::{now_ms, Fingerprint, Hold, Settle};
use crate::store::{Store, StoreError};

/// How often storing an outcome is tried before giving up (the record then stays in flight and
/// later reads as `outcome_unknown`).
const SETTLE_ATTEMPTS: u32 = 3;

/// A held key (see [`crate::store::Store::begin`]).
pub(super) struct Lease {
    key: String,
    fingerprint: Fingerprint,
    hold: Hold,
}

/// Why progress was not stored: either way, no further vendor call may be made.
pub(super) enum NotSaved {
    /// The hold ended (and another request may hold the key now).
    HoldEnded,
    /// The store failed.
    Store(StoreError),
}

impl Lease {
    pub fn new(key: String, fingerprint: Fingerprint, hold: Hold) -> Self {
        Self {
            key,
            fingerprint,
            hold,
        }
    }

    /// Stores a multi-call operation's progress before its next call.
    pub async fn save_progress(&self, store: &dyn Store, progress: Bytes) -> Result<(), NotSaved> {
        match store.progress(&self.key, self.hold, progress).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(NotSaved::HoldEnded),
            Err(e) => Err(NotSaved::Store(e)),
        }
    }

    /// Stores the outcome, trying again while the hold lasts. Given up, the record stays in
    /// flight: past its hold it answers `outcome_unknown`, so this key can never send twice.
    pub async fn settle(self, store: &dyn Store, settle: Settle) {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match store
                .settle(&self.key, self.fingerprint, self.hold, settle.clone())
                .await
            {
                Ok(true) => return,
                Ok(false) => {
                    tracing::error!(
                        "the key's hold ended before the outcome was stored; it was not stored"
                    );
                    return;
                }
                // Retried only while the hold lasts: past it, another request may hold the key.
                Err(e) if attempt < SETTLE_ATTEMPTS && now_ms() + 500 < self.hold.0 => {
                    tracing::warn!(error = %e, attempt, "storing the outcome failed; trying again");
                    tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
                }
                Err(e) => {
                    tracing::error!(error = %e, "the outcome could not be stored; the key will read as outcome_unknown");
                    return;
                }
            }
        }
    }
}
