//! Criterion benchmarks of the qorgan host; the benchmarks are in `benches/`,
//! one file per concern, each saying what it measures and why. This library
//! only holds the fixtures they share: transactions (hand-made and from the
//! seeded generator), the reference and no-op packs, engines and evaluators,
//! and a [`Feed`] that replays a stream so that every measured batch meets a
//! history in its steady state.
//!
//! The engine benchmarks need the reference pack's plugins built first:
//! `cargo qorgan pack build examples/packs/kz-afm` from the repository root
//! ([`reference_pack`] panics naming that command otherwise).

#![forbid(unsafe_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use qorgan_lab::bench::Workload;
use qorgan::decision::PLUGIN_FAILED;
use qorgan::engine::PreparedPack;
use qorgan_lab::generator::{Generator, GeneratorConfig};
use qorgan::history::{History, HistoryLimits};
use qorgan::transaction::Transaction;
use qorgan::{Engine, Evaluator, Pack, PackError};

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

/// The reference pack's directory, `examples/packs/kz-afm`.
pub const REFERENCE_PACK: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/packs/kz-afm");

/// The command that builds the reference pack's plugins, named by the
/// panics below.
pub const BUILD_REFERENCE_PACK: &str = "cargo qorgan pack build examples/packs/kz-afm";

/// The reference pack `examples/packs/kz-afm`, read from its directory.
///
/// # Panics
///
/// If the pack cannot be read: most often because its plugins have not been
/// built, in which case the message names [`BUILD_REFERENCE_PACK`].
#[must_use]
pub fn reference_pack() -> Pack {
    match Pack::read(REFERENCE_PACK) {
        Ok(pack) => pack,
        Err(e @ PackError::MissingComponent { .. }) => panic!(
            "the reference pack's plugins are not built: run `{BUILD_REFERENCE_PACK}` \
             from the repository root first ({e})"
        ),
        Err(e) => panic!(
            "cannot read the reference pack {REFERENCE_PACK} (is it built? \
             `{BUILD_REFERENCE_PACK}`): {e}"
        ),
    }
}

/// A pack of one no-op plugin with `like`'s rates, lists, limits and
/// thresholds ([`qorgan_lab::bench::noop::pack`]): the floor of the boundary.
///
/// # Panics
///
/// If the no-op component cannot be assembled, a bug in the host.
#[must_use]
pub fn noop_pack(like: &Pack) -> Pack {
    match qorgan_lab::bench::noop::pack(like) {
        Ok(pack) => pack,
        Err(e) => panic!("cannot build the no-op pack: {e}"),
    }
}

/// `pack` with `limits.recycle_after_calls` set to `calls`: 1 makes every
/// plugin call run on a fresh instance.
#[must_use]
pub fn with_recycle(pack: &Pack, calls: u64) -> Pack {
    let mut pack = pack.clone();
    pack.manifest.limits.recycle_after_calls = calls;
    pack
}

/// An engine with default settings.
///
/// # Panics
///
/// If wasmtime cannot be configured on this machine.
#[must_use]
pub fn engine() -> Engine {
    match Engine::new() {
        Ok(engine) => engine,
        Err(e) => panic!("cannot build the engine: {e}"),
    }
}

/// `pack` compiled and checked by `engine`.
///
/// # Panics
///
/// If the pack does not prepare, which names the pack.
#[must_use]
pub fn prepare(engine: &Engine, pack: &Pack) -> Arc<PreparedPack> {
    match engine.prepare(pack) {
        Ok(prepared) => Arc::new(prepared),
        Err(e) => panic!("cannot prepare pack {}: {e}", pack.manifest.name),
    }
}

/// An empty history with `pack`'s retention and the default limits: what
/// each measured evaluator starts from.
#[must_use]
pub fn fresh_history(pack: &Pack) -> Arc<History> {
    let history = History::new(HistoryLimits::default());
    history.set_retention(i64::from(pack.manifest.history.retention_days) * 86_400);
    Arc::new(history)
}

/// An evaluator of `engine` pinned to `prepared`, with a history of its own
/// ([`fresh_history`] of `pack`).
#[must_use]
pub fn evaluator(engine: &Engine, pack: &Pack, prepared: &Arc<PreparedPack>) -> Evaluator {
    engine
        .evaluator()
        .with_pack(prepared.clone())
        .with_history(fresh_history(pack))
}

