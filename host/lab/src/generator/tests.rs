//! The generator's promises: reproducible bytes, exactly `count` lines in
//! stream order, lines the engine accepts, valid identifiers, every role
//! present even in a small stream, and the shapes of the planted patterns
//! across accounts and of their look-alikes.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::event::PartyRef;
use super::scheme::{SchemeKind, run as run_scheme};
use super::*;
use qorgan::transaction::{Channel as Ch, Transaction, TxKind as Kind};

fn generate(seed: u64, count: u64) -> Vec<u8> {
    let mut out = Vec::new();
    match Generator::new(GeneratorConfig::new(seed, count)) {
        Ok(mut g) => {
            if let Err(e) = g.write_to(&mut out) {
                panic!("cannot generate: {e}");
            }
        }
        Err(e) => panic!("cannot build the generator: {e}"),
    }
    out
}

fn lines(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or(Value::Null))
        .collect()
}

/// A stream of 3,000 shared by the tests that only read it.
fn small() -> &'static [u8] {
    static SMALL: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    SMALL.get_or_init(|| generate(1, 3000))
}

#[test]
fn same_seed_and_count_give_identical_bytes() {
    assert_eq!(generate(1, 3000), small());
}

#[test]
fn different_seeds_give_different_streams() {
    assert_ne!(generate(2, 3000), small());
}

#[test]
fn writes_exactly_count_lines() {
    for count in [0, 1, 17, 2500] {
        let out = generate(5, count);
        assert_eq!(out.iter().filter(|b| **b == b'\n').count() as u64, count);
    }
    assert_eq!(small().iter().filter(|b| **b == b'\n').count(), 3000);
}

#[test]
fn iterator_yields_the_same_lines_as_write_to() -> Result<(), GenError> {
    let mut g = Generator::new(GeneratorConfig::new(1, 3000))?;
    let joined: String = g.by_ref().map(|l| l + "\n").collect();
    assert_eq!(joined.as_bytes(), small());
    assert_eq!(g.next(), None);
    Ok(())
}

#[test]
fn ids_count_up_and_timestamps_never_decrease() {
    let mut last = String::new();
    for (i, line) in lines(small()).iter().enumerate() {
        assert_eq!(line["id"], format!("tx-{:07}", i + 1));
        let ts = line["timestamp"].as_str().unwrap_or_default().to_owned();
        assert!(ts >= last, "line {}: {ts} before {last}", i + 1);
        last = ts;
    }
}

#[test]
fn every_line_parses_as_an_engine_transaction() {
    for (i, line) in String::from_utf8_lossy(small()).lines().enumerate() {
        if let Err(e) = Transaction::from_json(line) {
            panic!("line {}: {e}\n{line}", i + 1);
        }
    }
}

#[test]
fn every_individual_iin_and_business_bin_passes_the_checksum() {
    let mut checked = 0;
    for line in lines(small()) {
        for side in ["sender", "recipient"] {
            if let Some(iin) = line[side]["iin"].as_str() {
                assert!(ids::iin_is_valid(iin), "{side} {iin}");
                checked += 1;
            }
        }
    }
    assert!(checked > 3000, "{checked}");
}

#[test]
fn fields_follow_the_contract() {
    let mut currencies = HashSet::new();
    for line in lines(small()) {
        let amount = line["amount"].as_str().unwrap_or_default();
        let (units, cents) = amount.split_once('.').unwrap_or(("", ""));
        assert!(!units.is_empty() && cents.len() == 2, "{amount}");
        currencies.insert(line["currency"].as_str().unwrap_or_default().to_owned());
        for side in ["sender", "recipient"] {
            let party = &line[side];
            let account = party["account"].as_str().unwrap_or_default();
            if account.starts_with("KZ") {
                assert_eq!(account.len(), 20, "{account}");
                assert!(ids::iban_is_valid(account), "{account}");
            }
            let home = party["bank"] == ids::HOME_BANK.bic && account.starts_with("KZ");
            if home && party["kind"] == "individual" {
                assert!(party["income"].is_string(), "{party}");
                assert!(party["opened"].is_string(), "{party}");
            }
            if party["kind"] == "vasp" {
                assert!(party["vasp"].is_string(), "{party}");
            }
            let role = line["truth"][side].as_str().unwrap_or_default();
            assert!(Role::parse(role).is_some(), "{role}");
        }
        if let Some(device) = line.get("device") {
            assert!(
                device["id"].is_string() && device["ip"].is_string(),
                "{device}"
            );
        }
    }
    assert!(currencies.contains("KZT"));
}

