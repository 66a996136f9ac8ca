//! Loading one plugin: compile, check its imports, read its metadata, check
//! the pack's parameters against it, and configure a probe instance.
//!
//! Everything expensive about a plugin happens here, once per pack: the
//! result, a [`PreparedPlugin`], holds a pre-linked `RulePluginPre` from
//! which workers instantiate cheaply.

use std::collections::HashSet;
use std::sync::Arc;

use wasmtime::Store;
use wasmtime::component::{Component, Linker};

use super::bindings::{HostState, RulePlugin, RulePluginPre, guest, wit};
use super::errors::LoadError;
use super::sandbox::PluginLimiter;
use crate::decision::Action;
use crate::history::History;
use crate::lists::Lists;
use crate::transaction::Amount;

/// The interface prefix every import of a plugin must have.
const CONTRACT: &str = "qorgan:rule/";

/// The version of the `qorgan:rule` package this host speaks.
pub const CONTRACT_VERSION: &str = "0.2.0";

/// Refuses imports of another version of the contract, naming it: a
/// plugin built against `qorgan:rule@0.1.0` would otherwise fail to link
/// with a message about missing functions.
fn check_contract_version(label: &str, imports: &[String]) -> Result<(), LoadError> {
    let other = imports
        .iter()
        .filter_map(|name| name.strip_prefix(CONTRACT))
        .filter_map(|rest| rest.split_once('@').map(|(_, version)| version))
        .find(|version| *version != CONTRACT_VERSION);
    match other {
        Some(version) => Err(LoadError::ContractVersion {
            plugin: label.to_owned(),
            found: version.to_owned(),
        }),
        None => Ok(()),
    }
}

/// The type of a rule parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamType {
    /// Tenge, at most two fraction digits.
    Money,
    /// A whole number.
    Integer,
    /// A decimal number.
    Decimal,
    /// `true` or `false`.
    Boolean,
    /// Free text.
    Text,
}

impl ParamType {
    /// Checks `value` against the type, returning the canonical text.
    pub fn check(self, value: &str) -> Result<String, String> {
        match self {
            ParamType::Money => {
                let (units, scale) = Amount::parse_decimal(value)?;
                if scale > 2 {
                    return Err(format!("`{value}` has more than two fraction digits"));
                }
                if units < 0 {
                    return Err(format!("`{value}` is negative"));
                }
                Ok(value.to_owned())
            }
            ParamType::Integer => value
                .parse::<i64>()
                .map(|v| v.to_string())
                .map_err(|_| format!("`{value}` is not a whole number")),
            ParamType::Decimal => Amount::parse_decimal(value).map(|_| value.to_owned()),
            ParamType::Boolean => match value {
                "true" | "false" => Ok(value.to_owned()),
                _ => Err(format!("`{value}` is not `true` or `false`")),
            },
            ParamType::Text => Ok(value.to_owned()),
        }
    }

    /// Whether the type is a number, the only kind of value with bounds.
    fn is_number(self) -> bool {
        matches!(
            self,
            ParamType::Money | ParamType::Integer | ParamType::Decimal
        )
    }

    /// Checks a checked `value` against the declared bounds.
    fn check_bounds(
        self,
        value: &str,
        minimum: Option<&str>,
        maximum: Option<&str>,
    ) -> Result<(), String> {
        if !self.is_number() {
            return Ok(());
        }
        if let Some(min) = minimum
            && compare_decimal(value, min)? == std::cmp::Ordering::Less
        {
            return Err(format!("`{value}` is below the minimum {min}"));
        }
        if let Some(max) = maximum
            && compare_decimal(value, max)? == std::cmp::Ordering::Greater
        {
            return Err(format!("`{value}` is above the maximum {max}"));
        }
        Ok(())
    }
}

/// Compares two decimal texts exactly.
fn compare_decimal(a: &str, b: &str) -> Result<std::cmp::Ordering, String> {
    let (a_units, a_scale) = Amount::parse_decimal(a)?;
    let (b_units, b_scale) = Amount::parse_decimal(b)?;
    let widen = |units: i128, by: u32| {
        10i128
            .checked_pow(by)
            .and_then(|f| units.checked_mul(f))
            .ok_or_else(|| format!("`{a}` and `{b}` cannot be compared exactly"))
    };
    let scale = a_scale.max(b_scale);
    Ok(widen(a_units, scale - a_scale)?.cmp(&widen(b_units, scale - b_scale)?))
}

