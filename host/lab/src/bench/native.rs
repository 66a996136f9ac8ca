//! Comparison (a): the same rules compiled natively.
//!
//! The reference plugins are ordinary Rust crates written against the SDK's
//! [`Host`](qorgan_sdk::Host) trait; on a native target `export_rule!`
//! exports nothing, so the host links them as libraries and calls exactly
//! the code a component runs (`qorgan_sdk::glue::evaluate_batch`, the body
//! of the component's `evaluate` export). [`NativeHost`] answers their
//! questions from the host's real [`History`] and [`Lists`], and each batch
//! goes through the same host-side steps as in the engine: pricing,
//! recording in history, building the batch (the SDK's records, text in one
//! buffer), and folding verdicts into [`Decision`]s. What is left out is
//! precisely the WebAssembly boundary and sandbox: lowering and lifting,
//! the guest's own allocations, host calls through the component model,
//! epoch checks.

use std::time::Instant;

use qorgan_sdk::wit as sdk;

// The SDK's batch record, built as the engine builds the component's.
qorgan::lower_batch_into!(mod batch for qorgan_sdk::wit);
use qorgan_sdk::{Host, Rule};

use super::stats::nanos;
use super::{BenchError, Pass};
use qorgan::decision::{self, Action, Decision, Evidence, Finding};
use qorgan::engine::PreparedPack;
use qorgan::history::{self, History};
use qorgan::lists::Lists;
use qorgan::transaction::{Check, Checks, Transaction};

/// The host's history and lists behind the SDK's `Host` trait.
pub struct NativeHost<'a> {
    history: &'a History,
    lists: &'a Lists,
    /// The cursors of the batch being decided, by position, as the engine
    /// keeps them: each carries its retention horizon.
    cursors: std::cell::RefCell<Vec<history::Cursor>>,
}

impl<'a> NativeHost<'a> {
    /// A host answering from `history` and `lists`.
    pub fn new(history: &'a History, lists: &'a Lists) -> NativeHost<'a> {
        NativeHost {
            history,
            lists,
            cursors: std::cell::RefCell::new(Vec::new()),
        }
    }

    /// The history cursor of `at`: the batch's own, with its horizon.
    fn cursor(&self, at: sdk::Cursor) -> history::Cursor {
        let cursors = self.cursors.borrow();
        cursors
            .binary_search_by_key(&at.seq, |c| c.seq)
            .ok()
            .and_then(|i| cursors.get(i).copied())
            .unwrap_or_else(|| history::Cursor::new(at.seq, at.time))
    }
}

const KINDS: [qorgan_sdk::Kinds; 8] = [
    qorgan_sdk::Kinds::CARD_TOPUP,
    qorgan_sdk::Kinds::TRANSFER,
    qorgan_sdk::Kinds::CASH_WITHDRAWAL,
    qorgan_sdk::Kinds::CASH_DEPOSIT,
    qorgan_sdk::Kinds::CARD_PAYMENT,
    qorgan_sdk::Kinds::CRYPTO_PURCHASE,
    qorgan_sdk::Kinds::CRYPTO_SALE,
    qorgan_sdk::Kinds::OTHER,
];

/// The bits of `TxKind::ALL` a kind set holds.
fn kind_bits(kinds: qorgan_sdk::Kinds) -> u8 {
    KINDS
        .iter()
        .enumerate()
        .filter(|(_, k)| kinds.contains(**k))
        .fold(0u8, |acc, (i, _)| acc | (1 << i))
}

fn history_query(query: &qorgan_sdk::Query) -> history::Query {
    history::Query {
        account: query.account(),
        window: query.window_secs(),
        direction: match query.direction() {
            sdk::Direction::Inbound => history::Direction::Inbound,
            sdk::Direction::Outbound => history::Direction::Outbound,
            sdk::Direction::Both => history::Direction::Both,
        },
        kinds: kind_bits(query.kinds()),
        min_amount: query.min_amount().tiyn(),
        max_amount: query.max_amount().tiyn(),
    }
}

fn history_trail(trail: &qorgan_sdk::Trail) -> history::Trail {
    history::Trail {
        max_dwell: trail.max_dwell_secs(),
        min_share: trail.min_share_permille(),
        max_hops: trail.max_hops(),
        kinds: kind_bits(trail.kinds()),
        min_amount: trail.min_amount().tiyn(),
    }
}

fn sdk_path(path: &history::Path) -> qorgan_sdk::Path {
    qorgan_sdk::Path {
        hops: path
            .hops
            .iter()
            .map(|h| qorgan_sdk::Hop {
                from: h.from,
                to: h.to,
                amount: qorgan_sdk::Money::from_tiyn(h.amount),
                time: h.time,
            })
            .collect(),
        complete: path.complete,
    }
}

