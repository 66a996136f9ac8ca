//! The service's journal, kept inside its decision log (SQLite, WAL,
//! `synchronous = FULL`).
//!
//! A journal entry is a row of the `journal` table that points at the
//! decision row of the same transaction (`seq`); the log's writer inserts
//! both in the same SQLite transaction. So an entry is durable exactly
//! when its decision is, and is acknowledged only then: the durability
//! point of this journal is the log's group commit. Between
//! [`Journal::append`] and that commit an entry is *pending*: known to
//! lookups (a concurrent retry finds it) but not yet on disk; the caller
//! hands [`SqliteJournal::rows`] to the log writer with the decisions and
//! calls [`Settler::settle`] once the commit succeeded or failed.
//!
//! ```text
//! journal(position, tx_id, time, amount, digest, seq)   one row per journaled
//!                                                        transaction; seq is its
//!                                                        decision's row
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use qorgan::journal::{Appended, BodyDigest, Entry, Journal, JournalError, Known, Record};

/// The journal's table, created with the decision log's schema.
pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS journal (
    position INTEGER PRIMARY KEY,
    tx_id    TEXT NOT NULL,
    time     INTEGER NOT NULL,
    amount   INTEGER NOT NULL,
    digest   BLOB NOT NULL,
    seq      INTEGER NOT NULL,
    footprint BLOB
);
CREATE INDEX IF NOT EXISTS journal_tx_id ON journal (tx_id, position);
";

/// Creates the journal's table, or brings one written by an earlier
/// version up to date: a journal without the `footprint` column gets it,
/// and its old rows (without one) are restored from their bodies.
pub(crate) fn ensure_schema(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(SCHEMA)?;
    let has_footprint = conn
        .prepare("SELECT 1 FROM pragma_table_info('journal') WHERE name = 'footprint'")?
        .exists([])?;
    if !has_footprint {
        conn.execute_batch("ALTER TABLE journal ADD COLUMN footprint BLOB")?;
    }
    Ok(())
}

/// A journal entry for the log writer to insert beside its decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalRow {
    /// The index of the decision among its job's entries.
    pub entry: usize,
    /// The entry's position.
    pub position: u64,
    /// The transaction's id.
    pub id: String,
    /// Its time, seconds since the epoch.
    pub time: i64,
    /// Its amount in tiyn.
    pub amount: i64,
    /// The digest of its body.
    pub digest: BodyDigest,
    /// What history keeps of it ([`qorgan::history::Footprint`]).
    pub footprint: Vec<u8>,
}

impl JournalRow {
    /// Inserts the row, pointing at the decision row `seq`, inside the
    /// log writer's transaction.
    pub(crate) fn insert(&self, tx: &rusqlite::Transaction<'_>, seq: i64) -> rusqlite::Result<()> {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO journal (position, tx_id, time, amount, digest, seq, footprint)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        let position = i64::try_from(self.position).unwrap_or(i64::MAX);
        stmt.execute(params![
            position,
            self.id,
            self.time,
            self.amount,
            &self.digest[..],
            seq,
            (!self.footprint.is_empty()).then_some(&self.footprint[..]),
        ])?;
        Ok(())
    }
}

/// The entries appended and not yet settled, by id; told when one is
/// decided or settled.
#[derive(Debug, Default)]
struct Pending {
    entries: Mutex<HashMap<String, Known>>,
    changed: Condvar,
}

impl Pending {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Known>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

type PendingMap = Arc<Pending>;

/// Settles pending entries once the log's commit of them is over; cheap
/// to clone, usable from the log writer's thread.
#[derive(Debug, Clone)]
pub struct Settler {
    pending: PendingMap,
}

impl Settler {
    /// The entries `(id, position)` were decided: a repeat of one of them
    /// is answered with `decision` from now on.
    pub fn decided(&self, entries: &[(String, u64, String)]) {
        let mut pending = self.pending.lock();
        for (id, position, decision) in entries {
            if let Some(known) = pending.get_mut(id).filter(|k| k.position == *position) {
                known.decision = Some(decision.clone());
            }
        }
        drop(pending);
        self.pending.changed.notify_all();
    }

    /// The entries `(id, position)` are committed (lookups now find them
    /// in the database) or failed to be (their positions stay unused).
    pub fn settle(&self, entries: &[(String, u64)]) {
        let mut pending = self.pending.lock();
        for (id, position) in entries {
            if pending.get(id).is_some_and(|k| k.position == *position) {
                pending.remove(id);
            }
        }
        drop(pending);
        self.pending.changed.notify_all();
    }
}

/// The journal inside a decision log. See the module documentation.
#[derive(Debug)]
pub struct SqliteJournal {
    conn: Connection,
    path: PathBuf,
    /// The last position handed out.
    last: u64,
    watermark: Option<i64>,
    pending: PendingMap,
}

fn sql(path: &Path) -> impl Fn(rusqlite::Error) -> JournalError + '_ {
    move |source| JournalError::Storage {
        path: path.to_path_buf(),
        source: Box::new(source),
    }
}

