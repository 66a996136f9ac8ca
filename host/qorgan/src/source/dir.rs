//! A watched directory: the simplest way for packs to reach a host (a
//! shared volume, an rsync target, a configuration-management push).
//!
//! The directory is either a pack directory itself (a publisher replacing
//! it in place) or an inbox holding pack directories and `.qpack` files.
//! It is polled: no file-system notification API differs between
//! platforms or misses events on network volumes, and a poll every few
//! seconds is nothing next to compiling a pack. Each entry's fingerprint
//! (size, modification time and, on Unix, inode of every file) tells a new
//! or changed candidate from one already offered, without reading any
//! content; each candidate is offered once per fingerprint.
//!
//! Names starting with `.` are ignored, so a publisher can write
//! `.kz-afm.qpack.tmp` and rename it into place. A candidate seen half
//! written is refused (its signatures or digests do not hold) and offered
//! again once it changes.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use sha2::{Digest, Sha256};

use super::Source;
use super::candidate::Candidate;
use super::errors::SourceError;
use crate::pack::MANIFEST;
use crate::pack::files::{WalkError, regular_files};

/// A directory polled for new packs.
#[derive(Debug, Clone)]
pub struct DirSource {
    dir: PathBuf,
    /// Each candidate's path and the fingerprint it was offered with.
    seen: HashMap<PathBuf, String>,
}

/// A candidate found in the directory, with what identifies its state.
struct Found {
    candidate: Candidate,
    fingerprint: String,
    modified: SystemTime,
}

impl DirSource {
    /// A source watching `dir`. Nothing has been seen yet: the first poll
    /// offers whatever is there.
    pub fn new(dir: impl Into<PathBuf>) -> DirSource {
        DirSource {
            dir: dir.into(),
            seen: HashMap::new(),
        }
    }

    /// The watched directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Everything in the directory that could be a pack.
    fn found(&self) -> Result<Vec<Found>, SourceError> {
        if self.dir.join(MANIFEST).is_file() {
            return Ok(vec![found_dir(&self.dir)]);
        }
        let entries = std::fs::read_dir(&self.dir).map_err(|e| SourceError::io(&self.dir, e))?;
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| SourceError::io(&self.dir, e))?;
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let path = entry.path();
            // Follows a symbolic link in the inbox itself; the pack's own
            // files may hold none (the private copy refuses them).
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                if path.join(MANIFEST).is_file() {
                    out.push(found_dir(&path));
                }
            } else if meta.is_file() && Candidate::is_archive_name(&path) {
                out.push(Found {
                    fingerprint: fingerprint(&[(String::new(), &meta)]),
                    modified: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                    candidate: Candidate::Archive(path),
                });
            }
        }
        Ok(out)
    }
}

impl Source for DirSource {
    fn name(&self) -> String {
        format!("directory {}", self.dir.display())
    }

    fn poll(&mut self) -> Result<Vec<Candidate>, SourceError> {
        let found = self.found()?;
        let present: HashSet<PathBuf> = found
            .iter()
            .map(|f| f.candidate.path().to_path_buf())
            .collect();
        // A candidate removed and put back is new again.
        self.seen.retain(|path, _| present.contains(path));
        let mut fresh: Vec<Found> = found
            .into_iter()
            .filter(|f| self.seen.get(f.candidate.path()) != Some(&f.fingerprint))
            .collect();
        for f in &fresh {
            self.seen
                .insert(f.candidate.path().to_path_buf(), f.fingerprint.clone());
        }
        fresh.sort_by(|a, b| {
            a.modified
                .cmp(&b.modified)
                .then_with(|| a.candidate.path().cmp(b.candidate.path()))
        });
        Ok(fresh.into_iter().map(|f| f.candidate).collect())
    }

    fn retry_later(&mut self, candidate: &Candidate) {
        self.seen.remove(candidate.path());
    }
}

