//! The host side of the `qorgan:rule` WIT world, and what a plugin may ask.
//!
//! `bindgen!` turns `wit/` into Rust types and traits; this module implements
//! the three imported interfaces (`history`, `lists`, `log`) for the data of
//! a plugin's store, [`HostState`]. Everything a plugin can reach outside its
//! own memory goes through the functions below.

#![allow(
    missing_docs,
    reason = "generated from the WIT, which carries the documentation"
)]

use std::sync::Arc;

use wasmtime::component::HasSelf;

use crate::history::{self, History};
use crate::lists::Lists;

use super::calls::{Answer, QueryRecord, Question, Tap};
use super::plugin_log::{self, PluginLog};
use super::sandbox::PluginLimiter;

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "rule-plugin",
    imports: {
        // Trappable: a replayed case must fail when its recording has no
        // answer, and asking about an undeclared list is a contract breach.
        "qorgan:rule/history": trappable,
        "qorgan:rule/lists": trappable,
    },
});

pub(crate) use exports::qorgan::rule::rule as guest;
pub(crate) use qorgan::rule::types as wit;

/// What a plugin instance's store holds: its limits, and the host services
/// its imports answer from.
pub(crate) struct HostState {
    pub(crate) limiter: PluginLimiter,
    pub(crate) history: Arc<History>,
    pub(crate) lists: Arc<Lists>,
    /// The lists the plugin declared in its metadata; asking about any other
    /// list traps.
    pub(crate) declared_lists: Arc<[String]>,
    /// The plugin's id, for log lines.
    pub(crate) plugin: Arc<str>,
    /// Records or replays the plugin's questions, when set.
    pub(crate) tap: Option<Arc<Tap>>,
    /// The plugin's log lines of the current call, and their budget.
    pub(crate) log: PluginLog,
    /// The cursors of the current call's transactions, by position: the
    /// only places a plugin may ask history about.
    pub(crate) cursors: Vec<history::Cursor>,
}

impl HostState {
    /// Answers `question` live, through the tap if there is one.
    fn ask(
        &self,
        question: impl FnOnce() -> Question,
        live: impl FnOnce() -> Answer,
    ) -> wasmtime::Result<Answer> {
        match &self.tap {
            None => Ok(live()),
            Some(tap) => tap
                .answer(&self.plugin, question(), live)
                .map_err(|e| wasmtime::format_err!("plugin `{}`: {e}", self.plugin)),
        }
    }

    fn account_name(&self, account: wit::Account) -> String {
        self.history
            .name_of(account)
            .map(|n| n.to_string())
            .unwrap_or_else(|| format!("#{account}"))
    }

    fn declared(&self, name: &str) -> wasmtime::Result<&crate::lists::List> {
        if !self.declared_lists.iter().any(|l| l == name) {
            return Err(wasmtime::format_err!(
                "plugin `{}` asked about list `{name}`, which its metadata does not declare",
                self.plugin
            ));
        }
        self.lists.get(name).ok_or_else(|| {
            wasmtime::format_err!(
                "plugin `{}` asked about list `{name}`, which the pack lacks",
                self.plugin
            )
        })
    }
}

/// Adds the host's implementations of the imports to `linker`.
pub(crate) fn add_to_linker(
    linker: &mut wasmtime::component::Linker<HostState>,
) -> wasmtime::Result<()> {
    RulePlugin::add_to_linker::<HostState, HasSelf<HostState>>(linker, |state| state)
}

impl wit::Host for HostState {}

impl HostState {
    /// The history cursor of `at`, which must be the cursor of one of the
    /// call's transactions: a question about any other position (a later
    /// one would see transactions recorded after this one, and what those
    /// are depends on timing) traps.
    fn cursor(&self, at: wit::Cursor) -> wasmtime::Result<history::Cursor> {
        let from = self.cursors.partition_point(|c| c.seq < at.seq);
        self.cursors
            .get(from..)
            .unwrap_or_default()
            .iter()
            .take_while(|c| c.seq == at.seq)
            .find(|c| c.time == at.time)
            .copied()
            .ok_or_else(|| {
                wasmtime::format_err!(
                    "plugin `{}` asked history at position {} (time {}), which is not the cursor of a transaction it was given",
                    self.plugin,
                    at.seq,
                    at.time
                )
            })
    }
}

