//! # kz-layering
//!
//! Layering: money moved across several accounts, over hours or weeks, so
//! that no one account and no one day looks wrong. The typologies are
//! FATF's, the AFM's and the Bank of Russia's "droppers" chains, and the
//! classic network shapes of laundering simulations (see `docs/domain.md`):
//!
//! | Code | When | Action | Default score |
//! |---|---|---|---|
//! | `LAYERING_CHAIN` | the money the sender sends came in within the dwell, through another account that passed it on as quickly (a chain) | `hold` | 70 |
//! | `CYCLE_RETURN` | money that left the recipient reached the sender along a path of payments, and this payment closes the cycle | `review` | 60 |
//! | `FAN_IN_HUB` | the sender collected from many new payers over days and now sends it on to one or a few | `review` | 50 |
//! | `FAN_OUT_HUB` | the sender received from one or a few payers and spreads it over many new payees over days | `review` | 50 |
//! | `GATHER_SCATTER` | the sender collected from many new payers, then pays many new payees | `review` | 50 |
//! | `SCATTER_GATHER` | money one account spread over several accounts comes together again at the recipient, each passing on what it got | `review` | 60 |
//!
//! Every threshold and score is a pack parameter, with bounds the host
//! enforces (see [`KzLayering::metadata`]).
//!
//! ## Behaviour decisions
//!
//! **The transaction counts.** History answers from the transactions before
//! the one being decided; every rule here judges a flow this transaction
//! completes (the chain's next hop, the cycle's last payment, the hub's
//! payout), so it adds the transaction itself: a hub's payees include this
//! payment's recipient, its money out includes this amount.
//!
//! **Evidence names the accounts.** A layering alert is about several
//! accounts, and an analyst opens a case on all of them. Every finding's
//! evidence carries `path` (the route of the money, with account references
//! as the bank sent them), `amounts`, the times as minutes between hops or
//! days of activity, and `accounts`: every account the finding shows to be
//! part of the pattern, comma separated, the sender first (a chain's
//! pass-through accounts, not where its money came from; a cycle's
//! accounts; a hub and the side that makes it one). `side` is `sender`
//! (the account that moves the money on now).
//!
//! **Established relations are not layering.** Families pass money along,
//! landlords move rent to their savings, payroll agents pay the same staff
//! every month. Chains and cycles are only flagged when the sender had not
//! paid the recipient before the money arrived (within `relation-days`);
//! hubs count only *new* counterparties (first dealt with inside the hub
//! window). A payment between two accounts of one holder (the same IIN or
//! BIN on both sides) is never layering.
//!
//! **Busy accounts are businesses.** Hubs here are small and slow: the
//! typologies collect from 5 to 40 accounts over days, a few a day, and
//! pay out over days or in a burst. An account with more new payers a day
//! than `hub-max-per-day` (6: a shop's takings, a mule's burst), more new
//! payees a day than `hub-max-payees-per-day` (12: a payroll run, a
//! business paying its suppliers), or more than `hub-max-parties` in the
//! window, is not judged as a hub; kz-exchanger and kz-mule judge busy
//! accounts.
//!
//! **Gather-scatter is two phases over days.** Every new payer first paid
//! before three quarters of the new payees were first paid, and the
//! pattern spans two days or more: an exchanger's card buying and selling
//! in the same hours is not it. Because the shape is this specific, its
//! least amount (`gather-scatter-min-amount`, 500,000) is lower than the
//! other hubs' (`hub-min-amount`, 1,000,000).
//!
//! **A cycle carries one sum.** Each payment on a cycle carries between
//! `cycle-min-share` (0.8) and `cycle-max-growth` (1.25) times the one
//! before: money growing threefold along the way is other money passing
//! between the same people (an exchanger's clients), not a sum going round. An account with more counterparties than one history
//! answer lists (64) in `relation-days` is not judged as a hub.
//!
//! **Bounded work.** Each check asks at most a few network questions, each
//! bounded by the host (at most 4,096 events read, 64 flows, 8 hops); an
//! answer cut short by the budget is used as far as it goes.

#![forbid(unsafe_code)]

use qorgan_sdk::{
    Account, Action, CodeSpec, ConfigError, Direction, Finding, Findings, Flow, Host, Kinds,
    Metadata, Money, ParamSpec, Params, Query, Ratio, Rule, Timestamp, Trail, Tx, TxKind,
};

/// The finding codes.
pub mod codes {
    /// Money passed on quickly along a chain of accounts.
    pub const LAYERING_CHAIN: &str = "LAYERING_CHAIN";
    /// Money returned to where it started.
    pub const CYCLE_RETURN: &str = "CYCLE_RETURN";
    /// Many new payers, paid on to one or a few.
    pub const FAN_IN_HUB: &str = "FAN_IN_HUB";
    /// One or a few payers, spread over many new payees.
    pub const FAN_OUT_HUB: &str = "FAN_OUT_HUB";
    /// Many new payers and many new payees.
    pub const GATHER_SCATTER: &str = "GATHER_SCATTER";
    /// Spread over several accounts and gathered again.
    pub const SCATTER_GATHER: &str = "SCATTER_GATHER";
}

