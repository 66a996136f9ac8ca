//! # kz-mule
//!
//! Money-mule ("dropper") scoring for the reference pack `kz-afm`:
//!
//! | Code | When | Action |
//! |---|---|---|
//! | `MULE_SCORE_ELEVATED` | at least `min-indicators` (2) indicators hold and their weights add up to `elevated-score` (50) or more | `review` |
//! | `MULE_SCORE_HIGH` | the same, with `high-score` (75) or more | `hold` |
//!
//! A money mule lets criminals run stolen or dirty money through a personal
//! account or card: money comes in from many people, often to a new or
//! long-dormant account, and leaves again within minutes as cash, crypto or
//! an onward transfer. No single sign proves it (a student's birthday brings
//! many senders; a new account is just new), so the rule scores the
//! indicators of docs/domain.md, each a weighted pack parameter, and follows the
//! Bank of Russia practice of flagging only when **two or more** hold at once.
//!
//! ## Who is scored, and when
//!
//! The sender of a transaction that moves money out of a personal account: a
//! transfer, a cash withdrawal, a crypto purchase, a card top-up or an
//! `other` transaction whose sender is an `individual`. Card payments at
//! merchants, cash deposits and crypto sales are not looked at, and neither
//! are business accounts: a payroll account is funded and emptied the same
//! hour by design, and shell companies are a typology of their own. The
//! moment money leaves is where a hold still helps. Every finding carries
//! evidence `side` = `sender`.
//!
//! An account that paid at least `two-sided-payees` (5) distinct accounts
//! in the window `W` or in the last `two-sided-days` (7) is not scored: money flowing in from many and out to many
//! is a P2P exchanger's card, which `kz-exchanger` judges. A mule's money
//! leaves in few directions (cash, a crypto platform, the next mule).
//!
//! ## The indicators
//!
//! All windows end at the transaction; the host answers from the history
//! strictly before it, so "in the window" never includes the transaction
//! being decided unless said so. `W` is `window-hours` (24).
//!
//! | Indicator | Holds when | Weight (default) | Evidence |
//! |---|---|---|---|
//! | `new-account` | the account was opened (the bank's `opened` date) less than `new-account-days` (30) before the first money it received in the last `income-window-days` (30); without an `opened` date it does not hold | 20 | `account-age-days` |
//! | `many-senders` | money came from at least `many-senders` (10) distinct accounts in `W`, unless that is the account's usual volume (below) | 20 | `senders` |
//! | `many-transactions` | the account made or received at least `many-transactions` (30) transactions in `W`, this one included, unless that is the account's usual volume (below) | 10 | `transactions` |
//! | `pass-through` | at least `pass-through-min-inflow` (100000.00) came in during `W`, and what went out in `W` plus this transaction is between `pass-through-min` (0.9) and `pass-through-max` (1.1) of it | 20 | `pass-through-ratio` |
//! | `quick-dwell` | at least `dwell-min-inflow` (50000.00) came in during the `dwell-minutes` (60) before this transaction, and this transaction takes out at least `dwell-share` (0.5) of it, and at most `pass-through-max` (1.1) of what came in during `W`: money that just came in, not savings built up over weeks | 10 | `dwell-minutes` (since the last money in) |
//! | `fan-in-cash-out` | this is a cash withdrawal or crypto purchase, the account received at least `fan-in-payments` (5) payments of at most `fan-in-small` (100000.00) each in `W`, and this transaction takes at least `cash-out-share` (0.8) of their sum | 25 | `fan-in-payments` |
//! | `dormant` | the host first saw the account at least `dormant-days` (60) ago, and everything it did in the last `dormant-days` happened in `W` | 15 | `first-seen-days-ago` |
//! | `income-multiple` | the account's declared monthly income is given, at least `income-min-inflow` (300000.00) came in during `income-window-days` (30), and that is at least `income-multiple` (3) times the income (any such inflow, when the income declared is 0) | 15 | `income-multiple` |
//! | `shared-device` | the device of this transaction sent money for at least `shared-device-accounts` (3) distinct accounts in `link-window-days` (30) | 20 | `device-accounts` |
//! | `many-cards` | the sender's IIN held at least `cards-per-holder` (5) distinct accounts in `link-window-days` | 20 | `holder-accounts` |
//!
//! The score is the sum of the weights of the indicators that hold, capped at
//! 100; it is the finding's risk score. A weight of 0 switches an indicator
//! off. The evidence lists `score`, `indicators` (in the order above) and the
//! measured value of each indicator that holds, so an analyst sees why.
//!
//! `dormant` and the link windows can see only what the host keeps: the
//! pack's history retention must be at least `dormant-days` and
//! `link-window-days`, or those indicators never hold.
//!
//! ## Behaviour decisions
//!
//! **Volume that is usual for the account is not a sign.** A busy shop or
//! tutor taking payments on a personal card has ten or more payers and
//! dozens of transactions on any ordinary day, and its takings leave soon
//! after they come in; with `quick-dwell` and `income-multiple` that is
//! already 55 points. A mule account is used for a burst of a few days (at
//! most a couple of weeks), usually new or woken from dormancy. So
//! `many-senders` and `many-transactions` measure a deviation from the
//! account's own baseline: neither holds when, in the `usual-days` (28)
//! before `W` (from `usual-days` + `W` to `W` before the transaction), the
//! account received money from at least `usual-payers` (60) distinct
//! accounts, the earliest of those payments at least `usual-since-days`
//! (14) before the start of `W`: it has been paid by many for two weeks
//! already. The host's windows all end at the transaction, so the payers
//! are counted as those of `usual-days` + `W` less those of `W`: a payer
//! who paid in both periods is not counted, and the count can only fall
//! short of the period's payers (a shop's regulars paying again today),
//! never include today's. The question (one inbound aggregate over
//! `usual-days` + `W`) is asked only when `many-senders` or
//! `many-transactions` would otherwise hold. When the rule still flags the
//! account on its other indicators, evidence `usual-payers` gives the
//! payers counted and `not-counted` the indicators left out (comma-separated),
//! so an analyst sees why. `usual-payers` = 0 switches this off.
//!
//! The trade-off: a mule kept busy for weeks on an old account loses these
//! two indicators once its payers make the usual volume, and is flagged on
//! the others alone (`new-account`, `pass-through`, `quick-dwell`,
//! `fan-in-cash-out`, `dormant`, `income-multiple`, `shared-device`,
//! `many-cards`). The first `usual-since-days` of a burst always count in
//! full, and so does any burst on an account that few paid before. The
//! history retention must cover `usual-days` + `W`.