/// A pack directory and the fingerprint of all its files.
fn found_dir(dir: &Path) -> Found {
    let modified = std::fs::metadata(dir.join(MANIFEST))
        .and_then(|m| m.modified())
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let fingerprint = match regular_files(dir, &[]) {
        Ok(files) => {
            let metas: Vec<(String, std::fs::Metadata)> = files
                .into_iter()
                .filter_map(|f| std::fs::metadata(&f.path).ok().map(|m| (f.relative, m)))
                .collect();
            let refs: Vec<(String, &std::fs::Metadata)> =
                metas.iter().map(|(p, m)| (p.clone(), m)).collect();
            fingerprint(&refs)
        }
        // Unreadable or unsafe: offered (and refused, saying why) once per
        // distinct problem.
        Err(WalkError::Io { path, source }) => format!("io {}: {source}", path.display()),
        Err(WalkError::Unsupported { path, problem }) => format!("unsupported {path}: {problem}"),
    };
    Found {
        candidate: Candidate::Dir(dir.to_path_buf()),
        fingerprint,
        modified,
    }
}

/// The sha256 of each file's path, size, modification time and inode.
fn fingerprint(files: &[(String, &std::fs::Metadata)]) -> String {
    let mut hasher = Sha256::new();
    for (path, meta) in files {
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        hasher.update(format!(
            "{path}\0{}\0{modified}\0{}\n",
            meta.len(),
            inode(meta)
        ));
    }
    crate::pack::keys::hex(&hasher.finalize())
}

#[cfg(unix)]
fn inode(meta: &std::fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    meta.ino()
}

#[cfg(not(unix))]
fn inode(_meta: &std::fs::Metadata) -> u64 {
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::tempdir;

    fn write(path: &Path, bytes: &[u8]) {
        if let Some(parent) = path.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        if let Err(e) = std::fs::write(path, bytes) {
            panic!("cannot write {}: {e}", path.display());
        }
    }

    fn poll(source: &mut DirSource) -> Vec<PathBuf> {
        match Source::poll(source) {
            Ok(c) => c.iter().map(|c| c.path().to_path_buf()).collect(),
            Err(e) => panic!("poll: {e}"),
        }
    }

    #[test]
    fn each_new_candidate_is_offered_once() {
        let inbox = tempdir();
        let archive = inbox.path().join("kz-afm-1.qpack");
        let pack = inbox.path().join("kz-afm-2");
        write(&archive, b"archive");
        write(&pack.join(MANIFEST), b"name = \"kz-afm\"\n");
        write(&inbox.path().join(".kz-afm-3.qpack.tmp"), b"half");
        write(&inbox.path().join("README.txt"), b"not a pack");
        write(&inbox.path().join("empty/notes.txt"), b"no manifest");
        let mut source = DirSource::new(inbox.path());

        let mut first = poll(&mut source);
        first.sort();
        assert_eq!(first, vec![archive.clone(), pack.clone()]);
        assert!(poll(&mut source).is_empty(), "offered twice");

        write(&archive, b"a longer archive");
        assert_eq!(poll(&mut source), vec![archive.clone()]);
        write(&pack.join("tests/case.yaml"), b"cases: []");
        assert_eq!(poll(&mut source), vec![pack.clone()]);
        assert!(poll(&mut source).is_empty());
    }

    #[test]
    fn a_candidate_handed_back_or_removed_and_restored_is_offered_again() {
        let inbox = tempdir();
        let archive = inbox.path().join("kz-afm.qpack");
        write(&archive, b"archive");
        let mut source = DirSource::new(inbox.path());
        assert_eq!(poll(&mut source).len(), 1);

        source.retry_later(&Candidate::Archive(archive.clone()));
        assert_eq!(poll(&mut source), vec![archive.clone()]);

        let _ = std::fs::remove_file(&archive);
        assert!(poll(&mut source).is_empty());
        write(&archive, b"archive");
        assert_eq!(poll(&mut source), vec![archive]);
    }

    #[test]
    fn a_pack_directory_watched_in_place_is_the_candidate() {
        let pack = tempdir();
        write(&pack.path().join(MANIFEST), b"name = \"kz-afm\"\n");
        write(&pack.path().join("nested.qpack"), b"ignored");
        let mut source = DirSource::new(pack.path());
        assert_eq!(poll(&mut source), vec![pack.path().to_path_buf()]);
        assert!(poll(&mut source).is_empty());
    }

    #[test]
    fn a_missing_directory_is_an_error_naming_it() {
        let root = tempdir();
        let mut source = DirSource::new(root.path().join("absent"));
        match Source::poll(&mut source) {
            Err(SourceError::Io { path, .. }) => assert!(path.ends_with("absent")),
            other => panic!("expected an error, got {other:?}"),
        }
        assert_eq!(
            source.name(),
            format!("directory {}", root.path().join("absent").display())
        );
    }
}