/// The parameter names.
pub mod params {
    /// Longest rest of money in a chain account, minutes.
    pub const CHAIN_MAX_DWELL_MINUTES: &str = "chain-max-dwell-minutes";
    /// Least share of what came in that a chain account passes on.
    pub const CHAIN_MIN_SHARE: &str = "chain-min-share";
    /// Most hops traced back.
    pub const CHAIN_HOPS: &str = "chain-hops";
    /// Smallest payment followed along a chain.
    pub const CHAIN_MIN_AMOUNT: &str = "chain-min-amount";
    /// Score of `LAYERING_CHAIN`.
    pub const CHAIN_SCORE: &str = "chain-score";
    /// How far back a cycle is looked for, days.
    pub const CYCLE_DAYS: &str = "cycle-days";
    /// Longest rest of money in an account on a cycle, days.
    pub const CYCLE_MAX_DWELL_DAYS: &str = "cycle-max-dwell-days";
    /// Least share of the previous payment each payment on a cycle carries.
    pub const CYCLE_MIN_SHARE: &str = "cycle-min-share";
    /// Decimal: the most each payment on the cycle carries of the one before.
    pub const CYCLE_MAX_GROWTH: &str = "cycle-max-growth";
    /// Most payments on a cycle before this one.
    pub const CYCLE_HOPS: &str = "cycle-hops";
    /// Fewest accounts on a cycle.
    pub const CYCLE_MIN_ACCOUNTS: &str = "cycle-min-accounts";
    /// Smallest payment followed around a cycle.
    pub const CYCLE_MIN_AMOUNT: &str = "cycle-min-amount";
    /// Score of `CYCLE_RETURN`.
    pub const CYCLE_SCORE: &str = "cycle-score";
    /// Whether the sender paid the recipient before, looked up this far back, days.
    pub const RELATION_DAYS: &str = "relation-days";
    /// The hub window, days.
    pub const HUB_DAYS: &str = "hub-days";
    /// Least money a hub moved in its window.
    pub const HUB_MIN_AMOUNT: &str = "hub-min-amount";
    /// Smallest payment a hub's flows count.
    pub const HUB_MIN_PAYMENT: &str = "hub-min-payment";
    /// Least share of a hub's transfers in the window that its counted flows make up.
    pub const HUB_MIN_FOCUS: &str = "hub-min-focus";
    /// Least share of what came in that a hub sends on.
    pub const HUB_MIN_SHARE: &str = "hub-min-share";
    /// Most new counterparties of a hub in its window, per side.
    pub const HUB_MAX_PARTIES: &str = "hub-max-parties";
    /// Most new payers of a hub on one day.
    pub const HUB_MAX_PER_DAY: &str = "hub-max-per-day";
    /// Most new payees of a hub on one day.
    pub const HUB_MAX_PAYEES_PER_DAY: &str = "hub-max-payees-per-day";
    /// Fewest new payers of a fan-in hub.
    pub const FAN_IN_MIN_PAYERS: &str = "fan-in-min-payers";
    /// Most new payees of a fan-in hub.
    pub const FAN_IN_MAX_PAYEES: &str = "fan-in-max-payees";
    /// Score of `FAN_IN_HUB`.
    pub const FAN_IN_SCORE: &str = "fan-in-score";
    /// Fewest new payees of a fan-out hub.
    pub const FAN_OUT_MIN_PAYEES: &str = "fan-out-min-payees";
    /// Most payers of a fan-out hub.
    pub const FAN_OUT_MAX_PAYERS: &str = "fan-out-max-payers";
    /// Least share of what came in that a fan-out hub has spread.
    pub const FAN_OUT_MIN_SHARE: &str = "fan-out-min-share";
    /// Score of `FAN_OUT_HUB`.
    pub const FAN_OUT_SCORE: &str = "fan-out-score";
    /// Fewest new payers and new payees of a gather-scatter hub.
    pub const GATHER_SCATTER_MIN: &str = "gather-scatter-min";
    /// Least money a gather-scatter hub gathered from new payers.
    pub const GATHER_SCATTER_MIN_AMOUNT: &str = "gather-scatter-min-amount";
    /// Score of `GATHER_SCATTER`.
    pub const GATHER_SCATTER_SCORE: &str = "gather-scatter-score";
    /// The scatter-gather window, days.
    pub const SCATTER_DAYS: &str = "scatter-days";
    /// Longest rest of money in an intermediate, days.
    pub const SCATTER_MAX_DWELL_DAYS: &str = "scatter-max-dwell-days";
    /// Least share of what it got that an intermediate passes on.
    pub const SCATTER_MIN_SHARE: &str = "scatter-min-share";
    /// Fewest intermediates.
    pub const SCATTER_MIN_INTERMEDIATES: &str = "scatter-min-intermediates";
    /// Smallest payment followed.
    pub const SCATTER_MIN_AMOUNT: &str = "scatter-min-amount";
    /// Score of `SCATTER_GATHER`.
    pub const SCATTER_SCORE: &str = "scatter-score";
}

const MINUTE: u32 = 60;
const DAY: u32 = 86_400;
/// The most flows one history answer lists.
const FLOW_LIMIT: u32 = 64;
/// How a hub's money leaves: by transfer, or in cash.
const HUB_OUT: Kinds = Kinds::TRANSFER.union(Kinds::CASH_WITHDRAWAL);

/// The layering rules, configured.
#[derive(Debug, Clone)]
pub struct KzLayering {
    chain: ChainRule,
    cycle: CycleRule,
    hub: HubRule,
    scatter: ScatterRule,
    relation_secs: u32,
}

#[derive(Debug, Clone)]
struct ChainRule {
    trail: Trail,
    score: u8,
}

#[derive(Debug, Clone)]
struct CycleRule {
    window_secs: u32,
    trail: Trail,
    min_share: Ratio,
    max_growth: Ratio,
    min_accounts: usize,
    score: u8,
}

#[derive(Debug, Clone)]
struct HubRule {
    window_secs: u32,
    min_amount: Money,
    min_payment: Money,
    min_focus: Ratio,
    min_share: Ratio,
    max_parties: usize,
    max_per_day: usize,
    max_payees_per_day: usize,
    fan_in_min_payers: usize,
    fan_in_max_payees: usize,
    fan_in_score: u8,
    fan_out_min_payees: usize,
    fan_out_max_payers: usize,
    fan_out_min_share: Ratio,
    fan_out_score: u8,
    gather_scatter_min: usize,
    gather_scatter_min_amount: Money,
    gather_scatter_score: u8,
}

#[derive(Debug, Clone)]
struct ScatterRule {
    window_secs: u32,
    trail: Trail,
    min_share: Ratio,
    min_intermediates: usize,
    score: u8,
}

