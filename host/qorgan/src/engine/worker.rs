//! The per-thread half of the engine: live plugin instances and the hot path.
//!
//! A [`Worker`] owns one wasmtime `Store` and instance per plugin of the
//! active pack. Instances are reused batch after batch and replaced when a
//! call fails (a trap leaves the store unusable), after the pack's
//! `recycle_after_calls`, and when a different pack becomes active. A worker
//! is used by one thread at a time; the engine keeps a pool of them.
//!
//! # Budgets and narrowing
//!
//! A plugin's budget is per transaction: fuel (instructions, not time) and
//! output bytes. Every call gets one transaction's budget, whatever its
//! size, and its verdicts count only if the whole call fits. A plugin does
//! at least as much work on a batch as on any one of its transactions, so a
//! call that fits proves that each of its transactions would fit alone, and
//! a transaction that does not fit alone fits no call. Whether a plugin
//! fails on a transaction is therefore the same in a batch of 1 or 4,096,
//! on a busy host or an idle one.
//!
//! To keep calls few, a batch is cut into chunks sized from what the plugin
//! spent per transaction on earlier calls (about half a budget each); the
//! chunking changes how many calls are made, never an outcome. A call that
//! fails (budget, trap, memory, output, a broken contract) is bisected,
//! depth first and left half first, down to the transactions that fail
//! alone; the others keep the plugin's real verdicts. Per plugin and batch
//! of `n` transactions that makes at most `2n - 1` calls, each within one
//! transaction's budget. Once the plugin has failed on
//! [`QUARANTINE_AFTER_FAILURES`] transactions (the first ones in batch
//! order, whatever the chunks), it is quarantined for the rest of the
//! batch: every transaction after those gets `PLUGIN_FAILED` without
//! another call. A wall-clock timeout or an instance that cannot start
//! quarantines it at once: neither says anything about a transaction.

use std::sync::Arc;
use std::time::Instant;

use wasmtime::Store;

use super::bindings::{HostState, RulePlugin, wit};
use super::plugin::{PreparedPlugin, action_from_wit, instantiate, refuel};
use super::plugin_log::{self, LOG_BYTES_PER_BATCH, PluginLog};
use super::sandbox::{PluginLimiter, is_output_exhausted, output_budget};
use super::{Context, PreparedPack};
use crate::decision::{self, Decision, Evidence, Finding, PLUGIN_FAILED};
use crate::history::Stamp;
use crate::transaction::{Check, Checks, Transaction};

crate::lower_batch_into!(mod batch for super::wit);
use batch::build_batch;

/// After failing on this many transactions of one batch, a plugin is not
/// run on the rest of the batch.
pub const QUARANTINE_AFTER_FAILURES: u64 = 16;

/// What one plugin's calls cost on one evaluator, since it last switched
/// packs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PluginStats {
    /// Batches decided.
    pub batches: u64,
    /// `evaluate` calls, narrowing included.
    pub calls: u64,
    /// Fuel the calls consumed.
    pub fuel: u64,
    /// The most calls made on one batch.
    pub max_batch_calls: u64,
    /// The most fuel consumed on one batch.
    pub max_batch_fuel: u64,
    /// Transactions the plugin gave no verdict for.
    pub failed: u64,
    /// Batches on which it was quarantined.
    pub quarantines: u64,
    /// Log lines dropped over the log budget.
    pub log_lines_dropped: u64,
    /// Log bytes dropped over the log budget.
    pub log_bytes_dropped: u64,
}

/// Why a plugin gave no verdict for a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PluginFailure {
    /// The transaction needs more than the plugin's deterministic CPU
    /// budget for one transaction.
    Budget {
        /// The plugin's fuel per transaction.
        fuel_per_transaction: u64,
    },
    /// The call ran past the wall-clock backstop: a host stall, not
    /// something the transaction did.
    Timeout {
        /// The backstop, in milliseconds.
        limit_ms: u64,
    },
    /// The plugin failed on so many transactions of the batch before this
    /// one (or its wall-clock backstop fired) that it was not run on it.
    Quarantined {
        /// Transactions of the batch it had failed on.
        failed_transactions: u64,
    },
    /// The instance tried to grow its memory past the pack's cap.
    MemoryExceeded {
        /// The cap, in MiB.
        limit_mib: u64,
    },
    /// The guest's call stack overflowed.
    StackOverflow,
    /// The guest trapped (a panic, `unreachable`, an out-of-bounds access, a
    /// host call it was not allowed to make).
    Trap(String),
    /// A fresh instance could not be created or configured.
    Instantiate(String),
    /// The plugin returned something the contract forbids.
    Contract(String),
    /// The call tried to hand the host more data than the host copies out
    /// of one call (see [`output_budget`](super::output_budget)).
    OutputTooLarge {
        /// The budget of the call, in bytes.
        limit_bytes: u64,
    },
}

