//! The decision log on disk, and its one writer.
//!
//! The log is a SQLite database in WAL mode with `synchronous = FULL`: a
//! transaction that has committed survives a crash of the process or the
//! machine. One writer thread owns the only writing connection. Deciding
//! threads hand it jobs (decisions and the packs that made them) with a
//! callback; it takes every job waiting, up to a group's size, writes them
//! in one transaction and commits, then calls each job's callback. So a
//! decision is acknowledged only once it is durable, while one `fsync`
//! serves every decision that arrived during the previous commit (group
//! commit): under load the groups grow and the cost per decision falls.
//!
//! A group that cannot be committed (a full disk, a read-only file system,
//! an I/O error) is rolled back whole and each of its jobs is told why; the
//! thread goes on. The log is then marked failing ([`CommitStats::failing`])
//! until a commit succeeds again: while idle and failing, the writer tries
//! a small commit every second, so it notices by itself when space or
//! writability (or a cluster's PostgreSQL) returns.
//!
//! ```text
//! decisions(seq, decision_id, tx_id, run, decided_at, action,
//!           pack_name, pack_version, pack_serial, pack_digest, plugins,
//!           tx, decision, prev_hash, hash)        one row per decision, chained
//! packs(digest, name, version, serial, archive)   each deciding pack's archive,
//!                                                 written once per pack
//! meta(key, value)                                the format's version
//! journal(position, tx_id, time, amount, digest,  the transactions history
//!         seq)                                    remembers, each pointing at
//!                                                 its decision (crate::journal)
//! ```

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use super::chain::{Entry, GENESIS, row_hash};
use super::errors::AuditError;
use crate::journal::JournalRow;

/// The format of the log this host writes and reads.
pub const FORMAT: &str = "1";

/// The most decisions one group commits, by default.
pub const DEFAULT_MAX_GROUP: usize = 4096;

/// While the log cannot be written, how often the idle writer probes it.
const PROBE_EVERY: Duration = Duration::from_secs(1);

/// The bytes a probe commits (then removes): enough to need fresh space.
const PROBE_BYTES: usize = 64 * 1024;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS packs (
    digest  TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    version TEXT NOT NULL,
    serial  INTEGER NOT NULL,
    archive BLOB
);
CREATE TABLE IF NOT EXISTS decisions (
    seq          INTEGER PRIMARY KEY,
    decision_id  TEXT NOT NULL UNIQUE,
    tx_id        TEXT NOT NULL,
    run          TEXT NOT NULL,
    decided_at   TEXT NOT NULL,
    action       TEXT NOT NULL,
    pack_name    TEXT NOT NULL,
    pack_version TEXT NOT NULL,
    pack_serial  INTEGER NOT NULL,
    pack_digest  TEXT NOT NULL,
    plugins      TEXT NOT NULL,
    tx           TEXT NOT NULL,
    decision     TEXT NOT NULL,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL
);
";

/// A pack that decided logged rows, with its archive (`.qpack` bytes) so
/// that `audit replay` can rebuild it.
#[derive(Debug, Clone)]
pub struct PackRecord {
    /// The sha256 of its manifest.
    pub digest: String,
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Its serial.
    pub serial: u64,
    /// The pack as an archive, if it could be made.
    pub archive: Option<Arc<Vec<u8>>>,
}

/// Where a committed job's rows are in the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// The first row's sequence number (one past the last row before it
    /// when the job had no rows).
    pub first_seq: i64,
    /// How many rows the job added.
    pub rows: usize,
    /// How many decisions the group that committed it held.
    pub group: usize,
}

/// What a job's callback is told: where its rows are, or why they are not
/// in the log.
pub type Outcome = Result<Appended, AuditError>;

/// Called once the job's group has committed, or failed to.
pub type Done = Box<dyn FnOnce(Outcome) + Send>;

/// A batch of decisions to append, with the packs they name.
pub struct Job {
    /// Packs to record first (ignored when already recorded).
    pub packs: Vec<PackRecord>,
    /// The decisions, in order.
    pub entries: Vec<Entry>,
    /// Journal entries committed with the decisions they point at, in the
    /// order of those decisions (`JournalRow::entry`).
    pub journal: Vec<JournalRow>,
    /// Told the outcome once the group is committed.
    pub done: Done,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("packs", &self.packs.len())
            .field("entries", &self.entries.len())
            .finish_non_exhaustive()
    }
}

