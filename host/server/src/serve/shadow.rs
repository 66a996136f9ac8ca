//! Shadow mode: a candidate pack decides every transaction beside the
//! active one, and only its differences are kept.
//!
//! # Why
//!
//! A bank cannot trust a new pack on a backtest alone: its own traffic is
//! what matters. In shadow mode, `qorgan serve --shadow-source LOCATION`
//! watches a second source of signed packs; the candidate found there is
//! checked and activated exactly as the active pack is (signatures,
//! digests, serial, validity, compilation, its own cases: an [`Activator`]
//! of its own, with its own state directory and serial floor), but on an
//! [`Engine`] of its own. It never answers a request.
//!
//! # What it promises
//!
//! - **The active pack's decisions are untouched.** The submitter
//!   hands each decided batch to the shadow with a non-blocking send and
//!   goes on; the shadow decides on a thread of its own, off the response
//!   path. When the shadow falls behind and its queue is full, the batch is
//!   not shadowed, and counted as skipped (from then on its history misses
//!   those transactions, which the summary says).
//! - **Nothing is recorded twice.** The candidate reads and records history
//!   in its own engine's history, restored from the same journal at start
//!   and fed the same transactions in the same order, so it decides as a
//!   second `qorgan eval` run over the same stream would. The active
//!   history, the journal and the decision log never see the shadow.
//! - **Never fail open.** A candidate that is unsigned, tampered or fails
//!   its cases is refused by its activator and simply does not decide; the
//!   active pack is unaffected either way.
//!
//! Differences, as [`qorgan::compare`] defines them, are counted by action
//! and by finding code (`/metrics`, `qorgan_shadow_*`), summarised at
//! `/v1/pack/shadow` with the last few changed transactions, and each is
//! logged at `info` with `shadow = true` (target `qorgan::shadow`).
//! Promoting the candidate is publishing it to the active source as usual.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use qorgan::compare::{Change, Tally};
use qorgan::decision::{Decision, PackRef};
use qorgan::engine::{Engine, EvaluationError, PreparedPack};
use qorgan::source::{Activator, Watcher};
use qorgan::transaction::Transaction;

/// How many decided batches may wait for the shadow.
const QUEUE: usize = 1024;

/// How many changed transactions the summary shows.
const RECENT: usize = 20;

/// A transaction the active pack decided, as the shadow needs it.
struct Item {
    tx: Transaction,
    /// Its amount in tiyn as the active pack priced it (what history
    /// records while no candidate is active).
    amount: i64,
    /// The active pack's decision.
    decision: Decision,
}

/// What the shadow has seen of the current candidate.
#[derive(Default)]
struct State {
    /// The candidate the counts are about.
    candidate: Option<PackRef>,
    tally: Tally,
    /// Transactions the candidate could not decide (no rate for the
    /// currency, ...) though the active pack did.
    undecided: u64,
    /// Batches not shadowed because the shadow was behind.
    skipped_batches: u64,
    /// Transactions in them.
    skipped_transactions: u64,
    /// Transactions recorded while no candidate was active.
    without_candidate: u64,
    recent: VecDeque<Change>,
}

/// The shadow, as the routes and the deciding pipeline see it.
pub(crate) struct Shadow {
    engine: Engine,
    activator: Arc<Activator>,
    source: String,
    state: Arc<Mutex<State>>,
    queue: SyncSender<Vec<Item>>,
}

impl std::fmt::Debug for Shadow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shadow")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// The shadow's threads; stopping them waits for what is queued.
pub(crate) struct ShadowThreads {
    watcher: Watcher,
    thread: JoinHandle<()>,
}

impl ShadowThreads {
    /// Stops watching the candidate's source and, once every [`Shadow`]
    /// handle is dropped, waits for the shadow to finish its queue.
    pub(crate) fn stop(self) {
        self.watcher.stop();
        let _ = self.thread.join();
    }
}

impl Shadow {
    /// Starts the shadow: `engine` is its own (its active pack is the
    /// candidate, its history the shadow's), `activator` activates
    /// candidates on it, `watcher` brings them from `source`.
    pub(crate) fn spawn(
        engine: Engine,
        activator: Arc<Activator>,
        source: String,
        watcher: Watcher,
    ) -> std::io::Result<(Arc<Shadow>, ShadowThreads)> {
        let (queue, batches) = std::sync::mpsc::sync_channel(QUEUE);
        let state = Arc::new(Mutex::new(State::default()));
        let worker = Worker {
            engine: engine.clone(),
            state: Arc::clone(&state),
            current: None,
        };
        let thread = std::thread::Builder::new()
            .name("qorgan-shadow".into())
            .spawn(move || worker.run(batches))?;
        let shadow = Arc::new(Shadow {
            engine,
            activator,
            source,
            state,
            queue,
        });
        Ok((shadow, ShadowThreads { watcher, thread }))
    }

    /// The shadow's engine, whose history is restored at start like the
    /// active one's.
    pub(crate) fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Hands a batch the active pack decided to the shadow, without
    /// waiting: `decided` pairs with `txs`, `pack` priced them. Only the
    /// transactions the active pack decided (and so recorded) are passed.
    pub(crate) fn offer(
        &self,
        pack: &PreparedPack,
        txs: &[Transaction],
        decided: &[Result<Decision, EvaluationError>],
    ) {
        let items: Vec<Item> = txs
            .iter()
            .zip(decided)
            .filter_map(|(tx, result)| {
                let decision = result.as_ref().ok()?;
                Some(Item {
                    tx: tx.clone(),
                    amount: pack.amount_tiyn(tx).ok()?,
                    decision: decision.clone(),
                })
            })
            .collect();
        if items.is_empty() {
            return;
        }
        match self.queue.try_send(items) {
            Ok(()) => {}
            Err(TrySendError::Full(items) | TrySendError::Disconnected(items)) => {
                let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
                state.skipped_batches += 1;
                state.skipped_transactions += items.len() as u64;
            }
        }
    }

