//! The testing harness: prove a rule does what it says.
//!
//! Test cases are YAML files (`docs/testing.md`): a transaction, the history
//! and lists around it, and what its decision must show. [`Harness`] runs
//! them in the production engine, with the real sandbox and limits, each
//! case in isolation: its own history, its own parameter and list overrides.
//! The [`Report`] says which cases passed, what differed field by field in
//! those that did not, and how much of each plugin's declared finding codes
//! the cases cover, positively and negatively.
//!
//! ```ignore
//! let harness = qorgan::harness::Harness::for_pack("examples/packs/kz-afm")?;
//! let report = harness.run(&harness.default_cases()?, &Default::default())?;
//! assert_eq!(report.failed(), 0, "{}", report.to_text());
//! ```

pub mod case;
mod report;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

pub use case::{Case, CaseFile, Expect, ScoreExpect, Step};
pub use report::{CaseResult, Mismatch, PluginCoverage, Report};

use crate::decision::{Decision, HOST_CODES, PLUGIN_FAILED};
use crate::engine::calls::{HostCall, Tap};
use crate::engine::{Engine, EngineBuilder, EngineError, LoadError, PluginInfo, PreparedPack};
use crate::history::History;
use crate::lists::{List, Lists};
use crate::pack::{Limits, Manifest, Pack, PackError, PackPlugin, PluginEntry, Rate, sha256_hex};

/// Why cases could not be run at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HarnessError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A case names a finding code that no plugin of the pack declares
    /// (under `codes`, `absent` or `evidence`): a misspelt code would
    /// otherwise pass silently, as a code that is never emitted is always
    /// absent.
    #[error(
        "{file}: case `{case}`: `{field}` names {code}, which no plugin of the pack declares (declared: {declared})"
    )]
    UndeclaredCode {
        /// The case file.
        file: PathBuf,
        /// The case.
        case: String,
        /// Where the code is named: `codes`, `absent` or `evidence`.
        field: &'static str,
        /// The code as written.
        code: String,
        /// The codes the pack's plugins declare, comma-separated.
        declared: String,
    },
    /// A case file is malformed.
    #[error("{file}{}: {problem}", case.as_ref().map(|c| format!(": case `{c}`")).unwrap_or_default())]
    Case {
        /// The case file.
        file: PathBuf,
        /// The case, when the problem is in one.
        case: Option<String>,
        /// What is wrong.
        problem: String,
    },
    /// The pack could not be read.
    #[error(transparent)]
    Pack(#[from] PackError),
    /// The pack or component could not be loaded.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The engine could not start.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl HarnessError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        HarnessError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// How to run cases.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Run only cases whose name contains this text.
    pub filter: Option<String>,
    /// Record every host call each case makes.
    pub record: bool,
}

/// The plugin instances a harness's engine reserves: cases run one at a
/// time, so far fewer than a server's.
const HARNESS_INSTANCES: u32 = 64;

/// A pack (or a single component) ready to have cases run against it.
pub struct Harness {
    engine: Engine,
    pack: Pack,
    prepared: Arc<PreparedPack>,
    default_cases: PathBuf,
}

impl Harness {
    /// Loads the pack in `dir`; its cases live in its `tests/` directory (or
    /// the manifest's `tests`).
    pub fn for_pack(dir: impl AsRef<Path>) -> Result<Harness, HarnessError> {
        Harness::for_pack_with(Engine::builder(), dir)
    }

    /// [`Harness::for_pack`] on an engine built by `builder` (with, say, a
    /// compiled cache on disk, so that a large component is compiled once
    /// per machine rather than at every run).
    pub fn for_pack_with(
        builder: EngineBuilder,
        dir: impl AsRef<Path>,
    ) -> Result<Harness, HarnessError> {
        let dir = dir.as_ref();
        let pack = Pack::read(dir)?;
        let tests = dir.join(pack.manifest.tests.as_deref().unwrap_or("tests"));
        let engine = builder.max_instances(HARNESS_INSTANCES).build()?;
        Harness::with_engine(engine, pack, tests)
    }

    /// Loads a single component with its declared defaults, an empty list for
    /// each list it declares, and tenge only; its cases live in `tests/`
    /// beside the file.
    pub fn for_component(path: impl AsRef<Path>) -> Result<Harness, HarnessError> {
        Harness::for_component_with(Engine::builder(), path, Limits::default())
    }

