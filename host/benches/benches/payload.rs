//! The cost of one plugin call by the shape of the transactions it carries:
//! the no-op plugin pack (one component that returns no findings and asks
//! the host nothing) deciding batches of 256 minimal transactions (short
//! ids, no remittance, no optional fields) and of 256 large ones (long ids,
//! a remittance text of about 200 bytes, every optional party and device
//! field set).
//!
//! Why: the no-op plugin's cost is the floor every plugin pays per
//! transaction, and most of it is lowering the batch's records and text into
//! the guest. This shows how much of that floor grows with the payload, so
//! a rule author (or the WIT contract) knows what sending more fields costs.
//!
//! Two figures per shape: `pipeline` is the whole `evaluate_batch` (pricing,
//! recording in history, building the batch, the call, decisions); `call`
//! is only the time inside the plugin call as the engine's own per-plugin
//! clock sees it (`Evaluator::plugin_nanos`): lowering, the guest, lifting.
//!
//! The no-op pack takes the reference pack's rates, limits and retention,
//! so it needs that pack built: `cargo qorgan pack build
//! examples/packs/kz-afm` from the repository root.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use qorgan::transaction::Transaction;
use qorgan_benches::{
    Feed, check_decides, engine, evaluator, noop_pack, prepare, reference_pack, retention_secs,
    time_batches,
};
use std::time::{Duration, Instant};

/// Builds the `i`th transaction of a feed.
type Shape = fn(u64) -> Transaction;

const BATCH: usize = 256;
/// Transactions in one lap of each feed.
const LAP: u64 = 4_096;
/// 2025-03-01T00:00:00Z.
const START: u64 = 1_740_787_200;

fn rfc3339(secs: u64) -> String {
    let days = secs / 86_400 - 20_148;
    let rem = secs % 86_400;
    // Day 0 is 2025-03-01; LAP transactions a second apart stay in March.
    format!(
        "2025-03-{:02}T{:02}:{:02}:{:02}Z",
        days + 1,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn parse(text: &str) -> Transaction {
    match Transaction::from_json(text) {
        Ok(tx) => tx,
        Err(e) => panic!("bad benchmark fixture: {e}\n{text}"),
    }
}

/// Short ids, required fields only: about 150 bytes of JSON.
fn minimal(i: u64) -> Transaction {
    parse(&format!(
        r#"{{"id":"t{i}","timestamp":"{}","kind":"transfer","amount":"1500.00","currency":"KZT",
            "sender":{{"account":"A{}"}},"recipient":{{"account":"B{}"}}}}"#,
        rfc3339(START + i),
        i % 1_000,
        (i * 7) % 1_000
    ))
}

/// Long ids, ~200 bytes of remittance text (Cyrillic and Latin), every
/// optional field of both parties and the device set.
fn large(i: u64) -> Transaction {
    let remittance = "Оплата по договору поставки № 2025/03-118 от 01.03.2025 за товарно-материальные ценности, без НДС; invoice INV-000118";
    parse(&format!(
        r#"{{"id":"bank-core-2025-03-01-transfer-{i:020}","timestamp":"{}","kind":"transfer",
            "channel":"internet-banking","amount":"1234567.89","currency":"KZT",
            "sender":{{"account":"KZ86125KZT50041{:05}","iin":"061211600012","name":"Aigerim Serikovna Nurlanova",
                "kind":"individual","bank":"HSBKKZKX","country":"KZ","opened":"2019-05-14T00:00:00Z",
                "vasp":"sender-vasp.example","income":"450000.00"}},
            "recipient":{{"account":"KZ55722C00001{:07}","iin":"940840000120","name":"ТОО Алматы Логистик Сервис",
                "kind":"business","bank":"CASPKZKA","country":"KZ","opened":"2012-11-02T00:00:00Z",
                "vasp":"recipient-vasp.example","income":"9000000.00"}},
            "remittance":"{remittance}","verified":["sender-iin","recipient-iin","sms-confirmation"],
            "device":{{"id":"device-3f2c9a7e-5d41-4b8e-9c1a-{:012}","ip":"203.0.113.{}"}}}}"#,
        rfc3339(START + i),
        i % 1_000,
        (i * 7) % 1_000,
        i % 500,
        i % 250
    ))
}

fn payload(c: &mut Criterion) {
    let like = reference_pack();
    let pack = noop_pack(&like);
    let engine = engine();
    let prepared = prepare(&engine, &pack);
    let mut group = c.benchmark_group("payload/noop");
    group.throughput(Throughput::Elements(BATCH as u64));
    for (shape, make) in [("minimal", minimal as Shape), ("large", large)] {
        let txs: Vec<Transaction> = (0..LAP).map(make).collect();
        let bytes = txs
            .first()
            .map(|t| t.remittance.len() + t.id.len())
            .unwrap_or(0);
        eprintln!("payload {shape}: id + remittance {bytes} bytes");
        let mut feed = Feed::new(txs);
        let mut eval = evaluator(&engine, &pack, &prepared);
        feed.fill_history(&eval, retention_secs(&pack));
        check_decides(&mut eval, feed.batch(BATCH));
        group.bench_function(BenchmarkId::new("pipeline", shape), |b| {
            b.iter_custom(|iters| time_batches(&mut eval, &mut feed, BATCH, iters));
        });
        group.bench_function(BenchmarkId::new("call", shape), |b| {
            b.iter_custom(|iters| {
                let before: u64 = eval.plugin_nanos().iter().sum();
                let started = Instant::now();
                let _ = time_batches(&mut eval, &mut feed, BATCH, iters);
                let after: u64 = eval.plugin_nanos().iter().sum();
                // The clock is the engine's; fall back to the wall time if
                // it did not move (it always does when the plugin runs).
                match after.checked_sub(before) {
                    Some(ns) if ns > 0 => Duration::from_nanos(ns),
                    _ => started.elapsed(),
                }
            });
        });
    }
    group.finish();
}

criterion_group!(benches, payload);
criterion_main!(benches);