impl qorgan::rule::history::Host for HostState {
    fn aggregate(
        &mut self,
        at: wit::Cursor,
        q: qorgan::rule::history::Query,
    ) -> wasmtime::Result<qorgan::rule::history::Totals> {
        self.log.last_seq = Some(at.seq);
        let at = self.cursor(at)?;
        let query = history_query(&q);
        let answer = self.ask(
            || Question::Aggregate {
                account: self.account_name(q.account),
                query: QueryRecord::from_query(&query),
            },
            || Answer::Totals(self.history.aggregate(at, &query)),
        )?;
        let Answer::Totals(answer) = answer else {
            return Err(wasmtime::format_err!(
                "recorded answer to aggregate is not totals"
            ));
        };
        Ok(qorgan::rule::history::Totals {
            count: answer.count,
            sum: answer.sum,
            max: answer.max,
            counterparties: answer.counterparties,
            first: answer.first,
            last: answer.last,
        })
    }

    fn first_seen(
        &mut self,
        at: wit::Cursor,
        account: wit::Account,
    ) -> wasmtime::Result<Option<wit::Timestamp>> {
        self.log.last_seq = Some(at.seq);
        let at = self.cursor(at)?;
        let answer = self.ask(
            || Question::FirstSeen {
                account: self.account_name(account),
            },
            || Answer::Time(self.history.first_seen(at, account)),
        )?;
        match answer {
            Answer::Time(t) => Ok(t),
            _ => Err(wasmtime::format_err!(
                "recorded answer to first-seen is not a time"
            )),
        }
    }

    fn accounts_on_device(
        &mut self,
        at: wit::Cursor,
        device: wit::Device,
        window: u32,
    ) -> wasmtime::Result<u32> {
        self.linked(at, device, window)
    }

    fn accounts_of_holder(
        &mut self,
        at: wit::Cursor,
        holder: wit::Holder,
        window: u32,
    ) -> wasmtime::Result<u32> {
        self.linked(at, holder, window)
    }

    fn reference(&mut self, account: wit::Account) -> wasmtime::Result<Option<String>> {
        self.live_only("reference", || self.history.reference(account))
    }

    fn counterparties(
        &mut self,
        at: wit::Cursor,
        q: qorgan::rule::history::Query,
        limit: u32,
    ) -> wasmtime::Result<qorgan::rule::history::Flows> {
        self.log.last_seq = Some(at.seq);
        let at = self.cursor(at)?;
        let query = history_query(&q);
        let answer = self.live_only("counterparties", || {
            self.history.counterparties(at, &query, limit)
        })?;
        Ok(qorgan::rule::history::Flows {
            flows: answer
                .flows
                .iter()
                .map(|f| qorgan::rule::history::Flow {
                    counterparty: f.counterparty,
                    count: f.count,
                    sum: f.sum,
                    first: f.first,
                    last: f.last,
                })
                .collect(),
            total: answer.total,
            complete: answer.complete,
        })
    }

    fn trace_back(
        &mut self,
        at: wit::Cursor,
        account: wit::Account,
        amount: wit::Tiyn,
        trail: qorgan::rule::history::Trail,
    ) -> wasmtime::Result<qorgan::rule::history::Path> {
        self.log.last_seq = Some(at.seq);
        let at = self.cursor(at)?;
        let trail = history_trail(&trail);
        let path = self.live_only("trace-back", || {
            self.history.trace_back(at, account, amount, &trail)
        })?;
        Ok(wit_path(&path))
    }

    fn find_path(
        &mut self,
        at: wit::Cursor,
        source: wit::Account,
        target: wit::Account,
        window: u32,
        trail: qorgan::rule::history::Trail,
    ) -> wasmtime::Result<qorgan::rule::history::Path> {
        self.log.last_seq = Some(at.seq);
        let at = self.cursor(at)?;
        let trail = history_trail(&trail);
        let path = self.live_only("find-path", || {
            self.history.find_path(at, source, target, window, &trail)
        })?;
        Ok(wit_path(&path))
    }
}

impl HostState {
    /// `accounts-on-device` and `accounts-of-holder`: the accounts linked
    /// to a device's or a holder's handle.
    fn linked(&mut self, at: wit::Cursor, key: u64, window: u32) -> wasmtime::Result<u32> {
        self.log.last_seq = Some(at.seq);
        let at = self.cursor(at)?;
        let answer = self.ask(
            || Question::LinkedAccounts {
                key: self.account_name(key),
                window,
            },
            || Answer::Count(self.history.linked_accounts(at, key, window)),
        )?;
        match answer {
            Answer::Count(n) => Ok(n),
            _ => Err(wasmtime::format_err!(
                "recorded answer to a linked-accounts question is not a count"
            )),
        }
    }

