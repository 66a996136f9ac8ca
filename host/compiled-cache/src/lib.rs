//! An on-disk cache of compiled rule components.
//!
//! # Why
//!
//! Compiling a component is the expensive part of loading a pack: a few
//! milliseconds for a Rust rule, about ten seconds for a 15 MB Python or
//! JavaScript one. A host that restarts, or a command that loads the same
//! pack again, should compile each component once, not at every start.
//!
//! # Safety: what is deserialized, and why that is sound
//!
//! A compiled artifact is native code: wasmtime's
//! [`Component::deserialize`] is `unsafe` because loading bytes that
//! wasmtime did not produce is arbitrary code execution. This cache only
//! ever deserializes artifacts it wrote itself:
//!
//! - each entry is named by the component's sha256 and the engine's
//!   compatibility hash ([`wasmtime::Engine::precompile_compatibility_hash`]):
//!   an artifact is only looked up for the exact bytes and the exact engine
//!   configuration that produced it;
//! - each entry starts with a header naming this format, the component's
//!   sha256 and the sha256 of the artifact that follows; a file whose header
//!   or artifact digest does not match (truncated, corrupted, written by
//!   something else) is ignored and the component compiled afresh;
//! - entries are written to a temporary file and renamed into place, so a
//!   reader never sees a half-written one;
//! - the directory must not be writable by other users (on Unix the cache
//!   refuses a group- or world-writable directory): whoever can write it can
//!   make the host run code, exactly as whoever can write the host's binary.
//!
//! wasmtime itself checks, on top of this, that the artifact was compiled by
//! the same wasmtime version with compatible settings.

use std::fs;
use std::hash::Hasher;
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;

/// The first line of every entry: the format, and the version of it.
const MAGIC: &[u8] = b"qorgan-compiled-component v1\n";

/// Why the cache could not be opened or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// The directory could not be created or read.
    #[error("compiled-component cache {dir}: {source}")]
    Io {
        /// The cache directory.
        dir: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// Other users may write the directory, so its entries cannot be
    /// trusted to be the host's own.
    #[error(
        "compiled-component cache {dir} is writable by other users (mode {mode:o}); it holds native code the host runs, so it must be writable only by the host's user"
    )]
    NotPrivate {
        /// The cache directory.
        dir: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// wasmtime could not serialize the compiled component.
    #[error("cannot serialize a compiled component: {0}")]
    Serialize(String),
}

/// A directory of compiled components for one engine configuration.
#[derive(Debug, Clone)]
pub struct CompiledCache {
    dir: PathBuf,
    /// Hex sha256 of the engine's compatibility hash.
    engine_key: String,
}

/// Feeds what `Hash` writes into sha256: a stable digest of the engine's
/// compatibility hash (std's `DefaultHasher` promises no stability).
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn finish(&self) -> u64 {
        0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

impl CompiledCache {
    /// Opens (creating it, private to the current user) the cache directory
    /// `dir` for components compiled by `engine`.
    pub fn open(dir: &Path, engine: &wasmtime::Engine) -> Result<CompiledCache, CacheError> {
        let io = |source| CacheError::Io {
            dir: dir.to_owned(),
            source,
        };
        create_private_dir(dir).map_err(io)?;
        check_private(dir)?;
        let mut hasher = Sha256Hasher(Sha256::new());
        std::hash::Hash::hash(&engine.precompile_compatibility_hash(), &mut hasher);
        Ok(CompiledCache {
            dir: dir.to_owned(),
            engine_key: hex(&hasher.0.finalize()),
        })
    }

    /// The cache's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn entry_path(&self, sha256: &str) -> Option<PathBuf> {
        // The digest names a file: only lower-case hex may.
        let is_hex = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        };
        if !is_hex(sha256) {
            return None;
        }
        let engine = self.engine_key.get(..16)?;
        Some(self.dir.join(format!("{sha256}-{engine}.cwasm")))
    }

    /// The compiled component for the component whose sha256 is `sha256`,
    /// if this cache holds a sound entry for it; `None` otherwise (the
    /// caller compiles). A damaged entry is logged and ignored.
    pub fn load(&self, engine: &wasmtime::Engine, sha256: &str) -> Option<Component> {
        let path = self.entry_path(sha256)?;
        let bytes = fs::read(&path).ok()?;
        let Some(artifact) = self.verified_artifact(&bytes, sha256) else {
            log::warn!(
                "ignoring compiled-component cache entry {}: its header or digest does not match",
                path.display()
            );
            return None;
        };
        // SAFETY: `artifact` is the output of `Component::serialize` by an
        // engine with this engine's compatibility hash, written by
        // `CompiledCache::store` into a directory only this user may write
        // (checked in `open`), under a header recording the component's
        // digest and the artifact's own sha256, both verified just above.
        // wasmtime additionally checks its version and settings.
        #[allow(unsafe_code)]
        let component = unsafe { Component::deserialize(engine, artifact) };
        match component {
            Ok(component) => Some(component),
            Err(e) => {
                log::warn!(
                    "ignoring compiled-component cache entry {}: {e:#}",
                    path.display()
                );
                None
            }
        }
    }

    /// The artifact inside an entry, when its header names this format,
    /// this component, this engine and the artifact's own digest.
    fn verified_artifact<'b>(&self, entry: &'b [u8], sha256: &str) -> Option<&'b [u8]> {
        let rest = entry.strip_prefix(MAGIC)?;
        let header = format!("{sha256}\n{}\n", self.engine_key);
        let rest = rest.strip_prefix(header.as_bytes())?;
        let (digest, artifact) = rest.split_at_checked(65)?;
        let digest = digest.strip_suffix(b"\n")?;
        (digest == sha256_hex(artifact).as_bytes()).then_some(artifact)
    }

    /// Stores the compiled form of the component whose sha256 is `sha256`.
    pub fn store(&self, sha256: &str, component: &Component) -> Result<(), CacheError> {
        let Some(path) = self.entry_path(sha256) else {
            return Ok(());
        };
        let artifact = component
            .serialize()
            .map_err(|e| CacheError::Serialize(format!("{e:#}")))?;
        let io = |source| CacheError::Io {
            dir: self.dir.clone(),
            source,
        };
        let mut file = tempfile_in(&self.dir).map_err(io)?;
        let header = format!("{sha256}\n{}\n{}\n", self.engine_key, sha256_hex(&artifact));
        let written = file
            .1
            .write_all(MAGIC)
            .and_then(|()| file.1.write_all(header.as_bytes()))
            .and_then(|()| file.1.write_all(&artifact))
            .and_then(|()| file.1.sync_all())
            .and_then(|()| fs::rename(&file.0, &path));
        if written.is_err() {
            let _ = fs::remove_file(&file.0);
        }
        written.map_err(io)
    }
}

