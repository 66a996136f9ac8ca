//! A candidate pack backtested against a baseline: the decisions a rule
//! change would change, on a recorded stream.
//!
//! # Why
//!
//! A threshold moved by the regulator lands on every bank at once. Before
//! it ships, the rule author and the bank's analysts want to see what it
//! does to real payments: which decisions change and how, how many more
//! alerts per 1,000 transactions, and whether a typology is caught better
//! or worse. This module decides one stream with two packs, each exactly as
//! `qorgan eval` decides it alone (its own engine and history, one
//! evaluator, batches in stream order, the stream gate), so its result is
//! by construction the decision-by-decision difference of two `eval` runs;
//! [`qorgan::compare`] says what counts as a change.

use std::io::Read;
use std::time::Instant;

use serde::Serialize;

use super::{BacktestError, Progress, Report, Side, Stream};
use qorgan::compare::{Change, Tally, TallySummary};
use qorgan::decision::Decision;
use qorgan::engine::Engine;

/// How many changed transactions a comparison shows in full.
pub const SAMPLES: usize = 10;

/// A changed transaction, with both decisions.
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    /// The input line.
    pub line: u64,
    /// How the decision changed.
    pub change: Change,
    /// The baseline's decision.
    pub before: Decision,
    /// The candidate's decision.
    pub after: Decision,
}

/// What a candidate pack changes against a baseline on one stream.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// The baseline's backtest, as `qorgan backtest --pack BASELINE` gives it.
    pub baseline: Report,
    /// The candidate's backtest.
    pub candidate: Report,
    /// The changed decisions, grouped by action and by finding code, and
    /// the alert volume before and after.
    pub changes: TallySummary,
    /// Lines decided by one pack but rejected by the other (a currency one
    /// pack has no rate for): not compared.
    pub decided_by_one: u64,
    /// The first changed transactions, in stream order.
    pub samples: Vec<Sample>,
}

impl Comparison {
    /// The comparison as one line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self)
            .unwrap_or_else(|e| format!("{{\"error\":\"cannot serialise the comparison: {e}\"}}"))
    }
}

impl std::fmt::Display for Comparison {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = |r: &Report| {
            r.pack.as_ref().map_or_else(
                || "?".to_owned(),
                |p| format!("{} {} (serial {})", p.name, p.version, p.serial),
            )
        };
        writeln!(f, "baseline:  {}", name(&self.baseline))?;
        writeln!(f, "candidate: {}", name(&self.candidate))?;
        write!(f, "{}", self.changes)?;
        if self.decided_by_one > 0 {
            writeln!(
                f,
                "{} lines were decided by one pack only and not compared",
                self.decided_by_one
            )?;
        }
        let labelled = self
            .baseline
            .typologies
            .iter()
            .any(|t| t.actual > 0 || t.flagged > 0);
        if labelled {
            writeln!(
                f,
                "per typology (flagged accounts, precision, recall; before -> after):"
            )?;
            let ratio = |r: Option<f64>| r.map_or_else(|| "-".to_owned(), |r| format!("{r:.3}"));
            for (b, a) in self
                .baseline
                .typologies
                .iter()
                .zip(&self.candidate.typologies)
            {
                writeln!(
                    f,
                    "  {:<14} flagged {} -> {}, precision {} -> {}, recall {} -> {}",
                    b.name,
                    b.flagged,
                    a.flagged,
                    ratio(b.precision),
                    ratio(a.precision),
                    ratio(b.recall),
                    ratio(a.recall)
                )?;
            }
            let (lb, la) = (&self.baseline.legitimate, &self.candidate.legitimate);
            writeln!(
                f,
                "  legitimate accounts flagged {} -> {} of {}",
                lb.flagged, la.flagged, lb.accounts
            )?;
        }
        if !self.samples.is_empty() {
            writeln!(
                f,
                "changed transactions (the first {}):",
                self.samples.len()
            )?;
            for s in &self.samples {
                let codes: Vec<String> = s
                    .change
                    .codes
                    .iter()
                    .map(|c| {
                        let a = |x: Option<qorgan::decision::Action>| {
                            x.map_or_else(|| "-".to_owned(), |x| x.to_string())
                        };
                        format!("{} {} -> {}", c.code, a(c.before), a(c.after))
                    })
                    .collect();
                writeln!(
                    f,
                    "  line {} {}: {} (score {}) -> {} (score {}){}{}",
                    s.line,
                    s.change.tx,
                    s.change.before,
                    s.change.score.0,
                    s.change.after,
                    s.change.score.1,
                    if codes.is_empty() { "" } else { "; " },
                    codes.join(", ")
                )?;
            }
        }
        Ok(())
    }
}

/// Decides `input` with `baseline`'s and `candidate`'s active packs, each
/// engine alone as `qorgan eval` would, and compares the decisions line by
/// line. The two engines must not share a history (two `Engine::new()`).
/// `progress` is called after every batch with the candidate's progress.
pub fn run(
    baseline: &Engine,
    candidate: &Engine,
    input: impl Read,
    total_bytes: Option<u64>,
    batch: usize,
    skew_secs: i64,
    mut progress: impl FnMut(&Progress),
) -> Result<Comparison, BacktestError> {
    let mut before = Side::new(baseline, skew_secs)?;
    let mut after = Side::new(candidate, skew_secs)?;
    let began = Instant::now();
    let mut stream = Stream::new(input, batch);
    let mut tally = Tally::new();
    let mut samples = Vec::new();
    let mut decided_by_one = 0u64;
    while let Some(lines) = stream.next_batch(|line, problem| {
        before.scorer.reject(line, problem.clone());
        after.scorer.reject(line, problem);
    })? {
        let old = before.decide(&lines);
        let new = after.decide(&lines);
        let mut new = new.into_iter().peekable();
        for (line, old) in old {
            // Both sides list the lines they admitted, in order; a line
            // admitted by one side only is skipped on the other.
            while new.peek().is_some_and(|(l, _)| *l < line) {
                decided_by_one += u64::from(new.next().is_some_and(|(_, d)| d.is_some()));
            }
            let new = match new.peek() {
                Some((l, _)) if *l == line => new.next().and_then(|(_, d)| d),
                _ => None,
            };
            match (old, new) {
                (Some(old), Some(new)) => {
                    if let Some(change) = tally.observe(&old, &new)
                        && samples.len() < SAMPLES
                    {
                        samples.push(Sample {
                            line,
                            change,
                            before: old,
                            after: new,
                        });
                    }
                }
                (None, None) => {}
                _ => decided_by_one += 1,
            }
        }
        decided_by_one += new.filter(|(_, d)| d.is_some()).count() as u64;
        progress(&stream.progress(total_bytes, after.scorer.decided, began));
    }
    Ok(Comparison {
        baseline: before.report(began),
        candidate: after.report(began),
        changes: tally.summary(),
        decided_by_one,
        samples,
    })
}
