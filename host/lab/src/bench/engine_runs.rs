//! The engine measured: one thread in batches, one transaction at a time
//! for latency, and every core at once.

use std::sync::{Arc, Barrier};
use std::time::Instant;

use super::stats::nanos;
use super::{BenchError, Pass};
use qorgan::engine::{Engine, PreparedPack};
use qorgan::history::{History, HistoryLimits};
use qorgan::transaction::Transaction;

/// A fresh, empty history with the pack's retention: every measured pass
/// starts from the same state.
pub(crate) fn fresh_history(engine: &Engine, pack: &PreparedPack) -> Arc<History> {
    let limits: HistoryLimits = engine.history().limits();
    let history = History::new(limits);
    history.set_retention(pack.retention_secs());
    Arc::new(history)
}

/// Decides `txs` in batches on one thread, on a fresh history, after one
/// unrecorded warm-up batch that creates the instances.
pub(crate) fn single_thread(
    engine: &Engine,
    pack: &Arc<PreparedPack>,
    txs: &[Transaction],
    batch: usize,
) -> Pass {
    let history = fresh_history(engine, pack);
    let mut evaluator = engine
        .evaluator()
        .with_pack(pack.clone())
        .with_history(history);
    let batch = batch.max(1);
    if let Some(first) = txs.chunks(batch).next() {
        let _ = evaluator.evaluate_dry(first);
    }
    let before: Vec<u64> = evaluator.plugin_nanos().to_vec();
    let fuel_before: Vec<u64> = evaluator.plugin_stats().iter().map(|s| s.fuel).collect();
    let mut pass = Pass::new(pack.info().plugins.len(), txs.len());
    let mut results = Vec::with_capacity(txs.len().div_ceil(batch));
    let started = Instant::now();
    for chunk in txs.chunks(batch) {
        let batch_started = Instant::now();
        let decided = evaluator.evaluate_batch(chunk);
        pass.batch_ns.push(nanos(batch_started.elapsed()));
        results.push(decided);
    }
    pass.total_ns = nanos(started.elapsed());
    for (slot, (after, before)) in pass
        .plugin_ns
        .iter_mut()
        .zip(evaluator.plugin_nanos().iter().zip(&before))
    {
        *slot = after.saturating_sub(*before);
    }
    pass.plugin_fuel = evaluator
        .plugin_stats()
        .iter()
        .zip(fuel_before.iter().chain(std::iter::repeat(&0)))
        .map(|(after, before)| after.fuel.saturating_sub(*before))
        .collect();
    for result in results.into_iter().flatten() {
        match result {
            Ok(decision) => {
                if decision.has(qorgan::decision::PLUGIN_FAILED) {
                    pass.failed += 1;
                }
                pass.decisions.push(decision);
            }
            Err(_) => pass.failed += 1,
        }
    }
    pass
}

/// Per-transaction latency: each of `txs` decided alone (a batch of one),
/// on a fresh history; one sample per transaction, in nanoseconds.
pub(crate) fn one_at_a_time(
    engine: &Engine,
    pack: &Arc<PreparedPack>,
    txs: &[Transaction],
) -> Vec<u64> {
    let history = fresh_history(engine, pack);
    let mut evaluator = engine
        .evaluator()
        .with_pack(pack.clone())
        .with_history(history);
    if let Some(first) = txs.first() {
        let _ = evaluator.evaluate_dry(std::slice::from_ref(first));
    }
    txs.iter()
        .map(|tx| {
            let started = Instant::now();
            let _ = evaluator.evaluate_batch(std::slice::from_ref(tx));
            nanos(started.elapsed())
        })
        .collect()
}

/// Decides `txs` on `threads` threads sharing one fresh history, each
/// taking an equal, contiguous share of the stream in batches. Returns the
/// wall time in nanoseconds from the moment all threads start.
pub(crate) fn all_threads(
    engine: &Engine,
    pack: &Arc<PreparedPack>,
    txs: &[Transaction],
    batch: usize,
    threads: usize,
) -> Result<u64, BenchError> {
    let threads = threads.max(1);
    let batch = batch.max(1);
    let history = fresh_history(engine, pack);
    let share = txs.len().div_ceil(threads).max(1);
    let barrier = Barrier::new(threads + 1);
    std::thread::scope(|scope| {
        let mut handles = Vec::with_capacity(threads);
        for part in txs.chunks(share) {
            let mut evaluator = engine
                .evaluator()
                .with_pack(pack.clone())
                .with_history(history.clone());
            let barrier = &barrier;
            handles.push(scope.spawn(move || {
                if let Some(first) = part.chunks(batch).next() {
                    let _ = evaluator.evaluate_dry(first);
                }
                barrier.wait();
                for chunk in part.chunks(batch) {
                    let _ = evaluator.evaluate_batch(chunk);
                }
            }));
        }
        // Threads without a share (fewer transactions than threads) still
        // have to meet the barrier.
        for _ in handles.len()..threads {
            handles.push(scope.spawn(|| {
                barrier.wait();
            }));
        }
        barrier.wait();
        let started = Instant::now();
        for handle in handles {
            handle.join().map_err(|_| BenchError::Thread)?;
        }
        Ok(nanos(started.elapsed()))
    })
}
