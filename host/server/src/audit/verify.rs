//! Checking the chain: every row as written, in order, none missing.
//!
//! Each row's hash is recomputed from its fields and the previous row's
//! hash; the sequence numbers must run 1, 2, 3… without a gap. An edited
//! field changes the row's hash; a recomputed hash written over the edit
//! breaks the next row's `prev_hash`; a deleted or inserted row breaks the
//! numbering or the link. So any change to a row *before the head* is
//! found, and named.
//!
//! What the chain cannot show on its own: that rows were removed from the
//! end, or that the whole log was rewritten from some row on with fresh
//! hashes. Both are caught by comparing with a head recorded elsewhere (an
//! *anchor*): [`Verified`] reports the head's sequence number and hash so
//! that it can be exported (to another system, a ticket, a print-out), and
//! [`verify`] checks a given anchor is still in the chain.

use std::path::Path;

use rusqlite::Connection;

use super::chain::{Entry, GENESIS, PackStamp, row_hash};
use super::errors::AuditError;
use super::log::open_for_reading;

/// A row of the log as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRow {
    /// Its sequence number.
    pub seq: i64,
    /// Its content.
    pub entry: Entry,
    /// The previous row's hash, as stored.
    pub prev_hash: String,
    /// Its hash, as stored.
    pub hash: String,
}

/// A row's sequence number and hash, recorded elsewhere to check later
/// that the log still holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    /// The row's sequence number.
    pub seq: i64,
    /// Its hash.
    pub hash: String,
}

impl Anchor {
    /// Reads `SEQ:HASH`.
    pub fn parse(text: &str) -> Option<Anchor> {
        let (seq, hash) = text.split_once(':')?;
        let seq = seq.trim().parse().ok()?;
        let hash = hash.trim();
        (hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit())).then(|| Anchor {
            seq,
            hash: hash.to_ascii_lowercase(),
        })
    }
}

impl std::fmt::Display for Anchor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

/// A log whose chain holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// How many rows it holds.
    pub rows: u64,
    /// The last row, to anchor elsewhere; `None` for an empty log.
    pub head: Option<Anchor>,
}

/// Reads the rows from `from_seq` on, in order, calling `each` on every
/// one; stops at the first error `each` returns.
pub fn for_each_row(
    conn: &Connection,
    path: &Path,
    from_seq: i64,
    each: impl FnMut(LoggedRow) -> Result<(), AuditError>,
) -> Result<(), AuditError> {
    rows_of(
        conn,
        path,
        "SELECT seq, decision_id, tx_id, run, decided_at, action, pack_name, pack_version,
                pack_serial, pack_digest, plugins, tx, decision, prev_hash, hash
         FROM decisions WHERE seq >= ?1 ORDER BY seq",
        from_seq,
        each,
    )
}

/// Reads every row in the order history saw its transaction: by journal
/// position (rows logged before the journal existed, which have none,
/// first, by sequence number). On one node that is the log's own order;
/// in a cluster, replicas commit in another order than the journal's.
pub fn for_each_row_in_journal_order(
    conn: &Connection,
    path: &Path,
    each: impl FnMut(LoggedRow) -> Result<(), AuditError>,
) -> Result<(), AuditError> {
    rows_of(
        conn,
        path,
        "SELECT d.seq, d.decision_id, d.tx_id, d.run, d.decided_at, d.action, d.pack_name,
                d.pack_version, d.pack_serial, d.pack_digest, d.plugins, d.tx, d.decision,
                d.prev_hash, d.hash
         FROM decisions d LEFT JOIN journal j ON j.seq = d.seq
         WHERE d.seq >= ?1
         ORDER BY j.position IS NOT NULL, j.position, d.seq",
        1,
        each,
    )
}

fn rows_of(
    conn: &Connection,
    path: &Path,
    query: &str,
    from_seq: i64,
    mut each: impl FnMut(LoggedRow) -> Result<(), AuditError>,
) -> Result<(), AuditError> {
    let sql = |e| AuditError::sqlite(path, e);
    let mut stmt = conn.prepare(query).map_err(sql)?;
    let mut rows = stmt.query([from_seq]).map_err(sql)?;
    while let Some(row) = rows.next().map_err(sql)? {
        let serial: i64 = row.get(8).map_err(sql)?;
        let logged = LoggedRow {
            seq: row.get(0).map_err(sql)?,
            entry: Entry {
                decision_id: row.get(1).map_err(sql)?,
                tx_id: row.get(2).map_err(sql)?,
                run: row.get(3).map_err(sql)?,
                decided_at: row.get(4).map_err(sql)?,
                action: row.get(5).map_err(sql)?,
                pack: PackStamp {
                    name: row.get(6).map_err(sql)?,
                    version: row.get(7).map_err(sql)?,
                    serial: u64::try_from(serial).unwrap_or(0),
                    digest: row.get(9).map_err(sql)?,
                    plugins: row.get(10).map_err(sql)?,
                },
                tx: row.get(11).map_err(sql)?,
                decision: row.get(12).map_err(sql)?,
            },
            prev_hash: row.get(13).map_err(sql)?,
            hash: row.get(14).map_err(sql)?,
        };
        each(logged)?;
    }
    Ok(())
}