/// Counters of the writer's commits, for metrics.
#[derive(Debug, Default)]
pub struct CommitStats {
    groups: AtomicU64,
    rows: AtomicU64,
    largest: AtomicU64,
    failures: AtomicU64,
    /// Why the last commit failed, while no commit or probe has succeeded
    /// since.
    failing: Mutex<Option<String>>,
}

impl CommitStats {
    /// Groups committed.
    pub fn groups(&self) -> u64 {
        self.groups.load(Ordering::Relaxed)
    }

    /// Decisions committed.
    pub fn rows(&self) -> u64 {
        self.rows.load(Ordering::Relaxed)
    }

    /// The most decisions one group held.
    pub fn largest_group(&self) -> u64 {
        self.largest.load(Ordering::Relaxed)
    }

    /// Groups that failed to commit.
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    /// Why the log cannot be written, while it cannot: set when a group
    /// fails to commit, cleared once a group or the writer's probe (a
    /// small commit tried every second while idle) commits again.
    pub fn failing(&self) -> Option<String> {
        self.failing
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Marks the log failing (`Some`) or writable again (`None`): the
    /// writer does on a commit or probe; the cluster's journal does when
    /// PostgreSQL cannot be reached before anything reaches the writer.
    pub(crate) fn set_failing(&self, problem: Option<String>) {
        *self.failing.lock().unwrap_or_else(|p| p.into_inner()) = problem;
    }
}

/// Opens (creating it if needed) the log at `path` for writing: WAL,
/// `synchronous = FULL`, the schema, the format checked.
pub fn open_for_writing(path: &Path) -> Result<Connection, AuditError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| AuditError::Io {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    let conn = Connection::open(path).map_err(|e| AuditError::sqlite(path, e))?;
    let sql = |e| AuditError::sqlite(path, e);
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(sql)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(AuditError::Format {
            path: path.to_path_buf(),
            problem: format!("SQLite keeps it in journal mode {mode}, not WAL"),
        });
    }
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(sql)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(sql)?;
    conn.execute_batch(SCHEMA).map_err(sql)?;
    crate::journal::ensure_schema(&conn).map_err(sql)?;
    let format: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'format'", [], |r| {
            r.get(0)
        })
        .optional()
        .map_err(sql)?;
    match format {
        None => {
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('format', ?1)",
                [FORMAT],
            )
            .map_err(sql)?;
        }
        Some(f) if f == FORMAT => {}
        Some(f) => {
            return Err(AuditError::Format {
                path: path.to_path_buf(),
                problem: format!("format {f}, this host writes {FORMAT}"),
            });
        }
    }
    Ok(conn)
}

/// Opens an existing log for reading.
pub fn open_for_reading(path: &Path) -> Result<Connection, AuditError> {
    if !path.is_file() {
        return Err(AuditError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such decision log"),
        });
    }
    // Read-write without create: reading a WAL database may need to recover
    // the write-ahead log a killed writer left behind.
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| AuditError::sqlite(path, e))?;
    let format: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'format'", [], |r| {
            r.get(0)
        })
        .optional()
        .map_err(|e| AuditError::Format {
            path: path.to_path_buf(),
            problem: e.to_string(),
        })?;
    if format.as_deref() != Some(FORMAT) {
        return Err(AuditError::Format {
            path: path.to_path_buf(),
            problem: format!(
                "format {}, this host reads {FORMAT}",
                format.unwrap_or_else(|| "unknown".into())
            ),
        });
    }
    Ok(conn)
}

