//! The Redis store (`store = { redis = "redis://…" }`): idempotency records and rate-limit
//! counters shared by every relay instance behind a load balancer. Each operation is one Lua
//! script, so it is atomic across instances; an in-flight mark expires by itself, so a relay
//! that dies mid-call does not block its key forever.

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use bytes::Bytes;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::idempotency::{Begin, Fingerprint, Store, StoreError, StoredResponse};

/// Key prefix of everything Hail keeps in Redis.
const PREFIX: &str = "hail:";

/// `KEYS[1]` record; `ARGV`: fingerprint, in-flight record, in-flight TTL ms.
const BEGIN: &str = r#"
local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return {'proceed', ''}
end
local d = cjson.decode(v)
if d.s == 'i' then return {'inflight', ''} end
if d.fp ~= ARGV[1] then return {'mismatch', ''} end
if d.s == 'f' then return {'replay', v} end
local p = d.p or ''
redis.call('SET', KEYS[1], cjson.encode({s = 'i', fp = ARGV[1], p = p}), 'PX', ARGV[3])
return {'proceed', p}
"#;

/// `KEYS[1]` record; `ARGV`: progress (base64). Keeps the in-flight TTL.
const PROGRESS: &str = r#"
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local d = cjson.decode(v)
if d.s ~= 'i' then return 0 end
d.p = ARGV[1]
redis.call('SET', KEYS[1], cjson.encode(d), 'KEEPTTL')
return 1
"#;

/// GCRA: `KEYS[1]` the caller's theoretical arrival time; `ARGV`: emission interval µs, burst
/// tolerance µs. Returns 0 when allowed, else the µs to wait.
const RATE: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local wait = tat - now - tolerance
if wait > 0 then return wait end
local new_tat = tat + interval
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil((new_tat - now) / 1000) + 1000)
return 0
"#;

#[derive(Serialize, Deserialize)]
struct Record {
    /// `i` in flight, `r` retryable, `f` final.
    s: String,
    fp: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    p: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    r: Option<Answer>,
}

#[derive(Serialize, Deserialize)]
struct Answer {
    status: u16,
    content_type: String,
    body: String,
}

/// Idempotency records and rate-limit counters in Redis.
pub struct RedisStore {
    client: redis::Client,
    connection: Mutex<Option<ConnectionManager>>,
    timeout: Duration,
    in_flight_ttl: Duration,
    retention: Duration,
    begin: redis::Script,
    progress: redis::Script,
    rate: redis::Script,
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(text: &str) -> Option<Bytes> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()
        .map(Bytes::from)
}

fn hex(fp: Fingerprint) -> String {
    fp.0.iter().map(|b| format!("{b:02x}")).collect()
}

