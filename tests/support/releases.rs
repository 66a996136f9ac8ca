//! Signed releases of the reference pack and a bank's host to offer them
//! to, shared by the activation and distribution tests: the reference pack
//! is built once per test binary, and each release is a copy of it with a
//! serial (and from 2 on a version and a parameter) of its own, signed by
//! the regulator's keys.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use qorgan::Engine;
use qorgan::pack::{SecretKey, TrustConfig, sign_pack};
use qorgan::source::{Activated, Activator, Candidate, Refusal, Status};
use time::OffsetDateTime;
use time::macros::datetime;

use crate::fixtures::{reference_pack_built, tempdir, tx, write};

/// The clock's time in most tests: after the reference pack's `issued_at`
/// (2025-03-01), well before its `expires_at` (2030-12-31).
pub const NOW: OffsetDateTime = datetime!(2025-06-01 00:00 UTC);

/// The value, or a panic naming `what` failed and why.
pub fn ok<T, E: std::fmt::Display>(result: Result<T, E>, what: &str) -> T {
    match result {
        Ok(value) => value,
        Err(e) => panic!("{what}: {e}"),
    }
}

/// Three signing keys: the regulator's two, and one nobody trusts.
pub struct Keys {
    /// The regulator's first key.
    pub a: SecretKey,
    /// The regulator's second key.
    pub b: SecretKey,
    /// A key no host trusts.
    pub stranger: SecretKey,
}

/// The keys, generated once per test binary.
pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| Keys {
        a: ok(SecretKey::generate(Some("afm-a")), "key a"),
        b: ok(SecretKey::generate(Some("afm-b")), "key b"),
        stranger: ok(SecretKey::generate(Some("stranger")), "key stranger"),
    })
}

/// Copies a directory with everything in it (components included).
pub fn copy_all(from: &Path, to: &Path) {
    ok(std::fs::create_dir_all(to), "create dir");
    for entry in ok(std::fs::read_dir(from), "read dir") {
        let entry = ok(entry, "dir entry");
        let target = to.join(entry.file_name());
        if ok(entry.file_type(), "file type").is_dir() {
            copy_all(&entry.path(), &target);
        } else {
            ok(std::fs::copy(entry.path(), &target), "copy");
        }
    }
}

/// The reference pack, built once per test binary (unsigned, serial 1),
/// in the target directory's `tmp/`, under the test binary's name.
pub fn built_base() -> &'static Path {
    static BASE: OnceLock<PathBuf> = OnceLock::new();
    BASE.get_or_init(|| {
        // The test executable is target/<profile>/deps/<name>-<hash>.
        let exe = std::env::current_exe().unwrap_or_default();
        let name = exe
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "e2e".into());
        let target = exe
            .parent()
            .and_then(Path::parent)
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_else(std::env::temp_dir);
        let base = target.join("tmp").join(format!("{name}-reference-pack"));
        let _ = std::fs::remove_dir_all(&base);
        let built = reference_pack_built();
        copy_all(built.path(), &base);
        // Every activation runs the pack's 313 cases, and these tests run
        // side by side on a machine that may be compiling something else:
        // a plugin call's wall-clock deadline would then measure the
        // contention, not the plugin. The tests are about what activation
        // checks, so their packs get a generous deadline.
        edit(
            &base.join("pack.toml"),
            "call_timeout_ms = 100\n",
            "call_timeout_ms = 5000\n",
        );
        base
    })
}

/// Replaces the first `from` in the file at `path` with `to`.
pub fn edit(path: &Path, from: &str, to: &str) {
    let text = ok(std::fs::read_to_string(path), "read for edit");
    assert!(text.contains(from), "{} has no `{from}`", path.display());
    write(path, text.replacen(from, to, 1).as_bytes());
}

