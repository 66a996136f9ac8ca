//! Instance reuse against a fresh instance per call: the reference pack
//! and the no-op plugin pack with their default `limits.recycle_after_calls`
//! (100,000: an evaluator keeps its instances across batches) and with it
//! set to 1 (every plugin call instantiates and configures a new instance
//! and drops it after), in batches of 1 and 256.
//!
//! Why: instantiating from the pre-linked component in the pooling
//! allocator and running `configure` is what a fresh instance costs; this
//! shows what reuse saves, and so what recycling often (to bound what a
//! long-lived instance could accumulate) would cost. The pack is changed in
//! memory (`Pack::manifest.limits`), not on disk.
//!
//! Needs the reference pack built: `cargo qorgan pack build
//! examples/packs/kz-afm` from the repository root.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use qorgan_benches::{
    Feed, check_decides, engine, evaluator, generated, noop_pack, prepare, reference_pack,
    retention_secs, time_batches, with_recycle,
};

const SIZES: [usize; 2] = [1, 256];
const LAP: usize = 20_000;

fn instances(c: &mut Criterion) {
    let reference = reference_pack();
    let noop = noop_pack(&reference);
    let engine = engine();
    let txs = generated(LAP);
    for (name, base) in [("noop", &noop), ("kz-afm", &reference)] {
        let default_calls = base.manifest.limits.recycle_after_calls;
        let mut group = c.benchmark_group(format!("instances/{name}"));
        for (mode, pack) in [
            (
                format!("reused (recycle after {default_calls})"),
                base.clone(),
            ),
            (
                "fresh per call (recycle after 1)".to_owned(),
                with_recycle(base, 1),
            ),
        ] {
            let prepared = prepare(&engine, &pack);
            let mut feed = Feed::new(txs.clone());
            let mut eval = evaluator(&engine, &pack, &prepared);
            feed.fill_history(&eval, retention_secs(&pack));
            check_decides(&mut eval, feed.batch(256));
            for size in SIZES {
                group.throughput(Throughput::Elements(size as u64));
                group.bench_function(BenchmarkId::new(mode.as_str(), size), |b| {
                    b.iter_custom(|iters| time_batches(&mut eval, &mut feed, size, iters));
                });
            }
        }
        group.finish();
    }
}

criterion_group!(benches, instances);
criterion_main!(benches);
