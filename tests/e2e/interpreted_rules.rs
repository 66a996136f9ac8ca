//! Rules in Python and JavaScript, the way an author works with them:
//! `qorgan new --lang python|js`, `qorgan build`, `qorgan test`; the Python,
//! JavaScript and Rust threshold rules deciding one generated stream alike;
//! and what stays the same when an interpreted rule is built twice.
//!
//! Each interpreted component takes tens of seconds to build and to
//! compile, so the examples are built once per run of this binary, and the
//! `qorgan` commands share one compiled cache (`QORGAN_CACHE_DIR`) in a
//! temporary directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use qorgan_e2e::fixtures::{
    copy_dir, kz_threshold_component, qorgan_bin, tempdir, workspace, write,
};
use serde_json::Value;

/// The fuel per transaction a lone JavaScript component's cases run with.
const JS_FUEL: &str = "50000000";

/// The codes py-threshold, js-threshold and kz-threshold share.
const SHARED_CODES: [&str; 3] = [
    "TOPUP_SENDER_IIN_REQUIRED",
    "IIN_INVALID",
    "CASH_BIOMETRIC_REQUIRED",
];

/// The scratch directory of this run: the compiled cache and the built
/// examples. It lives under cargo's target directory and is emptied at the
/// start of each run, since a static is never dropped to clean it up.
fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("interpreted-rules");
        let _ = std::fs::remove_dir_all(&dir);
        if let Err(e) = std::fs::create_dir_all(&dir) {
            panic!("{}: {e}", dir.display());
        }
        dir
    })
}

fn qorgan(args: &[&std::ffi::OsStr]) -> Output {
    match Command::new(qorgan_bin())
        .args(args)
        .env("QORGAN_CACHE_DIR", scratch().join("compiled"))
        .output()
    {
        Ok(out) => out,
        Err(e) => panic!("cannot run qorgan: {e}"),
    }
}

fn os(s: &str) -> &std::ffi::OsStr {
    std::ffi::OsStr::new(s)
}

fn ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Builds `examples/rules/NAME` into `out` and returns what `qorgan build`
/// printed.
fn build_example(name: &str, out: &Path) -> String {
    let dir = workspace().join("examples").join("rules").join(name);
    let printed = qorgan(&[os("build"), dir.as_os_str(), os("-o"), out.as_os_str()]);
    ok(&printed, &format!("qorgan build {name}"))
}

/// The two threshold examples, built once: (py-threshold, js-threshold).
fn built_examples() -> &'static (PathBuf, PathBuf, String, String) {
    static BUILT: OnceLock<(PathBuf, PathBuf, String, String)> = OnceLock::new();
    BUILT.get_or_init(|| {
        let py = scratch().join("py-threshold.wasm");
        let js = scratch().join("js-threshold.wasm");
        let py_printed = build_example("py-threshold", &py);
        let js_printed = build_example("js-threshold", &js);
        (py, js, py_printed, js_printed)
    })
}

/// The line of what `qorgan build` printed that starts with `key `: the
/// digests it recorded (`source sha256 …`, `sdk … sha256 …`).
fn recorded(printed: &str, key: &str) -> String {
    printed
        .lines()
        .find_map(|l| l.trim().strip_prefix(key))
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no `{key}` in:\n{printed}"))
}

fn new_build_and_test(lang: &str, extra: &[&str]) {
    let root = tempdir();
    let dir = root.path().join(format!("demo-{lang}"));
    ok(
        &qorgan(&[
            os("new"),
            os("demo"),
            os("--dir"),
            dir.as_os_str(),
            os("--lang"),
            os(lang),
        ]),
        "qorgan new",
    );
    ok(&qorgan(&[os("build"), dir.as_os_str()]), "qorgan build");
    let component = dir.join("demo.wasm");
    let mut args = vec![
        os("test"),
        component.as_os_str(),
        os("--coverage-min"),
        os("100"),
    ];
    args.extend(extra.iter().map(|a| os(a)));
    let report = ok(&qorgan(&args), "qorgan test");
    assert!(report.contains(" passed, 0 failed"), "{report}");
}

#[test]
fn a_new_python_rule_builds_and_passes_its_cases() {
    new_build_and_test("python", &[]);
}

#[test]
fn a_new_javascript_rule_that_asks_for_history_builds_and_passes_its_cases() {
    new_build_and_test("js", &["--fuel-per-transaction", JS_FUEL]);
}

/// Each plugin's shared findings per decision: plugin → decision → sorted
/// (code, message, evidence).
type Shared = BTreeMap<String, Vec<Vec<String>>>;

/// `examples/packs/kz-polyglot` (the threshold rule in Rust, Python and
/// JavaScript) with its components built, once.
fn polyglot_pack() -> &'static Path {
    static PACK: OnceLock<PathBuf> = OnceLock::new();
    PACK.get_or_init(|| {
        let (py, js, _, _) = built_examples();
        let pack = scratch().join("kz-polyglot");
        let source = workspace()
            .join("examples")
            .join("packs")
            .join("kz-polyglot");
        if let Err(e) = copy_dir(&source, &pack) {
            panic!("copy {}: {e}", source.display());
        }
        let plugins = pack.join("plugins");
        write(&plugins.join("kz-threshold.wasm"), kz_threshold_component());
        for (from, name) in [(py, "py-threshold.wasm"), (js, "js-threshold.wasm")] {
            if let Err(e) = std::fs::copy(from, plugins.join(name)) {
                panic!("copy {}: {e}", from.display());
            }
        }
        pack
    })
}

