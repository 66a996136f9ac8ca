//! Backtesting: a pack run over a labelled stream, scored against the
//! labels.
//!
//! # Why
//!
//! A rule is judged by what it catches and what it costs: how many of the
//! mule (or exchanger, or structuring) accounts it flags, how many of the
//! accounts it flags really are, and how many honest customers an analyst
//! has to look at on the way. `qorgan gen` writes streams whose lines carry
//! `"truth": {"sender": ROLE, "recipient": ROLE}`; this module decides such
//! a stream exactly as `qorgan eval` would (one engine, the pack loaded,
//! one evaluator deciding batches in stream order, so history builds up as
//! in production) and keeps score.
//!
//! # What is counted
//!
//! Scores are per **account**, since an analyst investigates accounts, not
//! payments. A finding is about its *subjects*: the transaction's recipient
//! when the finding's evidence says `side` = `recipient`, else the sender;
//! and, for a finding about a network of accounts (a chain, a cycle, a
//! hub), every account its evidence `accounts` names (comma separated), as
//! an analyst opens the case on all of them.
//! For each typology of [`TYPOLOGIES`]:
//!
//! - *flagged* accounts were the subject of at least one finding with one
//!   of the typology's codes;
//! - *actual* accounts carry the typology's role in `truth`;
//! - precision = |flagged ∩ actual| / |flagged| (none when nothing was
//!   flagged), recall = |flagged ∩ actual| / |actual| (none when there are
//!   no actual accounts).
//!
//! A legitimate account (customer, payroll, merchant, family, student,
//! trader, marketplace, landlord, saver) is *flagged* when it was the subject of any finding whose action
//! is `review`, `hold` or `block` (the findings that cost an analyst's time)
//! on a transaction between legitimate parties. A finding on a transaction
//! whose other party is a planted typology (a customer buying USDT from a
//! shadow exchanger with "USDT" in the text, a victim paying a mule, a
//! customer paying a crypto platform off the AFSA register, an illegal
//! operator labelled `unlicensed-platform`) is the typology at work, not a
//! false alarm about honest activity; such accounts
//! are counted apart, as *flagged while dealing with a typology*.
//! Accounts labelled `external` (other banks, ATMs, platforms) are counted
//! nowhere, and neither are flagged accounts that never appear on a
//! labelled line. An account keeps the first label it is seen with; later
//! disagreeing labels are counted as conflicts.
//!
//! A bank starts monitoring with months of history behind it. With a
//! *score-from* time ([`RunOptions::score_from`]), the lines dated before
//! it (such as `qorgan gen --look-back-days`' look-back) are decided, so
//! history holds them, but not scored: they are counted as history only.
//!
//! Lines without `truth` are still decided and count as unlabelled; lines
//! that cannot be parsed or decided are counted and the first few reported
//! with their line numbers. Nothing stops the run.

pub mod compare;
mod report;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufReader, Read};
use std::time::{Duration, Instant};

use serde_json::Value;

pub use report::{
    ActionCounts, LegitimateScore, RejectedLine, Report, RoleShare, RuleHits, TypologyScore,
};

use crate::generator::Role;
use qorgan::decision::{Action, Decision, PackRef};
use qorgan::engine::Engine;
use qorgan::journal::{DEFAULT_STREAM_SKEW_SECS, StreamGate};
use qorgan::jsonl::Batches;
use qorgan::transaction::Transaction;

/// A typology scored by the backtest: the role that labels its accounts
/// and the finding codes that flag them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Typology {
    /// The typology's name in reports.
    pub name: &'static str,
    /// The `truth` role of its accounts.
    pub role: Role,
    /// The finding codes that flag an account as this typology.
    pub codes: &'static [&'static str],
    /// Roles of typologies this one is made of or part of (a chain mule is
    /// a money mule; a scatter-gather's sink is a fan-in hub): an account
    /// of such a role flagged by these codes is counted apart, as
    /// *related*, neither a hit nor a false alarm.
    pub related: &'static [Role],
}