    /// The summary `/v1/pack/shadow` serves.
    pub(crate) fn summary(&self) -> serde_json::Value {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let status = self.activator.status();
        let candidate = self.engine.active().map(|p| p.info().clone());
        let summary = state.tally.summary();
        serde_json::json!({
            "source": {"location": self.source, "signed": true,
                       "required_signatures": self.activator.trust().required()},
            "candidate": candidate,
            "compared_with": state.candidate,
            "status": status,
            "decided": summary.decided,
            "changed": summary.changed,
            "alerts": summary.alerts,
            "actions": summary.actions,
            "codes": summary.codes,
            "undecided": state.undecided,
            "skipped": {"batches": state.skipped_batches, "transactions": state.skipped_transactions},
            "without_candidate": state.without_candidate,
            "recent": state.recent,
        })
    }

    /// The shadow's counters in the Prometheus text format.
    pub(crate) fn render(&self) -> String {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let summary = state.tally.summary();
        let mut out = String::with_capacity(1024);
        let mut counter = |name: &str, help: &str, value: u64| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            let _ = writeln!(out, "{name} {value}");
        };
        counter(
            "qorgan_shadow_decisions_total",
            "Transactions decided by the shadow candidate beside the active pack.",
            summary.decided,
        );
        counter(
            "qorgan_shadow_changed_total",
            "Of them, decisions the candidate would change.",
            summary.changed,
        );
        counter(
            "qorgan_shadow_skipped_total",
            "Transactions not shadowed because the shadow was behind.",
            state.skipped_transactions,
        );
        let _ = writeln!(
            out,
            "# HELP qorgan_shadow_changes_by_action_total Changed decisions by action, active (before) and candidate (after)."
        );
        let _ = writeln!(out, "# TYPE qorgan_shadow_changes_by_action_total counter");
        for a in &summary.actions {
            let _ = writeln!(
                out,
                "qorgan_shadow_changes_by_action_total{{before=\"{}\",after=\"{}\"}} {}",
                a.before, a.after, a.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP qorgan_shadow_changes_by_code_total Changed finding codes, by code and its action before and after (`none`: absent)."
        );
        let _ = writeln!(out, "# TYPE qorgan_shadow_changes_by_code_total counter");
        let action = |a: Option<qorgan::decision::Action>| {
            a.map_or_else(|| "none".to_owned(), |a| a.to_string())
        };
        for c in &summary.codes {
            let _ = writeln!(
                out,
                "qorgan_shadow_changes_by_code_total{{code=\"{}\",before=\"{}\",after=\"{}\"}} {}",
                label(&c.code),
                action(c.before),
                action(c.after),
                c.count
            );
        }
        out
    }
}

/// A label value escaped as the Prometheus text format wants.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The shadow's thread: decides each batch with the candidate, in order.
struct Worker {
    engine: Engine,
    state: Arc<Mutex<State>>,
    /// The candidate the evaluator is pinned to.
    current: Option<(Arc<PreparedPack>, qorgan::engine::Evaluator)>,
}

impl Worker {
    fn run(mut self, batches: Receiver<Vec<Item>>) {
        while let Ok(items) = batches.recv() {
            self.shadow(items);
        }
    }

    fn shadow(&mut self, items: Vec<Item>) {
        let Some(active) = self.engine.active() else {
            // No candidate: history still follows the stream, so that a
            // candidate activated later reads what the active pack reads.
            self.engine
                .history()
                .record(items.iter().map(|i| (&i.tx, i.amount)));
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            state.without_candidate += items.len() as u64;
            return;
        };
        if !self
            .current
            .as_ref()
            .is_some_and(|(pack, _)| Arc::ptr_eq(pack, &active))
        {
            let evaluator = self.engine.evaluator().with_pack(Arc::clone(&active));
            let pack = active.pack_ref().clone();
            tracing::info!(target: "qorgan::shadow", shadow = true, name = %pack.name, serial = pack.serial, "a new candidate decides in shadow; its counts start afresh");
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            *state = State {
                candidate: Some(pack),
                skipped_batches: state.skipped_batches,
                skipped_transactions: state.skipped_transactions,
                without_candidate: state.without_candidate,
                ..State::default()
            };
            drop(state);
            self.current = Some((active, evaluator));
        }
        let Some((_, evaluator)) = self.current.as_mut() else {
            return;
        };
        let txs: Vec<Transaction> = items.iter().map(|i| i.tx.clone()).collect();
        let decided = evaluator.evaluate_batch(&txs);
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        for (item, result) in items.iter().zip(decided) {
            let Ok(candidate) = result else {
                state.undecided += 1;
                continue;
            };
            if let Some(change) = state.tally.observe(&item.decision, &candidate) {
                tracing::info!(
                    target: "qorgan::shadow",
                    shadow = true,
                    tx = %change.tx,
                    before = %change.before,
                    after = %change.after,
                    active_decision = %item.decision.decision_id,
                    candidate = %candidate.to_json(),
                    "the shadow candidate decides differently"
                );
                if state.recent.len() >= RECENT {
                    state.recent.pop_front();
                }
                state.recent.push_back(change);
            }
        }
    }
}