fn digest_of(bytes: Vec<u8>) -> BodyDigest {
    let mut digest = [0u8; 32];
    if bytes.len() == digest.len() {
        digest.copy_from_slice(&bytes);
    }
    digest
}

impl SqliteJournal {
    /// Opens the journal of the decision log at `path`, whose writer has
    /// created the schema.
    pub fn open(path: &Path) -> Result<SqliteJournal, JournalError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sql(path))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(sql(path))?;
        ensure_schema(&conn).map_err(sql(path))?;
        let (last, watermark): (Option<i64>, Option<i64>) = conn
            .query_row("SELECT max(position), max(time) FROM journal", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .map_err(sql(path))?;
        Ok(SqliteJournal {
            conn,
            path: path.to_path_buf(),
            last: last.and_then(|l| u64::try_from(l).ok()).unwrap_or(0),
            watermark,
            pending: Arc::default(),
        })
    }

    /// Settles this journal's pending entries from another thread.
    pub fn settler(&self) -> Settler {
        Settler {
            pending: Arc::clone(&self.pending),
        }
    }

    /// How many entries the database holds.
    pub fn len(&self) -> Result<u64, JournalError> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM journal", [], |r| r.get(0))
            .map_err(sql(&self.path))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Whether the database holds no entry.
    pub fn is_empty(&self) -> Result<bool, JournalError> {
        Ok(self.len()? == 0)
    }

    /// The rows to hand the log writer for the new entries among
    /// `appended` (as [`Journal::append`] returned them for `batch`), each
    /// pointing at the decision at the same index of the job's entries.
    pub fn rows(batch: &[Record], appended: &[Appended]) -> Vec<JournalRow> {
        batch
            .iter()
            .zip(appended)
            .enumerate()
            .filter_map(|(entry, (record, appended))| match appended {
                Appended::New(position) => Some(JournalRow {
                    entry,
                    position: *position,
                    id: record.id.clone(),
                    time: record.time,
                    amount: record.amount,
                    digest: record.digest,
                    footprint: record.footprint.clone(),
                }),
                Appended::Existing(_) => None,
            })
            .collect()
    }

    fn stored(&self, id: &str, horizon: i64) -> Result<Option<Known>, JournalError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT j.position, j.time, j.digest, d.decision
                 FROM journal j JOIN decisions d ON d.seq = j.seq
                 WHERE j.tx_id = ?1 ORDER BY j.position DESC LIMIT 1",
            )
            .map_err(sql(&self.path))?;
        let known = stmt
            .query_row([id], |r| {
                Ok(Known {
                    position: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                    time: r.get(1)?,
                    digest: digest_of(r.get(2)?),
                    decision: r.get(3)?,
                })
            })
            .optional()
            .map_err(sql(&self.path))?;
        Ok(known.filter(|k| k.time > horizon))
    }

    /// What the journal knows of `id` after `horizon`, waiting up to
    /// `patience` while it is journaled and not yet decided (its decision
    /// is being made on another thread). Still undecided after that, it
    /// comes back without its decision.
    pub fn lookup_decided(
        &mut self,
        id: &str,
        horizon: i64,
        patience: Duration,
    ) -> Result<Option<Known>, JournalError> {
        let deadline = std::time::Instant::now() + patience;
        let mut pending = self.pending.lock();
        loop {
            let undecided = pending
                .get(id)
                .is_some_and(|k| k.time > horizon && k.decision.is_none());
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if !undecided || left.is_zero() {
                break;
            }
            pending = self
                .pending
                .changed
                .wait_timeout(pending, left)
                .map_or_else(|p| p.into_inner().0, |(guard, _)| guard);
        }
        drop(pending);
        self.lookup(id, horizon)
    }
}

impl Journal for SqliteJournal {
    fn lookup(&mut self, id: &str, horizon: i64) -> Result<Option<Known>, JournalError> {
        let pending = self
            .pending
            .lock()
            .get(id)
            .filter(|k| k.time > horizon)
            .cloned();
        match pending {
            Some(known) => Ok(Some(known)),
            None => self.stored(id, horizon),
        }
    }

    /// Places the batch; the new entries are pending until the log
    /// commits the rows [`SqliteJournal::rows`] makes of them.
    fn append(&mut self, batch: &[Record], horizon: i64) -> Result<Vec<Appended>, JournalError> {
        let mut out = Vec::with_capacity(batch.len());
        for record in batch {
            if let Some(known) = self.lookup(&record.id, horizon)? {
                out.push(Appended::Existing(known));
                continue;
            }
            self.last += 1;
            let known = Known {
                position: self.last,
                time: record.time,
                digest: record.digest,
                decision: record.decision.clone(),
            };
            self.pending.lock().insert(record.id.clone(), known);
            self.watermark = Some(self.watermark.map_or(record.time, |w| w.max(record.time)));
            out.push(Appended::New(self.last));
        }
        Ok(out)
    }

