//! Unit tests of the layering rules against canned history answers.

use qorgan_sdk::testing::{MemoryHost, TxBuilder, configure};
use qorgan_sdk::{Direction, Flow, Flows, Hop, Money, Path, Rule, TxKind};

use super::*;

const SENDER: Account = 10;
const RECIPIENT: Account = 20;
const T0: Timestamp = 1_740_823_200;

fn rule() -> KzLayering {
    match configure::<KzLayering>(&[]) {
        Ok(rule) => rule,
        Err(e) => panic!("defaults do not configure: {e:?}"),
    }
}

fn tenge(amount: i64) -> Money {
    Money::from_tiyn(amount * 100)
}

fn hop(from: Account, to: Account, amount: i64, minutes_before: i64) -> Hop {
    Hop {
        from,
        to,
        amount: tenge(amount),
        time: T0 - minutes_before * 60,
    }
}

fn path(hops: Vec<Hop>) -> Path {
    Path {
        hops,
        complete: true,
    }
}

fn flow(counterparty: Account, amount: i64, days_before: i64) -> Flow {
    Flow {
        counterparty,
        count: 1,
        sum: tenge(amount),
        first: T0 - days_before * 86_400,
        last: T0 - days_before * 86_400,
    }
}

fn flows(flows: Vec<Flow>) -> Flows {
    Flows {
        total: u32::try_from(flows.len()).unwrap_or(u32::MAX),
        flows,
        complete: true,
    }
}

fn transfer(amount: i64) -> qorgan_sdk::testing::TestTx {
    TxBuilder::with_amount(TxKind::Transfer, tenge(amount))
        .time(T0)
        .sender_account(SENDER)
        .recipient_account(RECIPIENT)
        .build()
}

fn codes(host: &MemoryHost, tx: &qorgan_sdk::testing::TestTx) -> Vec<String> {
    let mut out = Findings::new();
    rule().evaluate(&tx.tx(), host, &mut out);
    out.iter().map(|f| f.code().to_owned()).collect()
}

fn finding(host: &MemoryHost, tx: &qorgan_sdk::testing::TestTx, code: &str) -> Finding {
    let mut out = Findings::new();
    rule().evaluate(&tx.tx(), host, &mut out);
    match out.into_vec().into_iter().find(|f| f.code() == code) {
        Some(f) => f,
        None => panic!("no {code}"),
    }
}

#[test]
fn a_payment_passed_on_through_two_quick_accounts_is_a_chain_naming_every_account() {
    let host = MemoryHost::new()
        .with_trace(
            SENDER,
            path(vec![hop(1, 2, 1_000_000, 50), hop(2, SENDER, 980_000, 20)]),
        )
        .with_reference(1, "KZ-A")
        .with_reference(2, "KZ-B")
        .with_reference(SENDER, "KZ-C")
        .with_reference(RECIPIENT, "KZ-D");
    let tx = transfer(950_000);
    let f = finding(&host, &tx, codes::LAYERING_CHAIN);
    assert_eq!(f.action(), Action::Hold);
    assert_eq!(f.evidence_value("path"), Some("KZ-A → KZ-B → KZ-C → KZ-D"));
    assert_eq!(
        f.evidence_value("amounts"),
        Some("1000000.00, 980000.00, 950000.00")
    );
    assert_eq!(f.evidence_value("dwell-minutes"), Some("30, 20"));
    assert_eq!(f.evidence_value("accounts"), Some("KZ-C, KZ-B"));
    assert_eq!(f.evidence_value("side"), Some("sender"));
}

#[test]
fn one_quick_pass_through_alone_is_not_a_chain() {
    let host = MemoryHost::new().with_trace(SENDER, path(vec![hop(1, SENDER, 500_000, 30)]));
    assert!(codes(&host, &transfer(490_000)).is_empty());
}

#[test]
fn a_chain_to_a_payee_the_sender_paid_before_is_an_established_relation() {
    let host = MemoryHost::new()
        .with_trace(
            SENDER,
            path(vec![hop(1, 2, 1_000_000, 50), hop(2, SENDER, 980_000, 20)]),
        )
        .with_flows(
            SENDER,
            Direction::Outbound,
            flows(vec![flow(RECIPIENT, 40_000, 20)]),
        );
    assert!(codes(&host, &transfer(950_000)).is_empty());
}