impl Rule for KzLayering {
    fn metadata() -> Metadata {
        Metadata::new(
            "kz-layering",
            env!("CARGO_PKG_VERSION"),
            "Layering across accounts and weeks: chains of quick pass-through accounts, \
             money returning to where it started, hubs collecting from or paying many new \
             counterparties over days, and money scattered and gathered again.",
        )
        .param(
            ParamSpec::integer(
                params::CHAIN_MAX_DWELL_MINUTES,
                120,
                "LAYERING_CHAIN: the longest time money rests in an account between coming \
                 in and going on, in minutes.",
            )
            .at_least(1)
            .at_most(10_080),
        )
        .param(
            ParamSpec::decimal(
                params::CHAIN_MIN_SHARE,
                "0.85",
                "LAYERING_CHAIN: an account passes money on when it sends at least this \
                 share of what it received within the dwell (and not more than it received).",
            )
            .at_least("0.5")
            .at_most("1"),
        )
        .param(
            ParamSpec::integer(
                params::CHAIN_HOPS,
                4,
                "LAYERING_CHAIN: the most payments traced back from the sender.",
            )
            .at_least(2)
            .at_most(8),
        )
        .param(
            ParamSpec::money(
                params::CHAIN_MIN_AMOUNT,
                "100000.00",
                "LAYERING_CHAIN: payments smaller than this (KZT) are not followed.",
            )
            .at_least("1.00"),
        )
        .param(score(params::CHAIN_SCORE, 70, "LAYERING_CHAIN"))
        .param(
            ParamSpec::integer(
                params::CYCLE_DAYS,
                30,
                "CYCLE_RETURN: how far back the cycle may start, in days.",
            )
            .at_least(1)
            .at_most(90),
        )
        .param(
            ParamSpec::integer(
                params::CYCLE_MAX_DWELL_DAYS,
                5,
                "CYCLE_RETURN: the longest time money rests in an account on the cycle, in days.",
            )
            .at_least(1)
            .at_most(30),
        )
        .param(
            ParamSpec::decimal(
                params::CYCLE_MIN_SHARE,
                "0.8",
                "CYCLE_RETURN: each payment on the cycle (this one too) carries at least this \
                 share of the one before.",
            )
            .at_least("0.5")
            .at_most("1"),
        )
        .param(
            ParamSpec::decimal(
                params::CYCLE_MAX_GROWTH,
                "1.25",
                "CYCLE_RETURN: each payment on the cycle (this one too) carries at most this \
                 many times the one before: the same money going round, not a payment that \
                 merely passes through the same accounts as larger sums.",
            )
            .at_least("1")
            .at_most("10"),
        )
        .param(
            ParamSpec::integer(
                params::CYCLE_HOPS,
                6,
                "CYCLE_RETURN: the most payments on the cycle before this one.",
            )
            .at_least(1)
            .at_most(8),
        )
        .param(
            ParamSpec::integer(
                params::CYCLE_MIN_ACCOUNTS,
                3,
                "CYCLE_RETURN: the fewest accounts on the cycle (2 would flag a payment \
                 simply returned).",
            )
            .at_least(2)
            .at_most(9),
        )
        .param(
            ParamSpec::money(
                params::CYCLE_MIN_AMOUNT,
                "100000.00",
                "CYCLE_RETURN: payments smaller than this (KZT) are not followed.",
            )
            .at_least("1.00"),
        )
        .param(score(params::CYCLE_SCORE, 60, "CYCLE_RETURN"))
        .param(
            ParamSpec::integer(
                params::RELATION_DAYS,
                60,
                "Chains and cycles: a sender that paid the recipient before the money came in, \
                 within this many days, has an established relation and is not flagged. Hubs: \
                 a counterparty is new when it was not dealt with in this many days before the \
                 hub window.",
            )
            .at_least(1)
            .at_most(90),
        )
        .param(
            ParamSpec::integer(
                params::HUB_DAYS,
                21,
                "FAN_IN_HUB, FAN_OUT_HUB, GATHER_SCATTER: the hub window, in days.",
            )
            .at_least(1)
            .at_most(90),
        )
        .param(
            ParamSpec::money(
                params::HUB_MIN_AMOUNT,
                "1000000.00",
                "FAN_IN_HUB and FAN_OUT_HUB: the least money (KZT) that came in from new \
                 payers (fan-out: from all payers) in the window.",
            )
            .at_least("1.00"),
        )
        .param(
            ParamSpec::money(
                params::HUB_MIN_PAYMENT,
                "50000.00",
                "Hubs: payments smaller than this (KZT) are not counted, nor is this one when \
                 smaller: everyday transfers are not a hub's.",
            )
            .at_least("0.01"),
        )
        .param(
            ParamSpec::decimal(
                params::HUB_MIN_FOCUS,
                "0.5",
                "Hubs: the payments counted (new payers and payees, at least \
                 `hub-min-payment`) are at least this share of all the account's transfers in \
                 the window. A trader or a shop also takes and makes many everyday transfers; \
                 a hub's transfers are the pattern.",
            )
            .at_least("0")
            .at_most("1"),
        )
        .param(
            ParamSpec::decimal(
                params::HUB_MIN_SHARE,
                "0.8",
                "Hubs: the money sent to new payees in the window, this payment included, is \
                 at least this share of what came in, and exceeds it by at most the rest \
                 (0.8: between 80% and 120%): the money out is the money that came in.",
            )
            .at_least("0.1")
            .at_most("1"),
        )
        .param(
            ParamSpec::integer(
                params::HUB_MAX_PARTIES,
                40,
                "Hubs: more new counterparties than this on one side in the window is a \
                 business, not a hub.",
            )
            .at_least(2)
            .at_most(64),
        )
        .param(
            ParamSpec::integer(
                params::HUB_MAX_PER_DAY,
                6,
                "Hubs: more new payers than this on one day is a shop's takings or a \
                 mule's burst (judged by kz-mule and kz-exchanger), not a hub collecting \
                 over days.",
            )
            .at_least(1)
            .at_most(64),
        )
        .param(
            ParamSpec::integer(
                params::HUB_MAX_PAYEES_PER_DAY,
                12,
                "Hubs: more new payees than this on one day is a payroll run or a \
                 business paying its suppliers, not a hub scattering money.",
            )
            .at_least(1)
            .at_most(64),
        )
        .param(
            ParamSpec::integer(
                params::FAN_IN_MIN_PAYERS,
                5,
                "FAN_IN_HUB: the fewest new payers in the window.",
            )
            .at_least(2)
            .at_most(64),
        )
        .param(
            ParamSpec::integer(
                params::FAN_IN_MAX_PAYEES,
                3,
                "FAN_IN_HUB: the most new payees the money goes on to.",
            )
            .at_least(1)
            .at_most(64),
        )
        .param(score(params::FAN_IN_SCORE, 50, "FAN_IN_HUB"))
        .param(
            ParamSpec::integer(
                params::FAN_OUT_MIN_PAYEES,
                5,
                "FAN_OUT_HUB: the fewest new payees in the window, on at least two days.",
            )
            .at_least(2)
            .at_most(64),
        )
        .param(
            ParamSpec::integer(
                params::FAN_OUT_MAX_PAYERS,
                3,
                "FAN_OUT_HUB: the most payers the money came from.",
            )
            .at_least(1)
            .at_most(64),
        )
        .param(
            ParamSpec::decimal(
                params::FAN_OUT_MIN_SHARE,
                "0.5",
                "FAN_OUT_HUB: the hub has spread at least this share of what came in over its \
                 new payees (this payment included); a fan-out pays many small shares, some \
                 below `hub-min-payment`, so the share is lower than `hub-min-share`.",
            )
            .at_least("0.1")
            .at_most("1"),
        )
        .param(score(params::FAN_OUT_SCORE, 50, "FAN_OUT_HUB"))
        .param(
            ParamSpec::integer(
                params::GATHER_SCATTER_MIN,
                4,
                "GATHER_SCATTER: the fewest new payers, and the fewest new payees.",
            )
            .at_least(2)
            .at_most(64),
        )
        .param(
            ParamSpec::money(
                params::GATHER_SCATTER_MIN_AMOUNT,
                "500000.00",
                "GATHER_SCATTER: the least money (KZT) that came in from new payers. Lower \
                 than the other hubs': two separate phases, all the gathering before most \
                 of the scattering, between new counterparties, are rarely anything else.",
            )
            .at_least("1.00"),
        )
        .param(score(params::GATHER_SCATTER_SCORE, 50, "GATHER_SCATTER"))
        .param(
            ParamSpec::integer(
                params::SCATTER_DAYS,
                14,
                "SCATTER_GATHER: the window in which the money is scattered and gathered, days.",
            )
            .at_least(1)
            .at_most(90),
        )
        .param(
            ParamSpec::integer(
                params::SCATTER_MAX_DWELL_DAYS,
                5,
                "SCATTER_GATHER: the longest time money rests in an intermediate, days.",
            )
            .at_least(1)
            .at_most(30),
        )
        .param(
            ParamSpec::decimal(
                params::SCATTER_MIN_SHARE,
                "0.9",
                "SCATTER_GATHER: an intermediate passes on at least this share of what it got.",
            )
            .at_least("0.5")
            .at_most("1"),
        )
        .param(
            ParamSpec::integer(
                params::SCATTER_MIN_INTERMEDIATES,
                3,
                "SCATTER_GATHER: the fewest intermediates paid by the source that paid the \
                 recipient (this payment's sender included).",
            )
            .at_least(2)
            .at_most(64),
        )
        .param(
            ParamSpec::money(
                params::SCATTER_MIN_AMOUNT,
                "50000.00",
                "SCATTER_GATHER: payments smaller than this (KZT) are not followed.",
            )
            .at_least("1.00"),
        )
        .param(score(params::SCATTER_SCORE, 60, "SCATTER_GATHER"))
        .code(CodeSpec::new(
            codes::LAYERING_CHAIN,
            Action::Hold,
            "The sender passes on money that reached it minutes ago through another account \
             that did the same (a chain of money mules, 'droppers'). Evidence: the path, \
             amounts, minutes between hops, and every account that passed the money on.",
        ))
        .code(CodeSpec::new(
            codes::CYCLE_RETURN,
            Action::Review,
            "This payment closes a cycle: money that left the recipient went round other \
             accounts to the sender within days (round-tripping). Evidence: the cycle, \
             amounts, days, and every account on it.",
        ))
        .code(CodeSpec::new(
            codes::FAN_IN_HUB,
            Action::Review,
            "The sender collected money from many new payers over days, a few a day, and now \
             sends most of it on to one or a few accounts. Evidence: payers, amounts, days, \
             and every account involved.",
        ))
        .code(CodeSpec::new(
            codes::FAN_OUT_HUB,
            Action::Review,
            "The sender received money from one or a few payers and spreads most of it over \
             many new payees over days, a few a day. Evidence: payees, amounts, days, and \
             every account involved.",
        ))
        .code(CodeSpec::new(
            codes::GATHER_SCATTER,
            Action::Review,
            "The sender collected money from many new payers, then pays most of it to many \
             new payees within the window. Evidence: both sides and every account involved.",
        ))
        .code(CodeSpec::new(
            codes::SCATTER_GATHER,
            Action::Review,
            "Money one account spread over several accounts comes together again at the \
             recipient, each intermediate passing it on within days. Evidence: the source, \
             the intermediates, the recipient.",
        ))
    }

