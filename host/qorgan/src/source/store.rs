//! The state directory: the active pack, kept so that a restart brings it
//! back without the network.
//!
//! ```text
//! <state>/
//!   active.json                          which pack is active, and since when
//!   packs/<name>-<serial>-<statement>/   that pack's verified files
//! ```
//!
//! A new pack is written in full into a fresh directory under `packs/`
//! first; then `active.json` is replaced atomically (a temporary file
//! renamed over it), which is the moment the new pack becomes the one a
//! restart restores; only then are older directories removed. A crash at
//! any point leaves either the old record with its directory or the new
//! record with its directory, never a record naming a half-written pack.
//!
//! Nothing here is trusted on the way back in: [`super::Activator::restore`]
//! verifies the persisted pack as it verifies any candidate.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::errors::{RefusalReason, SourceError};
use super::status::ActivePack;
use crate::pack::files::{WalkError, portable_component, regular_files};

/// The record of the active pack, in the state directory.
pub(crate) const RECORD: &str = "active.json";
/// The directory of persisted packs, in the state directory.
pub(crate) const PACKS: &str = "packs";
/// The version of the record's format.
const FORMAT: u32 = 1;

/// `active.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Record {
    /// The format's version.
    pub(crate) format: u32,
    /// The pack's directory under `packs/`.
    pub(crate) dir: String,
    /// The pack.
    pub(crate) pack: ActivePack,
}

/// A state directory.
#[derive(Debug, Clone)]
pub(crate) struct Store {
    root: PathBuf,
}

impl Store {
    /// Opens the state directory `root`, creating it if needed.
    pub(crate) fn open(root: &Path) -> Result<Store, SourceError> {
        let packs = root.join(PACKS);
        std::fs::create_dir_all(&packs).map_err(|e| SourceError::io(&packs, e))?;
        Ok(Store {
            root: root.to_path_buf(),
        })
    }

    /// The state directory.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// The record of the active pack, if one was persisted.
    pub(crate) fn read(&self) -> Result<Option<Record>, RefusalReason> {
        let path = self.root.join(RECORD);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(RefusalReason::Io { path, source: e }),
        };
        let record: Record =
            serde_json::from_str(&text).map_err(|e| RefusalReason::PersistedRecord {
                path: path.clone(),
                problem: e.to_string(),
            })?;
        if record.format != FORMAT {
            return Err(RefusalReason::PersistedRecord {
                path,
                problem: format!(
                    "format {} is not the format {FORMAT} this host writes",
                    record.format
                ),
            });
        }
        Ok(Some(record))
    }

    /// The persisted pack's directory that `record` names: one plain name
    /// under `packs/`, never a path that leads elsewhere.
    pub(crate) fn pack_dir(&self, record: &Record) -> Result<PathBuf, RefusalReason> {
        if let Err(problem) = portable_component(&record.dir) {
            return Err(RefusalReason::PersistedRecord {
                path: self.root.join(RECORD),
                problem: format!("`dir` is `{}`: {problem}", record.dir),
            });
        }
        if record.dir.starts_with('.') {
            return Err(RefusalReason::PersistedRecord {
                path: self.root.join(RECORD),
                problem: format!("`dir` is `{}`, a hidden name", record.dir),
            });
        }
        Ok(self.root.join(PACKS).join(&record.dir))
    }

    /// Persists the verified pack in `from` as the active one.
    pub(crate) fn persist(&self, from: &Path, pack: &ActivePack) -> Result<(), RefusalReason> {
        let packs = self.root.join(PACKS);
        let persist = |path: &Path, source: std::io::Error| RefusalReason::Persist {
            path: path.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(&packs).map_err(|e| persist(&packs, e))?;
        let name = format!(
            "{}-{}-{}",
            pack.name,
            pack.serial,
            pack.statement_sha256
                .get(..16)
                .unwrap_or(&pack.statement_sha256)
        );
        let staging = crate::scratch::ScratchDir::new_in(&packs, ".staging-")
            .map_err(|e| persist(&packs, e))?;
        copy_files(from, staging.path())?;
        let target = packs.join(&name);
        if std::fs::symlink_metadata(&target).is_ok() {
            // The same pack persisted before, e.g. a copy a restore refused:
            // replace it with the one just verified.
            std::fs::remove_dir_all(&target).map_err(|e| persist(&target, e))?;
        }
        let kept = staging.keep();
        if let Err(e) = std::fs::rename(&kept, &target) {
            let _ = std::fs::remove_dir_all(&kept);
            return Err(persist(&target, e));
        }

        let record = Record {
            format: FORMAT,
            dir: name.clone(),
            pack: pack.clone(),
        };
        let json = serde_json::to_vec_pretty(&record)
            .map_err(|e| persist(&self.root.join(RECORD), std::io::Error::other(e)))?;
        write_atomically(&self.root, RECORD, &json)?;

        self.remove_all_but(&name);
        Ok(())
    }

    /// Removes every persisted pack but `keep`; a failure only costs disk
    /// space, so it is logged, not returned.
    fn remove_all_but(&self, keep: &str) {
        let packs = self.root.join(PACKS);
        let Ok(entries) = std::fs::read_dir(&packs) else {
            return;
        };
        for entry in entries.flatten() {
            if entry.file_name() == keep {
                continue;
            }
            let path = entry.path();
            let removed = if entry.file_type().is_ok_and(|t| t.is_dir()) {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            if let Err(e) = removed {
                log::warn!(
                    "cannot remove an old persisted pack: path={} error={e}",
                    path.display()
                );
            }
        }
    }
}

/// Copies the regular files of the pack in `from` into `to`, synced to
/// disk.
fn copy_files(from: &Path, to: &Path) -> Result<(), RefusalReason> {
    let persist = |path: &Path, source: std::io::Error| RefusalReason::Persist {
        path: path.to_path_buf(),
        source,
    };
    let files = regular_files(from, &[]).map_err(|e| match e {
        WalkError::Io { path, source } => persist(&path, source),
        WalkError::Unsupported { path, problem } => {
            persist(&from.join(path), std::io::Error::other(problem))
        }
    })?;
    for file in files {
        let target = to.join(&file.relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| persist(parent, e))?;
        }
        std::fs::copy(&file.path, &target).map_err(|e| persist(&target, e))?;
        std::fs::File::open(&target)
            .and_then(|f| f.sync_all())
            .map_err(|e| persist(&target, e))?;
    }
    Ok(())
}

