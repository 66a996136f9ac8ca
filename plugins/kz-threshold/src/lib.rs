//! # kz-threshold
//!
//! The AFM/NBK threshold rules of the reference pack `kz-afm`:
//!
//! | Code | When | Action | Default score |
//! |---|---|---|---|
//! | `TOPUP_SENDER_IIN_REQUIRED` | a card top-up strictly above `topup-threshold` (500000.00 KZT) whose sender IIN is not verified | `verify`, requires `sender-iin` (and, with `topup-confirmation`, `app-confirmation` or `sms-confirmation`) | 35 |
//! | `IIN_INVALID` | the sender's or recipient's IIN/BIN is present but malformed or fails the checksum | `review` | 40 |
//! | `CASH_BIOMETRIC_REQUIRED` | a cash withdrawal or deposit of at least `cash-biometric-min` (0.00 KZT) without biometric verification | `verify`, requires `biometric` | 10 |
//! | `STRUCTURING_NEAR_THRESHOLD` | the sender made at least `structuring-min-count` (3) top-ups, transfers or cash transactions within `structuring-band` (10%) below `topup-threshold` in `structuring-window-hours` (24), this one included, and they are at least `structuring-min-share` (0.5) of all its top-ups, transfers and cash transactions in the window | `review` | 30 |
//! | `CASH_DAILY_CAP_EXCEEDED` | a cash withdrawal from an account on the pack list `cash-cap-accounts`, or with a money-mule score of at least `cash-cap-mule-score` (75), takes the account's cash-out in `cash-cap-window-hours` (24) above `cash-cap` (312000.00 KZT = 600 USD) | `hold` | 50 |
//!
//! Every threshold and score is a pack parameter (see [`KzThreshold::metadata`]
//! for names, defaults and meanings).
//!
//! ## Behaviour decisions
//!
//! **Structuring.** The rule (docs/domain.md) is "splitting amounts just under a
//! threshold"; the threshold is `topup-threshold`, the amount above which a
//! card top-up needs the sender's IIN. The amounts counted are the sender
//! account's outbound card top-ups, transfers, cash withdrawals and cash
//! deposits: the ways money is moved in portions to stay under an
//! identification or reporting threshold. Senders that are businesses are
//! not looked at: a payroll account paying many salaries of 450000.00 to
//! 500000.00 on one day is paying many people, not splitting one payment. Card payments (shop prices) and
//! crypto purchases and sales (judged by `kz-exchanger`) are not counted, and
//! a transaction of those kinds is not looked at. The band is
//! `[topup-threshold × (1 − structuring-band), topup-threshold]`, both ends
//! included: the top of the band is the largest amount that does not need the
//! IIN. Its lower end is computed exactly in tiyn when the rule is configured
//! (the band is read as a decimal ratio, never as a float) and rounded up to
//! the next tiyn, so an amount is in the band exactly when it is at least
//! `threshold × (1 − band)`; with the defaults the band is 450000.00 to
//! 500000.00 KZT. The host's history holds only the transactions before this
//! one, so the count is the history count plus one when this transaction is
//! itself in the band. The finding is raised on every transaction of the
//! counted kinds while the count reaches `structuring-min-count`, including
//! one outside the band that follows the split (a 600000.00 top-up after
//! three of 490000.00 is still part of the pattern).
//!
//! The amounts in the band must also be at least `structuring-min-share`
//! (0.5) of all the sender's outbound transactions of the counted kinds in
//! the window, this one included, whatever their amounts. A structurer
//! splits one sum into pieces under the threshold, so those pieces are what
//! its outflows are made of; a shadow crypto exchanger's card makes dozens of
//! transfers of every size a day, and three of them land in the band by
//! chance (in a labelled backtest the band amounts were 75% to 100% of a
//! structurer's outflows and 6% to 15% of an exchanger's). The share is
//! compared exactly (`count × 10^scale ≥ share × all`, no floats); reaching
//! it exactly is enough. The trade-off: a structurer who hides its band
//! amounts among as many other payments in the same window is not caught by
//! this code; busy accounts are judged by `kz-exchanger` and `kz-mule`. The
//! second count is asked of the host only when the band count already
//! reaches `structuring-min-count`; `structuring-min-share = 0` switches
//! the condition off and the count is not asked. Evidence: `count`,
//! `window-hours`, `band-from`, `band-to` and, unless the share is
//! switched off, `share` (the band count over all, four decimals) and
//! `transactions` (all of them, this one included).
//!
//! **Daily cash cap.** docs/domain.md: "accounts that look suspicious get a daily
//! cash-withdrawal cap" of $600 a day. An account looks suspicious when the
//! bank or the regulator put it on the pack list `cash-cap-accounts`, or
//! when its money-mule score reaches `cash-cap-mule-score` (75, kz-mule's
//! `high-score`; 0 switches this half off). The score is kz-mule's model,
//! linked into this rule as a library and run with kz-mule's default
//! parameters (a pack that retunes kz-mule's indicators retunes only
//! kz-mule's findings); it is computed only for a withdrawal that would take
//! an unlisted account over the cap. The cap is in tenge: 600 USD at the pack's rate of 520
//! KZT per USD is 312000.00 KZT (a pack changing its rate changes `cash-cap`
//! too). Only cash withdrawals are looked at; the cash-out before this one is
//! the sum of the account's outbound cash withdrawals in the
//! `cash-cap-window-hours` before it. The finding is raised when that sum plus
//! this withdrawal is strictly above the cap: reaching the cap exactly is
//! allowed. Evidence: `cash-out-before`, `this`, `total`, `cap`, `reason`
//! (`list` or `mule-score`) and, for the latter, `mule-score`.

use kz_mule::KzMule;
use qorgan_sdk::{
    Action, Channel, Checks, CodeSpec, ConfigError, Finding, Findings, Host, Metadata, Money,
    ParamSpec, Params, Party, PartyKind, Ratio, Rule, Tx, TxKind, iin,
};
use qorgan_sdk::{Direction, Kinds, Query};

/// The finding codes this rule declares.
pub mod codes {
    /// A large card top-up without a verified sender IIN.
    pub const TOPUP_SENDER_IIN_REQUIRED: &str = "TOPUP_SENDER_IIN_REQUIRED";
    /// A malformed IIN/BIN, or one failing the checksum.
    pub const IIN_INVALID: &str = "IIN_INVALID";
    /// A cash transaction without biometric verification.
    pub const CASH_BIOMETRIC_REQUIRED: &str = "CASH_BIOMETRIC_REQUIRED";
    /// Several amounts just under the top-up threshold in a short time.
    pub const STRUCTURING_NEAR_THRESHOLD: &str = "STRUCTURING_NEAR_THRESHOLD";
    /// A cash withdrawal above the daily cap of a suspicious account.
    pub const CASH_DAILY_CAP_EXCEEDED: &str = "CASH_DAILY_CAP_EXCEEDED";
}

/// The parameter names this rule declares.
pub mod params {
    /// Money: card top-ups strictly above it need the sender's IIN.
    pub const TOPUP_THRESHOLD: &str = "topup-threshold";
    /// Integer 0–100: score of `TOPUP_SENDER_IIN_REQUIRED`.
    pub const TOPUP_SCORE: &str = "topup-score";
    /// Boolean: large top-ups also need an app or SMS confirmation.
    pub const TOPUP_CONFIRMATION: &str = "topup-confirmation";
    /// Integer 0–100: score of `IIN_INVALID`.
    pub const IIN_INVALID_SCORE: &str = "iin-invalid-score";
    /// Money: cash transactions of at least this amount need biometrics.
    pub const CASH_BIOMETRIC_MIN: &str = "cash-biometric-min";
    /// Integer 0–100: score of `CASH_BIOMETRIC_REQUIRED`.
    pub const CASH_BIOMETRIC_SCORE: &str = "cash-biometric-score";
    /// Integer: the structuring window, in hours.
    pub const STRUCTURING_WINDOW_HOURS: &str = "structuring-window-hours";
    /// Integer: the fewest amounts in the band that make structuring.
    pub const STRUCTURING_MIN_COUNT: &str = "structuring-min-count";
    /// Decimal 0–1: the band's width below `topup-threshold`, as a ratio.
    pub const STRUCTURING_BAND: &str = "structuring-band";
    /// Decimal 0–1: the least share of the sender's outbound top-ups,
    /// transfers and cash transactions in the window that the amounts in
    /// the band must be (0: not asked).
    pub const STRUCTURING_MIN_SHARE: &str = "structuring-min-share";
    /// Integer 0–100: score of `STRUCTURING_NEAR_THRESHOLD`.
    pub const STRUCTURING_SCORE: &str = "structuring-score";
    /// Money: the most cash a listed account may withdraw in the window.
    pub const CASH_CAP: &str = "cash-cap";
    /// Integer: the cash-cap window, in hours.
    pub const CASH_CAP_WINDOW_HOURS: &str = "cash-cap-window-hours";
    /// Integer 0–100: score of `CASH_DAILY_CAP_EXCEEDED`.
    pub const CASH_CAP_SCORE: &str = "cash-cap-score";
    /// Integer 0–100: a mule score that puts an account under the cash cap
    /// (0: only the list does).
    pub const CASH_CAP_MULE_SCORE: &str = "cash-cap-mule-score";
}

/// The reference lists of the pack this rule reads.
pub mod lists {
    /// Accounts that look suspicious and get a daily cash-withdrawal cap.
    pub const CASH_CAP_ACCOUNTS: &str = "cash-cap-accounts";
}

/// The kinds of transaction counted for structuring: ways of moving money
/// in portions under an identification or reporting threshold.
pub const STRUCTURING_KINDS: Kinds = Kinds::CARD_TOPUP
    .union(Kinds::TRANSFER)
    .union(Kinds::CASH_WITHDRAWAL)
    .union(Kinds::CASH_DEPOSIT);

/// The longest window the host can be asked about, in hours (a window is a
/// `u32` of seconds).
const MAX_WINDOW_HOURS: i64 = (u32::MAX / 3600) as i64;

/// The most fraction digits `structuring-band` may have.
const MAX_BAND_SCALE: u32 = 18;

