//! Compiling a rule author's source into a rule component.
//!
//! [`build_component`] detects the rule's language from its directory:
//! `Cargo.toml` is a Rust crate, `package.json` a JavaScript rule,
//! `pyproject.toml` or `app.py` a Python rule. Python and JavaScript are
//! built by their pinned componentizers (the `interpreted` module).
//!
//! A Rust rule plugin is an ordinary Rust library crate (`crate-type = ["cdylib"]`)
//! that uses the plugin SDK. [`build_component`] runs cargo for
//! `wasm32-unknown-unknown` in release mode and wraps the core module it
//! produces into a WebAssembly component with `wit-component`, using the WIT
//! world the SDK embedded in the module. `wasm32-unknown-unknown` has no WASI,
//! so the result imports nothing but the `qorgan:rule` interfaces.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

mod interpreted;
mod pack;

pub use interpreted::{
    COMPONENTIZE_JS, COMPONENTIZE_PY, JCO, PREVIEW2_SHIM, append_custom_section, js_sdk,
    python_sdk, tree_digest,
};
pub use pack::{BuiltPlugin, build_pack};

/// The languages `qorgan build` builds rules from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Language {
    /// A Rust crate using `qorgan-sdk`, built by cargo and wit-component.
    Rust,
    /// A Python rule (`app.py`) using `qorgan_rule`, built by componentize-py.
    Python,
    /// A JavaScript rule (`app.js`) using `qorgan-rule`, built by jco.
    JavaScript,
}

impl std::fmt::Display for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Language::Rust => "rust",
            Language::Python => "python",
            Language::JavaScript => "javascript",
        })
    }
}

impl Language {
    /// The language of the rule in `dir`: `Cargo.toml` → Rust,
    /// `package.json` → JavaScript, `pyproject.toml` or `app.py` → Python.
    pub fn detect(dir: &Path) -> Result<Language, BuildError> {
        if dir.join("Cargo.toml").is_file() {
            Ok(Language::Rust)
        } else if dir.join("package.json").is_file() {
            Ok(Language::JavaScript)
        } else if dir.join("pyproject.toml").is_file() || dir.join("app.py").is_file() {
            Ok(Language::Python)
        } else {
            Err(BuildError::NotARule(dir.to_path_buf()))
        }
    }
}

/// The target plugins are compiled for.
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// Why a plugin crate could not be built into a component, or a source
/// pack into a runnable one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The directory has no `Cargo.toml`.
    #[error("{0}: no Cargo.toml here; `qorgan build` takes a plugin crate's directory")]
    NotACrate(PathBuf),
    /// The directory holds no rule in a language `qorgan build` knows.
    #[error(
        "{0}: no rule here: expected Cargo.toml (Rust), package.json (JavaScript), or \
         pyproject.toml or app.py (Python)"
    )]
    NotARule(PathBuf),
    /// A language's toolchain is missing, is not the pinned version, or
    /// the rule's files are not where it expects them.
    #[error("{0}")]
    Toolchain(String),
    /// A language's componentizer failed; the tail of its output says why.
    #[error("{tool} failed for {dir}:\n{output}")]
    ToolchainFailed {
        /// The command.
        tool: String,
        /// The rule's directory.
        dir: String,
        /// The last lines it printed.
        output: String,
    },
    /// cargo could not be started.
    #[error("cannot run cargo: {0}")]
    Cargo(std::io::Error),
    /// The Rust standard library for the wasm target is not installed.
    #[error("the {WASM_TARGET} target is not installed; run `rustup target add {WASM_TARGET}`")]
    TargetMissing,
    /// cargo failed; the tail of its output says why.
    #[error("cargo build of {krate} failed:\n{output}")]
    CargoFailed {
        /// The crate directory.
        krate: String,
        /// The last lines cargo printed.
        output: String,
    },
    /// cargo succeeded but produced no `.wasm` library for the crate.
    #[error("{0}: cargo built no cdylib; the plugin crate needs `crate-type = [\"cdylib\"]`")]
    NoArtifact(String),
    /// The core module could not be made into a component.
    #[error("cannot make a component of {module}: {message}")]
    Componentize {
        /// The core module file.
        module: String,
        /// wit-component's message.
        message: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A source pack's `pack.toml` is not TOML.
    #[error("{path}: {message}")]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// A source pack's manifest lacks a field, or a field's value cannot
    /// be used.
    #[error("pack.toml: {field}: {problem}")]
    Invalid {
        /// The field (e.g. `plugin[0].id`).
        field: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A path the manifest names is not inside the pack.
    #[error(transparent)]
    Pack(#[from] qorgan::pack::PackError),
}

impl BuildError {
    fn invalid(field: impl Into<String>, problem: impl Into<String>) -> Self {
        BuildError::Invalid {
            field: field.into(),
            problem: problem.into(),
        }
    }

    fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        BuildError::Io {
            path: path.into(),
            source,
        }
    }
}

/// A plugin crate compiled to a component.
#[derive(Debug, Clone)]
pub struct Built {
    /// The crate's package name (e.g. `kz-threshold`).
    pub package: String,
    /// The core module cargo produced.
    pub module: PathBuf,
    /// The component's bytes.
    pub component: Vec<u8>,
    /// The language it was written in.
    pub language: Language,
    /// What the component's `qorgan-toolchain` section records, when
    /// `qorgan build` wrote one (Python and JavaScript).
    pub toolchain: Option<String>,
}

/// Builds the rule in `dir`, in the language [`Language::detect`] finds.
pub fn build_component(dir: &Path) -> Result<Built, BuildError> {
    match Language::detect(dir)? {
        Language::Rust => build_rust(dir),
        Language::Python => interpreted::build_python(dir),
        Language::JavaScript => interpreted::build_javascript(dir),
    }
}

/// Compiles the Rust plugin crate in `crate_dir` to a component.
pub fn build_rust(crate_dir: &Path) -> Result<Built, BuildError> {
    let manifest = crate_dir.join("Cargo.toml");
    if !manifest.is_file() {
        return Err(BuildError::NotACrate(crate_dir.to_path_buf()));
    }
    let manifest = manifest.canonicalize().map_err(|source| BuildError::Io {
        path: manifest.clone(),
        source,
    })?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["build", "--release", "--target", WASM_TARGET])
        .arg("--manifest-path")
        .arg(&manifest)
        .args(["--message-format", "json-render-diagnostics"])
        .stdin(Stdio::null())
        .output()
        .map_err(BuildError::Cargo)?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        if stderr.contains("target may not be installed")
            || stderr.contains("can't find crate for `core`")
        {
            return Err(BuildError::TargetMissing);
        }
        let tail: Vec<&str> = stderr.lines().rev().take(40).collect();
        return Err(BuildError::CargoFailed {
            krate: crate_dir.display().to_string(),
            output: tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
        });
    }
    let (target, module) = find_artifact(&String::from_utf8_lossy(&output.stdout), &manifest)
        .ok_or_else(|| BuildError::NoArtifact(crate_dir.display().to_string()))?;
    let package = package_name(&manifest).unwrap_or(target);
    let core = std::fs::read(&module).map_err(|source| BuildError::Io {
        path: module.clone(),
        source,
    })?;
    let component = componentize(&core).map_err(|message| BuildError::Componentize {
        module: module.display().to_string(),
        message,
    })?;
    Ok(Built {
        package,
        module,
        component,
        language: Language::Rust,
        toolchain: None,
    })
}