    fn since(
        &mut self,
        after: u64,
        horizon: i64,
        limit: usize,
    ) -> Result<Vec<Entry>, JournalError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                // The body is read only for an entry without a footprint
                // (one journaled by an earlier version).
                "SELECT j.position, j.tx_id, j.time, j.amount, j.footprint,
                        CASE WHEN j.footprint IS NULL
                             THEN (SELECT d.tx FROM decisions d WHERE d.seq = j.seq)
                        END
                 FROM journal j
                 WHERE j.position > ?1 AND j.time > ?2
                 ORDER BY j.position LIMIT ?3",
            )
            .map_err(sql(&self.path))?;
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt
            .query_map(params![after, horizon, limit], |r| {
                Ok(Entry {
                    position: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                    id: r.get(1)?,
                    time: r.get(2)?,
                    amount: r.get(3)?,
                    footprint: r.get::<_, Option<Vec<u8>>>(4)?.unwrap_or_default(),
                    tx: r.get::<_, Option<String>>(5)?.unwrap_or_default(),
                })
            })
            .map_err(sql(&self.path))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(sql(&self.path))
    }

    fn watermark(&self) -> Option<i64> {
        self.watermark
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::chain::tests::entry;
    use crate::audit::{Job, LogWriter};
    use qorgan::history::{Footprint, History};
    use qorgan::journal::restore;
    use qorgan::transaction::Transaction;

    fn body(id: &str, hour: u32) -> String {
        format!(
            r#"{{"id":"{id}","timestamp":"2025-03-01T{hour:02}:00:00Z","kind":"transfer","amount":"1.00",
                "currency":"KZT","sender":{{"account":"A","iin":"930724303242"}},"recipient":{{"account":"B"}}}}"#
        )
    }

    fn row(index: usize, id: &str, text: &str, with_footprint: bool) -> JournalRow {
        let tx = match Transaction::from_json(text) {
            Ok(tx) => tx,
            Err(e) => panic!("bad fixture: {e}"),
        };
        JournalRow {
            entry: index,
            position: u64::try_from(index).unwrap_or(0) + 1,
            id: id.into(),
            time: tx.timestamp,
            amount: 100,
            digest: qorgan::journal::body_digest(text),
            footprint: if with_footprint {
                Footprint::of(&tx, 100).encode()
            } else {
                Vec::new()
            },
        }
    }

    #[test]
    fn a_restore_reads_footprints_and_the_bodies_of_entries_without_one() {
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => panic!("tempdir: {e}"),
        };
        let path = dir.path().join("decisions.sqlite");
        let writer = match LogWriter::builder(&path).spawn() {
            Ok(w) => w,
            Err(e) => panic!("{e}"),
        };
        let ids = ["t1", "t2", "t3"];
        let bodies: Vec<String> = (0u32..).zip(ids).map(|(h, id)| body(id, 10 + h)).collect();
        let (tell, told) = std::sync::mpsc::channel();
        let job = Job {
            packs: Vec::new(),
            entries: ids
                .iter()
                .zip(&bodies)
                .map(|(id, text)| crate::audit::Entry {
                    tx: text.clone(),
                    ..entry(id)
                })
                .collect(),
            // The middle entry is as an earlier version journaled it.
            journal: (0..)
                .zip(ids.iter().zip(&bodies))
                .map(|(i, (id, text))| row(i, id, text, i != 1))
                .collect(),
            done: Box::new(move |outcome| {
                let _ = tell.send(outcome.is_ok());
            }),
        };
        assert!(writer.submit(job).is_ok(), "writer stopped");
        assert_eq!(told.recv().ok(), Some(true), "not appended");
        writer.close();

        let mut journal = match SqliteJournal::open(&path) {
            Ok(j) => j,
            Err(e) => panic!("{e}"),
        };
        let entries = match journal.since(0, i64::MIN, 10) {
            Ok(e) => e,
            Err(e) => panic!("{e}"),
        };
        let kept: Vec<(bool, bool)> = entries
            .iter()
            .map(|e| (e.footprint.is_empty(), e.tx.is_empty()))
            .collect();
        assert_eq!(
            kept,
            [(false, true), (true, false), (false, true)],
            "a body is read only where no footprint was kept"
        );
        let history = History::default();
        match restore(&mut journal, &history) {
            Ok(restored) => assert_eq!(restored.entries, 3),
            Err(e) => panic!("{e}"),
        }
        // Three events on A, three links on its holder.
        assert_eq!(history.accounts(), 3);
    }

    #[test]
    fn a_journal_table_without_footprints_gains_the_column_and_keeps_its_rows() {
        let conn = match Connection::open_in_memory() {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        let old = "CREATE TABLE journal (position INTEGER PRIMARY KEY, tx_id TEXT NOT NULL,
                   time INTEGER NOT NULL, amount INTEGER NOT NULL, digest BLOB NOT NULL,
                   seq INTEGER NOT NULL);
                   INSERT INTO journal VALUES (1, 't1', 0, 1, x'00', 1);";
        assert!(conn.execute_batch(old).is_ok());
        assert!(ensure_schema(&conn).is_ok());
        assert!(
            ensure_schema(&conn).is_ok(),
            "a second open changes nothing"
        );
        let row: rusqlite::Result<(String, Option<Vec<u8>>)> = conn.query_row(
            "SELECT tx_id, footprint FROM journal WHERE position = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        );
        assert_eq!(row.ok(), Some(("t1".to_owned(), None)));
    }
}