/// A signed release of the reference pack in `root/name`: serial `serial`
/// (from 2 on also a new version and a changed parameter), changed by
/// `change` before `signers` sign it, one after another.
pub fn release(
    root: &Path,
    name: &str,
    serial: u64,
    signers: &[&SecretKey],
    change: impl FnOnce(&Path),
) -> PathBuf {
    let dir = root.join(name);
    copy_all(built_base(), &dir);
    let manifest = dir.join("pack.toml");
    edit(&manifest, "serial = 1\n", &format!("serial = {serial}\n"));
    if serial >= 2 {
        edit(
            &manifest,
            "version = \"2025.3.0\"",
            &format!("version = \"2025.3.{}\"", serial - 1),
        );
        edit(
            &manifest,
            "recycle_after_calls = 100000",
            &format!("recycle_after_calls = {}", 100_000 - serial),
        );
    }
    change(&dir);
    for key in signers {
        ok(sign_pack(&dir, std::slice::from_ref(*key)), "sign");
    }
    dir
}

/// A release changed in nothing but its serial (and, from 2 on, version).
pub fn unchanged(_: &Path) {}

/// Serial 1, signed by both regulator keys.
pub fn v1(root: &Path) -> PathBuf {
    release(root, "v1", 1, &[&keys().a, &keys().b], unchanged)
}

/// Serial 2, signed by both regulator keys.
pub fn v2(root: &Path) -> PathBuf {
    release(root, "v2", 2, &[&keys().a, &keys().b], unchanged)
}

/// Trusts both regulator keys, requiring `m` signatures.
pub fn trust_both(m: usize) -> TrustConfig {
    ok(
        TrustConfig::builder()
            .trust(keys().a.public().clone())
            .trust(keys().b.public().clone())
            .require(m)
            .build(),
        "trust",
    )
}

/// A bank's host: an engine, an activator with a settable clock, a state
/// directory, and a directory for the packs it is offered.
pub struct Host {
    /// The activator, on its own engine.
    pub activator: Arc<Activator>,
    clock: Arc<Mutex<OffsetDateTime>>,
    /// The state directory.
    pub state: PathBuf,
    _state_root: Option<tempfile::TempDir>,
    /// A directory for the packs the host is offered.
    pub packs: tempfile::TempDir,
}

impl Host {
    /// A host trusting `trust`, with a fresh state directory.
    pub fn new(trust: TrustConfig) -> Host {
        let state_root = tempdir();
        let state = state_root.path().join("state");
        let mut host = Host::with_state(trust, &state);
        host._state_root = Some(state_root);
        host
    }

    /// A host whose state directory outlives it (for restarts).
    pub fn with_state(trust: TrustConfig, state: &Path) -> Host {
        let engine = ok(Engine::builder().max_instances(48).build(), "engine");
        let clock = Arc::new(Mutex::new(NOW));
        let read = Arc::clone(&clock);
        let activator = ok(
            Activator::builder(engine, trust, state)
                .clock(move || *read.lock().unwrap_or_else(|p| p.into_inner()))
                .build(),
            "activator",
        );
        Host {
            activator: Arc::new(activator),
            clock,
            state: state.to_path_buf(),
            _state_root: None,
            packs: tempdir(),
        }
    }

    /// Sets the activator's clock.
    pub fn set_clock(&self, now: OffsetDateTime) {
        *self.clock.lock().unwrap_or_else(|p| p.into_inner()) = now;
    }

    /// The engine packs are activated on.
    pub fn engine(&self) -> &Engine {
        self.activator.engine()
    }

    /// Offers the pack directory or archive at `path`.
    pub fn offer(&self, path: &Path) -> Result<Activated, Refusal> {
        self.activator.offer(Candidate::from_path(path))
    }

    /// Offers `path` and expects it to be activated.
    pub fn activate(&self, path: &Path) -> Activated {
        ok(self.offer(path), "offer")
    }

    /// Offers `path` and expects it to be refused.
    pub fn refuse(&self, path: &Path) -> Refusal {
        match self.offer(path) {
            Ok(activated) => panic!("activated {:?}, expected a refusal", activated.pack),
            Err(refusal) => refusal,
        }
    }

    /// The activator's status.
    pub fn status(&self) -> Status {
        self.activator.status()
    }
}

/// The serial of the pack that decides a transaction now.
pub fn deciding_serial(engine: &Engine) -> u64 {
    let decision = ok(
        engine.evaluate(&tx("t-1", "card-topup", "600000.00", "061211600012", &[])),
        "evaluate",
    );
    decision.pack.serial
}
