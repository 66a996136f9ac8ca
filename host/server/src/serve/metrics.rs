//! Prometheus metrics, written by hand in the text exposition format.
//!
//! A handful of counters and one histogram family do not need a metrics
//! framework: atomics for counters, fixed microsecond buckets for the
//! per-plugin latency, exposed in seconds (Prometheus's base unit). Decisions are counted once acknowledged, that is
//! once they are in the log.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use qorgan::decision::{Action, PLUGIN_FAILED};
use qorgan::engine::PluginTimer;

/// Upper bounds of the latency buckets, in microseconds.
pub const BUCKETS_US: [u64; 14] = [
    5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000,
];

const ACTIONS: [Action; 5] = [
    Action::Allow,
    Action::Verify,
    Action::Review,
    Action::Hold,
    Action::Block,
];

/// A histogram of durations in microseconds.
#[derive(Debug, Default, Clone)]
struct Histogram {
    /// Counts per bucket of [`BUCKETS_US`], not cumulative; the last is
    /// above every bound.
    counts: [u64; BUCKETS_US.len() + 1],
    sum_us: u64,
}

impl Histogram {
    fn observe(&mut self, us: u64) {
        let bucket = BUCKETS_US
            .iter()
            .position(|bound| us <= *bound)
            .unwrap_or(BUCKETS_US.len());
        if let Some(count) = self.counts.get_mut(bucket) {
            *count += 1;
        }
        self.sum_us = self.sum_us.saturating_add(us);
    }

    fn count(&self) -> u64 {
        self.counts.iter().sum()
    }
}

/// Upper bounds of the buckets of a cluster's journal round trips, in
/// microseconds: finer than [`BUCKETS_US`] where round trips fall.
pub const ROUND_TRIP_BUCKETS_US: [u64; 20] = [
    250, 500, 750, 1_000, 1_500, 2_000, 3_000, 4_000, 5_000, 7_500, 10_000, 15_000, 20_000, 30_000,
    50_000, 75_000, 100_000, 250_000, 500_000, 1_000_000,
];

/// The append round trips of a replica (`--journal postgres://`).
#[derive(Debug, Default, Clone)]
struct RoundTrips {
    counts: [u64; ROUND_TRIP_BUCKETS_US.len() + 1],
    sum_us: u64,
}

/// One plugin's latency and failures.
#[derive(Debug, Default, Clone)]
struct PluginStats {
    latency: Histogram,
    failures: u64,
    /// Batches on which the plugin was quarantined.
    quarantines: u64,
    /// Transactions it was not run on while quarantined.
    quarantined_transactions: u64,
    log_lines_dropped: u64,
    log_bytes_dropped: u64,
}

/// A per-plugin counter: its name, its help text, and how to read it.
type PerPlugin = (&'static str, &'static str, fn(&PluginStats) -> u64);

/// The service's metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    decisions: [AtomicU64; 5],
    rejected: AtomicU64,
    not_logged: AtomicU64,
    plugins: Mutex<BTreeMap<String, PluginStats>>,
    round_trips: Mutex<RoundTrips>,
}

/// What the service reports besides its own counters, read at scrape time.
#[derive(Debug, Clone, Default)]
pub struct Gauges {
    /// The active pack's serial, if any.
    pub active_serial: Option<u64>,
    /// Packs activated since start.
    pub activations: u64,
    /// Candidate packs refused since start.
    pub refused: u64,
    /// Groups the decision log committed.
    pub log_commits: u64,
    /// Decisions the decision log committed.
    pub log_rows: u64,
    /// The most decisions one commit held.
    pub log_largest_group: u64,
    /// Groups the decision log failed to commit.
    pub log_failures: u64,
    /// Whether the decision log cannot be written now.
    pub log_failing: bool,
    /// The process's resident memory, in bytes.
    pub resident_bytes: u64,
    /// The memory budget, in bytes, if one is set.
    pub memory_budget_bytes: Option<u64>,
    /// Accounts, devices and holders history keeps.
    pub history_keys: u64,
    /// HTTP connections open now.
    pub connections_open: u64,
}

