//! Reply streams in SQLite (the default store's companion): `replies.sqlite3` beside the
//! idempotency records in `data_dir`, mode 0600. A webhook is acknowledged only once its event
//! is committed, and a vendor does not send an acknowledged one again: so this file runs with
//! `synchronous = FULL` (each commit on disk), unlike the idempotency records. Its load is a
//! person's typing pace: one connection behind a lock, on tokio's blocking threads.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use hail::inbound::Delivery;
use rusqlite::{params, Connection, OptionalExtension};

use super::{
    numbered_json, sent_key, Appended, Appending, Bounds, Numbered, ReplyLog, StreamRecord,
};
use crate::idempotency::now_ms;
use crate::startup_error::StartupError;
use crate::store::embedded::file::{cannot, make_private};
use crate::store::StoreError;

/// The file's name inside `data_dir`.
pub const FILE: &str = "replies.sqlite3";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS streams (
    id           TEXT PRIMARY KEY,
    vendor       TEXT NOT NULL,
    conversation TEXT NOT NULL,
    token_hash   BLOB NOT NULL,
    expires_ms   INTEGER NOT NULL,
    last_seq     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS streams_conversation ON streams (vendor, conversation);
CREATE TABLE IF NOT EXISTS events (
    stream TEXT NOT NULL,
    seq    INTEGER NOT NULL,
    at_ms  INTEGER NOT NULL,
    body   TEXT NOT NULL,
    PRIMARY KEY (stream, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS events_age ON events (at_ms);
-- Seen deliveries (kind 0) and the ids of messages Hail sent (kind 1).
CREATE TABLE IF NOT EXISTS noted (
    kind  INTEGER NOT NULL,
    key   TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS noted_age ON noted (at_ms);
";

/// Appends between two sweeps of what is past its retention.
const SWEEP_EVERY: u64 = 256;

struct Inner {
    db: Connection,
    appends: u64,
}

/// Reply streams in SQLite.
pub struct EmbeddedLog {
    inner: Arc<Mutex<Inner>>,
    bounds: Bounds,
    path: PathBuf,
}

fn failed(e: impl std::fmt::Display) -> StoreError {
    StoreError(format!("reply log: {e}"))
}

impl EmbeddedLog {
    /// Opens (or creates) the log in `data_dir` (the embedded store made the folder, 0700).
    pub fn open(data_dir: &Path, bounds: Bounds) -> Result<Self, StartupError> {
        let path = data_dir.join(FILE);
        let shown = path.clone();
        let cannot = |e: &dyn std::fmt::Display| cannot(&shown, e.to_string());
        let existed = path.exists();
        // Made 0600 before SQLite opens it: SQLite gives its side files the database's mode.
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .open(&path)
                .map_err(|e| cannot(&e))?;
        }
        let db = Connection::open(&path).map_err(|e| cannot(&e))?;
        db.busy_timeout(Duration::from_secs(5))
            .map_err(|e| cannot(&e))?;
        db.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))
            .map_err(|e| cannot(&e))?;
        db.execute_batch("PRAGMA synchronous = FULL;")
            .and_then(|()| db.execute_batch(SCHEMA))
            .map_err(|e| cannot(&e))?;
        if db.is_readonly(rusqlite::MAIN_DB).map_err(|e| cannot(&e))? {
            return Err(cannot(&"the database is read-only for the relay"));
        }
        make_private(&path)?;
        if !existed {
            tracing::info!("new empty reply log at {}", path.display());
        }
        Ok(Self {
            inner: Arc::new(Mutex::new(Inner { db, appends: 0 })),
            bounds,
            path,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on the connection on a blocking thread.
    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Inner, Bounds) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (inner, bounds) = (self.inner.clone(), self.bounds);
        tokio::task::spawn_blocking(move || {
            let mut inner = inner.lock().map_err(|_| failed("poisoned lock"))?;
            f(&mut inner, bounds).map_err(failed)
        })
        .await
        .map_err(failed)?
    }
}

fn sweep(db: &Connection, bounds: Bounds, now: u64) -> rusqlite::Result<()> {
    let cutoff = now.saturating_sub(bounds.retention_ms) as i64;
    db.execute("DELETE FROM events WHERE at_ms < ?1", [cutoff])?;
    db.execute("DELETE FROM noted WHERE at_ms < ?1", [cutoff])?;
    db.execute(
        "DELETE FROM events WHERE stream IN (SELECT id FROM streams WHERE expires_ms < ?1)",
        [cutoff],
    )?;
    db.execute("DELETE FROM streams WHERE expires_ms < ?1", [cutoff])?;
    Ok(())
}

fn row_stream(r: &rusqlite::Row<'_>) -> rusqlite::Result<StreamRecord> {
    let hash: Vec<u8> = r.get(3)?;
    Ok(StreamRecord {
        id: r.get(0)?,
        vendor: r.get(1)?,
        conversation: r.get(2)?,
        token_hash: hash.try_into().unwrap_or([0; 32]),
        expires_ms: r.get::<_, i64>(4)?.max(0) as u64,
    })
}

#[async_trait]
impl ReplyLog for EmbeddedLog {
    async fn bind(&self, stream: StreamRecord) -> Result<(), StoreError> {
        self.with(move |inner, _| {
            inner.db.execute(
                "INSERT INTO streams (id, vendor, conversation, token_hash, expires_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![stream.id, stream.vendor, stream.conversation, &stream.token_hash[..], stream.expires_ms as i64],
            )?;
            Ok(())
        })
        .await
    }

    async fn stream(&self, id: &str) -> Result<Option<StreamRecord>, StoreError> {
        let id = id.to_owned();
        self.with(move |inner, _| {
            inner
                .db
                .query_row(
                    "SELECT id, vendor, conversation, token_hash, expires_ms FROM streams WHERE id = ?1",
                    [id],
                    row_stream,
                )
                .optional()
        })
        .await
    }

    async fn revoke(&self, id: &str) -> Result<(), StoreError> {
        let id = id.to_owned();
        self.with(move |inner, _| {
            let tx = inner.db.transaction()?;
            tx.execute("DELETE FROM events WHERE stream = ?1", [&id])?;
            tx.execute("DELETE FROM streams WHERE id = ?1", [&id])?;
            tx.commit()
        })
        .await
    }

    async fn note_sent(&self, vendor: &str, ids: &[String]) -> Result<(), StoreError> {
        let keys: Vec<String> = ids.iter().map(|id| sent_key(vendor, id)).collect();
        self.with(move |inner, _| {
            let tx = inner.db.transaction()?;
            for key in keys {
                tx.execute(
                    "INSERT OR REPLACE INTO noted (kind, key, at_ms) VALUES (1, ?1, ?2)",
                    params![key, now_ms() as i64],
                )?;
            }
            tx.commit()
        })
        .await
    }

    async fn append(&self, vendor: &str, delivery: &Delivery) -> Result<Appended, StoreError> {
        let (vendor, delivery) = (vendor.to_owned(), delivery.clone());
        self.with(move |inner, bounds| {
            let now = now_ms();
            inner.appends += 1;
            if inner.appends % SWEEP_EVERY == 1 {
                sweep(&inner.db, bounds, now)?;
            }
            let tx = inner.db.transaction()?;
            let noted = |kind: i64, key: &str| -> rusqlite::Result<bool> {
                tx.query_row(
                    "SELECT 1 FROM noted WHERE kind = ?1 AND key = ?2",
                    params![kind, key],
                    |_| Ok(()),
                )
                .optional()
                .map(|r| r.is_some())
            };
            let seen = noted(0, &delivery.dedup_key)?;
            let echo = match &delivery.event {
                Some(e) => noted(1, &sent_key(&vendor, &e.vendor_message_id))?,
                None => false,
            };
            let classified = Appending::classify(&delivery, seen, echo);
            if !matches!(classified, Err(Appended::Duplicate)) {
                tx.execute(
                    "INSERT OR REPLACE INTO noted (kind, key, at_ms) VALUES (0, ?1, ?2)",
                    params![delivery.dedup_key, now as i64],
                )?;
            }
            let event = match classified {
                Ok(event) => event,
                Err(answer) => {
                    tx.commit()?;
                    return Ok(answer);
                }
            };
            let streams: Vec<String> = {
                let mut q =
                    tx.prepare("SELECT id FROM streams WHERE vendor = ?1 AND conversation = ?2")?;
                let rows = q.query_map(params![vendor, delivery.conversation], |r| r.get(0))?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            let mut out = Vec::new();
            for id in streams {
                let seq: i64 = tx.query_row(
                    "UPDATE streams SET last_seq = last_seq + 1 WHERE id = ?1 RETURNING last_seq",
                    [&id],
                    |r| r.get(0),
                )?;
                let seq = seq.max(0) as u64;
                tx.execute(
                    "INSERT INTO events (stream, seq, at_ms, body) VALUES (?1, ?2, ?3, ?4)",
                    params![id, seq as i64, now as i64, numbered_json(seq, event)],
                )?;
                let keep = bounds.max_events_per_stream.max(1);
                if seq > keep {
                    tx.execute(
                        "DELETE FROM events WHERE stream = ?1 AND seq <= ?2",
                        params![id, (seq - keep) as i64],
                    )?;
                }
                out.push((id, seq));
            }
            tx.commit()?;
            Ok(if out.is_empty() {
                Appended::Unbound
            } else {
                Appended::Streamed(out)
            })
        })
        .await
    }

    async fn read(&self, id: &str, after: u64, limit: usize) -> Result<Vec<Numbered>, StoreError> {
        let id = id.to_owned();
        self.with(move |inner, _| {
            let mut q = inner.db.prepare_cached(
                "SELECT seq, body FROM events WHERE stream = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
            )?;
            let rows = q.query_map(params![id, after as i64, limit as i64], |r| {
                Ok(Numbered {
                    seq: r.get::<_, i64>(0)?.max(0) as u64,
                    json: r.get(1)?,
                })
            })?;
            rows.collect()
        })
        .await
    }
}
