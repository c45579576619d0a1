//! Idempotency (DESIGN.md, "Reliability rules"): the outcome of every sending call is stored per
//! (caller, operation, key) with a fingerprint of the validated body. The same key and body
//! replay the outcome; another body is `idempotency_key_reused`; a call still running is
//! `idempotency_in_flight`. A failure where the vendor provably did not act is not final: the
//! same key may try again, resuming multi-call operations after their last successful call.

mod memory;

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use sha2::{Digest, Sha256};

pub use memory::MemoryStore;

/// A stored answer, replayed byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// HTTP status.
    pub status: u16,
    /// `application/json` or `application/problem+json`.
    pub content_type: &'static str,
    /// The body.
    pub body: Bytes,
    /// `Retry-After` seconds (never stored: refusals before the store).
    pub retry_after: Option<u64>,
    /// Whether this answer is a replay (set when replaying).
    pub replayed: bool,
}

/// SHA-256 of the operation id and the validated request's canonical JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// The fingerprint of `operation` with `canonical_body`.
    pub fn of(operation: &str, canonical_body: &[u8]) -> Self {
        let mut h = Sha256::new();
        h.update(operation.as_bytes());
        h.update([0]);
        h.update(canonical_body);
        Self(h.finalize().into())
    }
}

/// What [`Store::begin`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    /// Go ahead (now marked in flight), resuming from `progress` if a try before left some.
    Proceed {
        /// The stored progress of an earlier try (multi-call operations).
        progress: Option<Bytes>,
    },
    /// The same key is being processed right now.
    InFlight,
    /// The outcome of an earlier call with the same key and body.
    Replay(Arc<StoredResponse>),
    /// The key was used with another body.
    Mismatch,
}

/// The store failed (e.g. Redis unreachable): sending must fail closed.
#[derive(Debug, Clone)]
pub struct StoreError(pub String);

/// Where idempotency records live.
#[async_trait]
pub trait Store: Send + Sync {
    /// Marks `key` in flight unless it is known; see [`Begin`].
    async fn begin(&self, key: &str, fingerprint: Fingerprint) -> Result<Begin, StoreError>;
    /// Saves the progress of a multi-call operation after a successful call.
    async fn progress(&self, key: &str, progress: Bytes) -> Result<(), StoreError>;
    /// Stores the final outcome; later calls replay it.
    async fn finish(
        &self,
        key: &str,
        fingerprint: Fingerprint,
        response: StoredResponse,
    ) -> Result<(), StoreError>;
    /// Ends the flight without a final outcome (the vendor provably did not act): the same key
    /// and body may try again, from `progress`.
    async fn release(
        &self,
        key: &str,
        fingerprint: Fingerprint,
        progress: Option<Bytes>,
    ) -> Result<(), StoreError>;
    /// A health description for `/healthz`.
    async fn health(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// The store key of (caller, operation, idempotency key): unambiguous since the parts are
/// length-prefixed.
pub fn scope(caller: &str, operation: &str, key: &str) -> String {
    format!(
        "{}:{caller}|{}:{operation}|{key}",
        caller.len(),
        operation.len()
    )
}
