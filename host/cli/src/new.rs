//! `qorgan new <NAME> [--lang rust|python|js]`: a new, standalone rule that
//! builds and has passing tests from the start.
//!
//! The rule's files are the templates in `scaffold/`, embedded in the binary
//! and filled in with the rule's name, its type name and the path of the
//! language's SDK. The rule is the same in the three languages, with the same
//! cases. The generated rule is small but real: it asks the host's
//! history how many distinct accounts paid the recipient recently, so a rule
//! author sees the whole loop (metadata, parameters, a history query, a
//! finding with evidence, native unit tests and `qorgan test` cases).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};

/// The plugin SDK of the source tree this binary was built from.
const DEFAULT_SDK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../plugins/sdk");

/// The language a new rule is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum Lang {
    /// A Rust crate using qorgan-sdk.
    Rust,
    /// A Python module using qorgan_rule (built with componentize-py).
    Python,
    /// A JavaScript module using qorgan-rule (built with jco).
    Js,
}

/// The generated files of a Python rule.
const PYTHON_FILES: &[(&str, &str, &str)] = &[
    (
        "app.py",
        "the rule: MANY_SENDERS from a history query",
        include_str!("scaffold/app.py.tmpl"),
    ),
    (
        "test_app.py",
        "native tests (pytest, with the SDK on PYTHONPATH)",
        include_str!("scaffold/test_app.py.tmpl"),
    ),
    (
        "pyproject.toml",
        "the project's name and pytest settings",
        include_str!("scaffold/pyproject.toml.tmpl"),
    ),
    (
        "tests/cases.yaml",
        "cases for `qorgan test`",
        include_str!("scaffold/cases.yaml.tmpl"),
    ),
    (
        "README.md",
        "how to test, build and run the cases",
        include_str!("scaffold/README-interpreted.md.tmpl"),
    ),
    (
        ".gitignore",
        "built components and caches",
        include_str!("scaffold/gitignore-interpreted.tmpl"),
    ),
];

/// The fuel per transaction a JavaScript rule's cases run with: a
/// StarlingMonkey call costs about 2.5 million fuel before the rule's own
/// work, and a garbage collection inside a call several times that
/// (docs/writing-rules.md has the measurements).
const JS_FUEL_PER_TRANSACTION: u64 = 50_000_000;

/// The generated files of a JavaScript rule.
const JS_FILES: &[(&str, &str, &str)] = &[
    (
        "app.js",
        "the rule: MANY_SENDERS from a history query",
        include_str!("scaffold/app.js.tmpl"),
    ),
    (
        "app.test.js",
        "native tests (node --test)",
        include_str!("scaffold/app.test.js.tmpl"),
    ),
    (
        "package.json",
        "depends on the qorgan-rule SDK (npm install links it)",
        include_str!("scaffold/package.json.tmpl"),
    ),
    (
        "tests/cases.yaml",
        "cases for `qorgan test`",
        include_str!("scaffold/cases.yaml.tmpl"),
    ),
    (
        "README.md",
        "how to test, build and run the cases",
        include_str!("scaffold/README-interpreted.md.tmpl"),
    ),
    (
        ".gitignore",
        "built components and node_modules",
        include_str!("scaffold/gitignore-interpreted.tmpl"),
    ),
];

/// The generated files of a Rust rule: the path inside the crate, what it
/// is, the template.
const FILES: &[(&str, &str, &str)] = &[
    (
        "Cargo.toml",
        "standalone crate (its own workspace), depends on qorgan-sdk",
        include_str!("scaffold/Cargo.toml.tmpl"),
    ),
    (
        "src/lib.rs",
        "the rule: MANY_SENDERS from a history query, with unit tests",
        include_str!("scaffold/lib.rs.tmpl"),
    ),
    (
        "tests/cases.yaml",
        "cases for `qorgan test`",
        include_str!("scaffold/cases.yaml.tmpl"),
    ),
    (
        "README.md",
        "how to test, build and run the cases",
        include_str!("scaffold/README.md.tmpl"),
    ),
    (
        ".gitignore",
        "target/ and built components",
        include_str!("scaffold/gitignore.tmpl"),
    ),
];