    /// [`Harness::for_component`] on an engine built by `builder`, with
    /// `limits` in place of the host's defaults: a JavaScript rule, for
    /// one, needs far more fuel per transaction than the default (see
    /// `docs/writing-rules.md`), which its pack would give it. `limits`
    /// outside the bounds a pack may set are refused, as in a pack.
    pub fn for_component_with(
        builder: EngineBuilder,
        path: impl AsRef<Path>,
        limits: Limits,
    ) -> Result<Harness, HarnessError> {
        let path = path.as_ref();
        crate::pack::check_limits(&limits)?;
        let bytes = std::fs::read(path).map_err(|e| HarnessError::io(path, e))?;
        let engine = builder.max_instances(HARNESS_INSTANCES).build()?;
        let info: PluginInfo = engine.inspect(&path.display().to_string(), &bytes)?;
        let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        let mut lists = Lists::default();
        for name in &info.lists {
            lists.insert(name.clone(), List::default());
        }
        let manifest = Manifest {
            name: info.id.clone(),
            version: info.version.clone(),
            serial: 0,
            description: format!("{} alone, with its defaults", info.id),
            issued_at: None,
            expires_at: None,
            min_host_version: None,
            failure_action: crate::decision::Action::Review,
            thresholds: Default::default(),
            limits,
            history: Default::default(),
            fx: Default::default(),
            plugins: vec![PluginEntry {
                id: info.id.clone(),
                component: path.display().to_string(),
                sha256: Some(info.sha256.clone()),
                source: None,
                weight: 1.0,
                parameters: Default::default(),
                fuel_per_transaction: None,
            }],
            lists: Vec::new(),
            tests: None,
        };
        let pack = Pack {
            dir: dir.clone(),
            digest: sha256_hex(&bytes),
            plugins: vec![PackPlugin {
                entry: manifest.plugins[0].clone(),
                sha256: info.sha256.clone(),
                bytes: bytes.into(),
            }],
            manifest,
            lists: Arc::new(lists),
            fx: [("KZT".to_owned(), Rate { units: 1, scale: 0 })].into(),
        };
        Harness::with_engine(engine, pack, dir.join("tests"))
    }

    /// Runs cases against a pack `engine` has already prepared: the very
    /// compiled plugins that will decide, on this host. Cases run in
    /// isolation (their own history, pinned to `prepared`), so the engine's
    /// active pack and history are untouched. The cases are the pack's own,
    /// in its `tests/` directory (or the manifest's `tests`), which must lie
    /// inside the pack.
    pub fn for_prepared(
        engine: Engine,
        pack: Pack,
        prepared: Arc<PreparedPack>,
    ) -> Result<Harness, HarnessError> {
        let tests = crate::pack::inside(
            &pack.dir,
            pack.manifest.tests.as_deref().unwrap_or("tests"),
            "tests",
        )?;
        Ok(Harness {
            engine,
            pack,
            prepared,
            default_cases: tests,
        })
    }

    fn with_engine(
        engine: Engine,
        pack: Pack,
        default_cases: PathBuf,
    ) -> Result<Harness, HarnessError> {
        let prepared = Arc::new(engine.prepare(&pack)?);
        Ok(Harness {
            engine,
            pack,
            prepared,
            default_cases,
        })
    }

    /// The pack under test.
    pub fn pack(&self) -> &Pack {
        &self.pack
    }

    /// Where the pack's (or component's) own cases are.
    pub fn default_cases_dir(&self) -> &Path {
        &self.default_cases
    }

    /// Loads the case files under the default directory (none if it is
    /// missing).
    pub fn default_cases(&self) -> Result<Vec<CaseFile>, HarnessError> {
        if !self.default_cases.is_dir() {
            return Ok(Vec::new());
        }
        self.load(std::slice::from_ref(&self.default_cases))
    }

    /// Loads every case file found under `paths`, and checks that each
    /// finding code the cases name is one the pack's plugins declare
    /// ([`Harness::check_codes`]).
    pub fn load(&self, paths: &[PathBuf]) -> Result<Vec<CaseFile>, HarnessError> {
        let files = load_cases(paths)?;
        self.check_codes(&files)?;
        Ok(files)
    }

