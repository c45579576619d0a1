//! The embedded store's housekeeping, on a thread and a connection of its own so that no
//! request ever waits for it: expiry, the size bounds, and WAL checkpoints.
//!
//! Size: records expire after `retention`; a sweep (every `SWEEP_EVERY` writes, and at start)
//! deletes expired records and then the oldest [`EVICTABLE`] ones above `max_entries` or
//! `max_bytes` (so the bounds may shorten how long a final answer is replayed, never how long a
//! key stays held or unknown). Counting the records and adding up their sizes reads the whole
//! table (about 15 ms of CPU at 40,000 records): it runs in a read transaction, which in WAL
//! mode does not stop the writer, and only when an upper bound kept since the last count passes
//! a limit. Deletions run in small transactions, so the writer waits at most for one of them.
//!
//! Checkpoints: the writer's connection never checkpoints (`wal_autocheckpoint = 0`, so a
//! commit is one `write`); this thread copies the WAL into the database every
//! [`CHECKPOINT_EVERY`] (PASSIVE: it never blocks the writer), which is also when the WAL is
//! `fsync`ed under `synchronous = NORMAL`. Should the WAL still grow past [`WAL_LIMIT`] frames
//! (the writer never paused long enough for a passive checkpoint to catch up), one TRUNCATE
//! checkpoint waits for a gap between batches and starts the WAL afresh.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use rusqlite::Connection;

use super::Limits;
use crate::idempotency::now_ms;

/// Records the bounds may drop before their retention ends: final answers, and tries that may
/// start over (retryable, no progress). Never a flight, an unknown outcome or a half-done
/// multi-call operation: dropping one would let its key send again.
pub(super) const EVICTABLE: &str = "(state = 3 OR (state = 1 AND progress IS NULL))";

/// How often the WAL is checkpointed (and so, under `synchronous = NORMAL`, made durable
/// against a power loss).
pub const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// WAL frames (pages) above which a checkpoint waits for the writer to start the WAL afresh.
const WAL_LIMIT: i64 = 20_000;

/// Most rows one deleting transaction removes: the writer may wait for one of them.
const CHUNK: i64 = 500;

/// What the writer has added since start, for the sweeper's upper bounds.
#[derive(Default)]
pub(super) struct Bounds {
    rows: AtomicU64,
    bytes: AtomicU64,
}

