//! Unit tests of `kz-mule`, natively, against the SDK's `MemoryHost`.
//!
//! Most tests tell a [`Story`]: what the host knows about the sending
//! account (inbound and outbound totals per window, when it was first seen,
//! how many accounts share its device and its IIN). The story answers
//! [`MemoryHost::with_aggregate`] by the query's direction, window and
//! amount limit, and a [`Spy`] records every question the rule asks, so a
//! test can also prove what was *not* asked.
//!
//! Boundary tests of single indicators use a [`probe`]: the rule with
//! `min-indicators` 1 and `elevated-score` 1, so one indicator that holds is
//! enough for a finding whose evidence names it and its measured value.

use core::cell::RefCell;

use qorgan_sdk::testing::{
    DEFAULT_SENDER_ACCOUNT, DEFAULT_TIME, Harness, MemoryHost, SetupError, TestTx, TxBuilder,
    configure,
};
use qorgan_sdk::{Account, Cursor, Level, ParamType, Timestamp};

use super::*;

type TestResult = Result<(), SetupError>;

// --- helpers --------------------------------------------------------------------

/// The time of every decided transaction (2025-03-01T10:00:00Z).
const NOW: Timestamp = DEFAULT_TIME;
const MINUTE: i64 = 60;
const HOUR: i64 = 3_600;

/// The sending account every story is about.
const MULE: Account = DEFAULT_SENDER_ACCOUNT;
/// The device handle of transactions made from a device.
const DEVICE: u64 = 7_001;
/// The holder (IIN) handle of senders with a holder.
const HOLDER: u64 = 8_001;

fn money(text: &str) -> Money {
    match Money::parse(text) {
        Ok(money) => money,
        Err(error) => panic!("bad amount in a test: {error}"),
    }
}

/// `count` payments adding up to `sum`, from as many distinct accounts,
/// the first three hours and the last two hours before the transaction.
fn payments(count: u32, sum: &str) -> Totals {
    Totals {
        count,
        sum: money(sum),
        max: money(sum),
        counterparties: count,
        first: Some(NOW - 3 * HOUR),
        last: Some(NOW - 2 * HOUR),
    }
}

/// The windows (in seconds) and the small-payment limit the rule is
/// configured with, so the story knows which question is which.
#[derive(Debug, Clone, Copy)]
struct Windows {
    activity: u32,
    month: u32,
    dwell: u32,
    dormant: u32,
    two_sided: u32,
    /// `window-hours` + `usual-days`.
    usual: u32,
    small: Money,
}

impl Default for Windows {
    /// The declared defaults: 24 h, 30 days, 60 minutes, 60 days, 7 days,
    /// 24 h + 28 days, 100000.00.
    fn default() -> Windows {
        Windows {
            activity: 86_400,
            month: 30 * 86_400,
            dwell: 3_600,
            dormant: 60 * 86_400,
            two_sided: 7 * 86_400,
            usual: 29 * 86_400,
            small: Money::from_tiyn(10_000_000),
        }
    }
}

/// What the host knows about [`MULE`]; every other account has no history.
#[derive(Debug, Clone, Copy, Default)]
struct Story {
    /// Inbound in `window-hours`.
    inbound: Totals,
    /// Outbound in `window-hours`.
    outbound: Totals,
    /// Outbound in `two-sided-days`.
    week_out: Totals,
    /// Inbound in `income-window-days`.
    month: Totals,
    /// Inbound in `dwell-minutes`.
    dwell: Totals,
    /// Inbound in `window-hours`, at most `fan-in-small` each.
    small: Totals,
    /// Both directions in `dormant-days`.
    quiet: Totals,
    /// Inbound in `window-hours` + `usual-days`.
    usual: Totals,
    first_seen: Option<Timestamp>,
    /// Accounts linked to [`DEVICE`].
    device_accounts: u32,
    /// Accounts linked to [`HOLDER`].
    holder_accounts: u32,
    windows: Windows,
}

impl Story {
    fn answer(&self, query: &Query) -> Totals {
        let w = self.windows;
        if query.account() != MULE {
            return Totals::default();
        }
        let limited = query.max_amount() != Money::MAX;
        match (query.direction(), query.window_secs(), limited) {
            (Direction::Inbound, window, true)
                if window == w.activity && query.max_amount() == w.small =>
            {
                self.small
            }
            (Direction::Inbound, window, false) if window == w.activity => self.inbound,
            (Direction::Outbound, window, false) if window == w.activity => self.outbound,
            (Direction::Outbound, window, false) if window == w.two_sided => self.week_out,
            (Direction::Inbound, window, false) if window == w.month => self.month,
            (Direction::Inbound, window, false) if window == w.dwell => self.dwell,
            (Direction::Both, window, false) if window == w.dormant => self.quiet,
            (Direction::Inbound, window, false) if window == w.usual => self.usual,
            _ => Totals::default(),
        }
    }

    fn host(self) -> MemoryHost {
        let mut host = MemoryHost::new()
            .with_aggregate(move |_, query| self.answer(query))
            .with_linked_accounts(DEVICE, self.device_accounts)
            .with_linked_accounts(HOLDER, self.holder_accounts);
        if let Some(time) = self.first_seen {
            host = host.with_first_seen(MULE, time);
        }
        host
    }
}

/// One question the rule asked the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Asked {
    Aggregate(Query),
    FirstSeen(Account),
    Linked(u64, u32),
}

/// A host that answers from a [`MemoryHost`] and records every question,
/// including `first_seen` and the linked-account counts (which `MemoryHost` does not
/// record).
struct Spy {
    inner: MemoryHost,
    asked: RefCell<Vec<(Cursor, Asked)>>,
}

impl Spy {
    fn new(inner: MemoryHost) -> Spy {
        Spy {
            inner,
            asked: RefCell::new(Vec::new()),
        }
    }

    fn asked(&self) -> Vec<Asked> {
        self.asked
            .borrow()
            .iter()
            .map(|(_, asked)| *asked)
            .collect()
    }

    fn cursors(&self) -> Vec<Cursor> {
        self.asked.borrow().iter().map(|(at, _)| *at).collect()
    }

    fn asked_window(&self, direction: Direction, window: u32) -> bool {
        self.asked().iter().any(|asked| {
            matches!(asked, Asked::Aggregate(q) if q.direction() == direction && q.window_secs() == window)
        })
    }

    fn asked_first_seen(&self) -> bool {
        self.asked()
            .iter()
            .any(|asked| matches!(asked, Asked::FirstSeen(_)))
    }

    fn asked_linked(&self, key: u64) -> bool {
        self.asked()
            .iter()
            .any(|asked| matches!(asked, Asked::Linked(k, _) if *k == key))
    }
}

impl Host for Spy {
    fn aggregate(&self, at: Cursor, query: &Query) -> Totals {
        self.asked.borrow_mut().push((at, Asked::Aggregate(*query)));
        self.inner.aggregate(at, query)
    }

    fn first_seen(&self, at: Cursor, account: Account) -> Option<Timestamp> {
        self.asked
            .borrow_mut()
            .push((at, Asked::FirstSeen(account)));
        self.inner.first_seen(at, account)
    }

    fn accounts_on_device(&self, at: Cursor, device: u64, window_secs: u32) -> u32 {
        self.asked
            .borrow_mut()
            .push((at, Asked::Linked(device, window_secs)));
        self.inner.accounts_on_device(at, device, window_secs)
    }

    fn accounts_of_holder(&self, at: Cursor, holder: u64, window_secs: u32) -> u32 {
        self.asked
            .borrow_mut()
            .push((at, Asked::Linked(holder, window_secs)));
        self.inner.accounts_of_holder(at, holder, window_secs)
    }

    fn reference(&self, account: Account) -> Option<String> {
        self.inner.reference(account)
    }

    fn counterparties(&self, at: Cursor, query: &Query, limit: u32) -> qorgan_sdk::Flows {
        self.inner.counterparties(at, query, limit)
    }

    fn trace_back(
        &self,
        at: Cursor,
        account: Account,
        amount: qorgan_sdk::Money,
        trail: &qorgan_sdk::Trail,
    ) -> qorgan_sdk::Path {
        self.inner.trace_back(at, account, amount, trail)
    }

    fn find_path(
        &self,
        at: Cursor,
        source: Account,
        target: Account,
        window_secs: u32,
        trail: &qorgan_sdk::Trail,
    ) -> qorgan_sdk::Path {
        self.inner.find_path(at, source, target, window_secs, trail)
    }

    fn list_contains(&self, name: &str, _key: &str) -> bool {
        panic!("kz-mule declares no lists, but asked about list `{name}`")
    }

    fn list_contains_account(&self, name: &str, _account: Account) -> bool {
        panic!("kz-mule declares no lists, but asked about list `{name}`")
    }

    fn log(&self, level: Level, message: &str) {
        self.inner.log(level, message);
    }
}

/// The rule configured as the host would: declared defaults, then `overrides`.
fn rule(overrides: &[(&str, &str)]) -> Result<KzMule, SetupError> {
    configure::<KzMule>(overrides)
}

/// The rule where one indicator that holds makes a finding
/// (`min-indicators` 1, `elevated-score` 1, `high-score` 100), with
/// `overrides` on top.
fn probe(overrides: &[(&str, &str)]) -> Result<KzMule, SetupError> {
    let mut all = vec![
        (params::MIN_INDICATORS, "1"),
        (params::ELEVATED_SCORE, "1"),
        (params::HIGH_SCORE, "100"),
    ];
    all.extend_from_slice(overrides);
    rule(&all)
}

/// Decides `tx` with `story` as the host's history; returns the findings and
/// the host, to see what was asked. Fails the test on an undeclared code.
fn decide(rule: &KzMule, story: Story, tx: &TestTx) -> (Vec<Finding>, Spy) {
    let spy = Spy::new(story.host());
    let mut out = Findings::new();
    rule.evaluate(&tx.tx(), &spy, &mut out);
    let findings = out.into_vec();
    let metadata = KzMule::metadata();
    for finding in &findings {
        assert!(
            metadata.find_code(finding.code()).is_some(),
            "undeclared code {}",
            finding.code()
        );
    }
    (findings, spy)
}

fn findings(rule: &KzMule, story: Story, tx: &TestTx) -> Vec<Finding> {
    decide(rule, story, tx).0
}

fn codes_of(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(Finding::code).collect()
}

/// The one finding, or the test fails saying what there was.
fn only(findings: &[Finding]) -> &Finding {
    match findings {
        [finding] => finding,
        _ => panic!("expected one finding, got {:?}", codes_of(findings)),
    }
}

/// The `indicators` evidence of the one finding, or "" when there is none.
fn held(findings: &[Finding]) -> String {
    if findings.is_empty() {
        return String::new();
    }
    only(findings)
        .evidence_value("indicators")
        .unwrap_or("(no indicators evidence)")
        .to_owned()
}

/// The evidence `name` of the one finding.
fn shown<'a>(findings: &'a [Finding], name: &str) -> Option<&'a str> {
    only(findings).evidence_value(name)
}

fn evidence(finding: &Finding) -> Vec<(&str, &str)> {
    finding
        .evidence_items()
        .iter()
        .map(|e| (e.name(), e.value()))
        .collect()
}

fn transfer(amount: &str) -> TestTx {
    TxBuilder::transfer(amount).build()
}

fn withdrawal(amount: &str) -> TestTx {
    TxBuilder::cash_withdrawal(amount).build()
}

// Stories that make exactly one indicator hold (with the default
// parameters), for tests of the gate and the levels.

/// many-senders (20): ten senders, 50000.00 in, two hours ago.
fn ten_senders() -> Story {
    Story {
        inbound: payments(10, "50000.00"),
        ..Story::default()
    }
}

/// pass-through (20) and many-senders (20): twelve senders, 200000.00 in,
/// out of which 100000.00 went already; a 90000.00 transfer makes 0.95.
fn twelve_senders_passed_through() -> Story {
    Story {
        inbound: payments(12, "200000.00"),
        outbound: payments(1, "100000.00"),
        ..Story::default()
    }
}

// --- metadata ------------------------------------------------------------------

#[test]
fn metadata_declares_the_id_version_and_both_codes_with_their_actions() {
    let metadata = KzMule::metadata();
    assert_eq!(metadata.validate(), Ok(()));
    assert_eq!(metadata.id(), "kz-mule");
    assert_eq!(metadata.version(), env!("CARGO_PKG_VERSION"));
    assert!(!metadata.description().trim().is_empty());
    let codes: Vec<(&str, Action)> = metadata
        .codes()
        .iter()
        .map(|c| (c.code(), c.action()))
        .collect();
    assert_eq!(
        codes,
        [
            (codes::MULE_SCORE_ELEVATED, Action::Review),
            (codes::MULE_SCORE_HIGH, Action::Hold),
        ]
    );
    assert_eq!(codes::MULE_SCORE_ELEVATED, "MULE_SCORE_ELEVATED");
    assert_eq!(codes::MULE_SCORE_HIGH, "MULE_SCORE_HIGH");
    assert!(metadata.lists().is_empty());
    assert!(
        metadata
            .codes()
            .iter()
            .all(|c| !c.description().trim().is_empty())
    );
}

