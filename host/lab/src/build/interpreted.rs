//! Building Python and JavaScript rules into rule components.
//!
//! Both languages ship an interpreter inside the component (CPython for
//! componentize-py, SpiderMonkey for jco's StarlingMonkey backend), and both
//! toolchains by default import WASI interfaces the host refuses. So each is
//! run with exactly the flags that drop WASI (`--stub-wasi`,
//! `--disable all`), with its version checked against the one this project
//! pins (other versions were not measured and may differ in what they
//! import), and the component gets a `qorgan-toolchain` custom section
//! recording the language, the toolchain, its flags and the sha256 of the
//! rule's and the SDK's sources. Neither toolchain builds reproducibly (the
//! interpreter's heap is snapshotted at build time), so that record is what
//! ties a component to its source (docs/writing-rules.md).
//!
//! The contract's WIT files are embedded in this crate and written to a
//! temporary directory for each build, so `qorgan build` needs no source
//! tree beside it; the SDKs are found at `QORGAN_SDK_PYTHON` /
//! `QORGAN_SDK_JS`, default this source tree's `plugins/sdk-python` and
//! `plugins/sdk-js`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use qorgan::engine::TOOLCHAIN_SECTION;
use qorgan::pack::sha256_hex;

use super::{BuildError, Built, Language};

/// The componentize-py version rules are built with.
pub const COMPONENTIZE_PY: &str = "0.25.1";
/// The jco version rules are built with (its exact pins, and those of
/// componentize-js and preview2-shim, are in `plugins/sdk-js/package.json`
/// and its lockfile).
pub const JCO: &str = "1.35.0";
/// The componentize-js version jco must use.
pub const COMPONENTIZE_JS: &str = "0.22.0";
/// The preview2-shim version jco must use: later ones make jco's WIT
/// commands fail with "os error 44".
pub const PREVIEW2_SHIM: &str = "0.25.0";

/// The contract's WIT files, as embedded at compile time.
const WIT: &[(&str, &str)] = &[
    ("types.wit", include_str!("../../../../wit/types.wit")),
    ("history.wit", include_str!("../../../../wit/history.wit")),
    ("lists.wit", include_str!("../../../../wit/lists.wit")),
    ("log.wit", include_str!("../../../../wit/log.wit")),
    ("rule.wit", include_str!("../../../../wit/rule.wit")),
];

/// The Python SDK of the source tree this crate was built from.
const DEFAULT_SDK_PYTHON: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../plugins/sdk-python");
/// The JavaScript SDK (and jco, in its `node_modules`) of the source tree
/// this crate was built from.
const DEFAULT_SDK_JS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../plugins/sdk-js");

/// Directories never part of a rule's sources.
const SKIPPED_DIRS: &[&str] = &[
    "node_modules",
    "__pycache__",
    ".git",
    "target",
    ".pytest_cache",
];

/// The Python SDK's directory (`QORGAN_SDK_PYTHON`, else this tree's).
pub fn python_sdk() -> Result<PathBuf, BuildError> {
    sdk_dir(
        "QORGAN_SDK_PYTHON",
        DEFAULT_SDK_PYTHON,
        "qorgan_rule/__init__.py",
    )
}

/// The JavaScript SDK's directory (`QORGAN_SDK_JS`, else this tree's).
pub fn js_sdk() -> Result<PathBuf, BuildError> {
    sdk_dir("QORGAN_SDK_JS", DEFAULT_SDK_JS, "src/component.js")
}

fn sdk_dir(var: &str, default: &str, marker: &str) -> Result<PathBuf, BuildError> {
    let dir = std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from(default), PathBuf::from);
    let canonical = dir
        .canonicalize()
        .map_err(|source| BuildError::io(&dir, source))?;
    if !canonical.join(marker).is_file() {
        return Err(BuildError::Toolchain(format!(
            "{} is not the SDK: it has no {marker} (set {var} to the SDK's directory)",
            canonical.display()
        )));
    }
    Ok(canonical)
}