impl Bounds {
    /// After a commit of at most `rows` new records and `bytes` of answers and progress.
    pub fn wrote(&self, rows: u64, bytes: u64) {
        self.rows.fetch_add(rows, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    fn added(&self) -> (u64, u64) {
        (
            self.rows.load(Ordering::Relaxed),
            self.bytes.load(Ordering::Relaxed),
        )
    }
}

/// A request to the sweeper thread.
pub(super) enum Ask {
    /// Sweep now and say how it went (tests).
    SweepAndTell(mpsc::Sender<rusqlite::Result<()>>),
}

/// The sweeper thread's state.
pub(super) struct Sweeper {
    pub db: Connection,
    pub limits: Limits,
    pub bounds: std::sync::Arc<Bounds>,
    /// Records and bytes counted at the last count, and what the writer had added just before
    /// it began: `counted + (added now - added then)` is at least what the table holds.
    counted: Option<(u64, u64, u64, u64)>,
}

impl Sweeper {
    pub fn new(db: Connection, limits: Limits, bounds: std::sync::Arc<Bounds>) -> Self {
        Self {
            db,
            limits,
            bounds,
            counted: None,
        }
    }

    /// Runs until the writer and the store are gone.
    pub fn run(mut self, asks: mpsc::Receiver<Ask>, writer_asks: mpsc::Receiver<()>) {
        loop {
            // Two channels: the store's (tests; closed at shutdown) and the writer's (bounded,
            // so asking never blocks the writer).
            let mut tell = None;
            let mut sweep = false;
            match asks.recv_timeout(CHECKPOINT_EVERY) {
                Ok(Ask::SweepAndTell(t)) => tell = Some(t),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
            if writer_asks.try_recv().is_ok() {
                sweep = true;
            }
            if sweep || tell.is_some() {
                let result = self.sweep();
                if let Err(e) = &result {
                    tracing::warn!(error = %e, "sweeping the embedded store failed");
                }
                if let Some(tell) = tell {
                    let _ = tell.send(result);
                }
            }
            if let Err(e) = self.checkpoint() {
                tracing::warn!(error = %e, "checkpointing the embedded store failed");
            }
        }
    }

    fn checkpoint(&self) -> rusqlite::Result<()> {
        let (_busy, frames, _done): (i64, i64, i64) =
            self.db
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?;
        if frames > WAL_LIMIT {
            self.db
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        }
        Ok(())
    }

    /// Upper bounds of the records and bytes in the table, if counted before.
    fn bound(&self) -> Option<(u64, u64)> {
        let (rows, bytes, rows_then, bytes_then) = self.counted?;
        let (rows_now, bytes_now) = self.bounds.added();
        Some((
            rows.saturating_add(rows_now.saturating_sub(rows_then)),
            bytes.saturating_add(bytes_now.saturating_sub(bytes_then)),
        ))
    }

    /// Deletes expired records, then the oldest settled ones above the bounds.
    pub fn sweep(&mut self) -> rusqlite::Result<()> {
        let now = now_ms() as i64;
        let expired = self.delete_chunked(
            "DELETE FROM records WHERE key IN (SELECT key FROM records WHERE expires_ms < ?1 LIMIT ?2)",
            now,
        )?;
        if let Some((rows, bytes, a, b)) = self.counted {
            self.counted = Some((rows.saturating_sub(expired), bytes, a, b));
        }
        if let Some((rows, bytes)) = self.bound() {
            if rows <= self.limits.max_entries && bytes <= self.limits.max_bytes {
                // Under both bounds for certain: nothing to count or evict.
                return Ok(());
            }
        }
        let (rows_then, bytes_then) = self.bounds.added();
        let rows: i64 = self
            .db
            .query_row("SELECT count(*) FROM records", [], |r| r.get(0))?;
        let rows = rows as u64;
        let over_entries = rows.saturating_sub(self.limits.max_entries);
        let mut evicted = 0;
        if over_entries > 0 {
            evicted = self.delete_up_to(
                &format!("DELETE FROM records WHERE key IN (SELECT key FROM records WHERE {EVICTABLE} ORDER BY expires_ms, rowid LIMIT ?1)"),
                over_entries,
            )?;
        }
        let bytes: i64 = self.db.query_row(
            "SELECT coalesce(sum(coalesce(length(body), 0) + coalesce(length(progress), 0)), 0) FROM records",
            [],
            |r| r.get(0),
        )?;
        let bytes = bytes as u64;
        // Evictions below only lower the bytes: still an upper bound.
        self.counted = Some((rows.saturating_sub(evicted), bytes, rows_then, bytes_then));
        let over_bytes = bytes.saturating_sub(self.limits.max_bytes);
        if over_bytes > 0 {
            // The oldest settled records whose sizes, added up in age order, cover the excess.
            self.db.execute(
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
            )?;
        }
        Ok(())
    }

    /// Runs `sql` (parameters: `arg`, the chunk size) until it deletes less than a chunk.
    fn delete_chunked(&self, sql: &str, arg: i64) -> rusqlite::Result<u64> {
        let mut total = 0;
        loop {
            let n = self.db.execute(sql, [arg, CHUNK])? as u64;
            total += n;
            if n < CHUNK as u64 {
                return Ok(total);
            }
        }
    }

    /// Runs `sql` (parameter: a row count) in chunks until `count` rows are gone or none go.
    fn delete_up_to(&self, sql: &str, count: u64) -> rusqlite::Result<u64> {
        let mut total = 0;
        while total < count {
            let n = self
                .db
                .execute(sql, [(count - total).min(CHUNK as u64) as i64])?
                as u64;
            if n == 0 {
                break;
            }
            total += n;
        }
        Ok(total)
    }
}