/// The last row's sequence number and hash: where the chain continues.
fn head(conn: &Connection, path: &Path) -> Result<(i64, String), AuditError> {
    let last: Option<(i64, String)> = conn
        .query_row(
            "SELECT seq, hash FROM decisions ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(|e| AuditError::sqlite(path, e))?;
    Ok(last.unwrap_or_else(|| (0, GENESIS.to_owned())))
}

/// Builds a [`LogWriter`].
#[derive(Debug, Clone)]
pub struct LogWriterBuilder {
    path: PathBuf,
    max_group: usize,
}

impl LogWriterBuilder {
    /// The most decisions one group commits (default
    /// [`DEFAULT_MAX_GROUP`]); a job is never split.
    pub fn max_group(mut self, decisions: usize) -> Self {
        self.max_group = decisions.max(1);
        self
    }

    /// Opens the log and starts its writer thread.
    pub fn spawn(self) -> Result<LogWriter, AuditError> {
        let conn = open_for_writing(&self.path)?;
        let (seq, hash) = head(&conn, &self.path)?;
        let store = SqliteStore {
            conn,
            path: self.path.clone(),
            seq,
            hash,
            archived: HashSet::new(),
        };
        self.spawn_on(store)
    }

    /// Starts the writer thread committing to `store`.
    pub(crate) fn spawn_on(self, store: impl Store) -> Result<LogWriter, AuditError> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let stats = Arc::new(CommitStats::default());
        let mut state = WriterState {
            store,
            max_group: self.max_group,
            stats: Arc::clone(&stats),
        };
        let thread = std::thread::Builder::new()
            .name("qorgan-decision-log".into())
            .spawn(move || state.run(&queue))
            .map_err(AuditError::Thread)?;
        Ok(LogWriter {
            jobs: Some(jobs),
            thread: Some(thread),
            stats,
            path: self.path,
        })
    }
}

/// Where a [`LogWriter`] commits its groups: the SQLite file of one node,
/// or the PostgreSQL of a cluster (`crate::cluster`).
pub(crate) trait Store: Send + 'static {
    /// Writes the group in one transaction and commits it; each job's
    /// first sequence number, or `None` for a job left out because one of
    /// its journal entries already has a decision (another replica of a
    /// cluster decided it). Nothing of a group that fails is kept.
    fn commit(&mut self, group: &[Job]) -> Result<Vec<Option<i64>>, AuditError>;

    /// A small commit that needs the store to be writable, tried every
    /// second while it is failing.
    fn probe(&mut self) -> Result<(), AuditError>;
}

/// The one writer of a decision log: a thread committing jobs in groups.
/// Dropping it (or [`LogWriter::close`]) commits every job already handed
/// over, then stops the thread.
#[derive(Debug)]
pub struct LogWriter {
    jobs: Option<Sender<Job>>,
    thread: Option<JoinHandle<()>>,
    stats: Arc<CommitStats>,
    path: PathBuf,
}

impl LogWriter {
    /// A writer for the log at `path` (created if missing).
    pub fn builder(path: impl Into<PathBuf>) -> LogWriterBuilder {
        LogWriterBuilder {
            path: path.into(),
            max_group: DEFAULT_MAX_GROUP,
        }
    }

    /// The log's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The writer's commit counters.
    pub fn stats(&self) -> &Arc<CommitStats> {
        &self.stats
    }

    /// Hands `job` to the writer. Its callback is called once the group
    /// holding it has committed (or failed to); if the writer has stopped,
    /// the job is handed back.
    pub fn submit(&self, job: Job) -> Result<(), Job> {
        match &self.jobs {
            Some(jobs) => jobs.send(job).map_err(|e| e.0),
            None => Err(job),
        }
    }