use qorgan_sdk::{
    Account, Action, CodeSpec, ConfigError, Cursor, Direction, Finding, Findings, Host, Metadata,
    Money, ParamSpec, Params, PartyKind, Query, Ratio, Rule, Timestamp, Totals, Tx, TxKind,
};

/// The finding codes this rule declares.
pub mod codes {
    /// Two or more mule indicators, with a score of `elevated-score` or more.
    pub const MULE_SCORE_ELEVATED: &str = "MULE_SCORE_ELEVATED";
    /// Two or more mule indicators, with a score of `high-score` or more.
    pub const MULE_SCORE_HIGH: &str = "MULE_SCORE_HIGH";
}

/// The parameter names this rule declares.
pub mod params {
    /// Integer hours: the activity window of most indicators.
    pub const WINDOW_HOURS: &str = "window-hours";
    /// Integer: the fewest indicators that must hold together.
    pub const MIN_INDICATORS: &str = "min-indicators";
    /// Integer 0–100: the score of `MULE_SCORE_ELEVATED`.
    pub const ELEVATED_SCORE: &str = "elevated-score";
    /// Integer 0–100: the score of `MULE_SCORE_HIGH`.
    pub const HIGH_SCORE: &str = "high-score";
    /// Integer days: `new-account` age limit.
    pub const NEW_ACCOUNT_DAYS: &str = "new-account-days";
    /// Integer: `many-senders` threshold.
    pub const MANY_SENDERS: &str = "many-senders";
    /// Integer: `many-transactions` threshold.
    pub const MANY_TRANSACTIONS: &str = "many-transactions";
    /// Decimal: `pass-through` lower ratio.
    pub const PASS_THROUGH_MIN: &str = "pass-through-min";
    /// Decimal: `pass-through` upper ratio.
    pub const PASS_THROUGH_MAX: &str = "pass-through-max";
    /// Money: `pass-through` least inflow.
    pub const PASS_THROUGH_MIN_INFLOW: &str = "pass-through-min-inflow";
    /// Integer minutes: `quick-dwell` window.
    pub const DWELL_MINUTES: &str = "dwell-minutes";
    /// Money: `quick-dwell` least inflow.
    pub const DWELL_MIN_INFLOW: &str = "dwell-min-inflow";
    /// Decimal: `quick-dwell` share taken out.
    pub const DWELL_SHARE: &str = "dwell-share";
    /// Integer: `fan-in-cash-out` fewest small payments.
    pub const FAN_IN_PAYMENTS: &str = "fan-in-payments";
    /// Money: `fan-in-cash-out` largest small payment.
    pub const FAN_IN_SMALL: &str = "fan-in-small";
    /// Decimal: `fan-in-cash-out` share cashed out.
    pub const CASH_OUT_SHARE: &str = "cash-out-share";
    /// Integer days: `dormant` quiet period.
    pub const DORMANT_DAYS: &str = "dormant-days";
    /// Decimal: `income-multiple` factor.
    pub const INCOME_MULTIPLE: &str = "income-multiple";
    /// Money: `income-multiple` least inflow.
    pub const INCOME_MIN_INFLOW: &str = "income-min-inflow";
    /// Integer days: `income-multiple` (and `new-account`) window.
    pub const INCOME_WINDOW_DAYS: &str = "income-window-days";
    /// Integer: `shared-device` threshold.
    pub const SHARED_DEVICE_ACCOUNTS: &str = "shared-device-accounts";
    /// Integer: `many-cards` threshold.
    pub const CARDS_PER_HOLDER: &str = "cards-per-holder";
    /// Integer days: the window of `shared-device` and `many-cards`.
    pub const LINK_WINDOW_DAYS: &str = "link-window-days";
    /// Integer: an account that paid this many distinct accounts in the
    /// window or in `two-sided-days` is two-sided and left to
    /// `kz-exchanger` (0: never).
    pub const TWO_SIDED_PAYEES: &str = "two-sided-payees";
    /// Integer days: the window of the two-sided check.
    pub const TWO_SIDED_DAYS: &str = "two-sided-days";
    /// Integer: an account paid by this many distinct accounts in the
    /// `usual-days` before the window has that volume as its usual one, and
    /// `many-senders` and `many-transactions` do not hold (0: never).
    pub const USUAL_PAYERS: &str = "usual-payers";
    /// Integer days: the period before the window whose payers are counted
    /// for `usual-payers`.
    pub const USUAL_DAYS: &str = "usual-days";
    /// Integer days: the earliest payment of that period is at least this
    /// long before the window.
    pub const USUAL_SINCE_DAYS: &str = "usual-since-days";
}