impl Host for NativeHost<'_> {
    fn aggregate(&self, at: sdk::Cursor, query: &qorgan_sdk::Query) -> qorgan_sdk::Totals {
        let q = history_query(query);
        let a = self.history.aggregate(self.cursor(at), &q);
        qorgan_sdk::Totals::from(sdk::Totals {
            count: a.count,
            sum: a.sum,
            max: a.max,
            counterparties: a.counterparties,
            first: a.first,
            last: a.last,
        })
    }

    fn first_seen(&self, at: sdk::Cursor, account: u64) -> Option<i64> {
        self.history.first_seen(self.cursor(at), account)
    }

    fn accounts_on_device(&self, at: sdk::Cursor, device: u64, window_secs: u32) -> u32 {
        self.history
            .linked_accounts(self.cursor(at), device, window_secs)
    }

    fn accounts_of_holder(&self, at: sdk::Cursor, holder: u64, window_secs: u32) -> u32 {
        self.history
            .linked_accounts(self.cursor(at), holder, window_secs)
    }

    fn reference(&self, account: u64) -> Option<String> {
        self.history.reference(account)
    }

    fn counterparties(
        &self,
        at: sdk::Cursor,
        query: &qorgan_sdk::Query,
        limit: u32,
    ) -> qorgan_sdk::Flows {
        let f = self
            .history
            .counterparties(self.cursor(at), &history_query(query), limit);
        qorgan_sdk::Flows {
            flows: f
                .flows
                .iter()
                .map(|f| qorgan_sdk::Flow {
                    counterparty: f.counterparty,
                    count: f.count,
                    sum: qorgan_sdk::Money::from_tiyn(f.sum),
                    first: f.first,
                    last: f.last,
                })
                .collect(),
            total: f.total,
            complete: f.complete,
        }
    }

    fn trace_back(
        &self,
        at: sdk::Cursor,
        account: u64,
        amount: qorgan_sdk::Money,
        trail: &qorgan_sdk::Trail,
    ) -> qorgan_sdk::Path {
        sdk_path(&self.history.trace_back(
            self.cursor(at),
            account,
            amount.tiyn(),
            &history_trail(trail),
        ))
    }

    fn find_path(
        &self,
        at: sdk::Cursor,
        source: u64,
        target: u64,
        window_secs: u32,
        trail: &qorgan_sdk::Trail,
    ) -> qorgan_sdk::Path {
        sdk_path(&self.history.find_path(
            self.cursor(at),
            source,
            target,
            window_secs,
            &history_trail(trail),
        ))
    }

    fn list_contains(&self, name: &str, key: &str) -> bool {
        self.lists.get(name).is_some_and(|l| l.contains(key))
    }

    fn list_contains_account(&self, name: &str, account: u64) -> bool {
        let Some(list) = self.lists.get(name) else {
            return false;
        };
        self.history
            .name_of(account)
            .is_some_and(|name| list.contains(&name))
    }

    fn log(&self, _level: sdk::Level, _message: &str) {}
}

/// A configured rule, called through the SDK's batch glue.
trait NativeRule {
    fn evaluate(&self, batch: &sdk::Batch, host: &NativeHost<'_>) -> Vec<sdk::Verdict>;
}

struct Configured<R>(R);

impl<R: Rule> NativeRule for Configured<R> {
    fn evaluate(&self, batch: &sdk::Batch, host: &NativeHost<'_>) -> Vec<sdk::Verdict> {
        qorgan_sdk::glue::evaluate_batch(&self.0, batch, host)
    }
}

fn configure<R: Rule>(
    id: &str,
    params: &[(String, String)],
) -> Result<(Box<dyn NativeRule>, String), BenchError> {
    let params = params
        .iter()
        .map(|(name, value)| sdk::Param {
            name: name.clone(),
            value: value.clone(),
        })
        .collect();
    let rule =
        qorgan_sdk::glue::configure::<R>(params).map_err(|message| BenchError::NativeConfig {
            rule: id.to_owned(),
            message,
        })?;
    let meta = qorgan_sdk::glue::metadata::<R>();
    Ok((
        Box::new(Configured(rule)),
        format!("{}@{}", meta.id, meta.version),
    ))
}

struct NativePlugin {
    rule: Box<dyn NativeRule>,
    rule_ref: String,
    weight_pct: u32,
}

/// The pack's rules compiled natively, configured with the pack's
/// parameters, in the pack's order.
pub struct NativePack {
    plugins: Vec<NativePlugin>,
}

impl NativePack {
    /// The native builds of `pack`'s plugins; every plugin must be one of
    /// the reference rules.
    pub fn new(pack: &PreparedPack) -> Result<NativePack, BenchError> {
        let mut plugins = Vec::new();
        for settings in pack.plugin_settings() {
            let (id, params, weight_pct) = (settings.id, settings.params, settings.weight_pct);
            let (rule, rule_ref) = match id.as_str() {
                "kz-threshold" => configure::<kz_threshold::KzThreshold>(&id, &params)?,
                "kz-exchanger" => configure::<kz_exchanger::KzExchanger>(&id, &params)?,
                "kz-mule" => configure::<kz_mule::KzMule>(&id, &params)?,
                "kz-layering" => configure::<kz_layering::KzLayering>(&id, &params)?,
                _ => return Err(BenchError::UnknownPlugin(id)),
            };
            plugins.push(NativePlugin {
                rule,
                rule_ref,
                weight_pct,
            });
        }
        Ok(NativePack { plugins })
    }

