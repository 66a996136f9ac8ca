//! Comparison (b): regorus evaluating the same rules written in Rego.
//!
//! The policies in `bench/rego/` state the three reference rules in Rego.
//! Rego has no history of its own, so the host computes, for each
//! transaction, the history aggregates the rules read (the same queries
//! against the same [`History`], at the same cursor) and passes them in
//! `input` beside the transaction; the pack's parameters and reference
//! lists are `data`. Only the Rego side is timed for the comparison:
//! turning the input into a regorus value and evaluating the three rules.
//! The history work is measured apart and *not* charged to regorus, which
//! favours regorus. Every transaction's finding codes are compared with the
//! engine's, and the report says how many agree.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use serde_json::{Value as Json, json};

use super::BenchError;
use super::stats::nanos;
use qorgan::engine::{ParamType, PreparedPack};
use qorgan::history::{Aggregate, Direction, History, Query};
use qorgan::lists::Lists;
use qorgan::transaction::{Amount, Party, Transaction, TxKind};

/// The policies, one package per rule, and the rule each one's codes are
/// read from, in pack order.
const POLICIES: [(&str, &str, &str); 3] = [
    (
        "kz-threshold",
        "kz_threshold.rego",
        include_str!("rego/kz_threshold.rego"),
    ),
    (
        "kz-exchanger",
        "kz_exchanger.rego",
        include_str!("rego/kz_exchanger.rego"),
    ),
    ("kz-mule", "kz_mule.rego", include_str!("rego/kz_mule.rego")),
];

/// Reference rules with no Rego peer: they ask history's network
/// questions, which a policy evaluated on one transaction's input cannot.
const NO_PEER: [&str; 1] = ["kz-layering"];

fn rule_path(plugin: &str) -> String {
    format!("data.kz.{}.codes", plugin.trim_start_matches("kz-"))
}

/// What a Rego pass measured.
#[derive(Debug, Clone, Default)]
pub struct RegoPass {
    /// Nanoseconds in regorus: building inputs and evaluating.
    pub eval_ns: u64,
    /// Nanoseconds per rule (evaluation only), in pack order.
    pub rule_ns: Vec<u64>,
    /// Nanoseconds the host spent on the history aggregates (not charged).
    pub history_ns: u64,
    /// Each transaction's finding codes, sorted.
    pub codes: Vec<Vec<String>>,
}

/// The kz-afm rules in Rego, loaded into one regorus engine.
pub struct RegoPeer {
    engine: regorus::Engine,
    plugins: Vec<String>,
    /// The pack's plugins with no Rego peer, left out of the comparison.
    left_out: Vec<String>,
    params: Params,
}

impl RegoPeer {
    /// Loads the policies with `pack`'s parameters and lists as data.
    pub fn new(pack: &PreparedPack) -> Result<RegoPeer, BenchError> {
        let params = Params::of(pack)?;
        let mut engine = regorus::Engine::new();
        let mut plugins = Vec::new();
        let mut left_out = Vec::new();
        for info in &pack.info().plugins {
            // kz-layering follows money across accounts, which the
            // aggregates a Rego policy is given cannot express.
            if NO_PEER.contains(&info.id.as_str()) {
                left_out.push(info.id.clone());
                continue;
            }
            let Some((_, file, text)) = POLICIES.iter().find(|(id, _, _)| *id == info.id) else {
                return Err(BenchError::UnknownPlugin(info.id.clone()));
            };
            engine
                .add_policy((*file).to_owned(), (*text).to_owned())
                .map_err(|e| BenchError::Rego(format!("{file}: {e}")))?;
            plugins.push(info.id.clone());
        }
        // kz-threshold's cash cap reads kz-mule's score.
        if !plugins.iter().any(|p| p == "kz-mule")
            && let Some((_, file, text)) = POLICIES.iter().find(|(id, _, _)| *id == "kz-mule")
        {
            engine
                .add_policy((*file).to_owned(), (*text).to_owned())
                .map_err(|e| BenchError::Rego(format!("{file}: {e}")))?;
        }
        let data = json!({ "params": params.json, "lists": lists_json(pack.lists()) });
        engine
            .add_data(regorus::Value::from(data))
            .map_err(|e| BenchError::Rego(e.to_string()))?;
        Ok(RegoPeer {
            engine,
            plugins,
            left_out,
            params,
        })
    }

