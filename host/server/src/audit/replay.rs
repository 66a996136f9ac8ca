//! Replay: every logged transaction decided again by the pack that decided
//! it, in the order history saw it (the journal's), and any difference
//! reported.
//!
//! Rules read history, so a transaction's decision depends on everything
//! decided before it. Replay rebuilds that history as it goes: one history
//! across the service's runs (a start restores the journal, which holds
//! exactly the logged transactions, see [`crate::journal`]), each row's
//! transaction recorded in log order. The service decides in that same
//! order (one deciding thread feeds the log; a repeated transaction is
//! answered, not logged again), so an untouched log replays without a
//! difference; a difference means the log, a pack or the host's behaviour
//! changed.
//!
//! Rows are decided again in the batches the service decided them in. A
//! batch's decisions share their `decided_at` and have consecutive ids
//! (each the successor of the one before, see the engine's decision ids),
//! so the log says where each batch began without a column of its own.
//! With fuel budgets per transaction and failed calls narrowed down to the
//! transactions that cause them, a decision does not depend on its batch
//! anyway; replaying the same batches also reproduces what only a batch
//! can explain (a plugin quarantined for the rest of one).
//!
//! Each deciding pack is rebuilt from the archive kept in the log, checked
//! to be the very pack the rows name (its manifest's sha256), and judged
//! valid at the time it decided, not today. The decision's id and the time
//! it took are not compared.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use rusqlite::OptionalExtension;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::errors::AuditError;
use super::log::open_for_reading;
use super::verify::{LoggedRow, for_each_row_in_journal_order};
use qorgan::engine::{Engine, Evaluator, PreparedPack};
use qorgan::history::{History, HistoryLimits};
use qorgan::pack::Pack;
use qorgan::pack::archive::{ExtractLimits, extract_from};
use qorgan::transaction::Transaction;

/// The most rows replayed in one batch: the most the engine decides in one.
const BATCH: usize = qorgan::engine::MAX_BATCH;

/// Whether `row` was decided in the same batch as `previous`, the row
/// logged before it: the same decision time, and the next decision id.
fn same_batch(previous: &LoggedRow, row: &LoggedRow) -> bool {
    if previous.entry.decided_at != row.entry.decided_at {
        return false;
    }
    let (Ok(before), Ok(after)) = (
        previous.entry.decision_id.parse::<qorgan::decision::Ulid>(),
        row.entry.decision_id.parse::<qorgan::decision::Ulid>(),
    ) else {
        return false;
    };
    before.increment() == Some(after)
}

/// A logged decision that replay decided differently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The row's sequence number.
    pub seq: i64,
    /// The logged decision's id.
    pub decision_id: String,
    /// The transaction's id.
    pub tx_id: String,
    /// What differs, in words.
    pub what: String,
}

/// What a replay found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayReport {
    /// Rows replayed.
    pub rows: u64,
    /// Distinct packs rebuilt.
    pub packs: usize,
    /// Service runs (each continuing the history before it).
    pub runs: usize,
    /// Every row decided differently.
    pub differences: Vec<Difference>,
}

/// Replays the log at `path` on `engine` (whose active pack is not used).
pub fn replay(path: &Path, engine: &Engine) -> Result<ReplayReport, AuditError> {
    let conn = open_for_reading(path)?;
    let mut packs: HashMap<String, (Arc<PreparedPack>, i64)> = HashMap::new();
    let mut report = ReplayReport::default();
    let mut current: Option<Segment> = None;
    let mut pending: Vec<LoggedRow> = Vec::with_capacity(BATCH);
    let history = Arc::new(History::new(HistoryLimits::default()));
    let mut runs: std::collections::HashSet<String> = std::collections::HashSet::new();
    // Evaluators by pack, kept across segments: a cluster's journal
    // interleaves the runs of its replicas.
    let mut spare: HashMap<String, Evaluator> = HashMap::new();

    for_each_row_in_journal_order(&conn, path, |row| {
        let same = current
            .as_ref()
            .is_some_and(|s| s.run == row.entry.run && s.digest == row.entry.pack.digest);
        let continues = pending
            .last()
            .is_some_and(|previous| same_batch(previous, &row));
        if !same || !continues || pending.len() >= BATCH {
            if let Some(segment) = current.as_mut() {
                segment.decide(&pending, &mut report);
            }
            pending.clear();
        }
        if !same {
            if !runs.contains(&row.entry.run) {
                runs.insert(row.entry.run.clone());
                report.runs += 1;
            }
            if let Some(previous) = current.take() {
                spare.insert(previous.digest, previous.evaluator);
            }
            let (prepared, retention) = match packs.get(&row.entry.pack.digest) {
                Some(hit) => hit.clone(),
                None => {
                    let built = rebuild(&conn, path, engine, &row)?;
                    packs.insert(row.entry.pack.digest.clone(), built.clone());
                    built
                }
            };
            history.set_retention(retention);
            let evaluator = spare.remove(&row.entry.pack.digest).unwrap_or_else(|| {
                engine
                    .evaluator()
                    .with_pack(prepared)
                    .with_history(Arc::clone(&history))
            });
            current = Some(Segment {
                run: row.entry.run.clone(),
                digest: row.entry.pack.digest.clone(),
                evaluator,
            });
        }
        pending.push(row);
        Ok(())
    })?;
    if let Some(segment) = current.as_mut() {
        segment.decide(&pending, &mut report);
    }
    report.packs = packs.len();
    Ok(report)
}