impl Metrics {
    /// Counts an acknowledged decision.
    pub fn decided(&self, action: Action, findings: &[qorgan::decision::Finding]) {
        let index = ACTIONS.iter().position(|a| *a == action).unwrap_or(0);
        if let Some(counter) = self.decisions.get(index) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        let failed: Vec<&str> = findings
            .iter()
            .filter(|f| f.code == PLUGIN_FAILED)
            .map(|f| f.rule.split('@').next().unwrap_or(&f.rule))
            .collect();
        if !failed.is_empty() {
            let mut plugins = self.plugins.lock().unwrap_or_else(|p| p.into_inner());
            for plugin in failed {
                plugins.entry(plugin.to_owned()).or_default().failures += 1;
            }
        }
    }

    /// Counts a transaction rejected before deciding (malformed, or
    /// undecidable).
    pub fn rejected(&self, count: u64) {
        self.rejected.fetch_add(count, Ordering::Relaxed);
    }

    /// Counts decisions that were made but could not be logged, and so
    /// were not acknowledged.
    pub fn not_logged(&self, count: u64) {
        self.not_logged.fetch_add(count, Ordering::Relaxed);
    }

    /// Acknowledged decisions with `action`.
    pub fn decisions(&self, action: Action) -> u64 {
        ACTIONS
            .iter()
            .position(|a| *a == action)
            .and_then(|i| self.decisions.get(i))
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// Each plugin that was ever quarantined, with the number of batches
    /// it was quarantined on and transactions it was not run on.
    pub fn quarantines(&self) -> BTreeMap<String, (u64, u64)> {
        self.plugins
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(_, stats)| stats.quarantines > 0)
            .map(|(plugin, stats)| {
                (
                    plugin.clone(),
                    (stats.quarantines, stats.quarantined_transactions),
                )
            })
            .collect()
    }

    /// A replica's append round trip to the cluster's journal took
    /// `elapsed`.
    pub fn round_trip(&self, elapsed: Duration) {
        let us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        let mut trips = self.round_trips.lock().unwrap_or_else(|p| p.into_inner());
        let bucket = ROUND_TRIP_BUCKETS_US
            .iter()
            .position(|bound| us <= *bound)
            .unwrap_or(ROUND_TRIP_BUCKETS_US.len());
        if let Some(count) = trips.counts.get_mut(bucket) {
            *count += 1;
        }
        trips.sum_us = trips.sum_us.saturating_add(us);
    }

    fn render_round_trips(&self, out: &mut String) {
        let trips = self
            .round_trips
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let total: u64 = trips.counts.iter().sum();
        if total == 0 {
            return;
        }
        let _ = writeln!(
            out,
            "# HELP qorgan_journal_round_trip_seconds One append round trip to the cluster's journal (catch-up and the batch), in seconds."
        );
        let _ = writeln!(out, "# TYPE qorgan_journal_round_trip_seconds histogram");
        let mut cumulative = 0u64;
        for (bound, count) in ROUND_TRIP_BUCKETS_US.iter().zip(trips.counts.iter()) {
            cumulative += count;
            let _ = writeln!(
                out,
                "qorgan_journal_round_trip_seconds_bucket{{le=\"{}\"}} {cumulative}",
                *bound as f64 / 1e6
            );
        }
        let _ = writeln!(
            out,
            "qorgan_journal_round_trip_seconds_bucket{{le=\"+Inf\"}} {total}"
        );
        let _ = writeln!(
            out,
            "qorgan_journal_round_trip_seconds_sum {}",
            trips.sum_us as f64 / 1e6
        );
        let _ = writeln!(out, "qorgan_journal_round_trip_seconds_count {total}");
    }

