//! The generator's promises: reproducible bytes, exactly `count` lines in
//! stream order, lines the engine accepts, valid identifiers, and every
//! role present even in a small stream.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::*;
use qorgan::transaction::Transaction;

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
