//! The Redis store (`store = { redis = "redis://…" }`): idempotency records and rate-limit
//! counters shared by every relay instance behind a load balancer. Each operation is one Lua
//! script, so it is atomic across instances. An in-flight record whose relay died (or could not
//! store the outcome) is held only until its deadline and then answers `outcome_unknown`; it
//! never turns back into "unused". Records survive a Redis restart only with persistence on:
//! run Redis with `appendonly yes` (README, "Several instances"). Redis's own size bound,
//! `maxmemory`, drops keys when full under any `maxmemory-policy` but `noeviction` — an
//! unknown outcome's record among them, which would let its key send again: the store reads the
//! policy when it connects and on every health check, and refuses new sends (and `/healthz`)
//! while Redis may evict.

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use bytes::Bytes;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::{Store, StoreError};
use crate::idempotency::{Begin, Fingerprint, Hold, Settle, StoredResponse};
use crate::startup_error::StartupError;

/// Key prefix of everything Hail keeps in Redis.
const PREFIX: &str = "hail:";

/// `KEYS[1]` record; `ARGV`: fingerprint, hold ms, retention ms. The state machine of
/// `crate::idempotency::decide`, atomic across instances, on Redis's own clock: an in-flight record
/// past its hold answers `unknown` (never unused), and the key is held again. Returns the
/// verdict, the progress, `"{first try began} {last send}"` and the new hold (its end, ms).
/// An in-flight record without `u` was written by an earlier relay version, which held it by
/// the key's TTL alone: it stays in flight until that runs out.
const BEGIN: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local v = redis.call('GET', KEYS[1])
local u = now + tonumber(ARGV[2])
local function hold(p, st, ls)
  redis.call('SET', KEYS[1], cjson.encode({s = 'i', fp = ARGV[1], p = p, st = st, u = u, ls = ls}), 'PX', ARGV[3])
end
if not v then
  hold('', now, 0)
  return {'proceed', '', '', string.format('%d', u)}
end
local d = cjson.decode(v)
if d.s == 'i' and (d.u == nil or now < tonumber(d.u)) then return {'inflight', '', '', ''} end
if d.fp ~= ARGV[1] then return {'mismatch', '', '', ''} end
if d.s == 'f' then return {'replay', v, '', ''} end
local p = d.p or ''
local st = tonumber(d.st) or now
local ls = tonumber(d.ls) or 0
if d.s == 'r' then
  hold(p, st, ls)
  return {'proceed', p, '', string.format('%d', u)}
end
-- 'u', or a flight past its hold, which may have been sending until its end.
if d.s == 'i' then ls = math.max(ls, tonumber(d.u)) end
hold(p, st, ls)
return {'unknown', p, string.format('%d %d', st, ls), string.format('%d', u)}
"#;

/// `KEYS[1]` record; `ARGV`: fingerprint, state (`r`, `u`, `f`), progress (base64, or empty to
/// keep the held one), answer JSON (for `f`), retention ms, the hold (its end, ms), `1` if this
/// try sent. Writes only while the hold is the record's (returns 0 otherwise). Keeps when the
/// first try began; the last send becomes now if this try sent.
const SETTLE: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local d = cjson.decode(v)
if d.s ~= 'i' or tonumber(d.u) ~= tonumber(ARGV[6]) then return 0 end
local p = d.p or ''
if ARGV[3] ~= '' then p = ARGV[3] end
local ls = tonumber(d.ls) or 0
if ARGV[7] == '1' then ls = now end
local rec = {s = ARGV[2], fp = ARGV[1], p = p, st = d.st, u = now, ls = ls}
if ARGV[2] == 'f' then
  rec.p = nil
  rec.r = cjson.decode(ARGV[4])
end
redis.call('SET', KEYS[1], cjson.encode(rec), 'PX', ARGV[5])
return 1
"#;

/// `KEYS[1]` record; `ARGV`: progress (base64), the hold (its end, ms). Keeps the TTL; writes
/// only while the hold is the record's (returns 0 otherwise).
const PROGRESS: &str = r#"
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local d = cjson.decode(v)
if d.s ~= 'i' or tonumber(d.u) ~= tonumber(ARGV[2]) then return 0 end
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

