//! What a benchmark run found: figures, ratios, the machine, and their
//! rendering as text for a person and as one JSON object for tools.

use std::fmt;

use serde::Serialize;

use super::Pass;
use super::rego::RegoPass;
use super::stats::{Percentiles, per_second, per_tx};
use super::workload::Workload;
use qorgan::engine::PreparedPack;
use qorgan::pack::Pack;

/// One plugin's share of the engine's time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PluginFigures {
    /// The plugin's id.
    pub id: String,
    /// Nanoseconds per transaction inside its calls, in the engine.
    pub ns_per_tx: f64,
    /// The same rule compiled natively, when compared.
    pub native_ns_per_tx: Option<f64>,
    /// The same rule in Rego under regorus, when compared.
    pub regorus_ns_per_tx: Option<f64>,
    /// Fuel it consumed per transaction: against its budget per
    /// transaction, how much room ordinary transactions leave.
    pub fuel_per_tx: f64,
}

impl PluginFigures {
    /// Figures for plugin `id` that spent `ns` on `count` transactions.
    pub fn new(id: &str, ns: u64, count: usize) -> PluginFigures {
        PluginFigures {
            id: id.to_owned(),
            ns_per_tx: per_tx(ns, count),
            native_ns_per_tx: None,
            regorus_ns_per_tx: None,
            fuel_per_tx: 0.0,
        }
    }
}

/// The all-cores pass.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ThreadFigures {
    /// Threads used.
    pub threads: usize,
    /// Transactions per second over all of them.
    pub tx_per_s: f64,
}

impl ThreadFigures {
    /// `count` transactions on `threads` threads in `ns` nanoseconds.
    pub fn new(threads: usize, count: usize, ns: u64) -> ThreadFigures {
        ThreadFigures {
            threads,
            tx_per_s: per_second(count, ns),
        }
    }
}

/// A whole-pipeline figure of a compared system.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EngineFigures {
    /// Transactions per second, one core.
    pub tx_per_s: f64,
    /// Nanoseconds per transaction.
    pub ns_per_tx: f64,
    /// Transactions whose findings agree with the engine's.
    pub agree: usize,
    /// Transactions compared.
    pub compared: usize,
}

/// The no-op plugin's pass: the boundary's floor.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct NoopFigures {
    /// Transactions per second of the whole pipeline with the no-op plugin.
    pub tx_per_s: f64,
    /// Nanoseconds per transaction of the whole pipeline.
    pub ns_per_tx: f64,
    /// Nanoseconds per transaction inside the plugin call alone.
    pub call_ns_per_tx: f64,
}

/// regorus on the same rules.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RegoFigures {
    /// Transactions decided.
    pub count: usize,
    /// Transactions per second (input conversion and evaluation).
    pub tx_per_s: f64,
    /// Nanoseconds per transaction (input conversion and evaluation).
    pub ns_per_tx: f64,
    /// Nanoseconds per transaction the host spent computing the history
    /// aggregates passed as input (not charged to regorus).
    pub history_ns_per_tx: f64,
    /// Transactions whose finding codes agree with the engine's.
    pub agree: usize,
}

/// The comparisons of `--compare`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The same rules compiled natively.
    pub native: EngineFigures,
    /// The rules in Rego under regorus.
    pub regorus: RegoFigures,
    /// The no-op plugin.
    pub noop: NoopFigures,
    /// Per-plugin native and Rego times, in pack order.
    pub plugins: Vec<(Option<f64>, Option<f64>)>,
    /// Engine time / native time.
    pub vs_native: f64,
    /// regorus time / engine time, per transaction.
    pub vs_regorus: f64,
}

impl Comparison {
    /// Figures from the passes of one run.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        main: &Pass,
        count: usize,
        noop: &Pass,
        native: &Pass,
        native_agree: usize,
        rego: &RegoPass,
        rego_agree: usize,
        pack: &PreparedPack,
    ) -> Comparison {
        let rego_count = rego.codes.len();
        let engine_ns = per_tx(main.total_ns, count);
        let native_ns = per_tx(native.total_ns, count);
        let rego_ns = per_tx(rego.eval_ns, rego_count);
        let plugins = pack
            .info()
            .plugins
            .iter()
            .enumerate()
            .map(|(i, _)| {
                (
                    native.plugin_ns.get(i).map(|ns| per_tx(*ns, count)),
                    rego.rule_ns.get(i).map(|ns| per_tx(*ns, rego_count)),
                )
            })
            .collect();
        Comparison {
            native: EngineFigures {
                tx_per_s: per_second(count, native.total_ns),
                ns_per_tx: native_ns,
                agree: native_agree,
                compared: count,
            },
            regorus: RegoFigures {
                count: rego_count,
                tx_per_s: per_second(rego_count, rego.eval_ns),
                ns_per_tx: rego_ns,
                history_ns_per_tx: per_tx(rego.history_ns, rego_count),
                agree: rego_agree,
            },
            noop: NoopFigures {
                tx_per_s: per_second(count, noop.total_ns),
                ns_per_tx: per_tx(noop.total_ns, count),
                call_ns_per_tx: per_tx(noop.plugin_ns.iter().sum(), count),
            },
            plugins,
            vs_native: if native_ns > 0.0 {
                engine_ns / native_ns
            } else {
                0.0
            },
            vs_regorus: if engine_ns > 0.0 {
                rego_ns / engine_ns
            } else {
                0.0
            },
        }
    }
}