    /// Refuses case files that name, under `codes`, `absent` or
    /// `evidence`, a finding code no plugin of the pack declares (other
    /// than the host's own `PLUGIN_FAILED` and `UNKNOWN_VOCABULARY`): the
    /// error names the code and
    /// the declared ones.
    pub fn check_codes(&self, files: &[CaseFile]) -> Result<(), HarnessError> {
        let declared: BTreeSet<&str> = self
            .prepared
            .info()
            .plugins
            .iter()
            .flat_map(|p| p.codes.iter().map(|c| c.code.as_str()))
            .collect();
        for file in files {
            for case in &file.cases {
                for step in &case.steps {
                    let named = [
                        ("codes", step.expect.codes.iter().collect::<Vec<_>>()),
                        ("absent", step.expect.absent.iter().collect()),
                        ("evidence", step.expect.evidence.keys().collect()),
                    ];
                    for (field, codes) in named {
                        if let Some(code) = codes.into_iter().find(|c| {
                            !HOST_CODES.contains(&c.as_str()) && !declared.contains(c.as_str())
                        }) {
                            return Err(HarnessError::UndeclaredCode {
                                file: file.path.clone(),
                                case: case.name.clone(),
                                field,
                                code: code.clone(),
                                declared: list(&declared),
                            });
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Runs the cases of `files` and reports.
    pub fn run(&self, files: &[CaseFile], options: &RunOptions) -> Report {
        let mut results = Vec::new();
        for file in files {
            for case in &file.cases {
                if let Some(filter) = &options.filter
                    && !case.name.contains(filter.as_str())
                {
                    continue;
                }
                results.push(self.run_case(case, options.record));
            }
        }
        let coverage = coverage(
            &self.prepared.info().plugins,
            files,
            options.filter.as_deref(),
        );
        Report::new(self.prepared.info().clone(), results, coverage)
    }

    /// The prepared pack a case runs on: the shared one, or one with the
    /// case's parameter and list overrides.
    fn pack_for(&self, case: &Case) -> Result<Arc<PreparedPack>, String> {
        if case.parameters.is_empty() && case.lists.is_empty() {
            return Ok(self.prepared.clone());
        }
        let mut pack = self.pack.clone();
        for (plugin, params) in &case.parameters {
            let entry = pack
                .plugins
                .iter_mut()
                .find(|p| &p.entry.id == plugin)
                .ok_or_else(|| format!("the pack has no plugin `{plugin}`"))?;
            entry.entry.parameters.extend(params.clone());
        }
        if !case.lists.is_empty() {
            let mut lists = (*pack.lists).clone();
            for (name, entries) in &case.lists {
                let text = entries.join("\n");
                let list = List::parse(name, &text, false).map_err(|e| e.to_string())?;
                lists.insert(name.clone(), list);
            }
            pack.lists = Arc::new(lists);
        }
        self.engine
            .prepare(&pack)
            .map(Arc::new)
            .map_err(|e| e.to_string())
    }

    fn run_case(&self, case: &Case, record: bool) -> CaseResult {
        let started = Instant::now();
        let mut result = CaseResult {
            name: case.name.clone(),
            file: case.file.clone(),
            mismatches: Vec::new(),
            decisions: Vec::new(),
            recorded: Vec::new(),
            elapsed_ms: 0.0,
        };
        let pack = match self.pack_for(case) {
            Ok(p) => p,
            Err(e) => {
                result
                    .mismatches
                    .push(Mismatch::new("parameters", "a pack that loads", e));
                return result.finish(started);
            }
        };
        let tap = match (&case.replay, record) {
            (Some(calls), _) => Some(Arc::new(Tap::replay(calls.clone()))),
            (None, true) => Some(Arc::new(Tap::record())),
            (None, false) => None,
        };
        let mut evaluator = self
            .engine
            .evaluator()
            .with_pack(pack)
            .with_history(Arc::new(History::default()));
        if let Some(tap) = &tap {
            evaluator = evaluator.with_tap(tap.clone());
        }
        if case.replay.is_none() {
            for (i, r) in evaluator.remember(&case.history).into_iter().enumerate() {
                if let Err(e) = r {
                    result.mismatches.push(Mismatch::new(
                        &format!("history[{i}]"),
                        "a transaction",
                        e.to_string(),
                    ));
                }
            }
        }
        for (i, step) in case.steps.iter().enumerate() {
            let prefix = if case.steps.len() > 1 {
                format!("sequence[{i}].")
            } else {
                String::new()
            };
            match evaluator
                .evaluate_batch(std::slice::from_ref(&step.transaction))
                .pop()
            {
                Some(Ok(decision)) => {
                    check(&step.expect, &decision, &prefix, &mut result.mismatches);
                    result.decisions.push(decision);
                }
                Some(Err(e)) => result.mismatches.push(Mismatch::new(
                    &format!("{prefix}decision"),
                    "a decision",
                    e.to_string(),
                )),
                None => result.mismatches.push(Mismatch::new(
                    &format!("{prefix}decision"),
                    "a decision",
                    "none",
                )),
            }
        }
        if let Some(tap) = tap {
            result.recorded = tap.recorded();
        }
        result.finish(started)
    }
}

/// Loads every case file found under `paths`.
pub fn load_cases(paths: &[PathBuf]) -> Result<Vec<CaseFile>, HarnessError> {
    case::discover(paths)?
        .iter()
        .map(|p| case::load(p))
        .collect()
}

fn list(codes: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    let codes: Vec<String> = codes.into_iter().map(|c| c.as_ref().to_owned()).collect();
    if codes.is_empty() {
        "none".into()
    } else {
        codes.join(", ")
    }
}

/// What set a decision's action, in words: the finding whose action it is
/// (the first, in the decision's order), or the score that reached a
/// threshold when no finding asked for that much.
fn action_cause(decision: &Decision) -> String {
    match decision
        .findings
        .iter()
        .find(|f| f.action == decision.action)
    {
        Some(f) => format!(
            "{} set by {} ({}, score {}): {}",
            decision.action, f.code, f.rule, f.score, f.message
        ),
        None if decision.findings.is_empty() => format!("{} with no finding", decision.action),
        None => format!(
            "{} set by the score {} reaching the pack's threshold",
            decision.action, decision.score
        ),
    }
}

/// Compares a decision with an expectation, adding what differs.
pub fn check(expect: &Expect, decision: &Decision, prefix: &str, out: &mut Vec<Mismatch>) {
    let field = |name: &str| format!("{prefix}{name}");
    let present: BTreeSet<&str> = decision.findings.iter().map(|f| f.code.as_str()).collect();
    if let Some(action) = expect.action
        && decision.action != action
    {
        out.push(
            Mismatch::new(&field("action"), action, decision.action)
                .because(action_cause(decision)),
        );
    }
    if let Some(requirements) = &expect.requirements {
        let want: BTreeSet<&str> = requirements.iter().map(|c| c.as_str()).collect();
        let got: BTreeSet<&str> = decision.requirements.iter().map(|c| c.as_str()).collect();
        if want != got {
            out.push(Mismatch::new(&field("requirements"), list(want), list(got)));
        }
    }
    for code in &expect.codes {
        if !present.contains(code.as_str()) {
            out.push(Mismatch::new(
                &field("codes"),
                format!("{code} present"),
                format!("absent (found: {})", list(&present)),
            ));
        }
    }
    let mut absent: Vec<&str> = expect.absent.iter().map(String::as_str).collect();
    let plugin_failed_named = expect
        .codes
        .iter()
        .chain(&expect.absent)
        .any(|c| c == PLUGIN_FAILED);
    if !plugin_failed_named {
        absent.push(PLUGIN_FAILED);
    }
    for code in absent {
        if let Some(f) = decision.findings.iter().find(|f| f.code == code) {
            out.push(Mismatch::new(
                &field("codes"),
                format!("{code} absent"),
                format!("present: {}", f.message),
            ));
        }
    }
    if let Some(score) = expect.score {
        let ok = match score {
            ScoreExpect::Exact(s) => decision.score == s,
            ScoreExpect::Range { min, max } => {
                min.is_none_or(|m| decision.score >= m) && max.is_none_or(|m| decision.score <= m)
            }
        };
        if !ok {
            let want = match score {
                ScoreExpect::Exact(s) => s.to_string(),
                ScoreExpect::Range { min, max } => format!(
                    "{} to {}",
                    min.map_or("0".into(), |m| m.to_string()),
                    max.map_or("any".into(), |m| m.to_string())
                ),
            };
            out.push(Mismatch::new(&field("score"), want, decision.score));
        }
    }
    for (code, entries) in &expect.evidence {
        let Some(finding) = decision.findings.iter().find(|f| &f.code == code) else {
            out.push(Mismatch::new(
                &field(&format!("evidence.{code}")),
                format!("a {code} finding"),
                "none",
            ));
            continue;
        };
        for (name, value) in entries {
            let got = finding.evidence.get(name);
            if got != Some(value.as_str()) {
                out.push(Mismatch::new(
                    &field(&format!("evidence.{code}.{name}")),
                    value,
                    got.unwrap_or("(missing)"),
                ));
            }
        }
    }
    if let Some(n) = expect.findings
        && decision.findings.len() != n
    {
        out.push(Mismatch::new(
            &field("findings"),
            n,
            format!("{} ({})", decision.findings.len(), list(&present)),
        ));
    }
}

/// Which declared codes the cases expect present and absent, per plugin.
fn coverage(
    plugins: &[PluginInfo],
    files: &[CaseFile],
    filter: Option<&str>,
) -> Vec<PluginCoverage> {
    let mut positive = BTreeSet::new();
    let mut negative = BTreeSet::new();
    for case in files.iter().flat_map(|f| &f.cases) {
        if filter.is_some_and(|f| !case.name.contains(f)) {
            continue;
        }
        for step in &case.steps {
            positive.extend(step.expect.codes.iter().cloned());
            positive.extend(step.expect.evidence.keys().cloned());
            negative.extend(step.expect.absent.iter().cloned());
        }
    }
    plugins
        .iter()
        .map(|p| {
            let declared: Vec<String> = p.codes.iter().map(|c| c.code.clone()).collect();
            PluginCoverage {
                plugin: p.id.clone(),
                positive: declared
                    .iter()
                    .filter(|c| positive.contains(*c))
                    .cloned()
                    .collect(),
                negative: declared
                    .iter()
                    .filter(|c| negative.contains(*c))
                    .cloned()
                    .collect(),
                declared,
            }
        })
        .collect()
}

/// Writes each case file again into `dir` with every case's recorded host
/// calls as its `replay` (and without its `history`, which replay does not
/// need). Returns the files written.
pub fn write_recordings(
    dir: &Path,
    files: &[CaseFile],
    report: &Report,
) -> Result<Vec<PathBuf>, HarnessError> {
    std::fs::create_dir_all(dir).map_err(|e| HarnessError::io(dir, e))?;
    let mut written = Vec::new();
    for file in files {
        let mut cases = Vec::new();
        for case in &file.cases {
            let Some(result) = report
                .cases
                .iter()
                .find(|r| r.file == case.file && r.name == case.name)
            else {
                continue;
            };
            let mut source = case.source.clone();
            if let serde_json::Value::Object(obj) = &mut source {
                obj.insert("name".into(), serde_json::Value::String(case.name.clone()));
                obj.remove("history");
                let calls: &[HostCall] = &result.recorded;
                let replay = serde_json::to_value(calls).map_err(|e| HarnessError::Case {
                    file: file.path.clone(),
                    case: Some(case.name.clone()),
                    problem: e.to_string(),
                })?;
                obj.insert("replay".into(), replay);
            }
            cases.push(source);
        }
        let doc = serde_json::json!({ "defaults": file.defaults, "cases": cases });
        let text = serde_norway::to_string(&doc).map_err(|e| HarnessError::Case {
            file: file.path.clone(),
            case: None,
            problem: e.to_string(),
        })?;
        let name = file
            .path
            .file_name()
            .map(|n| n.to_owned())
            .unwrap_or_else(|| "cases.yaml".into());
        let target = dir.join(name).with_extension("yaml");
        std::fs::write(&target, format!("# Recorded by `qorgan test --record`: each case replays the host answers it got.\n{text}"))
            .map_err(|e| HarnessError::io(&target, e))?;
        written.push(target);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lone_component_with_limits_no_pack_may_set_is_refused_before_it_is_read() {
        let limits = Limits {
            memory_mib: 0,
            ..Limits::default()
        };
        let refused = Harness::for_component_with(Engine::builder(), "no-such.wasm", limits);
        match refused {
            Err(HarnessError::Pack(PackError::Invalid { field, .. })) => {
                assert_eq!(field, "limits.memory_mib");
            }
            Err(other) => panic!("refused for another reason: {other}"),
            Ok(_) => panic!("a zero memory limit was accepted"),
        }
    }
}
