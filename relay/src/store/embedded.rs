//! The embedded store, the default: idempotency records in one SQLite file under `data_dir`
//! (rusqlite with the bundled library, so nothing is needed on the host).
//!
//! Why SQLite: one file, crash-safe transactions, and WAL mode, where a commit is a `write` to
//! the log and not an `fsync`: a commit has reached the kernel before `begin` returns, so it
//! survives `kill -9` of the relay (the failure that matters here) at a cost of tens of
//! microseconds; `synchronous = NORMAL` gives up only the last commits on a power loss or kernel
//! crash (`cargo xtask bench` puts the throughput next to the memory store's). A record is
//! written *before* the vendor call and settled after it, so a relay that dies at any point
//! leaves either nothing (the vendor was not called) or an in-flight record, which later reads
//! as `outcome_unknown` — never as unused.
//!
//! Calls run under one mutex on the async worker: each is a single indexed statement or a short
//! transaction with no fsync, cheaper than handing it to a blocking thread.
//! Size: records expire after `retention`; a sweep (every `SWEEP_EVERY` writes and at start)
//! deletes expired records and then the oldest [`EVICTABLE`] ones above `max_entries` or
//! `max_bytes` (so the bounds may shorten how long a final answer is replayed, never how long a
//! key stays held or unknown). Counting the records and adding up their sizes reads the whole
//! table (about 15 ms of CPU at 40,000 records, under the one mutex every request waits for:
//! the embedded store's p99 under `cargo xtask bench` was 40–70 ms): the sweep keeps upper
//! bounds of both since its last count and counts again only when a bound passes its limit.
//!
//! Health (`/healthz`, and the relay's minute timer): whether sends can be recorded — the file
//! at the path is still the one written (see `file`), and a small write commits (a full disk,
//! a read-only or immutable file fail it) — not only whether the file answers a read.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use rusqlite::{params, Connection, OptionalExtension};

use super::{Store, StoreError};
use crate::idempotency::{
    decide, now_ms, settled, Begin, Fingerprint, Hold, Phase, Record, Settle, State, StoredResponse,
};

/// The database file's name inside `data_dir`.
pub const FILE: &str = "idempotency.sqlite3";

/// Records the bounds may drop before their retention ends: final answers, and tries that may
/// start over (retryable, no progress). Never a flight, an unknown outcome or a half-done
/// multi-call operation: dropping one would let its key send again.
const EVICTABLE: &str = "(state = 3 OR (state = 1 AND progress IS NULL))";

/// Writes between two sweeps.
const SWEEP_EVERY: u64 = 1024;

const SCHEMA: &str = "
PRAGMA synchronous = NORMAL;
PRAGMA wal_autocheckpoint = 10000;
CREATE TABLE IF NOT EXISTS records (
    key         TEXT PRIMARY KEY,
    fingerprint BLOB NOT NULL,
    -- 0 in flight, 1 retryable, 2 unknown, 3 final
    state       INTEGER NOT NULL,
    until_ms    INTEGER NOT NULL,
    started_ms  INTEGER NOT NULL,
    sent_ms     INTEGER NOT NULL,
    expires_ms  INTEGER NOT NULL,
    progress    BLOB,
    status      INTEGER,
    problem     INTEGER,
    body        BLOB
);
CREATE INDEX IF NOT EXISTS records_expiry ON records (expires_ms);
-- One row, rewritten by every health check: a write as every send makes.
CREATE TABLE IF NOT EXISTS probe (id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL);
";

/// Bounds of the embedded store.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// How long a record is kept.
    pub retention: Duration,
    /// Most records kept.
    pub max_entries: u64,
    /// Most bytes of stored answers and progress kept.
    pub max_bytes: u64,
}

/// Idempotency records in SQLite.
pub struct EmbeddedStore {
    db: Mutex<Connection>,
    /// Declared after `db`: closed after SQLite's connection (see `file`).
    file: file::StoreFile,
    path: PathBuf,
    limits: Limits,
    writes: AtomicU64,
    /// At least the records in the table: their count at the last sweep that counted, plus one
    /// per `begin` since (an upsert of an existing key counts too, so it only errs upwards).
    rows_bound: AtomicU64,
    /// At least the bytes of stored answers and progress, in the same way.
    bytes_bound: AtomicU64,
}