impl PluginFailure {
    /// A short, stable name for the kind of failure.
    pub fn reason(&self) -> &'static str {
        match self {
            PluginFailure::Budget { .. } => "budget",
            PluginFailure::Timeout { .. } => "timeout",
            PluginFailure::Quarantined { .. } => "quarantined",
            PluginFailure::MemoryExceeded { .. } => "memory",
            PluginFailure::StackOverflow => "stack-overflow",
            PluginFailure::Trap(_) => "trap",
            PluginFailure::Instantiate(_) => "instantiate",
            PluginFailure::Contract(_) => "contract",
            PluginFailure::OutputTooLarge { .. } => "output-too-large",
        }
    }

    /// What happened, in a sentence naming `plugin`.
    fn describe(&self, plugin: &str) -> String {
        match self {
            PluginFailure::Budget {
                fuel_per_transaction,
            } => format!(
                "plugin {plugin} ran out of its budget of {fuel_per_transaction} fuel per transaction"
            ),
            PluginFailure::Timeout { limit_ms } => {
                format!("plugin {plugin} ran past the wall-clock backstop of {limit_ms} ms")
            }
            PluginFailure::Quarantined {
                failed_transactions,
            } => format!(
                "plugin {plugin} was quarantined for the rest of the batch after failing on {failed_transactions} of its transactions, and not run on this one"
            ),
            PluginFailure::MemoryExceeded { limit_mib } => {
                format!("plugin {plugin} tried to use more than {limit_mib} MiB of memory")
            }
            PluginFailure::StackOverflow => format!("plugin {plugin} overflowed its stack"),
            PluginFailure::Trap(m) => format!("plugin {plugin} trapped: {m}"),
            PluginFailure::Instantiate(m) => format!("plugin {plugin} could not start: {m}"),
            PluginFailure::Contract(m) => format!("plugin {plugin} broke the contract: {m}"),
            PluginFailure::OutputTooLarge { limit_bytes } => format!(
                "plugin {plugin} tried to hand the host more than its {limit_bytes} bytes of output"
            ),
        }
    }
}

struct Live {
    store: Store<HostState>,
    plugin: RulePlugin,
    calls: u64,
}

/// Per-thread instances of the active pack's plugins.
#[derive(Default)]
pub(crate) struct Worker {
    generation: u64,
    live: Vec<Option<Live>>,
    /// Nanoseconds spent in each plugin's calls (index as in the pack),
    /// since the worker last switched packs: what `qorgan bench` reports
    /// per plugin. Two clock reads per plugin and batch.
    spent_ns: Vec<u64>,
    /// What each plugin's calls cost, index as in the pack.
    stats: Vec<PluginStats>,
    /// What each plugin spent per transaction on its recent calls (fuel,
    /// output bytes), index as in the pack: how large a chunk of a batch
    /// one call can take. Affects the number of calls only.
    per_tx: Vec<(u64, u64)>,
    /// The last batch's buffers, kept for the next batch so that a steady
    /// stream does not allocate (and the allocator does not return) them
    /// batch after batch.
    records: Vec<wit::Transaction>,
    text: Vec<u8>,
}

type Outcome = Result<wit::Verdict, PluginFailure>;

