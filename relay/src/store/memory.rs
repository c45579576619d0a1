//! The in-memory store (`store = "memory"`): one relay instance, and **not restart-safe** — a
//! restart forgets every key, so a retry after it sends again. For tests and throwaway setups;
//! the relay warns at startup. In-flight records live in a map bounded by the requests running;
//! settled records live in a bounded cache with a time to live, evicting the least used first,
//! so a flood of unique keys cannot grow memory without bound.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;

use super::{Store, StoreError};
use crate::idempotency::{decide, now_ms, settled, Begin, Fingerprint, Hold, Record, Settle};

/// In-memory idempotency records.
pub struct MemoryStore {
    in_flight: Mutex<HashMap<String, Record>>,
    settled: moka::sync::Cache<String, Record>,
}

impl MemoryStore {
    /// A store keeping at most `max_entries` settled records for `retention`.
    pub fn new(max_entries: u64, retention: Duration) -> Self {
        Self {
            in_flight: Mutex::new(HashMap::new()),
            settled: moka::sync::Cache::builder()
                .max_capacity(max_entries.max(1))
                .time_to_live(retention)
                .build(),
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

    fn flights(&self) -> std::sync::MutexGuard<'_, HashMap<String, Record>> {
        // A poisoned lock only means another request panicked mid-update of a plain map.
        self.in_flight.lock().unwrap_or_else(|p| p.into_inner())
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
        let mut flights = self.flights();
        let existing = flights.get(key).cloned().or_else(|| self.settled.get(key));
        let (begin, write) = decide(existing.as_ref(), fingerprint, now_ms(), hold);
        if let Some(record) = write {
            flights.insert(key.to_owned(), record);
        }
        Ok(begin)
    }

    async fn progress(&self, key: &str, hold: Hold, progress: Bytes) -> Result<bool, StoreError> {
        Ok(match self.flights().get_mut(key) {
            Some(flight) if flight.until_ms == hold.0 => {
                flight.progress = Some(progress);
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
        let mut flights = self.flights();
        let Some(record) = settled(flights.get(key), fingerprint, hold, settle, now_ms()) else {
            return Ok(false);
        };
        flights.remove(key);
        self.settled.insert(key.to_owned(), record);
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
        assert!(s.flights().is_empty());
    }
}