/// A parameter a plugin declares.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ParamInfo {
    /// Its name.
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub ty: ParamType,
    /// Its default value.
    pub default: String,
    /// What it means.
    pub description: String,
    /// The smallest value accepted, for a number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum: Option<String>,
    /// The largest value accepted, for a number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum: Option<String>,
}

/// A finding code a plugin declares.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CodeInfo {
    /// The code.
    pub code: String,
    /// Its default action.
    pub action: Action,
    /// What it means.
    pub description: String,
}

/// What a plugin says about itself, plus what the host saw of it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PluginInfo {
    /// Its id.
    pub id: String,
    /// Its version.
    pub version: String,
    /// What it checks.
    pub description: String,
    /// The parameters it accepts.
    pub parameters: Vec<ParamInfo>,
    /// The finding codes it can emit.
    pub codes: Vec<CodeInfo>,
    /// The reference lists it reads.
    pub lists: Vec<String>,
    /// The component's imports, as wasmtime sees them.
    pub imports: Vec<String>,
    /// The component's sha256.
    pub sha256: String,
    /// The toolchain that built it, as the component records it: the
    /// `qorgan-toolchain` custom section `qorgan build` writes for Python and
    /// JavaScript rules, else the `processed-by` entries of the first
    /// `producers` section in the component's bytes (for a Rust rule,
    /// wit-component and wit-bindgen-rust); `None` when the
    /// component records neither.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub toolchain: Option<String>,
}

impl PluginInfo {
    /// `id@version`, as decisions name the rule.
    pub fn rule_ref(&self) -> String {
        format!("{}@{}", self.id, self.version)
    }
}

/// A plugin compiled, checked and configured, ready to instantiate.
pub(crate) struct PreparedPlugin {
    pub(crate) info: PluginInfo,
    pub(crate) rule_ref: Arc<str>,
    pub(crate) pre: RulePluginPre<HostState>,
    pub(crate) params: Vec<wit::Param>,
    pub(crate) weight_pct: u32,
    pub(crate) declared_codes: HashSet<String, foldhash::fast::FixedState>,
    pub(crate) declared_lists: Arc<[String]>,
    /// Fuel per transaction of its batches: the pack's, or its own.
    pub(crate) fuel_per_tx: u64,
}

/// The names a component imports at its top level, read from its import
/// sections without compiling anything; `None` when the bytes do not parse
/// (compiling them then says why).
///
/// Only the outermost component's imports count: what nested modules and
/// components import is satisfied inside the component itself.
fn top_level_imports(bytes: &[u8]) -> Option<Vec<String>> {
    let mut imports = Vec::new();
    // Every nested module or component opens with a `Version` payload and
    // closes with an `End`; the outermost one is depth 1.
    let mut depth = 0usize;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload.ok()? {
            wasmparser::Payload::Version { .. } => depth += 1,
            wasmparser::Payload::End(_) => depth = depth.saturating_sub(1),
            wasmparser::Payload::ComponentImportSection(reader) if depth == 1 => {
                for import in reader {
                    imports.push(import.ok()?.name.name.to_owned());
                }
            }
            _ => {}
        }
    }
    Some(imports)
}

/// Refuses a component that imports anything outside the contract, naming
/// every such import, before any compilation: a component that would be
/// refused costs a parse of its import sections, not seconds of compiling.
pub(crate) fn check_imports(label: &str, bytes: &[u8]) -> Result<(), LoadError> {
    let Some(imports) = top_level_imports(bytes) else {
        return Ok(());
    };
    check_contract_version(label, &imports)?;
    let foreign: Vec<String> = imports
        .into_iter()
        .filter(|name| !name.starts_with(CONTRACT))
        .collect();
    if foreign.is_empty() {
        Ok(())
    } else {
        Err(LoadError::ForbiddenImports {
            plugin: label.to_owned(),
            imports: foreign,
        })
    }
}

