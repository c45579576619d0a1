//! The in-memory store (`store = "memory"`): one relay instance, and **not restart-safe** — a
//! restart forgets every key, so a retry after it sends again. For tests and throwaway setups;
//! the relay warns at startup. Records the bounds may drop (final answers, tries that may start
//! over) live in a bounded cache with a time to live, evicting the least used first, so a flood
//! of unique keys cannot grow memory without bound. Records whose loss would let a key send
//! again (in flight, `outcome_unknown`, a half-done multi-call operation) live in a map that
//! no size bound touches, only their retention: under a flood of unique keys an evicted unknown
//! record would turn back into "unused" and send a second time (DESIGN.md, "Reliability
//! rules").

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;

use super::{Store, StoreError};
use crate::idempotency::{
    decide, now_ms, settled, Begin, Fingerprint, Hold, Record, Settle, State,
};

/// Settles between two sweeps of expired records from the kept map.
const SWEEP_EVERY: u64 = 1024;

/// A record kept whatever the bounds, and when its retention ends (Unix ms).
struct Kept {
    record: Record,
    expires_ms: u64,
}

/// In-memory idempotency records.
pub struct MemoryStore {
    /// In flight, unknown or half done: never evicted, dropped only after `retention`.
    kept: Mutex<HashMap<String, Kept>>,
    /// Final answers and plain retries: bounded.
    settled: moka::sync::Cache<String, Record>,
    retention: Duration,
    settles: AtomicU64,
}

/// Whether the bounds may drop `record` (as the embedded store's `EVICTABLE`): a final answer,
/// or a try that may start over from the beginning.
fn evictable(record: &Record) -> bool {
    match record.state {
        State::Final(_) => true,
        State::Retryable => record.progress.is_none(),
        State::InFlight | State::Unknown => false,
    }
}

impl MemoryStore {
    /// A store keeping at most `max_entries` settled records for `retention`.
    pub fn new(max_entries: u64, retention: Duration) -> Self {
        Self {
            kept: Mutex::new(HashMap::new()),
            settled: moka::sync::Cache::builder()
                .max_capacity(max_entries.max(1))
                .time_to_live(retention)
                .build(),
            retention,
            settles: AtomicU64::new(0),
        }
    }

    /// Settled records currently kept (approximate; for tests and metrics).
    pub fn len(&self) -> u64 {
        self.settled.run_pending_tasks();
        self.settled.entry_count()
    }

    /// Whether no settled record is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn kept(&self) -> std::sync::MutexGuard<'_, HashMap<String, Kept>> {
        // A poisoned lock only means another request panicked mid-update of a plain map.
        self.kept.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// When a record written now expires.
    fn expiry(&self, now: u64) -> u64 {
        now.saturating_add(self.retention.as_millis() as u64)
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn begin(
        &self,
        key: &str,
        fingerprint: Fingerprint,
        hold: Duration,
    ) -> Result<Begin, StoreError> {
        let now = now_ms();
        let mut kept = self.kept();
        let existing = match kept.get(key) {
            Some(k) if k.expires_ms >= now => Some(k.record.clone()),
            _ => self.settled.get(key),
        };
        let (begin, write) = decide(existing.as_ref(), fingerprint, now, hold);
        if let Some(record) = write {
            // Held now: out of the bounded cache, so no flood can drop it.
            self.settled.invalidate(key);
            let expires_ms = self.expiry(now);
            kept.insert(key.to_owned(), Kept { record, expires_ms });
        }
        Ok(begin)
    }

    async fn progress(&self, key: &str, hold: Hold, progress: Bytes) -> Result<bool, StoreError> {
        Ok(match self.kept().get_mut(key) {
            Some(flight)
                if flight.record.state == State::InFlight && flight.record.until_ms == hold.0 =>
            {
                flight.record.progress = Some(progress);
                true
            }
            _ => false,
        })
    }

    async fn settle(
        &self,
        key: &str,
        fingerprint: Fingerprint,
        hold: Hold,
        settle: Settle,
    ) -> Result<bool, StoreError> {
        let now = now_ms();
        let mut kept = self.kept();
        let held = kept.get(key).map(|k| &k.record);
        let Some(record) = settled(held, fingerprint, hold, settle, now) else {
            return Ok(false);
        };
        if evictable(&record) {
            kept.remove(key);
            self.settled.insert(key.to_owned(), record);
        } else {
            let expires_ms = self.expiry(now);
            kept.insert(key.to_owned(), Kept { record, expires_ms });
        }
        if self.settles.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            // Retention is the only end of a kept record.
            kept.retain(|_, k| k.expires_ms >= now);
        }
        Ok(true)
    }

