//! Criterion benchmarks of the qorgan host; the benchmarks are in `benches/`.
//! This library only holds the fixtures they share.

#![forbid(unsafe_code)]

use qorgan::transaction::Transaction;

/// A transfer of `amount` tenge from `from` to `to` at `secs` after
/// 2025-03-01T00:00:00Z, with the sender's IIN and device.
///
/// # Panics
///
/// If the fixture does not parse, which is a bug in the benchmark.
#[must_use]
pub fn transfer(id: u64, from: &str, to: &str, amount: u64, secs: u64) -> Transaction {
    let time = 1_740_787_200 + secs;
    let text = format!(
        r#"{{"id":"tx-{id}","timestamp":"{ts}","kind":"transfer","amount":"{amount}.00",
            "currency":"KZT","sender":{{"account":"{from}","iin":"061211600012","kind":"individual"}},
            "recipient":{{"account":"{to}","kind":"individual"}},"device":{{"id":"d-{from}"}}}}"#,
        ts = rfc3339(time)
    );
    match Transaction::from_json(&text) {
        Ok(tx) => tx,
        Err(e) => panic!("bad benchmark fixture: {e}"),
    }
}

fn rfc3339(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // 2025-03-01 is day 20148 since the epoch; the benchmarks stay in March.
    let day_of_march = days - 20_148 + 1;
    format!(
        "2025-03-{day_of_march:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// A stream of `count` transfers among `accounts` accounts, `gap` seconds
/// apart, with amounts from 1,000 to 100,000 tenge.
#[must_use]
pub fn stream(count: u64, accounts: u64, gap: u64) -> Vec<Transaction> {
    (0..count)
        .map(|i| {
            let from = format!("KZ{:018}", (i * 7919) % accounts);
            let to = format!("KZ{:018}", (i * 104_729 + 1) % accounts);
            transfer(i, &from, &to, 1_000 + (i * 37) % 99_000, i * gap)
        })
        .collect()
}
