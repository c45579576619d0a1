//! Where reply streams and their events live: the bindings (stream → vendor conversation, the
//! token's hash, its expiry), each stream's numbered events, the deliveries already seen (so a
//! redelivery adds nothing) and the ids of messages Hail sent (so their echoes are no replies).
//! In memory, in an SQLite file beside the embedded store, or in Redis (Streams), after the
//! relay's `store` setting. Every backend applies [`Appending`]'s rules; none decides itself.

pub mod embedded;
pub mod memory;
pub mod redis;

use async_trait::async_trait;
use hail::inbound::{Delivery, ReplyEvent};

use crate::store::StoreError;

/// One reply stream: what a token opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamRecord {
    /// The stream's id (random, in its URL).
    pub id: String,
    /// The vendor (`livedesk`).
    pub vendor: String,
    /// The vendor's conversation id.
    pub conversation: String,
    /// SHA-256 of the stream's token: the token itself is never stored.
    pub token_hash: [u8; 32],
    /// When the token stops working, Unix ms.
    pub expires_ms: u64,
}

/// What storing one delivery did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Appended {
    /// Seen before (a redelivery): nothing stored.
    Duplicate,
    /// Nothing for a page (a private note, an activity, the visitor's own words).
    Hidden,
    /// An echo of a message Hail sent.
    Echo,
    /// No stream is bound to the conversation: kept out of every stream.
    Unbound,
    /// Put on these streams, with these numbers.
    Streamed(Vec<(String, u64)>),
}

impl Appended {
    /// The metrics label.
    pub fn outcome(&self) -> &'static str {
        match self {
            Self::Duplicate => "duplicate",
            Self::Hidden => "hidden",
            Self::Echo => "echo",
            Self::Unbound => "unbound",
            Self::Streamed(_) => "streamed",
        }
    }
}

/// One event as a stream holds it: numbered, and as JSON (what the page gets, byte for byte).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Numbered {
    /// Its number in its stream, from 1.
    pub seq: u64,
    /// `{"seq", "kind", "author", "text", "at", "vendorMessageId"}`.
    pub json: String,
}

/// The JSON of event `event` numbered `seq`: `{"seq":N,` and the event's own fields (as the
/// Redis log's script writes it too).
pub fn numbered_json(seq: u64, event: &ReplyEvent) -> String {
    // A struct of strings and enums always encodes, as an object.
    let json = serde_json::to_string(event).unwrap_or_default();
    format!("{{\"seq\":{seq},{}", json.get(1..).unwrap_or("}"))
}

/// Bounds of a log.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// How long events, seen deliveries and sent ids are kept, ms.
    pub retention_ms: u64,
    /// Most events kept per stream (the oldest go first).
    pub max_events_per_stream: u64,
}

/// Where reply streams live.
#[async_trait]
pub trait ReplyLog: Send + Sync {
    /// Binds a new stream.
    async fn bind(&self, stream: StreamRecord) -> Result<(), StoreError>;
    /// The stream `id`, if bound and not revoked.
    async fn stream(&self, id: &str) -> Result<Option<StreamRecord>, StoreError>;
    /// Revokes stream `id`: its token opens nothing from now on.
    async fn revoke(&self, id: &str) -> Result<(), StoreError>;
    /// Remembers that Hail sent messages `ids` at `vendor`.
    async fn note_sent(&self, vendor: &str, ids: &[String]) -> Result<(), StoreError>;
    /// Stores one delivery of `vendor` by the rules of [`Appending`], atomically.
    async fn append(&self, vendor: &str, delivery: &Delivery) -> Result<Appended, StoreError>;
    /// Events of stream `id` numbered above `after`, at most `limit`, in order.
    async fn read(&self, id: &str, after: u64, limit: usize) -> Result<Vec<Numbered>, StoreError>;
    /// Whether another relay may append to this log (then streams also poll it).
    fn shared(&self) -> bool {
        false
    }
}

/// The rules of storing a delivery, the same in every backend: a seen delivery adds nothing; an
/// event no page may see, or an echo of Hail's own send, is not streamed; an event reaches every
/// live stream bound to its conversation, each numbering it next.
pub struct Appending;

impl Appending {
    /// What a delivery is before any stream is touched: `Err` with the answer when it goes to
    /// no stream, `Ok` with the event when it does.
    pub fn classify(delivery: &Delivery, seen: bool, echo: bool) -> Result<&ReplyEvent, Appended> {
        if seen {
            return Err(Appended::Duplicate);
        }
        let Some(event) = &delivery.event else {
            return Err(Appended::Hidden);
        };
        if echo {
            return Err(Appended::Echo);
        }
        Ok(event)
    }
}

/// The key of a sent message id.
pub fn sent_key(vendor: &str, id: &str) -> String {
    format!("{vendor}:{id}")
}

#[cfg(test)]
mod tests;
