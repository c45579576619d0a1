//! The embedded store's writer: one thread of its own, off the async workers, that owns the
//! connection every request's record goes through.
//!
//! Group commit: the writer takes every job waiting at that moment (up to [`MAX_BATCH`]) and
//! applies them in one IMMEDIATE transaction, in the order they arrived, so a second `begin` of
//! a key in the same batch sees the first one's record. Only after that transaction committed
//! does any job of the batch get its answer: a request goes on to the vendor only once its
//! record is in the WAL (the crash matrix's guarantee). A batch that fails is rolled back as a
//! whole and every job in it gets the error, so none of them goes on.
//!
//! The cost of a commit (a `write` to the WAL; with `synchronous = FULL` also its `fsync`) is
//! paid once per batch instead of once per request, and the async workers never wait on
//! SQLite's lock: they wait on a oneshot channel while serving other requests.

use std::sync::{mpsc, Arc};
use std::time::Duration;

use bytes::Bytes;
use rusqlite::{params, Connection, OptionalExtension};
use tokio::sync::oneshot;

use super::sweep::Bounds;
use crate::idempotency::{
    decide, now_ms, settled, Begin, Fingerprint, Hold, Phase, Record, Settle, State, StoredResponse,
};
use crate::store::StoreError;

/// Most jobs in one transaction: bounds how long the first of them waits for the last.
const MAX_BATCH: usize = 512;

/// Writes between two requests for a sweep.
const SWEEP_EVERY: u64 = 1024;

/// One write a request waits for.
pub(super) enum Op {
    Begin {
        key: String,
        fingerprint: Fingerprint,
        hold: Duration,
    },
    Progress {
        key: String,
        hold: Hold,
        progress: Bytes,
    },
    Settle {
        key: String,
        fingerprint: Fingerprint,
        hold: Hold,
        settle: Settle,
    },
    /// The health check's write: a commit as every send makes.
    Probe,
}

/// What an [`Op`] found, sent once its batch committed.
#[derive(Debug)]
pub(super) enum Done {
    Begin(Begin),
    /// Progress or settle: whether the hold was still the record's.
    Applied(bool),
    Probed,
}

pub(super) struct Job {
    pub op: Op,
    pub reply: oneshot::Sender<Result<Done, StoreError>>,
}

/// The writer thread's state.
pub(super) struct Writer {
    pub db: Connection,
    pub jobs: mpsc::Receiver<Job>,
    pub retention: Duration,
    pub bounds: Arc<Bounds>,
    /// Asks the sweeper for a sweep; never waits for it.
    pub sweeps: mpsc::SyncSender<()>,
    /// Jobs committed so far.
    pub writes: u64,
}

impl Writer {
    /// Runs until every sender is gone (the store dropped).
    pub fn run(mut self) {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while let Ok(first) = self.jobs.recv() {
            batch.push(first);
            while batch.len() < MAX_BATCH {
                match self.jobs.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            self.commit(&mut batch);
        }
    }

    /// Applies and commits `batch`, then answers every job of it (and empties it).
    fn commit(&mut self, batch: &mut Vec<Job>) {
        match self.apply(batch) {
            Ok((answers, rows, bytes)) => {
                // Committed, nobody told yet (the crash tests stop here; only a batch that
                // recorded a send, not a lone health probe).
                if rows > 0 {
                    crate::failpoint::hit_sync("store::after_commit");
                }
                self.bounds.wrote(rows, bytes);
                let writes = batch.len() as u64;
                for (job, answer) in batch.drain(..).zip(answers) {
                    // A request that gave up (its client left) no longer listens: nothing lost,
                    // its record is committed.
                    let _ = job.reply.send(Ok(answer));
                }
                let before = self.writes;
                self.writes += writes;
                if before / SWEEP_EVERY != self.writes / SWEEP_EVERY {
                    // Full: a sweep is already asked for.
                    let _ = self.sweeps.try_send(());
                }
            }
            Err(e) => {
                let error = StoreError(format!("embedded store: {e}"));
                for job in batch.drain(..) {
                    let _ = job.reply.send(Err(error.clone()));
                }
            }
        }
    }

    /// One transaction for the whole batch: the answers, the records it may have added and the
    /// bytes of answers and progress it wrote.
    fn apply(&mut self, batch: &[Job]) -> rusqlite::Result<(Vec<Done>, u64, u64)> {
        let retention = self.retention;
        let tx = self
            .db
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let (mut rows, mut bytes) = (0, 0);
        let mut answers = Vec::with_capacity(batch.len());
        for job in batch {
            let now = now_ms();
            answers.push(match &job.op {
                Op::Begin {
                    key,
                    fingerprint,
                    hold,
                } => {
                    let existing = read(&tx, key, now)?;
                    let (begin, record) = decide(existing.as_ref(), *fingerprint, now, *hold);
                    if let Some(record) = &record {
                        write(&tx, key, record, now, retention)?;
                        rows += 1;
                        bytes += size(record);
                    }
                    Done::Begin(begin)
                }
                Op::Progress {
                    key,
                    hold,
                    progress,
                } => {
                    let changed = tx
                        .prepare_cached(
                            "UPDATE records SET progress = ?3 WHERE key = ?1 AND state = 0 AND until_ms = ?2",
                        )?
                        .execute(params![key, hold.0 as i64, &progress[..]])?;
                    bytes += progress.len() as u64;
                    Done::Applied(changed == 1)
                }
                Op::Settle {
                    key,
                    fingerprint,
                    hold,
                    settle,
                } => {
                    let held = read(&tx, key, now)?;
                    match settled(held.as_ref(), *fingerprint, *hold, settle.clone(), now) {
                        Some(record) => {
                            write(&tx, key, &record, now, retention)?;
                            bytes += size(&record);
                            Done::Applied(true)
                        }
                        None => Done::Applied(false),
                    }
                }
                Op::Probe => {
                    tx.prepare_cached(
                        "INSERT INTO probe (id, at_ms) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET at_ms = ?1",
                    )?
                    .execute([now as i64])?;
                    Done::Probed
                }
            });
        }
        // Written but not yet committed: a crash here loses the whole batch, and no request of
        // it has gone on to its vendor.
        if rows > 0 {
            crate::failpoint::hit_sync("store::before_commit");
        }
        tx.commit()?;
        Ok((answers, rows, bytes))
    }
}

/// What a record adds to the stored bytes (as the sweep adds them up).
pub(super) fn size(record: &Record) -> u64 {
    let body = match &record.state {
        State::Final(r) => r.body.len(),
        _ => 0,
    };
    (body + record.progress.as_ref().map_or(0, Bytes::len)) as u64
}

fn read(db: &Connection, key: &str, now: u64) -> rusqlite::Result<Option<Record>> {
    db.prepare_cached(
        "SELECT fingerprint, state, until_ms, started_ms, progress, status, problem, body, sent_ms
         FROM records WHERE key = ?1 AND expires_ms >= ?2",
    )?
    .query_row(params![key, now as i64], |r| {
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

fn write(
    db: &Connection,
    key: &str,
    record: &Record,
    now: u64,
    retention: Duration,
) -> rusqlite::Result<()> {
    let state = record.state.phase() as u8;
    let response = match &record.state {
        State::Final(r) => Some(r),
        _ => None,
    };
    let expires = now.saturating_add(retention.as_millis() as u64);
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
        record.until_ms as i64,
        record.started_ms as i64,
        expires as i64,
        record.progress.as_deref(),
        response.map(|r| i64::from(r.status)),
        response.map(|r| r.is_problem()),
        response.map(|r| &r.body[..]),
        record.sent_ms as i64,
    ])
    .map(|_| ())
}