    fn configure(params: &Params) -> Result<Self, ConfigError> {
        Ok(KzLayering {
            chain: ChainRule {
                trail: Trail::new(secs(params, params::CHAIN_MAX_DWELL_MINUTES, MINUTE)?)
                    .keeping_permille(permille(params, params::CHAIN_MIN_SHARE)?)
                    .hops(small(params, params::CHAIN_HOPS)?)
                    .only(Kinds::TRANSFER)
                    .at_least(params.money(params::CHAIN_MIN_AMOUNT)?),
                score: params.score(params::CHAIN_SCORE)?,
            },
            cycle: CycleRule {
                window_secs: secs(params, params::CYCLE_DAYS, DAY)?,
                trail: Trail::new(secs(params, params::CYCLE_MAX_DWELL_DAYS, DAY)?)
                    .keeping_permille(permille(params, params::CYCLE_MIN_SHARE)?)
                    .hops(small(params, params::CYCLE_HOPS)?)
                    .only(Kinds::TRANSFER)
                    .at_least(params.money(params::CYCLE_MIN_AMOUNT)?),
                min_share: params.ratio(params::CYCLE_MIN_SHARE)?,
                max_growth: params.ratio(params::CYCLE_MAX_GROWTH)?,
                min_accounts: usize_of(params, params::CYCLE_MIN_ACCOUNTS)?,
                score: params.score(params::CYCLE_SCORE)?,
            },
            hub: HubRule {
                window_secs: secs(params, params::HUB_DAYS, DAY)?,
                min_amount: params.money(params::HUB_MIN_AMOUNT)?,
                min_payment: params.money(params::HUB_MIN_PAYMENT)?,
                min_focus: params.ratio(params::HUB_MIN_FOCUS)?,
                min_share: params.ratio(params::HUB_MIN_SHARE)?,
                max_parties: usize_of(params, params::HUB_MAX_PARTIES)?,
                max_per_day: usize_of(params, params::HUB_MAX_PER_DAY)?,
                max_payees_per_day: usize_of(params, params::HUB_MAX_PAYEES_PER_DAY)?,
                fan_in_min_payers: usize_of(params, params::FAN_IN_MIN_PAYERS)?,
                fan_in_max_payees: usize_of(params, params::FAN_IN_MAX_PAYEES)?,
                fan_in_score: params.score(params::FAN_IN_SCORE)?,
                fan_out_min_payees: usize_of(params, params::FAN_OUT_MIN_PAYEES)?,
                fan_out_max_payers: usize_of(params, params::FAN_OUT_MAX_PAYERS)?,
                fan_out_min_share: params.ratio(params::FAN_OUT_MIN_SHARE)?,
                fan_out_score: params.score(params::FAN_OUT_SCORE)?,
                gather_scatter_min: usize_of(params, params::GATHER_SCATTER_MIN)?,
                gather_scatter_min_amount: params.money(params::GATHER_SCATTER_MIN_AMOUNT)?,
                gather_scatter_score: params.score(params::GATHER_SCATTER_SCORE)?,
            },
            scatter: ScatterRule {
                window_secs: secs(params, params::SCATTER_DAYS, DAY)?,
                trail: Trail::new(secs(params, params::SCATTER_MAX_DWELL_DAYS, DAY)?)
                    .keeping_permille(permille(params, params::SCATTER_MIN_SHARE)?)
                    .hops(1)
                    .only(Kinds::TRANSFER)
                    .at_least(params.money(params::SCATTER_MIN_AMOUNT)?),
                min_share: params.ratio(params::SCATTER_MIN_SHARE)?,
                min_intermediates: usize_of(params, params::SCATTER_MIN_INTERMEDIATES)?,
                score: params.score(params::SCATTER_SCORE)?,
            },
            relation_secs: secs(params, params::RELATION_DAYS, DAY)?,
        })
    }