/// The typologies and the codes that flag them; the one place that ties
/// the reference pack's finding codes (docs/contracts.md) to the generator's
/// roles.
///
/// | typology | role | codes |
/// |---|---|---|
/// | mule | `mule` | `MULE_SCORE_ELEVATED`, `MULE_SCORE_HIGH` (plugin `kz-mule`) |
/// | exchanger | `exchanger` | `P2P_EXCHANGER_PATTERN` (plugin `kz-exchanger`) |
/// | structuring | `structurer` | `STRUCTURING_NEAR_THRESHOLD` (plugin `kz-threshold`) |
/// | chain | `chain-mule` | `LAYERING_CHAIN` |
/// | fan-in | `fan-in` | `FAN_IN_HUB` |
/// | fan-out | `fan-out` | `FAN_OUT_HUB` |
/// | cycle | `cycle` | `CYCLE_RETURN` |
/// | scatter-gather | `scatter-gather` | `SCATTER_GATHER` |
/// | gather-scatter | `gather-scatter` | `GATHER_SCATTER` |
pub const TYPOLOGIES: [Typology; 9] = [
    Typology {
        name: "mule",
        role: Role::Mule,
        codes: &["MULE_SCORE_ELEVATED", "MULE_SCORE_HIGH"],
        related: &[Role::ChainMule],
    },
    Typology {
        name: "exchanger",
        role: Role::Exchanger,
        codes: &["P2P_EXCHANGER_PATTERN"],
        related: &[],
    },
    Typology {
        name: "structuring",
        role: Role::Structurer,
        codes: &["STRUCTURING_NEAR_THRESHOLD"],
        related: &[],
    },
    Typology {
        name: "chain",
        role: Role::ChainMule,
        codes: &["LAYERING_CHAIN"],
        related: &[Role::Mule],
    },
    Typology {
        name: "fan-in",
        role: Role::FanIn,
        codes: &["FAN_IN_HUB"],
        related: &[Role::ScatterGather, Role::GatherScatter],
    },
    Typology {
        name: "fan-out",
        role: Role::FanOut,
        codes: &["FAN_OUT_HUB"],
        related: &[Role::ScatterGather, Role::GatherScatter],
    },
    Typology {
        name: "cycle",
        role: Role::Cycle,
        codes: &["CYCLE_RETURN"],
        related: &[],
    },
    Typology {
        name: "scatter-gather",
        role: Role::ScatterGather,
        codes: &["SCATTER_GATHER"],
        related: &[Role::FanIn, Role::FanOut],
    },
    Typology {
        name: "gather-scatter",
        role: Role::GatherScatter,
        codes: &["GATHER_SCATTER"],
        related: &[Role::FanIn, Role::FanOut],
    },
];

/// How many rejected lines a report lists (all are counted).
pub const REJECTED_LISTED: usize = 5;

/// Why a backtest could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BacktestError {
    /// The engine has no active pack to decide with.
    #[error("the engine has no pack loaded")]
    NoPack,
    /// The input could not be read.
    #[error("cannot read the transactions: {0}")]
    Io(#[from] std::io::Error),
}

/// The roles of a transaction's two parties, from its `truth` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Truth {
    /// The sender's role.
    pub sender: Role,
    /// The recipient's role.
    pub recipient: Role,
}

impl Truth {
    /// Reads the `truth` field of a transaction object; `None` when it is
    /// absent or does not name two known roles.
    pub fn from_transaction(value: &Value) -> Option<Truth> {
        let truth = value.get("truth")?;
        let role = |side: &str| {
            truth
                .get(side)
                .and_then(Value::as_str)
                .and_then(Role::parse)
        };
        Some(Truth {
            sender: role("sender")?,
            recipient: role("recipient")?,
        })
    }
}

/// How far a run has got, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Input bytes consumed so far.
    pub bytes: u64,
    /// The input's size, when known.
    pub total_bytes: Option<u64>,
    /// Lines read so far.
    pub lines: u64,
    /// Transactions decided so far.
    pub decided: u64,
    /// Time since the run began.
    pub elapsed: Duration,
}

/// The score of a backtest while it runs; [`Scorer::report`] sums it up.
#[derive(Debug, Default)]
pub struct Scorer {
    /// Each labelled, non-external account's role.
    labels: HashMap<String, Role>,
    /// Accounts flagged per typology (index into [`TYPOLOGIES`]).
    flagged: [HashSet<String>; TYPOLOGIES.len()],
    /// Accounts subject to a finding of review or stronger on a
    /// transaction between legitimate parties.
    alerted: HashSet<String>,
    /// Accounts subject to a finding of review or stronger on a
    /// transaction with a planted typology as a party.
    alerted_with_typology: HashSet<String>,
    rules: BTreeMap<(String, String), u64>,
    actions: ActionCounts,
    lines: u64,
    decided: u64,
    unlabelled: u64,
    conflicts: u64,
    rejected: u64,
    rejected_lines: Vec<RejectedLine>,
    /// Transactions dated before this (seconds since the epoch) are
    /// history: decided, not scored.
    score_from: Option<i64>,
    history: u64,
}

impl Scorer {
    /// An empty score.
    pub fn new() -> Scorer {
        Scorer::default()
    }