/// Consecutive rows of one run decided by one pack.
struct Segment {
    run: String,
    digest: String,
    evaluator: Evaluator,
}

impl Segment {
    fn decide(&mut self, rows: &[LoggedRow], report: &mut ReplayReport) {
        if rows.is_empty() {
            return;
        }
        let mut parsed = Vec::with_capacity(rows.len());
        let mut txs = Vec::with_capacity(rows.len());
        for row in rows {
            match Transaction::from_json(&row.entry.tx) {
                Ok(tx) => {
                    txs.push(tx);
                    parsed.push(Ok(()));
                }
                Err(e) => parsed.push(Err(e.to_string())),
            }
        }
        let mut decided = self.evaluator.evaluate_batch(&txs).into_iter();
        for (row, parse) in rows.iter().zip(parsed) {
            report.rows += 1;
            let replayed = match parse {
                Err(problem) => Err(format!(
                    "the logged transaction no longer parses: {problem}"
                )),
                Ok(()) => match decided.next() {
                    Some(Ok(decision)) => serde_json::to_value(&decision)
                        .map_err(|e| format!("cannot serialise the replayed decision: {e}")),
                    Some(Err(e)) => Err(format!("replay could not decide it: {e}")),
                    None => Err("replay produced no decision".to_owned()),
                },
            };
            let what = match replayed {
                Err(problem) => Some(problem),
                Ok(replayed) => compare(&row.entry.decision, replayed),
            };
            if let Some(what) = what {
                report.differences.push(Difference {
                    seq: row.seq,
                    decision_id: row.entry.decision_id.clone(),
                    tx_id: row.entry.tx_id.clone(),
                    what,
                });
            }
        }
    }
}

