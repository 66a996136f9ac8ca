//! Test support for the service and the decision log: a real file system
//! that really fills up or turns read-only, for the tests that prove a
//! failing disk acknowledges nothing.
//!
//! Built for this crate's own tests and, with the `test-support` feature,
//! for the end-to-end tests; never part of a production build.

use std::io::Write as _;
use std::path::Path;
use std::process::Command;

/// Why a test that mounts a file system is `#[ignore]`d unless asked for:
/// only root can mount. The README's test command runs as root and passes
/// `--include-ignored`.
pub const NEEDS_ROOT: &str = "needs root to mount a tmpfs; run as root with --include-ignored";

/// A tmpfs mounted on a fresh directory, unmounted (lazily, so even with a
/// file still open) when dropped.
#[derive(Debug)]
pub struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (as `mount -o size=` takes it).
    ///
    /// # Panics
    ///
    /// When not run as root, or when the mount fails: a test that needs a
    /// real full disk must not pass without one.
    pub fn mount(size: &str) -> Tmpfs {
        let uid = Command::new("id").arg("-u").output();
        assert!(
            uid.is_ok_and(|o| o.stdout.trim_ascii() == b"0"),
            "this test {NEEDS_ROOT}"
        );
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => panic!("tempdir: {e}"),
        };
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status();
        assert!(
            status.is_ok_and(|s| s.success()),
            "mount -t tmpfs failed as root"
        );
        Tmpfs { dir }
    }

    /// The mounted directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Remounts the file system with `mode` (`ro` or `rw`), as the kernel
    /// turns a failing disk read-only.
    ///
    /// # Panics
    ///
    /// When the remount fails.
    pub fn remount(&self, mode: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,{mode}")])
            .arg(self.path())
            .status();
        assert!(
            status.is_ok_and(|s| s.success()),
            "mount -o remount,{mode} failed"
        );
    }

    /// Writes the file `name` until the file system is full.
    ///
    /// # Panics
    ///
    /// When the file cannot be created.
    pub fn fill(&self, name: &str) {
        let mut file = match std::fs::File::create(self.path().join(name)) {
            Ok(f) => f,
            Err(e) => panic!("cannot create the filler: {e}"),
        };
        let chunk = vec![0u8; 4096];
        while file.write_all(&chunk).is_ok() {}
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.path()).status();
    }
}