/// Builds the Python rule in `dir` (module `app`, in `app.py`) with
/// componentize-py.
pub(super) fn build_python(dir: &Path) -> Result<Built, BuildError> {
    let dir = dir
        .canonicalize()
        .map_err(|source| BuildError::io(dir, source))?;
    if !dir.join("app.py").is_file() {
        return Err(BuildError::Toolchain(format!(
            "{}: a Python rule's module is app.py, and there is none",
            dir.display()
        )));
    }
    let sdk = python_sdk()?;
    let version = tool_output(
        Command::new("componentize-py").arg("--version"),
        "componentize-py",
    )?;
    let found = version.split_whitespace().nth(1).unwrap_or_default();
    if found != COMPONENTIZE_PY {
        return Err(BuildError::Toolchain(format!(
            "componentize-py {COMPONENTIZE_PY} is needed, found `{}`; run `pip install componentize-py=={COMPONENTIZE_PY}`",
            version.trim()
        )));
    }
    let work =
        tempfile::tempdir().map_err(|source| BuildError::io(std::env::temp_dir(), source))?;
    let wit = write_wit(work.path())?;
    let out = work.path().join("rule.wasm");
    let mut command = Command::new("componentize-py");
    command
        .current_dir(work.path())
        .arg("-d")
        .arg(&wit)
        .args(["-w", "rule-plugin", "componentize", "app", "-p"])
        .arg(&dir)
        .arg("-p")
        .arg(&sdk)
        .arg("--stub-wasi")
        .arg("-o")
        .arg(&out)
        // No bytecode caches written into the author's or the SDK's tree.
        .env("PYTHONDONTWRITEBYTECODE", "1");
    run(&mut command, "componentize-py", &dir)?;
    let package = pyproject_name(&dir).unwrap_or_else(|| dir_name(&dir));
    let record = Record {
        language: Language::Python,
        toolchain: format!("componentize-py {COMPONENTIZE_PY}"),
        flags: "-w rule-plugin componentize app --stub-wasi".into(),
        sdk: format!(
            "qorgan-rule (Python) sha256 {}",
            tree_digest(&sdk, &["tests"])?
        ),
        source: tree_digest(&dir, &[])?,
    };
    finish(package, &out, &record)
}

/// Builds the JavaScript rule in `dir` (the default export of `app.js`, or
/// of package.json's `main`) with jco.
pub(super) fn build_javascript(dir: &Path) -> Result<Built, BuildError> {
    let dir = dir
        .canonicalize()
        .map_err(|source| BuildError::io(dir, source))?;
    let manifest = read_json(&dir.join("package.json"))?;
    let main = manifest["main"].as_str().unwrap_or("app.js");
    let module = dir.join(main);
    if !module.is_file() {
        return Err(BuildError::Toolchain(format!(
            "{}: the rule's module {main} does not exist (package.json `main`, default app.js)",
            dir.display()
        )));
    }
    let sdk = js_sdk()?;
    check_js_pins(&sdk)?;
    if !dir.join("node_modules").join("qorgan-rule").exists() {
        // The rule names the SDK as a `file:` dependency; installing it is
        // a symbolic link, with nothing fetched.
        let mut install = Command::new("npm");
        install
            .current_dir(&dir)
            .args(["install", "--offline", "--no-audit", "--no-fund"]);
        run(&mut install, "npm install", &dir)?;
    }
    let work =
        tempfile::tempdir().map_err(|source| BuildError::io(std::env::temp_dir(), source))?;
    let wit = write_wit(work.path())?;
    let entry = work.path().join("entry.js");
    let text = format!(
        "import {{ exportRule }} from {};\nimport Rule from {};\nexport const rule = exportRule(Rule);\n",
        js_string(&sdk.join("src").join("component.js"))?,
        js_string(&module)?,
    );
    std::fs::write(&entry, text).map_err(|source| BuildError::io(&entry, source))?;
    let out = work.path().join("rule.wasm");
    let jco = sdk.join("node_modules").join(".bin").join("jco");
    let mut command = Command::new(&jco);
    command
        .current_dir(work.path())
        .arg("componentize")
        .arg(&entry)
        .arg("--wit")
        .arg(&wit)
        .args([
            "--world-name",
            "rule-plugin",
            "--disable",
            "all",
            "--bundle",
            "-o",
        ])
        .arg(&out);
    run(&mut command, "jco componentize", &dir)?;
    let package = manifest["name"]
        .as_str()
        .map_or_else(|| dir_name(&dir), str::to_owned);
    let record = Record {
        language: Language::JavaScript,
        toolchain: format!(
            "jco {JCO}, componentize-js {COMPONENTIZE_JS} (StarlingMonkey), preview2-shim {PREVIEW2_SHIM}"
        ),
        flags: "componentize --world-name rule-plugin --disable all --bundle".into(),
        sdk: format!(
            "qorgan-rule (JavaScript) sha256 {}",
            tree_digest(&sdk, &["test"])?
        ),
        source: tree_digest(&dir, &[])?,
    };
    finish(package, &out, &record)
}