#[test]
fn every_role_appears_in_a_small_stream() {
    let mut seen: HashMap<String, u64> = HashMap::new();
    for line in lines(small()) {
        for side in ["sender", "recipient"] {
            if let Some(role) = line["truth"][side].as_str() {
                *seen.entry(role.to_owned()).or_insert(0) += 1;
            }
        }
    }
    for role in Role::ALL {
        assert!(seen.contains_key(role.as_str()), "{role} missing: {seen:?}");
    }
}

/// Transactions of each account, by role, from a stream.
fn by_account(stream: &[Value], role: &str) -> HashMap<String, Vec<Value>> {
    let mut out: HashMap<String, Vec<Value>> = HashMap::new();
    for line in stream {
        for side in ["sender", "recipient"] {
            if line["truth"][side] == role {
                let account = line[side]["account"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                out.entry(account).or_default().push(line.clone());
            }
        }
    }
    out
}

/// The UTC date of a line.
fn date(line: &Value) -> &str {
    line["timestamp"]
        .as_str()
        .and_then(|t| t.get(..10))
        .unwrap_or_default()
}

/// The date of the stream's last line: the stream stops after `count`
/// lines, mid-way through that day, so its flows are cut short.
fn last_date(stream: &[Value]) -> String {
    stream.last().map(date).unwrap_or_default().to_owned()
}

#[test]
fn mules_receive_from_many_senders_and_move_the_money_out() {
    let stream = lines(small());
    let last = last_date(&stream);
    let mules = by_account(&stream, "mule");
    assert!(mules.len() >= 4, "{}", mules.len());
    let mut fan_in = 0;
    for (account, txs) in &mules {
        // An episode on the last, cut-short day may not have cashed out yet.
        let txs: Vec<&Value> = txs.iter().filter(|t| date(t) != last).collect();
        let senders: HashSet<&str> = txs
            .iter()
            .filter(|t| t["recipient"]["account"] == account.as_str())
            .filter_map(|t| t["sender"]["account"].as_str())
            .collect();
        let inflow: f64 = txs
            .iter()
            .filter(|t| {
                t["recipient"]["account"] == account.as_str()
                    && t["sender"]["account"] != account.as_str()
            })
            .filter_map(|t| t["amount"].as_str()?.parse::<f64>().ok())
            .sum();
        let outflow: f64 = txs
            .iter()
            .filter(|t| t["sender"]["account"] == account.as_str())
            .filter_map(|t| t["amount"].as_str()?.parse::<f64>().ok())
            .sum();
        if senders.len() >= 8 {
            fan_in += 1;
            assert!(
                outflow >= inflow * 0.8,
                "{account}: in {inflow} out {outflow}"
            );
        }
    }
    assert!(fan_in >= 2, "{fan_in}");
}

#[test]
fn structurers_split_amounts_just_under_the_threshold() {
    let stream = lines(small());
    let structurers = by_account(&stream, "structurer");
    assert!(!structurers.is_empty());
    let bursts = structurers
        .iter()
        .filter(|(account, txs)| {
            txs.iter()
                .filter(|t| t["sender"]["account"] == account.as_str())
                .filter_map(|t| t["amount"].as_str()?.parse::<f64>().ok())
                .filter(|a| (450_000.0..500_000.0).contains(a))
                .count()
                >= 3
        })
        .count();
    assert!(bursts >= 1);
}

#[test]
fn exchangers_pay_and_are_paid_by_many_people() {
    let stream = lines(small());
    let exchangers = by_account(&stream, "exchanger");
    assert!(!exchangers.is_empty());
    for (account, txs) in &exchangers {
        let payers: HashSet<&str> = txs
            .iter()
            .filter(|t| t["recipient"]["account"] == account.as_str())
            .filter_map(|t| t["sender"]["account"].as_str())
            .collect();
        let payees: HashSet<&str> = txs
            .iter()
            .filter(|t| t["sender"]["account"] == account.as_str())
            .filter_map(|t| t["recipient"]["account"].as_str())
            .collect();
        assert!(
            payers.len() >= 10 && payees.len() >= 10,
            "{account}: {} {}",
            payers.len(),
            payees.len()
        );
    }
}

/// One account's trading on one UTC date (a whole local business day in
/// Kazakhstan, UTC+5): distinct payers and payees, money in and out, and
/// the local hours of its transactions.
#[derive(Default)]
struct DayFlow {
    payers: HashSet<String>,
    payees: HashSet<String>,
    inflow: f64,
    outflow: f64,
    local_hours: Vec<u32>,
}

fn daily_flows(account: &str, txs: &[Value]) -> HashMap<String, DayFlow> {
    let mut days: HashMap<String, DayFlow> = HashMap::new();
    for t in txs {
        let ts = t["timestamp"].as_str().unwrap_or_default();
        let date = ts.get(..10).unwrap_or_default().to_owned();
        let hour: u32 = ts.get(11..13).and_then(|h| h.parse().ok()).unwrap_or(99);
        let amount: f64 = t["amount"]
            .as_str()
            .and_then(|a| a.parse().ok())
            .unwrap_or(0.0);
        let flow = days.entry(date).or_default();
        flow.local_hours.push((hour + 5) % 24);
        let sender = t["sender"]["account"].as_str().unwrap_or_default();
        let recipient = t["recipient"]["account"].as_str().unwrap_or_default();
        if recipient == account && sender != account {
            flow.inflow += amount;
            flow.payers.insert(sender.to_owned());
        } else if sender == account && recipient != account {
            flow.outflow += amount;
            flow.payees.insert(recipient.to_owned());
        }
    }
    days
}

#[test]
fn traders_are_paid_by_many_and_pay_many_on_the_same_day_in_business_hours() {
    let stream = lines(small());
    // The stream stops mid-way through its last day: judge whole days only.
    let last = last_date(&stream);
    let traders = by_account(&stream, "trader");
    assert!(!traders.is_empty(), "no trader in a stream of 3000");
    for (account, txs) in &traders {
        let days = daily_flows(account, txs);
        let trading: Vec<(&String, &DayFlow)> = days
            .iter()
            .filter(|(date, flow)| **date != last && flow.payers.len() >= 10)
            .collect();
        assert!(!trading.is_empty(), "{account}: no trading day");
        for (date, flow) in &trading {
            assert!(
                flow.payees.len() >= 5,
                "{account} {date}: {} payers but {} payees",
                flow.payers.len(),
                flow.payees.len()
            );
            assert!(
                flow.local_hours.iter().all(|h| (9..21).contains(h)),
                "{account} {date}: outside business hours {:?}",
                flow.local_hours
            );
            // What stays on the card is the margin, 8% to 35%.
            let residual = (flow.inflow - flow.outflow) / flow.inflow;
            assert!(
                (0.0795..=0.3505).contains(&residual),
                "{account} {date}: in {} out {} residual {residual}",
                flow.inflow,
                flow.outflow
            );
        }
        // Five or six trading days a week, never seven (the stream is
        // March 2025, so the day of the month orders the days).
        let dom: HashSet<u32> = trading
            .iter()
            .filter_map(|(date, _)| date.get(8..10)?.parse().ok())
            .collect();
        for first in 1..=25 {
            let week = (first..first + 7).filter(|d| dom.contains(d)).count();
            assert!(week <= 6, "{account}: trades 7 days from March {first}");
        }
    }
}

#[test]
fn population_at_100000_has_the_floors_of_each_typology() -> Result<(), GenError> {
    let g = Generator::new(GeneratorConfig::new(1, 100_000))?;
    let s = g.summary();
    assert!(s.count(Role::Mule) >= 60, "{s}");
    assert!(s.count(Role::Exchanger) >= 25, "{s}");
    assert!(s.count(Role::Structurer) >= 25, "{s}");
    let lookalikes = s.count(Role::Payroll)
        + s.count(Role::Merchant)
        + s.count(Role::Family)
        + s.count(Role::Student)
        + s.count(Role::Trader);
    assert!(lookalikes >= 200, "{s}");
    assert!((10..=15).contains(&s.count(Role::Trader)), "{s}");
    assert!(s.device_farms >= 1 && s.multi_card_droppers >= 1, "{s}");
    Ok(())
}

#[test]
fn bad_settings_are_refused_with_the_setting_named() {
    let mut config = GeneratorConfig::new(1, 10);
    config.days = 0;
    let err = Generator::new(config)
        .map(|_| ())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.starts_with("--days"), "{err}");
    let err = parse_start("yesterday")
        .map(|_| ())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.starts_with("--start"), "{err}");
    assert_eq!(
        parse_start("2025-03-01T00:00:00Z").ok(),
        Some(GeneratorConfig::DEFAULT_START)
    );
}