/// Refuses anything that imports outside the contract, then compiles
/// `bytes`.
pub(crate) fn compile(
    engine: &wasmtime::Engine,
    label: &str,
    bytes: &[u8],
) -> Result<(Component, Vec<String>), LoadError> {
    check_imports(label, bytes)?;
    let component = Component::new(engine, bytes).map_err(|e| LoadError::Compile {
        plugin: label.to_owned(),
        message: format!("{e:#}"),
    })?;
    checked_imports(engine, label, component)
}

/// The imports of a compiled component as wasmtime sees them, refusing any
/// outside the contract (a second look, after the one before compiling).
pub(crate) fn checked_imports(
    engine: &wasmtime::Engine,
    label: &str,
    component: Component,
) -> Result<(Component, Vec<String>), LoadError> {
    let imports: Vec<String> = component
        .component_type()
        .imports(engine)
        .map(|(name, _)| name.to_owned())
        .collect();
    let foreign: Vec<String> = imports
        .iter()
        .filter(|name| !name.starts_with(CONTRACT))
        .cloned()
        .collect();
    if !foreign.is_empty() {
        return Err(LoadError::ForbiddenImports {
            plugin: label.to_owned(),
            imports: foreign,
        });
    }
    Ok((component, imports))
}

/// Links a compiled component against the host's imports.
pub(crate) fn link(
    linker: &Linker<HostState>,
    label: &str,
    component: &Component,
) -> Result<RulePluginPre<HostState>, LoadError> {
    let link_error = |e: wasmtime::Error| LoadError::Link {
        plugin: label.to_owned(),
        message: format!("{e:#}"),
    };
    let pre = linker.instantiate_pre(component).map_err(link_error)?;
    RulePluginPre::new(pre).map_err(link_error)
}

/// What a probe instance needs to run.
pub(crate) struct Probe<'a> {
    pub(crate) history: &'a Arc<History>,
    pub(crate) lists: &'a Arc<Lists>,
    pub(crate) memory_bytes: usize,
    pub(crate) deadline_ticks: u64,
    /// The fuel of each load-time call; `None` when the engine does not
    /// meter fuel.
    pub(crate) load_fuel: Option<u64>,
}

/// A fresh store and instance, for metadata, configure and evaluation.
/// Creating the instance runs under `fuel`, when the engine meters it.
pub(crate) fn instantiate(
    pre: &RulePluginPre<HostState>,
    state: HostState,
    deadline_ticks: u64,
    fuel: Option<u64>,
) -> wasmtime::Result<(Store<HostState>, RulePlugin)> {
    let mut store = Store::new(pre.engine(), state);
    store.limiter(|state| &mut state.limiter);
    store.set_epoch_deadline(deadline_ticks);
    if let Some(fuel) = fuel {
        store.set_fuel(fuel)?;
    }
    // `metadata` and `configure` hand back a few KiB; bound them as a call
    // on an empty batch. Each `evaluate` sets its own budget.
    store.set_hostcall_fuel(super::sandbox::output_budget(0));
    let plugin = pre.instantiate(&mut store)?;
    Ok((store, plugin))
}

/// Instantiates a probe and reads the plugin's metadata.
pub(crate) fn read_metadata(
    pre: &RulePluginPre<HostState>,
    label: &str,
    probe: &Probe<'_>,
) -> Result<(Store<HostState>, RulePlugin, wit::RuleMetadata), LoadError> {
    let state = HostState {
        limiter: PluginLimiter::new(probe.memory_bytes),
        history: probe.history.clone(),
        lists: probe.lists.clone(),
        declared_lists: Arc::from(Vec::new()),
        plugin: Arc::from(label),
        tap: None,
        log: super::plugin_log::PluginLog::for_loading(),
        cursors: Vec::new(),
    };
    let call_error = |stage: &'static str| {
        move |e: wasmtime::Error| load_call_error(label, stage, &e, probe.load_fuel)
    };
    let (mut store, plugin) = instantiate(pre, state, probe.deadline_ticks, probe.load_fuel)
        .map_err(call_error("instantiate"))?;
    refuel(&mut store, probe.load_fuel).map_err(call_error("metadata"))?;
    let metadata = plugin
        .qorgan_rule_rule()
        .call_metadata(&mut store)
        .map_err(call_error("metadata"))?;
    Ok((store, plugin, metadata))
}