/// Refuses a jco installation other than the pinned one, naming what
/// differs and how to install the pinned one.
fn check_js_pins(sdk: &Path) -> Result<(), BuildError> {
    let modules = sdk.join("node_modules").join("@bytecodealliance");
    let fix = format!("run `npm ci` in {}", sdk.display());
    for (package, wanted) in [
        ("jco", JCO),
        ("componentize-js", COMPONENTIZE_JS),
        ("preview2-shim", PREVIEW2_SHIM),
    ] {
        let path = modules.join(package).join("package.json");
        let found = std::fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
            .and_then(|v| v["version"].as_str().map(str::to_owned));
        match found {
            Some(version) if version == wanted => {}
            Some(version) => {
                return Err(BuildError::Toolchain(format!(
                    "@bytecodealliance/{package} {wanted} is needed, found {version}; {fix}"
                )));
            }
            None => {
                return Err(BuildError::Toolchain(format!(
                    "@bytecodealliance/{package} is not installed; {fix}"
                )));
            }
        }
    }
    Ok(())
}

/// What the `qorgan-toolchain` section records.
struct Record {
    language: Language,
    toolchain: String,
    flags: String,
    sdk: String,
    source: String,
}

impl Record {
    fn text(&self) -> String {
        format!(
            "language {}\ntoolchain {}\nflags {}\nsdk {}\nsource sha256 {}\n",
            self.language, self.toolchain, self.flags, self.sdk, self.source
        )
    }
}

/// Reads the built component and appends the toolchain record.
fn finish(package: String, out: &Path, record: &Record) -> Result<Built, BuildError> {
    let mut component = std::fs::read(out).map_err(|source| BuildError::io(out, source))?;
    let text = record.text();
    append_custom_section(&mut component, TOOLCHAIN_SECTION, text.as_bytes());
    Ok(Built {
        package,
        module: out.to_path_buf(),
        component,
        language: record.language,
        toolchain: Some(text.trim_end().to_owned()),
    })
}

/// Appends a custom section to a component or module: id 0, the size,
/// the name and the data. A custom section may come anywhere, and the
/// engine ignores its content.
pub fn append_custom_section(wasm: &mut Vec<u8>, name: &str, data: &[u8]) {
    let mut body = Vec::with_capacity(name.len() + data.len() + 5);
    leb128(&mut body, name.len());
    body.extend_from_slice(name.as_bytes());
    body.extend_from_slice(data);
    wasm.push(0);
    leb128(wasm, body.len());
    wasm.extend_from_slice(&body);
}

fn leb128(out: &mut Vec<u8>, mut value: usize) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// The sha256 of a source tree: of the sorted list of its files' relative
/// paths and sha256s, leaving out built output (`*.wasm`), dependency and
/// cache directories and the named top-level directories.
pub fn tree_digest(dir: &Path, skip_top: &[&str]) -> Result<String, BuildError> {
    let mut files = Vec::new();
    collect(dir, dir, skip_top, &mut files)?;
    files.sort();
    let mut listing = String::new();
    for (relative, path) in files {
        let bytes = std::fs::read(&path).map_err(|source| BuildError::io(&path, source))?;
        listing.push_str(&format!("{relative}\n{}\n", sha256_hex(&bytes)));
    }
    Ok(sha256_hex(listing.as_bytes()))
}

fn collect(
    root: &Path,
    dir: &Path,
    skip_top: &[&str],
    files: &mut Vec<(String, PathBuf)>,
) -> Result<(), BuildError> {
    let entries = std::fs::read_dir(dir).map_err(|source| BuildError::io(dir, source))?;
    for entry in entries {
        let entry = entry.map_err(|source| BuildError::io(dir, source))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let file_type = entry
            .file_type()
            .map_err(|source| BuildError::io(&path, source))?;
        if file_type.is_dir() {
            let top = dir == root && skip_top.contains(&name.as_str());
            if !top && !SKIPPED_DIRS.contains(&name.as_str()) {
                collect(root, &path, skip_top, files)?;
            }
        } else if file_type.is_file() && !name.ends_with(".wasm") && !name.ends_with(".pyc") {
            let relative = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            files.push((relative, path));
        }
    }
    Ok(())
}