// The patterns across accounts and their look-alikes.

/// A population for `count` transactions over `days` days.
fn population(count: u64, days: u32) -> Population {
    let mut config = GeneratorConfig::new(1, count);
    config.days = days;
    Population::build(&config)
}

/// The events of the population's pattern `k`, in time order.
fn pattern(pop: &Population, k: usize) -> Vec<Event> {
    let Some(scheme) = pop.schemes.get(k) else {
        return Vec::new();
    };
    let day = DayInfo::new(GeneratorConfig::DEFAULT_START, scheme.day, 50_000);
    let mut rng = Rng::derive(pop.seed, &[tags::SCHEME, k as u64]);
    let mut events = Vec::new();
    let mut sink = Sink::new(&mut events, 0, scheme.day);
    run_scheme(pop, scheme, &day, &mut rng, &mut sink);
    events.sort_by_key(|e| e.time);
    events
}

/// The indices of the population's patterns of one kind.
fn patterns_of(pop: &Population, kind: fn(&SchemeKind) -> bool) -> Vec<usize> {
    (0..pop.schemes.len())
        .filter(|k| pop.schemes.get(*k).is_some_and(|s| kind(&s.kind)))
        .collect()
}

/// Laundering moves money by transfer, through an app, internet banking
/// or an API.
fn is_laundering_transfer(e: &Event) -> bool {
    e.kind == Kind::Transfer && matches!(e.channel, Ch::MobileApp | Ch::InternetBanking | Ch::Api)
}

