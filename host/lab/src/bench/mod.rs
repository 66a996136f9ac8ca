//! `qorgan bench`: how fast a pack decides, and how that compares with the
//! same rules run natively, in Rego, and with a plugin that does nothing.
//!
//! # Method
//!
//! The transactions come from the seeded generator (`qorgan gen`) or a JSON
//! Lines file, and are parsed before any clock starts: parsing JSON is the
//! caller's cost, not the engine's. Every measured pass starts from an empty
//! history with the pack's retention and records the stream as it goes, so
//! each system does the same history work on the same transactions:
//!
//! - **engine, one core**: [`Evaluator::evaluate_batch`] in batches of
//!   `batch`, after one unrecorded warm-up batch that creates the plugin
//!   instances. Throughput is transactions over the wall time of the pass;
//!   each batch's time is a latency sample; the engine's own per-plugin
//!   clocks split the time by plugin, and the plugins' languages (as their
//!   components record them) group it by language: with the same rule in
//!   Rust, Python and JavaScript in one pack (`examples/packs/kz-polyglot`),
//!   what each language costs per transaction, measured in one pass.
//! - **latency**: the first transactions decided one at a time (batches of
//!   one), each call a sample: what a payment waits when it is not batched.
//! - **all cores**: the stream split into contiguous shares, one evaluator
//!   per thread, one shared history; throughput over the wall time from a
//!   common start.
//! - **native** (comparison a): the plugin crates linked into the host and
//!   called through the SDK's batch glue on the host's real history
//!   ([`native`]).
//! - **regorus** (comparison b): the rules in Rego, evaluated by regorus on
//!   the first `rego_count` transactions ([`rego`]); its findings are
//!   checked against the engine's. kz-layering has no Rego peer (it asks
//!   history's network questions, which a policy given one transaction's
//!   aggregates cannot): regorus runs the other rules, and the engine's
//!   kz-layering codes are left out of the agreement; `vs_regorus` then
//!   compares regorus on those rules with the engine on all of them.
//! - **no-op plugin** (comparison c): a pack of one plugin that returns no
//!   findings ([`noop`]): the boundary's floor.
//! - **without fuel**: the one-core pass again on an engine that does not
//!   meter fuel: what the deterministic CPU budget costs. Decisions must
//!   count on a metered engine; this one only measures.
//!
//! # Why
//!
//! The performance budget of docs/performance.md (a million transactions a second per
//! core, within 3× of native code, 20× faster than an OPA-compatible engine)
//! is a claim about ratios on one machine; measuring all of them in one run,
//! on the same transactions and history, is what makes the ratios honest on
//! a shared, noisy machine. Nothing here asserts a timing: the numbers are
//! printed, never tested.
//!
//! [`Evaluator::evaluate_batch`]: qorgan::engine::Evaluator::evaluate_batch

mod engine_runs;
mod errors;
pub mod history_cost;
pub mod native;
pub mod noop;
pub mod rego;
mod report;
mod stats;
mod workload;

use std::sync::Arc;

pub use errors::BenchError;
pub use report::{
    Comparison, EngineFigures, LanguageFigures, Machine, NoopFigures, PluginFigures, RegoFigures,
    Report, ThreadFigures, language_of,
};
pub use stats::Percentiles;
pub use workload::Workload;

use qorgan::decision::Decision;
use qorgan::engine::Engine;
use qorgan::pack::Pack;

/// What one measured pass over a stream produced.
#[derive(Debug, Default)]
pub struct Pass {
    /// Wall time of the whole pass, in nanoseconds.
    pub total_ns: u64,
    /// Each batch's time, in nanoseconds.
    pub batch_ns: Vec<u64>,
    /// Time inside each plugin, in pack order, in nanoseconds.
    pub plugin_ns: Vec<u64>,
    /// Fuel each plugin consumed, in pack order (zero without metering).
    pub plugin_fuel: Vec<u64>,
    /// The decisions, in order.
    pub decisions: Vec<Decision>,
    /// Transactions that failed or got a `PLUGIN_FAILED` finding.
    pub failed: usize,
}

impl Pass {
    fn new(plugins: usize, txs: usize) -> Pass {
        Pass {
            plugin_ns: vec![0; plugins],
            decisions: Vec::with_capacity(txs),
            ..Pass::default()
        }
    }

    /// Each decision's finding codes, sorted.
    fn codes(&self) -> Vec<Vec<String>> {
        self.decisions
            .iter()
            .map(|d| {
                let mut codes: Vec<String> = d.findings.iter().map(|f| f.code.clone()).collect();
                codes.sort();
                codes.dedup();
                codes
            })
            .collect()
    }
}

/// Settings of a benchmark run.
#[derive(Debug, Clone)]
pub struct BenchBuilder {
    batch: usize,
    threads: usize,
    compare: bool,
    latency_count: usize,
    rego_count: usize,
    perf_map: bool,
}

impl Default for BenchBuilder {
    fn default() -> Self {
        BenchBuilder {
            batch: 256,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            compare: false,
            latency_count: 10_000,
            rego_count: 20_000,
            perf_map: false,
        }
    }
}

impl BenchBuilder {
    /// Transactions per batch (at least 1).
    pub fn batch(mut self, batch: usize) -> Self {
        self.batch = batch.max(1);
        self
    }

    /// Threads for the all-cores pass (at least 1).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Whether to run the native, Rego and no-op comparisons.
    pub fn compare(mut self, compare: bool) -> Self {
        self.compare = compare;
        self
    }