impl Worker {
    /// Decides stamped transactions with `pack`; each comes with its amount
    /// converted to tiyn.
    pub(crate) fn run(
        &mut self,
        pack: &PreparedPack,
        context: &Context,
        txs: &[(&Transaction, i64)],
        stamps: &[Stamp],
    ) -> Vec<Decision> {
        let started = Instant::now();
        if self.generation != pack.generation || self.live.len() != pack.plugins.len() {
            self.generation = pack.generation;
            self.live = pack.plugins.iter().map(|_| None).collect();
            self.spent_ns = vec![0; pack.plugins.len()];
            self.stats = vec![PluginStats::default(); pack.plugins.len()];
            self.per_tx = vec![(0, 0); pack.plugins.len()];
        }
        let batch = build_batch(
            txs,
            stamps,
            std::mem::take(&mut self.records),
            std::mem::take(&mut self.text),
        );
        let mut per_plugin = Vec::with_capacity(pack.plugins.len());
        for (index, plugin) in pack.plugins.iter().enumerate() {
            let called = Instant::now();
            per_plugin.push(
                self.outcomes(index, plugin, pack, context, &batch, txs, stamps)
                    .into_iter(),
            );
            let elapsed = called.elapsed();
            if let Some(timer) = &context.timer {
                timer.observe(&plugin.info.id, txs.len(), elapsed);
            }
            let spent = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
            if let Some(total) = self.spent_ns.get_mut(index) {
                *total = total.saturating_add(spent);
            }
        }
        let wit::Batch { transactions, text } = batch;
        self.records = transactions;
        self.text = text;
        let elapsed_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX)
            / u64::try_from(txs.len().max(1)).unwrap_or(1);
        let mut ids = DecisionIds::new();
        txs.iter()
            .map(|(tx, _)| {
                // Findings are moved out of the lifted verdicts, not copied.
                let mut findings: Vec<(Finding, u32)> = decision::vocabulary_findings(tx)
                    .map(|f| (f, 100))
                    .collect();
                for (plugin, outcomes) in pack.plugins.iter().zip(per_plugin.iter_mut()) {
                    let weight = plugin.weight_pct;
                    match outcomes.next() {
                        Some(Ok(verdict)) => findings.extend(
                            verdict
                                .findings
                                .into_iter()
                                .map(|f| (finding_from_wit(plugin, f), weight)),
                        ),
                        Some(Err(failure)) => {
                            findings.push((failure_finding(plugin, pack, &failure), weight));
                        }
                        None => {
                            let failure = PluginFailure::Contract("no verdict".into());
                            findings.push((failure_finding(plugin, pack, &failure), weight));
                        }
                    }
                }
                let (action, score, requirements) = decision::aggregate(
                    findings.iter().map(|(f, weight)| (f, *weight)),
                    &pack.thresholds,
                );
                Decision {
                    tx: tx.id.clone(),
                    decision_id: ids.next(),
                    action,
                    score,
                    requirements,
                    findings: findings.into_iter().map(|(f, _)| f).collect(),
                    pack: pack.pack_ref.clone(),
                    elapsed_us,
                }
            })
            .collect()
    }

    /// Nanoseconds spent in each plugin's calls, in pack order, since this
    /// worker last switched packs.
    pub(crate) fn spent_ns(&self) -> &[u64] {
        &self.spent_ns
    }

    /// What each plugin's calls cost, in pack order, since this worker
    /// last switched packs.
    pub(crate) fn stats(&self) -> &[PluginStats] {
        &self.stats
    }

    /// One plugin's verdicts on a batch, one per transaction, narrowing a
    /// failed call down to the transactions that cause it (see the module's
    /// documentation for the bounds).
    #[allow(
        clippy::too_many_arguments,
        reason = "the batch in both its lowered and its host form"
    )]
    fn outcomes(
        &mut self,
        index: usize,
        plugin: &PreparedPlugin,
        pack: &PreparedPack,
        context: &Context,
        batch: &wit::Batch,
        txs: &[(&Transaction, i64)],
        stamps: &[Stamp],
    ) -> Vec<Outcome> {
        let n = batch.transactions.len();
        if n == 0 {
            return Vec::new();
        }
        let mut cost = BatchCost::new();
        let mut out: Vec<Option<Outcome>> = (0..n).map(|_| None).collect();
        let mut quarantine: Option<PluginFailure> = None;
        let mut skipped = 0usize;
        // Chunks, then halves, depth first and left first: transactions
        // are settled in batch order.
        let chunk = self.chunk(index, plugin, pack, n);
        let mut segments: Vec<(usize, usize)> = (0..n)
            .step_by(chunk)
            .map(|start| (start, (start + chunk).min(n)))
            .rev()
            .collect();
        while let Some((start, end)) = segments.pop() {
            let len = end - start;
            if let Some(failure) = &quarantine {
                skipped += len;
                fill(&mut out, start, end, failure);
                continue;
            }
            let seg_txs = txs.get(start..end).unwrap_or_default();
            let seg_stamps = stamps.get(start..end).unwrap_or_default();
            let result = if len == n {
                self.call(
                    index, plugin, pack, context, batch, seg_txs, seg_stamps, &mut cost,
                )
            } else {
                let part = wit::Batch {
                    transactions: batch
                        .transactions
                        .get(start..end)
                        .map(<[wit::Transaction]>::to_vec)
                        .unwrap_or_default(),
                    text: batch.text.clone(),
                };
                self.call(
                    index, plugin, pack, context, &part, seg_txs, seg_stamps, &mut cost,
                )
            };
            match result {
                Ok(verdicts) => {
                    let slots = out.get_mut(start..end).unwrap_or_default();
                    for (slot, verdict) in slots.iter_mut().zip(verdicts) {
                        *slot = Some(check_verdict(plugin, verdict));
                    }
                }
                Err(failure @ (PluginFailure::Timeout { .. } | PluginFailure::Instantiate(_))) => {
                    fill(&mut out, start, end, &failure);
                    cost.failed = cost.failed.saturating_add(len as u64);
                    quarantine = Some(cost.quarantined());
                }
                Err(failure) if len == 1 => {
                    fill(&mut out, start, end, &failure);
                    cost.failed = cost.failed.saturating_add(1);
                    if cost.failed >= QUARANTINE_AFTER_FAILURES {
                        quarantine = Some(cost.quarantined());
                    }
                }
                Err(_) => {
                    let mid = start + len / 2;
                    segments.push((mid, end));
                    segments.push((start, mid));
                }
            }
        }
        let outcomes: Vec<Outcome> = out
            .into_iter()
            .map(|o| o.unwrap_or(Err(PluginFailure::Contract("no verdict".into()))))
            .collect();
        if let Some(stats) = self.stats.get_mut(index) {
            stats.batches += 1;
            stats.calls = stats.calls.saturating_add(cost.calls);
            stats.fuel = stats.fuel.saturating_add(cost.fuel);
            stats.max_batch_calls = stats.max_batch_calls.max(cost.calls);
            stats.max_batch_fuel = stats.max_batch_fuel.max(cost.fuel);
            let failed = outcomes.iter().filter(|o| o.is_err()).count() as u64;
            stats.failed = stats.failed.saturating_add(failed);
            stats.log_lines_dropped = stats
                .log_lines_dropped
                .saturating_add(cost.log_lines_dropped);
            stats.log_bytes_dropped = stats
                .log_bytes_dropped
                .saturating_add(cost.log_bytes_dropped);
            if quarantine.is_some() {
                stats.quarantines += 1;
            }
        }
        if quarantine.is_some() {
            log::warn!(
                "plugin quarantined for the rest of its batch: plugin={} failed={} fuel={} skipped={skipped}",
                plugin.info.id,
                cost.failed,
                cost.fuel
            );
            if let Some(timer) = &context.timer {
                timer.quarantined(&plugin.info.id, skipped);
            }
        }
        if cost.log_lines_dropped > 0 {
            plugin_log::report_dropped(
                &plugin.info.id,
                cost.log_lines_dropped,
                cost.log_bytes_dropped,
            );
            if let Some(timer) = &context.timer {
                timer.log_dropped(
                    &plugin.info.id,
                    cost.log_lines_dropped,
                    cost.log_bytes_dropped,
                );
            }
        }
        outcomes
    }

    /// How many transactions one call on `plugin` should take: about half
    /// a budget's worth at what it spent per transaction recently, all of
    /// `n` when nothing is known yet.
    fn chunk(&self, index: usize, plugin: &PreparedPlugin, pack: &PreparedPack, n: usize) -> usize {
        let (fuel, output) = self.per_tx.get(index).copied().unwrap_or((0, 0));
        let fits = |budget: u64, each: u64| {
            if each == 0 {
                n
            } else {
                usize::try_from(budget / each.saturating_mul(2)).unwrap_or(n)
            }
        };
        let by_fuel = if pack.load_fuel.is_some() {
            fits(plugin.fuel_per_tx, fuel)
        } else {
            n
        };
        let by_output = fits(u64::try_from(output_budget(1)).unwrap_or(u64::MAX), output);
        by_fuel.min(by_output).clamp(1, n.max(1))
    }

    /// Calls the plugin's `evaluate` on this worker's instance, creating it
    /// if needed and discarding it after a failure. `txs` and `stamps` are
    /// the batch's transactions, for naming them in the plugin's log.
    #[allow(
        clippy::too_many_arguments,
        reason = "the batch in both its lowered and its host form"
    )]
    fn call(
        &mut self,
        index: usize,
        plugin: &PreparedPlugin,
        pack: &PreparedPack,
        context: &Context,
        batch: &wit::Batch,
        txs: &[(&Transaction, i64)],
        stamps: &[Stamp],
        cost: &mut BatchCost,
    ) -> Result<Vec<wit::Verdict>, PluginFailure> {
        let Some(slot) = self.live.get_mut(index) else {
            return Err(PluginFailure::Instantiate("no slot for plugin".into()));
        };
        if slot.is_none() {
            *slot = Some(spawn(plugin, pack, context)?);
        }
        let Some(live) = slot.as_mut() else {
            return Err(PluginFailure::Instantiate("instance vanished".into()));
        };
        let n = batch.transactions.len();
        let budget = plugin.fuel_per_tx;
        let output = output_budget(1);
        let metered = pack.load_fuel.is_some();
        live.store.set_epoch_deadline(pack.deadline_ticks);
        live.store.set_hostcall_fuel(output);
        if metered && let Err(e) = live.store.set_fuel(budget) {
            *slot = None;
            return Err(PluginFailure::Instantiate(format!(
                "cannot set fuel: {e:#}"
            )));
        }
        let state = live.store.data_mut();
        state.log.start_call(cost.log_left);
        state.cursors.clear();
        state.cursors.extend(stamps.iter().map(|s| s.at));
        let result = live
            .plugin
            .qorgan_rule_rule()
            .call_evaluate(&mut live.store, batch);
        live.calls += 1;
        cost.calls += 1;
        let fuel_used = if metered {
            budget.saturating_sub(live.store.get_fuel().unwrap_or(0))
        } else {
            0
        };
        cost.fuel = cost.fuel.saturating_add(fuel_used);
        let output_used = output.saturating_sub(live.store.hostcall_fuel());
        let log = &mut live.store.data_mut().log;
        cost.log_left = log.batch_left();
        let lines = log.take_lines();
        let last_error = log.take_last_error().filter(|_| result.is_err());
        let (lines_dropped, bytes_dropped) = log.take_dropped();
        cost.log_lines_dropped = cost.log_lines_dropped.saturating_add(lines_dropped);
        cost.log_bytes_dropped = cost.log_bytes_dropped.saturating_add(bytes_dropped);
        if !lines.is_empty() {
            let single = match txs {
                [(tx, _)] => Some(tx.id.as_str()),
                _ => None,
            };
            plugin_log::emit(&plugin.info.id, lines, single, |seq| {
                let at = stamps.binary_search_by_key(&seq, |s| s.at.seq).ok()?;
                txs.get(at).map(|(tx, _)| tx.id.as_str())
            });
        }
        match result {
            Ok(verdicts) => {
                if live.calls >= pack.limits.recycle_after_calls {
                    *slot = None;
                }
                if verdicts.len() != n {
                    return Err(PluginFailure::Contract(format!(
                        "returned {} verdicts for {} transactions",
                        verdicts.len(),
                        n
                    )));
                }
                if let Some(per_tx) = self.per_tx.get_mut(index) {
                    let count = u64::try_from(n).unwrap_or(u64::MAX).max(1);
                    let output_used = u64::try_from(output_used).unwrap_or(u64::MAX);
                    // Recent calls weigh most; one odd call moves it a quarter.
                    per_tx.0 = (per_tx.0.saturating_mul(3) + fuel_used / count).div_ceil(4);
                    per_tx.1 = (per_tx.1.saturating_mul(3) + output_used / count).div_ceil(4);
                }
                Ok(verdicts)
            }
            Err(error) => {
                let failure = match (classify(&error, &live.store, pack, plugin), last_error) {
                    (PluginFailure::Trap(trap), Some(said)) => {
                        PluginFailure::Trap(format!("{trap}; it logged before: {said}"))
                    }
                    (failure, _) => failure,
                };
                *slot = None;
                Err(failure)
            }
        }
    }
}