#[test]
fn payments_between_one_holders_accounts_are_never_layering() {
    let host = MemoryHost::new().with_trace(
        SENDER,
        path(vec![hop(1, 2, 1_000_000, 50), hop(2, SENDER, 980_000, 20)]),
    );
    let tx = TxBuilder::with_amount(TxKind::Transfer, tenge(950_000))
        .time(T0)
        .sender_account(SENDER)
        .recipient_account(RECIPIENT)
        .sender_holder(7)
        .recipient_holder(7)
        .build();
    assert!(codes(&host, &tx).is_empty());
}

#[test]
fn a_payment_closing_a_cycle_of_three_accounts_is_flagged_with_the_cycle() {
    let host = MemoryHost::new().with_path(
        RECIPIENT,
        SENDER,
        path(vec![
            hop(RECIPIENT, 3, 2_000_000, 3 * 1440),
            hop(3, SENDER, 1_950_000, 1440),
        ]),
    );
    let f = finding(&host, &transfer(1_900_000), codes::CYCLE_RETURN);
    assert_eq!(f.evidence_value("days"), Some("3.0"));
    assert_eq!(f.evidence_value("accounts"), Some("#10, #20, #3"));
    // A small part of the money coming back is not the cycle closing.
    assert!(codes(&host, &transfer(100_000)).is_empty());
}

#[test]
fn a_cycle_whose_payments_grow_is_not_the_same_money_going_round() {
    // 150,000 out, 400,000 on: larger sums between the same people, as
    // through an exchanger's card, not one sum passed round.
    let growing = MemoryHost::new().with_path(
        RECIPIENT,
        SENDER,
        path(vec![
            hop(RECIPIENT, 3, 150_000, 3 * 1440),
            hop(3, SENDER, 400_000, 1440),
        ]),
    );
    assert!(codes(&growing, &transfer(400_000)).is_empty());
    // This payment itself may not grow either.
    let last_grows = MemoryHost::new().with_path(
        RECIPIENT,
        SENDER,
        path(vec![
            hop(RECIPIENT, 3, 1_000_000, 3 * 1440),
            hop(3, SENDER, 1_000_000, 1440),
        ]),
    );
    assert!(codes(&last_grows, &transfer(1_250_001)).is_empty());
    // Up to `cycle-max-growth` (1.25) times the payment before is the cycle.
    let f = finding(&last_grows, &transfer(1_250_000), codes::CYCLE_RETURN);
    assert_eq!(f.evidence_value("days"), Some("3.0"));
}

#[test]
fn money_simply_returned_is_not_a_cycle() {
    let host = MemoryHost::new().with_path(
        RECIPIENT,
        SENDER,
        path(vec![hop(RECIPIENT, SENDER, 2_000_000, 1440)]),
    );
    assert!(codes(&host, &transfer(1_900_000)).is_empty());
}

/// A hub (the sender) whose payers and payees are given.
fn hub(inbound: Vec<Flow>, outbound: Vec<Flow>) -> MemoryHost {
    MemoryHost::new()
        .with_flows(SENDER, Direction::Inbound, flows(inbound))
        .with_flows(SENDER, Direction::Outbound, flows(outbound))
}

#[test]
fn many_new_payers_over_days_paid_on_to_one_account_make_a_fan_in_hub() {
    let payers = || -> Vec<Flow> {
        (0..6i64)
            .map(|i| flow(100 + i as u64, 200_000, i + 1))
            .collect()
    };
    let host = hub(payers(), Vec::new());
    let f = finding(&host, &transfer(1_100_000), codes::FAN_IN_HUB);
    assert_eq!(f.evidence_value("payers"), Some("6"));
    assert_eq!(f.evidence_value("payees"), Some("1"));
    assert_eq!(f.evidence_value("money-in"), Some("1200000.00"));
    // The accounts: the hub and its six payers.
    assert_eq!(
        f.evidence_value("accounts").map(|a| a.split(", ").count()),
        Some(7)
    );
    // Sending on less than the share is not a hub passing money on.
    assert!(codes(&host, &transfer(300_000)).is_empty());
    // Nor is a hub one whose pattern is lost among everyday transfers.
    let busy = hub(payers(), Vec::new()).with_totals(
        SENDER,
        qorgan_sdk::Totals {
            count: 40,
            ..qorgan_sdk::Totals::default()
        },
    );
    assert!(codes(&busy, &transfer(1_100_000)).is_empty());
}