/// Gives `store` a fresh `fuel`, when the engine meters it.
pub(crate) fn refuel(store: &mut Store<HostState>, fuel: Option<u64>) -> wasmtime::Result<()> {
    match fuel {
        Some(fuel) => store.set_fuel(fuel),
        None => Ok(()),
    }
}

/// A load-time call's failure, naming the fuel budget when it ran out.
fn load_call_error(
    label: &str,
    stage: &'static str,
    error: &wasmtime::Error,
    fuel: Option<u64>,
) -> LoadError {
    let reason = match (error.downcast_ref::<wasmtime::Trap>(), fuel) {
        (Some(wasmtime::Trap::OutOfFuel), Some(fuel)) => {
            format!("ran out of its load budget of {fuel} fuel (limits.load_fuel)")
        }
        (Some(wasmtime::Trap::Interrupt), _) => {
            "ran past the wall-clock backstop (limits.call_timeout_ms)".to_owned()
        }
        _ => format!("{error:#}"),
    };
    LoadError::Call {
        plugin: label.to_owned(),
        stage,
        reason,
    }
}

fn is_kebab(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

pub(crate) fn action_from_wit(action: wit::Action) -> Action {
    match action {
        wit::Action::Allow => Action::Allow,
        wit::Action::Verify => Action::Verify,
        wit::Action::Review => Action::Review,
        wit::Action::Hold => Action::Hold,
        wit::Action::Block => Action::Block,
    }
}

/// Checks metadata against the contract and turns it into [`PluginInfo`].
pub(crate) fn check_metadata(
    label: &str,
    meta: wit::RuleMetadata,
    imports: Vec<String>,
    sha256: String,
) -> Result<PluginInfo, LoadError> {
    let bad = |problem: String| LoadError::Metadata {
        plugin: label.to_owned(),
        problem,
    };
    if !is_kebab(&meta.id) {
        return Err(bad(format!(
            "id `{}` must be lower-case letters, digits and dashes",
            meta.id
        )));
    }
    if meta.version.trim().is_empty() {
        return Err(bad("version is empty".into()));
    }
    let mut names = HashSet::new();
    let mut parameters = Vec::with_capacity(meta.parameters.len());
    for p in meta.parameters {
        if !is_kebab(&p.name) {
            return Err(bad(format!(
                "parameter `{}` must be lower-case letters, digits and dashes",
                p.name
            )));
        }
        if !names.insert(p.name.clone()) {
            return Err(bad(format!("parameter `{}` is declared twice", p.name)));
        }
        let ty = match p.type_ {
            wit::ParamType::Money => ParamType::Money,
            wit::ParamType::Integer => ParamType::Integer,
            wit::ParamType::Decimal => ParamType::Decimal,
            wit::ParamType::Boolean => ParamType::Boolean,
            wit::ParamType::Text => ParamType::Text,
        };
        ty.check(&p.default)
            .map_err(|e| bad(format!("default of parameter `{}`: {e}", p.name)))?;
        for bound in [&p.minimum, &p.maximum].into_iter().flatten() {
            if !ty.is_number() {
                return Err(bad(format!(
                    "parameter `{}` has a bound, but only money, integer and decimal parameters can",
                    p.name
                )));
            }
            ty.check(bound)
                .map_err(|e| bad(format!("bound of parameter `{}`: {e}", p.name)))?;
        }
        if let (Some(min), Some(max)) = (&p.minimum, &p.maximum)
            && compare_decimal(min, max).map_err(&bad)? == std::cmp::Ordering::Greater
        {
            return Err(bad(format!(
                "parameter `{}` has a minimum {min} above its maximum {max}",
                p.name
            )));
        }
        ty.check_bounds(&p.default, p.minimum.as_deref(), p.maximum.as_deref())
            .map_err(|e| bad(format!("default of parameter `{}`: {e}", p.name)))?;
        parameters.push(ParamInfo {
            name: p.name,
            ty,
            default: p.default,
            description: p.description,
            minimum: p.minimum,
            maximum: p.maximum,
        });
    }
    let mut codes_seen = HashSet::new();
    let mut codes = Vec::with_capacity(meta.codes.len());
    for c in meta.codes {
        if !is_code(&c.code) {
            return Err(bad(format!(
                "finding code `{}` must be upper-case letters, digits and underscores",
                c.code
            )));
        }
        if crate::decision::HOST_CODES.contains(&c.code.as_str()) {
            return Err(bad(format!(
                "finding code `{}` is reserved for the host",
                c.code
            )));
        }
        if !codes_seen.insert(c.code.clone()) {
            return Err(bad(format!("finding code `{}` is declared twice", c.code)));
        }
        codes.push(CodeInfo {
            code: c.code,
            action: action_from_wit(c.action),
            description: c.description,
        });
    }
    Ok(PluginInfo {
        id: meta.id,
        version: meta.version,
        description: meta.description,
        parameters,
        codes,
        lists: meta.lists,
        imports,
        sha256,
        toolchain: None,
    })
}

/// The name of the custom section in which `qorgan build` records the
/// toolchain, its flags and the digests of the sources a component was
/// built from, as `key value` lines.
pub const TOOLCHAIN_SECTION: &str = "qorgan-toolchain";

/// What a component records about the toolchain that built it (see
/// [`PluginInfo::toolchain`]), read without compiling it. A section that is
/// not UTF-8 is shown with replacement characters rather than dropped.
pub(crate) fn recorded_toolchain(bytes: &[u8]) -> Option<String> {
    let mut producers = None;
    let mut depth = 0usize;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload.ok()? {
            wasmparser::Payload::Version { .. } => depth += 1,
            wasmparser::Payload::End(_) => depth = depth.saturating_sub(1),
            wasmparser::Payload::CustomSection(section) => {
                if depth == 1 && section.name() == TOOLCHAIN_SECTION {
                    let text = String::from_utf8_lossy(section.data()).trim().to_owned();
                    return Some(text);
                }
                if producers.is_none()
                    && let wasmparser::KnownCustom::Producers(reader) = section.as_known()
                {
                    producers = processed_by(reader);
                }
            }
            _ => {}
        }
    }
    producers
}