/// Writes `dir/name` by renaming a synced temporary file over it.
fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), RefusalReason> {
    crate::atomic::replace(&dir.join(name), bytes).map_err(|e| RefusalReason::Persist {
        path: e.path,
        source: e.source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{tempdir, write};
    use time::macros::datetime;

    fn pack(serial: u64, statement: &str) -> ActivePack {
        ActivePack {
            name: "kz-afm".into(),
            version: format!("2025.{serial}.0"),
            serial,
            manifest_sha256: "ab".repeat(32),
            statement_sha256: statement.repeat(32),
            signers: Vec::new(),
            issued_at: None,
            expires_at: None,
            own_cases: 1,
            origin: "test".into(),
            activated_at: datetime!(2025-03-02 08:00 UTC),
        }
    }

    fn store(root: &Path) -> Store {
        match Store::open(root) {
            Ok(s) => s,
            Err(e) => panic!("open: {e}"),
        }
    }

    fn source_pack() -> tempfile::TempDir {
        let dir = tempdir();
        write(dir.path(), "pack.toml", b"name = \"kz-afm\"\n");
        write(dir.path(), "plugins/a.wasm", b"\0asm");
        write(dir.path(), "signatures/0123456789abcdef.sig", b"sig");
        dir
    }

    #[test]
    fn a_new_state_directory_has_no_record() {
        let root = tempdir();
        let store = store(&root.path().join("state"));
        assert!(matches!(store.read(), Ok(None)));
        assert!(root.path().join("state").join(PACKS).is_dir());
    }

    #[test]
    fn a_persisted_pack_is_recorded_and_replaces_the_one_before() {
        let root = tempdir();
        let store = store(root.path());
        let source = source_pack();
        if let Err(e) = store.persist(source.path(), &pack(1, "01")) {
            panic!("persist: {e}");
        }
        let first = match store.read() {
            Ok(Some(r)) => r,
            other => panic!("read: {other:?}"),
        };
        assert_eq!(first.pack, pack(1, "01"));
        assert_eq!(first.dir, format!("kz-afm-1-{}", "01".repeat(8)));
        let dir = match store.pack_dir(&first) {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(
            std::fs::read(dir.join("plugins/a.wasm")).ok(),
            Some(b"\0asm".to_vec())
        );

        if let Err(e) = store.persist(source.path(), &pack(2, "02")) {
            panic!("persist: {e}");
        }
        let second = match store.read() {
            Ok(Some(r)) => r,
            other => panic!("read: {other:?}"),
        };
        assert_eq!(second.pack.serial, 2);
        let left: Vec<String> = std::fs::read_dir(root.path().join(PACKS))
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(left, vec![second.dir.clone()], "older packs are removed");
    }

    #[test]
    fn a_record_naming_a_directory_outside_packs_is_refused() {
        let root = tempdir();
        let store = store(root.path());
        let mut record = Record {
            format: FORMAT,
            dir: "../../etc".into(),
            pack: pack(1, "01"),
        };
        assert!(matches!(
            store.pack_dir(&record),
            Err(RefusalReason::PersistedRecord { .. })
        ));
        record.dir = ".staging-x".into();
        assert!(store.pack_dir(&record).is_err());
    }

    #[test]
    fn a_malformed_record_is_refused_naming_the_file() {
        let root = tempdir();
        let store = store(root.path());
        write(root.path(), RECORD, b"{\"format\": 1, \"dir\": ");
        match store.read() {
            Err(RefusalReason::PersistedRecord { path, .. }) => {
                assert!(path.ends_with(RECORD));
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        write(
            root.path(),
            RECORD,
            br#"{"format": 9, "dir": "x", "pack": {}}"#,
        );
        assert!(store.read().is_err());
    }
}