/// Creates the rule `name` in `lang` in `dir` (default `./<name>`), with
/// the SDK at `sdk` (default: this source tree's SDK for the language).
pub(super) fn run(
    name: &str,
    dir: Option<&Path>,
    sdk: Option<&Path>,
    lang: Lang,
) -> anyhow::Result<ExitCode> {
    check_name(name)?;
    let dir = dir.map_or_else(|| PathBuf::from(name), Path::to_path_buf);
    let (templates, sdk, vars) = match lang {
        Lang::Rust => {
            let sdk = find_sdk(sdk)?;
            let vars = Vars::new(name, &sdk)?;
            (FILES, sdk, vars)
        }
        Lang::Python => {
            let sdk = match sdk {
                Some(sdk) => sdk
                    .canonicalize()
                    .with_context(|| format!("cannot find the Python SDK at {}", sdk.display()))?,
                None => qorgan_lab::build::python_sdk()?,
            };
            let mut vars = Vars::new(name, &sdk)?;
            vars.language = "Python".into();
            vars.lang = "python".into();
            vars.test_command = format!("PYTHONPATH={} pytest", sdk.display());
            (PYTHON_FILES, sdk, vars)
        }
        Lang::Js => {
            let sdk = match sdk {
                Some(sdk) => sdk.canonicalize().with_context(|| {
                    format!("cannot find the JavaScript SDK at {}", sdk.display())
                })?,
                None => qorgan_lab::build::js_sdk()?,
            };
            let mut vars = Vars::new(name, &sdk)?;
            vars.language = "JavaScript".into();
            vars.lang = "js".into();
            vars.test_command = "npm install && node --test".into();
            vars.test_limits = format!(" --fuel-per-transaction {JS_FUEL_PER_TRANSACTION}");
            (JS_FILES, sdk, vars)
        }
    };
    // Render everything before touching the disk, so a bad template cannot
    // leave a half-written crate behind.
    let files = templates
        .iter()
        .map(|(path, what, template)| Ok((*path, *what, render(path, template, &vars)?)))
        .collect::<anyhow::Result<Vec<_>>>()?;

    prepare_dir(&dir)?;
    for (path, _, text) in &files {
        write_new(&dir.join(path), text)?;
    }

    let shown = dir.display();
    println!("created rule plugin `{name}` in {shown}:");
    for (path, what, _) in &files {
        println!("  {path:<18}{what}");
    }
    println!("  (the SDK from {})", sdk.display());
    let native = match lang {
        Lang::Rust => "cargo test".to_owned(),
        Lang::Python | Lang::Js => vars.test_command.clone(),
    };
    let next = [
        (
            format!("cd {shown} && {native}"),
            "run the unit tests natively".to_owned(),
        ),
        (
            format!("qorgan build {shown}"),
            format!("build the component, {shown}/{name}.wasm"),
        ),
        (
            format!("qorgan test {shown}/{name}.wasm"),
            "run the cases in tests/ against it".to_owned(),
        ),
    ];
    let width = next
        .iter()
        .map(|(command, _)| command.len())
        .max()
        .unwrap_or(0);
    println!();
    println!("next:");
    for (command, what) in &next {
        println!("  {command:<width$}   # {what}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Rust keywords (strict, reserved and edition-2024 ones): a crate whose
/// library name is one of them cannot be named in code.
const KEYWORDS: &str = "as async await break const continue crate dyn else enum extern false fn \
    for gen if impl in let loop match mod move mut pub ref return self static struct super trait \
    true type unsafe use where while abstract become box do final macro override priv try typeof \
    unsized virtual yield";

/// Crate names that clash with the standard library's crates.
const STD_CRATES: &str = "std core alloc test proc-macro";

/// Checks that `name` is kebab-case, as rule ids must be: lower-case ASCII
/// letters, digits and single dashes, starting with a letter and not ending
/// with a dash; and that it can be a crate's name.
fn check_name(name: &str) -> anyhow::Result<()> {
    let problem = if name.is_empty() {
        Some("it is empty".to_owned())
    } else if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        Some("it must start with a lower-case letter".to_owned())
    } else if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        Some(format!(
            "`{c}` is not allowed; use lower-case letters, digits and dashes"
        ))
    } else if name.ends_with('-') || name.contains("--") {
        Some("dashes must separate words: no trailing or doubled dash".to_owned())
    } else if KEYWORDS.split_whitespace().any(|word| word == name) {
        Some("it is a Rust keyword".to_owned())
    } else if STD_CRATES.split_whitespace().any(|word| word == name) {
        Some("it is the name of a standard library crate".to_owned())
    } else {
        None
    };
    match problem {
        Some(problem) => bail!(
            "`{name}` cannot be a rule name: {problem} (a rule name is kebab-case, \
             e.g. `kz-many-senders`)"
        ),
        None => Ok(()),
    }
}

/// The canonical directory of the plugin SDK, checked to hold `qorgan-sdk`.
fn find_sdk(sdk: Option<&Path>) -> anyhow::Result<PathBuf> {
    let given = sdk.unwrap_or(Path::new(DEFAULT_SDK));
    let hint = if sdk.is_some() {
        ""
    } else {
        " (the SDK of the source tree qorgan was built from); give the SDK's directory with --sdk"
    };
    let dir = given.canonicalize().with_context(|| {
        format!(
            "cannot find the qorgan plugin SDK at {}{hint}",
            given.display()
        )
    })?;
    let manifest = dir.join("Cargo.toml");
    let Ok(text) = fs::read_to_string(&manifest) else {
        bail!(
            "{} is not the qorgan plugin SDK: it has no readable Cargo.toml{hint}",
            dir.display()
        );
    };
    let package = text
        .parse::<toml::Table>()
        .ok()
        .and_then(|t| t.get("package")?.get("name")?.as_str().map(str::to_owned));
    if package.as_deref() != Some("qorgan-sdk") {
        bail!(
            "{} is not the qorgan plugin SDK: its package is not `qorgan-sdk`{hint}",
            manifest.display()
        );
    }
    Ok(dir)
}

/// Makes sure `dir` is a directory with nothing in it, creating it if needed.
fn prepare_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        if !dir.is_dir() {
            bail!("{} exists and is not a directory", dir.display());
        }
        let mut entries =
            fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
        if entries.next().is_some() {
            bail!(
                "{} already exists and is not empty; not overwriting it (choose another \
                 name or directory)",
                dir.display()
            );
        }
    }
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))
}