    /// An empty score that counts transactions dated before `from`
    /// (seconds since the epoch) as history only.
    pub fn scoring_from(from: i64) -> Scorer {
        Scorer {
            score_from: Some(from),
            ..Scorer::default()
        }
    }

    /// Counts a decided transaction and its labels, if it has any; one
    /// dated before the score-from time is counted as history only.
    pub fn observe(&mut self, tx: &Transaction, truth: Option<Truth>, decision: &Decision) {
        if self.score_from.is_some_and(|from| tx.timestamp < from) {
            self.history += 1;
            return;
        }
        self.lines += 1;
        self.decided += 1;
        match truth {
            Some(t) => {
                self.label(&tx.sender.account, t.sender);
                self.label(&tx.recipient.account, t.recipient);
            }
            None => self.unlabelled += 1,
        }
        self.actions.add(decision.action);
        let typology_involved =
            truth.is_some_and(|t| t.sender.is_typology() || t.recipient.is_typology());
        for finding in &decision.findings {
            *self
                .rules
                .entry((finding.code.clone(), finding.rule.clone()))
                .or_insert(0) += 1;
            let party = if finding.evidence.get("side") == Some("recipient") {
                &tx.recipient.account
            } else {
                &tx.sender.account
            };
            // A finding about a network of accounts names them all in
            // `accounts`; an analyst opens the case on every one.
            let named = finding
                .evidence
                .get("accounts")
                .into_iter()
                .flat_map(|list| list.split(", "))
                .filter(|a| !a.is_empty() && *a != party.as_str());
            for subject in std::iter::once(party.as_str()).chain(named) {
                for (i, typology) in TYPOLOGIES.iter().enumerate() {
                    if typology.codes.contains(&finding.code.as_str())
                        && let Some(set) = self.flagged.get_mut(i)
                        && !set.contains(subject)
                    {
                        set.insert(subject.to_owned());
                    }
                }
                if finding.action >= Action::Review {
                    let alerted = if typology_involved {
                        &mut self.alerted_with_typology
                    } else {
                        &mut self.alerted
                    };
                    if !alerted.contains(subject) {
                        alerted.insert(subject.to_owned());
                    }
                }
            }
        }
    }

    /// Transactions decided so far, history included.
    pub fn seen(&self) -> u64 {
        self.decided + self.history
    }

    /// Counts a line that was rejected, with why.
    pub fn reject(&mut self, line: u64, error: impl Into<String>) {
        self.lines += 1;
        self.rejected += 1;
        // Keep the first lines by number: a batch reports lines it could
        // not parse before those it could not decide.
        if self.rejected_lines.len() < REJECTED_LISTED
            || self.rejected_lines.last().is_some_and(|r| r.line > line)
        {
            self.rejected_lines.push(RejectedLine {
                line,
                error: error.into(),
            });
            self.rejected_lines.sort_by_key(|r| r.line);
            self.rejected_lines.truncate(REJECTED_LISTED);
        }
    }

    fn label(&mut self, account: &str, role: Role) {
        if role == Role::External {
            return;
        }
        match self.labels.get(account) {
            Some(known) if *known != role => self.conflicts += 1,
            Some(_) => {}
            None => {
                self.labels.insert(account.to_owned(), role);
            }
        }
    }