#[test]
fn every_home_account_of_a_pattern_carries_the_pattern_role() {
    let pop = population(60_000, 60);
    let mut seen = HashSet::new();
    for scheme in &pop.schemes {
        let role = match &scheme.kind {
            SchemeKind::Chain { .. } => Role::ChainMule,
            SchemeKind::FanIn { .. } => Role::FanIn,
            SchemeKind::FanOut { .. } => Role::FanOut,
            SchemeKind::Cycle { .. } => Role::Cycle,
            SchemeKind::ScatterGather { .. } => Role::ScatterGather,
            SchemeKind::GatherScatter { .. } => Role::GatherScatter,
            SchemeKind::FamilyRing { .. } => Role::Family,
        };
        seen.insert(role);
        let origin = match &scheme.kind {
            SchemeKind::Chain {
                origin: PartyRef::Home(v),
                ..
            } => Some(*v),
            _ => None,
        };
        for account in scheme.home_accounts() {
            let expected = if Some(account) == origin {
                // A fraud victim: an ordinary customer.
                Role::Customer
            } else {
                role
            };
            assert_eq!(pop.role(PartyRef::Home(account)), expected, "{scheme:?}");
        }
    }
    assert_eq!(seen.len(), 7, "{seen:?}");
}

#[test]
fn a_chain_hops_through_three_to_six_mules_each_passing_on_95_to_100_percent_within_10_to_90_minutes()
 {
    let pop = population(60_000, 60);
    let chains = patterns_of(&pop, |k| matches!(k, SchemeKind::Chain { .. }));
    assert!(chains.len() >= 5, "{}", chains.len());
    for k in chains {
        let Some(SchemeKind::Chain { mules, origin, .. }) = pop.schemes.get(k).map(|s| &s.kind)
        else {
            continue;
        };
        assert!((3..=6).contains(&mules.len()), "{mules:?}");
        let events = pattern(&pop, k);
        let paid_in: i64 = events
            .iter()
            .filter(|e| e.sender == *origin)
            .map(|e| e.amount)
            .sum();
        let mut held = paid_in;
        let mut received = events
            .iter()
            .filter(|e| e.sender == *origin)
            .map(|e| e.time)
            .max()
            .unwrap_or(0);
        for (i, mule) in mules.iter().enumerate() {
            let me = PartyRef::Home(*mule);
            let out: Vec<&Event> = events.iter().filter(|e| e.sender == me).collect();
            let Some(first) = out.first() else {
                panic!("mule {i} of {mules:?} passes nothing on");
            };
            let dwell = first.time - received;
            assert!((600..=5400).contains(&dwell), "dwell {dwell}s");
            let passed: i64 = out.iter().map(|e| e.amount).sum();
            let last = i + 1 == mules.len();
            // The last one's cash comes out in banknotes, rounded down.
            let slack = if last { 500_000 } else { 100_000 };
            assert!(passed <= held, "{passed} > {held}");
            assert!(
                passed as f64 >= held as f64 * 0.95 - slack as f64,
                "{passed} of {held}"
            );
            if last {
                let exit = out.iter().all(|e| {
                    matches!(e.kind, Kind::CashWithdrawal | Kind::CryptoPurchase)
                        || (is_laundering_transfer(e) && !matches!(e.recipient, PartyRef::Home(_)))
                });
                assert!(exit, "{out:?}");
            } else {
                assert!(out.iter().all(|e| is_laundering_transfer(e)));
                assert_eq!(first.recipient, PartyRef::Home(mules[i + 1]));
            }
            held = passed;
            received = first.time;
        }
    }
}

#[test]
fn a_chain_mule_is_a_new_account_in_one_to_three_chains_weeks_apart() {
    let pop = population(200_000, 60);
    let mut days: HashMap<u32, Vec<u32>> = HashMap::new();
    for s in &pop.schemes {
        if let SchemeKind::Chain { mules, .. } = &s.kind {
            for m in mules {
                days.entry(*m).or_default().push(s.day);
            }
        }
    }
    let mules = pop
        .accounts
        .iter()
        .filter(|a| a.role == Role::ChainMule)
        .count();
    assert_eq!(days.len(), mules, "every chain mule takes part");
    assert!(days.values().any(|d| d.len() >= 2));
    for (mule, d) in &days {
        assert!((1..=3).contains(&d.len()), "{d:?}");
        for (i, a) in d.iter().enumerate() {
            for b in d.iter().skip(i + 1) {
                assert!(a.abs_diff(*b) >= 14, "{d:?}");
            }
        }
        let first = d.iter().copied().min().unwrap_or(0);
        let chain_day = GeneratorConfig::DEFAULT_START + i64::from(first) * calendar::DAY;
        let opened = pop.account(*mule).map_or(0, |a| a.opened);
        let age_days = (chain_day - opened) as f64 / calendar::DAY as f64;
        assert!(
            (0.0..=91.0).contains(&age_days),
            "opened {age_days} days before"
        );
    }
}