/// The configured `kz-threshold` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KzThreshold {
    topup_threshold: Money,
    topup_score: u8,
    topup_confirmation: bool,
    iin_invalid_score: u8,
    cash_biometric_min: Money,
    cash_biometric_score: u8,
    structuring_window_hours: u32,
    structuring_min_count: u32,
    /// The band's lower end in tiyn, from `topup-threshold` and the band.
    structuring_from: Money,
    /// The least share of the sender's counted transactions that the
    /// amounts in the band must be; `None` when `structuring-min-share` is 0.
    structuring_min_share: Option<Ratio>,
    structuring_score: u8,
    cash_cap: Money,
    cash_cap_window_hours: u32,
    cash_cap_score: u8,
    /// The mule model and the score from which it caps an account.
    cash_cap_mule: Option<(KzMule, u32)>,
}

impl Rule for KzThreshold {
    fn metadata() -> Metadata {
        Metadata::new(
            "kz-threshold",
            env!("CARGO_PKG_VERSION"),
            "AFM/NBK threshold rules: the sender's IIN on large card top-ups (optionally \
             with an app or SMS confirmation), IIN/BIN checksums, biometric \
             verification for cash, amounts split just under the top-up threshold \
             (structuring), and a daily cash-withdrawal cap for suspicious accounts.",
        )
        .param(ParamSpec::money(
            params::TOPUP_THRESHOLD,
            "500000.00",
            "Card top-ups strictly above this amount (KZT) need the sender's IIN verified \
             (AFM/NBK rule).",
        ))
        .param(ParamSpec::integer(
            params::TOPUP_SCORE,
            35,
            "Risk score (0-100) of TOPUP_SENDER_IIN_REQUIRED.",
        ))
        .param(ParamSpec::boolean(
            params::TOPUP_CONFIRMATION,
            false,
            "When true, a card top-up flagged by TOPUP_SENDER_IIN_REQUIRED also needs a \
             confirmation: in the mobile app if it came through the mobile app, by SMS \
             otherwise, unless either confirmation is already done.",
        ))
        .param(ParamSpec::integer(
            params::IIN_INVALID_SCORE,
            40,
            "Risk score (0-100) of IIN_INVALID.",
        ))
        .param(ParamSpec::money(
            params::CASH_BIOMETRIC_MIN,
            "0.00",
            "Cash withdrawals and deposits of at least this amount (KZT) need biometric \
             verification; 0.00 means all of them.",
        ))
        .param(ParamSpec::integer(
            params::CASH_BIOMETRIC_SCORE,
            10,
            "Risk score (0-100) of CASH_BIOMETRIC_REQUIRED.",
        ))
        .param(ParamSpec::integer(
            params::STRUCTURING_WINDOW_HOURS,
            24,
            "STRUCTURING_NEAR_THRESHOLD: the window, in hours before the transaction, in \
             which the sender's amounts in the band are counted.",
        ))
        .param(ParamSpec::integer(
            params::STRUCTURING_MIN_COUNT,
            3,
            "STRUCTURING_NEAR_THRESHOLD: the sender's card top-ups, transfers and cash \
             transactions in the band within the window, this one included, that make \
             structuring (at least 2).",
        ))
        .param(ParamSpec::decimal(
            params::STRUCTURING_BAND,
            "0.1",
            "STRUCTURING_NEAR_THRESHOLD: how far below topup-threshold an amount counts \
             as just under it, as a ratio from 0 to 1 (0.1 = the band from 90% of the \
             threshold up to the threshold, both included: 450000.00 to 500000.00 KZT by \
             default). Read exactly, at most 18 fraction digits.",
        ))
        .param(
            ParamSpec::decimal(
                params::STRUCTURING_MIN_SHARE,
                "0.5",
                "STRUCTURING_NEAR_THRESHOLD: the amounts in the band must be at least this \
                 share of all the sender's outbound card top-ups, transfers and cash \
                 transactions in the window, this one included, whatever their amounts. A \
                 structurer's outflows are its split pieces; an exchanger's card makes \
                 dozens of transfers of every size a day and some land in the band by \
                 chance. 0 switches this condition off.",
            )
            .at_least("0")
            .at_most("1"),
        )
        .param(ParamSpec::integer(
            params::STRUCTURING_SCORE,
            30,
            "Risk score (0-100) of STRUCTURING_NEAR_THRESHOLD.",
        ))
        .param(ParamSpec::money(
            params::CASH_CAP,
            "312000.00",
            "CASH_DAILY_CAP_EXCEEDED: the most cash (KZT) an account on the list \
             cash-cap-accounts may withdraw in the window; one tiyn more is held. The \
             default is the $600 a day of the rule at the pack's rate of 520.00 KZT per \
             USD (600 x 520 = 312000.00); change it with the rate.",
        ))
        .param(ParamSpec::integer(
            params::CASH_CAP_WINDOW_HOURS,
            24,
            "CASH_DAILY_CAP_EXCEEDED: the window, in hours before the withdrawal, whose \
             cash withdrawals count towards the cap (24 = a day).",
        ))
        .param(ParamSpec::integer(
            params::CASH_CAP_SCORE,
            50,
            "Risk score (0-100) of CASH_DAILY_CAP_EXCEEDED.",
        ))
        .param(ParamSpec::integer(
            params::CASH_CAP_MULE_SCORE,
            75,
            "CASH_DAILY_CAP_EXCEEDED: an account whose money-mule score (kz-mule's model              with its default parameters) is at least this is capped like one on              cash-cap-accounts; 0 leaves only the list.",
        ))
        .code(CodeSpec::new(
            codes::TOPUP_SENDER_IIN_REQUIRED,
            Action::Verify,
            "A card top-up above the threshold whose sender IIN has not been verified; \
             the requirements list the checks to do before it goes through.",
        ))
        .code(CodeSpec::new(
            codes::IIN_INVALID,
            Action::Review,
            "The sender's or recipient's IIN/BIN is present but malformed or fails the \
             checksum: a data-quality problem or a sign of identity fraud.",
        ))
        .code(CodeSpec::new(
            codes::CASH_BIOMETRIC_REQUIRED,
            Action::Verify,
            "A cash withdrawal or deposit without biometric (face or fingerprint) \
             verification of the customer.",
        ))
        .code(CodeSpec::new(
            codes::STRUCTURING_NEAR_THRESHOLD,
            Action::Review,
            "The sender made several card top-ups, transfers or cash transactions just \
             under the top-up threshold within a short window: amounts split to stay \
             under it (structuring).",
        ))
        .code(CodeSpec::new(
            codes::CASH_DAILY_CAP_EXCEEDED,
            Action::Hold,
            "A cash withdrawal from an account on the pack's list of suspicious accounts \
             takes its cash-out in the window above the daily cap.",
        ))
        .list(lists::CASH_CAP_ACCOUNTS)
    }

    fn configure(params: &Params) -> Result<Self, ConfigError> {
        let topup_threshold = non_negative_money(params, params::TOPUP_THRESHOLD)?;
        let structuring_band = band(params, params::STRUCTURING_BAND)?;
        Ok(KzThreshold {
            topup_threshold,
            topup_score: params.score(params::TOPUP_SCORE)?,
            topup_confirmation: params.boolean(params::TOPUP_CONFIRMATION)?,
            iin_invalid_score: params.score(params::IIN_INVALID_SCORE)?,
            cash_biometric_min: non_negative_money(params, params::CASH_BIOMETRIC_MIN)?,
            cash_biometric_score: params.score(params::CASH_BIOMETRIC_SCORE)?,
            structuring_window_hours: window_hours(params, params::STRUCTURING_WINDOW_HOURS)?,
            structuring_min_count: min_count(params, params::STRUCTURING_MIN_COUNT)?,
            structuring_from: structuring_band.lower_end(topup_threshold),
            structuring_min_share: min_share(params, params::STRUCTURING_MIN_SHARE)?,
            structuring_score: params.score(params::STRUCTURING_SCORE)?,
            cash_cap: non_negative_money(params, params::CASH_CAP)?,
            cash_cap_window_hours: window_hours(params, params::CASH_CAP_WINDOW_HOURS)?,
            cash_cap_score: params.score(params::CASH_CAP_SCORE)?,
            cash_cap_mule: match params.score(params::CASH_CAP_MULE_SCORE)? {
                0 => None,
                level => Some((KzMule::with_defaults()?, u32::from(level))),
            },
        })
    }

    fn evaluate<H: Host>(&self, tx: &Tx<'_>, host: &H, out: &mut Findings) {
        self.check_topup(tx, out);
        self.check_iin(tx.sender(), "sender", out);
        self.check_iin(tx.recipient(), "recipient", out);
        self.check_cash(tx, out);
        self.check_structuring(tx, host, out);
        self.check_cash_cap(tx, host, out);
    }
}

qorgan_sdk::export_rule!(KzThreshold);

impl KzThreshold {
    /// `TOPUP_SENDER_IIN_REQUIRED`.
    fn check_topup(&self, tx: &Tx<'_>, out: &mut Findings) {
        let amount = tx.amount();
        let verified = tx.verified();
        if tx.kind() != TxKind::CardTopup
            || amount <= self.topup_threshold
            || verified.contains(Checks::SENDER_IIN)
        {
            return;
        }
        let confirmation = self.missing_confirmation(tx);
        let needs = match confirmation {
            Some(Checks::APP_CONFIRMATION) => "the sender's IIN and app confirmation",
            Some(_) => "the sender's IIN and SMS confirmation",
            None => "the sender's IIN",
        };
        let mut finding = Finding::new(codes::TOPUP_SENDER_IIN_REQUIRED, Action::Verify)
            .score(self.topup_score)
            .require(Checks::SENDER_IIN)
            .message(format!(
                "card top-up of {amount} KZT above {} KZT needs {needs}",
                self.topup_threshold
            ))
            .evidence("amount", amount)
            .evidence("threshold", self.topup_threshold);
        if let Some(confirmation) = confirmation {
            finding = finding
                .require(confirmation)
                .evidence("confirmation", confirmation);
        }
        out.add(finding);
    }

    /// The confirmation a large top-up still needs, if `topup-confirmation`
    /// is on and neither confirmation has been done: in the app for the
    /// mobile-app channel, by SMS for every other channel.
    fn missing_confirmation(&self, tx: &Tx<'_>) -> Option<Checks> {
        let done = Checks::APP_CONFIRMATION | Checks::SMS_CONFIRMATION;
        if !self.topup_confirmation || tx.verified().intersects(done) {
            return None;
        }
        Some(if tx.channel() == Channel::MobileApp {
            Checks::APP_CONFIRMATION
        } else {
            Checks::SMS_CONFIRMATION
        })
    }