    /// Sums the score up. `elapsed` is the run's time, `pack` the pack that
    /// decided.
    pub fn report(&self, elapsed: Duration, pack: Option<PackRef>) -> Report {
        let role_of = |account: &String| self.labels.get(account).copied();
        let mut actual: HashMap<Role, u64> = HashMap::new();
        for role in self.labels.values() {
            *actual.entry(*role).or_insert(0) += 1;
        }
        let typologies = TYPOLOGIES
            .iter()
            .zip(&self.flagged)
            .map(|(typology, flagged)| {
                let labelled: Vec<Role> = flagged.iter().filter_map(role_of).collect();
                let tp = labelled.iter().filter(|r| **r == typology.role).count() as u64;
                let related = labelled
                    .iter()
                    .filter(|r| typology.related.contains(r))
                    .count() as u64;
                let flagged = labelled.len() as u64;
                let actual = actual.get(&typology.role).copied().unwrap_or(0);
                TypologyScore {
                    name: typology.name,
                    role: typology.role,
                    codes: typology.codes.to_vec(),
                    flagged,
                    actual,
                    tp,
                    related,
                    fp: flagged - tp - related,
                    fn_: actual - tp,
                    precision: ratio(tp, flagged - related),
                    recall: ratio(tp, actual),
                }
            })
            .collect();
        let mut alerted: HashMap<Role, u64> = HashMap::new();
        for role in self.alerted.iter().filter_map(role_of) {
            *alerted.entry(role).or_insert(0) += 1;
        }
        let roles: Vec<RoleShare> = Role::LEGITIMATE
            .iter()
            .map(|role| {
                let accounts = actual.get(role).copied().unwrap_or(0);
                let flagged = alerted.get(role).copied().unwrap_or(0);
                RoleShare {
                    role: *role,
                    accounts,
                    flagged,
                    share: ratio(flagged, accounts),
                }
            })
            .collect();
        let accounts: u64 = roles.iter().map(|r| r.accounts).sum();
        let flagged: u64 = roles.iter().map(|r| r.flagged).sum();
        let with_typology = self
            .alerted_with_typology
            .iter()
            .filter(|account| !self.alerted.contains(*account))
            .filter_map(role_of)
            .filter(|role| Role::LEGITIMATE.contains(role))
            .count() as u64;
        let mut rules: Vec<RuleHits> = self
            .rules
            .iter()
            .map(|((code, rule), hits)| RuleHits {
                code: code.clone(),
                rule: rule.clone(),
                hits: *hits,
            })
            .collect();
        rules.sort_by(|a, b| b.hits.cmp(&a.hits).then_with(|| a.code.cmp(&b.code)));
        let alerts = self.actions.review + self.actions.hold + self.actions.block;
        let secs = elapsed.as_secs_f64();
        Report {
            pack,
            lines: self.lines,
            transactions: self.decided,
            history: self.history,
            rejected: self.rejected,
            unlabelled: self.unlabelled,
            label_conflicts: self.conflicts,
            rejected_lines: self.rejected_lines.clone(),
            elapsed_s: secs,
            tx_per_s: if secs > 0.0 {
                self.seen() as f64 / secs
            } else {
                0.0
            },
            alerts,
            alerts_per_1000: if self.decided > 0 {
                alerts as f64 * 1000.0 / self.decided as f64
            } else {
                0.0
            },
            actions: self.actions,
            typologies,
            legitimate: LegitimateScore {
                accounts,
                flagged,
                share: ratio(flagged, accounts),
                roles,
                flagged_with_typology: with_typology,
            },
            rules,
        }
    }
}

fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// Counts the bytes read through it, for progress by input size.
struct Counting<R> {
    inner: R,
    bytes: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
}

/// How a backtest runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOptions {
    /// How many transactions to decide per batch.
    pub batch: usize,
    /// How far ahead of the stream's watermark a line may be dated,
    /// seconds.
    pub skew_secs: i64,
    /// Lines dated before this (seconds since the epoch) are decided as
    /// history and not scored.
    pub score_from: Option<i64>,
}

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions {
            batch: 256,
            skew_secs: DEFAULT_STREAM_SKEW_SECS,
            score_from: None,
        }
    }
}

/// [`run`] with every option.
pub fn run_with(
    engine: &Engine,
    input: impl Read,
    total_bytes: Option<u64>,
    options: RunOptions,
    mut progress: impl FnMut(&Progress),
) -> Result<Report, BacktestError> {
    let mut side = Side::new(engine, options.skew_secs)?;
    if let Some(from) = options.score_from {
        side.scorer = Scorer::scoring_from(from);
    }
    let began = Instant::now();
    let mut stream = Stream::new(input, options.batch);
    while let Some(lines) = stream.next_batch(|line, problem| side.scorer.reject(line, problem))? {
        side.decide(&lines);
        progress(&stream.progress(total_bytes, side.scorer.seen(), began));
    }
    Ok(side.report(began))
}

/// Decides every transaction of `input` with the engine's active pack, in
/// batches of `batch` in stream order, and scores the decisions against
/// the labels. `total_bytes` (the input's size, when known) and `progress`
/// serve a progress display; `progress` is called after every batch. A
/// line dated more than [`DEFAULT_STREAM_SKEW_SECS`] ahead of the stream's
/// watermark, or repeating an id already decided, is rejected on its line
/// ([`StreamGate`]). [`run_with`] sets the skew and a score-from time.
pub fn run(
    engine: &Engine,
    input: impl Read,
    total_bytes: Option<u64>,
    batch: usize,
    progress: impl FnMut(&Progress),
) -> Result<Report, BacktestError> {
    let options = RunOptions {
        batch,
        ..RunOptions::default()
    };
    run_with(engine, input, total_bytes, options, progress)
}

/// A line read and parsed: its number, and the transaction with its labels
/// or why it could not be read as one.
pub(crate) type Parsed = (u64, Result<(Transaction, Option<Truth>), String>);