/// What one plugin's calls on one batch have cost so far.
struct BatchCost {
    calls: u64,
    fuel: u64,
    /// Transactions it failed on.
    failed: u64,
    /// Log bytes the batch may still write.
    log_left: usize,
    log_lines_dropped: u64,
    log_bytes_dropped: u64,
}

impl BatchCost {
    fn new() -> BatchCost {
        BatchCost {
            calls: 0,
            fuel: 0,
            failed: 0,
            log_left: LOG_BYTES_PER_BATCH,
            log_lines_dropped: 0,
            log_bytes_dropped: 0,
        }
    }

    fn quarantined(&self) -> PluginFailure {
        PluginFailure::Quarantined {
            failed_transactions: self.failed,
        }
    }
}

/// Sets the outcomes `start..end` to `failure`.
fn fill(out: &mut [Option<Outcome>], start: usize, end: usize, failure: &PluginFailure) {
    for slot in out.get_mut(start..end).unwrap_or_default() {
        *slot = Some(Err(failure.clone()));
    }
}

fn spawn(
    plugin: &PreparedPlugin,
    pack: &PreparedPack,
    context: &Context,
) -> Result<Live, PluginFailure> {
    let state = HostState {
        limiter: PluginLimiter::new(pack.memory_bytes),
        tap: context.tap.clone(),
        history: context.history.clone(),
        lists: pack.lists.clone(),
        declared_lists: plugin.declared_lists.clone(),
        plugin: Arc::from(plugin.info.id.as_str()),
        log: PluginLog::default(),
        cursors: Vec::new(),
    };
    let (mut store, instance) =
        instantiate(&plugin.pre, state, pack.deadline_ticks, pack.load_fuel)
            .map_err(|e| PluginFailure::Instantiate(format!("{e:#}")))?;
    refuel(&mut store, pack.load_fuel)
        .map_err(|e| PluginFailure::Instantiate(format!("cannot set fuel: {e:#}")))?;
    let configured = instance
        .qorgan_rule_rule()
        .call_configure(&mut store, &plugin.params);
    // What `configure` logs was written when the pack was loaded.
    let _ = store.data_mut().log.take_dropped();
    match configured {
        Ok(Ok(())) => Ok(Live {
            store,
            plugin: instance,
            calls: 0,
        }),
        Ok(Err(message)) => Err(PluginFailure::Instantiate(format!(
            "configure refused: {message}"
        ))),
        Err(e) => Err(PluginFailure::Instantiate(format!(
            "configure failed: {}",
            classify(&e, &store, pack, plugin).describe(&plugin.info.id)
        ))),
    }
}