#[test]
fn a_cycle_returns_to_the_member_it_started_from() {
    let pop = population(60_000, 60);
    let cycles = patterns_of(&pop, |k| matches!(k, SchemeKind::Cycle { .. }));
    assert!(cycles.len() >= 4);
    for k in cycles {
        let Some(SchemeKind::Cycle { ring, .. }) = pop.schemes.get(k).map(|s| &s.kind) else {
            continue;
        };
        let members: HashSet<PartyRef> = ring.iter().map(|m| PartyRef::Home(*m)).collect();
        let hops: Vec<Event> = pattern(&pop, k)
            .into_iter()
            .filter(|e| members.contains(&e.sender) && members.contains(&e.recipient))
            .collect();
        assert_eq!(hops.len(), ring.len());
        let (Some(first), Some(last)) = (hops.first(), hops.last()) else {
            continue;
        };
        assert_eq!(last.recipient, first.sender, "back to where it started");
        for pair in hops.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            assert_eq!(a.recipient, b.sender);
            assert!((3600..=3 * 86_400).contains(&(b.time - a.time)));
            assert!(b.amount <= a.amount && b.amount as f64 >= a.amount as f64 * 0.95 - 100_000.0);
            assert!(is_laundering_transfer(a) && is_laundering_transfer(b));
        }
    }
}

#[test]
fn scatter_gather_goes_from_source_through_intermediaries_to_one_sink() {
    let pop = population(60_000, 60);
    let patterns = patterns_of(&pop, |k| matches!(k, SchemeKind::ScatterGather { .. }));
    assert!(patterns.len() >= 3);
    for k in patterns {
        let Some(SchemeKind::ScatterGather {
            source,
            middle,
            sink,
            ..
        }) = pop.schemes.get(k).map(|s| &s.kind)
        else {
            continue;
        };
        assert!((4..=12).contains(&middle.len()));
        let events = pattern(&pop, k);
        let (s, t) = (PartyRef::Home(*source), PartyRef::Home(*sink));
        for m in middle {
            let out = events.iter().find(|e| e.sender == s && e.recipient == *m);
            let on = events.iter().find(|e| e.sender == *m && e.recipient == t);
            let (Some(out), Some(on)) = (out, on) else {
                panic!("{m:?} is not between source and sink");
            };
            assert!((3600..=5 * 86_400).contains(&(on.time - out.time)));
            assert!(
                on.amount <= out.amount && on.amount as f64 >= out.amount as f64 * 0.9 - 100_000.0
            );
        }
        assert!(events.iter().all(is_laundering_transfer));
    }
}

/// Transfers per local day (UTC+5) into or out of `account`.
fn per_local_day(events: &[Event], account: PartyRef, inbound: bool) -> HashMap<i64, u32> {
    let mut days = HashMap::new();
    for e in events {
        let side = if inbound { e.recipient } else { e.sender };
        if side == account {
            *days
                .entry((e.time + calendar::LOCAL_OFFSET).div_euclid(calendar::DAY))
                .or_insert(0) += 1;
        }
    }
    days
}

#[test]
fn a_fan_in_hub_collects_a_few_a_day_from_many_and_moves_most_of_it_out() {
    let pop = population(60_000, 60);
    let patterns = patterns_of(&pop, |k| matches!(k, SchemeKind::FanIn { .. }));
    assert!(patterns.len() >= 3);
    for k in patterns {
        let Some(SchemeKind::FanIn { hub, per_day, .. }) = pop.schemes.get(k).map(|s| &s.kind)
        else {
            continue;
        };
        let me = PartyRef::Home(*hub);
        let events = pattern(&pop, k);
        let payers: HashSet<PartyRef> = events
            .iter()
            .filter(|e| e.recipient == me)
            .map(|e| e.sender)
            .collect();
        assert!((5..=25).contains(&payers.len()), "{}", payers.len());
        assert!(
            per_local_day(&events, me, true)
                .values()
                .all(|n| n <= per_day)
        );
        let inflow: i64 = events
            .iter()
            .filter(|e| e.recipient == me)
            .map(|e| e.amount)
            .sum();
        let out: Vec<&Event> = events.iter().filter(|e| e.sender == me).collect();
        let outflow: i64 = out.iter().map(|e| e.amount).sum();
        assert!(outflow as f64 >= inflow as f64 * 0.8 && outflow <= inflow);
        let first_in = events
            .iter()
            .find(|e| e.recipient == me)
            .map_or(0, |e| e.time);
        let last_in = events
            .iter()
            .filter(|e| e.recipient == me)
            .map(|e| e.time)
            .max()
            .unwrap_or(0);
        assert!((4..=21).contains(&((last_in - first_in) / 86_400 + 1)));
        assert!(
            out.iter()
                .all(|e| e.time <= last_in + 3 * 86_400 && e.time > first_in)
        );
    }
}

