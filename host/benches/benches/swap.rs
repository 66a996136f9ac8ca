//! Hot swap under load, on the reference pack (`examples/packs/kz-afm`):
//!
//! - `swap/prepare+activate`: the time of `Engine::prepare` followed by
//!   `Engine::activate` while another thread decides batches of 256
//!   continuously on the engine's active pack. Twice: with the pack's
//!   components already compiled (the engine caches compiled components by
//!   sha256, so a new pack with the same plugins and new parameters or
//!   lists costs no compilation) and compiling them (each swap presents the
//!   plugins under a sha256 the cache has not seen, as a pack with new
//!   plugin builds would).
//! - `swap/throughput`: the decision throughput of one thread (batches of
//!   256, following the active pack) while another thread prepares and
//!   activates the same pack every 100 ms or every 10 ms (components
//!   cached), against no swaps. After each swap the deciding thread makes
//!   new instances of the new pack on its next batch.
//!
//! Why: a regulator's new pack must go live without stopping the bank's
//! traffic. This shows how long a swap takes while the engine is busy and
//! what the deciding threads lose while swaps happen. Measurement times are
//! kept short (a few seconds per figure); on a machine with fewer than
//! three free cores the two threads compete for the CPU, and the figures
//! say so.
//!
//! Needs the reference pack built: `cargo qorgan pack build
//! examples/packs/kz-afm` from the repository root.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use qorgan::{Engine, Pack};
use qorgan_benches::{
    Feed, check_decides, engine, generated, prepare, reference_pack, retention_secs, time_batches,
};

const BATCH: usize = 256;
const LAP: usize = 20_000;

/// An engine with `pack` active and its history filled with a retention
/// period of `feed`.
fn loaded_engine(pack: &Pack, feed: &mut Feed) -> Engine {
    let engine = engine();
    engine.activate(prepare(&engine, pack));
    let mut eval = engine.evaluator();
    feed.fill_history(&eval, retention_secs(pack));
    check_decides(&mut eval, feed.batch(BATCH));
    engine
}

/// `pack` with its plugins presented under sha256s the engine's component
/// cache has not seen, so that preparing it compiles them.
fn uncached(pack: &Pack, round: u64) -> Pack {
    let mut pack = pack.clone();
    for plugin in &mut pack.plugins {
        plugin.sha256 = format!("{}-bench-{round}", plugin.sha256);
    }
    pack
}

fn prepare_activate(c: &mut Criterion) {
    let reference = reference_pack();
    let mut feed = Feed::new(generated(LAP));
    let engine = loaded_engine(&reference, &mut feed);
    let stop = AtomicBool::new(false);
    let decided = AtomicU64::new(0);
    std::thread::scope(|scope| {
        // The load: one thread deciding batches on the active pack.
        let load = scope.spawn(|| {
            let mut eval = engine.evaluator();
            let started = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                let _ = eval.evaluate_batch(feed.batch(BATCH));
                decided.fetch_add(BATCH as u64, Ordering::Relaxed);
            }
            started.elapsed()
        });

        let mut group = c.benchmark_group("swap/prepare+activate");
        group.sampling_mode(SamplingMode::Flat);
        group.sample_size(10);
        group.warm_up_time(Duration::from_secs(1));
        group.measurement_time(Duration::from_secs(5));
        group.bench_function("components cached", |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let started = Instant::now();
                    engine.activate(prepare(&engine, &reference));
                    total += started.elapsed();
                }
                total
            });
        });
        let mut round = 0u64;
        group.bench_function("compiling", |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    round += 1;
                    let pack = uncached(&reference, round);
                    let started = Instant::now();
                    engine.activate(prepare(&engine, &pack));
                    total += started.elapsed();
                }
                total
            });
        });
        group.finish();

        stop.store(true, Ordering::Relaxed);
        match load.join() {
            Ok(elapsed) => {
                let n = decided.load(Ordering::Relaxed);
                eprintln!(
                    "swap/prepare+activate: the load thread decided {n} transactions in {:.1} s \
                     ({:.0} tx/s) while swaps ran",
                    elapsed.as_secs_f64(),
                    n as f64 / elapsed.as_secs_f64().max(1e-9)
                );
            }
            Err(_) => panic!("the load thread panicked"),
        }
    });
}

fn throughput(c: &mut Criterion) {
    let reference = reference_pack();
    let mut group = c.benchmark_group("swap/throughput");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    for every_ms in [None, Some(100u64), Some(10)] {
        let mut feed = Feed::new(generated(LAP));
        let engine = loaded_engine(&reference, &mut feed);
        let stop = AtomicBool::new(false);
        let swaps = AtomicU64::new(0);
        let name = match every_ms {
            None => "no swaps".to_owned(),
            Some(ms) => format!("swap every {ms} ms"),
        };
        std::thread::scope(|scope| {
            if let Some(ms) = every_ms {
                let (engine, reference, stop, swaps) = (&engine, &reference, &stop, &swaps);
                scope.spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(Duration::from_millis(ms));
                        engine.activate(prepare(engine, reference));
                        swaps.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
            let mut eval = engine.evaluator();
            let started = Instant::now();
            group.bench_function(BenchmarkId::from_parameter(&name), |b| {
                b.iter_custom(|iters| time_batches(&mut eval, &mut feed, BATCH, iters));
            });
            stop.store(true, Ordering::Relaxed);
            let n = swaps.load(Ordering::Relaxed);
            if n > 0 {
                eprintln!(
                    "swap/throughput/{name}: {n} swaps in {:.1} s",
                    started.elapsed().as_secs_f64()
                );
            }
        });
    }
    group.finish();
}

criterion_group!(benches, prepare_activate, throughput);
criterion_main!(benches);
