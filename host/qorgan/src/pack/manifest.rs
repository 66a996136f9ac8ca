//! `pack.toml`: what a pack is, which plugins and lists it carries, and how
//! its decisions are scored.
//!
//! The manifest is strict: unknown keys are refused, so a misspelt
//! `tresholds` does not silently leave a pack without its thresholds. The
//! digests it records are what a signature will cover: a signed manifest
//! pins every byte of the pack.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::decision::{Action, ScoreThresholds};

/// The parsed `pack.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The pack's name, e.g. `kz-afm`.
    pub name: String,
    /// The pack's version, e.g. `2025.3.0`.
    pub version: String,
    /// A number that increases with every release of the pack; a host never
    /// goes back to a lower one.
    pub serial: u64,
    /// What the pack is for.
    #[serde(default)]
    pub description: String,
    /// When the pack was issued (RFC 3339).
    #[serde(default)]
    pub issued_at: Option<String>,
    /// When the pack stops being valid (RFC 3339); hosts refuse it after.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// The oldest host version that can run the pack.
    #[serde(default)]
    pub min_host_version: Option<String>,
    /// The action taken when a plugin fails (default `review`).
    #[serde(default = "default_failure_action")]
    pub failure_action: Action,
    /// Score levels that escalate a decision.
    #[serde(default)]
    pub thresholds: ScoreThresholds,
    /// Sandbox limits for the pack's plugins.
    #[serde(default)]
    pub limits: Limits,
    /// How much history rules may look back on.
    #[serde(default)]
    pub history: HistorySettings,
    /// Exchange rates: tenge per unit of each other currency, as decimal
    /// strings, e.g. `USD = "520.00"`.
    #[serde(default)]
    pub fx: BTreeMap<String, String>,
    /// The rule plugins, evaluated in this order.
    #[serde(default, rename = "plugin")]
    pub plugins: Vec<PluginEntry>,
    /// The reference lists.
    #[serde(default, rename = "list")]
    pub lists: Vec<ListEntry>,
    /// Where the pack's own test cases are, relative to the pack.
    #[serde(default)]
    pub tests: Option<String>,
}

fn default_failure_action() -> Action {
    Action::Review
}

/// Sandbox limits applied to every plugin of the pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Wall-clock backstop of one call into a plugin, in milliseconds:
    /// only a host stall should ever reach it. What decides that a plugin
    /// ran too long is its fuel, [`Limits::fuel_per_transaction`].
    pub call_timeout_ms: u64,
    /// Linear memory a plugin instance may use, in MiB.
    pub memory_mib: u64,
    /// Calls after which an instance is replaced by a fresh one.
    pub recycle_after_calls: u64,
    /// The deterministic CPU budget of a plugin for one transaction, in
    /// wasmtime fuel (about one unit per WebAssembly instruction); a call
    /// on a batch gets this times the batch's size. A plugin's own
    /// `fuel_per_transaction` overrides it.
    pub fuel_per_transaction: u64,
    /// The fuel of each load-time call (`metadata`, `configure`, and
    /// creating the instance).
    pub load_fuel: u64,
}

/// The default of [`Limits::fuel_per_transaction`]: two orders of
/// magnitude above what the reference plugins spend on an ordinary
/// transaction.
pub const DEFAULT_FUEL_PER_TRANSACTION: u64 = 2_000_000;

/// The default of [`Limits::load_fuel`].
pub const DEFAULT_LOAD_FUEL: u64 = 500_000_000;

/// The most fuel per transaction a pack may give a plugin: past this, one
/// transaction could hold a thread for seconds.
pub const MAX_FUEL_PER_TRANSACTION: u64 = 1_000_000_000;

/// The most fuel a pack may give each load-time call.
pub const MAX_LOAD_FUEL: u64 = 10_000_000_000;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            call_timeout_ms: 10_000,
            memory_mib: 32,
            recycle_after_calls: 100_000,
            fuel_per_transaction: DEFAULT_FUEL_PER_TRANSACTION,
            load_fuel: DEFAULT_LOAD_FUEL,
        }
    }
}

/// History settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct HistorySettings {
    /// How many days of history the host keeps.
    pub retention_days: u32,
}

impl Default for HistorySettings {
    fn default() -> Self {
        HistorySettings { retention_days: 30 }
    }
}

/// A plugin of the pack.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PluginEntry {
    /// The plugin's id; must equal the id its metadata declares.
    pub id: String,
    /// The component file, relative to the pack.
    pub component: String,
    /// The component's sha256, hex; written by `qorgan pack build`.
    #[serde(default)]
    pub sha256: Option<String>,
    /// The Rust crate the component is built from, relative to the pack;
    /// only `qorgan pack build` reads it.
    #[serde(default, rename = "crate")]
    pub source: Option<String>,
    /// How much the plugin's finding scores count (1.0 = as given).
    #[serde(default = "default_weight")]
    pub weight: f64,
    /// Parameter values; the plugin's declared defaults fill the rest.
    #[serde(default)]
    pub parameters: BTreeMap<String, toml::Value>,
    /// This plugin's fuel per transaction, in place of the pack's
    /// [`Limits::fuel_per_transaction`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fuel_per_transaction: Option<u64>,
}

fn default_weight() -> f64 {
    1.0
}

/// A reference list of the pack.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ListEntry {
    /// The name rules use to ask about it.
    pub name: String,
    /// The file, relative to the pack.
    pub file: String,
    /// The file's sha256, hex; written by `qorgan pack build`.
    #[serde(default)]
    pub sha256: Option<String>,
    /// What the list is, and where it comes from.
    #[serde(default)]
    pub description: String,
}

impl PluginEntry {
    /// The weight in hundredths, as the decision arithmetic uses it.
    pub fn weight_pct(&self) -> u32 {
        // Checked to be finite and within 0..=100 by the loader.
        (self.weight * 100.0).round().clamp(0.0, 10_000.0) as u32
    }
}