#[test]
fn a_fan_out_hub_pays_many_roughly_equal_shares_a_few_a_day() {
    let pop = population(60_000, 60);
    let patterns = patterns_of(&pop, |k| matches!(k, SchemeKind::FanOut { .. }));
    assert!(patterns.len() >= 3);
    for k in patterns {
        let Some(SchemeKind::FanOut {
            hub,
            per_day,
            source,
            ..
        }) = pop.schemes.get(k).map(|s| &s.kind)
        else {
            continue;
        };
        let me = PartyRef::Home(*hub);
        let events = pattern(&pop, k);
        let received: i64 = events
            .iter()
            .filter(|e| e.recipient == me && e.sender == *source)
            .map(|e| e.amount)
            .sum();
        let paid: Vec<i64> = events
            .iter()
            .filter(|e| e.sender == me)
            .map(|e| e.amount)
            .collect();
        assert!((5..=25).contains(&paid.len()));
        let total: i64 = paid.iter().sum();
        assert!(total as f64 >= received as f64 * 0.8 && total <= received);
        let mean = total as f64 / paid.len() as f64;
        assert!(
            paid.iter().all(|p| (*p as f64 - mean).abs() <= mean * 0.5),
            "{paid:?}"
        );
        assert!(
            per_local_day(&events, me, false)
                .values()
                .all(|n| n <= per_day)
        );
    }
}

#[test]
fn gather_scatter_pays_out_most_of_what_came_in_after_it_came_in() {
    let pop = population(60_000, 60);
    let patterns = patterns_of(&pop, |k| matches!(k, SchemeKind::GatherScatter { .. }));
    assert!(patterns.len() >= 3);
    for k in patterns {
        let Some(SchemeKind::GatherScatter { hub, .. }) = pop.schemes.get(k).map(|s| &s.kind)
        else {
            continue;
        };
        let me = PartyRef::Home(*hub);
        let events = pattern(&pop, k);
        let ins: Vec<&Event> = events.iter().filter(|e| e.recipient == me).collect();
        let outs: Vec<&Event> = events.iter().filter(|e| e.sender == me).collect();
        assert!((4..=12).contains(&ins.len()) && (4..=12).contains(&outs.len()));
        let inflow: i64 = ins.iter().map(|e| e.amount).sum();
        let outflow: i64 = outs.iter().map(|e| e.amount).sum();
        assert!(outflow as f64 >= inflow as f64 * 0.8 && outflow <= inflow);
        let last_in = ins.iter().map(|e| e.time).max().unwrap_or(0);
        assert!(outs.iter().all(|e| e.time > last_in));
    }
}

#[test]
fn a_family_sends_ordinary_sums_along_the_path_before_passing_a_larger_one_round() {
    let pop = population(60_000, 60);
    let rings = patterns_of(&pop, |k| matches!(k, SchemeKind::FamilyRing { .. }));
    assert!(!rings.is_empty());
    for k in rings {
        let Some(SchemeKind::FamilyRing { path, .. }) = pop.schemes.get(k).map(|s| &s.kind) else {
            continue;
        };
        let group = pop.families.iter().find(|f| f.members.contains(&path[0]));
        assert!(group.is_some_and(|g| path.iter().all(|m| g.members.contains(m))));
        let events = pattern(&pop, k);
        let hops = path.len() - 1;
        assert_eq!(events.len(), 2 * hops);
        let (before, sum) = events.split_at(hops);
        for (i, hop) in sum.iter().enumerate() {
            let pair = (PartyRef::Home(path[i]), PartyRef::Home(path[i + 1]));
            assert_eq!((hop.sender, hop.recipient), pair);
            assert!(before.iter().any(|e| (e.sender, e.recipient) == pair));
        }
    }
}

