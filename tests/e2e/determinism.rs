//! The same transaction gets the same decision on a busy host and an idle
//! one, in any batch size: plugin budgets are counted in fuel (instructions),
//! not time, and a failed batch call is narrowed down to the transactions
//! that cause it, so the others keep their real verdicts.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use qorgan::decision::PLUGIN_FAILED;
use qorgan::{Decision, Engine, Pack, Transaction};
use qorgan_e2e::fixtures::{heavy_remittance_tx, reference_pack_built};
use qorgan_lab::bench::Workload;

fn reference_pack() -> (tempfile::TempDir, Pack) {
    let dir = reference_pack_built();
    match Pack::read(dir.path()) {
        Ok(pack) => (dir, pack),
        Err(e) => panic!("pack: {e}"),
    }
}

/// `count` transactions of `qorgan gen`'s stream with seed 16.
fn generated(count: usize) -> Vec<Transaction> {
    match Workload::generate(16, count) {
        Ok(workload) => workload.transactions,
        Err(e) => panic!("generate: {e}"),
    }
}

/// What must be identical: everything but the decision's id and timing.
fn essence(d: &Decision) -> String {
    let mut d = d.clone();
    d.decision_id.clear();
    d.elapsed_us = 0;
    d.to_json()
}

/// Decides `txs` in batches of `batch` on a fresh engine with `pack`.
fn decide(pack: &Pack, txs: &[Transaction], batch: usize) -> Vec<String> {
    let engine = match Engine::builder().max_instances(16).build() {
        Ok(e) => e,
        Err(e) => panic!("engine: {e}"),
    };
    if let Err(e) = engine.load(pack) {
        panic!("load: {e}");
    }
    let mut evaluator = engine.evaluator();
    txs.chunks(batch)
        .flat_map(|chunk| evaluator.evaluate_batch(chunk))
        .map(|r| match r {
            Ok(d) => essence(&d),
            Err(e) => panic!("evaluation failed: {e}"),
        })
        .collect()
}

/// Threads that keep every core busy until stopped.
struct Spinners {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<u64>>,
}

impl Spinners {
    /// Two spinning threads per core.
    fn start() -> Spinners {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..2 * cores)
            .map(|seed| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut x = seed as u64 + 1;
                    while !stop.load(Ordering::Relaxed) {
                        for _ in 0..10_000 {
                            x = std::hint::black_box(
                                x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1),
                            );
                        }
                    }
                    x
                })
            })
            .collect();
        Spinners { stop, threads }
    }

    /// Stops the threads; how many there were.
    fn stop(self) -> usize {
        self.stop.store(true, Ordering::Relaxed);
        let count = self.threads.len();
        for thread in self.threads {
            if thread.join().is_err() {
                panic!("a spinning thread panicked");
            }
        }
        count
    }
}

/// Indexes of the decisions that differ, and the first difference.
fn differences(a: &[String], b: &[String]) -> (Vec<usize>, String) {
    assert_eq!(a.len(), b.len());
    let differing: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
    let first = differing
        .first()
        .map(|&i| format!("decision {i}:\n  {}\n  {}", a[i], b[i]))
        .unwrap_or_default();
    (differing, first)
}

#[test]
fn a_generated_stream_of_100000_is_decided_identically_on_a_quiet_and_a_busy_machine() {
    let (_dir, pack) = reference_pack();
    let txs = generated(100_000);
    let quiet = decide(&pack, &txs, 256);
    let spinners = Spinners::start();
    let busy = decide(&pack, &txs, 256);
    let spun = spinners.stop();
    assert!(spun >= 2, "the machine was kept busy by {spun} threads");
    assert_eq!(quiet.len(), 100_000);
    let (differing, first) = differences(&quiet, &busy);
    assert!(
        differing.is_empty(),
        "{} decisions differ; {first}",
        differing.len()
    );
    assert!(
        quiet.iter().all(|d| !d.contains(PLUGIN_FAILED)),
        "no plugin fails on the generated stream"
    );
    for needle in [
        "\"action\":\"allow\"",
        "\"action\":\"review\"",
        "\"action\":\"block\"",
    ] {
        assert!(
            quiet.iter().any(|d| d.contains(needle)),
            "the stream reaches {needle}"
        );
    }
}

#[test]
fn batches_of_1_7_256_and_4096_decide_a_stream_with_budget_exhausting_transactions_identically() {
    let (_dir, pack) = reference_pack();
    let mut txs = generated(20_000);
    // Crafted transactions that run kz-exchanger out of its budget, spread
    // over the stream so that they share batches with healthy ones.
    for (n, at) in [(0, 3), (1, 2_500), (2, 2_501), (3, 9_999), (4, 19_000)] {
        txs.insert(at, heavy_remittance_tx(&format!("heavy-{n}")));
    }
    let one = decide(&pack, &txs, 1);
    let failed: Vec<&String> = one.iter().filter(|d| d.contains(PLUGIN_FAILED)).collect();
    assert_eq!(failed.len(), 5, "only the crafted transactions fail");
    assert!(
        failed
            .iter()
            .all(|d| d.contains("\"reason\":\"budget\"") && d.contains("kz-exchanger")),
        "{failed:?}"
    );
    for batch in [7, 256, 4096] {
        let other = decide(&pack, &txs, batch);
        let (differing, first) = differences(&one, &other);
        assert!(
            differing.is_empty(),
            "batches of {batch}: {} decisions differ from batches of 1; {first}",
            differing.len()
        );
    }
}