/// Writes a new file (and its parent directories), refusing to replace one.
fn write_new(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// What the templates' `{{...}}` placeholders stand for.
struct Vars {
    /// `{{name}}`: the crate name and rule id, e.g. `demo-rule`.
    name: String,
    /// `{{type_name}}`: the rule's Rust type, e.g. `DemoRule`.
    type_name: String,
    /// `{{sdk_path}}`: the SDK directory as a quoted TOML string.
    sdk_path: String,
    /// `{{sdk_url}}`: the SDK as a quoted `file:` URL for package.json.
    sdk_url: String,
    /// `{{language}}`: the language's name, e.g. `Python`.
    language: String,
    /// `{{lang}}`: the `--lang` value.
    lang: String,
    /// `{{test_command}}`: how to run the native tests.
    test_command: String,
    /// `{{test_limits}}`: the `qorgan test` flags the component needs
    /// beyond the host's default limits (with a leading space), if any.
    test_limits: String,
}

impl Vars {
    fn new(name: &str, sdk: &Path) -> anyhow::Result<Vars> {
        let sdk = sdk.to_str().with_context(|| {
            format!(
                "the SDK's path {} is not UTF-8 and cannot be written to Cargo.toml",
                sdk.display()
            )
        })?;
        Ok(Vars {
            name: name.to_owned(),
            type_name: type_name(name),
            sdk_path: toml_string(sdk),
            sdk_url: serde_json::to_string(&format!("file:{sdk}"))?,
            language: "Rust".to_owned(),
            lang: "rust".to_owned(),
            test_command: "cargo test".to_owned(),
            test_limits: String::new(),
        })
    }
}

/// Names the generated `src/lib.rs` already uses (its imports, the std
/// prelude, the generic parameter of `evaluate`); a rule type of one of these
/// names would not compile, so it gets a `Plugin` suffix instead.
const TAKEN_TYPE_NAMES: &str = "Account Action CodeSpec ConfigError Cursor Direction Finding \
    Findings Harness Host Kinds MemoryHost Metadata ParamSpec Params Query Rule SetupError \
    TestResult Tested Timestamp Totals Tx TxBuilder TxKind H \
    Box Clone Copy Debug Default Drop Eq Err Extend Fn FnMut FnOnce From FromIterator Into \
    IntoIterator Iterator None Ok Option Ord PartialEq PartialOrd Result Send Sized Some String \
    Sync ToOwned ToString TryFrom TryInto Unpin Vec";

/// The UpperCamelCase type name for a kebab-case rule name:
/// `kz-many-senders` → `KzManySenders`.
fn type_name(name: &str) -> String {
    let camel: String = name
        .split('-')
        .flat_map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase())
                .into_iter()
                .chain(chars)
        })
        .collect();
    if TAKEN_TYPE_NAMES
        .split_whitespace()
        .any(|taken| taken == camel)
    {
        format!("{camel}Plugin")
    } else {
        camel
    }
}

