//! Reply streams in Redis (`store = { redis = … }`), so that a page streaming from one relay
//! gets the events a webhook brought to another. Each stream's events are a Redis Stream whose
//! entry ids are `{seq}-0` (so `Last-Event-ID` maps onto `XRANGE`); appending is one Lua script
//! (seen? echo? bound streams, their next numbers, `XADD`), atomic across relays, and it
//! `PUBLISH`es the streams it touched, which every relay's subscriber hands to its open streams.

use std::sync::Arc;

use async_trait::async_trait;
use hail::inbound::Delivery;

use super::{sent_key, Appended, Bounds, Numbered, ReplyLog, StreamRecord};
use crate::store::{RedisStore, StoreError};

/// Key prefix of the replies' keys.
const PREFIX: &str = "hail:replies:";
/// The channel appends are announced on.
pub const CHANNEL: &str = "hail:replies:notify";

/// `ARGV`: seen key, sent key (or empty), bound key, the event's JSON after its `{` (empty when
/// no page may see it), retention ms, most events per stream, prefix, channel. Returns
/// `{"duplicate"}`, `{"hidden"}`, `{"echo"}`, `{"unbound"}` or `{"streamed", id, seq, …}`.
const APPEND: &str = r#"
if redis.call('EXISTS', ARGV[1]) == 1 then return {'duplicate'} end
redis.call('SET', ARGV[1], '1', 'PX', ARGV[5])
if ARGV[4] == '' then return {'hidden'} end
if ARGV[2] ~= '' and redis.call('EXISTS', ARGV[2]) == 1 then return {'echo'} end
local out = {'streamed'}
for _, id in ipairs(redis.call('SMEMBERS', ARGV[3])) do
  local skey = ARGV[7] .. 'stream:' .. id
  if redis.call('EXISTS', skey) == 1 then
    local seq = redis.call('HINCRBY', skey, 'last_seq', 1)
    local ekey = ARGV[7] .. 'events:' .. id
    redis.call('XADD', ekey, 'MAXLEN', ARGV[6], seq .. '-0', 'e', '{"seq":' .. seq .. ',' .. ARGV[4])
    redis.call('PEXPIRE', ekey, ARGV[5])
    redis.call('PUBLISH', ARGV[8], id)
    table.insert(out, id)
    table.insert(out, tostring(seq))
  else
    redis.call('SREM', ARGV[3], id)
  end
end
if #out == 1 then return {'unbound'} end
return out
"#;

/// Reply streams in Redis, over the idempotency store's connection.
pub struct RedisLog {
    store: Arc<RedisStore>,
    bounds: Bounds,
    append: redis::Script,
}

impl RedisLog {
    /// A log on `store`'s Redis.
    pub fn new(store: Arc<RedisStore>, bounds: Bounds) -> Self {
        Self {
            store,
            bounds,
            append: redis::Script::new(APPEND),
        }
    }