fn failed(e: impl std::fmt::Display) -> StoreError {
    StoreError(format!("embedded store: {e}"))
}

impl EmbeddedStore {
    /// Opens (or creates) the store in `data_dir`.
    pub fn open(data_dir: &Path, limits: Limits) -> Result<Self, String> {
        // The records hold what vendors answered (names, addresses): only the relay's user may
        // read them.
        let mut dir = std::fs::DirBuilder::new();
        dir.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut dir, 0o700);
        dir.create(data_dir)
            .map_err(|e| format!("cannot create data_dir {}: {e}", data_dir.display()))?;
        let path = data_dir.join(FILE);
        let shown = path.clone();
        let cannot = |e: &dyn std::fmt::Display| file::cannot(&shown, e);
        let (file, created) = file::StoreFile::open(&path)?;
        let db = Connection::open(&path).map_err(|e| cannot(&e))?;
        db.busy_timeout(Duration::from_secs(5))
            .map_err(|e| cannot(&e))?;
        // SQLite opens a file it may not write read-only, without an error: every send would
        // then fail. Refuse at start instead.
        if db.is_readonly(rusqlite::MAIN_DB).map_err(|e| cannot(&e))? {
            return Err(cannot(&"the database is read-only for the relay"));
        }
        // WAL is a property of the file: set once. Switching needs an exclusive lock, which
        // SQLite refuses at once (no busy wait) while another process has the file open, e.g.
        // a relay still shutting down on a deploy: so only switch when needed, and retry briefly.
        let mut attempt = 0;
        loop {
            let mode: rusqlite::Result<String> =
                db.query_row("PRAGMA journal_mode", [], |r| r.get(0));
            let ready = match mode {
                Ok(m) if m.eq_ignore_ascii_case("wal") => Ok(()),
                _ => db
                    .query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))
                    .map(|_| ()),
            }
            .and_then(|()| db.execute_batch(SCHEMA));
            match ready {
                Ok(()) => break,
                Err(_) if attempt < 50 => {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => return Err(cannot(&e)),
            }
        }
        // The side files SQLite just created.
        file::make_private(&path)?;
        if created {
            tracing::info!("new empty store at {}", path.display());
        }
        let store = Self {
            db: Mutex::new(db),
            file,
            path,
            limits,
            writes: AtomicU64::new(0),
            // Unknown: the first sweep counts.
            rows_bound: AtomicU64::new(u64::MAX),
            bytes_bound: AtomicU64::new(u64::MAX),
        };
        store.sweep().map_err(|e| cannot(&e))?;
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn db(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A poisoned lock means a panic mid-call; SQLite's own transaction kept the file whole.
        self.db.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Deletes expired records, then the oldest settled ones above the bounds.
    pub fn sweep(&self) -> Result<(), StoreError> {
        let db = self.db();
        let now = now_ms() as i64;
        let expired = db
            .execute("DELETE FROM records WHERE expires_ms < ?1", [now])
            .map_err(failed)?;
        let rows_bound = self
            .rows_bound
            .load(Ordering::Relaxed)
            .saturating_sub(expired as u64);
        if rows_bound <= self.limits.max_entries
            && self.bytes_bound.load(Ordering::Relaxed) <= self.limits.max_bytes
        {
            // Under both bounds for certain: nothing to count or evict.
            self.rows_bound.store(rows_bound, Ordering::Relaxed);
            return Ok(());
        }
        let count: i64 = db
            .query_row("SELECT count(*) FROM records", [], |r| r.get(0))
            .map_err(failed)?;
        let over_entries = (count as u64).saturating_sub(self.limits.max_entries);
        let mut evicted = 0;
        if over_entries > 0 {
            evicted = db.execute(
                &format!("DELETE FROM records WHERE key IN (SELECT key FROM records WHERE {EVICTABLE} ORDER BY expires_ms, rowid LIMIT ?1)"),
                [over_entries as i64],
            )
            .map_err(failed)?;
        }
        // Writes wait for the mutex held here, and add to the bounds after this: upper bounds.
        self.rows_bound.store(
            (count as u64).saturating_sub(evicted as u64),
            Ordering::Relaxed,
        );
        let bytes: i64 = db
            .query_row(
                "SELECT coalesce(sum(coalesce(length(body), 0) + coalesce(length(progress), 0)), 0) FROM records",
                [],
                |r| r.get(0),
            )
            .map_err(failed)?;
        // Evictions below only lower it: still an upper bound.
        self.bytes_bound.store(bytes as u64, Ordering::Relaxed);
        let over_bytes = (bytes as u64).saturating_sub(self.limits.max_bytes);
        if over_bytes > 0 {
            // The oldest settled records whose sizes, added up in age order, cover the excess.
            db.execute(
                &format!(
                    "DELETE FROM records WHERE key IN (
                   SELECT key FROM (
                     SELECT key, size, sum(size) OVER (ORDER BY expires_ms, rowid) AS running FROM (
                       SELECT key, expires_ms, rowid,
                              coalesce(length(body), 0) + coalesce(length(progress), 0) AS size
                       FROM records WHERE {EVICTABLE}))
                   WHERE running - size < ?1)"
                ),
                [over_bytes as i64],
            )
            .map_err(failed)?;
        }
        Ok(())
    }

    /// After a write of `rows` new records (at most) and `bytes` of answers and progress.
    fn wrote(&self, rows: u64, bytes: u64) {
        let add = |n: u64| move |v: u64| Some(v.saturating_add(n));
        // The closure always answers `Some`: the update cannot fail.
        let _ = self
            .rows_bound
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, add(rows));
        let _ = self
            .bytes_bound
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, add(bytes));
        if self.writes.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            if let Err(e) = self.sweep() {
                tracing::warn!(error = %e, "sweeping the embedded store failed");
            }
        }
    }
}