/// `text` as a TOML basic string, quoted and escaped.
fn toml_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Fills in a template's placeholders.
fn render(file: &str, template: &str, vars: &Vars) -> anyhow::Result<String> {
    let text = template
        .replace("{{name}}", &vars.name)
        .replace("{{type_name}}", &vars.type_name)
        .replace("{{sdk_path}}", &vars.sdk_path)
        .replace("{{sdk_url}}", &vars.sdk_url)
        .replace("{{language}}", &vars.language)
        .replace("{{lang}}", &vars.lang)
        .replace("{{test_limits}}", &vars.test_limits)
        .replace("{{test_command}}", &vars.test_command);
    if let Some(at) = text.find("{{") {
        let rest: String = text[at..].chars().take(30).collect();
        bail!("internal error: the template of {file} has an unknown placeholder at `{rest}`");
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(name: &str) -> Vars {
        Vars {
            name: name.to_owned(),
            type_name: type_name(name),
            sdk_path: toml_string("/opt/qorgan/plugins/sdk"),
            sdk_url: "\"file:/opt/qorgan/plugins/sdk-js\"".to_owned(),
            language: "JavaScript".to_owned(),
            lang: "js".to_owned(),
            test_command: "node --test".to_owned(),
            test_limits: " --fuel-per-transaction 50000000".to_owned(),
        }
    }

    #[test]
    fn kebab_case_names_are_accepted() {
        for name in ["demo", "demo-rule", "kz-many-senders", "r2", "rule-2x"] {
            assert!(check_name(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn other_names_are_refused_with_the_reason() {
        let cases = [
            ("", "empty"),
            ("Demo", "lower-case letter"),
            ("2fast", "lower-case letter"),
            ("-demo", "lower-case letter"),
            ("demo_rule", "`_` is not allowed"),
            ("demo rule", "` ` is not allowed"),
            ("démo", "`é` is not allowed"),
            ("demo-", "trailing"),
            ("demo--rule", "doubled"),
            ("fn", "keyword"),
            ("test", "standard library"),
        ];
        for (name, reason) in cases {
            let message = check_name(name)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(message.contains(reason), "{name:?}: {message}");
            assert!(message.contains("kebab-case"), "{name:?}: {message}");
        }
    }

    #[test]
    fn type_names_are_upper_camel_case_and_avoid_taken_names() {
        assert_eq!(type_name("demo-rule"), "DemoRule");
        assert_eq!(type_name("kz-many-senders"), "KzManySenders");
        assert_eq!(type_name("rule-2x"), "Rule2x");
        assert_eq!(type_name("rule"), "RulePlugin");
        assert_eq!(type_name("result"), "ResultPlugin");
        assert_eq!(type_name("h"), "HPlugin");
        assert_eq!(type_name("tested"), "TestedPlugin");
    }

    #[test]
    fn toml_strings_are_escaped() {
        assert_eq!(toml_string("/a/b"), r#""/a/b""#);
        assert_eq!(toml_string(r#"C:\a "b""#), r#""C:\\a \"b\"""#);
        let parsed: toml::Table = format!("p = {}", toml_string("x\\\"\ty"))
            .parse()
            .unwrap_or_default();
        assert_eq!(parsed.get("p").and_then(|v| v.as_str()), Some("x\\\"\ty"));
    }

    #[test]
    fn every_template_renders_without_leftover_placeholders() {
        for (path, _, template) in FILES.iter().chain(PYTHON_FILES).chain(JS_FILES) {
            let text = render(path, template, &vars("demo-rule"));
            assert!(text.is_ok(), "{path}: {text:?}");
        }
    }

    #[test]
    fn the_manifest_is_standalone_with_the_release_profile() {
        let text = render("Cargo.toml", FILES[0].2, &vars("demo-rule")).unwrap_or_default();
        let manifest: toml::Table = text.parse().unwrap_or_default();
        let get = |path: &[&str]| {
            path.iter()
                .try_fold(&toml::Value::Table(manifest.clone()), |v, key| v.get(key))
                .cloned()
        };
        let s = |v: &str| Some(toml::Value::String(v.to_owned()));
        assert_eq!(get(&["package", "name"]), s("demo-rule"));
        assert_eq!(get(&["package", "version"]), s("0.1.0"));
        assert_eq!(get(&["package", "edition"]), s("2024"));
        assert_eq!(
            get(&["dependencies", "qorgan-sdk", "path"]),
            s("/opt/qorgan/plugins/sdk")
        );
        assert_eq!(
            get(&["workspace"]),
            Some(toml::Value::Table(toml::Table::new()))
        );
        assert_eq!(
            get(&["profile", "release", "lto"]),
            Some(toml::Value::Boolean(true))
        );
        assert_eq!(get(&["profile", "release", "panic"]), s("abort"));
        assert_eq!(get(&["lints", "rust", "unsafe_code"]), s("forbid"));
    }

    #[test]
    fn the_default_sdk_is_found() {
        let sdk = find_sdk(None);
        assert!(sdk.as_ref().is_ok_and(|p| p.is_absolute()), "{sdk:?}");
    }

    #[test]
    fn a_directory_that_is_not_the_sdk_is_refused() {
        let message = find_sdk(Some(Path::new(env!("CARGO_MANIFEST_DIR"))))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            message.contains("is not the qorgan plugin SDK"),
            "{message}"
        );
    }

    #[test]
    fn a_non_empty_directory_is_not_overwritten() -> anyhow::Result<()> {
        let temp = tempfile::tempdir()?;
        let dir = temp.path().join("demo-rule");
        fs::create_dir(&dir)?;
        fs::write(dir.join("keep.txt"), "mine")?;
        let error = run("demo-rule", Some(&dir), None, Lang::Rust)
            .err()
            .map(|e| e.to_string());
        assert!(
            error.as_deref().is_some_and(|e| e.contains("not empty")),
            "{error:?}"
        );
        assert_eq!(fs::read_to_string(dir.join("keep.txt"))?, "mine");
        assert!(!dir.join("Cargo.toml").exists());
        Ok(())
    }

    #[test]
    fn an_empty_directory_is_filled() -> anyhow::Result<()> {
        let temp = tempfile::tempdir()?;
        let dir = temp.path().join("demo-rule");
        fs::create_dir(&dir)?;
        run("demo-rule", Some(&dir), None, Lang::Rust)?;
        for (path, _, _) in FILES {
            assert!(dir.join(path).is_file(), "{path}");
        }
        let lib = fs::read_to_string(dir.join("src/lib.rs"))?;
        assert!(lib.contains("pub struct DemoRule"));
        assert!(lib.contains("\"demo-rule\""));
        Ok(())
    }

    #[test]
    fn a_javascript_rule_names_its_sdk_as_a_file_dependency() -> anyhow::Result<()> {
        let temp = tempfile::tempdir()?;
        let dir = temp.path().join("demo-rule");
        run("demo-rule", Some(&dir), None, Lang::Js)?;
        for (path, _, _) in JS_FILES {
            assert!(dir.join(path).is_file(), "{path}");
        }
        let manifest: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(dir.join("package.json"))?)?;
        let sdk = manifest["dependencies"]["qorgan-rule"]
            .as_str()
            .unwrap_or_default();
        assert!(
            sdk.starts_with("file:/") && sdk.ends_with("sdk-js"),
            "{sdk}"
        );
        assert!(fs::read_to_string(dir.join("app.js"))?.contains("class DemoRule extends Rule"));
        let flag =
            format!("qorgan test demo-rule.wasm --fuel-per-transaction {JS_FUEL_PER_TRANSACTION}");
        assert!(fs::read_to_string(dir.join("README.md"))?.contains(&flag));
        Ok(())
    }

    #[test]
    fn a_python_rule_exports_its_class_for_componentize_py() -> anyhow::Result<()> {
        let temp = tempfile::tempdir()?;
        let dir = temp.path().join("demo-rule");
        run("demo-rule", Some(&dir), None, Lang::Python)?;
        for (path, _, _) in PYTHON_FILES {
            assert!(dir.join(path).is_file(), "{path}");
        }
        let app = fs::read_to_string(dir.join("app.py"))?;
        assert!(app.contains("class DemoRule(Rule):") && app.contains("Rule = export(DemoRule)"));
        Ok(())
    }
}
