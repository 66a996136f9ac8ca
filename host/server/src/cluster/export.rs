//! The cluster's decision log copied into the SQLite format, row for row,
//! so that `audit verify` and `audit replay` (and a regulator's own tools)
//! read it as they read one node's log.

use std::path::Path;

use rusqlite::params;

use super::Database;
use crate::audit::AuditError;
use crate::audit::log::open_for_writing;

/// What an export copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exported {
    /// Decision rows.
    pub decisions: u64,
    /// Journal entries with their decision.
    pub entries: u64,
    /// Journal entries still without a decision, not copied.
    pub undecided: u64,
}

/// How many rows are read from PostgreSQL at once.
const CHUNK: i64 = 10_000;

/// Copies the decision log, its packs and the decided journal entries of
/// the cluster in `db` into a new SQLite log at `path` (which must not
/// exist): the same sequence numbers and hashes, so the chain verifies
/// exactly as it does in PostgreSQL.
pub fn export(db: &Database, path: &Path) -> Result<Exported, AuditError> {
    if path.exists() {
        return Err(AuditError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "an export writes a new file",
            ),
        });
    }
    let mut connection = db.connect()?;
    let pg = |e| db.error(e);
    // One snapshot for the whole copy: decisions and journal agree.
    let mut client = connection
        .build_transaction()
        .isolation_level(postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .map_err(pg)?;
    let mut conn = open_for_writing(path)?;
    let sql = |e| AuditError::sqlite(path, e);
    let tx = conn.transaction().map_err(sql)?;
    let mut exported = Exported {
        decisions: 0,
        entries: 0,
        undecided: 0,
    };
    for row in client
        .query(
            "SELECT digest, name, version, serial, archive FROM packs",
            &[],
        )
        .map_err(pg)?
    {
        tx.execute(
            "INSERT INTO packs (digest, name, version, serial, archive) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                row.get::<_, String>(0),
                row.get::<_, String>(1),
                row.get::<_, String>(2),
                row.get::<_, i64>(3),
                row.get::<_, Option<Vec<u8>>>(4)
            ],
        )
        .map_err(sql)?;
    }
    let mut after = 0i64;
    loop {
        let rows = client
            .query(
                "SELECT seq, decision_id, tx_id, run, decided_at, action, pack_name,
                        pack_version, pack_serial, pack_digest, plugins, tx, decision,
                        prev_hash, hash
                 FROM decisions WHERE seq > $1 ORDER BY seq LIMIT $2",
                &[&after, &CHUNK],
            )
            .map_err(pg)?;
        let Some(last) = rows.last() else {
            break;
        };
        after = last.get(0);
        for row in &rows {
            tx.execute(
                "INSERT INTO decisions (seq, decision_id, tx_id, run, decided_at, action,
                    pack_name, pack_version, pack_serial, pack_digest, plugins, tx, decision,
                    prev_hash, hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                params![
                    row.get::<_, i64>(0),
                    row.get::<_, String>(1),
                    row.get::<_, String>(2),
                    row.get::<_, String>(3),
                    row.get::<_, String>(4),
                    row.get::<_, String>(5),
                    row.get::<_, String>(6),
                    row.get::<_, String>(7),
                    row.get::<_, i64>(8),
                    row.get::<_, String>(9),
                    row.get::<_, String>(10),
                    row.get::<_, String>(11),
                    row.get::<_, String>(12),
                    row.get::<_, String>(13),
                    row.get::<_, String>(14),
                ],
            )
            .map_err(sql)?;
            exported.decisions += 1;
        }
    }
    let mut after = 0i64;
    loop {
        let rows = client
            .query(
                "SELECT position, tx_id, time, amount, digest, seq, footprint FROM journal
                 WHERE position > $1 ORDER BY position LIMIT $2",
                &[&after, &CHUNK],
            )
            .map_err(pg)?;
        let Some(last) = rows.last() else {
            break;
        };
        after = last.get(0);
        for row in &rows {
            let Some(seq) = row.get::<_, Option<i64>>(5) else {
                exported.undecided += 1;
                continue;
            };
            tx.execute(
                "INSERT INTO journal (position, tx_id, time, amount, digest, seq, footprint)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    row.get::<_, i64>(0),
                    row.get::<_, String>(1),
                    row.get::<_, i64>(2),
                    row.get::<_, i64>(3),
                    row.get::<_, Vec<u8>>(4),
                    seq,
                    row.get::<_, Vec<u8>>(6),
                ],
            )
            .map_err(sql)?;
            exported.entries += 1;
        }
    }
    tx.commit().map_err(sql)?;
    client.commit().map_err(pg)?;
    Ok(exported)
}