/// Where the numbers were measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Machine {
    /// Logical CPUs available to the process.
    pub cpus: usize,
    /// Operating system and architecture.
    pub os: String,
    /// The CPU model, when the OS says.
    pub cpu: String,
    /// The cargo profile the binary was built with.
    pub profile: String,
}

impl Machine {
    /// This machine and this binary.
    pub fn this() -> Machine {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|text| {
                text.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split(':').nth(1))
                    .map(|m| m.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".to_owned());
        Machine {
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
            cpu,
            profile: profile(),
        }
    }
}

/// The cargo profile, from the directory the binary sits in (`debug` is the
/// `dev` profile), with whether debug assertions are on.
fn profile() -> String {
    let dir = std::env::current_exe().ok().and_then(|exe| {
        let parent = exe.parent()?;
        // Test binaries live in `<profile>/deps`.
        let parent = if parent.file_name().is_some_and(|n| n == "deps") {
            parent.parent()?
        } else {
            parent
        };
        parent.file_name().map(|n| n.to_string_lossy().into_owned())
    });
    let name = match dir.as_deref() {
        Some("debug") | None => "dev".to_owned(),
        Some(other) => other.to_owned(),
    };
    if cfg!(debug_assertions) {
        format!("{name} (debug assertions on)")
    } else {
        name
    }
}

/// Everything a run measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The pack measured.
    pub pack: String,
    /// Where the transactions came from.
    pub source: String,
    /// How many transactions.
    pub count: usize,
    /// Transactions per batch.
    pub batch: usize,
    /// Engine throughput, one core, in batches.
    pub tx_per_s: f64,
    /// Engine nanoseconds per transaction, one core, in batches.
    pub ns_per_tx: f64,
    /// Engine time / native time (with `--compare`).
    pub vs_native: Option<f64>,
    /// Engine nanoseconds per transaction, one core, without fuel metering.
    pub unmetered_ns_per_tx: f64,
    /// What metering fuel costs: engine time with fuel / without, minus
    /// one (0.05 is 5 %).
    pub fuel_overhead: f64,
    /// regorus time / engine time (with `--compare`).
    pub vs_regorus: Option<f64>,
    /// Per-transaction latency (batches of one): median, microseconds.
    pub p50_us: f64,
    /// 99th percentile, microseconds.
    pub p99_us: f64,
    /// 99.9th percentile, microseconds.
    pub p999_us: f64,
    /// Per-transaction latency in full.
    pub latency: Percentiles,
    /// Per-batch latency.
    pub batch_latency: Percentiles,
    /// Transactions that failed or got `PLUGIN_FAILED`.
    pub failed: usize,
    /// Per plugin.
    pub plugins: Vec<PluginFigures>,
    /// All cores.
    pub threads: ThreadFigures,
    /// The comparisons, with `--compare`.
    pub native: Option<EngineFigures>,
    /// regorus, with `--compare`.
    pub regorus: Option<RegoFigures>,
    /// The no-op plugin, with `--compare`.
    pub noop: Option<NoopFigures>,
    /// The machine.
    pub machine: Machine,
}

impl Report {
    /// A report of the engine's passes.
    pub fn new(
        pack: &Pack,
        workload: &Workload,
        batch: usize,
        main: &Pass,
        batch_latency: Percentiles,
        latency: Percentiles,
        threads: ThreadFigures,
    ) -> Report {
        let count = workload.transactions.len();
        Report {
            pack: format!(
                "{} {} (serial {})",
                pack.manifest.name, pack.manifest.version, pack.manifest.serial
            ),
            source: workload.source.clone(),
            count,
            batch,
            tx_per_s: per_second(count, main.total_ns),
            ns_per_tx: per_tx(main.total_ns, count),
            vs_native: None,
            unmetered_ns_per_tx: 0.0,
            fuel_overhead: 0.0,
            vs_regorus: None,
            p50_us: latency.p50_us,
            p99_us: latency.p99_us,
            p999_us: latency.p999_us,
            latency,
            batch_latency,
            failed: main.failed,
            plugins: Vec::new(),
            threads,
            native: None,
            regorus: None,
            noop: None,
            machine: Machine::this(),
        }
    }