    /// Answers a network question live. A recording keeps account names,
    /// and a network answer is a set of accounts to ask further questions
    /// about, so these questions are not recorded, and a replayed case
    /// that asks one fails naming it: such a case gives its history as
    /// transactions instead.
    fn live_only<T>(&self, call: &str, live: impl FnOnce() -> T) -> wasmtime::Result<T> {
        match self.tap.as_deref() {
            Some(Tap::Replay(_)) => Err(wasmtime::format_err!(
                "plugin `{}` asked `{call}`, a network question a recording cannot answer; give the case's history as transactions instead of recorded calls",
                self.plugin
            )),
            _ => Ok(live()),
        }
    }
}

/// The bits of `TxKind::ALL` a WIT kind set holds (the flags and
/// `TxKind::ALL` share one order).
fn kind_bits(kinds: wit::TxKinds) -> u8 {
    use wit::TxKinds;
    [
        TxKinds::CARD_TOPUP,
        TxKinds::TRANSFER,
        TxKinds::CASH_WITHDRAWAL,
        TxKinds::CASH_DEPOSIT,
        TxKinds::CARD_PAYMENT,
        TxKinds::CRYPTO_PURCHASE,
        TxKinds::CRYPTO_SALE,
        TxKinds::OTHER,
    ]
    .iter()
    .enumerate()
    .filter(|(_, k)| kinds.contains(**k))
    .fold(0u8, |acc, (i, _)| acc | (1 << i))
}

fn history_query(q: &qorgan::rule::history::Query) -> history::Query {
    use qorgan::rule::history::Direction;
    history::Query {
        account: q.account,
        window: q.window,
        direction: match q.direction {
            Direction::Inbound => history::Direction::Inbound,
            Direction::Outbound => history::Direction::Outbound,
            Direction::Both => history::Direction::Both,
        },
        kinds: kind_bits(q.kinds),
        min_amount: q.min_amount,
        max_amount: q.max_amount,
    }
}

fn history_trail(t: &qorgan::rule::history::Trail) -> history::Trail {
    history::Trail {
        max_dwell: t.max_dwell,
        min_share: t.min_share,
        max_hops: t.max_hops,
        kinds: kind_bits(t.kinds),
        min_amount: t.min_amount,
    }
}

fn wit_path(path: &history::Path) -> qorgan::rule::history::Path {
    qorgan::rule::history::Path {
        hops: path
            .hops
            .iter()
            .map(|h| qorgan::rule::history::Hop {
                from: h.from,
                to: h.to,
                amount: h.amount,
                time: h.time,
            })
            .collect(),
        complete: path.complete,
    }
}

impl qorgan::rule::lists::Host for HostState {
    fn contains(&mut self, name: String, key: String) -> wasmtime::Result<bool> {
        let list = self.declared(&name)?;
        let answer = self.ask(
            || Question::Contains {
                list: name.clone(),
                key: key.clone(),
            },
            || Answer::Member(list.contains(&key)),
        )?;
        member(answer)
    }

    fn contains_account(&mut self, name: String, account: wit::Account) -> wasmtime::Result<bool> {
        let list = self.declared(&name)?;
        let account_name = self.account_name(account);
        let answer = self.ask(
            || Question::ContainsAccount {
                list: name.clone(),
                account: account_name.clone(),
            },
            || Answer::Member(list.contains(&account_name)),
        )?;
        member(answer)
    }
}

fn member(answer: Answer) -> wasmtime::Result<bool> {
    match answer {
        Answer::Member(b) => Ok(b),
        _ => Err(wasmtime::format_err!(
            "recorded answer to a list question is not a yes or no"
        )),
    }
}

impl qorgan::rule::log::Host for HostState {
    fn log(&mut self, level: qorgan::rule::log::Level, message: String) {
        use qorgan::rule::log::Level;
        let level = match level {
            Level::Trace => plugin_log::Level::Trace,
            Level::Debug => plugin_log::Level::Debug,
            Level::Info => plugin_log::Level::Info,
            Level::Warn => plugin_log::Level::Warn,
            Level::Error => plugin_log::Level::Error,
        };
        self.log.write(level, &message);
    }
}
