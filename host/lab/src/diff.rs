//! What differs between two packs, manifest-level: `qorgan pack diff`.
//!
//! # Why
//!
//! A signed pack is opaque to a reviewer: two `pack.toml` files differ in
//! digests, comments and layout, and a parameter the new pack no longer
//! sets falls back to a default the manifest does not show. Before a rule
//! change is signed, and before a bank lets it decide, both sides want the
//! list of what really changed: which plugins and their digests, each
//! plugin's *effective* parameter values (the pack's value or the plugin's
//! declared default, as `configure` receives them), the entries added to or
//! removed from each reference list, the score thresholds, the failure
//! action, the serial and the validity. Both packs are prepared by the
//! engine (compiled and configured) to know the effective values, so a
//! pack that does not load is an error, not a diff.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;

use qorgan::engine::{Engine, LoadError};
use qorgan::pack::Pack;

/// Why two packs could not be compared.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiffError {
    /// One of the packs does not load.
    #[error("{which} pack does not load: {source}")]
    Load {
        /// `the old` or `the new`.
        which: &'static str,
        /// Why.
        source: LoadError,
    },
}

/// One thing that differs between the packs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// What differs, e.g. `thresholds.review`, `plugin kz-mule sha256`,
    /// `plugin kz-threshold parameter topup-threshold`, `list blocked-vasps`.
    pub what: String,
    /// The old value; `None` when the old pack has none.
    pub before: Option<String>,
    /// The new value; `None` when the new pack has none.
    pub after: Option<String>,
    /// For a list: the entries the new pack adds.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub added: Vec<String>,
    /// For a list: the entries the new pack removes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<String>,
}

impl Difference {
    fn value(what: impl Into<String>, before: Option<String>, after: Option<String>) -> Self {
        Difference {
            what: what.into(),
            before,
            after,
            added: Vec::new(),
            removed: Vec::new(),
        }
    }
}

/// A pack as a diff names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackName {
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Its serial.
    pub serial: u64,
}

/// What differs between an old and a new pack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackDiff {
    /// The old pack.
    pub old: PackName,
    /// The new pack.
    pub new: PackName,
    /// The differences, in the order: identity and validity, scoring,
    /// limits, plugins, lists.
    pub differences: Vec<Difference>,
}