/// The input, read a batch of numbered lines at a time and parsed.
pub(crate) struct Stream<R: Read> {
    batches: Batches<BufReader<Counting<R>>>,
}

impl<R: Read> Stream<R> {
    pub(crate) fn new(input: R, batch: usize) -> Stream<R> {
        Stream {
            batches: Batches::new(
                BufReader::with_capacity(
                    256 * 1024,
                    Counting {
                        inner: input,
                        bytes: 0,
                    },
                ),
                batch.clamp(1, qorgan::engine::MAX_BATCH),
            ),
        }
    }

    /// The next batch's lines, parsed; a line that is not text (too long,
    /// not UTF-8) goes to `unreadable` instead.
    pub(crate) fn next_batch(
        &mut self,
        mut unreadable: impl FnMut(u64, String),
    ) -> Result<Option<Vec<Parsed>>, BacktestError> {
        let Some(lines) = self.batches.next_batch()? else {
            return Ok(None);
        };
        let mut parsed = Vec::with_capacity(lines.len());
        for (line_no, text) in lines {
            let text = match text {
                Ok(text) => text,
                Err(problem) => {
                    unreadable(line_no, problem.to_string());
                    continue;
                }
            };
            let tx = serde_json::from_str::<Value>(&text)
                .map_err(|e| format!("not a JSON object: {e}"))
                .and_then(|value| {
                    Transaction::from_value(&value)
                        .map(|tx| (tx, Truth::from_transaction(&value)))
                        .map_err(|e| e.to_string())
                });
            parsed.push((line_no, tx));
        }
        Ok(Some(parsed))
    }

    pub(crate) fn progress(
        &self,
        total_bytes: Option<u64>,
        decided: u64,
        began: Instant,
    ) -> Progress {
        let reader = self.batches.get_ref();
        Progress {
            bytes: reader
                .get_ref()
                .bytes
                .saturating_sub(reader.buffer().len() as u64),
            total_bytes,
            lines: self.batches.lines(),
            decided,
            elapsed: began.elapsed(),
        }
    }
}

/// One pack deciding a stream exactly as `qorgan eval` does: its engine's
/// history, one evaluator, the stream gate, and the score kept.
pub(crate) struct Side {
    evaluator: qorgan::engine::Evaluator,
    gate: StreamGate,
    pub(crate) scorer: Scorer,
    pack: PackRef,
}

impl Side {
    pub(crate) fn new(engine: &Engine, skew_secs: i64) -> Result<Side, BacktestError> {
        let pack = engine.active().ok_or(BacktestError::NoPack)?;
        let info = pack.info();
        Ok(Side {
            evaluator: engine.evaluator(),
            gate: StreamGate::new(engine.history(), skew_secs),
            scorer: Scorer::new(),
            pack: PackRef {
                name: info.name.clone(),
                version: info.version.clone(),
                serial: info.serial,
            },
        })
    }

    /// Admits and decides a batch of parsed lines in order, scores them,
    /// and returns each line's decision (`None`: the line was rejected).
    pub(crate) fn decide(&mut self, lines: &[Parsed]) -> Vec<(u64, Option<Decision>)> {
        let mut txs: Vec<Transaction> = Vec::with_capacity(lines.len());
        let mut meta: Vec<(u64, Option<Truth>)> = Vec::with_capacity(lines.len());
        let mut out: Vec<(u64, Option<Decision>)> = Vec::with_capacity(lines.len());
        for (line_no, parsed) in lines {
            let admitted = parsed
                .clone()
                .and_then(|(tx, truth)| self.gate.admit(&tx).map(|()| (tx, truth)));
            match admitted {
                Ok((tx, truth)) => {
                    txs.push(tx);
                    meta.push((*line_no, truth));
                }
                Err(problem) => self.scorer.reject(*line_no, problem),
            }
        }
        let decisions = self.evaluator.evaluate_batch(&txs);
        self.gate
            .decided(txs.iter().zip(decisions.iter().map(Result::is_ok)));
        for ((tx, (line, truth)), decision) in txs.iter().zip(meta).zip(decisions) {
            match decision {
                Ok(decision) => {
                    self.scorer.observe(tx, truth, &decision);
                    out.push((line, Some(decision)));
                }
                Err(e) => {
                    self.scorer.reject(line, e.to_string());
                    out.push((line, None));
                }
            }
        }
        out
    }

    pub(crate) fn report(&self, began: Instant) -> Report {
        self.scorer.report(began.elapsed(), Some(self.pack.clone()))
    }
}

#[cfg(test)]
mod tests;