/// The `[package] name` of a crate manifest.
fn package_name(manifest: &Path) -> Option<String> {
    let text = std::fs::read_to_string(manifest).ok()?;
    let doc: toml::Table = toml::from_str(&text).ok()?;
    doc.get("package")?.get("name")?.as_str().map(str::to_owned)
}

/// Wraps a core module carrying the SDK's embedded WIT into a component.
pub fn componentize(core: &[u8]) -> Result<Vec<u8>, String> {
    wit_component::ComponentEncoder::default()
        .validate(true)
        .module(core)
        .and_then(|mut encoder| encoder.encode())
        .map_err(|e| format!("{e:#}"))
}

/// Finds the `.wasm` cdylib built for the crate whose manifest is `manifest`
/// among cargo's JSON messages.
fn find_artifact(messages: &str, manifest: &Path) -> Option<(String, PathBuf)> {
    let mut found = None;
    for line in messages.lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if msg["reason"] != "compiler-artifact" {
            continue;
        }
        let same_crate = msg["manifest_path"]
            .as_str()
            .is_some_and(|p| Path::new(p) == manifest);
        let is_cdylib = msg["target"]["kind"]
            .as_array()
            .is_some_and(|kinds| kinds.iter().any(|k| k == "cdylib"));
        if !same_crate || !is_cdylib {
            continue;
        }
        let wasm = msg["filenames"].as_array().and_then(|files| {
            files
                .iter()
                .filter_map(|f| f.as_str())
                .find(|f| f.ends_with(".wasm"))
        });
        if let Some(wasm) = wasm {
            let package = msg["target"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            found = Some((package, PathBuf::from(wasm)));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_is_detected_from_the_files_present() -> Result<(), Box<dyn std::error::Error>> {
        let temp = tempfile::tempdir()?;
        let dir = temp.path();
        assert!(matches!(
            Language::detect(dir),
            Err(BuildError::NotARule(_))
        ));
        std::fs::write(dir.join("app.py"), "")?;
        assert_eq!(Language::detect(dir)?, Language::Python);
        std::fs::write(dir.join("package.json"), "{}")?;
        assert_eq!(Language::detect(dir)?, Language::JavaScript);
        std::fs::write(dir.join("Cargo.toml"), "")?;
        assert_eq!(Language::detect(dir)?, Language::Rust);
        Ok(())
    }

    #[test]
    fn the_cdylib_of_the_named_crate_is_picked() {
        let messages = [
            r#"{"reason":"compiler-artifact","manifest_path":"/w/sdk/Cargo.toml","target":{"kind":["lib"],"name":"sdk"},"filenames":["/t/libsdk.rlib"]}"#,
            r#"{"reason":"compiler-artifact","manifest_path":"/w/rule/Cargo.toml","target":{"kind":["cdylib","rlib"],"name":"rule"},"filenames":["/t/rule.wasm","/t/librule.rlib"]}"#,
            r#"{"reason":"build-finished","success":true}"#,
        ]
        .join("\n");
        let found = find_artifact(&messages, Path::new("/w/rule/Cargo.toml"));
        assert_eq!(found, Some(("rule".into(), PathBuf::from("/t/rule.wasm"))));
        assert_eq!(
            find_artifact(&messages, Path::new("/w/sdk/Cargo.toml")),
            None
        );
    }
}