fn classify(
    error: &wasmtime::Error,
    store: &Store<HostState>,
    pack: &PreparedPack,
    plugin: &PreparedPlugin,
) -> PluginFailure {
    if store.data().limiter.memory_exceeded {
        return PluginFailure::MemoryExceeded {
            limit_mib: pack.limits.memory_mib,
        };
    }
    if is_output_exhausted(error) {
        return PluginFailure::OutputTooLarge {
            limit_bytes: u64::try_from(store.hostcall_fuel()).unwrap_or(u64::MAX),
        };
    }
    match error.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::OutOfFuel) => PluginFailure::Budget {
            fuel_per_transaction: plugin.fuel_per_tx,
        },
        Some(wasmtime::Trap::Interrupt) => PluginFailure::Timeout {
            limit_ms: pack.limits.call_timeout_ms,
        },
        Some(wasmtime::Trap::StackOverflow) => PluginFailure::StackOverflow,
        Some(trap) => PluginFailure::Trap(trap.to_string()),
        None => PluginFailure::Trap(format!("{error:#}")),
    }
}

fn check_verdict(plugin: &PreparedPlugin, verdict: wit::Verdict) -> Outcome {
    for f in &verdict.findings {
        if !plugin.declared_codes.contains(&f.code) {
            return Err(PluginFailure::Contract(format!(
                "emitted finding code `{}`, which its metadata does not declare",
                f.code
            )));
        }
        if f.score > 100 {
            return Err(PluginFailure::Contract(format!(
                "gave finding `{}` a score of {}; scores run from 0 to 100",
                f.code, f.score
            )));
        }
    }
    Ok(verdict)
}