#[test]
fn every_parameter_is_declared_with_its_type_and_documented_default() {
    let metadata = KzMule::metadata();
    let declared: Vec<(&str, ParamType, &str)> = metadata
        .params()
        .iter()
        .map(|p| (p.name(), p.kind(), p.default_value()))
        .collect();
    let integer = ParamType::Integer;
    let decimal = ParamType::Decimal;
    let tenge = ParamType::Money;
    assert_eq!(
        declared,
        [
            ("window-hours", integer, "24"),
            ("min-indicators", integer, "2"),
            ("elevated-score", integer, "50"),
            ("high-score", integer, "75"),
            ("new-account-days", integer, "30"),
            ("many-senders", integer, "10"),
            ("many-transactions", integer, "30"),
            ("pass-through-min", decimal, "0.9"),
            ("pass-through-max", decimal, "1.1"),
            ("pass-through-min-inflow", tenge, "100000.00"),
            ("dwell-minutes", integer, "60"),
            ("dwell-min-inflow", tenge, "50000.00"),
            ("dwell-share", decimal, "0.5"),
            ("fan-in-payments", integer, "5"),
            ("fan-in-small", tenge, "100000.00"),
            ("cash-out-share", decimal, "0.8"),
            ("dormant-days", integer, "60"),
            ("income-multiple", decimal, "3"),
            ("income-min-inflow", tenge, "300000.00"),
            ("income-window-days", integer, "30"),
            ("shared-device-accounts", integer, "3"),
            ("cards-per-holder", integer, "5"),
            ("link-window-days", integer, "30"),
            ("two-sided-payees", integer, "5"),
            ("two-sided-days", integer, "7"),
            ("usual-payers", integer, "60"),
            ("usual-days", integer, "28"),
            ("usual-since-days", integer, "14"),
            ("new-account-weight", integer, "20"),
            ("many-senders-weight", integer, "20"),
            ("many-transactions-weight", integer, "10"),
            ("pass-through-weight", integer, "20"),
            ("quick-dwell-weight", integer, "10"),
            ("fan-in-cash-out-weight", integer, "25"),
            ("dormant-weight", integer, "15"),
            ("income-multiple-weight", integer, "15"),
            ("shared-device-weight", integer, "20"),
            ("many-cards-weight", integer, "20"),
        ]
    );
    assert!(
        metadata
            .params()
            .iter()
            .all(|p| !p.description().trim().is_empty()),
        "every parameter is described"
    );
}

#[test]
fn each_weight_parameter_is_named_after_its_indicator_and_says_what_it_weighs() {
    let metadata = KzMule::metadata();
    let names: Vec<&str> = Indicator::ALL.iter().map(|i| i.name()).collect();
    assert_eq!(
        names,
        [
            "new-account",
            "many-senders",
            "many-transactions",
            "pass-through",
            "quick-dwell",
            "fan-in-cash-out",
            "dormant",
            "income-multiple",
            "shared-device",
            "many-cards",
        ]
    );
    for indicator in Indicator::ALL {
        let name = indicator.weight_param();
        assert_eq!(name, format!("{}-weight", indicator.name()));
        let Some(spec) = metadata.find_param(&name) else {
            panic!("{name} is not declared");
        };
        assert!(
            spec.description().contains(indicator.name()),
            "{name}: {}",
            spec.description()
        );
        assert!(spec.description().contains("0 switches it off"), "{name}");
    }
}

#[test]
fn the_defaults_configure() -> TestResult {
    let harness = Harness::<KzMule>::new()?;
    assert_eq!(harness.metadata().id(), "kz-mule");
    assert_eq!(harness.rule(), &rule(&[])?);
    Ok(())
}

// --- configuration --------------------------------------------------------------

