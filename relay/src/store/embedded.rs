//! The embedded store, the default: idempotency records in one SQLite file under `data_dir`
//! (rusqlite with the bundled library, so nothing is needed on the host).
//!
//! Why SQLite: one file, crash-safe transactions, and WAL mode, where a commit is a `write` to
//! the log: a commit has reached the kernel before a request is told it may go on, so it
//! survives `kill -9` of the relay (the failure that matters most here). A record is written
//! *before* the vendor call and settled after it, so a relay that dies at any point leaves
//! either nothing (the vendor was not called) or an in-flight record, which later reads as
//! `outcome_unknown` — never as unused.
//!
//! Durability against a power loss or a kernel crash (`synchronous`, `idempotency.embedded_sync`):
//! `"normal"` (the default) `fsync`s the WAL at each checkpoint, every
//! [`sweep::CHECKPOINT_EVERY`] on a thread of its own, so such a crash can lose the records of
//! about the last half second (a retry of one of those sends again); `"full"` `fsync`s every
//! commit, i.e. every batch, and loses nothing.
//!
//! Requests never touch SQLite themselves: their writes go to the writer thread (`writer`),
//! which commits all that are waiting in one transaction (group commit) and answers each once
//! it is committed. Expiry, size bounds and checkpoints run on a second thread (`sweep`).
//!
//! Health (`/healthz`, and the relay's minute timer): whether sends can be recorded — the file
//! at the path is still the one written (see `file`), and a small write commits through the
//! writer (a full disk, a read-only or immutable file fail it) — not only whether the file
//! answers a read.

use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use rusqlite::Connection;
use tokio::sync::oneshot;

use super::{Store, StoreError};
use crate::idempotency::{Begin, Fingerprint, Hold, Settle};
use crate::startup_error::StartupError;
use writer::{Done, Job, Op};

/// The database file's name inside `data_dir`.
pub const FILE: &str = "idempotency.sqlite3";

const SCHEMA: &str = "
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

/// How far a commit is made durable (SQLite's `synchronous`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncMode {
    /// In the kernel at commit, on disk at the next checkpoint (`synchronous = NORMAL`).
    #[default]
    Normal,
    /// On disk at commit (`synchronous = FULL`): one `fsync` per batch.
    Full,
}

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
    /// To the writer thread; `None` once dropped (see `Drop`).
    jobs: Option<mpsc::Sender<Job>>,
    /// To the sweeper thread.
    asks: Option<mpsc::Sender<sweep::Ask>>,
    threads: Vec<JoinHandle<()>>,
    /// Closed only after both threads closed their connections (see `Drop` and `file`).
    file: file::StoreFile,
    path: PathBuf,
}

fn failed(e: impl std::fmt::Display) -> StoreError {
    StoreError(format!("embedded store: {e}"))
}

/// Opens a connection to the store's file, set up as both threads use it.
fn connect(path: &Path, sync: SyncMode) -> rusqlite::Result<Connection> {
    let db = Connection::open(path)?;
    db.busy_timeout(Duration::from_secs(5))?;
    db.execute_batch(match sync {
        SyncMode::Normal => "PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0;",
        SyncMode::Full => "PRAGMA synchronous = FULL; PRAGMA wal_autocheckpoint = 0;",
    })?;
    Ok(db)
}