    /// How many transactions to decide one at a time for latency.
    pub fn latency_count(mut self, count: usize) -> Self {
        self.latency_count = count.max(1);
        self
    }

    /// How many transactions regorus decides (the first of the stream).
    pub fn rego_count(mut self, count: usize) -> Self {
        self.rego_count = count.max(1);
        self
    }

    /// Whether the engine writes a perf map naming the plugins' compiled
    /// functions, for profiling a run with `perf record`.
    pub fn perf_map(mut self, on: bool) -> Self {
        self.perf_map = on;
        self
    }

    /// Measures `pack` on `workload`.
    pub fn run(&self, pack: &Pack, workload: &Workload) -> Result<Report, BenchError> {
        let txs = workload.transactions.as_slice();
        let plugins = u32::try_from(pack.plugins.len()).unwrap_or(u32::MAX);
        let engine = Engine::builder()
            .max_instances(
                plugins
                    .saturating_add(1)
                    .saturating_mul(u32::try_from(self.threads).unwrap_or(u32::MAX))
                    .saturating_add(2 * plugins + 8),
            )
            .perf_map(self.perf_map)
            .build()
            .map_err(|e| BenchError::Load(e.to_string()))?;
        let prepared = Arc::new(
            engine
                .prepare(pack)
                .map_err(|e| BenchError::Load(e.to_string()))?,
        );

        let main = engine_runs::single_thread(&engine, &prepared, txs, self.batch);
        let unmetered_engine = Engine::builder()
            .max_instances(2 * plugins + 8)
            .fuel(false)
            .build()
            .map_err(|e| BenchError::Load(e.to_string()))?;
        let unmetered_prepared = Arc::new(
            unmetered_engine
                .prepare(pack)
                .map_err(|e| BenchError::Load(e.to_string()))?,
        );
        let unmetered =
            engine_runs::single_thread(&unmetered_engine, &unmetered_prepared, txs, self.batch);
        drop(unmetered_prepared);
        drop(unmetered_engine);
        let mut batch_samples = main.batch_ns.clone();
        let latency_txs = txs.get(..self.latency_count.min(txs.len())).unwrap_or(txs);
        let mut latency_samples = engine_runs::one_at_a_time(&engine, &prepared, latency_txs);
        let threads_ns =
            engine_runs::all_threads(&engine, &prepared, txs, self.batch, self.threads)?;

        let mut report = Report::new(
            pack,
            workload,
            self.batch,
            &main,
            Percentiles::of(&mut batch_samples),
            Percentiles::of(&mut latency_samples),
            ThreadFigures::new(self.threads, txs.len(), threads_ns),
        );
        let mut plugins: Vec<PluginFigures> = prepared
            .info()
            .plugins
            .iter()
            .zip(&main.plugin_ns)
            .map(|(info, ns)| {
                let language = report::language_of(info.toolchain.as_deref());
                PluginFigures::new(&info.id, &language, *ns, txs.len())
            })
            .collect();
        for (figures, fuel) in plugins.iter_mut().zip(&main.plugin_fuel) {
            figures.fuel_per_tx = stats::per_tx(*fuel, txs.len());
        }
        report.set_plugins(plugins);
        report.unmetered(&unmetered);

        if self.compare {
            report.compare(self.comparison(&engine, &prepared, pack, txs, &main)?);
        }
        Ok(report)
    }

    fn comparison(
        &self,
        engine: &Engine,
        prepared: &Arc<qorgan::engine::PreparedPack>,
        pack: &Pack,
        txs: &[qorgan::transaction::Transaction],
        main: &Pass,
    ) -> Result<Comparison, BenchError> {
        // (c) the no-op plugin.
        let noop_pack = noop::pack(pack)?;
        let noop_prepared = Arc::new(
            engine
                .prepare(&noop_pack)
                .map_err(|e| BenchError::Load(e.to_string()))?,
        );
        let noop = engine_runs::single_thread(engine, &noop_prepared, txs, self.batch);

        // (a) the same rules, native.
        let native_pack = native::NativePack::new(prepared)?;
        let history = engine_runs::fresh_history(engine, prepared);
        let native = native_pack.run(prepared, &history, txs, self.batch)?;

        // (b) regorus, on the first `rego_count` transactions.
        let rego_txs = txs.get(..self.rego_count.min(txs.len())).unwrap_or(txs);
        let mut peer = rego::RegoPeer::new(prepared)?;
        let history = engine_runs::fresh_history(engine, prepared);
        let rego = peer.run(prepared, &history, rego_txs)?;

        let engine_codes = main.codes();
        let native_codes = native.codes();
        let native_agree = engine_codes
            .iter()
            .zip(&native_codes)
            .filter(|(a, b)| a == b)
            .count();
        // The codes of plugins with no Rego peer are not compared.
        let left_out: Vec<&str> = prepared
            .info()
            .plugins
            .iter()
            .filter(|p| peer.left_out().contains(&p.id))
            .flat_map(|p| p.codes.iter().map(|c| c.code.as_str()))
            .collect();
        let rego_agree = engine_codes
            .iter()
            .map(|codes| {
                codes
                    .iter()
                    .filter(|c| !left_out.contains(&c.as_str()))
                    .cloned()
                    .collect::<Vec<_>>()
            })
            .zip(&rego.codes)
            .filter(|(a, b)| a == *b)
            .count();
        Ok(Comparison::new(
            main,
            txs.len(),
            &noop,
            &native,
            native_agree,
            &rego,
            rego_agree,
            prepared,
        ))
    }
}