    /// The pack's plugins the comparison leaves out, having no Rego peer.
    pub fn left_out(&self) -> &[String] {
        &self.left_out
    }

    /// Records `txs` in `history` one at a time, as a stream, and decides
    /// each with the Rego rules.
    pub fn run(
        &mut self,
        pack: &PreparedPack,
        history: &History,
        txs: &[Transaction],
    ) -> Result<RegoPass, BenchError> {
        let mut pass = RegoPass {
            rule_ns: vec![0; self.plugins.len()],
            ..RegoPass::default()
        };
        let rules: Vec<String> = self.plugins.iter().map(|p| rule_path(p)).collect();
        for tx in txs {
            let amount = pack.amount_tiyn(tx).map_err(|e| BenchError::Price {
                tx: tx.id.clone(),
                message: e.to_string(),
            })?;
            let started = Instant::now();
            let stamps = history.record([(tx, amount)]);
            let Some(stamp) = stamps.first() else {
                continue;
            };
            let input = self.params.input(history, tx, amount, stamp);
            pass.history_ns += nanos(started.elapsed());

            let started = Instant::now();
            self.engine.set_input(regorus::Value::from(input));
            let mut codes = BTreeSet::new();
            for (rule, spent) in rules.iter().zip(pass.rule_ns.iter_mut()) {
                let rule_started = Instant::now();
                let value = self
                    .engine
                    .eval_rule(rule.clone())
                    .map_err(|e| BenchError::Rego(format!("{rule}: {e}")))?;
                *spent += nanos(rule_started.elapsed());
                collect_codes(&value, &mut codes);
            }
            pass.eval_ns += nanos(started.elapsed());
            pass.codes.push(codes.into_iter().collect());
        }
        Ok(pass)
    }
}

fn collect_codes(value: &regorus::Value, into: &mut BTreeSet<String>) {
    match value {
        regorus::Value::Set(set) => {
            for code in set.iter() {
                if let Ok(text) = code.as_string() {
                    into.insert(text.to_string());
                }
            }
        }
        regorus::Value::Array(items) => {
            for code in items.iter() {
                if let Ok(text) = code.as_string() {
                    into.insert(text.to_string());
                }
            }
        }
        _ => {}
    }
}

fn lists_json(lists: &Lists) -> Json {
    let mut out = serde_json::Map::new();
    for name in lists.names() {
        let entries: serde_json::Map<String, Json> = lists
            .get(name)
            .map(|l| {
                l.entries()
                    .map(|e| (e.to_owned(), Json::Bool(true)))
                    .collect()
            })
            .unwrap_or_default();
        out.insert(name.to_owned(), Json::Object(entries));
    }
    Json::Object(out)
}

/// The pack's parameters as Rego data (money in tiyn, decimals as exact
/// `{num, den}`), and the ones the host needs to ask history the rules'
/// questions.
struct Params {
    json: Json,
    by_plugin: BTreeMap<String, BTreeMap<String, Json>>,
}