fn refusal(overrides: &[(&str, &str)]) -> String {
    match Harness::<KzMule>::with_params(overrides) {
        Ok(_) => format!("accepted {overrides:?}"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn a_high_score_below_the_elevated_score_is_refused() {
    let message = refusal(&[("elevated-score", "60"), ("high-score", "59")]);
    assert_eq!(
        message,
        "configure refused: parameter `high-score` = `59`: must not be below elevated-score (60)"
    );
}

#[test]
fn a_high_score_equal_to_the_elevated_score_is_accepted_and_wins() -> TestResult {
    let rule = rule(&[("elevated-score", "40"), ("high-score", "40")])?;
    let found = findings(
        &rule,
        twelve_senders_passed_through(),
        &transfer("90000.00"),
    );
    assert_eq!(codes_of(&found), [codes::MULE_SCORE_HIGH]);
    Ok(())
}

#[test]
fn a_pass_through_max_below_the_min_is_refused() {
    let message = refusal(&[("pass-through-min", "0.9"), ("pass-through-max", "0.89")]);
    assert_eq!(
        message,
        "configure refused: parameter `pass-through-max` = `0.89`: must not be below \
         pass-through-min (0.9)"
    );
}

#[test]
fn a_pass_through_max_equal_in_value_to_the_min_is_accepted() -> TestResult {
    let rule = probe(&[("pass-through-min", "1"), ("pass-through-max", "1.00")])?;
    let story = Story {
        inbound: payments(1, "100000.00"),
        ..Story::default()
    };
    let exact = findings(&rule, story, &transfer("100000.00"));
    assert_eq!(held(&exact), "pass-through");
    assert_eq!(shown(&exact, "pass-through-ratio"), Some("1.0000"));
    assert!(findings(&rule, story, &transfer("100000.01")).is_empty());
    assert!(findings(&rule, story, &transfer("99999.99")).is_empty());
    Ok(())
}

#[test]
fn counts_of_zero_or_below_are_refused_naming_the_parameter() {
    for name in [
        "min-indicators",
        "many-senders",
        "many-transactions",
        "fan-in-payments",
        "shared-device-accounts",
        "cards-per-holder",
    ] {
        for value in ["0", "-1"] {
            assert_eq!(
                refusal(&[(name, value)]),
                format!(
                    "configure refused: parameter `{name}` = `{value}`: must be a whole \
                     number of at least 1"
                )
            );
        }
        assert_eq!(
            refusal(&[(name, "4294967296")]),
            format!(
                "configure refused: parameter `{name}` = `4294967296`: must be a whole \
                 number of at least 1"
            )
        );
    }
}

#[test]
fn money_thresholds_of_zero_or_below_are_refused_naming_the_parameter() {
    for name in [
        "pass-through-min-inflow",
        "dwell-min-inflow",
        "fan-in-small",
        "income-min-inflow",
    ] {
        for value in ["0.00", "-0.01"] {
            assert_eq!(
                refusal(&[(name, value)]),
                format!("configure refused: parameter `{name}` = `{value}`: must be above 0.00")
            );
        }
    }
}

#[test]
fn the_smallest_money_thresholds_and_counts_of_one_are_accepted() -> TestResult {
    rule(&[
        ("pass-through-min-inflow", "0.01"),
        ("dwell-min-inflow", "0.01"),
        ("fan-in-small", "0.01"),
        ("income-min-inflow", "0.01"),
        ("min-indicators", "1"),
        ("many-senders", "1"),
        ("many-transactions", "1"),
        ("fan-in-payments", "1"),
        ("shared-device-accounts", "1"),
        ("cards-per-holder", "4294967295"),
    ])?;
    Ok(())
}

#[test]
fn windows_out_of_range_are_refused_naming_the_parameter() {
    let cases = [
        ("window-hours", "0", 1_193_046),
        ("window-hours", "1193047", 1_193_046),
        ("window-hours", "-24", 1_193_046),
        ("dwell-minutes", "0", 71_582_788),
        ("dwell-minutes", "71582789", 71_582_788),
        ("new-account-days", "0", 49_710),
        ("new-account-days", "49711", 49_710),
        ("dormant-days", "0", 49_710),
        ("dormant-days", "49711", 49_710),
        ("income-window-days", "0", 49_710),
        ("income-window-days", "49711", 49_710),
        ("link-window-days", "0", 49_710),
        ("link-window-days", "49711", 49_710),
        ("two-sided-days", "0", 49_710),
        ("two-sided-days", "49711", 49_710),
    ];
    for (name, value, max) in cases {
        assert_eq!(
            refusal(&[(name, value)]),
            format!(
                "configure refused: parameter `{name}` = `{value}`: must be between 1 and {max}"
            )
        );
    }
}

#[test]
fn windows_at_either_end_of_their_range_are_accepted() -> TestResult {
    rule(&[
        ("window-hours", "1"),
        ("dwell-minutes", "1"),
        ("new-account-days", "1"),
        ("dormant-days", "1"),
        ("income-window-days", "1"),
        ("link-window-days", "1"),
        ("two-sided-days", "1"),
    ])?;
    rule(&[
        ("window-hours", "1193046"),
        ("dwell-minutes", "71582788"),
        ("new-account-days", "49710"),
        ("dormant-days", "49710"),
        ("income-window-days", "49710"),
        ("link-window-days", "49710"),
        ("two-sided-days", "49710"),
    ])?;
    Ok(())
}

#[test]
fn a_two_sided_payees_below_0_or_above_u32_max_is_refused_and_0_to_u32_max_are_accepted()
-> TestResult {
    for value in ["-1", "4294967296"] {
        assert_eq!(
            refusal(&[("two-sided-payees", value)]),
            format!(
                "configure refused: parameter `two-sided-payees` = `{value}`: must be between \
                 0 and 4294967295"
            )
        );
    }
    for value in ["0", "1", "4294967295"] {
        rule(&[("two-sided-payees", value)])?;
    }
    Ok(())
}

#[test]
fn score_levels_outside_1_to_100_are_refused() {
    for (name, value) in [
        ("elevated-score", "0"),
        ("elevated-score", "101"),
        ("high-score", "0"),
        ("high-score", "101"),
    ] {
        let message = refusal(&[(name, value)]);
        assert!(
            message.contains(&format!(
                "parameter `{name}` = `{value}`: must be between 1 and 100"
            )),
            "{name} = {value}: {message}"
        );
    }
}

#[test]
fn weights_outside_0_to_100_are_refused() {
    for indicator in Indicator::ALL {
        let name = indicator.weight_param();
        for value in ["101", "-1"] {
            assert_eq!(
                refusal(&[(&name, value)]),
                format!(
                    "configure refused: parameter `{name}` = `{value}`: a score must be \
                     between 0 and 100"
                )
            );
        }
    }
}

#[test]
fn values_of_the_wrong_type_are_refused_like_the_host_does() {
    for (name, value) in [
        ("pass-through-min", "ninety"),
        ("dwell-share", "-0.5"),
        ("window-hours", "24.5"),
        ("fan-in-small", "1e5"),
    ] {
        let message = refusal(&[(name, value)]);
        assert!(
            message.contains(&format!("parameter `{name}`")),
            "{name} = {value}: {message}"
        );
    }
}

// --- who is scored ------------------------------------------------------------

/// A story under which the default rule flags any scored transaction of
/// 90000.00: many-senders and pass-through (40) plus many-cards (20).
fn flagged_whatever_the_kind() -> Story {
    Story {
        holder_accounts: 5,
        ..twelve_senders_passed_through()
    }
}

#[test]
fn individual_senders_of_money_leaving_the_account_are_scored() -> TestResult {
    let rule = rule(&[])?;
    for kind in [
        TxKind::Transfer,
        TxKind::CashWithdrawal,
        TxKind::CryptoPurchase,
        TxKind::CardTopup,
        TxKind::Other,
    ] {
        let tx = TxBuilder::new(kind, "90000.00")
            .sender_holder(HOLDER)
            .build();
        let (found, spy) = decide(&rule, flagged_whatever_the_kind(), &tx);
        assert_eq!(codes_of(&found), [codes::MULE_SCORE_ELEVATED], "{kind}");
        assert_eq!(
            held(&found),
            "many-senders, pass-through, many-cards",
            "{kind}"
        );
        assert!(!spy.asked().is_empty(), "{kind}");
    }
    Ok(())
}

#[test]
fn card_payments_cash_deposits_and_crypto_sales_are_not_scored_nor_looked_up() -> TestResult {
    let rule = rule(&[])?;
    let harness = Harness::<KzMule>::new()?.with_host(flagged_whatever_the_kind().host());
    for kind in [TxKind::CardPayment, TxKind::CashDeposit, TxKind::CryptoSale] {
        let tx = TxBuilder::new(kind, "90000.00")
            .sender_holder(HOLDER)
            .device(DEVICE)
            .build();
        assert!(harness.evaluate(&tx).is_empty(), "{kind}");
        let (found, spy) = decide(&rule, flagged_whatever_the_kind(), &tx);
        assert!(found.is_empty(), "{kind}");
        assert_eq!(spy.asked(), [], "{kind}");
    }
    assert!(harness.host().queries().is_empty());
    Ok(())
}

#[test]
fn business_vasp_and_unknown_senders_are_not_scored_nor_looked_up() -> TestResult {
    let rule = rule(&[])?;
    let harness = Harness::<KzMule>::new()?.with_host(flagged_whatever_the_kind().host());
    for party in [PartyKind::Business, PartyKind::Vasp, PartyKind::Unknown] {
        for kind in [TxKind::Transfer, TxKind::CashWithdrawal, TxKind::CardTopup] {
            let tx = TxBuilder::new(kind, "90000.00")
                .sender_kind(party)
                .sender_holder(HOLDER)
                .device(DEVICE)
                .build();
            assert!(harness.evaluate(&tx).is_empty(), "{party} {kind}");
            let (found, spy) = decide(&rule, flagged_whatever_the_kind(), &tx);
            assert!(found.is_empty(), "{party} {kind}");
            assert_eq!(spy.asked(), [], "{party} {kind}");
        }
    }
    assert!(harness.host().queries().is_empty());
    Ok(())
}

#[test]
fn a_business_payroll_account_funded_and_emptied_within_the_hour_is_not_scored() -> TestResult {
    let payroll = Story {
        inbound: payments(1, "5000000.00"),
        dwell: payments(1, "5000000.00"),
        outbound: payments(40, "4900000.00"),
        ..Story::default()
    };
    let tx = TxBuilder::transfer("100000.00")
        .sender_kind(PartyKind::Business)
        .build();
    assert!(findings(&rule(&[])?, payroll, &tx).is_empty());
    // Not because paying 40 employees is two-sided: the business is not
    // scored with the two-sided check off either.
    let (found, spy) = decide(&probe(&[("two-sided-payees", "0")])?, payroll, &tx);
    assert!(found.is_empty());
    assert_eq!(spy.asked(), []);
    // The same flow from an individual's account, two-sided check off, is.
    let as_individual = TxBuilder::transfer("100000.00").build();
    let unchecked = probe(&[("two-sided-payees", "0")])?;
    assert!(!findings(&unchecked, payroll, &as_individual).is_empty());
    Ok(())
}

#[test]
fn the_rule_asks_about_the_senders_account_as_of_the_transaction() -> TestResult {
    let tx = TxBuilder::cash_withdrawal("90000.00")
        .seq(42)
        .recipient_account(99)
        .sender_holder(HOLDER)
        .device(DEVICE)
        .build();
    let story = Story {
        inbound: Totals {
            last: Some(NOW - 10 * MINUTE),
            ..payments(12, "200000.00")
        },
        first_seen: Some(NOW - 100 * DAY),
        ..Story::default()
    };
    let (_, spy) = decide(&rule(&[])?, story, &tx);
    let at = tx.tx().at();
    assert!(
        spy.cursors()
            .iter()
            .all(|c| c.seq == at.seq && c.time == at.time)
    );
    assert_eq!(at.seq, 42);
    for asked in spy.asked() {
        match asked {
            Asked::Aggregate(query) => assert_eq!(query.account(), MULE, "{query:?}"),
            Asked::FirstSeen(account) => assert_eq!(account, MULE),
            Asked::Linked(key, window) => {
                assert!(key == DEVICE || key == HOLDER, "{key}");
                assert_eq!(window, 30 * 86_400);
            }
        }
    }
    Ok(())
}

#[test]
fn with_the_defaults_every_indicators_question_is_asked_once() -> TestResult {
    let tx = TxBuilder::cash_withdrawal("90000.00")
        .sender_holder(HOLDER)
        .device(DEVICE)
        .build();
    let story = Story {
        inbound: Totals {
            last: Some(NOW - 10 * MINUTE),
            ..payments(12, "200000.00")
        },
        first_seen: Some(NOW - 100 * DAY),
        ..Story::default()
    };
    let (_, spy) = decide(&rule(&[])?, story, &tx);
    let shapes: Vec<String> = spy
        .asked()
        .iter()
        .map(|asked| match asked {
            Asked::Aggregate(q) if q.max_amount() == Money::MAX => {
                format!("{} {}", q.direction(), q.window_secs())
            }
            Asked::Aggregate(q) => {
                format!(
                    "{} {} at most {}",
                    q.direction(),
                    q.window_secs(),
                    q.max_amount()
                )
            }
            Asked::FirstSeen(_) => "first-seen".to_owned(),
            Asked::Linked(key, window) => format!("linked {key} {window}"),
        })
        .collect();
    // The two-sided check first: the window's payees, then (fewer than
    // two-sided-payees there) the week's; the indicators' questions after,
    // with the usual volume's because many-senders holds.
    assert_eq!(
        shapes,
        [
            "outbound 86400",
            "outbound 604800",
            "inbound 86400",
            "inbound 2592000",
            "inbound 2505600",
            "inbound 3600",
            "inbound 86400 at most 100000.00",
            "first-seen",
            "both 5184000",
            "linked 7001 2592000",
            "linked 8001 2592000",
        ]
    );
    Ok(())
}

// --- new-account ----------------------------------------------------------------

/// Money came in first two hours ago; the account was opened `age` seconds
/// before that.
fn opened_before_first_money(age: i64) -> (Story, TestTx) {
    let first_in = NOW - 2 * HOUR;
    let story = Story {
        month: Totals {
            first: Some(first_in),
            ..payments(1, "1000.00")
        },
        ..Story::default()
    };
    let tx = TxBuilder::transfer("500.00")
        .sender_opened(first_in - age)
        .build();
    (story, tx)
}

#[test]
fn an_account_opened_29_days_before_its_first_money_in_is_new() -> TestResult {
    let rule = probe(&[])?;
    let (story, tx) = opened_before_first_money(29 * DAY);
    let found = findings(&rule, story, &tx);
    assert_eq!(held(&found), "new-account");
    assert_eq!(shown(&found, "account-age-days"), Some("29"));
    let (story, tx) = opened_before_first_money(30 * DAY - 1);
    let found = findings(&rule, story, &tx);
    assert_eq!(held(&found), "new-account");
    assert_eq!(shown(&found, "account-age-days"), Some("29"));
    Ok(())
}

#[test]
fn an_account_opened_30_days_before_its_first_money_in_is_not_new() -> TestResult {
    let (story, tx) = opened_before_first_money(30 * DAY);
    assert_eq!(held(&findings(&probe(&[])?, story, &tx)), "");
    Ok(())
}

#[test]
fn an_account_opened_the_day_of_its_first_money_in_is_zero_days_old() -> TestResult {
    let rule = probe(&[])?;
    let (story, tx) = opened_before_first_money(5 * HOUR);
    assert_eq!(
        shown(&findings(&rule, story, &tx), "account-age-days"),
        Some("0")
    );
    // Opened (by the bank's date) after its first money in: still new, age 0.
    let (story, tx) = opened_before_first_money(-DAY);
    assert_eq!(
        shown(&findings(&rule, story, &tx), "account-age-days"),
        Some("0")
    );
    Ok(())
}

#[test]
fn an_account_without_an_opened_date_is_never_new() -> TestResult {
    let (story, _) = opened_before_first_money(DAY);
    let tx = transfer("500.00");
    assert_eq!(held(&findings(&probe(&[])?, story, &tx)), "");
    Ok(())
}

#[test]
fn an_account_that_received_nothing_in_the_income_window_is_not_new() -> TestResult {
    let tx = TxBuilder::transfer("500.00")
        .sender_opened(NOW - DAY)
        .build();
    assert_eq!(held(&findings(&probe(&[])?, Story::default(), &tx)), "");
    Ok(())
}

#[test]
fn new_account_days_comes_from_the_pack() -> TestResult {
    let rule = probe(&[("new-account-days", "7")])?;
    let (story, tx) = opened_before_first_money(7 * DAY - 1);
    assert_eq!(
        shown(&findings(&rule, story, &tx), "account-age-days"),
        Some("6")
    );
    let (story, tx) = opened_before_first_money(7 * DAY);
    assert!(findings(&rule, story, &tx).is_empty());
    Ok(())
}

// --- many-senders ---------------------------------------------------------------

#[test]
fn ten_senders_make_many_senders() -> TestResult {
    let found = findings(&probe(&[])?, ten_senders(), &transfer("1000.00"));
    assert_eq!(held(&found), "many-senders");
    assert_eq!(shown(&found, "senders"), Some("10"));
    Ok(())
}

#[test]
fn nine_senders_do_not_make_many_senders() -> TestResult {
    let story = Story {
        inbound: payments(9, "45000.00"),
        ..Story::default()
    };
    assert!(findings(&probe(&[])?, story, &transfer("1000.00")).is_empty());
    Ok(())
}

#[test]
fn many_payments_from_one_sender_are_not_many_senders() -> TestResult {
    let story = Story {
        inbound: Totals {
            counterparties: 1,
            ..payments(25, "50000.00")
        },
        ..Story::default()
    };
    assert!(findings(&probe(&[])?, story, &transfer("1000.00")).is_empty());
    Ok(())
}

#[test]
fn many_senders_comes_from_the_pack() -> TestResult {
    let rule = probe(&[("many-senders", "3")])?;
    let three = Story {
        inbound: payments(3, "3000.00"),
        ..Story::default()
    };
    assert_eq!(
        shown(&findings(&rule, three, &transfer("10.00")), "senders"),
        Some("3")
    );
    let two = Story {
        inbound: payments(2, "2000.00"),
        ..Story::default()
    };
    assert!(findings(&rule, two, &transfer("10.00")).is_empty());
    Ok(())
}

// --- many-transactions ----------------------------------------------------------

fn busy(inbound: u32, outbound: u32) -> Story {
    Story {
        inbound: Totals {
            counterparties: 1,
            ..payments(inbound, "20000.00")
        },
        outbound: Totals {
            counterparties: 1,
            ..payments(outbound, "9000.00")
        },
        ..Story::default()
    }
}

#[test]
fn thirty_transactions_with_this_one_make_many_transactions() -> TestResult {
    let found = findings(&probe(&[])?, busy(20, 9), &transfer("1000.00"));
    assert_eq!(held(&found), "many-transactions");
    assert_eq!(shown(&found, "transactions"), Some("30"));
    Ok(())
}

#[test]
fn twenty_nine_transactions_with_this_one_do_not_make_many_transactions() -> TestResult {
    assert!(findings(&probe(&[])?, busy(20, 8), &transfer("1000.00")).is_empty());
    assert!(findings(&probe(&[])?, busy(28, 0), &transfer("1000.00")).is_empty());
    Ok(())
}

#[test]
fn money_in_and_out_both_count_towards_many_transactions() -> TestResult {
    let rule = probe(&[])?;
    assert_eq!(
        shown(
            &findings(&rule, busy(29, 0), &transfer("1000.00")),
            "transactions"
        ),
        Some("30")
    );
    assert_eq!(
        shown(
            &findings(&rule, busy(0, 29), &transfer("1000.00")),
            "transactions"
        ),
        Some("30")
    );
    Ok(())
}

#[test]
fn many_transactions_comes_from_the_pack() -> TestResult {
    let rule = probe(&[("many-transactions", "3")])?;
    assert_eq!(
        shown(
            &findings(&rule, busy(1, 1), &transfer("10.00")),
            "transactions"
        ),
        Some("3")
    );
    assert!(findings(&rule, busy(1, 0), &transfer("10.00")).is_empty());
    // this one alone: 1 transaction.
    let one = probe(&[("many-transactions", "1")])?;
    assert_eq!(
        shown(
            &findings(&one, Story::default(), &transfer("10.00")),
            "transactions"
        ),
        Some("1")
    );
    Ok(())
}

// --- usual volume ---------------------------------------------------------------

/// The first second of the activity window, 24 h before the transaction.
const WINDOW_START: Timestamp = NOW - DAY;

/// A shop on a personal card on an ordinary day: 40 payments from 35
/// customers in the window, 60000.00 of them in the last hour, 8000000.00
/// over the month against a declared income of 500000.00. A 40000.00
/// transfer out makes many-senders (20), many-transactions (10, 41 with
/// this one), quick-dwell (10) and income-multiple (15): 55. `before` is
/// how many other accounts paid it in the 28 days before the window, the
/// earliest at `earliest`.
fn shop_day(before: u32, earliest: Timestamp) -> Story {
    let today = Totals {
        count: 40,
        sum: money("800000.00"),
        max: money("60000.00"),
        counterparties: 35,
        first: Some(NOW - 20 * HOUR),
        last: Some(NOW - 10 * MINUTE),
    };
    Story {
        inbound: today,
        dwell: Totals {
            first: Some(NOW - 10 * MINUTE),
            last: Some(NOW - 10 * MINUTE),
            ..payments(2, "60000.00")
        },
        month: Totals {
            first: Some(earliest.min(NOW - 20 * HOUR)),
            ..payments(900, "8000000.00")
        },
        usual: Totals {
            count: today.count.saturating_add(before.saturating_mul(2)),
            counterparties: today.counterparties.saturating_add(before),
            first: Some(earliest.min(NOW - 20 * HOUR)),
            ..today
        },
        ..Story::default()
    }
}

/// The shop's transfer out.
fn takings_out() -> TestTx {
    TxBuilder::transfer("40000.00")
        .sender_income(money("500000.00"))
        .build()
}

/// The busy day's four indicators.
const BUSY_DAY: &str = "many-senders, many-transactions, quick-dwell, income-multiple";

/// Whether the rule asked about the inbound `window-hours` + `usual-days`.
fn asked_usual(spy: &Spy, window: u32) -> bool {
    spy.asked_window(Direction::Inbound, window)
}

#[test]
fn a_shop_paid_by_many_for_weeks_is_not_flagged_on_a_busy_day() -> TestResult {
    let rule = rule(&[])?;
    let story = shop_day(600, NOW - 28 * DAY);
    let tx = takings_out();
    let (found, spy) = decide(&rule, story, &tx);
    assert!(found.is_empty(), "{:?}", codes_of(&found));
    assert!(asked_usual(&spy, 29 * 86_400));

    let signs = rule.indicators(&tx.tx(), &story.host());
    assert_eq!(
        signs.indicators(),
        [Indicator::QuickDwell, Indicator::IncomeMultiple]
    );
    assert_eq!(signs.usual_payers(), Some(600));
    assert_eq!(
        signs.not_counted(),
        [Indicator::ManySenders, Indicator::ManyTransactions]
    );
    assert_eq!(rule.score(&signs), Some(25));
    Ok(())
}

#[test]
fn the_same_busy_day_on_an_account_nobody_paid_before_is_flagged() -> TestResult {
    let rule = rule(&[])?;
    // Every payer of the 29 days paid in the window: a new burst.
    let story = shop_day(0, NOW - 20 * HOUR);
    let found = findings(&rule, story, &takings_out());
    assert_eq!(codes_of(&found), [codes::MULE_SCORE_ELEVATED]);
    assert_eq!(held(&found), BUSY_DAY);
    assert_eq!(shown(&found, "senders"), Some("35"));
    assert_eq!(shown(&found, "transactions"), Some("41"));
    assert_eq!(shown(&found, "usual-payers"), None);
    assert_eq!(shown(&found, "not-counted"), None);
    let signs = rule.indicators(&takings_out().tx(), &story.host());
    assert_eq!(signs.usual_payers(), None);
    assert_eq!(signs.not_counted(), []);
    Ok(())
}

#[test]
fn fifty_nine_payers_before_the_window_are_not_usual_volume_but_sixty_are() -> TestResult {
    let rule = rule(&[])?;
    let earliest = NOW - 25 * DAY;
    let found = findings(&rule, shop_day(59, earliest), &takings_out());
    assert_eq!(codes_of(&found), [codes::MULE_SCORE_ELEVATED]);
    assert_eq!(held(&found), BUSY_DAY);
    assert!(findings(&rule, shop_day(60, earliest), &takings_out()).is_empty());
    Ok(())
}

#[test]
fn payers_of_the_window_do_not_count_towards_the_usual_volume() -> TestResult {
    let rule = rule(&[])?;
    // 70 paid today and 119 in the 29 days: 49 before the window only.
    let story = Story {
        inbound: Totals {
            counterparties: 70,
            ..shop_day(0, WINDOW_START).inbound
        },
        usual: Totals {
            counterparties: 119,
            first: Some(NOW - 28 * DAY),
            ..shop_day(0, WINDOW_START).usual
        },
        ..shop_day(0, WINDOW_START)
    };
    let found = findings(&rule, story, &takings_out());
    assert_eq!(held(&found), BUSY_DAY);
    assert_eq!(shown(&found, "senders"), Some("70"));
    // 130 in the 29 days: 60 before.
    let story = Story {
        usual: Totals {
            counterparties: 130,
            ..story.usual
        },
        ..story
    };
    assert!(findings(&rule, story, &takings_out()).is_empty());
    Ok(())
}

#[test]
fn payers_since_exactly_14_days_before_the_window_are_usual_one_second_later_they_are_not()
-> TestResult {
    let rule = rule(&[])?;
    let since = WINDOW_START - 14 * DAY;
    assert!(findings(&rule, shop_day(100, since), &takings_out()).is_empty());
    let found = findings(&rule, shop_day(100, since + 1), &takings_out());
    assert_eq!(codes_of(&found), [codes::MULE_SCORE_ELEVATED]);
    assert_eq!(held(&found), BUSY_DAY);
    Ok(())
}

#[test]
fn usual_payers_0_switches_the_usual_volume_off_and_asks_nothing_more() -> TestResult {
    let off = rule(&[("usual-payers", "0")])?;
    let (found, spy) = decide(&off, shop_day(600, NOW - 28 * DAY), &takings_out());
    assert_eq!(codes_of(&found), [codes::MULE_SCORE_ELEVATED]);
    assert_eq!(held(&found), BUSY_DAY);
    assert!(!asked_usual(&spy, 29 * 86_400), "{:?}", spy.asked());
    Ok(())
}

#[test]
fn the_usual_volume_is_asked_about_only_when_many_senders_or_many_transactions_would_hold()
-> TestResult {
    let rule = rule(&[])?;
    let usual = 29 * 86_400;
    // Nine senders, 29 transactions with this one: neither holds.
    let quiet = Story {
        inbound: Totals {
            counterparties: 9,
            ..payments(28, "300000.00")
        },
        ..Story::default()
    };
    let (_, spy) = decide(&rule, quiet, &transfer("1000.00"));
    assert!(!asked_usual(&spy, usual), "{:?}", spy.asked());

    // Many transactions from one sender: only many-transactions is left out.
    let one_payer = Story {
        inbound: Totals {
            counterparties: 1,
            ..payments(35, "300000.00")
        },
        usual: Totals {
            counterparties: 61,
            first: Some(NOW - 20 * DAY),
            ..payments(100, "900000.00")
        },
        ..Story::default()
    };
    let (found, spy) = decide(&probe(&[])?, one_payer, &transfer("1000.00"));
    assert!(found.is_empty(), "{:?}", codes_of(&found));
    assert!(asked_usual(&spy, usual));
    let signs = rule.indicators(&transfer("1000.00").tx(), &one_payer.host());
    assert_eq!(signs.usual_payers(), Some(60));
    assert_eq!(signs.not_counted(), [Indicator::ManyTransactions]);

    // With both indicators weighing 0 nothing is asked either.
    let (_, spy) = decide(
        &rule_without_volume()?,
        shop_day(600, NOW - 28 * DAY),
        &takings_out(),
    );
    assert!(!asked_usual(&spy, usual));
    Ok(())
}

fn rule_without_volume() -> Result<KzMule, SetupError> {
    rule(&[
        ("many-senders-weight", "0"),
        ("many-transactions-weight", "0"),
    ])
}

#[test]
fn a_finding_on_the_other_indicators_shows_the_usual_payers_and_what_was_not_counted() -> TestResult
{
    let (story, tx) = every_indicator();
    // 80 other accounts paid it in the 28 days before, since 20 days ago.
    let story = Story {
        usual: Totals {
            counterparties: 92,
            first: Some(NOW - 20 * DAY),
            ..story.usual
        },
        ..story
    };
    let found = findings(&rule(&[])?, story, &tx);
    let finding = only(&found);
    assert_eq!(finding.code(), codes::MULE_SCORE_HIGH);
    assert_eq!(
        evidence(finding),
        [
            ("side", "sender"),
            ("score", "100"),
            (
                "indicators",
                "new-account, pass-through, quick-dwell, fan-in-cash-out, dormant, \
                 income-multiple, shared-device, many-cards"
            ),
            ("account-age-days", "5"),
            ("pass-through-ratio", "0.9500"),
            ("dwell-minutes", "15"),
            ("fan-in-payments", "12"),
            ("first-seen-days-ago", "200"),
            ("income-multiple", "10.0000"),
            ("device-accounts", "4"),
            ("holder-accounts", "6"),
            ("usual-payers", "80"),
            ("not-counted", "many-senders, many-transactions"),
        ]
    );
    assert!(
        finding.message_text().ends_with(
            "; many-senders, many-transactions not counted: 80 payers in the 28 days \
             before are the account's usual volume"
        ),
        "{}",
        finding.message_text()
    );
    Ok(())
}

#[test]
fn a_mule_kept_busy_for_weeks_keeps_its_other_indicators() -> TestResult {
    // A 12-payer cash-out on an account paid by many for three weeks:
    // many-senders is usual by now, pass-through, quick-dwell and
    // fan-in-cash-out still hold.
    let (story, tx) = seventy_five();
    let story = Story {
        usual: Totals {
            counterparties: 12 + 200,
            first: Some(NOW - 22 * DAY),
            ..story.inbound
        },
        ..story
    };
    let found = findings(&rule(&[])?, story, &tx);
    assert_eq!(codes_of(&found), [codes::MULE_SCORE_ELEVATED]);
    assert_eq!(held(&found), "pass-through, quick-dwell, fan-in-cash-out");
    assert_eq!(shown(&found, "score"), Some("55"));
    assert_eq!(shown(&found, "usual-payers"), Some("200"));
    assert_eq!(shown(&found, "not-counted"), Some("many-senders"));
    Ok(())
}

#[test]
fn usual_payers_days_and_since_days_come_from_the_pack() -> TestResult {
    let rule = rule(&[
        ("usual-payers", "20"),
        ("usual-days", "7"),
        ("usual-since-days", "3"),
    ])?;
    let story = |before, earliest| Story {
        windows: Windows {
            usual: 8 * 86_400,
            ..Windows::default()
        },
        ..shop_day(before, earliest)
    };
    let since = WINDOW_START - 3 * DAY;
    let (found, spy) = decide(&rule, story(20, since), &takings_out());
    assert!(found.is_empty(), "{:?}", codes_of(&found));
    assert!(asked_usual(&spy, 8 * 86_400));
    assert_eq!(
        held(&findings(&rule, story(20, since + 1), &takings_out())),
        BUSY_DAY
    );
    assert_eq!(
        held(&findings(&rule, story(19, since), &takings_out())),
        BUSY_DAY
    );
    // usual-since-days 0: any payment before the window will do.
    let any = crate::tests::rule(&[("usual-since-days", "0")])?;
    assert!(findings(&any, shop_day(60, WINDOW_START - 1), &takings_out()).is_empty());
    Ok(())
}

#[test]
fn the_usual_volume_parameters_declare_their_bounds() {
    let metadata = KzMule::metadata();
    let bounds = |name: &str| {
        metadata
            .find_param(name)
            .map(|spec| (spec.minimum(), spec.maximum()))
    };
    assert_eq!(bounds("usual-payers"), Some((Some("0"), Some("1000000"))));
    assert_eq!(bounds("usual-days"), Some((Some("1"), Some("365"))));
    assert_eq!(bounds("usual-since-days"), Some((Some("0"), Some("364"))));
    for name in ["usual-payers", "usual-days", "usual-since-days"] {
        let Some(spec) = metadata.find_param(name) else {
            panic!("{name} is not declared");
        };
        assert!(spec.description().contains("usual"), "{name}");
    }
    let Some(payers) = metadata.find_param("usual-payers") else {
        panic!("usual-payers is not declared");
    };
    assert!(payers.description().contains("0 switches this off"));
}

#[test]
fn usual_volume_parameters_outside_their_bounds_are_refused_naming_the_parameter() {
    for (name, value, range) in [
        ("usual-payers", "-1", "0 and 1000000"),
        ("usual-payers", "1000001", "0 and 1000000"),
        ("usual-days", "0", "1 and 365"),
        ("usual-days", "366", "1 and 365"),
        ("usual-since-days", "-1", "0 and 364"),
        ("usual-since-days", "365", "0 and 364"),
    ] {
        assert_eq!(
            refusal(&[(name, value)]),
            format!("configure refused: parameter `{name}` = `{value}`: must be between {range}")
        );
    }
    assert_eq!(
        refusal(&[("usual-days", "7"), ("usual-since-days", "7")]),
        "configure refused: parameter `usual-since-days` = `7`: must be below usual-days (7)"
    );
}

#[test]
fn usual_volume_parameters_at_either_end_of_their_bounds_are_accepted() -> TestResult {
    rule(&[
        ("usual-payers", "0"),
        ("usual-days", "1"),
        ("usual-since-days", "0"),
    ])?;
    rule(&[
        ("usual-payers", "1000000"),
        ("usual-days", "365"),
        ("usual-since-days", "364"),
    ])?;
    Ok(())
}

#[test]
fn with_the_longest_window_the_usual_volume_is_asked_over_the_longest_window_there_is() -> TestResult
{
    let rule = rule(&[("window-hours", "1193046")])?;
    let story = Story {
        windows: Windows {
            activity: 1_193_046 * 3_600,
            usual: u32::MAX,
            ..Windows::default()
        },
        ..shop_day(0, WINDOW_START)
    };
    let (_, spy) = decide(&rule, story, &takings_out());
    assert!(asked_usual(&spy, u32::MAX), "{:?}", spy.asked());
    Ok(())
}

// --- pass-through ---------------------------------------------------------------

/// 100000.00 came in (the least inflow), three hours to two hours ago.
fn hundred_thousand_in() -> Story {
    Story {
        inbound: Totals {
            counterparties: 1,
            ..payments(1, "100000.00")
        },
        ..Story::default()
    }
}

#[test]
fn out_exactly_0_9_of_in_is_pass_through() -> TestResult {
    let found = findings(&probe(&[])?, hundred_thousand_in(), &transfer("90000.00"));
    assert_eq!(held(&found), "pass-through");
    assert_eq!(shown(&found, "pass-through-ratio"), Some("0.9000"));
    Ok(())
}

#[test]
fn out_one_tiyn_below_0_9_of_in_is_not_pass_through() -> TestResult {
    let found = findings(&probe(&[])?, hundred_thousand_in(), &transfer("89999.99"));
    assert!(found.is_empty(), "{:?}", codes_of(&found));
    Ok(())
}

#[test]
fn out_exactly_1_1_of_in_is_pass_through() -> TestResult {
    let found = findings(&probe(&[])?, hundred_thousand_in(), &transfer("110000.00"));
    assert_eq!(held(&found), "pass-through");
    assert_eq!(shown(&found, "pass-through-ratio"), Some("1.1000"));
    Ok(())
}

#[test]
fn out_one_tiyn_above_1_1_of_in_is_not_pass_through() -> TestResult {
    let found = findings(&probe(&[])?, hundred_thousand_in(), &transfer("110000.01"));
    assert!(found.is_empty(), "{:?}", codes_of(&found));
    Ok(())
}

#[test]
fn what_went_out_before_counts_with_this_transaction() -> TestResult {
    let story = Story {
        outbound: payments(2, "50000.00"),
        ..hundred_thousand_in()
    };
    let found = findings(&probe(&[])?, story, &transfer("45000.00"));
    assert_eq!(held(&found), "pass-through");
    assert_eq!(shown(&found, "pass-through-ratio"), Some("0.9500"));
    // What went out before alone is 0.5: not enough without this one.
    assert!(findings(&probe(&[])?, story, &transfer("39999.99")).is_empty());
    Ok(())
}

#[test]
fn less_than_the_least_inflow_is_never_pass_through() -> TestResult {
    let story = Story {
        inbound: Totals {
            counterparties: 1,
            ..payments(1, "99999.99")
        },
        ..Story::default()
    };
    assert!(findings(&probe(&[])?, story, &transfer("99999.99")).is_empty());
    // Nothing in at all: no ratio, nothing held.
    assert!(findings(&probe(&[])?, Story::default(), &transfer("99999.99")).is_empty());
    Ok(())
}

#[test]
fn pass_through_bounds_and_inflow_come_from_the_pack() -> TestResult {
    let rule = probe(&[
        ("pass-through-min", "0.5"),
        ("pass-through-max", "0.75"),
        ("pass-through-min-inflow", "1000.00"),
    ])?;
    let story = Story {
        inbound: Totals {
            counterparties: 1,
            ..payments(1, "1000.00")
        },
        ..Story::default()
    };
    assert_eq!(
        shown(
            &findings(&rule, story, &transfer("500.00")),
            "pass-through-ratio"
        ),
        Some("0.5000")
    );
    assert_eq!(
        shown(
            &findings(&rule, story, &transfer("750.00")),
            "pass-through-ratio"
        ),
        Some("0.7500")
    );
    assert!(findings(&rule, story, &transfer("499.99")).is_empty());
    assert!(findings(&rule, story, &transfer("750.01")).is_empty());
    Ok(())
}

// --- quick-dwell ----------------------------------------------------------------

/// `recent` came in during the last hour, the last of it `minutes` ago.
fn came_in_minutes_ago(minutes: i64, recent: &str) -> Story {
    let last = NOW - minutes * MINUTE;
    let inflow = Totals {
        counterparties: 1,
        first: Some(last),
        last: Some(last),
        ..payments(1, recent)
    };
    Story {
        inbound: inflow,
        dwell: inflow,
        ..Story::default()
    }
}

#[test]
fn taking_out_exactly_half_of_the_last_hours_money_is_quick_dwell() -> TestResult {
    let found = findings(
        &probe(&[])?,
        came_in_minutes_ago(10, "100000.00"),
        &transfer("50000.00"),
    );
    assert_eq!(held(&found), "quick-dwell");
    assert_eq!(shown(&found, "dwell-minutes"), Some("10"));
    Ok(())
}

#[test]
fn taking_out_one_tiyn_less_than_half_is_not_quick_dwell() -> TestResult {
    let found = findings(
        &probe(&[])?,
        came_in_minutes_ago(10, "100000.00"),
        &transfer("49999.99"),
    );
    assert!(found.is_empty(), "{:?}", codes_of(&found));
    Ok(())
}

#[test]
fn less_than_the_least_inflow_in_the_last_hour_is_not_quick_dwell() -> TestResult {
    let rule = probe(&[])?;
    let found = findings(
        &rule,
        came_in_minutes_ago(10, "49999.99"),
        &transfer("49999.99"),
    );
    assert!(found.is_empty(), "{:?}", codes_of(&found));
    let found = findings(
        &rule,
        came_in_minutes_ago(10, "50000.00"),
        &transfer("50000.00"),
    );
    assert_eq!(held(&found), "quick-dwell");
    Ok(())
}

#[test]
fn money_in_59_minutes_ago_dwells_briefly_but_60_minutes_ago_does_not() -> TestResult {
    let rule = probe(&[])?;
    let found = findings(
        &rule,
        came_in_minutes_ago(59, "100000.00"),
        &transfer("60000.00"),
    );
    assert_eq!(held(&found), "quick-dwell");
    assert_eq!(shown(&found, "dwell-minutes"), Some("59"));
    let found = findings(
        &rule,
        came_in_minutes_ago(60, "100000.00"),
        &transfer("60000.00"),
    );
    assert!(found.is_empty(), "{:?}", codes_of(&found));
    Ok(())
}

#[test]
fn dwell_minutes_count_whole_minutes_since_the_last_money_in() -> TestResult {
    let last = NOW - 90;
    let inflow = Totals {
        counterparties: 1,
        first: Some(NOW - 50 * MINUTE),
        last: Some(last),
        ..payments(2, "80000.00")
    };
    let story = Story {
        inbound: inflow,
        dwell: inflow,
        ..Story::default()
    };
    let found = findings(&probe(&[])?, story, &transfer("40000.00"));
    assert_eq!(shown(&found, "dwell-minutes"), Some("1"));
    Ok(())
}

#[test]
fn dwell_window_share_and_inflow_come_from_the_pack() -> TestResult {
    let rule = probe(&[
        ("dwell-minutes", "30"),
        ("dwell-share", "0.9"),
        ("dwell-min-inflow", "1000.00"),
    ])?;
    let story = |minutes| Story {
        windows: Windows {
            dwell: 1_800,
            ..Windows::default()
        },
        ..came_in_minutes_ago(minutes, "1000.00")
    };
    assert_eq!(
        shown(
            &findings(&rule, story(29), &transfer("900.00")),
            "dwell-minutes"
        ),
        Some("29")
    );
    assert!(findings(&rule, story(29), &transfer("899.99")).is_empty());
    assert!(findings(&rule, story(30), &transfer("900.00")).is_empty());
    Ok(())
}

#[test]
fn quick_dwell_holds_for_money_in_within_dwell_minutes_even_when_longer_than_window_hours()
-> TestResult {
    // window-hours 1, dwell-minutes 120: 100000.00 came in 90 minutes ago,
    // and this takes all of it out. Spec: "at least dwell-min-inflow came in
    // during the dwell-minutes before this transaction, and this transaction
    // takes at least dwell-share of it out".
    let rule = probe(&[("window-hours", "1"), ("dwell-minutes", "120")])?;
    let found = findings(
        &rule,
        dwell_longer_than_the_window(),
        &transfer("100000.00"),
    );
    assert_eq!(held(&found), "quick-dwell");
    assert_eq!(shown(&found, "dwell-minutes"), Some("90"));
    Ok(())
}

/// For window-hours 1 and dwell-minutes 120: 100000.00 came in 90 minutes
/// ago, nothing in the last hour.
fn dwell_longer_than_the_window() -> Story {
    let last = NOW - 90 * MINUTE;
    Story {
        dwell: Totals {
            counterparties: 1,
            first: Some(last),
            last: Some(last),
            ..payments(1, "100000.00")
        },
        windows: Windows {
            activity: 3_600,
            dwell: 7_200,
            ..Windows::default()
        },
        ..Story::default()
    }
}

/// A shop's account: 12 customers paid 300000.00 in the last 24 hours, two
/// of them 50000.00 in the last hour, the last 10 minutes ago.
fn a_days_takings() -> Story {
    let last = NOW - 10 * MINUTE;
    Story {
        inbound: Totals {
            last: Some(last),
            ..payments(12, "300000.00")
        },
        dwell: Totals {
            first: Some(NOW - 40 * MINUTE),
            last: Some(last),
            ..payments(2, "50000.00")
        },
        ..Story::default()
    }
}

/// A probe where quick-dwell is the only indicator `a_days_takings` can
/// make hold (many-senders and pass-through weigh 0).
fn dwell_probe(overrides: &[(&str, &str)]) -> Result<KzMule, SetupError> {
    let mut all = vec![("many-senders-weight", "0"), ("pass-through-weight", "0")];
    all.extend_from_slice(overrides);
    probe(&all)
}

#[test]
fn settling_a_weeks_takings_just_after_a_customer_paid_is_not_quick_dwell() -> TestResult {
    // 2100000.00 out ten minutes after 50000.00 came in: far more than half
    // of the last hour's money, but seven days' takings, 7 times what came
    // in during the window. Money built up, not money passing through.
    let (found, spy) = decide(
        &dwell_probe(&[])?,
        a_days_takings(),
        &transfer("2100000.00"),
    );
    assert!(found.is_empty(), "{:?}", codes_of(&found));
    assert!(spy.asked_window(Direction::Inbound, 3_600));
    // Of every indicator, the shop has many senders only.
    let found = findings(&probe(&[])?, a_days_takings(), &transfer("2100000.00"));
    assert_eq!(held(&found), "many-senders");
    Ok(())
}

#[test]
fn taking_out_exactly_1_1_of_what_came_in_during_the_window_is_quick_dwell() -> TestResult {
    let rule = dwell_probe(&[])?;
    let found = findings(&rule, a_days_takings(), &transfer("330000.00"));
    assert_eq!(held(&found), "quick-dwell");
    assert_eq!(shown(&found, "dwell-minutes"), Some("10"));
    let found = findings(&rule, a_days_takings(), &transfer("330000.01"));
    assert!(found.is_empty(), "{:?}", codes_of(&found));
    Ok(())
}

#[test]
fn the_quick_dwell_cap_is_pass_through_max_from_the_pack() -> TestResult {
    let rule = dwell_probe(&[("pass-through-max", "2")])?;
    let found = findings(&rule, a_days_takings(), &transfer("600000.00"));
    assert_eq!(held(&found), "quick-dwell");
    let found = findings(&rule, a_days_takings(), &transfer("600000.01"));
    assert!(found.is_empty(), "{:?}", codes_of(&found));
    Ok(())
}

#[test]
fn with_a_dwell_window_longer_than_the_activity_window_the_cap_is_on_the_dwell_inflow() -> TestResult
{
    // Nothing came in during the 1-hour window; 100000.00 during the 2-hour
    // dwell window: what came in is the larger of the two.
    let rule = probe(&[("window-hours", "1"), ("dwell-minutes", "120")])?;
    let story = dwell_longer_than_the_window();
    let found = findings(&rule, story, &transfer("110000.00"));
    assert_eq!(held(&found), "quick-dwell");
    let found = findings(&rule, story, &transfer("110000.01"));
    assert!(found.is_empty(), "{:?}", codes_of(&found));
    Ok(())
}

#[test]
fn quick_dwell_alone_asks_for_the_windows_inbound_total_to_cap_the_outflow() -> TestResult {
    let rule = probe(&[
        ("many-senders-weight", "0"),
        ("many-transactions-weight", "0"),
        ("pass-through-weight", "0"),
        ("window-hours", "1"),
        ("dwell-minutes", "120"),
    ])?;
    let (found, spy) = decide(
        &rule,
        dwell_longer_than_the_window(),
        &transfer("100000.00"),
    );
    assert_eq!(held(&found), "quick-dwell");
    assert!(
        spy.asked_window(Direction::Inbound, 3_600),
        "{:?}",
        spy.asked()
    );
    assert!(
        spy.asked_window(Direction::Inbound, 7_200),
        "{:?}",
        spy.asked()
    );
    Ok(())
}

// --- fan-in-cash-out ------------------------------------------------------------

/// Five small payments (at most 100000.00 each) of 200000.00 in all, three
/// to two hours ago.
fn five_small_payments() -> Story {
    Story {
        inbound: payments(5, "200000.00"),
        small: payments(5, "200000.00"),
        ..Story::default()
    }
}

#[test]
fn cashing_out_exactly_0_8_of_five_small_payments_is_fan_in_cash_out() -> TestResult {
    let found = findings(
        &probe(&[])?,
        five_small_payments(),
        &withdrawal("160000.00"),
    );
    assert_eq!(held(&found), "fan-in-cash-out");
    assert_eq!(shown(&found, "fan-in-payments"), Some("5"));
    Ok(())
}

#[test]
fn cashing_out_one_tiyn_less_than_0_8_is_not_fan_in_cash_out() -> TestResult {
    let found = findings(
        &probe(&[])?,
        five_small_payments(),
        &withdrawal("159999.99"),
    );
    assert!(found.is_empty(), "{:?}", codes_of(&found));
    Ok(())
}

#[test]
fn four_small_payments_are_not_a_fan_in() -> TestResult {
    let story = Story {
        inbound: payments(4, "200000.00"),
        small: payments(4, "200000.00"),
        ..Story::default()
    };
    // 0.85 of their sum: enough for five payments, and not a pass-through.
    assert!(findings(&probe(&[])?, story, &withdrawal("170000.00")).is_empty());
    Ok(())
}

#[test]
fn a_crypto_purchase_cashes_out_like_a_withdrawal() -> TestResult {
    let tx = TxBuilder::crypto_purchase("160000.00").build();
    let found = findings(&probe(&[])?, five_small_payments(), &tx);
    assert_eq!(held(&found), "fan-in-cash-out");
    Ok(())
}

#[test]
fn a_transfer_or_card_topup_after_a_fan_in_is_not_a_cash_out_and_is_not_asked() -> TestResult {
    let rule = probe(&[])?;
    for tx in [
        transfer("160000.00"),
        TxBuilder::card_topup("160000.00").build(),
        TxBuilder::new(TxKind::Other, "160000.00").build(),
    ] {
        let (found, spy) = decide(&rule, five_small_payments(), &tx);
        assert!(found.is_empty(), "{:?}", codes_of(&found));
        assert!(
            spy.asked().iter().all(|asked| !matches!(
                asked,
                Asked::Aggregate(q) if q.max_amount() != Money::MAX
            )),
            "{:?}",
            spy.asked()
        );
    }
    Ok(())
}

#[test]
fn only_payments_of_at_most_fan_in_small_are_asked_for() -> TestResult {
    let (_, spy) = decide(
        &probe(&[])?,
        five_small_payments(),
        &withdrawal("160000.00"),
    );
    let small: Vec<Query> = spy
        .asked()
        .iter()
        .filter_map(|asked| match asked {
            Asked::Aggregate(q) if q.max_amount() != Money::MAX => Some(*q),
            _ => None,
        })
        .collect();
    assert_eq!(
        small,
        [Query::new(MULE, Direction::Inbound, 86_400).at_most(money("100000.00"))]
    );
    Ok(())
}

#[test]
fn fan_in_thresholds_come_from_the_pack() -> TestResult {
    let rule = probe(&[
        ("fan-in-payments", "3"),
        ("fan-in-small", "20000.00"),
        ("cash-out-share", "1"),
    ])?;
    let story = Story {
        inbound: payments(3, "30000.00"),
        small: payments(3, "30000.00"),
        windows: Windows {
            small: money("20000.00"),
            ..Windows::default()
        },
        ..Story::default()
    };
    assert_eq!(
        shown(
            &findings(&rule, story, &withdrawal("30000.00")),
            "fan-in-payments"
        ),
        Some("3")
    );
    assert!(findings(&rule, story, &withdrawal("29999.99")).is_empty());
    Ok(())
}

// --- dormant --------------------------------------------------------------------

/// First seen `seen` seconds ago; everything in the last 60 days happened
/// from `active` seconds ago on.
fn woke_up(seen: i64, active: i64) -> Story {
    Story {
        first_seen: Some(NOW - seen),
        quiet: Totals {
            first: Some(NOW - active),
            last: Some(NOW - HOUR),
            ..payments(3, "30000.00")
        },
        ..Story::default()
    }
}

#[test]
fn an_account_first_seen_60_days_ago_and_active_only_today_is_dormant() -> TestResult {
    let found = findings(
        &probe(&[])?,
        woke_up(60 * DAY, 2 * HOUR),
        &transfer("1000.00"),
    );
    assert_eq!(held(&found), "dormant");
    assert_eq!(shown(&found, "first-seen-days-ago"), Some("60"));
    Ok(())
}

#[test]
fn an_account_first_seen_one_second_less_than_60_days_ago_is_not_dormant() -> TestResult {
    let found = findings(
        &probe(&[])?,
        woke_up(60 * DAY - 1, 2 * HOUR),
        &transfer("1000.00"),
    );
    assert!(found.is_empty(), "{:?}", codes_of(&found));
    Ok(())
}

#[test]
fn activity_24_hours_ago_or_earlier_in_the_quiet_period_is_not_dormant() -> TestResult {
    let rule = probe(&[])?;
    for active in [24 * HOUR, 25 * HOUR, 30 * DAY] {
        let found = findings(&rule, woke_up(200 * DAY, active), &transfer("1000.00"));
        assert!(found.is_empty(), "{active}: {:?}", codes_of(&found));
    }
    let found = findings(
        &rule,
        woke_up(200 * DAY, 24 * HOUR - 1),
        &transfer("1000.00"),
    );
    assert_eq!(held(&found), "dormant");
    Ok(())
}

#[test]
fn an_old_account_doing_nothing_for_60_days_before_this_one_is_dormant() -> TestResult {
    let story = Story {
        first_seen: Some(NOW - 400 * DAY),
        ..Story::default()
    };
    let found = findings(&probe(&[])?, story, &transfer("1000.00"));
    assert_eq!(held(&found), "dormant");
    Ok(())
}

#[test]
fn an_account_the_host_never_saw_is_not_dormant() -> TestResult {
    let story = Story {
        first_seen: None,
        ..woke_up(0, 2 * HOUR)
    };
    assert!(findings(&probe(&[])?, story, &transfer("1000.00")).is_empty());
    Ok(())
}

#[test]
fn dormant_days_comes_from_the_pack() -> TestResult {
    let rule = probe(&[("dormant-days", "10")])?;
    let story = |seen| Story {
        windows: Windows {
            dormant: 10 * 86_400,
            ..Windows::default()
        },
        ..woke_up(seen, 2 * HOUR)
    };
    assert_eq!(
        shown(
            &findings(&rule, story(10 * DAY), &transfer("1.00")),
            "first-seen-days-ago"
        ),
        Some("10")
    );
    assert!(findings(&rule, story(10 * DAY - 1), &transfer("1.00")).is_empty());
    Ok(())
}

// --- income-multiple ------------------------------------------------------------

fn month_in(sum: &str) -> Story {
    Story {
        month: Totals {
            first: Some(NOW - 20 * DAY),
            ..payments(6, sum)
        },
        ..Story::default()
    }
}

fn earning(income: &str) -> TestTx {
    TxBuilder::transfer("1000.00")
        .sender_income(money(income))
        .build()
}

#[test]
fn money_in_exactly_three_times_the_income_is_an_income_multiple() -> TestResult {
    let found = findings(&probe(&[])?, month_in("300000.00"), &earning("100000.00"));
    assert_eq!(held(&found), "income-multiple");
    assert_eq!(shown(&found, "income-multiple"), Some("3.0000"));
    let found = findings(&probe(&[])?, month_in("600000.00"), &earning("200000.00"));
    assert_eq!(shown(&found, "income-multiple"), Some("3.0000"));
    Ok(())
}

#[test]
fn money_in_one_tiyn_below_three_times_the_income_is_not() -> TestResult {
    let found = findings(&probe(&[])?, month_in("599999.99"), &earning("200000.00"));
    assert!(found.is_empty(), "{:?}", codes_of(&found));
    Ok(())
}

#[test]
fn money_in_below_the_least_inflow_is_not_an_income_multiple_however_small_the_income() -> TestResult
{
    let rule = probe(&[])?;
    let found = findings(&rule, month_in("299999.99"), &earning("50000.00"));
    assert!(found.is_empty(), "{:?}", codes_of(&found));
    let found = findings(&rule, month_in("300000.00"), &earning("50000.00"));
    assert_eq!(shown(&found, "income-multiple"), Some("6.0000"));
    Ok(())
}

#[test]
fn without_a_declared_income_there_is_no_income_multiple() -> TestResult {
    let found = findings(&probe(&[])?, month_in("5000000.00"), &transfer("1000.00"));
    assert!(found.is_empty(), "{:?}", codes_of(&found));
    Ok(())
}

#[test]
fn a_declared_income_of_zero_is_exceeded_by_any_inflow_above_the_least() -> TestResult {
    let found = findings(&probe(&[])?, month_in("300000.00"), &earning("0.00"));
    assert_eq!(held(&found), "income-multiple");
    assert_eq!(shown(&found, "income-multiple"), Some("no income declared"));
    Ok(())
}

#[test]
fn income_multiple_inflow_and_window_come_from_the_pack() -> TestResult {
    let rule = probe(&[
        ("income-multiple", "1.5"),
        ("income-min-inflow", "1000.00"),
        ("income-window-days", "7"),
    ])?;
    let story = |sum| Story {
        windows: Windows {
            month: 7 * 86_400,
            ..Windows::default()
        },
        ..month_in(sum)
    };
    assert_eq!(
        shown(
            &findings(&rule, story("150000.00"), &earning("100000.00")),
            "income-multiple"
        ),
        Some("1.5000")
    );
    assert!(findings(&rule, story("149999.99"), &earning("100000.00")).is_empty());
    Ok(())
}

// --- shared-device --------------------------------------------------------------

fn from_device() -> TestTx {
    TxBuilder::transfer("1000.00").device(DEVICE).build()
}

#[test]
fn a_device_used_for_three_accounts_is_shared() -> TestResult {
    let story = Story {
        device_accounts: 3,
        ..Story::default()
    };
    let (found, spy) = decide(&probe(&[])?, story, &from_device());
    assert_eq!(held(&found), "shared-device");
    assert_eq!(shown(&found, "device-accounts"), Some("3"));
    assert!(spy.asked().contains(&Asked::Linked(DEVICE, 30 * 86_400)));
    Ok(())
}

#[test]
fn a_device_used_for_two_accounts_is_not_shared() -> TestResult {
    let story = Story {
        device_accounts: 2,
        ..Story::default()
    };
    assert!(findings(&probe(&[])?, story, &from_device()).is_empty());
    Ok(())
}

#[test]
fn without_a_device_nothing_is_shared_and_no_device_is_asked_about() -> TestResult {
    let story = Story {
        device_accounts: 9,
        ..Story::default()
    };
    let (found, spy) = decide(&probe(&[])?, story, &transfer("1000.00"));
    assert!(found.is_empty());
    assert!(!spy.asked_linked(DEVICE));
    Ok(())
}

#[test]
fn shared_device_accounts_and_link_window_come_from_the_pack() -> TestResult {
    let rule = probe(&[("shared-device-accounts", "2"), ("link-window-days", "7")])?;
    let story = Story {
        device_accounts: 2,
        ..Story::default()
    };
    let (found, spy) = decide(&rule, story, &from_device());
    assert_eq!(shown(&found, "device-accounts"), Some("2"));
    assert!(spy.asked().contains(&Asked::Linked(DEVICE, 7 * 86_400)));
    Ok(())
}

// --- many-cards -----------------------------------------------------------------

fn with_holder() -> TestTx {
    TxBuilder::transfer("1000.00").sender_holder(HOLDER).build()
}

#[test]
fn five_accounts_under_one_iin_are_many_cards() -> TestResult {
    let story = Story {
        holder_accounts: 5,
        ..Story::default()
    };
    let (found, spy) = decide(&probe(&[])?, story, &with_holder());
    assert_eq!(held(&found), "many-cards");
    assert_eq!(shown(&found, "holder-accounts"), Some("5"));
    assert!(spy.asked().contains(&Asked::Linked(HOLDER, 30 * 86_400)));
    Ok(())
}

#[test]
fn four_accounts_under_one_iin_are_not_many_cards() -> TestResult {
    let story = Story {
        holder_accounts: 4,
        ..Story::default()
    };
    assert!(findings(&probe(&[])?, story, &with_holder()).is_empty());
    Ok(())
}

#[test]
fn without_a_holder_there_are_no_many_cards_and_no_holder_is_asked_about() -> TestResult {
    let story = Story {
        holder_accounts: 9,
        ..Story::default()
    };
    let (found, spy) = decide(&probe(&[])?, story, &transfer("1000.00"));
    assert!(found.is_empty());
    assert!(!spy.asked_linked(HOLDER));
    Ok(())
}

#[test]
fn cards_per_holder_comes_from_the_pack() -> TestResult {
    let rule = probe(&[("cards-per-holder", "2")])?;
    let story = Story {
        holder_accounts: 2,
        ..Story::default()
    };
    assert_eq!(
        shown(&findings(&rule, story, &with_holder()), "holder-accounts"),
        Some("2")
    );
    Ok(())
}

// --- two-sided accounts ------------------------------------------------------------

/// The story on which every indicator holds, where the account paid `today`
/// distinct accounts in the activity window (in at least its 4 payments)
/// and `week` in two-sided-days.
fn paid(today: u32, week: u32) -> (Story, TestTx) {
    let (story, tx) = every_indicator();
    let story = Story {
        outbound: Totals {
            counterparties: today,
            ..payments(today.max(4), "500000.00")
        },
        week_out: Totals {
            counterparties: week,
            ..payments(week.max(6), "700000.00")
        },
        ..story
    };
    (story, tx)
}

/// Every indicator, in order, as in evidence.
fn all_ten() -> String {
    let names: Vec<&str> = Indicator::ALL.iter().map(|i| i.name()).collect();
    names.join(", ")
}

/// The outbound questions asked, in order.
fn outbound_asked(spy: &Spy) -> Vec<Query> {
    spy.asked()
        .iter()
        .filter_map(|asked| match asked {
            Asked::Aggregate(q) if q.direction() == Direction::Outbound => Some(*q),
            _ => None,
        })
        .collect()
}

#[test]
fn an_account_that_paid_five_accounts_in_the_window_is_two_sided_and_not_scored() -> TestResult {
    let rule = rule(&[])?;
    let (story, tx) = paid(5, 5);
    let (found, spy) = decide(&rule, story, &tx);
    assert!(found.is_empty(), "{:?}", codes_of(&found));
    // Even a probe, for which one indicator is a finding, has none.
    assert!(findings(&probe(&[])?, story, &tx).is_empty());

    let signs = rule.indicators(&tx.tx(), &story.host());
    assert_eq!(signs.two_sided(), Some(5));
    assert_eq!(signs.indicators(), []);
    assert_eq!(rule.score(&signs), None);
    assert!(rule.finding(&signs).is_none());

    // The window's payees are enough: no second outbound question, and no
    // indicator's own question once the payees are counted.
    assert_eq!(
        outbound_asked(&spy),
        [Query::new(MULE, Direction::Outbound, 86_400)]
    );
    let asked = spy.asked();
    assert_eq!(
        asked.last(),
        Some(&Asked::Aggregate(Query::new(
            MULE,
            Direction::Outbound,
            86_400
        ))),
        "{asked:?}"
    );
    assert!(!spy.asked_window(Direction::Inbound, 3_600));
    assert!(!spy.asked_first_seen());
    assert!(!spy.asked_linked(DEVICE));
    assert!(!spy.asked_linked(HOLDER));
    Ok(())
}

#[test]
fn a_two_sided_account_is_asked_only_about_its_payees() -> TestResult {
    let (story, tx) = paid(5, 5);
    let (_, spy) = decide(&rule(&[])?, story, &tx);
    assert_eq!(
        spy.asked(),
        [Asked::Aggregate(Query::new(
            MULE,
            Direction::Outbound,
            86_400
        ))]
    );
    Ok(())
}

#[test]
fn four_payees_in_the_window_and_the_week_are_not_two_sided_and_are_scored() -> TestResult {
    let rule = rule(&[])?;
    let (story, tx) = paid(4, 4);
    let (found, spy) = decide(&rule, story, &tx);
    assert_eq!(codes_of(&found), [codes::MULE_SCORE_HIGH]);
    assert_eq!(held(&found), all_ten());
    assert_eq!(rule.indicators(&tx.tx(), &story.host()).two_sided(), None);
    assert_eq!(
        outbound_asked(&spy),
        [
            Query::new(MULE, Direction::Outbound, 86_400),
            Query::new(MULE, Direction::Outbound, 7 * 86_400),
        ]
    );
    Ok(())
}

#[test]
fn with_fewer_payees_in_the_window_the_payees_of_the_last_7_days_decide() -> TestResult {
    let rule = rule(&[])?;
    // Two accounts paid today, five in the week: two-sided, and asked
    // about nothing but its payees.
    let (story, tx) = paid(2, 5);
    let (found, spy) = decide(&rule, story, &tx);
    assert!(found.is_empty(), "{:?}", codes_of(&found));
    assert_eq!(
        spy.asked(),
        [
            Asked::Aggregate(Query::new(MULE, Direction::Outbound, 86_400)),
            Asked::Aggregate(Query::new(MULE, Direction::Outbound, 7 * 86_400)),
        ]
    );
    assert_eq!(
        rule.indicators(&tx.tx(), &story.host()).two_sided(),
        Some(5)
    );
    // Four in the week: scored.
    let (story, tx) = paid(2, 4);
    let found = findings(&rule, story, &tx);
    assert_eq!(codes_of(&found), [codes::MULE_SCORE_HIGH]);
    assert_eq!(held(&found), all_ten());
    Ok(())
}

#[test]
fn two_sided_payees_0_switches_the_check_off() -> TestResult {
    let off = rule(&[("two-sided-payees", "0")])?;
    let (story, tx) = paid(40, 100);
    let (found, spy) = decide(&off, story, &tx);
    assert_eq!(codes_of(&found), [codes::MULE_SCORE_HIGH]);
    assert_eq!(held(&found), all_ten());
    assert_eq!(off.indicators(&tx.tx(), &story.host()).two_sided(), None);
    assert_eq!(
        outbound_asked(&spy),
        [Query::new(MULE, Direction::Outbound, 86_400)],
        "many-transactions and pass-through still need the window"
    );
    // With no indicator needing it either, nothing outbound is asked.
    let bare = rule(&[
        ("two-sided-payees", "0"),
        ("many-transactions-weight", "0"),
        ("pass-through-weight", "0"),
    ])?;
    let (found, spy) = decide(&bare, story, &tx);
    assert_eq!(codes_of(&found), [codes::MULE_SCORE_HIGH]);
    assert_eq!(outbound_asked(&spy), []);
    Ok(())
}

#[test]
fn two_sided_payees_and_days_come_from_the_pack() -> TestResult {
    let rule = rule(&[("two-sided-payees", "3"), ("two-sided-days", "3")])?;
    let story = |today, week| Story {
        windows: Windows {
            two_sided: 3 * 86_400,
            ..Windows::default()
        },
        ..paid(today, week).0
    };
    let (_, tx) = every_indicator();
    let (found, spy) = decide(&rule, story(1, 3), &tx);
    assert!(found.is_empty(), "{:?}", codes_of(&found));
    assert_eq!(
        outbound_asked(&spy),
        [
            Query::new(MULE, Direction::Outbound, 86_400),
            Query::new(MULE, Direction::Outbound, 3 * 86_400),
        ]
    );
    assert!(findings(&rule, story(3, 3), &tx).is_empty());
    assert_eq!(
        codes_of(&findings(&rule, story(1, 2), &tx)),
        [codes::MULE_SCORE_HIGH]
    );
    Ok(())
}

#[test]
fn with_two_sided_days_within_the_window_the_windows_payees_decide_alone() -> TestResult {
    // window-hours 48, two-sided-days 1: the window already covers the day.
    let rule = rule(&[("window-hours", "48"), ("two-sided-days", "1")])?;
    let story = |today, day| Story {
        windows: Windows {
            activity: 2 * 86_400,
            two_sided: 86_400,
            ..Windows::default()
        },
        ..paid(today, day).0
    };
    let (_, tx) = every_indicator();
    let (found, spy) = decide(&rule, story(4, 5), &tx);
    assert_eq!(codes_of(&found), [codes::MULE_SCORE_HIGH]);
    assert_eq!(
        outbound_asked(&spy),
        [Query::new(MULE, Direction::Outbound, 2 * 86_400)]
    );
    assert!(findings(&rule, story(5, 0), &tx).is_empty());
    Ok(())
}

// --- the gate -------------------------------------------------------------------

#[test]
fn one_indicator_weighing_100_gives_no_finding_with_min_indicators_2() -> TestResult {
    let rule = rule(&[("many-senders-weight", "100")])?;
    assert!(findings(&rule, ten_senders(), &transfer("1000.00")).is_empty());
    let story = Story {
        device_accounts: 3,
        ..ten_senders()
    };
    let found = findings(&rule, story, &from_device());
    assert_eq!(codes_of(&found), [codes::MULE_SCORE_HIGH]);
    assert_eq!(shown(&found, "score"), Some("100"));
    Ok(())
}

#[test]
fn two_indicators_pass_the_gate_but_need_the_score_too() -> TestResult {
    let rule = rule(&[])?;
    // many-senders + shared-device = 40: two indicators, below 50.
    let story = Story {
        device_accounts: 3,
        ..ten_senders()
    };
    assert!(findings(&rule, story, &from_device()).is_empty());
    Ok(())
}

#[test]
fn min_indicators_3_needs_three_indicators_whatever_their_weights() -> TestResult {
    let rule = rule(&[
        ("min-indicators", "3"),
        ("many-senders-weight", "100"),
        ("shared-device-weight", "100"),
    ])?;
    let two = Story {
        device_accounts: 3,
        ..ten_senders()
    };
    let tx = TxBuilder::transfer("1000.00")
        .device(DEVICE)
        .sender_holder(HOLDER)
        .build();
    assert!(findings(&rule, two, &tx).is_empty());
    let three = Story {
        holder_accounts: 5,
        ..two
    };
    let found = findings(&rule, three, &tx);
    assert_eq!(codes_of(&found), [codes::MULE_SCORE_HIGH]);
    assert_eq!(held(&found), "many-senders, shared-device, many-cards");
    Ok(())
}

// --- levels ---------------------------------------------------------------------

/// many-senders (20), many-transactions (10) and shared-device (20): 50.
fn fifty() -> (Story, TestTx) {
    let story = Story {
        inbound: payments(25, "50000.00"),
        outbound: Totals {
            counterparties: 1,
            ..payments(4, "40000.00")
        },
        device_accounts: 3,
        ..Story::default()
    };
    (story, from_device())
}

#[test]
fn a_score_of_exactly_50_is_elevated_for_review() -> TestResult {
    let (story, tx) = fifty();
    let found = findings(&rule(&[])?, story, &tx);
    let finding = only(&found);
    assert_eq!(finding.code(), codes::MULE_SCORE_ELEVATED);
    assert_eq!(finding.action(), Action::Review);
    assert_eq!(finding.risk_score(), 50);
    assert_eq!(shown(&found, "score"), Some("50"));
    assert_eq!(
        held(&found),
        "many-senders, many-transactions, shared-device"
    );
    Ok(())
}

#[test]
fn a_score_of_49_is_no_finding() -> TestResult {
    let (story, tx) = fifty();
    let found = findings(&rule(&[("many-transactions-weight", "9")])?, story, &tx);
    assert!(found.is_empty(), "{:?}", codes_of(&found));
    Ok(())
}

/// many-senders (20), pass-through (20), quick-dwell (10) and
/// fan-in-cash-out (25): 75. Twelve small payments of 200000.00 in all, the
/// last two of 160000.00 in the last five minutes; 190000.00 (0.95) goes
/// out in cash.
fn seventy_five() -> (Story, TestTx) {
    let last = NOW - 5 * MINUTE;
    let twelve = Totals {
        last: Some(last),
        ..payments(12, "200000.00")
    };
    let story = Story {
        inbound: twelve,
        small: twelve,
        dwell: Totals {
            first: Some(last),
            last: Some(last),
            ..payments(2, "160000.00")
        },
        ..Story::default()
    };
    (story, withdrawal("190000.00"))
}

#[test]
fn a_score_of_exactly_75_is_high_and_held() -> TestResult {
    let (story, tx) = seventy_five();
    let found = findings(&rule(&[])?, story, &tx);
    let finding = only(&found);
    assert_eq!(finding.code(), codes::MULE_SCORE_HIGH);
    assert_eq!(finding.action(), Action::Hold);
    assert_eq!(finding.risk_score(), 75);
    assert_eq!(shown(&found, "score"), Some("75"));
    assert_eq!(
        held(&found),
        "many-senders, pass-through, quick-dwell, fan-in-cash-out"
    );
    Ok(())
}

#[test]
fn a_score_of_74_is_elevated_not_high() -> TestResult {
    let (story, tx) = seventy_five();
    let found = findings(&rule(&[("quick-dwell-weight", "9")])?, story, &tx);
    let finding = only(&found);
    assert_eq!(finding.code(), codes::MULE_SCORE_ELEVATED);
    assert_eq!(finding.action(), Action::Review);
    assert_eq!(finding.risk_score(), 74);
    Ok(())
}

#[test]
fn the_levels_come_from_the_pack() -> TestResult {
    let (story, tx) = fifty();
    let lower = rule(&[("elevated-score", "30"), ("high-score", "50")])?;
    assert_eq!(
        codes_of(&findings(&lower, story, &tx)),
        [codes::MULE_SCORE_HIGH]
    );
    let higher = rule(&[("elevated-score", "51"), ("high-score", "90")])?;
    assert!(findings(&higher, story, &tx).is_empty());
    Ok(())
}

/// Every indicator holds on a cash withdrawal of 450000.00. The account
/// paid 4 accounts today and, in 6 payments, the same 4 in the week: not
/// two-sided.
fn every_indicator() -> (Story, TestTx) {
    let first_in = NOW - 20 * HOUR;
    let last_in = NOW - 15 * MINUTE;
    let story = Story {
        inbound: Totals {
            count: 25,
            sum: money("1000000.00"),
            max: money("300000.00"),
            counterparties: 12,
            first: Some(first_in),
            last: Some(last_in),
        },
        outbound: payments(4, "500000.00"),
        week_out: Totals {
            counterparties: 4,
            ..payments(6, "700000.00")
        },
        month: Totals {
            first: Some(first_in),
            ..payments(25, "1000000.00")
        },
        dwell: Totals {
            first: Some(last_in),
            last: Some(last_in),
            ..payments(3, "600000.00")
        },
        small: payments(12, "500000.00"),
        quiet: Totals {
            first: Some(first_in),
            ..payments(29, "1500000.00")
        },
        // Nobody paid it before the window.
        usual: Totals {
            count: 25,
            sum: money("1000000.00"),
            max: money("300000.00"),
            counterparties: 12,
            first: Some(first_in),
            last: Some(last_in),
        },
        first_seen: Some(NOW - 200 * DAY),
        device_accounts: 4,
        holder_accounts: 6,
        windows: Windows::default(),
    };
    let tx = TxBuilder::cash_withdrawal("450000.00")
        .sender_opened(first_in - 5 * DAY - HOUR)
        .sender_income(money("100000.00"))
        .sender_holder(HOLDER)
        .device(DEVICE)
        .build();
    (story, tx)
}

#[test]
fn evidence_shows_side_score_indicators_in_order_and_each_measured_value() -> TestResult {
    let (story, tx) = every_indicator();
    let found = findings(&rule(&[])?, story, &tx);
    let finding = only(&found);
    assert_eq!(finding.code(), codes::MULE_SCORE_HIGH);
    assert_eq!(
        evidence(finding),
        [
            ("side", "sender"),
            ("score", "100"),
            (
                "indicators",
                "new-account, many-senders, many-transactions, pass-through, quick-dwell, \
                 fan-in-cash-out, dormant, income-multiple, shared-device, many-cards"
            ),
            ("account-age-days", "5"),
            ("senders", "12"),
            ("transactions", "30"),
            ("pass-through-ratio", "0.9500"),
            ("dwell-minutes", "15"),
            ("fan-in-payments", "12"),
            ("first-seen-days-ago", "200"),
            ("income-multiple", "10.0000"),
            ("device-accounts", "4"),
            ("holder-accounts", "6"),
        ]
    );
    assert!(
        finding
            .message_text()
            .starts_with("mule score 100 from 10 indicators"),
        "{}",
        finding.message_text()
    );
    Ok(())
}

#[test]
fn the_score_is_capped_at_100() -> TestResult {
    let (story, tx) = every_indicator();
    // 175 by the default weights; 1000 with every weight at 100.
    for overrides in [
        Vec::new(),
        Indicator::ALL
            .iter()
            .map(|i| (i.weight_param(), "100"))
            .collect::<Vec<_>>(),
    ] {
        let overrides: Vec<(&str, &str)> =
            overrides.iter().map(|(n, v)| (n.as_str(), *v)).collect();
        let found = findings(&rule(&overrides)?, story, &tx);
        assert_eq!(only(&found).risk_score(), 100);
        assert_eq!(shown(&found, "score"), Some("100"));
    }
    Ok(())
}

#[test]
fn a_finding_is_one_code_never_both() -> TestResult {
    let (story, tx) = every_indicator();
    assert_eq!(
        codes_of(&findings(&rule(&[])?, story, &tx)),
        [codes::MULE_SCORE_HIGH]
    );
    let (story, tx) = fifty();
    assert_eq!(
        codes_of(&findings(&rule(&[])?, story, &tx)),
        [codes::MULE_SCORE_ELEVATED]
    );
    Ok(())
}

// --- weights of 0 ----------------------------------------------------------------

#[test]
fn a_weight_of_zero_switches_an_indicator_off() -> TestResult {
    let (story, tx) = every_indicator();
    for (at, indicator) in Indicator::ALL.iter().enumerate() {
        let name = indicator.weight_param();
        let found = findings(&rule(&[(&name, "0")])?, story, &tx);
        let expected: Vec<&str> = Indicator::ALL
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != at)
            .map(|(_, i)| i.name())
            .collect();
        assert_eq!(held(&found), expected.join(", "), "{name}");
        assert!(
            only(&found).evidence_items().len() == 3 + 9,
            "{name}: {:?}",
            evidence(only(&found))
        );
    }
    Ok(())
}

#[test]
fn weights_of_zero_leave_their_questions_unasked() -> TestResult {
    let (story, tx) = every_indicator();
    let ask = |overrides: &[(&str, &str)]| -> Result<Spy, SetupError> {
        Ok(decide(&rule(overrides)?, story, &tx).1)
    };
    let all = ask(&[])?;
    assert!(all.asked_window(Direction::Inbound, 30 * 86_400));
    assert!(all.asked_window(Direction::Outbound, 86_400));
    assert!(all.asked_window(Direction::Inbound, 3_600));
    assert!(all.asked_window(Direction::Both, 60 * 86_400));
    assert!(all.asked_first_seen());
    assert!(all.asked_linked(DEVICE));
    assert!(all.asked_linked(HOLDER));

    let spy = ask(&[("new-account-weight", "0"), ("income-multiple-weight", "0")])?;
    assert!(!spy.asked_window(Direction::Inbound, 30 * 86_400));
    let spy = ask(&[("new-account-weight", "0")])?;
    assert!(
        spy.asked_window(Direction::Inbound, 30 * 86_400),
        "income still needs it"
    );

    let spy = ask(&[
        ("many-transactions-weight", "0"),
        ("pass-through-weight", "0"),
    ])?;
    assert!(
        spy.asked_window(Direction::Outbound, 86_400),
        "the two-sided check needs it"
    );
    let spy = ask(&[
        ("many-transactions-weight", "0"),
        ("pass-through-weight", "0"),
        ("two-sided-payees", "0"),
    ])?;
    assert!(!spy.asked_window(Direction::Outbound, 86_400));
    assert!(!spy.asked_window(Direction::Outbound, 7 * 86_400));
    let spy = ask(&[("pass-through-weight", "0")])?;
    assert!(
        spy.asked_window(Direction::Outbound, 86_400),
        "many-transactions needs it"
    );

    let spy = ask(&[("quick-dwell-weight", "0")])?;
    assert!(!spy.asked_window(Direction::Inbound, 3_600));

    let spy = ask(&[("fan-in-cash-out-weight", "0")])?;
    assert!(
        spy.asked()
            .iter()
            .all(|a| !matches!(a, Asked::Aggregate(q) if q.max_amount() != Money::MAX))
    );

    let spy = ask(&[("dormant-weight", "0")])?;
    assert!(!spy.asked_first_seen());
    assert!(!spy.asked_window(Direction::Both, 60 * 86_400));

    let spy = ask(&[("shared-device-weight", "0")])?;
    assert!(!spy.asked_linked(DEVICE));
    assert!(spy.asked_linked(HOLDER));

    let spy = ask(&[("many-cards-weight", "0")])?;
    assert!(!spy.asked_linked(HOLDER));
    assert!(spy.asked_linked(DEVICE));
    Ok(())
}

#[test]
fn with_every_indicator_of_the_activity_window_off_its_inbound_query_is_not_asked() -> TestResult {
    let (story, tx) = every_indicator();
    let rule = rule(&[
        ("many-senders-weight", "0"),
        ("many-transactions-weight", "0"),
        ("pass-through-weight", "0"),
        ("quick-dwell-weight", "0"),
    ])?;
    let (found, spy) = decide(&rule, story, &tx);
    assert_eq!(
        held(&found),
        "new-account, fan-in-cash-out, dormant, income-multiple, shared-device, many-cards"
    );
    assert!(
        !spy.asked().iter().any(|a| matches!(
            a,
            Asked::Aggregate(q) if q.direction() == Direction::Inbound
                && q.window_secs() == 86_400
                && q.max_amount() == Money::MAX
        )),
        "{:?}",
        spy.asked()
    );
    Ok(())
}

// --- look-alikes ----------------------------------------------------------------

#[test]
fn a_student_with_fifteen_birthday_gifts_then_ordinary_spending_is_not_a_mule() -> TestResult {
    // Fifteen friends sent 5000.00 each this afternoon; the account is three
    // years old, busy all year, and the student takes 10000.00 out in cash
    // and sends 3000.00 to a friend.
    let gifts = Totals {
        count: 15,
        sum: money("75000.00"),
        max: money("5000.00"),
        counterparties: 15,
        first: Some(NOW - 6 * HOUR),
        last: Some(NOW - 2 * HOUR),
    };
    let story = Story {
        inbound: gifts,
        small: gifts,
        month: Totals {
            first: Some(NOW - 28 * DAY),
            ..payments(17, "215000.00")
        },
        quiet: Totals {
            first: Some(NOW - 59 * DAY),
            ..payments(80, "600000.00")
        },
        first_seen: Some(NOW - 3 * 365 * DAY),
        device_accounts: 1,
        holder_accounts: 1,
        ..Story::default()
    };
    let student = |tx: TxBuilder| {
        tx.sender_opened(NOW - 3 * 365 * DAY)
            .sender_income(money("120000.00"))
            .sender_holder(HOLDER)
            .device(DEVICE)
            .build()
    };
    for tx in [
        student(TxBuilder::cash_withdrawal("10000.00")),
        student(TxBuilder::transfer("3000.00")),
    ] {
        assert_eq!(held(&findings(&probe(&[])?, story, &tx)), "many-senders");
        assert!(findings(&rule(&[])?, story, &tx).is_empty());
    }
    Ok(())
}
