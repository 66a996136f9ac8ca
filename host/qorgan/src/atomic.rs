//! Files replaced whole or not at all.
//!
//! A pack's signature, the record of the active pack, a `.qpack` archive in
//! a watched directory: each is read by another process, or by this one
//! after a crash, which must find either the old file or the new one, never
//! half of one. So each is written under a hidden temporary name in the
//! same directory (a directory source skips names with a leading `.`),
//! synced to disk, and only then renamed to its final name, which is atomic
//! within one file system; the directory is synced after the rename, so the
//! new name survives a power cut too.
//!
//! The files written are not secret (signatures, archives, the record of a
//! public pack), so they are readable by all (`0644` on Unix), as a web
//! server publishing them needs.

use std::io::Write;
use std::path::{Path, PathBuf};

/// A file that could not be written, and why.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct WriteError {
    /// The file (or its temporary sibling, or its directory) that failed.
    pub path: PathBuf,
    /// The I/O error; [`std::io::ErrorKind::AlreadyExists`] from
    /// [`create_new`] when the file is already there.
    #[source]
    pub source: std::io::Error,
}

/// Writes `bytes` to `path`, replacing what was there in one step.
pub fn replace(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let temp = staged(path, bytes)?;
    if let Err(source) = std::fs::rename(&temp, path) {
        let _ = std::fs::remove_file(&temp);
        return Err(WriteError {
            path: path.to_path_buf(),
            source,
        });
    }
    sync_parent(path);
    Ok(())
}

/// Writes `bytes` to `path` in one step, unless `path` already exists: then
/// nothing is written and the error's kind is
/// [`std::io::ErrorKind::AlreadyExists`].
pub fn create_new(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let temp = staged(path, bytes)?;
    // A hard link is made only where no file of that name exists, in one
    // step; the temporary name is then dropped.
    let linked = std::fs::hard_link(&temp, path);
    let _ = std::fs::remove_file(&temp);
    linked.map_err(|source| WriteError {
        path: path.to_path_buf(),
        source,
    })?;
    sync_parent(path);
    Ok(())
}

/// The directory `path` is in.
fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Syncs the directory of `path`, so that a rename into it is durable. Best
/// effort: not every platform or file system can open a directory to sync.
fn sync_parent(path: &Path) {
    if let Ok(dir) = std::fs::File::open(parent(path)) {
        let _ = dir.sync_all();
    }
}

/// `bytes` in a synced, hidden temporary file beside `path`: its path.
fn staged(path: &Path, bytes: &[u8]) -> Result<PathBuf, WriteError> {
    let dir = parent(path);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.{}.tmp", crate::scratch::random_suffix()));
    let fail = |source| WriteError {
        path: temp.clone(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o644);
    }
    let mut file = options.open(&temp).map_err(fail)?;
    let written = file.write_all(bytes).and_then(|()| file.sync_all());
    if let Err(source) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(fail(source));
    }
    Ok(temp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_leaves_the_new_bytes_and_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("record.json");
        replace(&path, b"old").unwrap();
        replace(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("record.json")]);
    }

    #[test]
    fn create_new_refuses_an_existing_file_and_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kz-afm-1.qpack");
        create_new(&path, b"first").unwrap();
        let err = create_new(&path, b"second").unwrap_err();
        assert_eq!(err.source.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
    }

    #[test]
    fn a_missing_directory_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent/file");
        let err = replace(&path, b"x").unwrap_err();
        assert!(err.path.starts_with(dir.path().join("absent")), "{err}");
        assert_eq!(err.source.kind(), std::io::ErrorKind::NotFound);
    }
}