    /// The exposition text.
    pub fn render(&self, gauges: &Gauges) -> String {
        let mut out = String::with_capacity(4096);
        self.render_round_trips(&mut out);
        let _ = writeln!(
            out,
            "# HELP qorgan_decisions_total Decisions acknowledged (durable in the log), by action."
        );
        let _ = writeln!(out, "# TYPE qorgan_decisions_total counter");
        for action in ACTIONS {
            let _ = writeln!(
                out,
                "qorgan_decisions_total{{action=\"{action}\"}} {}",
                self.decisions(action)
            );
        }
        counter(
            &mut out,
            "qorgan_transactions_rejected_total",
            "Transactions rejected without a decision (malformed or undecidable).",
            self.rejected.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "qorgan_decisions_not_logged_total",
            "Decisions made but not acknowledged because the log could not commit them.",
            self.not_logged.load(Ordering::Relaxed),
        );
        let plugins = self
            .plugins
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let _ = writeln!(
            out,
            "# HELP qorgan_plugin_call_duration_seconds Time of one plugin call on one batch, in seconds."
        );
        let _ = writeln!(out, "# TYPE qorgan_plugin_call_duration_seconds histogram");
        let seconds = |us: u64| us as f64 / 1e6;
        for (plugin, stats) in &plugins {
            let mut cumulative = 0u64;
            for (bound, count) in BUCKETS_US.iter().zip(stats.latency.counts.iter()) {
                cumulative += count;
                let _ = writeln!(
                    out,
                    "qorgan_plugin_call_duration_seconds_bucket{{plugin=\"{plugin}\",le=\"{}\"}} {cumulative}",
                    seconds(*bound)
                );
            }
            let _ = writeln!(
                out,
                "qorgan_plugin_call_duration_seconds_bucket{{plugin=\"{plugin}\",le=\"+Inf\"}} {}",
                stats.latency.count()
            );
            let _ = writeln!(
                out,
                "qorgan_plugin_call_duration_seconds_sum{{plugin=\"{plugin}\"}} {}",
                seconds(stats.latency.sum_us)
            );
            let _ = writeln!(
                out,
                "qorgan_plugin_call_duration_seconds_count{{plugin=\"{plugin}\"}} {}",
                stats.latency.count()
            );
        }
        let _ = writeln!(
            out,
            "# HELP qorgan_plugin_failures_total Decisions in which a plugin failed (PLUGIN_FAILED)."
        );
        let _ = writeln!(out, "# TYPE qorgan_plugin_failures_total counter");
        for (plugin, stats) in &plugins {
            let _ = writeln!(
                out,
                "qorgan_plugin_failures_total{{plugin=\"{plugin}\"}} {}",
                stats.failures
            );
        }
        let per_plugin: [PerPlugin; 4] = [
            (
                "qorgan_plugin_quarantines_total",
                "Batches on which a plugin failed so often that it was not run on the rest of the batch (each of those transactions got PLUGIN_FAILED).",
                |s| s.quarantines,
            ),
            (
                "qorgan_plugin_quarantined_transactions_total",
                "Transactions a quarantined plugin was not run on.",
                |s| s.quarantined_transactions,
            ),
            (
                "qorgan_plugin_log_dropped_lines_total",
                "Plugin log lines dropped over the log budget.",
                |s| s.log_lines_dropped,
            ),
            (
                "qorgan_plugin_log_dropped_bytes_total",
                "Plugin log bytes dropped over the log budget.",
                |s| s.log_bytes_dropped,
            ),
        ];
        for (name, help, value) in per_plugin {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            for (plugin, stats) in &plugins {
                let _ = writeln!(out, "{name}{{plugin=\"{plugin}\"}} {}", value(stats));
            }
        }
        let _ = writeln!(
            out,
            "# HELP qorgan_active_pack_serial The serial of the pack deciding now."
        );
        let _ = writeln!(out, "# TYPE qorgan_active_pack_serial gauge");
        if let Some(serial) = gauges.active_serial {
            let _ = writeln!(out, "qorgan_active_pack_serial {serial}");
        }
        counter(
            &mut out,
            "qorgan_pack_activations_total",
            "Signed packs activated (or restored) since start.",
            gauges.activations,
        );
        counter(
            &mut out,
            "qorgan_pack_activations_refused_total",
            "Candidate packs refused since start.",
            gauges.refused,
        );
        counter(
            &mut out,
            "qorgan_log_commits_total",
            "Groups the decision log committed.",
            gauges.log_commits,
        );
        counter(
            &mut out,
            "qorgan_log_decisions_total",
            "Decisions the decision log committed.",
            gauges.log_rows,
        );
        let _ = writeln!(
            out,
            "# HELP qorgan_log_largest_group The most decisions one commit held."
        );
        let _ = writeln!(out, "# TYPE qorgan_log_largest_group gauge");
        let _ = writeln!(out, "qorgan_log_largest_group {}", gauges.log_largest_group);
        counter(
            &mut out,
            "qorgan_log_failures_total",
            "Groups the decision log failed to commit (full disk, read-only, I/O error); none of their decisions was acknowledged.",
            gauges.log_failures,
        );
        let _ = writeln!(
            out,
            "# HELP qorgan_log_failing 1 while the decision log cannot be written (and /readyz fails), else 0."
        );
        let _ = writeln!(out, "# TYPE qorgan_log_failing gauge");
        let _ = writeln!(out, "qorgan_log_failing {}", u8::from(gauges.log_failing));
        let _ = writeln!(
            out,
            "# HELP qorgan_memory_resident_bytes The process's resident memory."
        );
        let _ = writeln!(out, "# TYPE qorgan_memory_resident_bytes gauge");
        let _ = writeln!(
            out,
            "qorgan_memory_resident_bytes {}",
            gauges.resident_bytes
        );
        if let Some(budget) = gauges.memory_budget_bytes {
            let _ = writeln!(
                out,
                "# HELP qorgan_memory_budget_bytes The memory budget (memory_budget_mib); /readyz says degraded from 90% of it."
            );
            let _ = writeln!(out, "# TYPE qorgan_memory_budget_bytes gauge");
            let _ = writeln!(out, "qorgan_memory_budget_bytes {budget}");
        }
        let _ = writeln!(
            out,
            "# HELP qorgan_history_keys Accounts, devices and holders history keeps."
        );
        let _ = writeln!(out, "# TYPE qorgan_history_keys gauge");
        let _ = writeln!(out, "qorgan_history_keys {}", gauges.history_keys);
        let _ = writeln!(
            out,
            "# HELP qorgan_http_connections_open HTTP connections open now (max_connections caps them)."
        );
        let _ = writeln!(out, "# TYPE qorgan_http_connections_open gauge");
        let _ = writeln!(
            out,
            "qorgan_http_connections_open {}",
            gauges.connections_open
        );
        out
    }
}