    /// `IIN_INVALID` for one party. The number itself is not copied into
    /// the finding: the bank has it, and findings are kept in decision logs.
    fn check_iin(&self, party: Party<'_>, role: &'static str, out: &mut Findings) {
        let Some(number) = party.iin() else {
            return;
        };
        if let Err(reason) = iin::validate(number) {
            out.add(
                Finding::new(codes::IIN_INVALID, Action::Review)
                    .score(self.iin_invalid_score)
                    .message(format!("the {role}'s IIN/BIN {reason}"))
                    .evidence("party", role)
                    .evidence("reason", reason.as_str()),
            );
        }
    }

    /// `CASH_BIOMETRIC_REQUIRED`.
    fn check_cash(&self, tx: &Tx<'_>, out: &mut Findings) {
        let amount = tx.amount();
        let what = match tx.kind() {
            TxKind::CashWithdrawal => "cash withdrawal",
            TxKind::CashDeposit => "cash deposit",
            _ => return,
        };
        if amount < self.cash_biometric_min || tx.verified().contains(Checks::BIOMETRIC) {
            return;
        }
        out.add(
            Finding::new(codes::CASH_BIOMETRIC_REQUIRED, Action::Verify)
                .score(self.cash_biometric_score)
                .require(Checks::BIOMETRIC)
                .message(format!(
                    "{what} of {amount} KZT needs biometric verification (required from {} KZT)",
                    self.cash_biometric_min
                ))
                .evidence("amount", amount)
                .evidence("minimum", self.cash_biometric_min),
        );
    }

    /// Whether `amount` is in the structuring band.
    fn in_band(&self, amount: Money) -> bool {
        self.structuring_from <= amount && amount <= self.topup_threshold
    }

    /// `STRUCTURING_NEAR_THRESHOLD`.
    fn check_structuring<H: Host>(&self, tx: &Tx<'_>, host: &H, out: &mut Findings) {
        let kind = tx.kind();
        if !STRUCTURING_KINDS.contains(Kinds::of(kind)) || tx.sender().kind() == PartyKind::Business
        {
            return;
        }
        let hours = self.structuring_window_hours;
        let counted = Query::new(
            tx.sender().account(),
            Direction::Outbound,
            hours.saturating_mul(3600),
        )
        .only(STRUCTURING_KINDS);
        let in_the_band = counted
            .at_least(self.structuring_from)
            .at_most(self.topup_threshold);
        let before = host.aggregate(tx.at(), &in_the_band).count;
        let this_in_band = self.in_band(tx.amount());
        let count = before.saturating_add(u32::from(this_in_band));
        if count < self.structuring_min_count {
            return;
        }
        // The host's history leaves out this transaction, which is of a
        // counted kind: all = history + 1.
        let all = match self.structuring_min_share {
            None => None,
            Some(share) => {
                let all = host.aggregate(tx.at(), &counted).count.saturating_add(1);
                if !share.reached_by(i128::from(count), i128::from(all)) {
                    return;
                }
                Some(all)
            }
        };
        let this_one = if this_in_band {
            "this one included"
        } else {
            "before this one"
        };
        let of_all = all.map_or_else(String::new, |all| {
            format!(", {count} of its {all} such transactions in the window")
        });
        let mut finding = Finding::new(codes::STRUCTURING_NEAR_THRESHOLD, Action::Review)
            .score(self.structuring_score)
            .message(format!(
                "{kind} of {amount} KZT: the sender made {count} top-ups, transfers or \
                 cash transactions of {from} to {to} KZT in {hours} h ({this_one}){of_all}, \
                 amounts just under the {to} KZT threshold",
                amount = tx.amount(),
                from = self.structuring_from,
                to = self.topup_threshold,
            ))
            .evidence("count", count)
            .evidence("window-hours", hours)
            .evidence("band-from", self.structuring_from)
            .evidence("band-to", self.topup_threshold);
        if let Some(all) = all {
            finding = finding
                .evidence("share", Ratio::text(i128::from(count), i128::from(all)))
                .evidence("transactions", all);
        }
        out.add(finding);
    }

    /// `CASH_DAILY_CAP_EXCEEDED`.
    fn check_cash_cap<H: Host>(&self, tx: &Tx<'_>, host: &H, out: &mut Findings) {
        if tx.kind() != TxKind::CashWithdrawal {
            return;
        }
        let account = tx.sender().account();
        let listed = host.list_contains_account(lists::CASH_CAP_ACCOUNTS, account);
        if !listed && self.cash_cap_mule.is_none() {
            return;
        }
        let hours = self.cash_cap_window_hours;
        let query = Query::new(account, Direction::Outbound, hours.saturating_mul(3600))
            .only(Kinds::CASH_WITHDRAWAL);
        let before = host.aggregate(tx.at(), &query).sum;
        let this = tx.amount();
        let total = before.saturating_add(this);
        if total <= self.cash_cap {
            return;
        }
        let (why, mule_score) = if listed {
            (format!("an account on {}", lists::CASH_CAP_ACCOUNTS), None)
        } else {
            match self.mule_score(tx, host) {
                Some(score) => (format!("an account with mule score {score}"), Some(score)),
                None => return,
            }
        };
        let mut finding = Finding::new(codes::CASH_DAILY_CAP_EXCEEDED, Action::Hold)
            .score(self.cash_cap_score)
            .message(format!(
                "cash withdrawal of {this} KZT from {why}: with {before} KZT withdrawn in the \
                 last {hours} h the cash-out is {total} KZT, above the cap of {cap} KZT",
                cap = self.cash_cap,
            ))
            .evidence("cash-out-before", before)
            .evidence("this", this)
            .evidence("total", total)
            .evidence("cap", self.cash_cap);
        finding = match mule_score {
            None => finding.evidence("reason", "list"),
            Some(score) => finding
                .evidence("reason", "mule-score")
                .evidence("mule-score", score),
        };
        out.add(finding);
    }

    /// The sender's mule score, when it reaches `cash-cap-mule-score`.
    fn mule_score<H: Host>(&self, tx: &Tx<'_>, host: &H) -> Option<u32> {
        let (model, level) = self.cash_cap_mule.as_ref()?;
        if !kz_mule::scored(tx) {
            return None;
        }
        let score = model.score(&model.indicators(tx, host))?;
        (score >= *level).then_some(score)
    }
}

/// A ratio from 0 to 1 read exactly from its decimal text: `units / 10^scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Band {
    units: i128,
    scale: u32,
}

impl Band {
    /// Parses a decimal from 0 to 1 such as `0.1`, with at most 18 fraction
    /// digits.
    pub fn parse(text: &str) -> Result<Band, &'static str> {
        const RANGE: &str = "must be a decimal from 0 to 1, such as 0.1";
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let digits_only = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty()
            || !digits_only(whole)
            || !digits_only(fraction)
            || (text.contains('.') && fraction.is_empty())
        {
            return Err(RANGE);
        }
        let scale = u32::try_from(fraction.len()).unwrap_or(u32::MAX);
        if scale > MAX_BAND_SCALE {
            return Err("has more than 18 fraction digits");
        }
        let mut units: i128 = 0;
        for digit in whole.bytes().chain(fraction.bytes()) {
            units = units
                .checked_mul(10)
                .and_then(|u| u.checked_add(i128::from(digit - b'0')))
                .ok_or(RANGE)?;
        }
        if units > 10_i128.pow(scale) {
            return Err(RANGE);
        }
        Ok(Band { units, scale })
    }

    /// The smallest amount at least `threshold × (1 − band)`: the exact
    /// product, rounded up to the next tiyn. `threshold` must not be
    /// negative.
    #[must_use]
    pub fn lower_end(self, threshold: Money) -> Money {
        let one = 10_i128.pow(self.scale);
        // At most i64::MAX × 10^18 < i128::MAX: no overflow.
        let kept = i128::from(threshold.tiyn()).max(0) * (one - self.units);
        let lower = (kept + one - 1) / one;
        Money::from_tiyn(i64::try_from(lower).unwrap_or(i64::MAX))
    }
}

/// `structuring-band`, read exactly.
fn band(params: &Params, name: &str) -> Result<Band, ConfigError> {
    params.decimal(name)?;
    let text = params.text(name)?;
    Band::parse(text).map_err(|reason| ConfigError::invalid(name, text, reason))
}

/// `structuring-min-share`: a ratio from 0 to 1, `None` for 0 (the
/// condition switched off).
fn min_share(params: &Params, name: &str) -> Result<Option<Ratio>, ConfigError> {
    let share = params.ratio(name)?;
    if share.cmp_value(Ratio::new(1, 0)).is_gt() {
        return Err(ConfigError::invalid(
            name,
            share,
            "must be a decimal from 0 to 1, such as 0.5",
        ));
    }
    Ok((!share.cmp_value(Ratio::new(0, 0)).is_eq()).then_some(share))
}

/// A window in hours: 1 up to what a `u32` of seconds holds.
fn window_hours(params: &Params, name: &str) -> Result<u32, ConfigError> {
    let value = params.integer(name)?;
    if !(1..=MAX_WINDOW_HOURS).contains(&value) {
        return Err(ConfigError::invalid(
            name,
            value,
            format!("must be between 1 and {MAX_WINDOW_HOURS} hours"),
        ));
    }
    u32::try_from(value).map_err(|_| ConfigError::invalid(name, value, "is too large"))
}

/// `structuring-min-count`: at least 2 (one amount is not a split).
fn min_count(params: &Params, name: &str) -> Result<u32, ConfigError> {
    let value = params.integer(name)?;
    u32::try_from(value)
        .ok()
        .filter(|count| *count >= 2)
        .ok_or_else(|| ConfigError::invalid(name, value, "must be a whole number of at least 2"))
}