/// The largest `usual-payers` accepted.
const USUAL_PAYERS_MAX: u32 = 1_000_000;
/// The largest `usual-days` accepted.
const USUAL_DAYS_MAX: u32 = 365;

/// The indicators, in the order they are checked and listed in evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Indicator {
    /// Opened shortly before its first money in.
    NewAccount,
    /// Money from many distinct accounts.
    ManySenders,
    /// Many transactions.
    ManyTransactions,
    /// Out ≈ in.
    PassThrough,
    /// Money out within minutes of money in.
    QuickDwell,
    /// Many small payments in, one large cash-out or crypto purchase.
    FanInCashOut,
    /// Long quiet, suddenly active.
    Dormant,
    /// Inflow far above the declared income.
    IncomeMultiple,
    /// One device used for several accounts.
    SharedDevice,
    /// One IIN holding many accounts.
    ManyCards,
}

impl Indicator {
    /// Every indicator, in order.
    pub const ALL: [Indicator; 10] = [
        Indicator::NewAccount,
        Indicator::ManySenders,
        Indicator::ManyTransactions,
        Indicator::PassThrough,
        Indicator::QuickDwell,
        Indicator::FanInCashOut,
        Indicator::Dormant,
        Indicator::IncomeMultiple,
        Indicator::SharedDevice,
        Indicator::ManyCards,
    ];

    /// The indicator's name, as in evidence and parameter names.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Indicator::NewAccount => "new-account",
            Indicator::ManySenders => "many-senders",
            Indicator::ManyTransactions => "many-transactions",
            Indicator::PassThrough => "pass-through",
            Indicator::QuickDwell => "quick-dwell",
            Indicator::FanInCashOut => "fan-in-cash-out",
            Indicator::Dormant => "dormant",
            Indicator::IncomeMultiple => "income-multiple",
            Indicator::SharedDevice => "shared-device",
            Indicator::ManyCards => "many-cards",
        }
    }

    /// The name of its weight parameter, e.g. `new-account-weight`.
    #[must_use]
    pub fn weight_param(self) -> String {
        format!("{}-weight", self.name())
    }

    /// Its default weight.
    #[must_use]
    pub const fn default_weight(self) -> u8 {
        match self {
            Indicator::NewAccount
            | Indicator::ManySenders
            | Indicator::PassThrough
            | Indicator::SharedDevice
            | Indicator::ManyCards => 20,
            Indicator::ManyTransactions | Indicator::QuickDwell => 10,
            Indicator::Dormant | Indicator::IncomeMultiple => 15,
            Indicator::FanInCashOut => 25,
        }
    }

    /// What it means, for the regulator who weighs it.
    const fn description(self) -> &'static str {
        match self {
            Indicator::NewAccount => {
                "opened less than new-account-days before its first money in (bank's `opened` date)"
            }
            Indicator::ManySenders => {
                "money from at least many-senders distinct accounts in the window, unless \
                 usual for the account (usual-payers)"
            }
            Indicator::ManyTransactions => {
                "at least many-transactions transactions in the window, this one included, \
                 unless usual for the account (usual-payers)"
            }
            Indicator::PassThrough => {
                "out in the window (this one included) is pass-through-min to pass-through-max of \
                 in, with at least pass-through-min-inflow in"
            }
            Indicator::QuickDwell => {
                "this takes out at least dwell-share of the money (at least dwell-min-inflow) \
                 that came in during the last dwell-minutes, and at most pass-through-max of \
                 what came in during the window"
            }
            Indicator::FanInCashOut => {
                "a cash withdrawal or crypto purchase of at least cash-out-share of at least \
                 fan-in-payments payments of at most fan-in-small in the window"
            }
            Indicator::Dormant => {
                "first seen at least dormant-days ago, with everything in the last dormant-days \
                 inside the window"
            }
            Indicator::IncomeMultiple => {
                "money in over income-window-days at least income-multiple times the declared \
                 monthly income (and at least income-min-inflow)"
            }
            Indicator::SharedDevice => {
                "the device sent money for at least shared-device-accounts accounts in \
                 link-window-days"
            }
            Indicator::ManyCards => {
                "the sender's IIN held at least cards-per-holder accounts in link-window-days"
            }
        }
    }
}

/// Seconds in a day.
const DAY: i64 = 86_400;
/// Seconds in a day, for windows.
const DAY_SECS: u32 = 86_400;

/// The configured `kz-mule` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KzMule {
    weights: [u8; 10],
    window_secs: u32,
    min_indicators: u32,
    elevated_score: u32,
    high_score: u32,
    new_account_days: i64,
    many_senders: u32,
    many_transactions: u32,
    pass_through_min: Ratio,
    pass_through_max: Ratio,
    pass_through_min_inflow: Money,
    dwell_secs: u32,
    dwell_min_inflow: Money,
    dwell_share: Ratio,
    fan_in_payments: u32,
    fan_in_small: Money,
    cash_out_share: Ratio,
    dormant_secs: u32,
    income_multiple: Ratio,
    income_min_inflow: Money,
    income_window_secs: u32,
    shared_device_accounts: u32,
    cards_per_holder: u32,
    link_window_secs: u32,
    two_sided_payees: Option<u32>,
    two_sided_secs: u32,
    usual_payers: Option<u32>,
    usual_days: u32,
    usual_since_secs: u32,
    /// `window-hours` + `usual-days`, in seconds (at most `u32::MAX`).
    usual_window_secs: u32,
}

