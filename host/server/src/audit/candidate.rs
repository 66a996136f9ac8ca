//! The decision log replayed with a candidate pack: what a rule change
//! would have changed on the traffic this host really decided
//! (`qorgan audit replay --log FILE --pack NEW`).
//!
//! # Why
//!
//! A backtest runs on a generated or exported stream; the decision log
//! holds what the bank's own customers did, in the order the service
//! decided it, with the decision each got. Deciding every logged
//! transaction again, in log order, with the candidate pack over a history
//! of its own (as [`super::replay`] does with the logged packs), and
//! comparing each result with the logged decision through
//! [`qorgan::compare`], gives the same report as `qorgan backtest
//! --baseline` on the bank's real traffic. Nothing is written to the log.

use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use super::errors::AuditError;
use super::log::open_for_reading;
use super::verify::{LoggedRow, for_each_row};
use qorgan::compare::{Change, Outline, Tally, TallySummary};
use qorgan::decision::Decision;
use qorgan::engine::{Engine, Evaluator};
use qorgan::history::{History, HistoryLimits};
use qorgan::pack::Pack;
use qorgan::transaction::Transaction;

/// How many changed transactions a comparison shows in full.
pub const SAMPLES: usize = 10;

/// A logged transaction the candidate decides differently.
#[derive(Debug, Clone, Serialize)]
pub struct LogSample {
    /// The row's sequence number.
    pub seq: i64,
    /// How the decision changes.
    pub change: Change,
    /// The logged decision.
    pub logged: serde_json::Value,
    /// The candidate's decision.
    pub candidate: Decision,
}

/// What the candidate changes on the logged traffic.
#[derive(Debug, Clone, Serialize)]
pub struct LogComparison {
    /// Rows read.
    pub rows: u64,
    /// Rows the candidate could not decide, or whose logged decision could
    /// not be read: not compared.
    pub undecided: u64,
    /// The changed decisions by action and finding code, and the alert
    /// volume before (as logged) and after.
    pub changes: TallySummary,
    /// The first changed transactions, in log order.
    pub samples: Vec<LogSample>,
}

/// Decides every transaction of the log at `path` again with `candidate`
/// (prepared on `engine`, never activated), in log order over a history
/// of its own, and compares each decision with the logged one.
pub fn compare_with(
    path: &Path,
    engine: &Engine,
    candidate: &Pack,
) -> Result<LogComparison, AuditError> {
    let conn = open_for_reading(path)?;
    let prepared = engine.prepare(candidate).map_err(|e| AuditError::Pack {
        digest: candidate.digest.clone(),
        problem: format!("the candidate pack does not load: {e}"),
    })?;
    let history = Arc::new(History::new(HistoryLimits::default()));
    history.set_retention(prepared.retention_secs());
    let mut evaluator = engine
        .evaluator()
        .with_pack(Arc::new(prepared))
        .with_history(history);
    let mut out = LogComparison {
        rows: 0,
        undecided: 0,
        changes: Tally::new().summary(),
        samples: Vec::new(),
    };
    let mut tally = Tally::new();
    let mut pending: Vec<LoggedRow> = Vec::with_capacity(qorgan::engine::MAX_BATCH);
    for_each_row(&conn, path, 1, |row| {
        pending.push(row);
        if pending.len() >= qorgan::engine::MAX_BATCH {
            decide(&mut evaluator, &pending, &mut tally, &mut out);
            pending.clear();
        }
        Ok(())
    })?;
    decide(&mut evaluator, &pending, &mut tally, &mut out);
    out.changes = tally.summary();
    Ok(out)
}

fn decide(
    evaluator: &mut Evaluator,
    rows: &[LoggedRow],
    tally: &mut Tally,
    out: &mut LogComparison,
) {
    let mut txs = Vec::with_capacity(rows.len());
    let mut parsed = Vec::with_capacity(rows.len());
    for row in rows {
        match Transaction::from_json(&row.entry.tx) {
            Ok(tx) => {
                txs.push(tx);
                parsed.push(true);
            }
            Err(_) => parsed.push(false),
        }
    }
    let mut decided = evaluator.evaluate_batch(&txs).into_iter();
    for (row, parsed) in rows.iter().zip(parsed) {
        out.rows += 1;
        let candidate = if parsed {
            decided.next().and_then(Result::ok)
        } else {
            None
        };
        let logged = serde_json::from_str::<serde_json::Value>(&row.entry.decision).ok();
        let before = logged.as_ref().and_then(Outline::from_json);
        let (Some(candidate), Some(before), Some(logged)) = (candidate, before, logged) else {
            out.undecided += 1;
            continue;
        };
        if let Some(change) = tally.observe_outlines(&before, &Outline::of(&candidate))
            && out.samples.len() < SAMPLES
        {
            out.samples.push(LogSample {
                seq: row.seq,
                change,
                logged,
                candidate,
            });
        }
    }
}