impl EmbeddedStore {
    /// Opens (or creates) the store in `data_dir`, sweeps it once, and starts its threads.
    pub fn open(data_dir: &Path, limits: Limits, sync: SyncMode) -> Result<Self, StartupError> {
        // The records hold what vendors answered (names, addresses): only the relay's user may
        // read them.
        let mut dir = std::fs::DirBuilder::new();
        dir.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut dir, 0o700);
        dir.create(data_dir)
            .map_err(|e| file::cannot(data_dir, format!("creating the folder: {e}")))?;
        let path = data_dir.join(FILE);
        let shown = path.clone();
        let cannot = |e: &dyn std::fmt::Display| file::cannot(&shown, e.to_string());
        let (file, created) = file::StoreFile::open(&path)?;
        let db = connect(&path, sync).map_err(|e| cannot(&e))?;
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
        let bounds = Arc::new(sweep::Bounds::default());
        let mut sweeper = sweep::Sweeper::new(
            connect(&path, sync).map_err(|e| cannot(&e))?,
            limits,
            bounds.clone(),
        );
        sweeper.sweep().map_err(|e| cannot(&e))?;
        // Bounded to one: the writer asks without waiting, and one pending sweep is enough.
        let (writer_asks, sweeps) = mpsc::sync_channel(1);
        let (asks_tx, asks) = mpsc::channel();
        let (jobs_tx, jobs) = mpsc::channel();
        let writer = writer::Writer {
            db,
            jobs,
            retention: limits.retention,
            bounds,
            sweeps: writer_asks,
            writes: 0,
        };
        let spawn = |name: &str| std::thread::Builder::new().name(name.to_owned());
        let threads = vec![
            spawn("hail-store-writer")
                .spawn(move || writer.run())
                .map_err(|e| cannot(&e))?,
            spawn("hail-store-sweeper")
                .spawn(move || sweeper.run(asks, sweeps))
                .map_err(|e| cannot(&e))?,
        ];
        Ok(Self {
            jobs: Some(jobs_tx),
            asks: Some(asks_tx),
            threads,
            file,
            path,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Sweeps now, on the sweeper's thread, and waits for it (tests).
    pub fn sweep(&self) -> Result<(), StoreError> {
        let (tell, told) = mpsc::channel();
        self.asks
            .as_ref()
            .ok_or_else(|| failed("closed"))?
            .send(sweep::Ask::SweepAndTell(tell))
            .map_err(|_| failed("the sweeper stopped"))?;
        told.recv()
            .map_err(|_| failed("the sweeper stopped"))?
            .map_err(failed)
    }

    /// Hands `op` to the writer and waits until its batch is committed.
    async fn commit(&self, op: Op) -> Result<Done, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .as_ref()
            .ok_or_else(|| failed("closed"))?
            .send(Job { op, reply })
            .map_err(|_| failed("the writer stopped"))?;
        answer.await.map_err(|_| failed("the writer stopped"))?
    }
}

impl Drop for EmbeddedStore {
    fn drop(&mut self) {
        // Closing the channels ends both threads; waiting for them closes their connections
        // before `file` (SQLite's POSIX locks go with any close of the file in this process).
        self.jobs = None;
        self.asks = None;
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// A writer's answer of the wrong kind: a bug, reported as a store failure (fail closed).
fn mismatched(done: Done) -> StoreError {
    failed(format!("unexpected answer from the writer: {done:?}"))
}

#[async_trait]
impl Store for EmbeddedStore {
    async fn begin(
        &self,
        key: &str,
        fingerprint: Fingerprint,
        hold: Duration,
    ) -> Result<Begin, StoreError> {
        let op = Op::Begin {
            key: key.to_owned(),
            fingerprint,
            hold,
        };
        match self.commit(op).await? {
            Done::Begin(begin) => Ok(begin),
            other => Err(mismatched(other)),
        }
    }

    async fn progress(&self, key: &str, hold: Hold, progress: Bytes) -> Result<bool, StoreError> {
        let op = Op::Progress {
            key: key.to_owned(),
            hold,
            progress,
        };
        match self.commit(op).await? {
            Done::Applied(changed) => Ok(changed),
            other => Err(mismatched(other)),
        }
    }

    async fn settle(
        &self,
        key: &str,
        fingerprint: Fingerprint,
        hold: Hold,
        settle: Settle,
    ) -> Result<bool, StoreError> {
        let op = Op::Settle {
            key: key.to_owned(),
            fingerprint,
            hold,
            settle,
        };
        match self.commit(op).await? {
            Done::Applied(applied) => Ok(applied),
            other => Err(mismatched(other)),
        }
    }

    async fn health(&self) -> Result<(), StoreError> {
        self.file.check().map_err(failed)?;
        match self.commit(Op::Probe).await {
            Ok(Done::Probed) => Ok(()),
            Ok(other) => Err(mismatched(other)),
            Err(e) => Err(failed(format!(
                "a write failed, sends cannot be recorded: {e}"
            ))),
        }
    }

    fn durable(&self) -> bool {
        true
    }

    fn describe(&self) -> String {
        format!("embedded, {}", self.path.display())
    }
}

pub(crate) mod file;
mod sweep;
#[cfg(test)]
mod tests;
mod writer;