/// What differs between the logged decision and the replayed one, if
/// anything, ignoring the decision id and the time taken.
fn compare(logged: &str, mut replayed: serde_json::Value) -> Option<String> {
    let mut logged: serde_json::Value = match serde_json::from_str(logged) {
        Ok(v) => v,
        Err(e) => return Some(format!("the logged decision is not JSON: {e}")),
    };
    for value in [&mut logged, &mut replayed] {
        if let Some(object) = value.as_object_mut() {
            object.remove("decision_id");
            object.remove("elapsed_us");
        }
    }
    if logged == replayed {
        return None;
    }
    let field = |v: &serde_json::Value, name: &str| v.get(name).cloned().unwrap_or_default();
    let mut what = Vec::new();
    for name in ["action", "score", "requirements", "pack"] {
        let (a, b) = (field(&logged, name), field(&replayed, name));
        if a != b {
            what.push(format!("{name}: logged {a}, replayed {b}"));
        }
    }
    let codes = |v: &serde_json::Value| -> Vec<String> {
        v.get("findings")
            .and_then(|f| f.as_array())
            .map(|f| {
                f.iter()
                    .filter_map(|x| x.get("code").and_then(|c| c.as_str()).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (a, b) = (codes(&logged), codes(&replayed));
    if a != b {
        what.push(format!("findings: logged {a:?}, replayed {b:?}"));
    }
    if what.is_empty() {
        what.push("the findings' messages or evidence differ".to_owned());
    }
    Some(what.join("; "))
}

/// The pack `row` names, rebuilt from the log's archive, checked and
/// prepared; with its history retention in seconds.
fn rebuild(
    conn: &rusqlite::Connection,
    path: &Path,
    engine: &Engine,
    row: &LoggedRow,
) -> Result<(Arc<PreparedPack>, i64), AuditError> {
    let digest = row.entry.pack.digest.clone();
    let problem = |problem: String| AuditError::Pack {
        digest: digest.clone(),
        problem,
    };
    let archive: Option<Option<Vec<u8>>> = conn
        .query_row(
            "SELECT archive FROM packs WHERE digest = ?1",
            [&row.entry.pack.digest],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| AuditError::sqlite(path, e))?;
    let archive = match archive {
        None => return Err(problem("the log does not hold this pack".into())),
        Some(None) => return Err(problem("the log holds no archive of this pack".into())),
        Some(Some(bytes)) => bytes,
    };
    let temp = tempfile::tempdir().map_err(|source| AuditError::Io {
        path: std::env::temp_dir(),
        source,
    })?;
    let dir = temp.path().join("pack");
    extract_from(archive.as_slice(), &dir, &ExtractLimits::default())
        .map_err(|e| problem(format!("cannot unpack its archive: {e}")))?;
    let at = OffsetDateTime::parse(&row.entry.decided_at, &Rfc3339)
        .map_err(|e| problem(format!("row {}: decided_at: {e}", row.seq)))?;
    let pack = Pack::read_at(&dir, at).map_err(|e| problem(format!("cannot read it: {e}")))?;
    if pack.digest != row.entry.pack.digest {
        return Err(problem(format!(
            "the archive holds the pack whose manifest is {}, not the one that decided",
            pack.digest
        )));
    }
    let retention = i64::from(pack.manifest.history.retention_days) * 24 * 3600;
    let prepared = engine
        .prepare(&pack)
        .map_err(|e| problem(format!("cannot load it: {e}")))?;
    Ok((Arc::new(prepared), retention))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(decision_id: &str, decided_at: &str) -> LoggedRow {
        LoggedRow {
            seq: 1,
            entry: crate::audit::Entry {
                decision_id: decision_id.into(),
                tx_id: "t".into(),
                run: "r".into(),
                decided_at: decided_at.into(),
                action: "allow".into(),
                pack: crate::audit::PackStamp {
                    name: "p".into(),
                    version: "1".into(),
                    serial: 1,
                    digest: "d".into(),
                    plugins: "[]".into(),
                },
                tx: String::new(),
                decision: String::new(),
            },
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    #[test]
    fn batches_are_found_by_their_time_and_consecutive_decision_ids() {
        let first = qorgan::decision::Ulid::from_parts(1_000, 41);
        let next = first.increment().map(|u| u.to_string()).unwrap_or_default();
        let at = "2026-12-07T00:00:00.123456789Z";
        let a = row(&first.to_string(), at);
        assert!(same_batch(&a, &row(&next, at)));
        assert!(!same_batch(&a, &row(&next, "2026-12-07T00:00:00.2Z")));
        let unrelated = qorgan::decision::Ulid::from_parts(1_000, 43).to_string();
        assert!(!same_batch(&a, &row(&unrelated, at)));
        assert!(!same_batch(&a, &row("not a ulid", at)));
    }

    #[test]
    fn the_decision_id_and_time_are_not_compared() {
        let logged = r#"{"tx":"t","decision_id":"A","action":"allow","score":0,"elapsed_us":3}"#;
        let replayed = serde_json::json!({"tx":"t","decision_id":"B","action":"allow","score":0,"elapsed_us":9});
        assert_eq!(compare(logged, replayed), None);
    }

    #[test]
    fn a_different_action_is_named() {
        let logged = r#"{"tx":"t","action":"allow","score":0,"findings":[]}"#;
        let replayed = serde_json::json!({"tx":"t","action":"hold","score":60,"findings":[{"code":"MULE_SCORE_HIGH"}]});
        let what = compare(logged, replayed).unwrap_or_default();
        assert!(
            what.contains(r#"action: logged "allow", replayed "hold""#),
            "{what}"
        );
        assert!(what.contains("MULE_SCORE_HIGH"), "{what}");
    }
}