impl Params {
    fn of(pack: &PreparedPack) -> Result<Params, BenchError> {
        let mut by_plugin = BTreeMap::new();
        for (settings, info) in pack.plugin_settings().into_iter().zip(&pack.info().plugins) {
            let (id, values) = (settings.id, settings.params);
            let mut converted = BTreeMap::new();
            for (name, value) in values {
                let ty = info
                    .parameters
                    .iter()
                    .find(|p| p.name == name)
                    .map(|p| p.ty)
                    .unwrap_or(ParamType::Text);
                let json = match ty {
                    ParamType::Money => json!(tiyn(&value)?),
                    ParamType::Integer => json!(value.parse::<i64>().map_err(|e| {
                        BenchError::Rego(format!("parameter {name} = {value}: {e}"))
                    })?),
                    ParamType::Decimal => {
                        let (units, scale) = Amount::parse_decimal(&value).map_err(|e| {
                            BenchError::Rego(format!("parameter {name} = {value}: {e}"))
                        })?;
                        json!({ "num": i64::try_from(units).unwrap_or(i64::MAX),
                                "den": 10_i64.pow(scale.min(18)) })
                    }
                    ParamType::Boolean => json!(value == "true"),
                    ParamType::Text if name == "keywords" => {
                        json!(
                            kz_exchanger::parse_keywords(&value)
                                .words()
                                .collect::<Vec<_>>()
                        )
                    }
                    ParamType::Text => json!(value),
                };
                converted.insert(name, json);
            }
            by_plugin.insert(id, converted);
        }
        let json = serde_json::to_value(&by_plugin).unwrap_or(Json::Null);
        Ok(Params { json, by_plugin })
    }

    fn int(&self, plugin: &str, name: &str) -> i64 {
        self.by_plugin
            .get(plugin)
            .and_then(|p| p.get(name))
            .and_then(Json::as_i64)
            .unwrap_or(0)
    }

    fn secs(&self, plugin: &str, name: &str, unit: i64) -> u32 {
        u32::try_from(self.int(plugin, name).saturating_mul(unit)).unwrap_or(u32::MAX)
    }

    /// The transaction and the aggregates the three rules read for it.
    fn input(
        &self,
        history: &History,
        tx: &Transaction,
        amount: i64,
        stamp: &qorgan::history::Stamp,
    ) -> Json {
        let at = stamp.at;
        let ask = |account: u64, direction: Direction, window: u32, kinds: u8, max: i64| {
            history.aggregate(
                at,
                &Query {
                    account,
                    window,
                    direction,
                    kinds,
                    min_amount: i64::MIN,
                    max_amount: max,
                },
            )
        };
        let th = "kz-threshold";
        let threshold = self.int(th, "topup-threshold");
        let band_from = self
            .by_plugin
            .get(th)
            .and_then(|p| p.get("structuring-band"))
            .map(|band| lower_end(threshold, band))
            .unwrap_or(threshold);
        let structuring_kinds = kind_bits(&[
            TxKind::CardTopup,
            TxKind::Transfer,
            TxKind::CashWithdrawal,
            TxKind::CashDeposit,
        ]);
        // The sender's outflows of the structuring kinds in the window:
        // those in the band, and all of them for the band's share
        // (`structuring-min-share`).
        let structuring = |min_amount: i64, max_amount: i64| {
            history
                .aggregate(
                    at,
                    &Query {
                        account: stamp.sender,
                        window: self.secs(th, "structuring-window-hours", 3600),
                        direction: Direction::Outbound,
                        kinds: structuring_kinds,
                        min_amount,
                        max_amount,
                    },
                )
                .count
        };
        let structuring_before = structuring(band_from, threshold);
        let structuring_all = structuring(i64::MIN, i64::MAX);
        let cash_out_before = if tx.kind == TxKind::CashWithdrawal {
            ask(
                stamp.sender,
                Direction::Outbound,
                self.secs(th, "cash-cap-window-hours", 3600),
                kind_bits(&[TxKind::CashWithdrawal]),
                i64::MAX,
            )
            .sum
        } else {
            0
        };

        let ex = "kz-exchanger";
        let ex_window = self.secs(ex, "window-hours", 3600);
        // Whether `account` dealt with `other` in `direction` in the window,
        // as the rule asks it: then this transfer adds no new counterparty.
        let knows = |account: u64, direction: Direction, other: u64| {
            let query = Query {
                account,
                window: ex_window,
                direction,
                kinds: 0,
                min_amount: i64::MIN,
                max_amount: i64::MAX,
            };
            let flows = history.counterparties(at, &query, 64);
            let listed = u32::try_from(flows.flows.len()).unwrap_or(u32::MAX);
            !flows.complete
                || flows.total > listed
                || flows.flows.iter().any(|f| f.counterparty == other)
        };
        let flow = |account: u64, direction: Direction, other: u64| {
            json!({
                "in": totals(&ask(account, Direction::Inbound, ex_window, 0, i64::MAX)),
                "out": totals(&ask(account, Direction::Outbound, ex_window, 0, i64::MAX)),
                "knows_other": knows(account, direction, other),
            })
        };
        let exchanger = if tx.kind == TxKind::Transfer {
            json!({
                "sender": flow(stamp.sender, Direction::Outbound, stamp.recipient),
                "recipient": flow(stamp.recipient, Direction::Inbound, stamp.sender),
            })
        } else {
            Json::Null
        };

        json!({
            "tx": {
                "kind": tx.kind.as_str(),
                "amount": amount,
                "time": tx.timestamp,
                "verified": tx.verified.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
                "remittance": tx.remittance,
                "sender": party(&tx.sender),
                "recipient": party(&tx.recipient),
            },
            "threshold": {
                "band_from": band_from,
                "structuring_before": structuring_before,
                "structuring_all": structuring_all,
                "cash_out_before": cash_out_before,
            },
            "exchanger": exchanger,
            "mule": self.mule(history, tx, amount, stamp),
        })
    }