impl Rule for KzMule {
    fn metadata() -> Metadata {
        let mut metadata = Metadata::new(
            "kz-mule",
            env!("CARGO_PKG_VERSION"),
            "Money-mule scoring: weighted indicators from the sending account's history \
             (new account, many senders, pass-through, quick dwell, fan-in then cash-out, \
             dormancy, inflow above income, shared device, many cards per IIN); flags only \
             when two or more hold.",
        )
        .param(ParamSpec::integer(
            params::WINDOW_HOURS,
            24,
            "The activity window, in hours before the transaction, of many-senders, \
             many-transactions, pass-through, fan-in-cash-out, quick-dwell's cap and the \
             two-sided check.",
        ))
        .param(ParamSpec::integer(
            params::MIN_INDICATORS,
            2,
            "How many indicators must hold at once before any finding (at least 1).",
        ))
        .param(ParamSpec::integer(
            params::ELEVATED_SCORE,
            50,
            "MULE_SCORE_ELEVATED (review) from this summed weight (1-100).",
        ))
        .param(ParamSpec::integer(
            params::HIGH_SCORE,
            75,
            "MULE_SCORE_HIGH (hold) from this summed weight (1-100, not below elevated-score).",
        ))
        .param(ParamSpec::integer(
            params::NEW_ACCOUNT_DAYS,
            30,
            "new-account: the account was opened less than this many days before its first \
             money in.",
        ))
        .param(ParamSpec::integer(
            params::MANY_SENDERS,
            10,
            "many-senders: distinct accounts that sent money in the window.",
        ))
        .param(ParamSpec::integer(
            params::MANY_TRANSACTIONS,
            30,
            "many-transactions: transactions in the window, this one included.",
        ))
        .param(ParamSpec::decimal(
            params::PASS_THROUGH_MIN,
            "0.9",
            "pass-through: money out / money in is at least this.",
        ))
        .param(ParamSpec::decimal(
            params::PASS_THROUGH_MAX,
            "1.1",
            "pass-through: money out / money in is at most this.",
        ))
        .param(ParamSpec::money(
            params::PASS_THROUGH_MIN_INFLOW,
            "100000.00",
            "pass-through: at least this much (KZT) came in during the window.",
        ))
        .param(ParamSpec::integer(
            params::DWELL_MINUTES,
            60,
            "quick-dwell: the window, in minutes, in which money came in before going out.",
        ))
        .param(ParamSpec::money(
            params::DWELL_MIN_INFLOW,
            "50000.00",
            "quick-dwell: at least this much (KZT) came in during dwell-minutes.",
        ))
        .param(ParamSpec::decimal(
            params::DWELL_SHARE,
            "0.5",
            "quick-dwell: this transaction takes out at least this share of it.",
        ))
        .param(ParamSpec::integer(
            params::FAN_IN_PAYMENTS,
            5,
            "fan-in-cash-out: at least this many small payments came in during the window.",
        ))
        .param(ParamSpec::money(
            params::FAN_IN_SMALL,
            "100000.00",
            "fan-in-cash-out: a payment of at most this much (KZT) is small.",
        ))
        .param(ParamSpec::decimal(
            params::CASH_OUT_SHARE,
            "0.8",
            "fan-in-cash-out: the cash-out is at least this share of the small payments' sum.",
        ))
        .param(ParamSpec::integer(
            params::DORMANT_DAYS,
            60,
            "dormant: quiet for this many days (history retention must cover them).",
        ))
        .param(ParamSpec::decimal(
            params::INCOME_MULTIPLE,
            "3",
            "income-multiple: money in over income-window-days is at least this many times \
             the declared monthly income.",
        ))
        .param(ParamSpec::money(
            params::INCOME_MIN_INFLOW,
            "300000.00",
            "income-multiple: and at least this much (KZT).",
        ))
        .param(ParamSpec::integer(
            params::INCOME_WINDOW_DAYS,
            30,
            "income-multiple and new-account: the window of money in, in days.",
        ))
        .param(ParamSpec::integer(
            params::SHARED_DEVICE_ACCOUNTS,
            3,
            "shared-device: distinct accounts that sent money from the device.",
        ))
        .param(ParamSpec::integer(
            params::CARDS_PER_HOLDER,
            5,
            "many-cards: distinct accounts held under the sender's IIN.",
        ))
        .param(ParamSpec::integer(
            params::LINK_WINDOW_DAYS,
            30,
            "shared-device and many-cards: the window, in days.",
        ))
        .param(ParamSpec::integer(
            params::TWO_SIDED_PAYEES,
            5,
            "An account that paid at least this many distinct accounts in the window or in \
             two-sided-days \
             moves money two ways, like a P2P exchanger's card, and is left to \
             kz-exchanger: no mule score (0 scores every account).",
        ))
        .param(ParamSpec::integer(
            params::TWO_SIDED_DAYS,
            7,
            "The window, in days, of two-sided-payees.",
        ))
        .param(
            ParamSpec::integer(
                params::USUAL_PAYERS,
                60,
                "many-senders and many-transactions do not hold when the account received \
                 money from at least this many distinct accounts in the usual-days before the \
                 window (not counting those that paid in the window too), the earliest at \
                 least usual-since-days before it: that volume is usual for it, like a busy \
                 shop's (0 switches this off).",
            )
            .at_least(0)
            .at_most(USUAL_PAYERS_MAX),
        )
        .param(
            ParamSpec::integer(
                params::USUAL_DAYS,
                28,
                "usual-payers: the period, in days, before the window whose payers are \
                 counted (history retention must cover it and the window).",
            )
            .at_least(1)
            .at_most(USUAL_DAYS_MAX),
        )
        .param(
            ParamSpec::integer(
                params::USUAL_SINCE_DAYS,
                14,
                "usual-payers: the earliest of those payments is at least this many days \
                 before the window (below usual-days).",
            )
            .at_least(0)
            .at_most(USUAL_DAYS_MAX - 1),
        );
        for indicator in Indicator::ALL {
            metadata = metadata.param(ParamSpec::integer(
                indicator.weight_param(),
                i64::from(indicator.default_weight()),
                format!(
                    "Weight (0-100) of {}: {}. 0 switches it off.",
                    indicator.name(),
                    indicator.description()
                ),
            ));
        }
        metadata
            .code(CodeSpec::new(
                codes::MULE_SCORE_ELEVATED,
                Action::Review,
                "Two or more money-mule indicators hold for the sending account, with a \
                 summed weight of elevated-score or more; evidence names each indicator \
                 and its measured value.",
            ))
            .code(CodeSpec::new(
                codes::MULE_SCORE_HIGH,
                Action::Hold,
                "Two or more money-mule indicators hold for the sending account, with a \
                 summed weight of high-score or more; evidence names each indicator and its \
                 measured value.",
            ))
    }