/// What [`BEGIN`] answers first; another word fails closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::EnumString)]
#[strum(serialize_all = "lowercase")]
enum Verdict {
    Proceed,
    InFlight,
    Mismatch,
    Replay,
    Unknown,
}

/// A final record as stored (`s` is [`crate::idempotency::Phase::Final`]'s letter); the other
/// states need no decoding here.
#[derive(Deserialize)]
struct FinalRecord {
    r: Answer,
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
    retention: Duration,
    begin: redis::Script,
    settle: redis::Script,
    progress: redis::Script,
    rate: redis::Script,
    /// Why Redis may evict records (its `maxmemory-policy`), as last read; `None`: it may not,
    /// or it would not say.
    evicting: std::sync::Mutex<Option<String>>,
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
    /// A store at `url` (connected on first use), keeping records for `retention`.
    pub fn new(url: &str, timeout: Duration, retention: Duration) -> Result<Self, StartupError> {
        // The URL itself is not shown: it may hold credentials.
        let client =
            redis::Client::open(url).map_err(|e| StartupError::setting("store.redis", e))?;
        Ok(Self {
            client,
            connection: Mutex::new(None),
            timeout,
            retention,
            begin: redis::Script::new(BEGIN),
            settle: redis::Script::new(SETTLE),
            progress: redis::Script::new(PROGRESS),
            rate: redis::Script::new(RATE),
            evicting: std::sync::Mutex::new(None),
        })
    }

    /// The client, for a subscription of its own (`replies`).
    pub(crate) fn client(&self) -> &redis::Client {
        &self.client
    }

    /// Reads Redis's `maxmemory-policy` on `c` and remembers whether it may evict records.
    async fn check_eviction(&self, mut c: ConnectionManager) {
        let mut command = redis::cmd("CONFIG");
        command.arg("GET").arg("maxmemory-policy");
        let read = command.query_async::<Vec<String>>(&mut c);
        let verdict = match tokio::time::timeout(self.timeout * 2, read).await {
            Ok(Ok(answer)) => match answer.get(1).map(String::as_str) {
                Some("noeviction") | None => None,
                Some(policy) => Some(format!(
                    "redis: maxmemory-policy is {policy}: Redis may evict idempotency records when full, \
                     and a key whose outcome is unknown would be sent again; set maxmemory-policy noeviction"
                )),
            },
            // CONFIG renamed or denied (some managed Redis): the README asks for noeviction.
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot read Redis's maxmemory-policy: make sure it is noeviction");
                None
            }
            // Unreachable now: the next connection or health check reads it again.
            Err(_) => return,
        };
        if let Some(why) = &verdict {
            tracing::error!("{why}");
        }
        *self.evicting.lock().unwrap_or_else(|p| p.into_inner()) = verdict;
    }

    /// Fails while Redis may evict records.
    fn refuse_if_evicting(&self) -> Result<(), StoreError> {
        match &*self.evicting.lock().unwrap_or_else(|p| p.into_inner()) {
            Some(why) => Err(StoreError(why.clone())),
            None => Ok(()),
        }
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
        self.check_eviction(manager.clone()).await;
        *slot = Some(manager.clone());
        Ok(manager)
    }

    /// Runs `f` on a connection; a Redis failure becomes a [`StoreError`].
    pub(crate) async fn run<T, F, Fut>(&self, f: F) -> Result<T, StoreError>
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
}

fn unavailable(why: &str) -> StoreError {
    StoreError(format!("redis: {why}"))
}