    /// The client, for the subscriber.
    pub fn client(&self) -> redis::Client {
        self.store.client().clone()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<[u8; 32]> {
    let bytes: Option<Vec<u8>> = (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect();
    bytes?.try_into().ok()
}

#[async_trait]
impl ReplyLog for RedisLog {
    async fn bind(&self, stream: StreamRecord) -> Result<(), StoreError> {
        let keep = stream
            .expires_ms
            .saturating_sub(crate::idempotency::now_ms())
            .saturating_add(self.bounds.retention_ms);
        self.store
            .run(|mut c| async move {
                let skey = format!("{PREFIX}stream:{}", stream.id);
                let bkey = format!("{PREFIX}bound:{}:{}", stream.vendor, stream.conversation);
                redis::pipe()
                    .atomic()
                    .hset_multiple(
                        &skey,
                        &[
                            ("vendor", stream.vendor.clone()),
                            ("conversation", stream.conversation.clone()),
                            ("token_hash", hex(&stream.token_hash)),
                            ("expires_ms", stream.expires_ms.to_string()),
                        ],
                    )
                    .pexpire(&skey, keep as i64)
                    .sadd(&bkey, &stream.id)
                    .pexpire(&bkey, keep as i64)
                    .query_async::<()>(&mut c)
                    .await
            })
            .await
    }

    async fn stream(&self, id: &str) -> Result<Option<StreamRecord>, StoreError> {
        let id = id.to_owned();
        let fields: std::collections::HashMap<String, String> = self
            .store
            .run(|mut c| {
                let key = format!("{PREFIX}stream:{id}");
                async move { redis::cmd("HGETALL").arg(key).query_async(&mut c).await }
            })
            .await?;
        let (Some(vendor), Some(conversation), Some(hash), Some(expires)) = (
            fields.get("vendor"),
            fields.get("conversation"),
            fields.get("token_hash").and_then(|h| unhex(h)),
            fields.get("expires_ms").and_then(|e| e.parse().ok()),
        ) else {
            return Ok(None);
        };
        Ok(Some(StreamRecord {
            id,
            vendor: vendor.clone(),
            conversation: conversation.clone(),
            token_hash: hash,
            expires_ms: expires,
        }))
    }

    async fn revoke(&self, id: &str) -> Result<(), StoreError> {
        let keys = [
            format!("{PREFIX}stream:{id}"),
            format!("{PREFIX}events:{id}"),
        ];
        self.store
            .run(
                |mut c| async move { redis::cmd("DEL").arg(&keys).query_async::<()>(&mut c).await },
            )
            .await
    }

    async fn note_sent(&self, vendor: &str, ids: &[String]) -> Result<(), StoreError> {
        let keys: Vec<String> = ids
            .iter()
            .map(|id| format!("{PREFIX}sent:{}", sent_key(vendor, id)))
            .collect();
        let ttl = self.bounds.retention_ms;
        self.store
            .run(|mut c| async move {
                let mut pipe = redis::pipe();
                for key in &keys {
                    pipe.cmd("SET").arg(key).arg(1).arg("PX").arg(ttl).ignore();
                }
                pipe.query_async::<()>(&mut c).await
            })
            .await
    }

    async fn append(&self, vendor: &str, delivery: &Delivery) -> Result<Appended, StoreError> {
        let seen = format!("{PREFIX}seen:{}", delivery.dedup_key);
        let (sent, body) = match &delivery.event {
            Some(e) => {
                let json = serde_json::to_string(e).unwrap_or_default();
                (
                    format!("{PREFIX}sent:{}", sent_key(vendor, &e.vendor_message_id)),
                    json.get(1..).unwrap_or_default().to_owned(),
                )
            }
            None => (String::new(), String::new()),
        };
        let bound = format!("{PREFIX}bound:{vendor}:{}", delivery.conversation);
        let mut invocation = self.append.prepare_invoke();
        invocation
            .arg(seen)
            .arg(sent)
            .arg(bound)
            .arg(body)
            .arg(self.bounds.retention_ms)
            .arg(self.bounds.max_events_per_stream.max(1))
            .arg(PREFIX)
            .arg(CHANNEL);
        let answer: Vec<String> = self
            .store
            .run(|mut c| async move { invocation.invoke_async(&mut c).await })
            .await?;
        Ok(match answer.first().map(String::as_str) {
            Some("duplicate") => Appended::Duplicate,
            Some("hidden") => Appended::Hidden,
            Some("echo") => Appended::Echo,
            Some("unbound") => Appended::Unbound,
            Some("streamed") => Appended::Streamed(
                answer[1..]
                    .chunks(2)
                    .filter_map(|pair| match pair {
                        [id, seq] => Some((id.clone(), seq.parse().ok()?)),
                        _ => None,
                    })
                    .collect(),
            ),
            _ => {
                return Err(StoreError(
                    "reply log: redis answered an unknown verdict".into(),
                ))
            }
        })
    }

    async fn read(&self, id: &str, after: u64, limit: usize) -> Result<Vec<Numbered>, StoreError> {
        let key = format!("{PREFIX}events:{id}");
        let entries: redis::streams::StreamRangeReply = self
            .store
            .run(|mut c| async move {
                redis::cmd("XRANGE")
                    .arg(key)
                    .arg(format!("({after}-0"))
                    .arg("+")
                    .arg("COUNT")
                    .arg(limit)
                    .query_async(&mut c)
                    .await
            })
            .await?;
        Ok(entries
            .ids
            .into_iter()
            .filter_map(|entry| {
                let seq = entry.id.split('-').next()?.parse().ok()?;
                let json: String = entry.get("e")?;
                Some(Numbered { seq, json })
            })
            .collect())
    }

    fn shared(&self) -> bool {
        true
    }
}