/// `name version` of each tool in a producers section's `processed-by`
/// field, comma-separated.
fn processed_by(reader: wasmparser::ProducersSectionReader<'_>) -> Option<String> {
    for field in reader {
        let field = field.ok()?;
        if field.name != "processed-by" {
            continue;
        }
        let tools: Vec<String> = field
            .values
            .into_iter()
            .filter_map(Result::ok)
            .map(|v| format!("{} {}", v.name, v.version))
            .collect();
        return (!tools.is_empty()).then(|| tools.join(", "));
    }
    None
}

/// Resolves the pack's parameter values against the declared parameters:
/// unknown names and ill-typed values are refused, defaults fill the rest.
pub(crate) fn resolve_params(
    info: &PluginInfo,
    given: &std::collections::BTreeMap<String, toml::Value>,
) -> Result<Vec<wit::Param>, LoadError> {
    for name in given.keys() {
        if !info.parameters.iter().any(|p| &p.name == name) {
            return Err(LoadError::UnknownParameter {
                plugin: info.id.clone(),
                name: name.clone(),
                declared: info
                    .parameters
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    info.parameters
        .iter()
        .map(|spec| {
            let bad = |problem: String| LoadError::BadParameter {
                plugin: info.id.clone(),
                name: spec.name.clone(),
                problem,
            };
            let text = match given.get(&spec.name) {
                None => spec.default.clone(),
                Some(toml::Value::String(s)) => s.clone(),
                Some(toml::Value::Integer(i)) => i.to_string(),
                Some(toml::Value::Boolean(b)) => b.to_string(),
                Some(toml::Value::Float(f)) if spec.ty == ParamType::Decimal => f.to_string(),
                Some(toml::Value::Float(f)) => {
                    return Err(bad(format!(
                        "{f} is a floating-point number; write it as a string, e.g. \"{f}\""
                    )));
                }
                Some(other) => {
                    return Err(bad(format!(
                        "a TOML {} is not a {:?} value",
                        other.type_str(),
                        spec.ty
                    )));
                }
            };
            let value = spec.ty.check(&text).map_err(&bad)?;
            spec.ty
                .check_bounds(&value, spec.minimum.as_deref(), spec.maximum.as_deref())
                .map_err(&bad)?;
            Ok(wit::Param {
                name: spec.name.clone(),
                value,
            })
        })
        .collect()
}

/// Calls `configure` on an instance, turning both traps and refusals into
/// load errors.
pub(crate) fn configure(
    store: &mut Store<HostState>,
    plugin: &RulePlugin,
    id: &str,
    params: &[wit::Param],
    fuel: Option<u64>,
) -> Result<(), LoadError> {
    refuel(store, fuel).map_err(|e| load_call_error(id, "configure", &e, fuel))?;
    let rule: &guest::Guest = plugin.qorgan_rule_rule();
    match rule.call_configure(&mut *store, params) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(message)) => Err(LoadError::Configure {
            plugin: id.to_owned(),
            message,
        }),
        Err(e) => Err(load_call_error(id, "configure", &e, fuel)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_imports_are_all_named_before_compiling() {
        let bytes = wat::parse_str(
            r#"(component
                (import "qorgan:rule/types@0.2.0" (instance))
                (import "wasi:filesystem/preopens@0.2.0" (instance))
                (import "wasi:http/outgoing-handler@0.2.0" (instance))
                (import "env" (instance))
                (core module (import "nested" "f" (func)))
            )"#,
        );
        let Ok(bytes) = bytes else {
            panic!("fixture: {bytes:?}");
        };
        match check_imports("three", &bytes) {
            Err(LoadError::ForbiddenImports { plugin, imports }) => {
                assert_eq!(plugin, "three");
                assert_eq!(
                    imports,
                    [
                        "wasi:filesystem/preopens@0.2.0",
                        "wasi:http/outgoing-handler@0.2.0",
                        "env"
                    ]
                );
            }
            other => panic!("not refused for its imports: {other:?}"),
        }
    }

    #[test]
    fn contract_imports_and_unparsable_bytes_pass_the_import_check() {
        let bytes = wat::parse_str(r#"(component (import "qorgan:rule/log@0.2.0" (instance)))"#);
        let Ok(bytes) = bytes else {
            panic!("fixture: {bytes:?}");
        };
        assert!(check_imports("log", &bytes).is_ok());
        assert!(check_imports("junk", b"not wasm").is_ok());
    }

    #[test]
    fn a_plugin_built_against_contract_0_1_is_refused_naming_the_version_and_the_way_on() {
        let bytes = wat::parse_str(
            r#"(component
                (import "qorgan:rule/types@0.1.0" (instance))
                (import "qorgan:rule/history@0.1.0" (instance))
            )"#,
        );
        let Ok(bytes) = bytes else {
            panic!("fixture: {bytes:?}");
        };
        let err = check_imports("old-rule", &bytes);
        let Err(err @ LoadError::ContractVersion { .. }) = err else {
            panic!("not refused for its contract version: {err:?}");
        };
        let message = err.to_string();
        assert!(message.contains("qorgan:rule@0.1.0"), "{message}");
        assert!(message.contains("rebuild it with the 0.2 SDK"), "{message}");
    }

    #[test]
    fn declared_bounds_refuse_values_outside_them_exactly() {
        let bounds = (Some("0.50"), Some("1"));
        let check = |v: &str| ParamType::Decimal.check_bounds(v, bounds.0, bounds.1);
        assert!(check("0.5").is_ok());
        assert!(check("1.000").is_ok());
        assert!(check("0.499").is_err_and(|e| e.contains("below the minimum 0.50")));
        assert!(check("1.01").is_err_and(|e| e.contains("above the maximum 1")));
        // Text and booleans have no bounds.
        assert!(ParamType::Text.check_bounds("zzz", Some("1"), None).is_ok());
    }

    #[test]
    fn parameter_types_check_values() {
        assert!(ParamType::Money.check("500000.00").is_ok());
        assert!(ParamType::Money.check("0.001").is_err());
        assert!(ParamType::Money.check("-1").is_err());
        assert!(ParamType::Integer.check("30").is_ok());
        assert!(ParamType::Integer.check("3.5").is_err());
        assert!(ParamType::Decimal.check("0.9").is_ok());
        assert!(ParamType::Boolean.check("yes").is_err());
    }
}