#[test]
fn savers_and_landlords_keep_their_savings_under_the_same_iin() {
    let pop = population(60_000, 30);
    let mut pairs = 0;
    for a in &pop.accounts {
        let savings = match &a.plan {
            Plan::Saver { savings, .. } => Some(*savings),
            Plan::Landlord { savings, .. } => *savings,
            _ => None,
        };
        if let Some(s) = savings.and_then(|s| pop.account(s)) {
            assert_eq!(s.iin, a.iin);
            assert_eq!(s.role, a.role);
            assert_ne!(s.id, a.id);
            pairs += 1;
        }
    }
    assert!(pairs >= 8, "{pairs}");
}

#[test]
fn a_saver_moves_most_of_the_salary_to_savings_within_hours() {
    let stream = lines(&generate(4, 60_000));
    let savers = by_account(&stream, "saver");
    assert!(savers.len() >= 8, "{}", savers.len());
    let time = |t: &Value| {
        t["timestamp"]
            .as_str()
            .and_then(|s| {
                time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
            })
            .map_or(0, |t| t.unix_timestamp())
    };
    let amount = |t: &Value| {
        t["amount"]
            .as_str()
            .and_then(|a| a.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let mut swept = 0;
    for (account, txs) in &savers {
        let salaries = txs.iter().filter(|t| {
            t["recipient"]["account"] == account.as_str()
                && t["remittance"].as_str().is_some_and(|r| !r.is_empty())
                && t["sender"]["kind"] == "business"
        });
        for salary in salaries {
            let sweep = txs.iter().find(|t| {
                t["sender"]["account"] == account.as_str()
                    && t["truth"]["recipient"] == "saver"
                    && t["recipient"]["iin"] == salary["recipient"]["iin"]
                    && (600..=6 * 3600).contains(&(time(t) - time(salary)))
            });
            if let Some(sweep) = sweep {
                let share = amount(sweep) / amount(salary);
                assert!((0.59..=1.0).contains(&share), "{share}");
                swept += 1;
            }
        }
    }
    assert!(swept >= 5, "{swept}");
}

#[test]
fn a_payroll_is_funded_less_than_a_day_before_each_run() {
    let stream = lines(&generate(1, 60_000));
    let payrolls = by_account(&stream, "payroll");
    assert!(!payrolls.is_empty());
    for (account, txs) in &payrolls {
        let fundings: Vec<&str> = txs
            .iter()
            .filter(|t| t["recipient"]["account"] == account.as_str())
            .filter_map(|t| t["timestamp"].as_str())
            .collect();
        let salaries: Vec<&str> = txs
            .iter()
            .filter(|t| t["sender"]["account"] == account.as_str())
            .filter_map(|t| t["timestamp"].as_str())
            .collect();
        for f in &fundings {
            // Some run starts within the next 24 hours (RFC 3339 UTC
            // strings of one format order as times do).
            let parse = |s: &str| {
                time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                    .map_or(0, |t| t.unix_timestamp())
            };
            let at = parse(f);
            assert!(
                salaries
                    .iter()
                    .any(|s| (1..=86_400).contains(&(parse(s) - at))),
                "{account}: funding at {f} before no run"
            );
        }
    }
}

#[test]
fn at_200000_over_60_days_each_pattern_has_enough_accounts_to_measure() -> Result<(), GenError> {
    let mut config = GeneratorConfig::new(1, 200_000);
    config.days = 60;
    let g = Generator::new(config)?;
    let s = g.summary();
    for role in [
        Role::ChainMule,
        Role::FanIn,
        Role::FanOut,
        Role::Cycle,
        Role::ScatterGather,
        Role::GatherScatter,
    ] {
        assert!((25..=80).contains(&s.count(role)), "{role}: {s}");
    }
    for role in [
        Role::Marketplace,
        Role::Landlord,
        Role::Saver,
        Role::Payroll,
    ] {
        assert!(s.count(role) >= 30, "{role}: {s}");
    }
    assert!(s.family_rings >= 30, "{s}");
    Ok(())
}

#[test]
fn new_roles_are_named_in_kebab_case_and_parse_back() {
    for role in Role::ALL {
        assert_eq!(Role::parse(role.as_str()), Some(role));
    }
    assert_eq!(Role::parse("chain-mule"), Some(Role::ChainMule));
    assert!(Role::ScatterGather.is_typology() && !Role::Marketplace.is_typology());
    assert!(Role::Saver.is_legitimate() && !Role::Cycle.is_legitimate());
}

#[test]
fn a_marketplace_pays_the_same_sellers_every_week() {
    let stream = lines(&generate(1, 60_000));
    let marketplaces = by_account(&stream, "marketplace");
    let mut checked = 0;
    for (account, txs) in &marketplaces {
        let buyers: HashSet<&str> = txs
            .iter()
            .filter(|t| t["recipient"]["account"] == account.as_str())
            .filter_map(|t| t["sender"]["account"].as_str())
            .collect();
        if buyers.len() < 100 {
            // One of its sellers.
            continue;
        }
        let mut weeks: HashMap<&str, HashSet<&str>> = HashMap::new();
        for t in txs.iter().filter(|t| {
            t["sender"]["account"] == account.as_str()
                && t["recipient"]["iin"] != t["sender"]["iin"]
        }) {
            weeks
                .entry(date(t))
                .or_default()
                .insert(t["recipient"]["account"].as_str().unwrap_or_default());
        }
        let sets: Vec<&HashSet<&str>> = weeks.values().collect();
        assert!(sets.len() >= 3, "{account}: {} payout days", sets.len());
        assert!(sets.windows(2).all(|w| w[0] == w[1]), "{account}");
        checked += 1;
    }
    assert!(checked >= 1);
}

/// A stream of `count` with `look_back_days` of history before it.
fn with_look_back(seed: u64, count: u64, look_back_days: u32) -> Vec<u8> {
    let config = GeneratorConfig {
        look_back_days,
        ..GeneratorConfig::new(seed, count)
    };
    let mut out = Vec::new();
    match Generator::new(config) {
        Ok(mut g) => {
            if let Err(e) = g.write_to(&mut out) {
                panic!("cannot generate: {e}");
            }
        }
        Err(e) => panic!("cannot build the generator: {e}"),
    }
    out
}

#[test]
fn a_look_back_writes_ordinary_life_before_the_period_and_count_lines_in_it() {
    let stream = lines(&with_look_back(1, 3000, 10));
    let start = "2025-03-01T00:00:00Z";
    let (before, period): (Vec<&Value>, Vec<&Value>) = stream
        .iter()
        .partition(|l| l["id"].as_str().is_some_and(|id| id.starts_with("lb-")));
    assert!(before.len() > 300, "{}", before.len());
    assert_eq!(period.len(), 3000);
    let mut last = String::new();
    for (i, line) in before.iter().enumerate() {
        assert_eq!(line["id"], format!("lb-{:07}", i + 1));
        let ts = line["timestamp"].as_str().unwrap_or_default();
        assert!(ts < start && ts >= "2025-02-19", "{ts}");
        assert!(ts >= last.as_str());
        last = ts.to_owned();
        // Nothing is planted in the look-back: no account of a typology
        // acts (one may still be paid: a salary, a friend's transfer).
        let sender = line["truth"]["sender"].as_str().and_then(Role::parse);
        assert!(
            sender.is_some_and(|r| !r.is_typology() || r == Role::UnlicensedPlatform),
            "{line}"
        );
    }
    for (i, line) in period.iter().enumerate() {
        assert_eq!(line["id"], format!("tx-{:07}", i + 1));
        assert!(line["timestamp"].as_str().unwrap_or_default() >= start);
    }
    // The look-back comes first, then the period.
    assert!(stream.first().is_some_and(|l| l["id"] == "lb-0000001"));
    // Rents, salaries and shop takings are in it: the history a bank holds.
    let roles: HashSet<&str> = before
        .iter()
        .flat_map(|l| ["sender", "recipient"].map(|s| l["truth"][s].as_str().unwrap_or("")))
        .collect();
    for role in ["landlord", "payroll", "merchant", "family"] {
        assert!(roles.contains(role), "{role} missing from {roles:?}");
    }
}

#[test]
fn a_look_back_is_reproducible_and_leaves_the_period_planted_the_same() {
    let a = with_look_back(2, 2000, 5);
    assert_eq!(a, with_look_back(2, 2000, 5));
    let planted = |bytes: &[u8]| -> HashSet<String> {
        lines(bytes)
            .iter()
            .filter(|l| l["id"].as_str().is_some_and(|id| id.starts_with("tx-")))
            .flat_map(|l| {
                ["sender", "recipient"].map(|s| {
                    let typology = l["truth"][s]
                        .as_str()
                        .and_then(Role::parse)
                        .is_some_and(|r| r.is_typology() && r != Role::UnlicensedPlatform);
                    typology.then(|| l[s]["account"].as_str().unwrap_or("").to_owned())
                })
            })
            .flatten()
            .collect()
    };
    assert_eq!(planted(&a), planted(&generate(2, 2000)));
    assert!(
        !lines(&generate(2, 2000))
            .iter()
            .any(|l| l["id"].as_str().is_some_and(|id| id.starts_with("lb-")))
    );
}

#[test]
fn unlicensed_platforms_are_labelled_as_such_and_licensed_ones_as_external() {
    for line in lines(small()) {
        for side in ["sender", "recipient"] {
            let party = &line[side];
            let Some(vasp) = party["vasp"].as_str() else {
                continue;
            };
            let licensed = ["bybit", "binance", "whitebit"].contains(&vasp);
            let expected = if licensed {
                "external"
            } else {
                "unlicensed-platform"
            };
            assert_eq!(line["truth"][side], expected, "{line}");
        }
    }
}