fn checks_from_wit(flags: wit::Checks) -> Checks {
    let pairs = [
        (wit::Checks::SENDER_IIN, Check::SenderIin),
        (wit::Checks::RECIPIENT_IIN, Check::RecipientIin),
        (wit::Checks::APP_CONFIRMATION, Check::AppConfirmation),
        (wit::Checks::SMS_CONFIRMATION, Check::SmsConfirmation),
        (wit::Checks::BIOMETRIC, Check::Biometric),
    ];
    pairs
        .iter()
        .filter(|(flag, _)| flags.contains(*flag))
        .map(|(_, check)| *check)
        .collect()
}

fn finding_from_wit(plugin: &PreparedPlugin, f: wit::Finding) -> Finding {
    Finding {
        code: f.code,
        rule: plugin.rule_ref.to_string(),
        action: action_from_wit(f.action),
        score: u32::from(f.score),
        requirements: checks_from_wit(f.requirements),
        message: f.message,
        evidence: Evidence(f.evidence.into_iter().map(|e| (e.name, e.value)).collect()),
    }
}

/// Decision ids for one batch: a fresh ULID for the first decision and its
/// successor for each next one, so ids stay unique and time-ordered while a
/// batch reads the clock and the random source once.
struct DecisionIds {
    last: Option<crate::decision::Ulid>,
}

