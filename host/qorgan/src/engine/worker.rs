//! The per-thread half of the engine: live plugin instances and the hot path.
//!
//! A [`Worker`] owns one wasmtime `Store` and instance per plugin of the
//! active pack. Instances are reused batch after batch and replaced when a
//! call fails (a trap leaves the store unusable), after the pack's
//! `recycle_after_calls`, and when a different pack becomes active. A worker
//! is used by one thread at a time; the engine keeps a pool of them.

use std::sync::Arc;
use std::time::Instant;

use wasmtime::Store;

use super::bindings::{HostState, RulePlugin, wit};
use super::plugin::{PreparedPlugin, action_from_wit, instantiate};
use super::sandbox::{PluginLimiter, is_output_exhausted, output_budget};
use super::{Context, PreparedPack};
use crate::decision::{self, Decision, Evidence, Finding, PLUGIN_FAILED};
use crate::history::Stamp;
use crate::transaction::{Check, Checks, Transaction};

crate::lower_batch_into!(mod batch for super::wit);
use batch::build_batch;

/// Why a plugin gave no verdict for a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PluginFailure {
    /// The call ran past the pack's time limit.
    Timeout {
        /// The limit, in milliseconds.
        limit_ms: u64,
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
            PluginFailure::Timeout { .. } => "timeout",
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
            PluginFailure::Timeout { limit_ms } => {
                format!("plugin {plugin} ran past its {limit_ms} ms limit")
            }
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
                self.outcomes(index, plugin, pack, context, &batch)
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
                let mut findings: Vec<(Finding, u32)> = Vec::new();
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

    /// One plugin's verdicts on a batch, one per transaction. When the
    /// batch traps, each transaction is retried alone on a fresh instance so
    /// one poisonous transaction does not take its neighbours down with it.
    fn outcomes(
        &mut self,
        index: usize,
        plugin: &PreparedPlugin,
        pack: &PreparedPack,
        context: &Context,
        batch: &wit::Batch,
    ) -> Vec<Outcome> {
        let n = batch.transactions.len();
        match self.call(index, plugin, pack, context, batch) {
            Ok(verdicts) => verdicts
                .into_iter()
                .map(|v| check_verdict(plugin, v))
                .collect(),
            Err(PluginFailure::Trap(_) | PluginFailure::OutputTooLarge { .. }) if n > 1 => batch
                .transactions
                .iter()
                .map(|tx| {
                    let single = wit::Batch {
                        transactions: vec![*tx],
                        text: batch.text.clone(),
                    };
                    self.call(index, plugin, pack, context, &single)
                        .and_then(|mut v| {
                            v.pop().ok_or(PluginFailure::Contract("no verdict".into()))
                        })
                        .and_then(|v| check_verdict(plugin, v))
                })
                .collect(),
            Err(failure) => vec![Err(failure); n],
        }
    }

    /// Calls the plugin's `evaluate` on this worker's instance, creating it
    /// if needed and discarding it after a failure.
    fn call(
        &mut self,
        index: usize,
        plugin: &PreparedPlugin,
        pack: &PreparedPack,
        context: &Context,
        batch: &wit::Batch,
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
        live.store.set_epoch_deadline(pack.deadline_ticks);
        live.store
            .set_hostcall_fuel(output_budget(batch.transactions.len()));
        let result = live
            .plugin
            .qorgan_rule_rule()
            .call_evaluate(&mut live.store, batch);
        live.calls += 1;
        match result {
            Ok(verdicts) => {
                if live.calls >= pack.limits.recycle_after_calls {
                    *slot = None;
                }
                if verdicts.len() != batch.transactions.len() {
                    return Err(PluginFailure::Contract(format!(
                        "returned {} verdicts for {} transactions",
                        verdicts.len(),
                        batch.transactions.len()
                    )));
                }
                Ok(verdicts)
            }
            Err(error) => {
                let failure = classify(&error, &live.store, pack);
                *slot = None;
                Err(failure)
            }
        }
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
    };
    let (mut store, instance) = instantiate(&plugin.pre, state, pack.deadline_ticks)
        .map_err(|e| PluginFailure::Instantiate(format!("{e:#}")))?;
    match instance
        .qorgan_rule_rule()
        .call_configure(&mut store, &plugin.params)
    {
        Ok(Ok(())) => Ok(Live {
            store,
            plugin: instance,
            calls: 0,
        }),
        Ok(Err(message)) => Err(PluginFailure::Instantiate(format!(
            "configure refused: {message}"
        ))),
        Err(e) => Err(classify(&e, &store, pack)),
    }
}

fn classify(
    error: &wasmtime::Error,
    store: &Store<HostState>,
    pack: &PreparedPack,
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