#[test]
fn payers_the_hub_knew_before_the_window_are_not_new() {
    let payers: Vec<Flow> = (0..6)
        .map(|i| Flow {
            first: T0 - 80 * 86_400,
            ..flow(100 + i as u64, 200_000, i + 1)
        })
        .collect();
    assert!(codes(&hub(payers, Vec::new()), &transfer(800_000)).is_empty());
}

#[test]
fn a_hub_with_many_new_payers_a_day_is_a_business() {
    let payers: Vec<Flow> = (0..8i64)
        .map(|i| flow(100 + i as u64, 200_000, 1))
        .collect();
    assert!(codes(&hub(payers, Vec::new()), &transfer(1_500_000)).is_empty());
}

#[test]
fn one_payer_spread_over_many_new_payees_over_days_is_a_fan_out_hub() {
    let payees: Vec<Flow> = (0..4i64)
        .map(|i| flow(200 + i as u64, 240_000, i + 1))
        .collect();
    let host = hub(vec![flow(1, 1_200_000, 6)], payees);
    let f = finding(&host, &transfer(240_000), codes::FAN_OUT_HUB);
    assert_eq!(f.evidence_value("payees"), Some("5"));
    assert_eq!(f.evidence_value("money-out"), Some("1200000.00"));
}

#[test]
fn many_new_payers_and_payees_make_gather_scatter() {
    let payers: Vec<Flow> = (0..4i64)
        .map(|i| flow(100 + i as u64, 250_000, i + 2))
        .collect();
    let payees: Vec<Flow> = (0..3i64)
        .map(|i| flow(200 + i as u64, 250_000, i))
        .collect();
    let host = hub(payers, payees);
    assert_eq!(codes(&host, &transfer(200_000)), [codes::GATHER_SCATTER]);
}

#[test]
fn money_spread_by_one_source_and_gathered_at_the_recipient_is_scatter_gather() {
    const SOURCE: Account = 1;
    let host = MemoryHost::new()
        .with_trace(SENDER, path(vec![hop(SOURCE, SENDER, 300_000, 600)]))
        .with_flows(
            SOURCE,
            Direction::Outbound,
            flows(vec![
                flow(SENDER, 300_000, 1),
                flow(31, 300_000, 1),
                flow(32, 300_000, 1),
            ]),
        )
        .with_flows(
            RECIPIENT,
            Direction::Inbound,
            flows(vec![
                flow(31, 290_000, 0),
                flow(32, 280_000, 0),
                flow(99, 5_000, 0),
            ]),
        );
    let f = finding(&host, &transfer(295_000), codes::SCATTER_GATHER);
    assert_eq!(f.evidence_value("intermediates"), Some("3"));
    assert_eq!(f.evidence_value("path"), Some("#1 → [#10, #31, #32] → #20"));
}

#[test]
fn per_day_counts_find_the_busiest_day() {
    let flows = vec![flow(1, 1, 0), flow(2, 1, 0), flow(3, 1, 2), flow(4, 1, 5)];
    assert_eq!(per_day_max(&flows, T0), 2);
    assert_eq!(days_spanned(&flows, T0), 3);
}

#[test]
fn defaults_configure_and_bad_values_are_refused_naming_the_parameter() {
    let _ = rule();
    let bad = configure::<KzLayering>(&[(params::CHAIN_HOPS, "9")]);
    assert!(bad.is_err());
    let bad = configure::<KzLayering>(&[(params::CHAIN_MIN_SHARE, "1.5")]);
    assert!(bad.is_err());
}

#[test]
fn a_hub_that_pays_out_while_it_collects_is_no_gather_scatter() {
    // Payers and payees interleaved over the same days: a trader.
    let payers: Vec<Flow> = (0..5i64)
        .map(|i| flow(100 + i as u64, 250_000, 2 * i + 1))
        .collect();
    let payees: Vec<Flow> = (0..4i64)
        .map(|i| flow(200 + i as u64, 250_000, 2 * i + 2))
        .collect();
    assert!(!gathered_first(&payers, &payees));
    let host = hub(payers, payees);
    assert!(codes(&host, &transfer(200_000)).is_empty());
}