    fn configure(params: &Params) -> Result<Self, ConfigError> {
        let mut weights = [0u8; 10];
        for (slot, indicator) in weights.iter_mut().zip(Indicator::ALL) {
            *slot = params.score(&indicator.weight_param())?;
        }
        let elevated_score = level(params, params::ELEVATED_SCORE)?;
        let high_score = level(params, params::HIGH_SCORE)?;
        if high_score < elevated_score {
            return Err(ConfigError::invalid(
                params::HIGH_SCORE,
                high_score,
                format!("must not be below elevated-score ({elevated_score})"),
            ));
        }
        let pass_through_min = params.ratio(params::PASS_THROUGH_MIN)?;
        let pass_through_max = params.ratio(params::PASS_THROUGH_MAX)?;
        if pass_through_max.cmp_value(pass_through_min).is_lt() {
            return Err(ConfigError::invalid(
                params::PASS_THROUGH_MAX,
                pass_through_max,
                format!("must not be below pass-through-min ({pass_through_min})"),
            ));
        }
        let window_secs = hours(params, params::WINDOW_HOURS)?;
        let usual_days = bounded(params, params::USUAL_DAYS, 1, USUAL_DAYS_MAX)?;
        let usual_since_days = bounded(
            params,
            params::USUAL_SINCE_DAYS,
            0,
            USUAL_DAYS_MAX.saturating_sub(1),
        )?;
        if usual_since_days >= usual_days {
            return Err(ConfigError::invalid(
                params::USUAL_SINCE_DAYS,
                usual_since_days,
                format!("must be below usual-days ({usual_days})"),
            ));
        }
        // A window longer than the host's longest reaches as far back as
        // it keeps history anyway.
        let usual_window_secs = usual_days
            .saturating_mul(DAY_SECS)
            .saturating_add(window_secs);
        Ok(KzMule {
            weights,
            window_secs,
            min_indicators: count(params, params::MIN_INDICATORS)?,
            elevated_score,
            high_score,
            new_account_days: i64::from(days(params, params::NEW_ACCOUNT_DAYS)? / 86_400),
            many_senders: count(params, params::MANY_SENDERS)?,
            many_transactions: count(params, params::MANY_TRANSACTIONS)?,
            pass_through_min,
            pass_through_max,
            pass_through_min_inflow: positive(params, params::PASS_THROUGH_MIN_INFLOW)?,
            dwell_secs: minutes(params, params::DWELL_MINUTES)?,
            dwell_min_inflow: positive(params, params::DWELL_MIN_INFLOW)?,
            dwell_share: params.ratio(params::DWELL_SHARE)?,
            fan_in_payments: count(params, params::FAN_IN_PAYMENTS)?,
            fan_in_small: positive(params, params::FAN_IN_SMALL)?,
            cash_out_share: params.ratio(params::CASH_OUT_SHARE)?,
            dormant_secs: days(params, params::DORMANT_DAYS)?,
            income_multiple: params.ratio(params::INCOME_MULTIPLE)?,
            income_min_inflow: positive(params, params::INCOME_MIN_INFLOW)?,
            income_window_secs: days(params, params::INCOME_WINDOW_DAYS)?,
            shared_device_accounts: count(params, params::SHARED_DEVICE_ACCOUNTS)?,
            cards_per_holder: count(params, params::CARDS_PER_HOLDER)?,
            link_window_secs: days(params, params::LINK_WINDOW_DAYS)?,
            two_sided_payees: match params.integer(params::TWO_SIDED_PAYEES)? {
                0 => None,
                n => Some(u32::try_from(n).map_err(|_| {
                    ConfigError::invalid(
                        params::TWO_SIDED_PAYEES,
                        n,
                        format!("must be between 0 and {}", u32::MAX),
                    )
                })?),
            },
            two_sided_secs: days(params, params::TWO_SIDED_DAYS)?,
            usual_payers: match bounded(params, params::USUAL_PAYERS, 0, USUAL_PAYERS_MAX)? {
                0 => None,
                n => Some(n),
            },
            usual_days,
            usual_since_secs: usual_since_days.saturating_mul(DAY_SECS),
            usual_window_secs,
        })
    }