/// Checks the whole chain of the log at `path`, and that `anchor`, if
/// given, is one of its rows. The first row that does not hold is the
/// error.
pub fn verify(path: &Path, anchor: Option<&Anchor>) -> Result<Verified, AuditError> {
    let conn = open_for_reading(path)?;
    let mut expected_seq = 1i64;
    let mut prev = GENESIS.to_owned();
    let mut anchor_found = false;
    for_each_row(&conn, path, 1, |row| {
        if row.seq != expected_seq {
            return Err(AuditError::Broken {
                seq: row.seq,
                problem: format!(
                    "expected row {expected_seq} here: rows {expected_seq} to {} are missing",
                    row.seq - 1
                ),
            });
        }
        if row.prev_hash != prev {
            return Err(AuditError::Broken {
                seq: row.seq,
                problem: format!(
                    "prev_hash {} is not the previous row's hash {prev}: a row before it was changed, removed or inserted",
                    row.prev_hash
                ),
            });
        }
        let hash = row_hash(&prev, row.seq, &row.entry);
        if hash != row.hash {
            return Err(AuditError::Broken {
                seq: row.seq,
                problem: format!(
                    "its content hashes to {hash}, not the {} stored: the row was edited",
                    row.hash
                ),
            });
        }
        if let Some(anchor) = anchor
            && anchor.seq == row.seq
        {
            if anchor.hash != row.hash {
                return Err(AuditError::Broken {
                    seq: row.seq,
                    problem: format!(
                        "the anchor says {}, the log now says {}: the log was rewritten from here or before",
                        anchor.hash, row.hash
                    ),
                });
            }
            anchor_found = true;
        }
        expected_seq += 1;
        prev = hash;
        Ok(())
    })?;
    let rows = u64::try_from(expected_seq - 1).unwrap_or(0);
    if let Some(anchor) = anchor
        && !anchor_found
    {
        return Err(AuditError::Broken {
            seq: anchor.seq,
            problem: format!(
                "the anchor names row {}, but the log ends at row {rows}: rows were removed from its end",
                anchor.seq
            ),
        });
    }
    Ok(Verified {
        rows,
        head: (rows > 0).then(|| Anchor {
            seq: expected_seq - 1,
            hash: prev,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::chain::tests::entry;
    use crate::audit::log::{Job, LogWriter};

    fn log_of(n: usize) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => panic!("tempdir: {e}"),
        };
        let path = dir.path().join("decisions.sqlite");
        let writer = match LogWriter::builder(&path).spawn() {
            Ok(w) => w,
            Err(e) => panic!("{e}"),
        };
        let ids: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
        let job = Job {
            packs: Vec::new(),
            entries: ids.iter().map(|id| entry(id)).collect(),
            journal: Vec::new(),
            done: Box::new(|_| {}),
        };
        assert!(writer.submit(job).is_ok());
        writer.close();
        (dir, path)
    }

    fn sql(path: &Path, statement: &str) {
        let conn = match Connection::open(path) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        if let Err(e) = conn.execute_batch(statement) {
            panic!("{statement}: {e}");
        }
    }

    fn broken_at(path: &Path, anchor: Option<&Anchor>) -> (i64, String) {
        match verify(path, anchor) {
            Err(AuditError::Broken { seq, problem }) => (seq, problem),
            other => panic!("expected a broken chain, got {other:?}"),
        }
    }

    #[test]
    fn an_untouched_log_verifies_and_reports_its_head() {
        let (_dir, path) = log_of(5);
        let verified = match verify(&path, None) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(verified.rows, 5);
        let head = verified.head.clone().unwrap_or_else(|| panic!("no head"));
        assert_eq!(head.seq, 5);
        assert_eq!(Anchor::parse(&head.to_string()), Some(head.clone()));
        assert!(verify(&path, Some(&head)).is_ok());
    }

    #[test]
    fn an_edited_row_is_named() {
        let (_dir, path) = log_of(5);
        sql(
            &path,
            "UPDATE decisions SET action = 'allow', decision = replace(decision, 'verify', 'allow') WHERE seq = 3",
        );
        let (seq, problem) = broken_at(&path, None);
        assert_eq!(seq, 3);
        assert!(problem.contains("edited"), "{problem}");
    }

    #[test]
    fn an_edit_with_a_recomputed_hash_breaks_the_next_row() {
        let (_dir, path) = log_of(5);
        let mut edited = entry("3");
        edited.action = "allow".into();
        let conn = match open_for_reading(&path) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        let prev: String = conn
            .query_row("SELECT prev_hash FROM decisions WHERE seq = 3", [], |r| {
                r.get(0)
            })
            .unwrap_or_default();
        let forged = row_hash(&prev, 3, &edited);
        sql(
            &path,
            &format!("UPDATE decisions SET action = 'allow', hash = '{forged}' WHERE seq = 3"),
        );
        assert_eq!(broken_at(&path, None).0, 4);
    }

    #[test]
    fn a_deleted_row_is_found() {
        let (_dir, path) = log_of(5);
        sql(&path, "DELETE FROM decisions WHERE seq = 2");
        let (seq, problem) = broken_at(&path, None);
        assert_eq!(seq, 3);
        assert!(problem.contains("missing"), "{problem}");
    }

    #[test]
    fn a_truncated_tail_is_found_only_against_an_anchor() {
        let (_dir, path) = log_of(5);
        let head = match verify(&path, None) {
            Ok(Verified { head: Some(h), .. }) => h,
            other => panic!("{other:?}"),
        };
        sql(&path, "DELETE FROM decisions WHERE seq >= 4");
        assert!(verify(&path, None).is_ok(), "the chain alone cannot tell");
        let (seq, problem) = broken_at(&path, Some(&head));
        assert_eq!(seq, 5);
        assert!(problem.contains("removed"), "{problem}");
    }
}