fn counter(out: &mut String, name: &str, help: &str, value: u64) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} counter");
    let _ = writeln!(out, "{name} {value}");
}

impl PluginTimer for Metrics {
    fn observe(&self, plugin: &str, _transactions: usize, elapsed: Duration) {
        let us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        let mut plugins = self.plugins.lock().unwrap_or_else(|p| p.into_inner());
        match plugins.get_mut(plugin) {
            Some(stats) => stats.latency.observe(us),
            None => {
                let mut stats = PluginStats::default();
                stats.latency.observe(us);
                plugins.insert(plugin.to_owned(), stats);
            }
        }
    }

    fn quarantined(&self, plugin: &str, skipped: usize) {
        let mut plugins = self.plugins.lock().unwrap_or_else(|p| p.into_inner());
        let stats = plugins.entry(plugin.to_owned()).or_default();
        stats.quarantines += 1;
        stats.quarantined_transactions = stats
            .quarantined_transactions
            .saturating_add(u64::try_from(skipped).unwrap_or(u64::MAX));
    }

    fn log_dropped(&self, plugin: &str, lines: u64, bytes: u64) {
        let mut plugins = self.plugins.lock().unwrap_or_else(|p| p.into_inner());
        let stats = plugins.entry(plugin.to_owned()).or_default();
        stats.log_lines_dropped = stats.log_lines_dropped.saturating_add(lines);
        stats.log_bytes_dropped = stats.log_bytes_dropped.saturating_add(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_fall_in_cumulative_buckets_in_seconds() {
        let metrics = Metrics::default();
        metrics.observe("kz-mule", 1, Duration::from_micros(7));
        metrics.observe("kz-mule", 1, Duration::from_micros(300));
        metrics.observe("kz-mule", 1, Duration::from_secs(1));
        let text = metrics.render(&Gauges::default());
        assert!(
            text.contains(
                "qorgan_plugin_call_duration_seconds_bucket{plugin=\"kz-mule\",le=\"0.000005\"} 0"
            ),
            "{text}"
        );
        assert!(text.contains("le=\"0.00001\"} 1"), "{text}");
        assert!(text.contains("le=\"0.0005\"} 2"), "{text}");
        assert!(text.contains("le=\"+Inf\"} 3"), "{text}");
        assert!(
            text.contains("qorgan_plugin_call_duration_seconds_sum{plugin=\"kz-mule\"} 1.000307"),
            "{text}"
        );
    }

    #[test]
    fn every_metric_the_grafana_dashboard_reads_is_exposed() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/grafana/qorgan-serve.json");
        let dashboard = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(!dashboard.is_empty(), "{} is missing", path.display());
        let metrics = Metrics::default();
        metrics.observe("kz-mule", 1, Duration::from_micros(7));
        metrics.quarantined("kz-mule", 1);
        let text = metrics.render(&Gauges {
            active_serial: Some(1),
            memory_budget_bytes: Some(1),
            ..Gauges::default()
        });
        let mut rest = dashboard.as_str();
        let mut seen = 0;
        while let Some(at) = rest.find("qorgan_") {
            let name: String = rest[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            assert!(
                text.contains(&format!("\n{name}")) || text.contains(&format!("\n{name}{{")),
                "the dashboard reads {name}, which /metrics does not expose"
            );
            seen += 1;
            rest = &rest[at + name.len()..];
        }
        assert!(seen > 10, "the dashboard names only {seen} metrics");
    }

    #[test]
    fn quarantines_and_dropped_log_are_counted_by_plugin() {
        let metrics = Metrics::default();
        metrics.quarantined("hostile", 900);
        metrics.quarantined("hostile", 100);
        metrics.log_dropped("hostile", 3, 3000);
        let text = metrics.render(&Gauges::default());
        assert!(
            text.contains("qorgan_plugin_quarantines_total{plugin=\"hostile\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("qorgan_plugin_quarantined_transactions_total{plugin=\"hostile\"} 1000"),
            "{text}"
        );
        assert!(
            text.contains("qorgan_plugin_log_dropped_bytes_total{plugin=\"hostile\"} 3000"),
            "{text}"
        );
        assert_eq!(metrics.quarantines().get("hostile"), Some(&(2, 1000)));
    }

    #[test]
    fn decisions_are_counted_by_action_and_plugin_failures_by_plugin() {
        let metrics = Metrics::default();
        let failed = qorgan::decision::Finding {
            code: PLUGIN_FAILED.into(),
            rule: "kz-mule@1.0.0".into(),
            action: Action::Review,
            score: 0,
            requirements: qorgan::transaction::Checks::NONE,
            message: String::new(),
            evidence: qorgan::decision::Evidence::default(),
        };
        metrics.decided(Action::Review, std::slice::from_ref(&failed));
        metrics.decided(Action::Allow, &[]);
        let text = metrics.render(&Gauges {
            active_serial: Some(7),
            refused: 2,
            ..Gauges::default()
        });
        assert!(
            text.contains("qorgan_decisions_total{action=\"review\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("qorgan_decisions_total{action=\"allow\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("qorgan_plugin_failures_total{plugin=\"kz-mule\"} 1"),
            "{text}"
        );
        assert!(text.contains("qorgan_active_pack_serial 7"), "{text}");
        assert!(
            text.contains("qorgan_plugin_quarantines_total{plugin=\"kz-mule\"} 0"),
            "{text}"
        );
        assert!(
            text.contains("qorgan_pack_activations_refused_total 2"),
            "{text}"
        );
    }
}
