//! Helpers shared by this crate's unit tests.

use std::path::Path;

/// A fresh temporary directory.
pub(crate) fn tempdir() -> tempfile::TempDir {
    match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("tempdir: {e}"),
    }
}

/// Writes `dir/name`, creating its parent directories.
pub(crate) fn write(dir: &Path, name: &str, bytes: &[u8]) {
    if let Some(parent) = dir.join(name).parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    if let Err(e) = std::fs::write(dir.join(name), bytes) {
        panic!("cannot write {name}: {e}");
    }
}
