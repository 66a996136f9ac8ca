//! Throughput by batch size: the no-op plugin pack and the reference pack
//! (`examples/packs/kz-afm`, three plugins) deciding generated transactions
//! in batches of 1, 16, 256 and 4,096, on one thread, with a history in the
//! steady state of a long-running engine (a retention period of the same
//! stream recorded first).
//!
//! Why: every batch pays one call per plugin, and each call a fixed cost
//! (entering the instance, setting the deadline, lowering the batch's
//! lists) on top of the per-transaction work. This shows where batching
//! stops paying, i.e. what batch size a caller should aim for, and what an
//! unbatched payment costs (size 1).
//!
//! Needs the reference pack built: `cargo qorgan pack build
//! examples/packs/kz-afm` from the repository root.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use qorgan_benches::{
    Feed, check_decides, engine, evaluator, generated, noop_pack, prepare, reference_pack,
    retention_secs, time_batches,
};

const SIZES: [usize; 4] = [1, 16, 256, 4_096];
/// Transactions in one lap of the feed: a month of a population this size.
const LAP: usize = 20_000;

fn batch(c: &mut Criterion) {
    let reference = reference_pack();
    let noop = noop_pack(&reference);
    let engine = engine();
    let txs = generated(LAP);
    for (name, pack) in [("noop", &noop), ("kz-afm", &reference)] {
        let prepared = prepare(&engine, pack);
        let mut feed = Feed::new(txs.clone());
        let mut eval = evaluator(&engine, pack, &prepared);
        feed.fill_history(&eval, retention_secs(pack));
        check_decides(&mut eval, feed.batch(256));
        let mut group = c.benchmark_group(format!("batch/{name}"));
        for size in SIZES {
            group.throughput(Throughput::Elements(size as u64));
            group.bench_function(BenchmarkId::from_parameter(size), |b| {
                b.iter_custom(|iters| time_batches(&mut eval, &mut feed, size, iters));
            });
        }
        group.finish();
    }
}

criterion_group!(benches, batch);
criterion_main!(benches);