    fn evaluate<H: Host>(&self, tx: &Tx<'_>, host: &H, out: &mut Findings) {
        if own_accounts(tx) {
            return;
        }
        let moves_on = matches!(
            tx.kind(),
            TxKind::Transfer | TxKind::CashWithdrawal | TxKind::CryptoPurchase
        );
        if moves_on {
            self.check_chain(tx, host, out);
        }
        if tx.kind() == TxKind::Transfer {
            self.check_cycle(tx, host, out);
            self.check_scatter_gather(tx, host, out);
        }
        // A hub's money leaves by transfer or in cash.
        if matches!(tx.kind(), TxKind::Transfer | TxKind::CashWithdrawal) {
            self.check_hubs(tx, host, out);
        }
    }
}

qorgan_sdk::export_rule!(KzLayering);

/// Whether both parties are held under one IIN or BIN: money moved between
/// one person's (or company's) own accounts.
fn own_accounts(tx: &Tx<'_>) -> bool {
    matches!(
        (tx.sender().holder(), tx.recipient().holder()),
        (Some(a), Some(b)) if a == b
    )
}

/// An account named for an analyst: its reference, or its handle when the
/// host no longer knows it.
fn name<H: Host>(host: &H, account: Account) -> String {
    host.reference(account)
        .unwrap_or_else(|| format!("#{account}"))
}