    /// kz-mule's aggregates for the sender, asked under the same conditions
    /// as the rule asks them.
    fn mule(
        &self,
        history: &History,
        tx: &Transaction,
        _amount: i64,
        stamp: &qorgan::history::Stamp,
    ) -> Json {
        let scored = matches!(
            tx.kind,
            TxKind::Transfer
                | TxKind::CashWithdrawal
                | TxKind::CryptoPurchase
                | TxKind::CardTopup
                | TxKind::Other
        ) && tx.sender.kind == qorgan::transaction::PartyKind::Individual;
        if !scored {
            return Json::Null;
        }
        let m = "kz-mule";
        let at = stamp.at;
        let account = stamp.sender;
        let ask = |direction: Direction, window: u32, max: i64| {
            history.aggregate(
                at,
                &Query {
                    account,
                    window,
                    direction,
                    kinds: 0,
                    min_amount: i64::MIN,
                    max_amount: max,
                },
            )
        };
        let window = self.secs(m, "window-hours", 3600);
        let out = ask(Direction::Outbound, window, i64::MAX);
        let two_sided_limit = self.int(m, "two-sided-payees");
        let two_sided_secs = self.secs(m, "two-sided-days", 86_400);
        let payees_long = if two_sided_limit <= 0 {
            Json::Null
        } else if i64::from(out.counterparties) >= two_sided_limit || two_sided_secs <= window {
            json!(out.counterparties)
        } else {
            json!(ask(Direction::Outbound, two_sided_secs, i64::MAX).counterparties)
        };
        let inbound = ask(Direction::Inbound, window, i64::MAX);
        let long_in = ask(
            Direction::Inbound,
            self.secs(m, "income-window-days", 86_400),
            i64::MAX,
        );
        let dwell = self.secs(m, "dwell-minutes", 60);
        let maybe_recent = dwell > window
            || inbound
                .last
                .is_some_and(|last| tx.timestamp.saturating_sub(last) < i64::from(dwell));
        let recent = if maybe_recent {
            totals(&ask(Direction::Inbound, dwell, i64::MAX))
        } else {
            Json::Null
        };
        let small = if matches!(tx.kind, TxKind::CashWithdrawal | TxKind::CryptoPurchase) {
            totals(&ask(
                Direction::Inbound,
                window,
                self.int(m, "fan-in-small"),
            ))
        } else {
            Json::Null
        };
        let first_seen = history.first_seen(at, account);
        let dormant = self.secs(m, "dormant-days", 86_400);
        let quiet_first = match first_seen {
            Some(first) if tx.timestamp.saturating_sub(first) >= i64::from(dormant) => {
                ask(Direction::Both, dormant, i64::MAX).first
            }
            _ => None,
        };
        let link_window = self.secs(m, "link-window-days", 86_400);
        let linked = |key: Option<u64>| key.map(|k| history.linked_accounts(at, k, link_window));
        // The payers of `usual-days` + the window, for the usual volume.
        let usual_window = self.secs(m, "usual-days", 86_400).saturating_add(window);
        let usual = totals(&ask(Direction::Inbound, usual_window, i64::MAX));
        json!({
            "out": totals(&out),
            "payees_long": payees_long,
            "in": totals(&inbound),
            "long_in": totals(&long_in),
            "recent": recent,
            "small": small,
            "first_seen": first_seen,
            "quiet_first": quiet_first,
            "device_accounts": linked(stamp.device),
            "holder_accounts": linked(stamp.sender_holder),
            "usual": usual,
        })
    }
}

