//! Private scratch directories: where a pack is extracted, copied or
//! staged before it is trusted, removed when dropped.
//!
//! Each gets a name no other process can guess (random bits from the
//! operating system), is created atomically (it must not exist before), is
//! readable only by this user (`0700` on Unix), and is removed with
//! everything in it when dropped, unless [`ScratchDir::keep`] hands it over
//! (to be renamed into place).

use std::path::{Path, PathBuf};

/// A directory of this process's own, removed when dropped.
#[derive(Debug)]
pub struct ScratchDir {
    path: Option<PathBuf>,
}

impl ScratchDir {
    /// A new directory in the system's temporary directory, its name
    /// starting with `prefix`.
    pub fn new(prefix: &str) -> std::io::Result<ScratchDir> {
        ScratchDir::new_in(&std::env::temp_dir(), prefix)
    }

    /// A new directory in `parent`, its name starting with `prefix`.
    pub fn new_in(parent: &Path, prefix: &str) -> std::io::Result<ScratchDir> {
        let mut last = None;
        for _ in 0..16 {
            let path = parent.join(format!("{prefix}{}", random_suffix()));
            let mut builder = std::fs::DirBuilder::new();
            #[cfg(unix)]
            {
                use std::os::unix::fs::DirBuilderExt;
                builder.mode(0o700);
            }
            match builder.create(&path) {
                Ok(()) => return Ok(ScratchDir { path: Some(path) }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::other("no free scratch name")))
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.path.as_deref().unwrap_or(Path::new(""))
    }

    /// Keeps the directory (it is no longer removed on drop) and returns
    /// its path.
    pub fn keep(mut self) -> PathBuf {
        self.path.take().unwrap_or_default()
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            let _ = std::fs::remove_dir_all(path);
        }
    }
}

/// 16 hex digits from the operating system's random source; should that
/// fail, from the time, the process id and a counter, which still never
/// repeat within this process (creation refuses a name that exists).
pub(crate) fn random_suffix() -> String {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let mixed = u64::from(nanos)
            ^ (u64::from(std::process::id()) << 32)
            ^ COUNTER.fetch_add(1, Ordering::Relaxed).rotate_left(17);
        bytes = mixed.to_le_bytes();
    }
    crate::pack::keys::hex(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scratch_dir_is_private_and_removed_when_dropped() {
        let parent = tempfile::tempdir().unwrap();
        let scratch = ScratchDir::new_in(parent.path(), ".staging-").unwrap();
        let path = scratch.path().to_path_buf();
        std::fs::write(path.join("file"), b"x").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        drop(scratch);
        assert!(!path.exists());
    }

    #[test]
    fn a_kept_scratch_dir_stays() {
        let parent = tempfile::tempdir().unwrap();
        let kept = ScratchDir::new_in(parent.path(), "x-").unwrap().keep();
        assert!(kept.is_dir());
    }

    #[test]
    fn two_scratch_dirs_never_share_a_name() {
        let parent = tempfile::tempdir().unwrap();
        let a = ScratchDir::new_in(parent.path(), "p-").unwrap();
        let b = ScratchDir::new_in(parent.path(), "p-").unwrap();
        assert_ne!(a.path(), b.path());
    }
}