#[async_trait]
impl Store for RedisStore {
    async fn begin(
        &self,
        key: &str,
        fingerprint: Fingerprint,
        hold: Duration,
    ) -> Result<Begin, StoreError> {
        // Connecting reads the eviction policy first. Fail closed: a record Redis may drop is
        // no guard against a second send.
        self.connection().await?;
        self.refuse_if_evicting()?;
        let fp = hex(fingerprint);
        let key = format!("{PREFIX}idem:{key}");
        let hold = hold.as_millis() as u64;
        let retention = self.retention.as_millis() as u64;
        let script = &self.begin;
        let (verdict, payload, times, until): (String, String, String, String) = self
            .run(|mut c| async move {
                script
                    .key(key)
                    .arg(fp)
                    .arg(hold)
                    .arg(retention)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        let progress = || (!payload.is_empty()).then(|| unb64(&payload)).flatten();
        let hold = || {
            until
                .parse()
                .map(Hold)
                .map_err(|_| unavailable("a hold without an end"))
        };
        // Fail closed: nothing this version does not understand may send.
        let Ok(verdict) = verdict.parse::<Verdict>() else {
            return Err(unavailable(&format!("unexpected verdict {verdict:?}")));
        };
        Ok(match verdict {
            Verdict::InFlight => Begin::InFlight,
            Verdict::Mismatch => Begin::Mismatch,
            Verdict::Replay => {
                let record: FinalRecord =
                    serde_json::from_str(&payload).map_err(|e| unavailable(&e.to_string()))?;
                let answer = record.r;
                Begin::Replay(std::sync::Arc::new(StoredResponse::restored(
                    answer.status,
                    answer.content_type == hail::protocol::PROBLEM_CONTENT_TYPE,
                    unb64(&answer.body).unwrap_or_default(),
                )))
            }
            Verdict::Unknown => {
                let mut times = times.split(' ').map(|t| t.parse().unwrap_or(0));
                Begin::Unknown {
                    progress: progress(),
                    since_ms: times.next().unwrap_or(0),
                    last_sent_ms: times.next().unwrap_or(u64::MAX),
                    hold: hold()?,
                }
            }
            Verdict::Proceed => Begin::Proceed {
                progress: progress(),
                hold: hold()?,
            },
        })
    }

    async fn progress(&self, key: &str, hold: Hold, progress: Bytes) -> Result<bool, StoreError> {
        let key = format!("{PREFIX}idem:{key}");
        let p = b64(&progress);
        let script = &self.progress;
        self.run(|mut c| async move {
            script
                .key(key)
                .arg(p)
                .arg(hold.0)
                .invoke_async::<i64>(&mut c)
                .await
        })
        .await
        .map(|n| n == 1)
    }

    async fn settle(
        &self,
        key: &str,
        fingerprint: Fingerprint,
        hold: Hold,
        settle: Settle,
    ) -> Result<bool, StoreError> {
        let state = settle.phase().letter();
        let (progress, answer, sent) = match settle {
            Settle::Final(response) => {
                let answer = serde_json::to_string(&Answer {
                    status: response.status,
                    content_type: response.content_type.to_owned(),
                    body: b64(&response.body),
                })
                .map_err(|e| unavailable(&e.to_string()))?;
                (String::new(), answer, false)
            }
            Settle::Retry(p) => (p.map(|p| b64(&p)).unwrap_or_default(), String::new(), false),
            Settle::Unknown { progress, sent } => (
                progress.map(|p| b64(&p)).unwrap_or_default(),
                String::new(),
                sent,
            ),
        };
        let key = format!("{PREFIX}idem:{key}");
        let fp = hex(fingerprint);
        let retention = self.retention.as_millis() as u64;
        let script = &self.settle;
        self.run(|mut c| async move {
            script
                .key(key)
                .arg(fp)
                .arg(state)
                .arg(progress)
                .arg(answer)
                .arg(retention)
                .arg(hold.0)
                .arg(if sent { "1" } else { "0" })
                .invoke_async::<i64>(&mut c)
                .await
        })
        .await
        .map(|n| n == 1)
    }

    async fn health(&self) -> Result<(), StoreError> {
        self.run(|mut c| async move { redis::cmd("PING").query_async::<String>(&mut c).await })
            .await?;
        // The policy may have been changed at runtime (CONFIG SET): read it again.
        self.check_eviction(self.connection().await?).await;
        self.refuse_if_evicting()
    }

    fn durable(&self) -> bool {
        true
    }

    fn describe(&self) -> String {
        let info = self.client.get_connection_info();
        format!(
            "redis, {} (durable across Redis restarts only with appendonly yes)",
            info.addr()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_verdict_of_the_begin_script() {
        for (word, verdict) in [
            ("proceed", Verdict::Proceed),
            ("inflight", Verdict::InFlight),
            ("mismatch", Verdict::Mismatch),
            ("replay", Verdict::Replay),
            ("unknown", Verdict::Unknown),
        ] {
            assert!(BEGIN.contains(&format!("'{word}'")), "{word}");
            assert_eq!(word.parse::<Verdict>(), Ok(verdict));
        }
        assert!("later".parse::<Verdict>().is_err());
    }
}