fn write_wit(dir: &Path) -> Result<PathBuf, BuildError> {
    let wit = dir.join("wit");
    std::fs::create_dir_all(&wit).map_err(|source| BuildError::io(&wit, source))?;
    for (name, text) in WIT {
        let path = wit.join(name);
        std::fs::write(&path, text).map_err(|source| BuildError::io(&path, source))?;
    }
    Ok(wit)
}

/// Runs a toolchain command; on failure, the tail of what it printed.
fn run(command: &mut Command, what: &str, dir: &Path) -> Result<(), BuildError> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| BuildError::Toolchain(format!("cannot run {what}: {e}")))?;
    if output.status.success() {
        return Ok(());
    }
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    let tail: Vec<&str> = text.lines().rev().take(40).collect();
    Err(BuildError::ToolchainFailed {
        tool: what.to_owned(),
        dir: dir.display().to_string(),
        output: tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
    })
}

fn tool_output(command: &mut Command, what: &str) -> Result<String, BuildError> {
    let output = command.stdin(Stdio::null()).output().map_err(|e| {
        BuildError::Toolchain(format!(
            "cannot run {what} ({e}); run `pip install componentize-py=={COMPONENTIZE_PY}`"
        ))
    })?;
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn read_json(path: &Path) -> Result<serde_json::Value, BuildError> {
    let bytes = std::fs::read(path).map_err(|source| BuildError::io(path, source))?;
    serde_json::from_slice(&bytes).map_err(|e| BuildError::Manifest {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// `[project] name` of the directory's pyproject.toml, if any.
fn pyproject_name(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("pyproject.toml")).ok()?;
    let doc: toml::Table = toml::from_str(&text).ok()?;
    doc.get("project")?.get("name")?.as_str().map(str::to_owned)
}

fn dir_name(dir: &Path) -> String {
    dir.file_name()
        .map_or_else(|| "rule".to_owned(), |n| n.to_string_lossy().into_owned())
}

/// A path as a JavaScript string literal.
fn js_string(path: &Path) -> Result<String, BuildError> {
    let text = path
        .to_str()
        .ok_or_else(|| BuildError::Toolchain(format!("{} is not UTF-8", path.display())))?;
    serde_json::to_string(text).map_err(|e| BuildError::Toolchain(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_custom_section_is_appended_as_the_format_says() {
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        append_custom_section(&mut wasm, "n", b"abc");
        assert_eq!(&wasm[8..], b"\0\x05\x01nabc");
        let sections: Vec<(String, Vec<u8>)> = wasmparser::Parser::new(0)
            .parse_all(&wasm)
            .filter_map(|p| match p {
                Ok(wasmparser::Payload::CustomSection(s)) => {
                    Some((s.name().to_owned(), s.data().to_vec()))
                }
                _ => None,
            })
            .collect();
        assert_eq!(sections, vec![("n".to_owned(), b"abc".to_vec())]);
    }

    #[test]
    fn long_sections_use_multi_byte_sizes() {
        let mut out = Vec::new();
        leb128(&mut out, 300);
        assert_eq!(out, vec![0xac, 0x02]);
    }

    #[test]
    fn the_tree_digest_ignores_built_and_cached_files_but_not_sources() -> Result<(), BuildError> {
        let temp = tempfile::tempdir().map_err(|e| BuildError::io("tmp", e))?;
        let dir = temp.path();
        let write = |p: &str, t: &str| {
            let path = dir.join(p);
            if let Some(parent) = path.parent() {
                let _ = std::fs::create_dir_all(parent);
            }
            std::fs::write(path, t).map_err(|e| BuildError::io(p, e))
        };
        write("app.py", "x = 1")?;
        let first = tree_digest(dir, &[])?;
        write("rule.wasm", "built")?;
        write("__pycache__/app.pyc", "cache")?;
        write("node_modules/x/index.js", "dep")?;
        assert_eq!(tree_digest(dir, &[])?, first);
        write("app.py", "x = 2")?;
        assert_ne!(tree_digest(dir, &[])?, first);
        Ok(())
    }

    #[test]
    fn the_embedded_wit_is_the_contract() {
        let mut resolve = wit_parser::Resolve::default();
        let temp = tempfile::tempdir().ok();
        let parsed = temp
            .as_ref()
            .ok_or(())
            .and_then(|t| write_wit(t.path()).map_err(|_| ()))
            .and_then(|dir| resolve.push_dir(&dir).map_err(|_| ()));
        assert!(parsed.is_ok());
        assert!(resolve.worlds.iter().any(|(_, w)| w.name == "rule-plugin"));
    }
}
