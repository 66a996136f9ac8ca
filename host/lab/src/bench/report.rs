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
    /// The language it was written in ([`language_of`]).
    pub language: String,
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
    /// Figures for plugin `id`, written in `language`, that spent `ns` on
    /// `count` transactions.
    pub fn new(id: &str, language: &str, ns: u64, count: usize) -> PluginFigures {
        PluginFigures {
            id: id.to_owned(),
            language: language.to_owned(),
            ns_per_tx: per_tx(ns, count),
            native_ns_per_tx: None,
            regorus_ns_per_tx: None,
            fuel_per_tx: 0.0,
        }
    }
}

/// The language a plugin was written in, from what its component records
/// about the toolchain that built it ([`qorgan::engine::PluginInfo::toolchain`]):
/// the `language` line of the `qorgan-toolchain` section that `qorgan build`
/// writes for Python and JavaScript rules; `rust` when the producers section
/// names wit-bindgen-rust (the Rust SDK's bindings); otherwise `unknown`.
/// rustc alone is not enough: an interpreter's runtime inside a Python or
/// JavaScript component may be built by rustc too.
pub fn language_of(toolchain: Option<&str>) -> String {
    let Some(toolchain) = toolchain else {
        return "unknown".to_owned();
    };
    if let Some(language) = toolchain
        .lines()
        .find_map(|line| line.trim().strip_prefix("language "))
    {
        return language.trim().to_owned();
    }
    if toolchain
        .split(", ")
        .any(|tool| tool.starts_with("wit-bindgen-rust "))
    {
        "rust".to_owned()
    } else {
        "unknown".to_owned()
    }
}

/// What the plugins written in one language cost, in the same pass: the
/// figure that says what choosing Python or JavaScript over Rust costs a
/// bank, when the pack holds the same rule in each (`examples/packs/kz-polyglot`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LanguageFigures {
    /// The language ([`language_of`]).
    pub language: String,
    /// How many of the pack's plugins are written in it.
    pub plugins: usize,
    /// Nanoseconds per transaction inside one of its plugins' calls, on
    /// average over those plugins.
    pub ns_per_tx: f64,
    /// Fuel per transaction of one of its plugins, on average.
    pub fuel_per_tx: f64,
    /// `ns_per_tx` over the Rust plugins' `ns_per_tx`, when the pack has
    /// Rust plugins.
    pub vs_rust: Option<f64>,
}

impl LanguageFigures {
    /// The plugins' figures grouped by language, in the order the languages
    /// first appear in the pack.
    pub fn of(plugins: &[PluginFigures]) -> Vec<LanguageFigures> {
        let mut languages: Vec<LanguageFigures> = Vec::new();
        for p in plugins {
            let at = match languages.iter().position(|l| l.language == p.language) {
                Some(at) => at,
                None => {
                    languages.push(LanguageFigures {
                        language: p.language.clone(),
                        plugins: 0,
                        ns_per_tx: 0.0,
                        fuel_per_tx: 0.0,
                        vs_rust: None,
                    });
                    languages.len() - 1
                }
            };
            if let Some(l) = languages.get_mut(at) {
                l.plugins += 1;
                l.ns_per_tx += p.ns_per_tx;
                l.fuel_per_tx += p.fuel_per_tx;
            }
        }
        for l in &mut languages {
            let n = l.plugins.max(1) as f64;
            l.ns_per_tx /= n;
            l.fuel_per_tx /= n;
        }
        let rust = languages
            .iter()
            .find(|l| l.language == "rust")
            .map(|l| l.ns_per_tx)
            .filter(|ns| *ns > 0.0);
        for l in &mut languages {
            l.vs_rust = rust.map(|r| l.ns_per_tx / r);
        }
        languages
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
    /// Per language the plugins are written in.
    pub languages: Vec<LanguageFigures>,
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
            languages: Vec::new(),
            threads,
            native: None,
            regorus: None,
            noop: None,
            machine: Machine::this(),
        }
    }

    /// Sets the per-plugin figures, and the per-language ones from them.
    pub fn set_plugins(&mut self, plugins: Vec<PluginFigures>) {
        self.languages = LanguageFigures::of(&plugins);
        self.plugins = plugins;
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
            "plugins    ns/tx in the engine / native / regorus; fuel/tx; language"
        )?;
        for p in &self.plugins {
            let show = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.0}"));
            writeln!(
                f,
                "           {:<14} {:>8.0} / {:>6} / {:>8}; {:>8.0}; {}",
                p.id,
                p.ns_per_tx,
                show(p.native_ns_per_tx),
                show(p.regorus_ns_per_tx),
                p.fuel_per_tx,
                p.language
            )?;
        }
        writeln!(
            f,
            "languages  ns/tx per plugin in the engine; fuel/tx; × a Rust plugin"
        )?;
        for l in &self.languages {
            let vs = l.vs_rust.map_or("-".to_owned(), |v| format!("{v:.1}×"));
            writeln!(
                f,
                "           {:<14} {:>8.0}; {:>10.0}; {} ({} plugin{})",
                l.language,
                l.ns_per_tx,
                l.fuel_per_tx,
                vs,
                l.plugins,
                if l.plugins == 1 { "" } else { "s" }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn plugin(id: &str, language: &str, ns: f64, fuel: f64) -> PluginFigures {
        let mut p = PluginFigures::new(id, language, 0, 1);
        p.ns_per_tx = ns;
        p.fuel_per_tx = fuel;
        p
    }

    #[test]
    fn the_language_comes_from_the_toolchain_section_else_from_rustc_in_producers() {
        let python = "language python\ntoolchain componentize-py 0.25.1\nflags --stub-wasi";
        assert_eq!(language_of(Some(python)), "python");
        assert_eq!(
            language_of(Some("rustc 1.95.0 (abc 2026-03-21), wit-component 0.240.0")),
            "unknown",
            "an interpreter's runtime may be built by rustc"
        );
        assert_eq!(
            language_of(Some("wit-component 0.254.2, wit-bindgen-rust 0.60.0")),
            "rust"
        );
        assert_eq!(language_of(Some("wit-component 0.240.0")), "unknown");
        assert_eq!(language_of(None), "unknown");
    }

    #[test]
    fn languages_average_their_plugins_and_compare_with_rust_in_pack_order() {
        let languages = LanguageFigures::of(&[
            plugin("a", "rust", 100.0, 10.0),
            plugin("p", "python", 5_000.0, 900.0),
            plugin("b", "rust", 300.0, 30.0),
            plugin("j", "javascript", 20_000.0, 4_000.0),
        ]);
        let names: Vec<&str> = languages.iter().map(|l| l.language.as_str()).collect();
        assert_eq!(names, ["rust", "python", "javascript"]);
        let rust = &languages[0];
        assert_eq!(
            (rust.plugins, rust.ns_per_tx, rust.fuel_per_tx),
            (2, 200.0, 20.0)
        );
        assert_eq!(rust.vs_rust, Some(1.0));
        assert_eq!(languages[1].vs_rust, Some(25.0));
        assert_eq!(languages[2].vs_rust, Some(100.0));
    }

    #[test]
    fn without_a_rust_plugin_no_ratio_is_given() {
        let languages = LanguageFigures::of(&[plugin("p", "python", 5_000.0, 1.0)]);
        assert_eq!(languages.len(), 1);
        assert_eq!(languages[0].vs_rust, None);
    }
}