    /// Adds the one-core pass on an engine without fuel metering.
    pub fn unmetered(&mut self, pass: &Pass) {
        self.unmetered_ns_per_tx = per_tx(pass.total_ns, self.count);
        self.fuel_overhead = if self.unmetered_ns_per_tx > 0.0 {
            self.ns_per_tx / self.unmetered_ns_per_tx - 1.0
        } else {
            0.0
        };
    }

    /// Adds the comparisons.
    pub fn compare(&mut self, c: Comparison) {
        self.vs_native = Some(c.vs_native);
        self.vs_regorus = Some(c.vs_regorus);
        for (plugin, (native, rego)) in self.plugins.iter_mut().zip(&c.plugins) {
            plugin.native_ns_per_tx = *native;
            plugin.regorus_ns_per_tx = *rego;
        }
        self.native = Some(c.native);
        self.regorus = Some(c.regorus);
        self.noop = Some(c.noop);
    }

    /// The report as one line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}

fn rate(tx_per_s: f64) -> String {
    if tx_per_s >= 1e6 {
        format!("{:.2} M tx/s", tx_per_s / 1e6)
    } else {
        format!("{:.0} k tx/s", tx_per_s / 1e3)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "pack       {}", self.pack)?;
        writeln!(f, "input      {}", self.source)?;
        writeln!(
            f,
            "machine    {} CPUs, {}, {}; profile {}",
            self.machine.cpus, self.machine.cpu, self.machine.os, self.machine.profile
        )?;
        writeln!(
            f,
            "engine     {} ({:.0} ns/tx), one core, batches of {}; {} failed",
            rate(self.tx_per_s),
            self.ns_per_tx,
            self.batch,
            self.failed
        )?;
        writeln!(
            f,
            "fuel       {:+.1} % for metering ({:.0} ns/tx without fuel)",
            self.fuel_overhead * 100.0,
            self.unmetered_ns_per_tx
        )?;
        writeln!(
            f,
            "all cores  {} on {} threads",
            rate(self.threads.tx_per_s),
            self.threads.threads
        )?;
        writeln!(
            f,
            "latency    one tx at a time: p50 {:.1} µs, p99 {:.1} µs, p99.9 {:.1} µs ({} samples)",
            self.p50_us, self.p99_us, self.p999_us, self.latency.samples
        )?;
        writeln!(
            f,
            "           per batch: p50 {:.1} µs, p99 {:.1} µs, p99.9 {:.1} µs",
            self.batch_latency.p50_us, self.batch_latency.p99_us, self.batch_latency.p999_us
        )?;
        writeln!(
            f,
            "plugins    ns/tx in the engine / native / regorus; fuel/tx"
        )?;
        for p in &self.plugins {
            let show = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.0}"));
            writeln!(
                f,
                "           {:<14} {:>8.0} / {:>6} / {:>8}; {:>8.0}",
                p.id,
                p.ns_per_tx,
                show(p.native_ns_per_tx),
                show(p.regorus_ns_per_tx),
                p.fuel_per_tx
            )?;
        }
        if let (Some(native), Some(rego), Some(noop)) = (&self.native, &self.regorus, &self.noop) {
            writeln!(
                f,
                "native     {} ({:.0} ns/tx); findings agree on {} of {}",
                rate(native.tx_per_s),
                native.ns_per_tx,
                native.agree,
                native.compared
            )?;
            writeln!(
                f,
                "regorus    {} ({:.0} ns/tx, history aggregates {:.0} ns/tx not counted); findings agree on {} of {}",
                rate(rego.tx_per_s),
                rego.ns_per_tx,
                rego.history_ns_per_tx,
                rego.agree,
                rego.count
            )?;
            writeln!(
                f,
                "no-op      {} ({:.0} ns/tx, {:.0} ns/tx in the call)",
                rate(noop.tx_per_s),
                noop.ns_per_tx,
                noop.call_ns_per_tx
            )?;
            if let (Some(vn), Some(vr)) = (self.vs_native, self.vs_regorus) {
                writeln!(
                    f,
                    "ratios     engine/native {vn:.2}×; regorus/engine {vr:.1}×"
                )?;
            }
        }
        Ok(())
    }
}