/// A money parameter that must not be negative.
fn non_negative_money(params: &Params, name: &str) -> Result<Money, ConfigError> {
    let value = params.money(name)?;
    if value.is_negative() {
        return Err(ConfigError::invalid(name, value, "must not be negative"));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use qorgan_sdk::Totals;
    use qorgan_sdk::testing::{
        DEFAULT_RECIPIENT_ACCOUNT, DEFAULT_SENDER_ACCOUNT, Harness, MemoryHost, SetupError,
        TxBuilder,
    };

    type TestResult = Result<(), SetupError>;

    /// The default pack configuration.
    fn rule() -> Result<Harness<KzThreshold>, SetupError> {
        Harness::new()
    }

    fn codes_of(findings: &[Finding]) -> Vec<&str> {
        findings.iter().map(Finding::code).collect()
    }

    fn only(findings: &[Finding], code: &str) -> Option<Finding> {
        match findings {
            [finding] if finding.code() == code => Some(finding.clone()),
            _ => None,
        }
    }

    // --- metadata and configuration -------------------------------------

    #[test]
    fn metadata_declares_id_version_params_codes_and_the_list() {
        let metadata = KzThreshold::metadata();
        assert_eq!(metadata.validate(), Ok(()));
        assert_eq!(metadata.id(), "kz-threshold");
        assert_eq!(metadata.version(), env!("CARGO_PKG_VERSION"));
        let codes: Vec<&str> = metadata.codes().iter().map(CodeSpec::code).collect();
        assert_eq!(
            codes,
            [
                "TOPUP_SENDER_IIN_REQUIRED",
                "IIN_INVALID",
                "CASH_BIOMETRIC_REQUIRED",
                "STRUCTURING_NEAR_THRESHOLD",
                "CASH_DAILY_CAP_EXCEEDED",
            ]
        );
        let actions: Vec<Action> = metadata.codes().iter().map(CodeSpec::action).collect();
        assert_eq!(
            actions,
            [
                Action::Verify,
                Action::Review,
                Action::Verify,
                Action::Review,
                Action::Hold
            ]
        );
        let defaults: Vec<(&str, &str)> = metadata
            .params()
            .iter()
            .map(|p| (p.name(), p.default_value()))
            .collect();
        assert_eq!(
            defaults,
            [
                ("topup-threshold", "500000.00"),
                ("topup-score", "35"),
                ("topup-confirmation", "false"),
                ("iin-invalid-score", "40"),
                ("cash-biometric-min", "0.00"),
                ("cash-biometric-score", "10"),
                ("structuring-window-hours", "24"),
                ("structuring-min-count", "3"),
                ("structuring-band", "0.1"),
                ("structuring-min-share", "0.5"),
                ("structuring-score", "30"),
                ("cash-cap", "312000.00"),
                ("cash-cap-window-hours", "24"),
                ("cash-cap-score", "50"),
                ("cash-cap-mule-score", "75"),
            ]
        );
        assert!(
            metadata
                .params()
                .iter()
                .all(|p| !p.description().is_empty())
        );
        assert_eq!(metadata.lists(), ["cash-cap-accounts"]);
        let share = metadata.find_param("structuring-min-share");
        assert_eq!(
            share.map(|p| (p.kind(), p.minimum(), p.maximum())),
            Some((qorgan_sdk::ParamType::Decimal, Some("0"), Some("1")))
        );
    }

    #[test]
    fn defaults_configure_the_documented_values() -> TestResult {
        let harness = rule()?;
        assert_eq!(
            harness.rule(),
            &KzThreshold {
                topup_threshold: Money::from_tiyn(50_000_000),
                topup_score: 35,
                topup_confirmation: false,
                iin_invalid_score: 40,
                cash_biometric_min: Money::ZERO,
                cash_biometric_score: 10,
                structuring_window_hours: 24,
                structuring_min_count: 3,
                structuring_from: Money::from_tiyn(45_000_000),
                structuring_min_share: Some(Ratio::new(5, 1)),
                structuring_score: 30,
                cash_cap: Money::from_tiyn(31_200_000),
                cash_cap_window_hours: 24,
                cash_cap_score: 50,
                cash_cap_mule: Some((KzMule::with_defaults().map_err(SetupError::Configure)?, 75)),
            }
        );
        Ok(())
    }

    #[test]
    fn negative_thresholds_are_refused_naming_the_parameter() {
        for name in ["topup-threshold", "cash-biometric-min", "cash-cap"] {
            let error = Harness::<KzThreshold>::with_params(&[(name, "-0.01")]).err();
            let message = error.map(|e| e.to_string()).unwrap_or_default();
            assert!(
                message.contains(&format!("parameter `{name}`")),
                "{message}"
            );
        }
    }

    #[test]
    fn scores_above_one_hundred_are_refused() {
        let error = Harness::<KzThreshold>::with_params(&[("topup-score", "101")]).err();
        assert!(matches!(error, Some(SetupError::Configure(e)) if e.name() == "topup-score"));
    }

    // --- TOPUP_SENDER_IIN_REQUIRED ---------------------------------------

    #[test]
    fn topup_above_threshold_without_verified_sender_iin_needs_it() -> TestResult {
        let findings = rule()?.evaluate(&TxBuilder::card_topup("600000.00").build());
        let finding = only(&findings, "TOPUP_SENDER_IIN_REQUIRED");
        let Some(finding) = finding else {
            panic!(
                "expected one TOPUP_SENDER_IIN_REQUIRED, got {:?}",
                codes_of(&findings)
            );
        };
        assert_eq!(finding.action(), Action::Verify);
        assert_eq!(finding.risk_score(), 35);
        assert_eq!(finding.requirements(), Checks::SENDER_IIN);
        assert_eq!(
            finding.message_text(),
            "card top-up of 600000.00 KZT above 500000.00 KZT needs the sender's IIN"
        );
        assert_eq!(finding.evidence_value("amount"), Some("600000.00"));
        assert_eq!(finding.evidence_value("threshold"), Some("500000.00"));
        Ok(())
    }

    #[test]
    fn topup_exactly_at_threshold_is_not_flagged() -> TestResult {
        assert!(
            rule()?
                .evaluate(&TxBuilder::card_topup("500000.00").build())
                .is_empty()
        );
        Ok(())
    }

    #[test]
    fn topup_one_tiyn_above_threshold_is_flagged() -> TestResult {
        let findings = rule()?.evaluate(&TxBuilder::card_topup("500000.01").build());
        assert_eq!(codes_of(&findings), ["TOPUP_SENDER_IIN_REQUIRED"]);
        Ok(())
    }

    #[test]
    fn topup_with_verified_sender_iin_is_not_flagged() -> TestResult {
        let tx = TxBuilder::card_topup("600000.00")
            .sender_iin("061211600012")
            .verified(Checks::SENDER_IIN)
            .build();
        assert!(rule()?.evaluate(&tx).is_empty());
        Ok(())
    }

    #[test]
    fn only_the_recipient_iin_verified_still_needs_the_sender_iin() -> TestResult {
        let tx = TxBuilder::card_topup("600000.00")
            .verified(Checks::RECIPIENT_IIN)
            .build();
        assert_eq!(
            codes_of(&rule()?.evaluate(&tx)),
            ["TOPUP_SENDER_IIN_REQUIRED"]
        );
        Ok(())
    }

    #[test]
    fn large_transfers_and_payments_are_not_topups() -> TestResult {
        let harness = rule()?;
        assert!(
            harness
                .evaluate(&TxBuilder::transfer("600000.00").build())
                .is_empty()
        );
        assert!(
            harness
                .evaluate(&TxBuilder::card_payment("600000.00").build())
                .is_empty()
        );
        Ok(())
    }

    #[test]
    fn topup_threshold_and_score_come_from_the_pack() -> TestResult {
        let harness = Harness::<KzThreshold>::with_params(&[
            ("topup-threshold", "1000.00"),
            ("topup-score", "70"),
        ])?;
        assert!(
            harness
                .evaluate(&TxBuilder::card_topup("1000.00").build())
                .is_empty()
        );
        let findings = harness.evaluate(&TxBuilder::card_topup("1000.01").build());
        let finding = only(&findings, "TOPUP_SENDER_IIN_REQUIRED");
        assert_eq!(finding.as_ref().map(Finding::risk_score), Some(70));
        assert_eq!(
            finding
                .as_ref()
                .map(|f| f.message_text().to_owned())
                .as_deref(),
            Some("card top-up of 1000.01 KZT above 1000.00 KZT needs the sender's IIN")
        );
        Ok(())
    }

    // --- topup-confirmation ---------------------------------------------

    fn with_confirmation() -> Result<Harness<KzThreshold>, SetupError> {
        Harness::with_params(&[("topup-confirmation", "true")])
    }

    #[test]
    fn confirmation_is_off_by_default() -> TestResult {
        let tx = TxBuilder::card_topup("600000.00")
            .channel(Channel::MobileApp)
            .build();
        let findings = rule()?.evaluate(&tx);
        assert_eq!(
            findings.first().map(Finding::requirements),
            Some(Checks::SENDER_IIN)
        );
        Ok(())
    }

    #[test]
    fn confirmation_in_the_app_for_mobile_app_topups() -> TestResult {
        let tx = TxBuilder::card_topup("600000.00")
            .channel(Channel::MobileApp)
            .build();
        let findings = with_confirmation()?.evaluate(&tx);
        let finding = only(&findings, "TOPUP_SENDER_IIN_REQUIRED");
        assert_eq!(
            finding.as_ref().map(Finding::requirements),
            Some(Checks::SENDER_IIN | Checks::APP_CONFIRMATION)
        );
        assert_eq!(
            finding
                .as_ref()
                .map(|f| f.message_text().to_owned())
                .as_deref(),
            Some(
                "card top-up of 600000.00 KZT above 500000.00 KZT needs the sender's IIN and app confirmation"
            )
        );
        assert_eq!(
            finding
                .as_ref()
                .and_then(|f| f.evidence_value("confirmation").map(str::to_owned))
                .as_deref(),
            Some("app-confirmation")
        );
        Ok(())
    }

    #[test]
    fn confirmation_by_sms_for_every_other_channel() -> TestResult {
        let harness = with_confirmation()?;
        for channel in [
            Channel::InternetBanking,
            Channel::Branch,
            Channel::Atm,
            Channel::Api,
            Channel::Other,
        ] {
            let findings =
                harness.evaluate(&TxBuilder::card_topup("600000.00").channel(channel).build());
            assert_eq!(
                findings.first().map(Finding::requirements),
                Some(Checks::SENDER_IIN | Checks::SMS_CONFIRMATION),
                "{channel}"
            );
        }
        Ok(())
    }

    #[test]
    fn either_confirmation_already_done_is_enough() -> TestResult {
        let harness = with_confirmation()?;
        for done in [Checks::APP_CONFIRMATION, Checks::SMS_CONFIRMATION] {
            let tx = TxBuilder::card_topup("600000.00")
                .channel(Channel::MobileApp)
                .verified(done)
                .build();
            let findings = harness.evaluate(&tx);
            assert_eq!(
                findings.first().map(Finding::requirements),
                Some(Checks::SENDER_IIN)
            );
            assert_eq!(
                findings
                    .first()
                    .map(|f| f.message_text().to_owned())
                    .as_deref(),
                Some("card top-up of 600000.00 KZT above 500000.00 KZT needs the sender's IIN")
            );
        }
        Ok(())
    }

    #[test]
    fn confirmation_is_not_required_below_the_threshold() -> TestResult {
        let tx = TxBuilder::card_topup("500000.00")
            .channel(Channel::MobileApp)
            .build();
        assert!(with_confirmation()?.evaluate(&tx).is_empty());
        Ok(())
    }

    // --- IIN_INVALID ------------------------------------------------------

    #[test]
    fn valid_iins_are_not_flagged() -> TestResult {
        let tx = TxBuilder::transfer("10.00")
            .sender_iin("061211600012")
            .recipient_iin("900101000018")
            .build();
        assert!(rule()?.evaluate(&tx).is_empty());
        Ok(())
    }

    #[test]
    fn absent_iins_are_not_flagged() -> TestResult {
        assert!(
            rule()?
                .evaluate(&TxBuilder::transfer("10.00").build())
                .is_empty()
        );
        Ok(())
    }

    #[test]
    fn sender_iin_failing_the_checksum_is_flagged_for_review() -> TestResult {
        let tx = TxBuilder::transfer("10.00")
            .sender_iin("061211600013")
            .build();
        let findings = rule()?.evaluate(&tx);
        let Some(finding) = only(&findings, "IIN_INVALID") else {
            panic!("expected one IIN_INVALID, got {:?}", codes_of(&findings));
        };
        assert_eq!(finding.action(), Action::Review);
        assert_eq!(finding.risk_score(), 40);
        assert_eq!(finding.requirements(), Checks::NONE);
        assert_eq!(finding.evidence_value("party"), Some("sender"));
        assert_eq!(finding.evidence_value("reason"), Some("checksum"));
        assert_eq!(
            finding.message_text(),
            "the sender's IIN/BIN fails the check-digit test"
        );
        Ok(())
    }

    #[test]
    fn malformed_recipient_iin_is_flagged_with_the_reason() -> TestResult {
        let harness = rule()?;
        let cases = [
            ("06121160001", "wrong-length"),
            ("0612116000123", "wrong-length"),
            ("0612 1160001", "non-digit"),
            ("06121160001X", "non-digit"),
        ];
        for (number, reason) in cases {
            let tx = TxBuilder::transfer("10.00").recipient_iin(number).build();
            let findings = harness.evaluate(&tx);
            let finding = only(&findings, "IIN_INVALID");
            assert_eq!(
                finding
                    .as_ref()
                    .and_then(|f| f.evidence_value("party").map(str::to_owned))
                    .as_deref(),
                Some("recipient"),
                "{number}"
            );
            assert_eq!(
                finding
                    .as_ref()
                    .and_then(|f| f.evidence_value("reason").map(str::to_owned))
                    .as_deref(),
                Some(reason),
                "{number}"
            );
        }
        Ok(())
    }

    #[test]
    fn both_parties_invalid_gives_one_finding_per_party() -> TestResult {
        let tx = TxBuilder::transfer("10.00")
            .sender_iin("123")
            .recipient_iin("061211600013")
            .build();
        let findings = rule()?.evaluate(&tx);
        let parties: Vec<Option<&str>> =
            findings.iter().map(|f| f.evidence_value("party")).collect();
        assert_eq!(codes_of(&findings), ["IIN_INVALID", "IIN_INVALID"]);
        assert_eq!(parties, [Some("sender"), Some("recipient")]);
        Ok(())
    }

    #[test]
    fn iin_invalid_score_comes_from_the_pack() -> TestResult {
        let harness = Harness::<KzThreshold>::with_params(&[("iin-invalid-score", "55")])?;
        let findings = harness.evaluate(&TxBuilder::transfer("1.00").sender_iin("x").build());
        assert_eq!(findings.first().map(Finding::risk_score), Some(55));
        Ok(())
    }

    #[test]
    fn invalid_iin_on_a_large_topup_gives_both_findings() -> TestResult {
        let tx = TxBuilder::card_topup("600000.00")
            .sender_iin("061211600013")
            .build();
        assert_eq!(
            codes_of(&rule()?.evaluate(&tx)),
            ["TOPUP_SENDER_IIN_REQUIRED", "IIN_INVALID"]
        );
        Ok(())
    }

    // --- CASH_BIOMETRIC_REQUIRED ------------------------------------------

    #[test]
    fn cash_without_biometrics_needs_them_from_zero_by_default() -> TestResult {
        let harness = rule()?;
        for builder in [
            TxBuilder::cash_withdrawal("0.00"),
            TxBuilder::cash_deposit("0.01"),
        ] {
            let findings = harness.evaluate(&builder.build());
            let Some(finding) = only(&findings, "CASH_BIOMETRIC_REQUIRED") else {
                panic!(
                    "expected one CASH_BIOMETRIC_REQUIRED, got {:?}",
                    codes_of(&findings)
                );
            };
            assert_eq!(finding.action(), Action::Verify);
            assert_eq!(finding.risk_score(), 10);
            assert_eq!(finding.requirements(), Checks::BIOMETRIC);
            assert_eq!(finding.evidence_value("minimum"), Some("0.00"));
        }
        Ok(())
    }

    #[test]
    fn cash_message_names_the_kind_amount_and_minimum() -> TestResult {
        let findings = rule()?.evaluate(&TxBuilder::cash_withdrawal("20000.00").build());
        assert_eq!(
            findings
                .first()
                .map(|f| f.message_text().to_owned())
                .as_deref(),
            Some(
                "cash withdrawal of 20000.00 KZT needs biometric verification (required from 0.00 KZT)"
            )
        );
        assert_eq!(
            findings
                .first()
                .and_then(|f| f.evidence_value("amount").map(str::to_owned))
                .as_deref(),
            Some("20000.00")
        );
        Ok(())
    }

    #[test]
    fn cash_with_biometrics_done_is_not_flagged() -> TestResult {
        let harness = rule()?;
        for builder in [
            TxBuilder::cash_withdrawal("20000.00"),
            TxBuilder::cash_deposit("20000.00"),
        ] {
            assert!(
                harness
                    .evaluate(&builder.verified(Checks::BIOMETRIC).build())
                    .is_empty()
            );
        }
        Ok(())
    }

    #[test]
    fn cash_exactly_at_the_minimum_is_flagged_one_tiyn_below_is_not() -> TestResult {
        let harness = Harness::<KzThreshold>::with_params(&[("cash-biometric-min", "100000.00")])?;
        let at = harness.evaluate(&TxBuilder::cash_withdrawal("100000.00").build());
        assert_eq!(codes_of(&at), ["CASH_BIOMETRIC_REQUIRED"]);
        let above = harness.evaluate(&TxBuilder::cash_deposit("100000.01").build());
        assert_eq!(codes_of(&above), ["CASH_BIOMETRIC_REQUIRED"]);
        assert!(
            harness
                .evaluate(&TxBuilder::cash_withdrawal("99999.99").build())
                .is_empty()
        );
        Ok(())
    }

    #[test]
    fn cash_biometric_score_comes_from_the_pack() -> TestResult {
        let harness = Harness::<KzThreshold>::with_params(&[("cash-biometric-score", "0")])?;
        let findings = harness.evaluate(&TxBuilder::cash_deposit("5.00").build());
        assert_eq!(findings.first().map(Finding::risk_score), Some(0));
        Ok(())
    }

    #[test]
    fn non_cash_transactions_never_need_biometrics() -> TestResult {
        let harness = rule()?;
        for builder in [
            TxBuilder::transfer("20000.00"),
            TxBuilder::card_payment("20000.00"),
            TxBuilder::card_topup("20000.00"),
            TxBuilder::crypto_purchase("20000.00"),
            TxBuilder::crypto_sale("20000.00"),
        ] {
            assert!(harness.evaluate(&builder.build()).is_empty());
        }
        Ok(())
    }

    // --- history helpers ------------------------------------------------------

    const HOUR: i64 = 3600;

    fn tenge(amount: &str) -> Money {
        match Money::parse(amount) {
            Ok(money) => money,
            Err(error) => panic!("{error}"),
        }
    }

    /// A host whose history holds the default sender's earlier outbound
    /// transactions `(kind, amount, seconds before this one)`, answering
    /// queries as the real host does: kinds, amounts and the window
    /// `(time - window, time]` honoured.
    fn history(past: &[(TxKind, &str, i64)]) -> MemoryHost {
        let events: Vec<(Kinds, Money, i64)> = past
            .iter()
            .map(|(kind, amount, ago)| (Kinds::of(*kind), tenge(amount), *ago))
            .collect();
        MemoryHost::new().with_aggregate(move |_, query| {
            let mut totals = Totals::default();
            if query.account() != DEFAULT_SENDER_ACCOUNT || query.direction() != Direction::Outbound
            {
                return totals;
            }
            for (kind, amount, ago) in &events {
                let kind_ok = query.kinds().is_empty() || query.kinds().contains(*kind);
                let in_window = (0..i64::from(query.window_secs())).contains(ago);
                if kind_ok
                    && in_window
                    && query.min_amount() <= *amount
                    && *amount <= query.max_amount()
                {
                    totals.count += 1;
                    totals.sum = totals.sum.saturating_add(*amount);
                    if *amount > totals.max {
                        totals.max = *amount;
                    }
                }
            }
            totals
        })
    }

    fn evidence(finding: &Finding) -> Vec<(&str, &str)> {
        finding
            .evidence_items()
            .iter()
            .map(|e| (e.name(), e.value()))
            .collect()
    }

    fn find<'a>(findings: &'a [Finding], code: &str) -> Option<&'a Finding> {
        findings.iter().find(|f| f.code() == code)
    }

    // --- STRUCTURING_NEAR_THRESHOLD ---------------------------------------

    /// Two earlier top-ups just under the threshold.
    fn two_near_topups() -> MemoryHost {
        history(&[
            (TxKind::CardTopup, "490000.00", 5 * HOUR),
            (TxKind::CardTopup, "495000.00", 3 * HOUR),
        ])
    }

    #[test]
    fn third_topup_just_under_the_threshold_is_structuring() -> TestResult {
        let harness = rule()?.with_host(two_near_topups());
        let findings = harness.evaluate(&TxBuilder::card_topup("499000.00").build());
        let Some(finding) = only(&findings, "STRUCTURING_NEAR_THRESHOLD") else {
            panic!(
                "expected one STRUCTURING_NEAR_THRESHOLD, got {:?}",
                codes_of(&findings)
            );
        };
        assert_eq!(finding.action(), Action::Review);
        assert_eq!(finding.risk_score(), 30);
        assert_eq!(finding.requirements(), Checks::NONE);
        assert_eq!(
            evidence(&finding),
            [
                ("count", "3"),
                ("window-hours", "24"),
                ("band-from", "450000.00"),
                ("band-to", "500000.00"),
                ("share", "1.0000"),
                ("transactions", "3"),
            ]
        );
        assert_eq!(
            finding.message_text(),
            "card-topup of 499000.00 KZT: the sender made 3 top-ups, transfers or cash \
             transactions of 450000.00 to 500000.00 KZT in 24 h (this one included), 3 of its \
             3 such transactions in the window, amounts just under the 500000.00 KZT threshold"
        );
        Ok(())
    }

    #[test]
    fn a_business_paying_many_salaries_just_under_the_threshold_is_not_structuring() -> TestResult {
        let harness = rule()?.with_host(two_near_topups());
        let payroll = TxBuilder::transfer("499000.00")
            .sender_kind(PartyKind::Business)
            .build();
        assert!(harness.evaluate(&payroll).is_empty());
        assert!(harness.host().queries().is_empty(), "no history is asked");
        let person = TxBuilder::transfer("499000.00").build();
        assert!(only(&harness.evaluate(&person), "STRUCTURING_NEAR_THRESHOLD").is_some());
        Ok(())
    }

    #[test]
    fn structuring_asks_for_the_senders_outbound_amounts_in_the_band_then_all_of_them() -> TestResult
    {
        let harness = rule()?.with_host(two_near_topups());
        let tx = TxBuilder::card_topup("499000.00").build();
        let _ = harness.evaluate(&tx);
        let queries = harness.host().queries();
        let [(at, band), (all_at, all)] = queries.as_slice() else {
            panic!("expected two history queries, got {}", queries.len());
        };
        assert_eq!((at.seq, at.time), (tx.tx().at().seq, tx.tx().at().time));
        assert_eq!((all_at.seq, all_at.time), (at.seq, at.time));
        for query in [band, all] {
            assert_eq!(query.account(), DEFAULT_SENDER_ACCOUNT);
            assert_eq!(query.direction(), Direction::Outbound);
            assert_eq!(query.window_secs(), 86_400);
            assert_eq!(
                query.kinds(),
                Kinds::CARD_TOPUP | Kinds::TRANSFER | Kinds::CASH_WITHDRAWAL | Kinds::CASH_DEPOSIT
            );
        }
        assert_eq!(band.min_amount(), tenge("450000.00"));
        assert_eq!(band.max_amount(), tenge("500000.00"));
        // All of them: no amount bounds.
        assert_eq!(all.min_amount(), Money::from_tiyn(i64::MIN));
        assert_eq!(all.max_amount(), Money::MAX);
        Ok(())
    }

    #[test]
    fn all_transactions_are_asked_only_when_the_band_count_is_reached() -> TestResult {
        let harness = rule()?.with_host(history(&[(TxKind::CardTopup, "490000.00", HOUR)]));
        assert!(
            harness
                .evaluate(&TxBuilder::card_topup("499000.00").build())
                .is_empty()
        );
        let queries = harness.host().queries();
        assert_eq!(queries.len(), 1);
        assert!(
            queries
                .iter()
                .all(|(_, q)| q.min_amount() == tenge("450000.00"))
        );
        Ok(())
    }

    /// A host with `band` earlier transfers of 490000.00 and `others` earlier
    /// transfers outside the band, of every size, all in the last day.
    fn band_among_others(band: usize, others: usize) -> MemoryHost {
        const OTHER_AMOUNTS: [&str; 6] = [
            "5000.00",
            "120000.00",
            "449999.99",
            "500000.01",
            "35000.00",
            "900000.00",
        ];
        let mut past: Vec<(TxKind, &str, i64)> = Vec::new();
        let mut ago = 60;
        for _ in 0..band {
            past.push((TxKind::Transfer, "490000.00", ago));
            ago += 600;
        }
        for amount in OTHER_AMOUNTS.iter().cycle().take(others) {
            past.push((TxKind::Transfer, *amount, ago));
            ago += 600;
        }
        history(&past)
    }

    #[test]
    fn three_band_topups_among_few_other_payments_are_structuring() -> TestResult {
        let harness = rule()?.with_host(history(&[
            (TxKind::CardTopup, "490000.00", 5 * HOUR),
            (TxKind::Transfer, "15000.00", 4 * HOUR),
            (TxKind::CardTopup, "495000.00", 3 * HOUR),
            (TxKind::CashWithdrawal, "20000.00", 2 * HOUR),
            // A card payment is not of a counted kind: not in the share either.
            (TxKind::CardPayment, "3000.00", HOUR),
        ]));
        let findings = harness.evaluate(&TxBuilder::card_topup("499000.00").build());
        let finding = only(&findings, "STRUCTURING_NEAR_THRESHOLD");
        assert_eq!(
            finding.as_ref().map(|f| (
                f.evidence_value("count").map(str::to_owned),
                f.evidence_value("share").map(str::to_owned),
                f.evidence_value("transactions").map(str::to_owned),
            )),
            Some((
                Some("3".to_owned()),
                Some("0.6000".to_owned()),
                Some("5".to_owned())
            ))
        );
        Ok(())
    }

    #[test]
    fn three_band_transfers_among_thirty_other_transfers_are_not_structuring() -> TestResult {
        let harness = rule()?.with_host(band_among_others(2, 30));
        let findings = harness.evaluate(&TxBuilder::transfer("495000.00").build());
        assert!(findings.is_empty(), "{:?}", codes_of(&findings));
        assert_eq!(harness.host().queries().len(), 2);
        Ok(())
    }

    #[test]
    fn a_share_of_exactly_min_share_is_structuring_one_transaction_more_is_not() -> TestResult {
        // 2 in the band + 3 others before, this one in the band: 3 of 6.
        let at = rule()?.with_host(band_among_others(2, 3));
        let findings = at.evaluate(&TxBuilder::transfer("495000.00").build());
        let finding = only(&findings, "STRUCTURING_NEAR_THRESHOLD");
        assert_eq!(
            finding
                .as_ref()
                .and_then(|f| f.evidence_value("share").map(str::to_owned))
                .as_deref(),
            Some("0.5000")
        );
        // 3 of 7.
        let below = rule()?.with_host(band_among_others(2, 4));
        let findings = below.evaluate(&TxBuilder::transfer("495000.00").build());
        assert!(findings.is_empty(), "{:?}", codes_of(&findings));
        Ok(())
    }

    #[test]
    fn this_transaction_outside_the_band_counts_in_all_of_them() -> TestResult {
        // 3 in the band + 2 others before, this one outside: 3 of 6.
        let at = rule()?.with_host(band_among_others(3, 2));
        let findings = at.evaluate(&TxBuilder::transfer("1000.00").build());
        assert_eq!(codes_of(&findings), ["STRUCTURING_NEAR_THRESHOLD"]);
        // 3 in the band + 3 others before, this one outside: 3 of 7.
        let below = rule()?.with_host(band_among_others(3, 3));
        assert!(
            below
                .evaluate(&TxBuilder::transfer("1000.00").build())
                .is_empty()
        );
        Ok(())
    }

    #[test]
    fn min_share_zero_switches_the_share_off_and_asks_no_second_query() -> TestResult {
        let harness = Harness::<KzThreshold>::with_params(&[("structuring-min-share", "0")])?
            .with_host(band_among_others(2, 30));
        let findings = harness.evaluate(&TxBuilder::transfer("495000.00").build());
        let Some(finding) = only(&findings, "STRUCTURING_NEAR_THRESHOLD") else {
            panic!(
                "expected one STRUCTURING_NEAR_THRESHOLD, got {:?}",
                codes_of(&findings)
            );
        };
        assert_eq!(
            evidence(&finding),
            [
                ("count", "3"),
                ("window-hours", "24"),
                ("band-from", "450000.00"),
                ("band-to", "500000.00"),
            ]
        );
        assert!(
            finding
                .message_text()
                .ends_with("(this one included), amounts just under the 500000.00 KZT threshold"),
            "{}",
            finding.message_text()
        );
        assert_eq!(harness.host().queries().len(), 1);
        assert_eq!(harness.rule().structuring_min_share, None);
        Ok(())
    }

    #[test]
    fn min_share_comes_from_the_pack_and_one_is_all_of_them() -> TestResult {
        let all = Harness::<KzThreshold>::with_params(&[("structuring-min-share", "1")])?;
        let only_band = all.with_host(band_among_others(2, 0));
        assert_eq!(
            codes_of(&only_band.evaluate(&TxBuilder::transfer("495000.00").build())),
            ["STRUCTURING_NEAR_THRESHOLD"]
        );
        let one_other = Harness::<KzThreshold>::with_params(&[("structuring-min-share", "1.0")])?
            .with_host(band_among_others(2, 1));
        assert!(
            one_other
                .evaluate(&TxBuilder::transfer("495000.00").build())
                .is_empty()
        );
        // 3 of 4 = 0.75: reached by 0.75, not by 0.75 plus the smallest step.
        let quarter = Harness::<KzThreshold>::with_params(&[("structuring-min-share", "0.75")])?
            .with_host(band_among_others(2, 1));
        assert_eq!(
            codes_of(&quarter.evaluate(&TxBuilder::transfer("495000.00").build())),
            ["STRUCTURING_NEAR_THRESHOLD"]
        );
        let above = Harness::<KzThreshold>::with_params(&[(
            "structuring-min-share",
            "0.750000000000000001",
        )])?
        .with_host(band_among_others(2, 1));
        assert!(
            above
                .evaluate(&TxBuilder::transfer("495000.00").build())
                .is_empty()
        );
        Ok(())
    }

    #[test]
    fn bad_min_shares_are_refused_naming_the_parameter() {
        for share in ["1.01", "2", "-0.1", "abc", "0.1234567890123456789"] {
            let error =
                Harness::<KzThreshold>::with_params(&[("structuring-min-share", share)]).err();
            let message = error.map(|e| e.to_string()).unwrap_or_default();
            assert!(
                message.contains("parameter `structuring-min-share`"),
                "{share}: {message}"
            );
        }
    }

    #[test]
    fn two_in_the_band_this_one_included_are_not_enough() -> TestResult {
        let harness = rule()?.with_host(history(&[(TxKind::CardTopup, "490000.00", HOUR)]));
        assert!(
            harness
                .evaluate(&TxBuilder::card_topup("499000.00").build())
                .is_empty()
        );
        Ok(())
    }

    #[test]
    fn the_current_transaction_counts_only_when_it_is_in_the_band() -> TestResult {
        let harness = rule()?.with_host(two_near_topups());
        // 2 before + a small top-up outside the band = 2.
        assert!(
            harness
                .evaluate(&TxBuilder::card_topup("100000.00").build())
                .is_empty()
        );
        // 3 before: the pattern stands even when this one is outside the band.
        let three = rule()?.with_host(history(&[
            (TxKind::CardTopup, "490000.00", 5 * HOUR),
            (TxKind::CardTopup, "495000.00", 3 * HOUR),
            (TxKind::Transfer, "480000.00", HOUR),
        ]));
        let findings = three.evaluate(&TxBuilder::transfer("100000.00").build());
        let finding = only(&findings, "STRUCTURING_NEAR_THRESHOLD");
        assert_eq!(
            finding
                .as_ref()
                .and_then(|f| f.evidence_value("count").map(str::to_owned))
                .as_deref(),
            Some("3")
        );
        assert!(
            finding
                .as_ref()
                .is_some_and(|f| f.message_text().contains("(before this one)"))
        );
        Ok(())
    }

    #[test]
    fn band_ends_are_included_one_tiyn_outside_is_not() -> TestResult {
        let at_lower = rule()?.with_host(history(&[
            (TxKind::CardTopup, "450000.00", 2 * HOUR),
            (TxKind::CardTopup, "450000.00", HOUR),
        ]));
        assert_eq!(
            codes_of(&at_lower.evaluate(&TxBuilder::card_topup("450000.00").build())),
            ["STRUCTURING_NEAR_THRESHOLD"]
        );
        assert!(
            at_lower
                .evaluate(&TxBuilder::card_topup("449999.99").build())
                .is_empty()
        );
        let below = rule()?.with_host(history(&[
            (TxKind::CardTopup, "449999.99", 2 * HOUR),
            (TxKind::CardTopup, "450000.00", HOUR),
        ]));
        assert!(
            below
                .evaluate(&TxBuilder::card_topup("450000.00").build())
                .is_empty()
        );
        let at_top = rule()?.with_host(history(&[
            (TxKind::CardTopup, "500000.00", 2 * HOUR),
            (TxKind::CardTopup, "500000.00", HOUR),
        ]));
        assert_eq!(
            codes_of(&at_top.evaluate(&TxBuilder::card_topup("500000.00").build())),
            ["STRUCTURING_NEAR_THRESHOLD"]
        );
        // One tiyn above: a top-up that needs the IIN, not a third amount under it.
        assert_eq!(
            codes_of(&at_top.evaluate(&TxBuilder::card_topup("500000.01").build())),
            ["TOPUP_SENDER_IIN_REQUIRED"]
        );
        Ok(())
    }

    #[test]
    fn structuring_window_excludes_what_is_24_hours_old() -> TestResult {
        let inside = rule()?.with_host(history(&[
            (TxKind::CardTopup, "490000.00", 24 * HOUR - 1),
            (TxKind::CardTopup, "495000.00", HOUR),
        ]));
        assert_eq!(
            codes_of(&inside.evaluate(&TxBuilder::card_topup("499000.00").build())),
            ["STRUCTURING_NEAR_THRESHOLD"]
        );
        let outside = rule()?.with_host(history(&[
            (TxKind::CardTopup, "490000.00", 24 * HOUR),
            (TxKind::CardTopup, "495000.00", HOUR),
        ]));
        assert!(
            outside
                .evaluate(&TxBuilder::card_topup("499000.00").build())
                .is_empty()
        );
        Ok(())
    }

    #[test]
    fn transfers_and_cash_count_towards_structuring() -> TestResult {
        let harness = rule()?.with_host(history(&[
            (TxKind::Transfer, "470000.00", 6 * HOUR),
            (TxKind::CashDeposit, "460000.00", 4 * HOUR),
        ]));
        let tx = TxBuilder::cash_withdrawal("455000.00")
            .verified(Checks::BIOMETRIC)
            .build();
        let findings = harness.evaluate(&tx);
        assert_eq!(codes_of(&findings), ["STRUCTURING_NEAR_THRESHOLD"]);
        assert!(findings.first().is_some_and(|f| {
            f.message_text()
                .starts_with("cash-withdrawal of 455000.00 KZT")
        }));
        Ok(())
    }

    #[test]
    fn card_payments_and_crypto_are_not_looked_at_nor_counted() -> TestResult {
        let harness = rule()?.with_host(history(&[
            (TxKind::CardPayment, "490000.00", 3 * HOUR),
            (TxKind::CryptoPurchase, "490000.00", 2 * HOUR),
            (TxKind::CardTopup, "490000.00", HOUR),
        ]));
        // Only the top-up is in the counted kinds: 1 + this one = 2.
        assert!(
            harness
                .evaluate(&TxBuilder::card_topup("490000.00").build())
                .is_empty()
        );
        let quiet = rule()?.with_host(two_near_topups());
        for builder in [
            TxBuilder::card_payment("490000.00"),
            TxBuilder::crypto_purchase("490000.00"),
            TxBuilder::crypto_sale("490000.00"),
        ] {
            assert!(quiet.evaluate(&builder.build()).is_empty());
        }
        assert!(quiet.host().queries().is_empty());
        Ok(())
    }

    #[test]
    fn structuring_parameters_come_from_the_pack() -> TestResult {
        let harness = Harness::<KzThreshold>::with_params(&[
            ("structuring-band", "0.05"),
            ("structuring-min-count", "2"),
            ("structuring-window-hours", "2"),
            ("structuring-score", "45"),
        ])?
        .with_host(history(&[
            (TxKind::CardTopup, "475000.00", 2 * HOUR - 1),
            (TxKind::CardTopup, "474999.99", HOUR),
        ]));
        let findings = harness.evaluate(&TxBuilder::card_topup("100.00").build());
        assert!(findings.is_empty(), "{:?}", codes_of(&findings));
        let findings = harness.evaluate(&TxBuilder::card_topup("475000.00").build());
        let finding = only(&findings, "STRUCTURING_NEAR_THRESHOLD");
        assert_eq!(finding.as_ref().map(Finding::risk_score), Some(45));
        assert_eq!(
            finding.as_ref().map(|f| {
                evidence(f)
                    .into_iter()
                    .map(|(n, v)| (n.to_owned(), v.to_owned()))
                    .collect::<Vec<_>>()
            }),
            Some(
                [
                    ("count", "2"),
                    ("window-hours", "2"),
                    ("band-from", "475000.00"),
                    ("band-to", "500000.00"),
                    ("share", "0.6667"),
                    ("transactions", "3"),
                ]
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
                .to_vec()
            )
        );
        Ok(())
    }

    #[test]
    fn the_band_follows_the_topup_threshold() -> TestResult {
        let harness = Harness::<KzThreshold>::with_params(&[("topup-threshold", "1000.01")])?;
        // 1000.01 x 0.9 = 900.009, rounded up to 900.01.
        assert_eq!(harness.rule().structuring_from, tenge("900.01"));
        Ok(())
    }

    #[test]
    fn band_lower_end_is_exact_and_rounded_up_to_the_tiyn() -> Result<(), &'static str> {
        let cases = [
            ("0.1", "500000.00", "450000.00"),
            ("0.10", "500000.00", "450000.00"),
            ("0", "500000.00", "500000.00"),
            ("1", "500000.00", "0.00"),
            ("1.0", "500000.00", "0.00"),
            ("0.5", "0.03", "0.02"),
            ("0.333333333333333333", "0.03", "0.03"),
            ("0.333333333333333333", "3.00", "2.01"),
            ("0.1", "0.00", "0.00"),
            (
                "0.000000000000000001",
                "92233720368547758.07",
                "92233720368547757.98",
            ),
        ];
        for (band, threshold, lower) in cases {
            assert_eq!(
                Band::parse(band)?.lower_end(tenge(threshold)),
                tenge(lower),
                "{band} of {threshold}"
            );
        }
        Ok(())
    }

    #[test]
    fn bad_bands_are_refused_naming_the_parameter() {
        for band in [
            "1.01",
            "2",
            "-0.1",
            "abc",
            "1.",
            "0.1234567890123456789",
            "",
        ] {
            let error = Harness::<KzThreshold>::with_params(&[("structuring-band", band)]).err();
            let message = error.map(|e| e.to_string()).unwrap_or_default();
            assert!(
                message.contains("parameter `structuring-band`"),
                "{band}: {message}"
            );
        }
        assert_eq!(
            Band::parse("1.5"),
            Err("must be a decimal from 0 to 1, such as 0.1")
        );
        assert_eq!(
            Band::parse("0.1234567890123456789"),
            Err("has more than 18 fraction digits")
        );
        assert_eq!(
            Band::parse("00000000000000000000000000000000000000000001"),
            Band::parse("1")
        );
        assert!(Band::parse("100000000000000000000000000000000000000000").is_err());
    }

    #[test]
    fn bad_counts_and_windows_are_refused_naming_the_parameter() {
        let cases = [
            ("structuring-min-count", "1"),
            ("structuring-min-count", "-3"),
            ("structuring-min-count", "4294967296"),
            ("structuring-window-hours", "0"),
            ("structuring-window-hours", "1193047"),
            ("cash-cap-window-hours", "0"),
            ("cash-cap-window-hours", "-24"),
            ("structuring-score", "101"),
            ("cash-cap-score", "101"),
        ];
        for (name, value) in cases {
            let error = Harness::<KzThreshold>::with_params(&[(name, value)]).err();
            let message = error.map(|e| e.to_string()).unwrap_or_default();
            assert!(
                message.contains(&format!("parameter `{name}`")),
                "{name} = {value}: {message}"
            );
        }
        assert!(
            Harness::<KzThreshold>::with_params(&[("structuring-window-hours", "1193046")]).is_ok()
        );
    }

    // --- CASH_DAILY_CAP_EXCEEDED ------------------------------------------

    /// The default sender on `cash-cap-accounts`, with earlier outbound
    /// transactions `past`.
    fn listed(past: &[(TxKind, &str, i64)]) -> MemoryHost {
        history(past).with_listed_account(lists::CASH_CAP_ACCOUNTS, DEFAULT_SENDER_ACCOUNT)
    }

    fn withdrawal(amount: &str) -> qorgan_sdk::testing::TestTx {
        TxBuilder::cash_withdrawal(amount)
            .verified(Checks::BIOMETRIC)
            .build()
    }

    #[test]
    fn listed_account_one_tiyn_over_the_cap_is_held() -> TestResult {
        let harness = rule()?.with_host(listed(&[
            (TxKind::CashWithdrawal, "200000.00", 8 * HOUR),
            (TxKind::CashWithdrawal, "100000.00", 2 * HOUR),
        ]));
        let findings = harness.evaluate(&withdrawal("12000.01"));
        let Some(finding) = only(&findings, "CASH_DAILY_CAP_EXCEEDED") else {
            panic!(
                "expected one CASH_DAILY_CAP_EXCEEDED, got {:?}",
                codes_of(&findings)
            );
        };
        assert_eq!(finding.action(), Action::Hold);
        assert_eq!(finding.risk_score(), 50);
        assert_eq!(finding.requirements(), Checks::NONE);
        assert_eq!(
            evidence(&finding),
            [
                ("cash-out-before", "300000.00"),
                ("this", "12000.01"),
                ("total", "312000.01"),
                ("cap", "312000.00"),
                ("reason", "list"),
            ]
        );
        assert_eq!(
            finding.message_text(),
            "cash withdrawal of 12000.01 KZT from an account on cash-cap-accounts: with \
             300000.00 KZT withdrawn in the last 24 h the cash-out is 312000.01 KZT, above \
             the cap of 312000.00 KZT"
        );
        Ok(())
    }

    #[test]
    fn reaching_the_cap_exactly_is_allowed() -> TestResult {
        let harness = rule()?.with_host(listed(&[(TxKind::CashWithdrawal, "300000.00", 2 * HOUR)]));
        assert!(harness.evaluate(&withdrawal("12000.00")).is_empty());
        Ok(())
    }

    #[test]
    fn one_withdrawal_above_the_cap_is_held_without_history() -> TestResult {
        let harness = rule()?.with_host(listed(&[]));
        let findings = harness.evaluate(&withdrawal("312000.01"));
        let finding = only(&findings, "CASH_DAILY_CAP_EXCEEDED");
        assert_eq!(
            finding
                .as_ref()
                .and_then(|f| f.evidence_value("cash-out-before").map(str::to_owned))
                .as_deref(),
            Some("0.00")
        );
        assert!(harness.evaluate(&withdrawal("312000.00")).is_empty());
        Ok(())
    }

    #[test]
    fn without_the_mule_half_unlisted_accounts_have_no_cap_and_no_cash_out_is_asked() -> TestResult
    {
        let harness = Harness::<KzThreshold>::with_params(&[("cash-cap-mule-score", "0")])?
            .with_host(
                history(&[(TxKind::CashWithdrawal, "300000.00", HOUR)])
                    .with_listed_account(lists::CASH_CAP_ACCOUNTS, DEFAULT_RECIPIENT_ACCOUNT),
            );
        assert!(harness.evaluate(&withdrawal("900000.00")).is_empty());
        // Only the structuring question (a cash withdrawal is a counted kind).
        let queries = harness.host().queries();
        assert_eq!(queries.len(), 1);
        assert!(queries.iter().all(|(_, q)| q.kinds() == STRUCTURING_KINDS));
        Ok(())
    }

    /// A host where the sender received 12 payments of 75000.00 from 12
    /// accounts in the last hour and sent nothing: many senders, pass-through
    /// (with this withdrawal), quick dwell and fan-in then cash-out, a mule
    /// score of 75 under kz-mule's defaults.
    fn mule_like() -> MemoryHost {
        MemoryHost::new().with_aggregate(|at, query| match query.direction() {
            Direction::Inbound => Totals {
                count: 12,
                sum: tenge("900000.00"),
                max: tenge("75000.00"),
                counterparties: 12,
                first: Some(at.time - HOUR),
                last: Some(at.time - 600),
            },
            Direction::Outbound | Direction::Both => Totals::default(),
        })
    }

    #[test]
    fn an_unlisted_account_with_a_high_mule_score_is_capped() -> TestResult {
        let harness = rule()?.with_host(mule_like());
        let findings = harness.evaluate(&withdrawal("880000.00"));
        let Some(finding) = only(&findings, "CASH_DAILY_CAP_EXCEEDED") else {
            panic!(
                "expected CASH_DAILY_CAP_EXCEEDED, got {:?}",
                codes_of(&findings)
            );
        };
        assert_eq!(finding.evidence_value("reason"), Some("mule-score"));
        assert_eq!(finding.evidence_value("mule-score"), Some("75"));
        assert!(
            finding
                .message_text()
                .contains("from an account with mule score 75"),
            "{}",
            finding.message_text()
        );
        Ok(())
    }

    #[test]
    fn an_unlisted_account_below_the_mule_level_is_not_capped() -> TestResult {
        let harness = Harness::<KzThreshold>::with_params(&[("cash-cap-mule-score", "76")])?
            .with_host(mule_like());
        assert!(harness.evaluate(&withdrawal("880000.00")).is_empty());
        // An ordinary account: nothing came in, so no indicator holds.
        let harness = rule()?.with_host(history(&[]));
        assert!(harness.evaluate(&withdrawal("880000.00")).is_empty());
        Ok(())
    }

    #[test]
    fn cap_counts_only_cash_withdrawals_in_the_window() -> TestResult {
        let harness = rule()?.with_host(listed(&[
            (TxKind::CashWithdrawal, "300000.00", 24 * HOUR),
            (TxKind::Transfer, "300000.00", HOUR),
            (TxKind::CashDeposit, "300000.00", HOUR),
            (TxKind::CashWithdrawal, "100000.00", 24 * HOUR - 1),
        ]));
        assert!(harness.evaluate(&withdrawal("212000.00")).is_empty());
        let findings = harness.evaluate(&withdrawal("212000.01"));
        assert_eq!(
            find(&findings, "CASH_DAILY_CAP_EXCEEDED")
                .and_then(|f| f.evidence_value("cash-out-before")),
            Some("100000.00")
        );
        let queries = harness.host().queries();
        let cash_out: Vec<_> = queries
            .iter()
            .filter(|(_, q)| q.kinds() != STRUCTURING_KINDS)
            .collect();
        assert_eq!(cash_out.len(), 2);
        assert!(
            cash_out
                .iter()
                .all(|(_, q)| q.kinds() == Kinds::CASH_WITHDRAWAL
                    && q.direction() == Direction::Outbound
                    && q.window_secs() == 86_400
                    && q.account() == DEFAULT_SENDER_ACCOUNT)
        );
        Ok(())
    }

    #[test]
    fn only_withdrawals_are_capped() -> TestResult {
        let harness = rule()?.with_host(listed(&[(TxKind::CashWithdrawal, "300000.00", HOUR)]));
        let deposit = TxBuilder::cash_deposit("400000.00")
            .verified(Checks::BIOMETRIC)
            .build();
        assert!(harness.evaluate(&deposit).is_empty());
        assert!(
            harness
                .evaluate(&TxBuilder::transfer("400000.00").build())
                .is_empty()
        );
        Ok(())
    }

    #[test]
    fn cap_without_biometrics_gives_both_findings() -> TestResult {
        let harness = rule()?.with_host(listed(&[]));
        let findings = harness.evaluate(&TxBuilder::cash_withdrawal("320000.00").build());
        assert_eq!(
            codes_of(&findings),
            ["CASH_BIOMETRIC_REQUIRED", "CASH_DAILY_CAP_EXCEEDED"]
        );
        Ok(())
    }

    #[test]
    fn cash_cap_parameters_come_from_the_pack() -> TestResult {
        let harness = Harness::<KzThreshold>::with_params(&[
            ("cash-cap", "100000.00"),
            ("cash-cap-window-hours", "1"),
            ("cash-cap-score", "80"),
        ])?
        .with_host(listed(&[
            (TxKind::CashWithdrawal, "60000.00", HOUR - 1),
            (TxKind::CashWithdrawal, "60000.00", HOUR),
        ]));
        assert!(harness.evaluate(&withdrawal("40000.00")).is_empty());
        let findings = harness.evaluate(&withdrawal("40000.01"));
        let finding = only(&findings, "CASH_DAILY_CAP_EXCEEDED");
        assert_eq!(finding.as_ref().map(Finding::risk_score), Some(80));
        assert_eq!(
            finding
                .as_ref()
                .and_then(|f| f.evidence_value("total").map(str::to_owned))
                .as_deref(),
            Some("100000.01")
        );
        Ok(())
    }

    // --- the example from docs/contracts.md --------------------------------

    #[test]
    fn design_example_topup_to_a_vasp_needs_the_sender_iin() -> TestResult {
        let tx = TxBuilder::card_topup("600000.00")
            .channel(Channel::MobileApp)
            .sender_iin("061211600012")
            .recipient_kind(qorgan_sdk::PartyKind::Vasp)
            .recipient_vasp("okx")
            .remittance("USDT обмен")
            .verified(Checks::RECIPIENT_IIN)
            .build();
        let findings = rule()?.evaluate(&tx);
        assert_eq!(codes_of(&findings), ["TOPUP_SENDER_IIN_REQUIRED"]);
        assert_eq!(findings.first().map(Finding::risk_score), Some(35));
        Ok(())
    }
}