/// What a record adds to the stored bytes (as the sweep adds them up).
fn size(record: &Record) -> u64 {
    let body = match &record.state {
        State::Final(r) => r.body.len(),
        _ => 0,
    };
    (body + record.progress.as_ref().map_or(0, Bytes::len)) as u64
}

fn read(db: &Connection, key: &str) -> rusqlite::Result<Option<Record>> {
    db.prepare_cached(
        "SELECT fingerprint, state, until_ms, started_ms, progress, status, problem, body, sent_ms
         FROM records WHERE key = ?1 AND expires_ms >= ?2",
    )?
    .query_row(params![key, now_ms() as i64], |r| {
        let fp: Vec<u8> = r.get(0)?;
        let state: i64 = r.get(1)?;
        let progress: Option<Vec<u8>> = r.get(4)?;
        let fingerprint = Fingerprint(fp.try_into().unwrap_or([0; 32]));
        let state = match u8::try_from(state).ok().and_then(Phase::from_repr) {
            Some(Phase::InFlight) => State::InFlight,
            Some(Phase::Retryable) => State::Retryable,
            Some(Phase::Final) => State::Final(Arc::new(StoredResponse::restored(
                r.get::<_, Option<i64>>(5)?.unwrap_or(500) as u16,
                r.get::<_, Option<bool>>(6)?.unwrap_or(true),
                Bytes::from(r.get::<_, Option<Vec<u8>>>(7)?.unwrap_or_default()),
            ))),
            // And anything a newer version may write: never treat as unused.
            Some(Phase::Unknown) | None => State::Unknown,
        };
        Ok(Record {
            fingerprint,
            state,
            progress: progress.map(Bytes::from),
            started_ms: r.get::<_, i64>(3)? as u64,
            until_ms: r.get::<_, i64>(2)? as u64,
            sent_ms: r.get::<_, i64>(8)? as u64,
        })
    })
    .optional()
}