    fn evaluate<H: Host>(&self, tx: &Tx<'_>, host: &H, out: &mut Findings) {
        if !scored(tx) {
            return;
        }
        let signs = self.indicators(tx, host);
        if let Some(finding) = self.finding(&signs) {
            out.add(finding);
        }
    }
}

#[cfg(feature = "export")]
qorgan_sdk::export_rule!(KzMule);

/// Whether the transaction is one this rule scores: money leaving an
/// individual's account.
#[must_use]
pub fn scored(tx: &Tx<'_>) -> bool {
    let outbound = matches!(
        tx.kind(),
        TxKind::Transfer
            | TxKind::CashWithdrawal
            | TxKind::CryptoPurchase
            | TxKind::CardTopup
            | TxKind::Other
    );
    outbound && tx.sender().kind() == PartyKind::Individual
}

/// The indicators that hold, each with its evidence name and measured value.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Signs {
    held: Vec<(Indicator, &'static str, String)>,
    /// Distinct payees, when the account is two-sided and not scored.
    two_sided: Option<u32>,
    /// The payers of the usual volume, and the indicators it kept from
    /// holding.
    usual: Option<(u32, Vec<Indicator>)>,
}

impl Signs {
    fn hold(&mut self, indicator: Indicator, evidence: &'static str, value: impl ToString) {
        self.held.push((indicator, evidence, value.to_string()));
    }

    /// Distinct payees in the window, or in `two-sided-days` when the window
    /// alone has too few, when the account pays so many that it is
    /// two-sided (an exchanger's pattern) and gets no mule score.
    #[must_use]
    pub fn two_sided(&self) -> Option<u32> {
        self.two_sided
    }

    /// The distinct accounts that paid the account in the `usual-days`
    /// before the window, when that volume is its usual one and kept
    /// `many-senders` or `many-transactions` from holding.
    #[must_use]
    pub fn usual_payers(&self) -> Option<u32> {
        self.usual.as_ref().map(|(payers, _)| *payers)
    }

    /// The indicators that would have held but for the account's usual
    /// volume, in order (empty when none).
    #[must_use]
    pub fn not_counted(&self) -> Vec<Indicator> {
        self.usual
            .as_ref()
            .map(|(_, indicators)| indicators.clone())
            .unwrap_or_default()
    }

    /// The indicators that hold, in order.
    #[must_use]
    pub fn indicators(&self) -> Vec<Indicator> {
        self.held
            .iter()
            .map(|(indicator, _, _)| *indicator)
            .collect()
    }
}

impl KzMule {
    fn weight(&self, indicator: Indicator) -> u8 {
        Indicator::ALL
            .iter()
            .position(|i| *i == indicator)
            .and_then(|at| self.weights.get(at))
            .copied()
            .unwrap_or(0)
    }

    fn on(&self, indicator: Indicator) -> bool {
        self.weight(indicator) > 0
    }