/// Accounts named and comma separated, each once, in order.
fn names<H: Host>(host: &H, accounts: impl IntoIterator<Item = Account>) -> String {
    let mut seen: Vec<Account> = Vec::new();
    for account in accounts {
        if !seen.contains(&account) {
            seen.push(account);
        }
    }
    seen.into_iter()
        .map(|a| name(host, a))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A path's route, this transaction's two parties at its end
/// (`A → B → sender → recipient`), and its amounts, this one's last.
fn route_and_amounts<H: Host>(host: &H, path: &qorgan_sdk::Path, tx: &Tx<'_>) -> (String, String) {
    let route = path
        .hops
        .iter()
        .map(|h| h.from)
        .chain([tx.sender().account(), tx.recipient().account()])
        .map(|a| name(host, a))
        .collect::<Vec<_>>()
        .join(" → ");
    let amounts = path
        .hops
        .iter()
        .map(|h| h.amount)
        .chain([tx.amount()])
        .map(|m| m.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    (route, amounts)
}

/// Whole minutes from `from` to `to`.
fn minutes(from: Timestamp, to: Timestamp) -> i64 {
    to.saturating_sub(from) / 60
}

/// Days (with one decimal) from `from` to `to`.
fn days(from: Timestamp, to: Timestamp) -> String {
    let tenths = to.saturating_sub(from) / 8_640;
    format!("{}.{}", tenths / 10, tenths % 10)
}

impl KzLayering {
    /// Whether the sender paid the recipient before `before` (the time the
    /// money came in), within `relation-days`.
    fn paid_before<H: Host>(&self, tx: &Tx<'_>, host: &H, before: Timestamp) -> bool {
        let query = Query::new(
            tx.sender().account(),
            Direction::Outbound,
            self.relation_secs,
        )
        .only(Kinds::TRANSFER);
        host.counterparties(tx.at(), &query, FLOW_LIMIT)
            .flows
            .iter()
            .any(|f| f.counterparty == tx.recipient().account() && f.first < before)
    }

    /// `LAYERING_CHAIN`.
    fn check_chain<H: Host>(&self, tx: &Tx<'_>, host: &H, out: &mut Findings) {
        let rule = &self.chain;
        let amount = tx.amount();
        if amount < rule.trail.min_amount() {
            return;
        }
        let sender = tx.sender().account();
        let path = host.trace_back(tx.at(), sender, amount, &rule.trail);
        // Two hops at least: the money came through an account that
        // passed it on as quickly as the sender does.
        let Some(first) = path.hops.first().filter(|_| path.hops.len() >= 2) else {
            return;
        };
        if self.paid_before(tx, host, first.time) {
            return;
        }
        // The accounts that passed the money on: where it came from first
        // is not shown to be one, nor is where it goes next (yet).
        let accounts = [sender].into_iter().chain(path.hops.iter().map(|h| h.to));
        let (route, amounts) = route_and_amounts(host, &path, tx);
        let dwell = path
            .hops
            .iter()
            .zip(path.hops.iter().skip(1).map(|h| h.time).chain([tx.time()]))
            .map(|(h, next)| minutes(h.time, next).to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let message = format!(
            "The sender passes on {amount} KZT that came through {} accounts, each passing \
             it on within minutes: a chain of money mules.",
            path.hops.len()
        );
        out.add(
            Finding::new(codes::LAYERING_CHAIN, Action::Hold)
                .score(rule.score)
                .message(message)
                .evidence("side", "sender")
                .evidence("path", route)
                .evidence("amounts", amounts)
                .evidence("dwell-minutes", dwell)
                .evidence("hops", path.hops.len() + 1)
                .evidence("accounts", names(host, accounts)),
        );
    }

    /// `CYCLE_RETURN`.
    fn check_cycle<H: Host>(&self, tx: &Tx<'_>, host: &H, out: &mut Findings) {
        let rule = &self.cycle;
        let amount = tx.amount();
        if amount < rule.trail.min_amount() {
            return;
        }
        let (sender, recipient) = (tx.sender().account(), tx.recipient().account());
        let path = host.find_path(tx.at(), recipient, sender, rule.window_secs, &rule.trail);
        let (Some(first), Some(last)) = (path.hops.first(), path.hops.last()) else {
            return;
        };
        // The accounts on the cycle: its start and every payee.
        if path.hops.len() < rule.min_accounts.saturating_sub(1) {
            return;
        }
        // This payment carries the money on, and comes within the dwell.
        if !rule
            .min_share
            .reached_by(i128::from(amount.tiyn()), i128::from(last.amount.tiyn()))
            || tx.time().saturating_sub(last.time) > i64::from(rule.trail.max_dwell_secs())
        {
            return;
        }
        // The same money goes round: no payment on the cycle is much larger
        // than the one before (an exchanger's card passes small sums and
        // large ones between the same people).
        let sums = path
            .hops
            .iter()
            .map(|h| i128::from(h.amount.tiyn()))
            .chain([i128::from(amount.tiyn())]);
        if sums
            .clone()
            .zip(sums.skip(1))
            .any(|(before, next)| !rule.max_growth.admits(next, before))
        {
            return;
        }
        if self.paid_before(tx, host, first.time) {
            return;
        }
        let (route, amounts) = route_and_amounts(host, &path, tx);
        out.add(
            Finding::new(codes::CYCLE_RETURN, Action::Review)
                .score(rule.score)
                .message(format!(
                    "This payment of {amount} KZT returns money to the account it left {} days \
                     ago, round {} accounts: a cycle.",
                    days(first.time, tx.time()),
                    path.hops.len() + 1
                ))
                .evidence("side", "sender")
                .evidence("path", route)
                .evidence("amounts", amounts)
                .evidence("days", days(first.time, tx.time()))
                .evidence(
                    "accounts",
                    names(
                        host,
                        [sender].into_iter().chain(path.hops.iter().map(|h| h.from)),
                    ),
                ),
        );
    }

    /// `FAN_IN_HUB`, `FAN_OUT_HUB` and `GATHER_SCATTER`: the sender as a hub.
    fn check_hubs<H: Host>(&self, tx: &Tx<'_>, host: &H, out: &mut Findings) {
        let rule = &self.hub;
        if tx.amount() < rule.min_payment {
            return;
        }
        let Some(hub) = Hub::of(tx, host, rule, self.relation_secs) else {
            return;
        };
        let busy = |side: &[Flow], per_day: usize| {
            side.len() > rule.max_parties || per_day_max(side, tx.time()) > per_day
        };
        if busy(&hub.new_in, rule.max_per_day) || busy(&hub.new_out, rule.max_payees_per_day) {
            return;
        }
        let in_new = total(&hub.new_in);
        let out_new = total(&hub.new_out);
        // What left is what came in: at least the share of it, and more
        // than it by no more than the rest.
        let passes_on_share = |came_in: Money, share: Ratio, least: Money| {
            let (out, came) = (i128::from(out_new.tiyn()), i128::from(came_in.tiyn()));
            came_in >= least && share.reached_by(out, came) && rule.min_share.reached_by(came, out)
        };
        let passes_on =
            |came_in: Money, least: Money| passes_on_share(came_in, rule.min_share, least);
        let (payers, payees) = (hub.new_in.len(), hub.new_out.len());
        let found = if payers >= rule.gather_scatter_min
            && payees >= rule.gather_scatter_min
            && days_spanned(hub.new_in.iter().chain(&hub.new_out), tx.time()) >= 2
            && gathered_first(&hub.new_in, &hub.new_out)
            && passes_on(in_new, rule.gather_scatter_min_amount)
        {
            Some((codes::GATHER_SCATTER, rule.gather_scatter_score, in_new))
        } else if payers >= rule.fan_in_min_payers
            && payees <= rule.fan_in_max_payees
            && days_spanned(&hub.new_in, tx.time()) >= 2
            && passes_on(in_new, rule.min_amount)
        {
            Some((codes::FAN_IN_HUB, rule.fan_in_score, in_new))
        } else if payees >= rule.fan_out_min_payees
            && hub.payers_in_window <= rule.fan_out_max_payers
            && days_spanned(&hub.new_out, tx.time()) >= 2
            && passes_on_share(hub.in_window, rule.fan_out_min_share, rule.min_amount)
        {
            Some((codes::FAN_OUT_HUB, rule.fan_out_score, hub.in_window))
        } else {
            None
        };
        let Some((code, score, came_in)) = found else {
            return;
        };
        let sender = tx.sender().account();
        let all = host.aggregate(
            tx.at(),
            &Query::new(sender, Direction::Both, rule.window_secs).only(HUB_OUT),
        );
        let counted: u32 = hub.new_in.iter().chain(&hub.new_out).map(|f| f.count).sum();
        // `all` leaves out this payment; `counted` has it.
        if !rule
            .min_focus
            .reached_by(i128::from(counted), i128::from(all.count.saturating_add(1)))
        {
            return;
        }
        let first = hub
            .new_in
            .iter()
            .chain(&hub.new_out)
            .map(|f| f.first)
            .min()
            .unwrap_or(tx.time());
        // Fan-in names the hub and its payers, fan-out the hub and its
        // payees, gather-scatter both sides: where the money went after a
        // fan-in (often cash or another bank) and where a fan-out's came
        // from are not shown to be part of it.
        let payers_named = code != codes::FAN_OUT_HUB;
        let payees_named = code != codes::FAN_IN_HUB;
        let accounts = [sender]
            .into_iter()
            .chain(
                hub.new_in
                    .iter()
                    .filter(|_| payers_named)
                    .map(|f| f.counterparty),
            )
            .chain(
                hub.new_out
                    .iter()
                    .filter(|_| payees_named)
                    .map(|f| f.counterparty),
            );
        out.add(
            Finding::new(code, Action::Review)
                .score(score)
                .message(format!(
                    "In {} days the sender received {came_in} KZT from {payers} new payers and \
                     sent {out_new} KZT (this payment included) to {payees} new payees.",
                    days(first, tx.time())
                ))
                .evidence("side", "sender")
                .evidence("payers", payers)
                .evidence("payees", payees)
                .evidence("money-in", came_in)
                .evidence("money-out", out_new)
                .evidence("days", days(first, tx.time()))
                .evidence(
                    "path",
                    format!(
                        "{} payers → {} → {} payees",
                        payers,
                        name(host, sender),
                        payees
                    ),
                )
                .evidence("accounts", names(host, accounts)),
        );
    }

    /// `SCATTER_GATHER`: the sender passes on money a source spread over
    /// several accounts, which come together at the recipient.
    fn check_scatter_gather<H: Host>(&self, tx: &Tx<'_>, host: &H, out: &mut Findings) {
        let rule = &self.scatter;
        let amount = tx.amount();
        if amount < rule.trail.min_amount() {
            return;
        }
        let (sender, recipient) = (tx.sender().account(), tx.recipient().account());
        let path = host.trace_back(tx.at(), sender, amount, &rule.trail);
        let Some(source) = path.hops.first().map(|h| h.from) else {
            return;
        };
        if source == recipient {
            return;
        }
        let at = tx.at();
        let scattered = host.counterparties(
            at,
            &Query::new(source, Direction::Outbound, rule.window_secs).only(Kinds::TRANSFER),
            FLOW_LIMIT,
        );
        let gathered = host.counterparties(
            at,
            &Query::new(recipient, Direction::Inbound, rule.window_secs).only(Kinds::TRANSFER),
            FLOW_LIMIT,
        );
        // An intermediate passed on to the recipient what the source gave
        // it: at least the share of it, and not more.
        let share = rule.min_share;
        let mut intermediates: Vec<Account> = vec![sender];
        for flow in &gathered.flows {
            let account = flow.counterparty;
            let given = scattered
                .flows
                .iter()
                .find(|s| s.counterparty == account)
                .map(|s| s.sum);
            if let Some(given) = given
                && account != source
                && !intermediates.contains(&account)
                && flow.sum <= given
                && share.reached_by(i128::from(flow.sum.tiyn()), i128::from(given.tiyn()))
            {
                intermediates.push(account);
            }
        }
        if intermediates.len() < rule.min_intermediates {
            return;
        }
        let mut accounts = vec![sender, source, recipient];
        accounts.extend(intermediates.iter().copied());
        out.add(
            Finding::new(codes::SCATTER_GATHER, Action::Review)
                .score(rule.score)
                .message(format!(
                    "{} accounts that received money from one source passed it on to the \
                     recipient; the sender passes on {amount} KZT of it.",
                    intermediates.len()
                ))
                .evidence("side", "sender")
                .evidence(
                    "path",
                    format!(
                        "{} → [{}] → {}",
                        name(host, source),
                        names(host, intermediates.iter().copied()),
                        name(host, recipient)
                    ),
                )
                .evidence("intermediates", intermediates.len())
                .evidence("amount", amount)
                .evidence("accounts", names(host, accounts)),
        );
    }
}

/// A hub's new counterparties on each side, over the hub window.
struct Hub {
    /// Payers first dealt with inside the window.
    new_in: Vec<Flow>,
    /// Payees first dealt with inside the window, this payment included.
    new_out: Vec<Flow>,
    /// All money in during the window.
    in_window: Money,
    /// All payers during the window.
    payers_in_window: usize,
}

impl Hub {
    /// The sender's flows, or `None` when it deals with more accounts than
    /// one answer lists. An account on both sides (paid and paying back)
    /// is a relation, not a hub's feeder or payee: it counts on neither.
    fn of<H: Host>(tx: &Tx<'_>, host: &H, rule: &HubRule, relation_secs: u32) -> Option<Hub> {
        let window_secs = rule.window_secs;
        let sender = tx.sender().account();
        let span = relation_secs.saturating_add(window_secs);
        let ask = |direction, kinds| {
            host.counterparties(
                tx.at(),
                &Query::new(sender, direction, span)
                    .only(kinds)
                    .at_least(rule.min_payment),
                FLOW_LIMIT,
            )
        };
        let (inbound, outbound) = (
            ask(Direction::Inbound, Kinds::TRANSFER),
            ask(Direction::Outbound, HUB_OUT),
        );
        let listed = |f: &qorgan_sdk::Flows| u32::try_from(f.flows.len()).unwrap_or(u32::MAX);
        if !inbound.complete
            || !outbound.complete
            || inbound.total > listed(&inbound)
            || outbound.total > listed(&outbound)
        {
            return None;
        }
        let start = tx.time().saturating_sub(i64::from(window_secs));
        let new = |f: &&Flow| f.first > start;
        let in_window = |f: &&Flow| f.last > start;
        let recipient = tx.recipient().account();
        let pays =
            |a: Account| a == recipient || outbound.flows.iter().any(|f| f.counterparty == a);
        let paid_by = |a: Account| inbound.flows.iter().any(|f| f.counterparty == a);
        let new_in: Vec<Flow> = inbound
            .flows
            .iter()
            .filter(new)
            .filter(|f| !pays(f.counterparty))
            .copied()
            .collect();
        if paid_by(recipient) {
            return None;
        }
        let mut new_out: Vec<Flow> = outbound
            .flows
            .iter()
            .filter(new)
            .filter(|f| !paid_by(f.counterparty))
            .copied()
            .collect();
        match new_out.iter_mut().find(|f| f.counterparty == recipient) {
            Some(flow) => {
                flow.count += 1;
                flow.sum = flow.sum.saturating_add(tx.amount());
                flow.last = tx.time();
            }
            None if !outbound.flows.iter().any(|f| f.counterparty == recipient) => {
                new_out.push(Flow {
                    counterparty: recipient,
                    count: 1,
                    sum: tx.amount(),
                    first: tx.time(),
                    last: tx.time(),
                });
            }
            // An established payee: the payment counts nowhere.
            None => {}
        }
        let recent: Vec<&Flow> = inbound.flows.iter().filter(in_window).collect();
        Some(Hub {
            in_window: recent
                .iter()
                .fold(Money::ZERO, |acc, f| acc.saturating_add(f.sum)),
            payers_in_window: recent.len(),
            new_in,
            new_out,
        })
    }
}

/// Whether a hub gathered before it scattered: at least three quarters of
/// its new payees were first paid after its last new payer first paid. A
/// shop, a trader or an exchanger's card buys and sells all along; a
/// gather-scatter hub collects, then pays out (a stray earlier payout
/// aside).
fn gathered_first(payers: &[Flow], payees: &[Flow]) -> bool {
    let Some(last_payer) = payers.iter().map(|f| f.first).max() else {
        return false;
    };
    let after = payees.iter().filter(|f| f.first > last_payer).count();
    after * 4 >= payees.len() * 3
}

/// The money of `flows`.
fn total(flows: &[Flow]) -> Money {
    flows
        .iter()
        .fold(Money::ZERO, |acc, f| acc.saturating_add(f.sum))
}

/// The most flows that began on one day (days counted back from `now`).
fn per_day_max(flows: &[Flow], now: Timestamp) -> usize {
    let mut days: Vec<i64> = flows
        .iter()
        .map(|f| now.saturating_sub(f.first) / i64::from(DAY))
        .collect();
    days.sort_unstable();
    let mut best = 0;
    let mut run = 0;
    let mut prev = None;
    for day in days {
        run = if prev == Some(day) { run + 1 } else { 1 };
        best = best.max(run);
        prev = Some(day);
    }
    best
}

/// On how many distinct days flows began.
fn days_spanned<'a>(flows: impl IntoIterator<Item = &'a Flow>, now: Timestamp) -> usize {
    let mut days: Vec<i64> = flows
        .into_iter()
        .map(|f| now.saturating_sub(f.first) / i64::from(DAY))
        .collect();
    days.sort_unstable();
    days.dedup();
    days.len()
}

/// A score parameter.
fn score(name: &str, default: u8, code: &str) -> ParamSpec {
    ParamSpec::integer(name, default, format!("Risk score (0-100) of {code}."))
        .at_least(0)
        .at_most(100)
}

/// A positive whole-number parameter times `unit` seconds.
fn secs(params: &Params, name: &str, unit: u32) -> Result<u32, ConfigError> {
    let value = params.integer(name)?;
    u32::try_from(value)
        .ok()
        .filter(|v| *v >= 1)
        .and_then(|v| v.checked_mul(unit))
        .ok_or_else(|| ConfigError::invalid(name, value, "must be a positive number that fits"))
}

/// A whole number of at least 1, as a length.
fn usize_of(params: &Params, name: &str) -> Result<usize, ConfigError> {
    let value = params.integer(name)?;
    usize::try_from(value)
        .ok()
        .filter(|v| *v >= 1)
        .ok_or_else(|| ConfigError::invalid(name, value, "must be a whole number of at least 1"))
}

/// A hop count, 1 to 8.
fn small(params: &Params, name: &str) -> Result<u8, ConfigError> {
    let value = params.integer(name)?;
    u8::try_from(value)
        .ok()
        .filter(|v| (1..=8).contains(v))
        .ok_or_else(|| ConfigError::invalid(name, value, "must be between 1 and 8"))
}

/// A share between 0 and 1, in thousandths (rounded down: the host's
/// trail then admits at least what the rule's exact ratio does).
fn permille(params: &Params, name: &str) -> Result<u16, ConfigError> {
    let value = params.decimal(name)?;
    if !(0.0..=1.0).contains(&value) {
        return Err(ConfigError::invalid(name, value, "must be between 0 and 1"));
    }
    // Exact enough: the value is between 0 and 1 with a few digits.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok((value * 1000.0).floor() as u16)
}

#[cfg(test)]
mod tests;
