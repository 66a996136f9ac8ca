//! `qorgan pack build`: from a source pack to a runnable one.

use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, value};

use super::{BuildError, build_component};
use qorgan::pack::{MANIFEST, inside, sha256_hex};

/// A plugin that `build_pack` compiled or digested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltPlugin {
    /// The plugin's id.
    pub id: String,
    /// Where its component was written.
    pub component: PathBuf,
    /// The component's sha256.
    pub sha256: String,
    /// Whether it was compiled from a crate (rather than shipped prebuilt).
    pub compiled: bool,
}

/// Compiles every plugin crate the manifest in `dir` names, writes the
/// components where the manifest says, and records the sha256 of every
/// component and list in `pack.toml` (comments and layout are kept).
pub fn build_pack(dir: &Path) -> Result<Vec<BuiltPlugin>, BuildError> {
    let manifest_path = dir.join(MANIFEST);
    let text =
        std::fs::read_to_string(&manifest_path).map_err(|e| BuildError::io(&manifest_path, e))?;
    let mut doc: DocumentMut =
        text.parse()
            .map_err(|e: toml_edit::TomlError| BuildError::Manifest {
                path: manifest_path.clone(),
                message: e.to_string(),
            })?;
    let mut built = Vec::new();
    if let Some(plugins) = doc
        .get_mut("plugin")
        .and_then(|p| p.as_array_of_tables_mut())
    {
        for (i, table) in plugins.iter_mut().enumerate() {
            let id = table
                .get("id")
                .and_then(|v| v.as_str())
                .ok_or_else(|| BuildError::invalid(format!("plugin[{i}].id"), "missing"))?
                .to_owned();
            let component = table
                .get("component")
                .and_then(|v| v.as_str())
                .ok_or_else(|| BuildError::invalid(format!("plugin `{id}`.component"), "missing"))?
                .to_owned();
            let component_path = inside(dir, &component, &format!("plugin `{id}`.component"))?;
            let source = table
                .get("crate")
                .and_then(|v| v.as_str())
                .map(str::to_owned);
            let bytes = match &source {
                Some(krate) => {
                    let out = build_component(&dir.join(krate))?;
                    if let Some(parent) = component_path.parent() {
                        std::fs::create_dir_all(parent).map_err(|e| BuildError::io(parent, e))?;
                    }
                    std::fs::write(&component_path, &out.component)
                        .map_err(|e| BuildError::io(&component_path, e))?;
                    out.component
                }
                None => std::fs::read(&component_path)
                    .map_err(|e| BuildError::io(&component_path, e))?,
            };
            let sha256 = sha256_hex(&bytes);
            table["sha256"] = value(sha256.clone());
            built.push(BuiltPlugin {
                id,
                component: component_path,
                sha256,
                compiled: source.is_some(),
            });
        }
    }
    if let Some(lists) = doc.get_mut("list").and_then(|l| l.as_array_of_tables_mut()) {
        for (i, table) in lists.iter_mut().enumerate() {
            let file = table
                .get("file")
                .and_then(|v| v.as_str())
                .ok_or_else(|| BuildError::invalid(format!("list[{i}].file"), "missing"))?
                .to_owned();
            let path = inside(dir, &file, &format!("list[{i}].file"))?;
            let bytes = std::fs::read(&path).map_err(|e| BuildError::io(&path, e))?;
            table["sha256"] = value(sha256_hex(&bytes));
        }
    }
    let updated = doc.to_string();
    if updated != text {
        std::fs::write(&manifest_path, updated).map_err(|e| BuildError::io(&manifest_path, e))?;
    }
    Ok(built)
}