    fn durable(&self) -> bool {
        false
    }

    fn describe(&self) -> String {
        "memory (not restart-safe: a restart forgets every key)".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idempotency::StoredResponse;
    use crate::store::held;
    use std::sync::Arc;

    const HOLD: Duration = Duration::from_secs(30);

    fn response(body: &'static str) -> StoredResponse {
        StoredResponse::restored(200, false, Bytes::from_static(body.as_bytes()))
    }

    #[tokio::test]
    async fn replay_mismatch_in_flight_and_retry() {
        let s = MemoryStore::new(100, Duration::from_secs(60));
        let a = Fingerprint::of("op", b"a");
        let b = Fingerprint::of("op", b"b");
        let (begin, h) = held(&s, "k", a, HOLD).await;
        assert!(matches!(begin, Begin::Proceed { progress: None, .. }));
        assert_eq!(s.begin("k", a, HOLD).await.unwrap(), Begin::InFlight);
        assert!(s
            .settle("k", a, h, Settle::Final(response("{}")))
            .await
            .unwrap());
        assert_eq!(
            s.begin("k", a, HOLD).await.unwrap(),
            Begin::Replay(Arc::new(response("{}")))
        );
        assert_eq!(s.begin("k", b, HOLD).await.unwrap(), Begin::Mismatch);

        let (_, h) = held(&s, "r", a, HOLD).await;
        assert!(s
            .progress("r", h, Bytes::from_static(b"step1"))
            .await
            .unwrap());
        s.settle("r", a, h, Settle::Retry(None)).await.unwrap();
        assert_eq!(s.begin("r", b, HOLD).await.unwrap(), Begin::Mismatch);
        let (begin, _) = held(&s, "r", a, HOLD).await;
        assert!(matches!(begin, Begin::Proceed { progress: Some(p), .. } if &p[..] == b"step1"));
    }

    #[tokio::test]
    async fn unknown_stays_unknown_and_an_expired_flight_becomes_unknown() {
        let s = MemoryStore::new(100, Duration::from_secs(60));
        let a = Fingerprint::of("op", b"a");
        let (_, h) = held(&s, "u", a, HOLD).await;
        let unknown = Settle::Unknown {
            progress: None,
            sent: true,
        };
        s.settle("u", a, h, unknown.clone()).await.unwrap();
        let (begin, h) = held(&s, "u", a, HOLD).await;
        assert!(matches!(begin, Begin::Unknown { .. }));
        s.settle("u", a, h, unknown).await.unwrap();
        assert!(matches!(
            s.begin("u", a, HOLD).await.unwrap(),
            Begin::Unknown { .. }
        ));

        let (_, expired) = held(&s, "x", a, Duration::ZERO).await;
        let (begin, _) = held(&s, "x", a, HOLD).await;
        assert!(matches!(begin, Begin::Unknown { .. }));
        // The expired hold can neither store progress nor settle over the new one.
        assert!(!s
            .progress("x", expired, Bytes::from_static(b"p"))
            .await
            .unwrap());
        assert!(!s
            .settle("x", a, expired, Settle::Retry(None))
            .await
            .unwrap());
        assert_eq!(s.begin("x", a, HOLD).await.unwrap(), Begin::InFlight);
    }

    #[tokio::test]
    async fn memory_is_bounded_under_a_flood_of_unique_keys() {
        let s = MemoryStore::new(1000, Duration::from_secs(60));
        let fp = Fingerprint::of("op", b"x");
        for i in 0..20_000 {
            let key = format!("key-{i}");
            let (_, h) = held(&s, &key, fp, HOLD).await;
            s.settle(&key, fp, h, Settle::Final(response("{}")))
                .await
                .unwrap();
        }
        assert!(s.len() <= 1000, "{} outcomes kept", s.len());
        assert!(s.kept().is_empty());
    }
}