    /// Decides `txs` in batches of `batch`, recording them in `history`,
    /// as the engine does.
    pub fn run(
        &self,
        pack: &PreparedPack,
        history: &History,
        txs: &[Transaction],
        batch: usize,
    ) -> Result<Pass, BenchError> {
        let host = NativeHost::new(history, pack.lists());
        let mut pass = Pass::new(self.plugins.len(), txs.len());
        let started = Instant::now();
        for chunk in txs.chunks(batch.max(1)) {
            let batch_started = Instant::now();
            let decisions = self.decide(pack, history, &host, chunk, &mut pass.plugin_ns)?;
            pass.batch_ns.push(nanos(batch_started.elapsed()));
            pass.decisions.extend(decisions);
        }
        pass.total_ns = nanos(started.elapsed());
        Ok(pass)
    }

    fn decide(
        &self,
        pack: &PreparedPack,
        history: &History,
        host: &NativeHost<'_>,
        txs: &[Transaction],
        spent: &mut [u64],
    ) -> Result<Vec<Decision>, BenchError> {
        let started = Instant::now();
        let mut priced = Vec::with_capacity(txs.len());
        for tx in txs {
            let tiyn = pack.amount_tiyn(tx).map_err(|e| BenchError::Price {
                tx: tx.id.clone(),
                message: e.to_string(),
            })?;
            priced.push((tx, tiyn));
        }
        let recorded = history.record_pending(priced.iter().copied());
        let stamps = recorded.stamps();
        host.cursors.replace(stamps.iter().map(|s| s.at).collect());
        let batch = batch::build_batch(
            &priced,
            stamps,
            Vec::with_capacity(priced.len()),
            Vec::with_capacity(priced.len() * 48),
        );
        let mut verdicts = Vec::with_capacity(self.plugins.len());
        for (plugin, spent) in self.plugins.iter().zip(spent.iter_mut()) {
            let call = Instant::now();
            verdicts.push(plugin.rule.evaluate(&batch, host));
            *spent = spent.saturating_add(nanos(call.elapsed()));
        }
        let elapsed_us = nanos(started.elapsed()) / 1000 / (txs.len().max(1) as u64);
        Ok(priced
            .iter()
            .enumerate()
            .map(|(i, (tx, _))| {
                let mut findings: Vec<Finding> = decision::vocabulary_findings(tx).collect();
                let mut weights = vec![100; findings.len()];
                for (plugin, verdicts) in self.plugins.iter().zip(&verdicts) {
                    for f in verdicts
                        .get(i)
                        .map(|v| v.findings.as_slice())
                        .unwrap_or(&[])
                    {
                        findings.push(finding(&plugin.rule_ref, f));
                        weights.push(plugin.weight_pct);
                    }
                }
                let (action, score, requirements) = decision::aggregate(
                    findings.iter().zip(weights.iter().copied()),
                    pack.thresholds(),
                );
                Decision {
                    tx: tx.id.clone(),
                    decision_id: qorgan::decision::Ulid::fresh().to_string(),
                    action,
                    score,
                    requirements,
                    findings,
                    pack: pack.pack_ref().clone(),
                    elapsed_us,
                }
            })
            .collect())
    }
}

fn finding(rule_ref: &str, f: &sdk::Finding) -> Finding {
    Finding {
        code: f.code.clone(),
        rule: rule_ref.to_owned(),
        action: match f.action {
            sdk::Action::Allow => Action::Allow,
            sdk::Action::Verify => Action::Verify,
            sdk::Action::Review => Action::Review,
            sdk::Action::Hold => Action::Hold,
            sdk::Action::Block => Action::Block,
        },
        score: u32::from(f.score),
        requirements: checks_from_sdk(f.requirements),
        message: f.message.clone(),
        evidence: Evidence(
            f.evidence
                .iter()
                .map(|e| (e.name.clone(), e.value.clone()))
                .collect(),
        ),
    }
}

const CHECKS: [(qorgan_sdk::Checks, Check); 5] = [
    (qorgan_sdk::Checks::SENDER_IIN, Check::SenderIin),
    (qorgan_sdk::Checks::RECIPIENT_IIN, Check::RecipientIin),
    (qorgan_sdk::Checks::APP_CONFIRMATION, Check::AppConfirmation),
    (qorgan_sdk::Checks::SMS_CONFIRMATION, Check::SmsConfirmation),
    (qorgan_sdk::Checks::BIOMETRIC, Check::Biometric),
];

fn checks_from_sdk(flags: sdk::Checks) -> Checks {
    let flags = qorgan_sdk::Checks::from(flags);
    CHECKS
        .iter()
        .filter(|(flag, _)| flags.contains(*flag))
        .map(|(_, check)| *check)
        .collect()
}