impl PackDiff {
    /// Compares `old` with `new`, preparing both with `engine` to know
    /// their plugins' effective parameter values. Neither is activated.
    pub fn between(engine: &Engine, old: &Pack, new: &Pack) -> Result<PackDiff, DiffError> {
        let before = engine.prepare(old).map_err(|source| DiffError::Load {
            which: "the old",
            source,
        })?;
        let after = engine.prepare(new).map_err(|source| DiffError::Load {
            which: "the new",
            source,
        })?;
        let (m0, m1) = (&old.manifest, &new.manifest);
        let mut out = Vec::new();
        let mut field = |what: &str, a: Option<String>, b: Option<String>| {
            if a != b {
                out.push(Difference::value(what, a, b));
            }
        };
        let s = |x: &dyn fmt::Display| Some(x.to_string());
        field("name", s(&m0.name), s(&m1.name));
        field("version", s(&m0.version), s(&m1.version));
        field("serial", s(&m0.serial), s(&m1.serial));
        field("issued_at", m0.issued_at.clone(), m1.issued_at.clone());
        field("expires_at", m0.expires_at.clone(), m1.expires_at.clone());
        field(
            "min_host_version",
            m0.min_host_version.clone(),
            m1.min_host_version.clone(),
        );
        field(
            "failure_action",
            s(&m0.failure_action),
            s(&m1.failure_action),
        );
        let (t0, t1) = (
            serde_json::to_value(m0.thresholds).unwrap_or_default(),
            serde_json::to_value(m1.thresholds).unwrap_or_default(),
        );
        for key in keys(&t0, &t1) {
            field(
                &format!("thresholds.{key}"),
                t0.get(&key).and_then(plain),
                t1.get(&key).and_then(plain),
            );
        }
        let (l0, l1) = (
            serde_json::to_value(m0.limits).unwrap_or_default(),
            serde_json::to_value(m1.limits).unwrap_or_default(),
        );
        for key in keys(&l0, &l1) {
            field(
                &format!("limits.{key}"),
                l0.get(&key).and_then(plain),
                l1.get(&key).and_then(plain),
            );
        }
        field(
            "history.retention_days",
            s(&m0.history.retention_days),
            s(&m1.history.retention_days),
        );
        for currency in union(m0.fx.keys(), m1.fx.keys()) {
            field(
                &format!("fx.{currency}"),
                m0.fx.get(&currency).cloned(),
                m1.fx.get(&currency).cloned(),
            );
        }

        // Plugins: by id, in the new pack's order, then those removed.
        let old_plugins: BTreeMap<&str, _> = old
            .plugins
            .iter()
            .map(|p| (p.entry.id.as_str(), p))
            .collect();
        let new_plugins: BTreeMap<&str, _> = new
            .plugins
            .iter()
            .map(|p| (p.entry.id.as_str(), p))
            .collect();
        let old_settings: BTreeMap<String, _> = before
            .plugin_settings()
            .into_iter()
            .map(|p| (p.id.clone(), p))
            .collect();
        let new_settings: BTreeMap<String, _> = after
            .plugin_settings()
            .into_iter()
            .map(|p| (p.id.clone(), p))
            .collect();
        let order0: Vec<&str> = old.plugins.iter().map(|p| p.entry.id.as_str()).collect();
        let order1: Vec<&str> = new.plugins.iter().map(|p| p.entry.id.as_str()).collect();
        if order0 != order1
            && order0.iter().collect::<BTreeSet<_>>() == order1.iter().collect::<BTreeSet<_>>()
        {
            field("plugin order", s(&order0.join(", ")), s(&order1.join(", ")));
        }
        let mut ids: Vec<&str> = order1.clone();
        ids.extend(order0.iter().filter(|id| !order1.contains(id)));
        for id in ids {
            match (old_plugins.get(id), new_plugins.get(id)) {
                (Some(a), Some(b)) => {
                    let p = |what: &str| format!("plugin {id} {what}");
                    field(&p("sha256"), s(&a.sha256), s(&b.sha256));
                    field(&p("weight"), s(&a.entry.weight), s(&b.entry.weight));
                    field(
                        &p("fuel_per_transaction"),
                        a.entry.fuel_per_transaction.map(|f| f.to_string()),
                        b.entry.fuel_per_transaction.map(|f| f.to_string()),
                    );
                    let params = |settings: &BTreeMap<String, qorgan::engine::PluginSettings>| {
                        settings
                            .get(id)
                            .map(|s| s.params.iter().cloned().collect::<BTreeMap<_, _>>())
                            .unwrap_or_default()
                    };
                    let (p0, p1) = (params(&old_settings), params(&new_settings));
                    for name in union(p0.keys(), p1.keys()) {
                        field(
                            &p(&format!("parameter {name}")),
                            p0.get(&name).cloned(),
                            p1.get(&name).cloned(),
                        );
                    }
                }
                (a, b) => field(
                    &format!("plugin {id}"),
                    a.map(|a| a.sha256.clone()),
                    b.map(|b| b.sha256.clone()),
                ),
            }
        }

        // Lists: by name, with their entries.
        let names0: Vec<&str> = old.manifest.lists.iter().map(|l| l.name.as_str()).collect();
        let names1: Vec<&str> = new.manifest.lists.iter().map(|l| l.name.as_str()).collect();
        for name in union(names0.iter().copied(), names1.iter().copied()) {
            let entries = |pack: &Pack| -> Option<BTreeSet<String>> {
                pack.lists
                    .get(&name)
                    .map(|l| l.entries().map(str::to_owned).collect())
            };
            let digest = |pack: &Pack| {
                pack.manifest
                    .lists
                    .iter()
                    .find(|l| l.name == name)
                    .and_then(|l| l.sha256.clone())
            };
            let (e0, e1) = (entries(old), entries(new));
            let (d0, d1) = (digest(old), digest(new));
            if e0 == e1 && d0 == d1 {
                continue;
            }
            let (e0, e1) = (e0.unwrap_or_default(), e1.unwrap_or_default());
            out.push(Difference {
                what: format!("list {name}"),
                added: e1.difference(&e0).cloned().collect(),
                removed: e0.difference(&e1).cloned().collect(),
                before: d0,
                after: d1,
            });
        }
        let name = |m: &qorgan::pack::Manifest| PackName {
            name: m.name.clone(),
            version: m.version.clone(),
            serial: m.serial,
        };
        Ok(PackDiff {
            old: name(m0),
            new: name(m1),
            differences: out,
        })
    }

    /// The diff as one line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self)
            .unwrap_or_else(|e| format!("{{\"error\":\"cannot serialise the diff: {e}\"}}"))
    }
}

/// A JSON scalar as text, without quotes around a string; `None` for
/// `null` (a level the pack does not set).
fn plain(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The keys of two JSON objects, sorted, each once.
fn keys(a: &serde_json::Value, b: &serde_json::Value) -> Vec<String> {
    let of = |v: &serde_json::Value| -> Vec<String> {
        v.as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    };
    union(of(a), of(b))
}

/// The union of two sequences of names, sorted, each once.
fn union<S: AsRef<str>>(
    a: impl IntoIterator<Item = S>,
    b: impl IntoIterator<Item = S>,
) -> Vec<String> {
    let set: BTreeSet<String> = a
        .into_iter()
        .chain(b)
        .map(|s| s.as_ref().to_owned())
        .collect();
    set.into_iter().collect()
}

impl fmt::Display for PackDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} {} (serial {}) -> {} {} (serial {}): {} difference{}",
            self.old.name,
            self.old.version,
            self.old.serial,
            self.new.name,
            self.new.version,
            self.new.serial,
            self.differences.len(),
            if self.differences.len() == 1 { "" } else { "s" }
        )?;
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".to_owned());
        for d in &self.differences {
            if d.what.starts_with("list ") {
                let mut parts: Vec<String> = Vec::new();
                parts.extend(d.added.iter().map(|e| format!("+{e}")));
                parts.extend(d.removed.iter().map(|e| format!("-{e}")));
                if parts.is_empty() {
                    parts.push("same entries".to_owned());
                }
                writeln!(
                    f,
                    "  {:<48} {} (sha256 {} -> {})",
                    d.what,
                    parts.join(" "),
                    show(&d.before),
                    show(&d.after)
                )?;
            } else {
                writeln!(
                    f,
                    "  {:<48} {} -> {}",
                    d.what,
                    show(&d.before),
                    show(&d.after)
                )?;
            }
        }
        Ok(())
    }
}