fn totals(a: &Aggregate) -> Json {
    json!({
        "count": a.count,
        "sum": a.sum,
        "counterparties": a.counterparties,
        "first": a.first,
        "last": a.last,
    })
}

fn party(p: &Party) -> Json {
    json!({
        "account": p.account,
        "iin": p.iin.as_deref().unwrap_or(""),
        "kind": p.kind.as_str(),
        "vasp": p.vasp.as_deref().unwrap_or(""),
        "opened": p.opened,
        "income": p.income,
    })
}

fn kind_bits(kinds: &[TxKind]) -> u8 {
    TxKind::ALL
        .iter()
        .enumerate()
        .filter(|(_, k)| kinds.contains(k))
        .fold(0, |acc, (i, _)| acc | (1 << i))
}

/// `threshold × (1 − band)`, rounded up to the tiyn, as kz-threshold's
/// structuring band is.
fn lower_end(threshold: i64, band: &Json) -> i64 {
    let num = i128::from(band.get("num").and_then(Json::as_i64).unwrap_or(0));
    let den = i128::from(band.get("den").and_then(Json::as_i64).unwrap_or(1)).max(1);
    let kept = i128::from(threshold.max(0)) * (den - num);
    i64::try_from((kept + den - 1) / den).unwrap_or(i64::MAX)
}

/// A money parameter's value in tiyn.
fn tiyn(value: &str) -> Result<i64, BenchError> {
    let (units, scale) = Amount::parse_decimal(value)
        .map_err(|e| BenchError::Rego(format!("money parameter {value}: {e}")))?;
    let tiyn = if scale <= 2 {
        units.saturating_mul(10_i128.pow(2 - scale))
    } else {
        units / 10_i128.pow(scale - 2)
    };
    i64::try_from(tiyn).map_err(|_| BenchError::Rego(format!("money parameter {value} too large")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_parameters_are_tiyn() {
        assert!(matches!(tiyn("500000.00"), Ok(50_000_000)));
        assert!(matches!(tiyn("0.5"), Ok(50)));
    }

    #[test]
    fn the_structuring_band_rounds_up() {
        assert_eq!(
            lower_end(50_000_000, &json!({"num": 1, "den": 10})),
            45_000_000
        );
        assert_eq!(lower_end(101, &json!({"num": 1, "den": 10})), 91);
    }

    #[test]
    fn the_policies_parse() {
        let mut engine = regorus::Engine::new();
        for (_, file, text) in POLICIES {
            let added = engine.add_policy(file.to_owned(), text.to_owned());
            assert!(added.is_ok(), "{file}: {:?}", added.err());
        }
    }
}