    /// Measures every indicator that has a weight, asking the host only what
    /// it needs.
    pub fn indicators<H: Host>(&self, tx: &Tx<'_>, host: &H) -> Signs {
        let mut signs = Signs::default();
        let at = tx.at();
        let now = tx.time();
        let sender = tx.sender();
        let account = sender.account();
        let amount = tx.amount();
        // The outbound side first: a two-sided account is not scored, and
        // nothing more is asked about it. many-transactions and
        // pass-through need it too.
        let outbound = if self.on(Indicator::ManyTransactions)
            || self.on(Indicator::PassThrough)
            || self.two_sided_payees.is_some()
        {
            host.aggregate(
                at,
                &Query::new(account, Direction::Outbound, self.window_secs),
            )
        } else {
            Totals::default()
        };
        if let Some(limit) = self.two_sided_payees {
            let payees =
                if outbound.counterparties >= limit || self.two_sided_secs <= self.window_secs {
                    outbound.counterparties
                } else {
                    host.aggregate(
                        at,
                        &Query::new(account, Direction::Outbound, self.two_sided_secs),
                    )
                    .counterparties
                };
            if payees >= limit {
                return Signs {
                    two_sided: Some(payees),
                    ..Signs::default()
                };
            }
        }
        let dwell_covered = self.dwell_secs <= self.window_secs;
        let needs_inbound = self.on(Indicator::ManySenders)
            || self.on(Indicator::ManyTransactions)
            || self.on(Indicator::PassThrough)
            || self.on(Indicator::QuickDwell);
        let inbound = if needs_inbound {
            host.aggregate(
                at,
                &Query::new(account, Direction::Inbound, self.window_secs),
            )
        } else {
            Totals::default()
        };
        let long_in = if self.on(Indicator::NewAccount) || self.on(Indicator::IncomeMultiple) {
            host.aggregate(
                at,
                &Query::new(account, Direction::Inbound, self.income_window_secs),
            )
        } else {
            Totals::default()
        };

        // new-account
        if self.on(Indicator::NewAccount)
            && let (Some(opened), Some(first_in)) = (sender.opened(), long_in.first)
        {
            let age_days = first_in.saturating_sub(opened).div_euclid(DAY);
            if age_days < self.new_account_days {
                signs.hold(Indicator::NewAccount, "account-age-days", age_days.max(0));
            }
        }
        // many-senders and many-transactions, unless the volume is the
        // account's usual one.
        let transactions = inbound
            .count
            .saturating_add(outbound.count)
            .saturating_add(1);
        let mut volume = Vec::new();
        if self.on(Indicator::ManySenders) && inbound.counterparties >= self.many_senders {
            volume.push((Indicator::ManySenders, "senders", inbound.counterparties));
        }
        if self.on(Indicator::ManyTransactions) && transactions >= self.many_transactions {
            volume.push((Indicator::ManyTransactions, "transactions", transactions));
        }
        let usual = if volume.is_empty() {
            None
        } else {
            self.usual_payers(at, account, now, &inbound, host)
        };
        match usual {
            Some(payers) => {
                signs.usual = Some((payers, volume.iter().map(|(i, _, _)| *i).collect()));
            }
            None => {
                for (indicator, evidence, value) in volume {
                    signs.hold(indicator, evidence, value);
                }
            }
        }
        if self.on(Indicator::PassThrough) && inbound.sum >= self.pass_through_min_inflow {
            let money_in = i128::from(inbound.sum.tiyn());
            let money_out = i128::from(outbound.sum.saturating_add(amount).tiyn());
            if self.pass_through_min.reached_by(money_out, money_in)
                && self.pass_through_max.admits(money_out, money_in)
            {
                signs.hold(
                    Indicator::PassThrough,
                    "pass-through-ratio",
                    Ratio::text(money_out, money_in),
                );
            }
        }
        // quick-dwell: the activity window's answer tells whether anything
        // came in recently, unless the dwell window is the longer one.
        let maybe_recent = !dwell_covered
            || inbound
                .last
                .is_some_and(|last| now.saturating_sub(last) < i64::from(self.dwell_secs));
        if self.on(Indicator::QuickDwell) && maybe_recent {
            let recent = host.aggregate(
                at,
                &Query::new(account, Direction::Inbound, self.dwell_secs),
            );
            if let Some(last_in) = recent.last
                && recent.sum >= self.dwell_min_inflow
                && self
                    .dwell_share
                    .reached_by(i128::from(amount.tiyn()), i128::from(recent.sum.tiyn()))
                && self.pass_through_max.admits(
                    i128::from(amount.tiyn()),
                    i128::from(inbound.sum.max(recent.sum).tiyn()),
                )
            {
                let minutes = now.saturating_sub(last_in).max(0) / 60;
                signs.hold(Indicator::QuickDwell, "dwell-minutes", minutes);
            }
        }
        // fan-in-cash-out
        if self.on(Indicator::FanInCashOut)
            && matches!(tx.kind(), TxKind::CashWithdrawal | TxKind::CryptoPurchase)
        {
            let small = host.aggregate(
                at,
                &Query::new(account, Direction::Inbound, self.window_secs)
                    .at_most(self.fan_in_small),
            );
            if small.count >= self.fan_in_payments
                && self
                    .cash_out_share
                    .reached_by(i128::from(amount.tiyn()), i128::from(small.sum.tiyn()))
            {
                signs.hold(Indicator::FanInCashOut, "fan-in-payments", small.count);
            }
        }
        // dormant
        if self.on(Indicator::Dormant)
            && let Some(first_seen) = host.first_seen(at, account)
            && now.saturating_sub(first_seen) >= i64::from(self.dormant_secs)
        {
            let quiet =
                host.aggregate(at, &Query::new(account, Direction::Both, self.dormant_secs));
            let recent_start = now.saturating_sub(i64::from(self.window_secs));
            let quiet_until = quiet.first.unwrap_or(now);
            if quiet_until > recent_start {
                let days_ago = now.saturating_sub(first_seen) / DAY;
                signs.hold(Indicator::Dormant, "first-seen-days-ago", days_ago);
            }
        }
        // income-multiple
        if self.on(Indicator::IncomeMultiple)
            && let Some(income) = sender.income()
            && long_in.sum >= self.income_min_inflow
        {
            let money_in = i128::from(long_in.sum.tiyn());
            let income = i128::from(income.tiyn());
            // money in >= multiple × income; any such inflow is, when the
            // declared income is 0.
            if income == 0 || self.income_multiple.reached_by(money_in, income) {
                let multiple = if income == 0 {
                    "no income declared".to_owned()
                } else {
                    Ratio::text(money_in, income)
                };
                signs.hold(Indicator::IncomeMultiple, "income-multiple", multiple);
            }
        }
        // shared-device
        if self.on(Indicator::SharedDevice)
            && let Some(device) = tx.device()
        {
            let accounts = host.accounts_on_device(at, device, self.link_window_secs);
            if accounts >= self.shared_device_accounts {
                signs.hold(Indicator::SharedDevice, "device-accounts", accounts);
            }
        }
        // many-cards
        if self.on(Indicator::ManyCards)
            && let Some(holder) = sender.holder()
        {
            let accounts = host.accounts_of_holder(at, holder, self.link_window_secs);
            if accounts >= self.cards_per_holder {
                signs.hold(Indicator::ManyCards, "holder-accounts", accounts);
            }
        }
        signs
    }

