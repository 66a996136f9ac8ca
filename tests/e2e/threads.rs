//! The engine is safe to share across threads and gives the same decisions
//! however the work is spread.

use std::sync::Arc;

use qorgan::{Decision, Engine, Pack, Transaction};
use qorgan_e2e::fixtures::{reference_pack_built, tx};

/// A deterministic mix around every threshold of the reference pack.
fn transactions(count: usize) -> Vec<Transaction> {
    let kinds = [
        "card-topup",
        "transfer",
        "cash-withdrawal",
        "cash-deposit",
        "card-payment",
    ];
    let amounts = [
        "500000.00",
        "500000.01",
        "600000.00",
        "12.50",
        "0.00",
        "1999999.99",
    ];
    let iins = ["061211600012", "061211600013", "12345", "870412300416"];
    let checks: [&[&str]; 4] = [
        &[],
        &["sender-iin"],
        &["biometric"],
        &["sender-iin", "biometric"],
    ];
    (0..count)
        .map(|i| {
            tx(
                &format!("t-{i:05}"),
                kinds[i % kinds.len()],
                amounts[(i / 5) % amounts.len()],
                iins[(i / 7) % iins.len()],
                checks[(i / 3) % checks.len()],
            )
        })
        .collect()
}

/// What must be identical: everything but the decision's id and timing.
fn essence(d: &Decision) -> String {
    let mut d = d.clone();
    d.decision_id.clear();
    d.elapsed_us = 0;
    d.to_json()
}

fn engine(pack: &Pack) -> Engine {
    let engine = match Engine::builder().max_instances(32).build() {
        Ok(e) => e,
        Err(e) => panic!("engine: {e}"),
    };
    if let Err(e) = engine.load(pack) {
        panic!("load: {e}");
    }
    engine
}

fn decide(engine: &Engine, txs: &[Transaction]) -> Vec<String> {
    let mut evaluator = engine.evaluator();
    txs.chunks(100)
        .flat_map(|chunk| evaluator.evaluate_batch(chunk))
        .map(|r| match r {
            Ok(d) => essence(&d),
            Err(e) => panic!("evaluation failed: {e}"),
        })
        .collect()
}

#[test]
fn four_threads_and_one_thread_give_identical_decisions() {
    let dir = reference_pack_built();
    let pack = match Pack::read(dir.path()) {
        Ok(p) => p,
        Err(e) => panic!("pack: {e}"),
    };
    let txs = Arc::new(transactions(10_000));

    let single = decide(&engine(&pack), &txs);

    let shared = engine(&pack);
    let quarter = txs.len() / 4;
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let engine = shared.clone();
            let txs = txs.clone();
            std::thread::spawn(move || {
                // Mix both entry points: pooled workers and owned evaluators.
                let part = &txs[t * quarter..(t + 1) * quarter];
                if t % 2 == 0 {
                    decide(&engine, part)
                } else {
                    part.chunks(100)
                        .flat_map(|c| engine.evaluate_batch(c))
                        .map(|r| match r {
                            Ok(d) => essence(&d),
                            Err(e) => panic!("evaluation failed: {e}"),
                        })
                        .collect()
                }
            })
        })
        .collect();
    let parallel: Vec<String> = handles
        .into_iter()
        .flat_map(|h| match h.join() {
            Ok(v) => v,
            Err(_) => panic!("a worker thread panicked"),
        })
        .collect();

    assert_eq!(single.len(), 10_000);
    assert_eq!(parallel.len(), 10_000);
    for (i, (a, b)) in single.iter().zip(&parallel).enumerate() {
        assert_eq!(a, b, "decision {i} differs");
    }
    // The mix is not trivial: every action the pack can reach occurs.
    for needle in [
        "\"action\":\"allow\"",
        "\"action\":\"verify\"",
        "\"action\":\"review\"",
    ] {
        assert!(
            single.iter().any(|d| d.contains(needle)),
            "no decision with {needle}"
        );
    }
}