/// A new file in `dir` with a name no other writer uses.
fn tempfile_in(dir: &Path) -> std::io::Result<(PathBuf, fs::File)> {
    let pid = std::process::id();
    for attempt in 0u32..1000 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = dir.join(format!(".tmp-{pid}-{nanos}-{attempt}"));
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(file) => return Ok((path, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("no free temporary file name"))
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)
}

#[cfg(unix)]
fn check_private(dir: &Path) -> Result<(), CacheError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = fs::metadata(dir).map_err(|source| CacheError::Io {
        dir: dir.to_owned(),
        source,
    })?;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(CacheError::NotPrivate {
            dir: dir.to_owned(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_dir: &Path) -> Result<(), CacheError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> wasmtime::Engine {
        let mut config = wasmtime::Config::new();
        config.wasm_component_model(true);
        match wasmtime::Engine::new(&config) {
            Ok(engine) => engine,
            Err(e) => panic!("engine: {e:#}"),
        }
    }

    fn component_bytes() -> Vec<u8> {
        match wat::parse_str(
            "(component (core module (func (export \"f\") (result i32) (i32.const 7))))",
        ) {
            Ok(bytes) => bytes,
            Err(e) => panic!("fixture: {e}"),
        }
    }

    fn open(dir: &Path, engine: &wasmtime::Engine) -> CompiledCache {
        match CompiledCache::open(dir, engine) {
            Ok(cache) => cache,
            Err(e) => panic!("open: {e}"),
        }
    }

    #[test]
    fn a_stored_component_is_loaded_back_for_the_same_digest_only() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let engine = engine();
        let bytes = component_bytes();
        let sha = sha256_hex(&bytes);
        let cache = open(&dir.path().join("cache"), &engine);
        assert!(cache.load(&engine, &sha).is_none(), "empty cache");
        let component =
            Component::new(&engine, &bytes).unwrap_or_else(|e| panic!("compile: {e:#}"));
        if let Err(e) = cache.store(&sha, &component) {
            panic!("store: {e}");
        }
        assert!(cache.load(&engine, &sha).is_some());
        let other = sha256_hex(b"other");
        assert!(cache.load(&engine, &other).is_none());
        assert!(cache.load(&engine, "../../etc/passwd").is_none());
    }

    #[test]
    fn a_damaged_entry_is_ignored_not_deserialized() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let engine = engine();
        let bytes = component_bytes();
        let sha = sha256_hex(&bytes);
        let cache = open(dir.path(), &engine);
        let component =
            Component::new(&engine, &bytes).unwrap_or_else(|e| panic!("compile: {e:#}"));
        if let Err(e) = cache.store(&sha, &component) {
            panic!("store: {e}");
        }
        let Some(path) = cache.entry_path(&sha) else {
            panic!("no entry path");
        };
        let mut entry = fs::read(&path).unwrap_or_else(|e| panic!("{e}"));
        if let Some(last) = entry.last_mut() {
            *last ^= 0xff;
        }
        fs::write(&path, &entry).unwrap_or_else(|e| panic!("{e}"));
        assert!(cache.load(&engine, &sha).is_none(), "flipped byte");
        entry.truncate(entry.len() / 2);
        fs::write(&path, &entry).unwrap_or_else(|e| panic!("{e}"));
        assert!(cache.load(&engine, &sha).is_none(), "truncated");
    }

    #[cfg(unix)]
    #[test]
    fn a_directory_other_users_may_write_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777))
            .unwrap_or_else(|e| panic!("{e}"));
        match CompiledCache::open(dir.path(), &engine()) {
            Err(CacheError::NotPrivate { mode, .. }) => assert_eq!(mode, 0o777),
            other => panic!("not refused: {other:?}"),
        }
    }
}