    /// The distinct accounts that paid `account` in the `usual-days` before
    /// the window, when they make its usual volume: at least `usual-payers`
    /// of them, the earliest payment at least `usual-since-days` before the
    /// window. Counted as the payers of `usual-days` + the window less
    /// those of the window (`in_window`), since every window ends at the
    /// transaction; `None` when the volume is not usual or the check is off.
    fn usual_payers<H: Host>(
        &self,
        at: Cursor,
        account: Account,
        now: Timestamp,
        in_window: &Totals,
        host: &H,
    ) -> Option<u32> {
        let least = self.usual_payers?;
        let before = host.aggregate(
            at,
            &Query::new(account, Direction::Inbound, self.usual_window_secs),
        );
        let payers = before
            .counterparties
            .saturating_sub(in_window.counterparties);
        let window_start = now.saturating_sub(i64::from(self.window_secs));
        let earliest = before.first?;
        (payers >= least
            && window_start.saturating_sub(earliest) >= i64::from(self.usual_since_secs))
        .then_some(payers)
    }

    /// The rule with every parameter at its default, for other rules that
    /// use the score as a library.
    pub fn with_defaults() -> Result<KzMule, ConfigError> {
        let metadata = Self::metadata();
        let params = Params::from_pairs(
            metadata
                .params()
                .iter()
                .map(|spec| (spec.name(), spec.default_value())),
        );
        Self::configure(&params)
    }

    /// The mule score of `signs`: the summed weights, capped at 100, when at
    /// least `min-indicators` hold; `None` otherwise.
    #[must_use]
    pub fn score(&self, signs: &Signs) -> Option<u32> {
        if signs.two_sided.is_some() {
            return None;
        }
        let held = u32::try_from(signs.held.len()).unwrap_or(u32::MAX);
        if held < self.min_indicators {
            return None;
        }
        Some(
            signs
                .held
                .iter()
                .map(|(indicator, _, _)| u32::from(self.weight(*indicator)))
                .sum::<u32>()
                .min(100),
        )
    }

    /// The finding for `signs`, if the gate and a level are reached.
    pub fn finding(&self, signs: &Signs) -> Option<Finding> {
        let held = signs.held.len();
        let score = self.score(signs)?;
        let (code, action) = if score >= self.high_score {
            (codes::MULE_SCORE_HIGH, Action::Hold)
        } else if score >= self.elevated_score {
            (codes::MULE_SCORE_ELEVATED, Action::Review)
        } else {
            return None;
        };
        let names: Vec<&str> = signs.held.iter().map(|(i, _, _)| i.name()).collect();
        let names = names.join(", ");
        let usual = signs.usual.as_ref().map(|(payers, indicators)| {
            let left_out: Vec<&str> = indicators.iter().map(|i| i.name()).collect();
            (*payers, left_out.join(", "))
        });
        let because = match &usual {
            Some((payers, left_out)) => format!(
                "; {left_out} not counted: {payers} payers in the {} days before are the \
                 account's usual volume",
                self.usual_days
            ),
            None => String::new(),
        };
        let mut finding = Finding::new(code, action)
            .score(u8::try_from(score).unwrap_or(100))
            .message(format!(
                "mule score {score} from {held} indicators ({names}): the sending account \
                 moves money like a money mule's{because}"
            ))
            .evidence("side", "sender")
            .evidence("score", score)
            .evidence("indicators", &names);
        for (_, name, value) in &signs.held {
            finding = finding.evidence(*name, value);
        }
        if let Some((payers, left_out)) = usual {
            finding = finding
                .evidence("usual-payers", payers)
                .evidence("not-counted", left_out);
        }
        Some(finding)
    }
}

/// An integer parameter that counts: at least 1.
fn count(params: &Params, name: &str) -> Result<u32, ConfigError> {
    let value = params.integer(name)?;
    u32::try_from(value)
        .ok()
        .filter(|count| *count >= 1)
        .ok_or_else(|| ConfigError::invalid(name, value, "must be a whole number of at least 1"))
}

/// An integer parameter between `min` and `max`, the bounds it declares.
fn bounded(params: &Params, name: &str, min: u32, max: u32) -> Result<u32, ConfigError> {
    let value = params.integer(name)?;
    u32::try_from(value)
        .ok()
        .filter(|value| (min..=max).contains(value))
        .ok_or_else(|| {
            ConfigError::invalid(name, value, format!("must be between {min} and {max}"))
        })
}

/// A score level: 1 to 100.
fn level(params: &Params, name: &str) -> Result<u32, ConfigError> {
    let value = params.integer(name)?;
    u32::try_from(value)
        .ok()
        .filter(|level| (1..=100).contains(level))
        .ok_or_else(|| ConfigError::invalid(name, value, "must be between 1 and 100"))
}

/// A money parameter that must be above zero.
fn positive(params: &Params, name: &str) -> Result<Money, ConfigError> {
    let value = params.money(name)?;
    if value.is_negative() || value.is_zero() {
        return Err(ConfigError::invalid(name, value, "must be above 0.00"));
    }
    Ok(value)
}

/// A window parameter in `unit` seconds, as seconds: at least one unit and
/// no more than a `u32` of seconds holds.
fn window(params: &Params, name: &str, unit: i64) -> Result<u32, ConfigError> {
    let value = params.integer(name)?;
    let max = i64::from(u32::MAX) / unit;
    if !(1..=max).contains(&value) {
        return Err(ConfigError::invalid(
            name,
            value,
            format!("must be between 1 and {max}"),
        ));
    }
    u32::try_from(value * unit).map_err(|_| ConfigError::invalid(name, value, "is too large"))
}

fn hours(params: &Params, name: &str) -> Result<u32, ConfigError> {
    window(params, name, 3600)
}

fn minutes(params: &Params, name: &str) -> Result<u32, ConfigError> {
    window(params, name, 60)
}

fn days(params: &Params, name: &str) -> Result<u32, ConfigError> {
    window(params, name, DAY)
}

#[cfg(test)]
mod tests;