impl DecisionIds {
    fn new() -> DecisionIds {
        DecisionIds { last: None }
    }

    fn next(&mut self) -> String {
        let id = self
            .last
            .and_then(|last| last.increment())
            // Not `unwrap_or_default`: a default ULID is nil.
            .unwrap_or_else(crate::decision::Ulid::fresh);
        self.last = Some(id);
        id.to_string()
    }
}

fn failure_finding(
    plugin: &PreparedPlugin,
    pack: &PreparedPack,
    failure: &PluginFailure,
) -> Finding {
    let mut evidence = vec![("reason".to_owned(), failure.reason().to_owned())];
    match failure {
        PluginFailure::Budget {
            fuel_per_transaction,
            ..
        } => {
            evidence.push((
                "fuel_per_transaction".into(),
                fuel_per_transaction.to_string(),
            ));
        }
        PluginFailure::Quarantined {
            failed_transactions,
        } => {
            evidence.push((
                "failed_transactions".into(),
                failed_transactions.to_string(),
            ));
        }
        PluginFailure::Timeout { limit_ms } => {
            evidence.push(("limit_ms".into(), limit_ms.to_string()));
        }
        PluginFailure::MemoryExceeded { limit_mib } => {
            evidence.push(("limit_mib".into(), limit_mib.to_string()));
        }
        PluginFailure::OutputTooLarge { limit_bytes } => {
            evidence.push(("limit_bytes".into(), limit_bytes.to_string()));
        }
        _ => {}
    }
    Finding {
        code: PLUGIN_FAILED.to_owned(),
        rule: plugin.rule_ref.to_string(),
        action: pack.failure_action,
        score: 0,
        requirements: Checks::NONE,
        message: failure.describe(&plugin.info.id),
        evidence: Evidence(evidence),
    }
}

#[cfg(test)]
mod tests {
    use super::DecisionIds;

    #[test]
    fn decision_ids_of_a_batch_are_distinct_ulids_in_ascending_order() {
        let mut ids = DecisionIds::new();
        let batch: Vec<String> = (0..1000).map(|_| ids.next()).collect();
        assert!(batch.windows(2).all(|w| w[0] < w[1]));
        assert!(
            batch
                .iter()
                .all(|id| id.len() == 26 && id.parse::<ulid::Ulid>().is_ok())
        );
        let mut other = DecisionIds::new();
        assert!(!batch.contains(&other.next()), "a new batch starts afresh");
    }
}
