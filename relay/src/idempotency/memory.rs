//! The in-memory store (one relay instance). In-flight marks live in a map bounded by the
//! requests running; outcomes live in a bounded cache with a time to live, evicting the least
//! used first, so a flood of unique keys cannot grow memory without bound.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;

use super::{Begin, Fingerprint, Store, StoreError, StoredResponse};

#[derive(Clone)]
enum Outcome {
    Final(Fingerprint, Arc<StoredResponse>),
    Retryable(Fingerprint, Option<Bytes>),
}

struct Flight {
    fingerprint: Fingerprint,
    progress: Option<Bytes>,
}

/// In-memory idempotency records.
pub struct MemoryStore {
    in_flight: Mutex<HashMap<String, Flight>>,
    outcomes: moka::sync::Cache<String, Outcome>,
}

impl MemoryStore {
    /// A store keeping at most `max_entries` outcomes for `retention`.
    pub fn new(max_entries: u64, retention: Duration) -> Self {
        Self {
            in_flight: Mutex::new(HashMap::new()),
            outcomes: moka::sync::Cache::builder()
                .max_capacity(max_entries.max(1))
                .time_to_live(retention)
                .build(),
        }
    }

    /// Outcomes currently kept (approximate; for tests and metrics).
    pub fn len(&self) -> u64 {
        self.outcomes.run_pending_tasks();
        self.outcomes.entry_count()
    }

    /// Whether no outcome is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn flights(&self) -> std::sync::MutexGuard<'_, HashMap<String, Flight>> {
        // A poisoned lock only means another request panicked mid-update of a plain map.
        self.in_flight.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn begin(&self, key: &str, fingerprint: Fingerprint) -> Result<Begin, StoreError> {
        let mut flights = self.flights();
        if flights.contains_key(key) {
            return Ok(Begin::InFlight);
        }
        let progress = match self.outcomes.get(key) {
            Some(Outcome::Final(fp, response)) => {
                return Ok(if fp == fingerprint {
                    Begin::Replay(response)
                } else {
                    Begin::Mismatch
                });
            }
            Some(Outcome::Retryable(fp, _)) if fp != fingerprint => return Ok(Begin::Mismatch),
            Some(Outcome::Retryable(_, progress)) => progress,
            None => None,
        };
        flights.insert(
            key.to_owned(),
            Flight {
                fingerprint,
                progress: progress.clone(),
            },
        );
        Ok(Begin::Proceed { progress })
    }

    async fn progress(&self, key: &str, progress: Bytes) -> Result<(), StoreError> {
        if let Some(flight) = self.flights().get_mut(key) {
            flight.progress = Some(progress);
        }
        Ok(())
    }

    async fn finish(
        &self,
        key: &str,
        fingerprint: Fingerprint,
        response: StoredResponse,
    ) -> Result<(), StoreError> {
        let mut flights = self.flights();
        self.outcomes.insert(
            key.to_owned(),
            Outcome::Final(fingerprint, Arc::new(response)),
        );
        flights.remove(key);
        Ok(())
    }

    async fn release(
        &self,
        key: &str,
        fingerprint: Fingerprint,
        progress: Option<Bytes>,
    ) -> Result<(), StoreError> {
        let mut flights = self.flights();
        let progress = progress.or_else(|| flights.get(key).and_then(|f| f.progress.clone()));
        debug_assert!(flights
            .get(key)
            .is_none_or(|f| f.fingerprint == fingerprint));
        self.outcomes
            .insert(key.to_owned(), Outcome::Retryable(fingerprint, progress));
        flights.remove(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(body: &'static str) -> StoredResponse {
        StoredResponse {
            status: 200,
            content_type: "application/json",
            body: Bytes::from_static(body.as_bytes()),
            retry_after: None,
            replayed: false,
        }
    }

    #[tokio::test]
    async fn replay_mismatch_in_flight_and_retry() {
        let s = MemoryStore::new(100, Duration::from_secs(60));
        let a = Fingerprint::of("op", b"a");
        let b = Fingerprint::of("op", b"b");
        assert_eq!(
            s.begin("k", a).await.unwrap(),
            Begin::Proceed { progress: None }
        );
        assert_eq!(s.begin("k", a).await.unwrap(), Begin::InFlight);
        s.finish("k", a, response("{}")).await.unwrap();
        assert_eq!(
            s.begin("k", a).await.unwrap(),
            Begin::Replay(Arc::new(response("{}")))
        );
        assert_eq!(s.begin("k", b).await.unwrap(), Begin::Mismatch);

        assert_eq!(
            s.begin("r", a).await.unwrap(),
            Begin::Proceed { progress: None }
        );
        s.progress("r", Bytes::from_static(b"step1")).await.unwrap();
        s.release("r", a, None).await.unwrap();
        assert_eq!(s.begin("r", b).await.unwrap(), Begin::Mismatch);
        assert_eq!(
            s.begin("r", a).await.unwrap(),
            Begin::Proceed {
                progress: Some(Bytes::from_static(b"step1"))
            }
        );
    }

    #[tokio::test]
    async fn memory_is_bounded_under_a_flood_of_unique_keys() {
        let s = MemoryStore::new(1000, Duration::from_secs(60));
        let fp = Fingerprint::of("op", b"x");
        for i in 0..20_000 {
            let key = format!("key-{i}");
            s.begin(&key, fp).await.unwrap();
            s.finish(&key, fp, response("{}")).await.unwrap();
        }
        assert!(s.len() <= 1000, "{} outcomes kept", s.len());
        assert!(s.flights().is_empty());
    }
}