    /// Commits everything handed over, then stops the writer.
    pub fn close(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.jobs.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for LogWriter {
    fn drop(&mut self) {
        self.shutdown();
    }
}

struct WriterState<S> {
    store: S,
    max_group: usize,
    stats: Arc<CommitStats>,
}

/// The SQLite file of one node's log.
struct SqliteStore {
    conn: Connection,
    path: PathBuf,
    seq: i64,
    hash: String,
    /// Packs whose archive the log already holds.
    archived: HashSet<String>,
}

impl<S: Store> WriterState<S> {
    fn run(&mut self, queue: &Receiver<Job>) {
        loop {
            // The idle writer wakes every second to probe while the log is
            // failing, including when something else (a cluster's journal)
            // marked it failing while the writer waited.
            let first = match queue.recv_timeout(PROBE_EVERY) {
                Ok(job) => job,
                Err(RecvTimeoutError::Timeout) => {
                    if self.stats.failing().is_some() {
                        self.probe();
                    }
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            };
            let mut rows = first.entries.len();
            let mut group = vec![first];
            while rows < self.max_group {
                match queue.try_recv() {
                    Ok(job) => {
                        rows += job.entries.len();
                        group.push(job);
                    }
                    Err(_) => break,
                }
            }
            match self.store.commit(&group) {
                Ok(firsts) => {
                    self.recovered();
                    self.stats.groups.fetch_add(1, Ordering::Relaxed);
                    self.stats.rows.fetch_add(rows as u64, Ordering::Relaxed);
                    self.stats.largest.fetch_max(rows as u64, Ordering::Relaxed);
                    for (job, first_seq) in group.into_iter().zip(firsts) {
                        let Some(first_seq) = first_seq else {
                            (job.done)(Err(AuditError::NotDurable(
                                "its journal entries were decided meanwhile by another replica, whose decisions the log keeps".into(),
                            )));
                            continue;
                        };
                        let appended = Appended {
                            first_seq,
                            rows: job.entries.len(),
                            group: rows,
                        };
                        (job.done)(Ok(appended));
                    }
                }
                Err(error) => {
                    // The transaction was rolled back when it was dropped;
                    // the chain's head did not move.
                    self.stats.failures.fetch_add(1, Ordering::Relaxed);
                    let message = describe(&error);
                    tracing::error!(error = %message, decisions = rows, "a group of decisions could not be committed; none of them is acknowledged");
                    if error.fault().is_some() {
                        self.stats.set_failing(Some(message.clone()));
                    }
                    for job in group {
                        (job.done)(Err(AuditError::NotDurable(message.clone())));
                    }
                }
            }
        }
    }

    /// Clears a failure once the log is written again.
    fn recovered(&self) {
        if let Some(problem) = self.stats.failing() {
            tracing::info!(was = %problem, "the decision log can be written again");
            self.stats.set_failing(None);
        }
    }

    /// Tries whether the log can be written again.
    fn probe(&mut self) {
        match self.store.probe() {
            Ok(()) => self.recovered(),
            Err(error) => {
                let message = describe(&error);
                tracing::debug!(error = %message, "the decision log still cannot be written");
                if error.fault().is_some() {
                    self.stats.set_failing(Some(message));
                }
            }
        }
    }
}

impl Store for SqliteStore {
    /// Commits a row of [`PROBE_BYTES`] to `meta` (so that the commit
    /// needs fresh space), then removes it.
    fn probe(&mut self) -> Result<(), AuditError> {
        let path = self.path.clone();
        let sql = |e| AuditError::sqlite(&path, e);
        let write = |conn: &Connection, statement: &str| -> Result<(), AuditError> {
            conn.execute_batch(statement).map_err(sql)
        };
        let filler = "0".repeat(PROBE_BYTES);
        let result = write(&self.conn, "BEGIN IMMEDIATE")
            .and_then(|()| {
                self.conn
                    .execute(
                        "INSERT OR REPLACE INTO meta (key, value) VALUES ('probe', ?1)",
                        [&filler],
                    )
                    .map_err(sql)
            })
            .and_then(|_| write(&self.conn, "COMMIT"))
            .and_then(|()| write(&self.conn, "DELETE FROM meta WHERE key = 'probe'"));
        if result.is_err() && !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        result
    }

    /// The chain's head moves only once the commit succeeded.
    fn commit(&mut self, group: &[Job]) -> Result<Vec<Option<i64>>, AuditError> {
        let path = self.path.clone();
        let sql = |e| AuditError::sqlite(&path, e);
        let tx = self.conn.transaction().map_err(sql)?;
        let mut seq = self.seq;
        let mut hash = self.hash.clone();
        let mut firsts = Vec::with_capacity(group.len());
        {
            let mut pack_stmt = tx
                .prepare_cached(
                    "INSERT INTO packs (digest, name, version, serial, archive)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (digest) DO UPDATE
                     SET archive = coalesce(packs.archive, excluded.archive)",
                )
                .map_err(sql)?;
            let mut row_stmt = tx
                .prepare_cached(
                    "INSERT INTO decisions (seq, decision_id, tx_id, run, decided_at, action,
                        pack_name, pack_version, pack_serial, pack_digest, plugins, tx, decision,
                        prev_hash, hash)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                )
                .map_err(sql)?;
            for job in group {
                for pack in job
                    .packs
                    .iter()
                    .filter(|p| !self.archived.contains(&p.digest))
                {
                    let serial = i64::try_from(pack.serial).unwrap_or(i64::MAX);
                    let archive = pack.archive.as_ref().map(|a| a.as_slice());
                    pack_stmt
                        .execute(params![
                            pack.digest,
                            pack.name,
                            pack.version,
                            serial,
                            archive
                        ])
                        .map_err(sql)?;
                }
                firsts.push(Some(seq + 1));
                let mut journal = job.journal.iter().peekable();
                for (index, entry) in job.entries.iter().enumerate() {
                    seq += 1;
                    while let Some(row) = journal.next_if(|row| row.entry <= index) {
                        if row.entry == index {
                            row.insert(&tx, seq).map_err(sql)?;
                        }
                    }
                    let next = row_hash(&hash, seq, entry);
                    let serial = i64::try_from(entry.pack.serial).unwrap_or(i64::MAX);
                    row_stmt
                        .execute(params![
                            seq,
                            entry.decision_id,
                            entry.tx_id,
                            entry.run,
                            entry.decided_at,
                            entry.action,
                            entry.pack.name,
                            entry.pack.version,
                            serial,
                            entry.pack.digest,
                            entry.pack.plugins,
                            entry.tx,
                            entry.decision,
                            hash,
                            next,
                        ])
                        .map_err(sql)?;
                    hash = next;
                }
            }
        }
        tx.commit().map_err(sql)?;
        for job in group {
            for pack in job.packs.iter().filter(|p| p.archive.is_some()) {
                self.archived.insert(pack.digest.clone());
            }
        }
        self.seq = seq;
        self.hash = hash;
        Ok(firsts)
    }
}

/// An error of the log as an operator reads it: the SQLite fault, if
/// it is one, then what SQLite said, naming the log's file.
pub(crate) fn describe(error: &AuditError) -> String {
    match error.fault() {
        Some(code) => format!("{code}: {error}"),
        None => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::chain::tests::entry;
    use crate::testing::Tmpfs;

    fn tempdir() -> tempfile::TempDir {
        match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => panic!("tempdir: {e}"),
        }
    }

    fn append(writer: &LogWriter, ids: &[&str]) -> Appended {
        let (tell, told) = mpsc::channel();
        let job = Job {
            packs: Vec::new(),
            entries: ids.iter().map(|id| entry(id)).collect(),
            journal: Vec::new(),
            done: Box::new(move |outcome| {
                let _ = tell.send(outcome);
            }),
        };
        assert!(writer.submit(job).is_ok(), "writer stopped");
        match told.recv() {
            Ok(Ok(appended)) => appended,
            other => panic!("not appended: {other:?}"),
        }
    }

    #[test]
    fn appended_rows_are_numbered_and_the_chain_continues_after_reopening() {
        let dir = tempdir();
        let path = dir.path().join("log/decisions.sqlite");
        let writer = match LogWriter::builder(&path).spawn() {
            Ok(w) => w,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(append(&writer, &["1", "2"]).first_seq, 1);
        assert_eq!(append(&writer, &["3"]).first_seq, 3);
        assert_eq!(writer.stats().rows(), 3);
        writer.close();

        let writer = match LogWriter::builder(&path).spawn() {
            Ok(w) => w,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(append(&writer, &["4"]).first_seq, 4);
        writer.close();

        let conn = match open_for_reading(&path) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        let (seq, hash) = match head(&conn, &path) {
            Ok(h) => h,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(seq, 4);
        let prev: String =
            match conn.query_row("SELECT prev_hash FROM decisions WHERE seq = 4", [], |r| {
                r.get(0)
            }) {
                Ok(p) => p,
                Err(e) => panic!("{e}"),
            };
        assert_ne!(prev, GENESIS);
        assert_eq!(hash, row_hash(&prev, 4, &entry("4")));
    }

    #[test]
    fn a_duplicate_decision_id_fails_its_whole_group_and_the_chain_stays_whole() {
        let dir = tempdir();
        let path = dir.path().join("decisions.sqlite");
        let writer = match LogWriter::builder(&path).spawn() {
            Ok(w) => w,
            Err(e) => panic!("{e}"),
        };
        append(&writer, &["1"]);
        let (tell, told) = mpsc::channel();
        let job = Job {
            packs: Vec::new(),
            entries: vec![entry("2"), entry("1")],
            journal: Vec::new(),
            done: Box::new(move |outcome| {
                let _ = tell.send(outcome);
            }),
        };
        assert!(writer.submit(job).is_ok());
        assert!(matches!(told.recv(), Ok(Err(AuditError::NotDurable(_)))));
        assert_eq!(append(&writer, &["2"]).first_seq, 2);
        assert_eq!(writer.stats().failures(), 1);
    }

    fn outcome(writer: &LogWriter, ids: &[&str]) -> Outcome {
        let (tell, told) = mpsc::channel();
        let job = Job {
            packs: Vec::new(),
            entries: ids.iter().map(|id| entry(id)).collect(),
            journal: Vec::new(),
            done: Box::new(move |outcome| {
                let _ = tell.send(outcome);
            }),
        };
        assert!(writer.submit(job).is_ok(), "writer stopped");
        match told.recv() {
            Ok(outcome) => outcome,
            Err(e) => panic!("no outcome: {e}"),
        }
    }

    #[test]
    #[ignore = "needs root to mount a tmpfs; run as root with --include-ignored"]
    fn a_full_disk_acknowledges_nothing_and_the_chain_continues_when_space_returns() {
        let disk = Tmpfs::mount("2m");
        let path = disk.path().join("decisions.sqlite");
        let writer = match LogWriter::builder(&path).spawn() {
            Ok(w) => w,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(append(&writer, &["1", "2"]).first_seq, 1);

        disk.fill("filler");
        let many: Vec<String> = (3..60).map(|i| format!("full-{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        match outcome(&writer, &many) {
            Err(AuditError::NotDurable(problem)) => {
                assert!(problem.contains("SQLITE_FULL"), "{problem}");
                assert!(problem.contains(&path.display().to_string()), "{problem}");
            }
            other => panic!("a full disk acknowledged: {other:?}"),
        }
        assert!(writer.stats().failing().is_some());
        assert!(writer.stats().failures() >= 1);
        assert!(outcome(&writer, &["still-full"]).is_err());

        if let Err(e) = std::fs::remove_file(disk.path().join("filler")) {
            panic!("{e}");
        }
        assert_eq!(append(&writer, &["3"]).first_seq, 3);
        assert_eq!(writer.stats().failing(), None);
        writer.close();

        let verified = match crate::audit::verify(&path, None) {
            Ok(v) => v,
            Err(e) => panic!("the log does not verify after a full disk: {e}"),
        };
        assert_eq!(verified.rows, 3);
    }

    #[test]
    #[ignore = "needs root to mount a tmpfs; run as root with --include-ignored"]
    fn a_log_on_a_read_only_file_system_is_refused_at_opening_and_continues_when_writable() {
        let disk = Tmpfs::mount("8m");
        let path = disk.path().join("decisions.sqlite");
        let writer = match LogWriter::builder(&path).spawn() {
            Ok(w) => w,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(append(&writer, &["1", "2"]).first_seq, 1);
        writer.close();

        // Nothing holds the file system open for writing now, so it can be
        // made read-only, as the kernel does to a failing disk.
        disk.remount("ro");
        // A log in WAL mode needs to write its shared-memory file even to
        // read, so SQLite refuses to open it: the error names the fault and
        // the file, and no writer runs without a durable log behind it.
        match LogWriter::builder(&path).spawn() {
            Err(e) => {
                assert_eq!(e.fault(), Some("SQLITE_CANTOPEN"), "{e}");
                assert!(e.to_string().contains(&path.display().to_string()), "{e}");
            }
            Ok(_) => panic!("a log on a read-only file system was opened for writing"),
        }

        disk.remount("rw");
        let writer = match LogWriter::builder(&path).spawn() {
            Ok(w) => w,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(append(&writer, &["3"]).first_seq, 3);
        writer.close();
        let verified = match crate::audit::verify(&path, None) {
            Ok(v) => v,
            Err(e) => panic!("the log does not verify after a read-only spell: {e}"),
        };
        assert_eq!(verified.rows, 3);
    }

    #[test]
    #[ignore = "needs root to mount a tmpfs; run as root with --include-ignored"]
    fn an_idle_writer_finds_out_when_a_full_disk_has_room_again() {
        let disk = Tmpfs::mount("2m");
        let path = disk.path().join("decisions.sqlite");
        let writer = match LogWriter::builder(&path).spawn() {
            Ok(w) => w,
            Err(e) => panic!("{e}"),
        };
        append(&writer, &["1"]);
        disk.fill("filler");
        let many: Vec<String> = (2..60).map(|i| format!("full-{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert!(outcome(&writer, &many).is_err());
        assert!(writer.stats().failing().is_some());
        if let Err(e) = std::fs::remove_file(disk.path().join("filler")) {
            panic!("{e}");
        }
        // No decision arrives: only the writer's probe can notice.
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while writer.stats().failing().is_some() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(writer.stats().failing(), None);
        assert_eq!(append(&writer, &["2"]).first_seq, 2);
    }
}
