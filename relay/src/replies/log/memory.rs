//! Reply streams in memory (`store = "memory"`, and the sandbox): one relay, lost on restart.
//! Everything sits behind one lock: webhooks are a person's typing pace, not a hot path.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;

use async_trait::async_trait;
use hail::inbound::Delivery;

use super::{
    numbered_json, sent_key, Appended, Appending, Bounds, Numbered, ReplyLog, StreamRecord,
};
use crate::idempotency::now_ms;
use crate::store::StoreError;

#[derive(Default)]
struct Inner {
    streams: HashMap<String, StreamRecord>,
    /// (vendor, conversation) → streams bound to it.
    bound: HashMap<(String, String), Vec<String>>,
    /// Stream → (last seq, events with the time they were stored).
    events: HashMap<String, (u64, VecDeque<(u64, Numbered)>)>,
    /// Seen deliveries and sent ids, with when they were noted (for retention).
    seen: HashMap<String, u64>,
    sent: HashMap<String, u64>,
    /// Noted keys in time order, to drop expired ones without a scan.
    order: BTreeMap<u64, Vec<(bool, String)>>,
}

/// Reply streams in memory.
pub struct MemoryLog {
    inner: Mutex<Inner>,
    bounds: Bounds,
}

impl MemoryLog {
    /// An empty log.
    pub fn new(bounds: Bounds) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            bounds,
        }
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Inner>, StoreError> {
        self.inner
            .lock()
            .map_err(|_| StoreError("reply log: poisoned lock".into()))
    }
}

impl Inner {
    fn note(&mut self, seen: bool, key: String, now: u64) {
        let map = if seen { &mut self.seen } else { &mut self.sent };
        map.insert(key.clone(), now);
        self.order.entry(now).or_default().push((seen, key));
    }

    /// Drops what is past its retention.
    fn expire(&mut self, now: u64, bounds: Bounds) {
        let cutoff = now.saturating_sub(bounds.retention_ms);
        let old: Vec<u64> = self.order.range(..cutoff).map(|(t, _)| *t).collect();
        for t in old {
            for (seen, key) in self.order.remove(&t).unwrap_or_default() {
                let map = if seen { &mut self.seen } else { &mut self.sent };
                if map.get(&key).is_some_and(|at| *at < cutoff) {
                    map.remove(&key);
                }
            }
        }
        for (_, events) in self.events.values_mut() {
            while events.front().is_some_and(|(at, _)| *at < cutoff) {
                events.pop_front();
            }
        }
        let dead: Vec<String> = self
            .streams
            .values()
            .filter(|s| s.expires_ms.saturating_add(bounds.retention_ms) < now)
            .map(|s| s.id.clone())
            .collect();
        for id in dead {
            self.drop_stream(&id);
        }
    }

    fn drop_stream(&mut self, id: &str) {
        if let Some(s) = self.streams.remove(id) {
            let key = (s.vendor, s.conversation);
            if let Some(list) = self.bound.get_mut(&key) {
                list.retain(|x| x != id);
                if list.is_empty() {
                    self.bound.remove(&key);
                }
            }
        }
        self.events.remove(id);
    }
}

#[async_trait]
impl ReplyLog for MemoryLog {
    async fn bind(&self, stream: StreamRecord) -> Result<(), StoreError> {
        let mut inner = self.lock()?;
        inner.expire(now_ms(), self.bounds);
        inner
            .bound
            .entry((stream.vendor.clone(), stream.conversation.clone()))
            .or_default()
            .push(stream.id.clone());
        inner.streams.insert(stream.id.clone(), stream);
        Ok(())
    }

    async fn stream(&self, id: &str) -> Result<Option<StreamRecord>, StoreError> {
        Ok(self.lock()?.streams.get(id).cloned())
    }

    async fn revoke(&self, id: &str) -> Result<(), StoreError> {
        self.lock()?.drop_stream(id);
        Ok(())
    }

    async fn note_sent(&self, vendor: &str, ids: &[String]) -> Result<(), StoreError> {
        let mut inner = self.lock()?;
        let now = now_ms();
        for id in ids {
            inner.note(false, sent_key(vendor, id), now);
        }
        Ok(())
    }

    async fn append(&self, vendor: &str, delivery: &Delivery) -> Result<Appended, StoreError> {
        let mut inner = self.lock()?;
        let now = now_ms();
        inner.expire(now, self.bounds);
        let seen = inner.seen.contains_key(&delivery.dedup_key);
        let echo = delivery.event.as_ref().is_some_and(|e| {
            inner
                .sent
                .contains_key(&sent_key(vendor, &e.vendor_message_id))
        });
        let event = match Appending::classify(delivery, seen, echo) {
            Ok(event) => event,
            Err(answer) => {
                if answer != Appended::Duplicate {
                    inner.note(true, delivery.dedup_key.clone(), now);
                }
                return Ok(answer);
            }
        };
        inner.note(true, delivery.dedup_key.clone(), now);
        let key = (vendor.to_owned(), delivery.conversation.clone());
        let streams: Vec<String> = inner.bound.get(&key).cloned().unwrap_or_default();
        let mut out = Vec::new();
        for id in streams {
            let (last, events) = inner.events.entry(id.clone()).or_default();
            *last += 1;
            let seq = *last;
            events.push_back((
                now,
                Numbered {
                    seq,
                    json: numbered_json(seq, event),
                },
            ));
            while events.len() as u64 > self.bounds.max_events_per_stream.max(1) {
                events.pop_front();
            }
            out.push((id, seq));
        }
        Ok(if out.is_empty() {
            Appended::Unbound
        } else {
            Appended::Streamed(out)
        })
    }

    async fn read(&self, id: &str, after: u64, limit: usize) -> Result<Vec<Numbered>, StoreError> {
        let inner = self.lock()?;
        Ok(inner
            .events
            .get(id)
            .map(|(_, events)| {
                events
                    .iter()
                    .filter(|(_, n)| n.seq > after)
                    .take(limit)
                    .map(|(_, n)| n.clone())
                    .collect()
            })
            .unwrap_or_default())
    }
}