/// Four new payers of 150,000 on days 6 to 3 before, then `payees` new
/// payees of 120,000 on the day before (the last one is this payment).
fn gather_then_scatter(payees: u64, payee_days_before: i64) -> MemoryHost {
    let payers: Vec<Flow> = (0..4i64)
        .map(|i| flow(100 + i as u64, 150_000, 6 - i))
        .collect();
    let paid: Vec<Flow> = (0..payees.saturating_sub(1))
        .map(|i| flow(200 + i, 120_000, payee_days_before))
        .collect();
    hub(payers, paid)
}

#[test]
fn a_gather_scatter_hub_may_pay_out_many_on_one_day_but_not_a_payroll_run() {
    // 600,000 gathered over four days, then eight payees in a day: under
    // the fan-in's 1,000,000 but over gather-scatter-min-amount (500,000).
    let host = gather_then_scatter(5, 0);
    assert_eq!(codes(&host, &transfer(120_000)), [codes::GATHER_SCATTER]);
    let twelve = hub(
        (0..4i64)
            .map(|i| flow(100 + i as u64, 400_000, 6 - i))
            .collect(),
        (0..11u64).map(|i| flow(200 + i, 130_000, 0)).collect(),
    );
    assert_eq!(codes(&twelve, &transfer(130_000)), [codes::GATHER_SCATTER]);
    // Thirteen new payees on one day: a payroll run or a business.
    let thirteen = hub(
        (0..4i64)
            .map(|i| flow(100 + i as u64, 400_000, 6 - i))
            .collect(),
        (0..12u64).map(|i| flow(200 + i, 120_000, 0)).collect(),
    );
    assert!(codes(&thirteen, &transfer(120_000)).is_empty());
}

#[test]
fn gather_scatter_needs_its_own_least_amount() {
    // 4 × 120,000 = 480,000 gathered: under 500,000.
    let payers: Vec<Flow> = (0..4i64)
        .map(|i| flow(100 + i as u64, 120_000, 6 - i))
        .collect();
    let payees: Vec<Flow> = (0..3u64).map(|i| flow(200 + i, 100_000, 0)).collect();
    assert!(codes(&hub(payers, payees), &transfer(100_000)).is_empty());
}

#[test]
fn gathering_and_scattering_within_one_day_is_no_gather_scatter() {
    // Payers and payees all within the last day: an exchanger's card in
    // the hours of its trade, judged by kz-exchanger.
    let payers: Vec<Flow> = (0..4i64)
        .map(|i| Flow {
            first: T0 - 10 * 3600 + i * 600,
            last: T0 - 10 * 3600 + i * 600,
            ..flow(100 + i as u64, 300_000, 0)
        })
        .collect();
    let payees: Vec<Flow> = (0..3i64)
        .map(|i| Flow {
            first: T0 - 3600 + i * 600,
            last: T0 - 3600 + i * 600,
            ..flow(200 + i as u64, 250_000, 0)
        })
        .collect();
    assert!(gathered_first(&payers, &payees));
    assert!(codes(&hub(payers, payees), &transfer(250_000)).is_empty());
}

#[test]
fn a_payee_paid_before_the_last_payer_paid_in_counts_against_gathering_first() {
    // Three quarters of the payees must come after every payer.
    let payers: Vec<Flow> = (0..4i64)
        .map(|i| flow(100 + i as u64, 250_000, 8 - 2 * i))
        .collect();
    // Payers on days 8, 6, 4, 2 before; payees on day 3 (between) and 1.
    let early = [flow(200, 200_000, 3), flow(201, 200_000, 3)];
    let late = [flow(202, 200_000, 1), flow(203, 200_000, 1)];
    let mixed: Vec<Flow> = early.iter().chain(&late).copied().collect();
    assert!(!gathered_first(&payers, &mixed));
    let after: Vec<Flow> = late
        .iter()
        .copied()
        .chain([flow(204, 200_000, 1), flow(205, 200_000, 0)])
        .chain(early.iter().take(1).copied())
        .collect();
    assert!(gathered_first(&payers, &after));
}