#[test]
fn python_javascript_and_rust_threshold_rules_decide_a_generated_stream_alike() {
    let pack = tempdir();
    let stream = pack.path().join("stream.jsonl");
    let generated = ok(
        &qorgan(&[os("gen"), os("--seed"), os("7"), os("--count"), os("10000")]),
        "qorgan gen",
    );
    write(&stream, generated.as_bytes());
    let decided = ok(
        &qorgan(&[
            os("eval"),
            os("--pack"),
            polyglot_pack().as_os_str(),
            os("--input"),
            stream.as_os_str(),
        ]),
        "qorgan eval",
    );
    let mut shared = Shared::new();
    let mut decisions = 0;
    let mut flagged = 0;
    for line in decided.lines() {
        let decision: Value = serde_json::from_str(line).unwrap_or(Value::Null);
        let Some(findings) = decision["findings"].as_array() else {
            continue; // a transaction the pack refuses (its error line)
        };
        decisions += 1;
        let mut per: BTreeMap<String, Vec<String>> =
            ["kz-threshold", "py-threshold", "js-threshold"]
                .iter()
                .map(|p| ((*p).to_owned(), Vec::new()))
                .collect();
        for f in findings {
            let code = f["code"].as_str().unwrap_or_default();
            assert_ne!(code, "PLUGIN_FAILED", "{line}");
            if !SHARED_CODES.contains(&code) {
                continue;
            }
            flagged += 1;
            let rule = f["rule"].as_str().unwrap_or_default();
            let plugin = rule.split('@').next().unwrap_or_default().to_owned();
            per.entry(plugin)
                .or_default()
                .push(format!("{code} {} {}", f["message"], f["evidence"]));
        }
        for (plugin, mut found) in per {
            found.sort();
            shared.entry(plugin).or_default().push(found);
        }
    }
    eprintln!("{decisions} decisions, {flagged} shared findings");
    assert!(decisions >= 9_990, "only {decisions} decisions");
    assert!(flagged > 0, "no shared code was ever found");
    let rust = shared.get("kz-threshold");
    assert!(rust.is_some());
    assert_eq!(shared.get("py-threshold"), rust, "Python differs from Rust");
    assert_eq!(
        shared.get("js-threshold"),
        rust,
        "JavaScript differs from Rust"
    );
}

#[test]
fn an_interpreted_rule_built_twice_records_the_same_source_digest() {
    // The bytes of the two builds differ (each embeds the interpreter's heap
    // as its build left it: docs/writing-rules.md, "Reproducibility"); what
    // is stable, and what ties a component to its source, is the recorded
    // source digest.
    let (py, js, py_printed, js_printed) = built_examples();
    for (name, first, printed) in [
        ("py-threshold", py, py_printed),
        ("js-threshold", js, js_printed),
    ] {
        let again = scratch().join(format!("{name}-again.wasm"));
        let printed_again = build_example(name, &again);
        for key in ["source sha256 ", "sdk "] {
            assert_eq!(
                recorded(printed, key),
                recorded(&printed_again, key),
                "{name}: {key}"
            );
        }
        let (a, b) = match (std::fs::read(first), std::fs::read(&again)) {
            (Ok(a), Ok(b)) => (a, b),
            (a, b) => panic!("read: {:?} {:?}", a.err(), b.err()),
        };
        eprintln!(
            "{name}: sha256 {} and {} ({} and {} bytes)",
            qorgan::pack::sha256_hex(&a),
            qorgan::pack::sha256_hex(&b),
            a.len(),
            b.len()
        );
    }
}

#[test]
fn bench_reports_the_cost_per_transaction_of_each_language_in_one_run() {
    let printed = ok(
        &qorgan(&[
            os("bench"),
            os("--pack"),
            polyglot_pack().as_os_str(),
            os("--count"),
            os("512"),
            os("--latency-count"),
            os("64"),
            os("--json"),
        ]),
        "qorgan bench",
    );
    let last = printed.lines().last().unwrap_or_default();
    let report: Value = match serde_json::from_str(last) {
        Ok(v) => v,
        Err(e) => panic!("the last line is not JSON ({e}): {last}"),
    };
    assert_eq!(report["failed"], 0, "{report}");
    let languages = report["languages"].as_array().cloned().unwrap_or_default();
    let named: Vec<&str> = languages
        .iter()
        .filter_map(|l| l["language"].as_str())
        .collect();
    assert_eq!(named, ["rust", "python", "javascript"], "{report}");
    for language in &languages {
        assert_eq!(language["plugins"], 1, "{language}");
        let ns = language["ns_per_tx"].as_f64().unwrap_or_default();
        assert!(ns > 0.0, "{language}");
    }
    // An interpreter in the sandbox costs more than compiled Rust; the
    // ratios themselves are printed (docs/writing-rules.md quotes a run),
    // never asserted.
    for language in languages.iter().skip(1) {
        let vs = language["vs_rust"].as_f64().unwrap_or_default();
        assert!(vs > 1.0, "{language}");
    }
    eprintln!("languages: {}", report["languages"]);
}