fn write(db: &Connection, key: &str, record: &Record, retention: Duration) -> rusqlite::Result<()> {
    let state = record.state.phase() as u8;
    let response = match &record.state {
        State::Final(r) => Some(r),
        _ => None,
    };
    let until = record.until_ms;
    let expires = now_ms().saturating_add(retention.as_millis() as u64);
    // An upsert keeps the row (and its rowid, the sweep's age order) instead of replacing it.
    db.prepare_cached(
        "INSERT INTO records
         (key, fingerprint, state, until_ms, started_ms, expires_ms, progress, status, problem, body, sent_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (key) DO UPDATE SET fingerprint = ?2, state = ?3, until_ms = ?4,
           started_ms = ?5, expires_ms = ?6, progress = ?7, status = ?8, problem = ?9, body = ?10,
           sent_ms = ?11",
    )?
    .execute(params![
            key,
            &record.fingerprint.0[..],
            state,
            until as i64,
            record.started_ms as i64,
            expires as i64,
            record.progress.as_deref(),
            response.map(|r| i64::from(r.status)),
            response.map(|r| r.is_problem()),
            response.map(|r| &r.body[..]),
            record.sent_ms as i64,
        ],
    )
    .map(|_| ())
}

#[async_trait]
impl Store for EmbeddedStore {
    async fn begin(
        &self,
        key: &str,
        fingerprint: Fingerprint,
        hold: Duration,
    ) -> Result<Begin, StoreError> {
        let begin = {
            let mut db = self.db();
            let tx = db
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(failed)?;
            let existing = read(&tx, key).map_err(failed)?;
            let (begin, record) = decide(existing.as_ref(), fingerprint, now_ms(), hold);
            if let Some(record) = &record {
                write(&tx, key, record, self.limits.retention).map_err(failed)?;
            }
            tx.commit().map_err(failed)?;
            (begin, record.as_ref().map_or(0, size))
        };
        let (begin, bytes) = begin;
        self.wrote(1, bytes);
        Ok(begin)
    }

    async fn progress(&self, key: &str, hold: Hold, progress: Bytes) -> Result<bool, StoreError> {
        let changed = self
            .db()
            .prepare_cached(
                "UPDATE records SET progress = ?3 WHERE key = ?1 AND state = 0 AND until_ms = ?2",
            )
            .and_then(|mut s| s.execute(params![key, hold.0 as i64, &progress[..]]))
            .map(|changed| changed == 1)
            .map_err(failed)?;
        // Counted towards the byte bound; not a write that brings the next sweep nearer.
        let _ = self
            .bytes_bound
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
                Some(v.saturating_add(progress.len() as u64))
            });
        Ok(changed)
    }

    async fn settle(
        &self,
        key: &str,
        fingerprint: Fingerprint,
        hold: Hold,
        settle: Settle,
    ) -> Result<bool, StoreError> {
        let applied = {
            let mut db = self.db();
            let tx = db
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(failed)?;
            let held = read(&tx, key).map_err(failed)?;
            match settled(held.as_ref(), fingerprint, hold, settle, now_ms()) {
                Some(record) => {
                    write(&tx, key, &record, self.limits.retention).map_err(failed)?;
                    tx.commit().map_err(failed)?;
                    Some(size(&record))
                }
                None => None,
            }
        };
        self.wrote(0, applied.unwrap_or(0));
        let applied = applied.is_some();
        Ok(applied)
    }

    async fn health(&self) -> Result<(), StoreError> {
        self.file.check().map_err(failed)?;
        self.db()
            .prepare_cached(
                "INSERT INTO probe (id, at_ms) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET at_ms = ?1",
            )
            .and_then(|mut s| s.execute([now_ms() as i64]))
            .map(|_| ())
            .map_err(|e| failed(format!("a write failed, sends cannot be recorded: {e}")))
    }

    fn durable(&self) -> bool {
        true
    }

    fn describe(&self) -> String {
        format!("embedded, {}", self.path.display())
    }
}

mod file;
#[cfg(test)]
mod tests;