/// `count` transactions of the seeded generator (`qorgan gen`, seed 7):
/// a month of a realistic population, scaled to `count`.
///
/// # Panics
///
/// If the generator refuses the settings or emits a line that does not
/// parse, a bug in the host.
#[must_use]
pub fn generated(count: usize) -> Vec<Transaction> {
    match Workload::generate(7, count) {
        Ok(workload) => workload.transactions,
        Err(e) => panic!("cannot generate {count} transactions: {e}"),
    }
}

/// The JSON lines of the seeded generator (seed 7), as `qorgan gen` writes
/// them, without newlines.
///
/// # Panics
///
/// If the generator refuses the settings, a bug in the host.
#[must_use]
pub fn generated_lines(count: u64) -> Vec<String> {
    match Generator::new(GeneratorConfig::new(7, count)) {
        Ok(generator) => generator.collect(),
        Err(e) => panic!("cannot generate {count} transactions: {e}"),
    }
}

/// Decides `txs` without recording them and panics if any transaction
/// could not be decided or a plugin failed: a benchmark must not measure
/// the failure path by accident.
///
/// # Panics
///
/// As said: on an evaluation error or a `PLUGIN_FAILED` finding.
pub fn check_decides(evaluator: &mut Evaluator, txs: &[Transaction]) {
    for result in evaluator.evaluate_dry(txs) {
        match result {
            Ok(decision) if decision.has(PLUGIN_FAILED) => {
                panic!(
                    "a plugin failed on {}: {:?}",
                    decision.tx, decision.findings
                )
            }
            Ok(_) => {}
            Err(e) => panic!("a benchmark transaction was not decided: {e}"),
        }
    }
}

/// An endless stream cut into batches: a fixed set of transactions replayed
/// lap after lap, each lap moved forward in time by the set's span so that
/// history keeps seeing a stream that goes forward. Once history holds a
/// retention period of laps, old events fall out as fast as new ones come
/// in, and every batch meets the same, steady history.
#[derive(Debug, Clone)]
pub struct Feed {
    txs: Vec<Transaction>,
    next: usize,
    span: i64,
}

impl Feed {
    /// A feed replaying `txs`.
    ///
    /// # Panics
    ///
    /// If `txs` is empty.
    #[must_use]
    pub fn new(txs: Vec<Transaction>) -> Feed {
        let (Some(first), Some(last)) = (
            txs.iter().map(|t| t.timestamp).min(),
            txs.iter().map(|t| t.timestamp).max(),
        ) else {
            panic!("a feed needs transactions");
        };
        Feed {
            span: last - first + 1,
            txs,
            next: 0,
        }
    }

    /// How many transactions one lap holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.txs.len()
    }

    /// Whether a lap is empty (never: [`Feed::new`] refuses that).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.txs.is_empty()
    }

    /// The next `n` transactions of the stream. A batch never straddles two
    /// laps: when fewer than `n` are left, the lap starts over, moved on.
    ///
    /// # Panics
    ///
    /// If `n` is more than a lap holds.
    pub fn batch(&mut self, n: usize) -> &[Transaction] {
        assert!(
            n <= self.txs.len(),
            "a batch of {n} from a feed of {}",
            self.txs.len()
        );
        if self.next + n > self.txs.len() {
            for tx in &mut self.txs {
                tx.timestamp += self.span;
            }
            self.next = 0;
        }
        let start = self.next;
        self.next += n;
        &self.txs[start..start + n]
    }

    /// Records whole laps in `evaluator`'s history, without deciding them,
    /// until it covers `secs` seconds (the pack's retention): the steady
    /// state a long-running engine is in. The feed then continues after
    /// them.
    pub fn fill_history(&mut self, evaluator: &Evaluator, secs: i64) {
        let laps = (secs / self.span.max(1) + 1).max(1);
        for _ in 0..laps {
            let n = self.txs.len();
            let lap = self.batch(n);
            let _ = evaluator.remember(lap);
        }
    }
}

/// A history retention of `pack`, in seconds.
#[must_use]
pub fn retention_secs(pack: &Pack) -> i64 {
    i64::from(pack.manifest.history.retention_days) * 86_400
}

/// Decides `iters` consecutive batches of `n` from `feed` with `evaluator`
/// and returns the time spent in [`Evaluator::evaluate_batch`] (dropping
/// the decisions included), for criterion's `iter_custom`: cutting the
/// next batch from the feed is not timed.
pub fn time_batches(evaluator: &mut Evaluator, feed: &mut Feed, n: usize, iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let batch = feed.batch(n);
        let started = Instant::now();
        let decisions = evaluator.evaluate_batch(batch);
        drop(std::hint::black_box(decisions));
        total += started.elapsed();
    }
    total
}