impl RedisStore {
    /// A store at `url` (connected on first use). `in_flight_ttl` bounds how long a key stays
    /// in flight if its relay dies; `retention` how long outcomes are kept.
    pub fn new(
        url: &str,
        timeout: Duration,
        in_flight_ttl: Duration,
        retention: Duration,
    ) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|e| format!("store.redis: {e}"))?;
        Ok(Self {
            client,
            connection: Mutex::new(None),
            timeout,
            in_flight_ttl,
            retention,
            begin: redis::Script::new(BEGIN),
            progress: redis::Script::new(PROGRESS),
            rate: redis::Script::new(RATE),
        })
    }

    async fn connection(&self) -> Result<ConnectionManager, StoreError> {
        let mut slot = self.connection.lock().await;
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(1);
        let manager = tokio::time::timeout(
            self.timeout * 2,
            self.client.get_connection_manager_with_config(config),
        )
        .await
        .map_err(|_| unavailable("connecting timed out"))?
        .map_err(|e| unavailable(&e.to_string()))?;
        *slot = Some(manager.clone());
        Ok(manager)
    }

    /// Runs `f` on a connection; a Redis failure becomes a [`StoreError`].
    async fn run<T, F, Fut>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<T>>,
    {
        let conn = self.connection().await?;
        match tokio::time::timeout(self.timeout * 2, f(conn)).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(unavailable(&e.to_string())),
            Err(_) => Err(unavailable("no answer in time")),
        }
    }

    /// GCRA rate limit shared by every instance: `Ok` or how long to wait.
    pub async fn rate_limit(
        &self,
        caller: &str,
        interval: Duration,
        burst: u32,
    ) -> Result<Result<(), Duration>, StoreError> {
        let key = format!("{PREFIX}rl:{caller}");
        let interval_us = interval.as_micros() as u64;
        let tolerance_us = interval_us.saturating_mul(u64::from(burst.saturating_sub(1)));
        let script = &self.rate;
        let wait: u64 = self
            .run(|mut c| async move {
                script
                    .key(key)
                    .arg(interval_us)
                    .arg(tolerance_us)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok(if wait == 0 {
            Ok(())
        } else {
            Err(Duration::from_micros(wait))
        })
    }

    async fn set(&self, key: &str, record: &Record, ttl: Duration) -> Result<(), StoreError> {
        let text = serde_json::to_string(record).map_err(|e| unavailable(&e.to_string()))?;
        let key = format!("{PREFIX}idem:{key}");
        let ms = ttl.as_millis() as u64;
        self.run(|mut c| async move {
            redis::cmd("SET")
                .arg(key)
                .arg(text)
                .arg("PX")
                .arg(ms)
                .query_async::<()>(&mut c)
                .await
        })
        .await
    }
}

fn unavailable(why: &str) -> StoreError {
    StoreError(format!("redis: {why}"))
}

#[async_trait]
impl Store for RedisStore {
    async fn begin(&self, key: &str, fingerprint: Fingerprint) -> Result<Begin, StoreError> {
        let fp = hex(fingerprint);
        let in_flight = serde_json::to_string(&Record {
            s: "i".into(),
            fp: fp.clone(),
            p: None,
            r: None,
        })
        .map_err(|e| unavailable(&e.to_string()))?;
        let key = format!("{PREFIX}idem:{key}");
        let ttl = self.in_flight_ttl.as_millis() as u64;
        let script = &self.begin;
        let (verdict, payload): (String, String) = self
            .run(|mut c| async move {
                script
                    .key(key)
                    .arg(fp)
                    .arg(in_flight)
                    .arg(ttl)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok(match verdict.as_str() {
            "inflight" => Begin::InFlight,
            "mismatch" => Begin::Mismatch,
            "replay" => {
                let record: Record =
                    serde_json::from_str(&payload).map_err(|e| unavailable(&e.to_string()))?;
                let answer = record
                    .r
                    .ok_or_else(|| unavailable("a final record without an answer"))?;
                Begin::Replay(std::sync::Arc::new(StoredResponse {
                    status: answer.status,
                    content_type: if answer.content_type == hail::protocol::PROBLEM_CONTENT_TYPE {
                        hail::protocol::PROBLEM_CONTENT_TYPE
                    } else {
                        "application/json"
                    },
                    body: unb64(&answer.body).unwrap_or_default(),
                    retry_after: None,
                    replayed: false,
                }))
            }
            _ => Begin::Proceed {
                progress: if payload.is_empty() {
                    None
                } else {
                    unb64(&payload)
                },
            },
        })
    }

    async fn progress(&self, key: &str, progress: Bytes) -> Result<(), StoreError> {
        let key = format!("{PREFIX}idem:{key}");
        let p = b64(&progress);
        let script = &self.progress;
        self.run(|mut c| async move { script.key(key).arg(p).invoke_async::<i64>(&mut c).await })
            .await
            .map(|_| ())
    }

    async fn finish(
        &self,
        key: &str,
        fingerprint: Fingerprint,
        response: StoredResponse,
    ) -> Result<(), StoreError> {
        let record = Record {
            s: "f".into(),
            fp: hex(fingerprint),
            p: None,
            r: Some(Answer {
                status: response.status,
                content_type: response.content_type.to_owned(),
                body: b64(&response.body),
            }),
        };
        self.set(key, &record, self.retention).await
    }

    async fn release(
        &self,
        key: &str,
        fingerprint: Fingerprint,
        progress: Option<Bytes>,
    ) -> Result<(), StoreError> {
        let record = Record {
            s: "r".into(),
            fp: hex(fingerprint),
            p: progress.map(|p| b64(&p)),
            r: None,
        };
        self.set(key, &record, self.retention).await
    }

    async fn health(&self) -> Result<(), StoreError> {
        self.run(|mut c| async move { redis::cmd("PING").query_async::<String>(&mut c).await })
            .await
            .map(|_| ())
    }
}
