//! The regular files of a pack directory, walked the same way by signing
//! and by archiving, so that what a signature covers is what an archive
//! carries.
//!
//! A pack holds only directories and regular files with portable names:
//! a symbolic link could point outside the pack, and a device or FIFO is
//! not content; both are refused rather than skipped, so nothing in a pack
//! directory is silently left unsigned or untransported.

use std::path::{Path, PathBuf};

/// A regular file of a pack.
#[derive(Debug, Clone)]
pub(crate) struct PackFile {
    /// Its path relative to the pack, with `/` between components.
    pub relative: String,
    /// Its path on disk.
    pub path: PathBuf,
}

/// Why a pack directory could not be walked.
#[derive(Debug)]
pub(crate) enum WalkError {
    /// A directory or file could not be read.
    Io {
        /// The directory or file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// An entry that a pack may not hold.
    Unsupported {
        /// Its path relative to the pack.
        path: String,
        /// Why.
        problem: &'static str,
    },
}

/// Whether `name` may be a path component in a pack: not empty, not `.`
/// or `..`, without `/`, `\` or control characters.
pub(crate) fn portable_component(name: &str) -> Result<(), &'static str> {
    if name.is_empty() || name == "." || name == ".." {
        return Err("an empty, `.` or `..` path component");
    }
    if name
        .chars()
        .any(|c| c.is_control() || c == '\\' || c == '/')
    {
        return Err("a file name with a control character, `\\` or `/`");
    }
    Ok(())
}

/// Every regular file under `root`, sorted by relative path (byte order),
/// leaving out the top-level entries named in `skip_top`.
pub(crate) fn regular_files(root: &Path, skip_top: &[&str]) -> Result<Vec<PackFile>, WalkError> {
    let mut out = Vec::new();
    walk(root, "", skip_top, &mut out)?;
    out.sort_by(|a, b| a.relative.cmp(&b.relative));
    Ok(out)
}

fn walk(
    root: &Path,
    prefix: &str,
    skip_top: &[&str],
    out: &mut Vec<PackFile>,
) -> Result<(), WalkError> {
    let dir = root.join(prefix);
    let io = |path: &Path, source| WalkError::Io {
        path: path.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(&dir).map_err(|e| io(&dir, e))? {
        let entry = entry.map_err(|e| io(&dir, e))?;
        let raw_name = entry.file_name();
        let Some(name) = raw_name.to_str() else {
            return Err(WalkError::Unsupported {
                path: format!("{prefix}{}", raw_name.to_string_lossy()),
                problem: "a file name that is not UTF-8",
            });
        };
        if prefix.is_empty() && skip_top.contains(&name) {
            continue;
        }
        let relative = format!("{prefix}{name}");
        portable_component(name).map_err(|problem| WalkError::Unsupported {
            path: relative.clone(),
            problem,
        })?;
        let kind = entry.file_type().map_err(|e| io(&entry.path(), e))?;
        if kind.is_dir() {
            walk(root, &format!("{relative}/"), skip_top, out)?;
        } else if kind.is_file() {
            out.push(PackFile {
                relative,
                path: entry.path(),
            });
        } else {
            return Err(WalkError::Unsupported {
                path: relative,
                problem: if kind.is_symlink() {
                    "a symbolic link; a pack holds only regular files and directories"
                } else {
                    "not a regular file; a pack holds only regular files and directories"
                },
            });
        }
    }
    Ok(())
}
