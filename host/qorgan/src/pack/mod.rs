//! Rule packs: the unit a regulator ships and a bank activates.
//!
//! A pack is a directory: `pack.toml` (the [`Manifest`]), the plugins'
//! WebAssembly components, the reference lists and the pack's own test
//! cases. [`Pack::read`] reads and checks one: every path stays inside the
//! pack, every digest the manifest records matches its file, the pack has
//! not expired and this host is new enough for it. What it returns is inert
//! data; the engine compiles it ([`crate::engine::Engine::prepare`]).
//!
//! `qorgan pack build` (in the `qorgan-lab` crate) turns a *source* pack,
//! whose manifest names plugin crates, into a runnable one: it compiles each
//! crate to a component and records every file's digest in `pack.toml`.
//!
//! A built pack is then signed ([`signature`], with [`keys`]) and carried
//! as one `.qpack` file ([`archive`]). A bank trusts public keys
//! ([`TrustConfig`]) and verifies a pack's signatures before loading it;
//! `docs/packs.md` specifies the formats.

pub mod archive;
mod errors;
pub(crate) mod files;
pub mod keys;
pub mod manifest;
pub mod signature;

use std::collections::HashMap;
use std::path::{Component as PathComponent, Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub use errors::{ArchiveError, ArchiveLimit, KeyError, PackError, SignatureError};
pub use keys::{KeyId, PublicKey, SecretKey};
pub use manifest::{
    DEFAULT_FUEL_PER_TRANSACTION, DEFAULT_LOAD_FUEL, HistorySettings, Limits, ListEntry,
    MAX_FUEL_PER_TRANSACTION, MAX_LOAD_FUEL, Manifest, PluginEntry,
};
pub use signature::{
    Signer, Statement, TrustConfig, TrustConfigBuilder, Verified, check_signed, sign_pack,
};

use crate::lists::{List, Lists};
use crate::transaction::Amount;

/// The manifest's file name inside a pack directory.
pub const MANIFEST: &str = "pack.toml";

/// The version of this host, compared with a pack's `min_host_version`.
pub const HOST_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// A plugin's component, read from the pack.
#[derive(Debug, Clone)]
pub struct PackPlugin {
    /// The manifest's entry for it.
    pub entry: PluginEntry,
    /// The component's bytes.
    pub bytes: Arc<[u8]>,
    /// The component's sha256, hex.
    pub sha256: String,
}

/// An exchange rate: tenge per unit, as an exact decimal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Digits without the decimal point.
    pub units: i128,
    /// Fraction digits.
    pub scale: u32,
}

/// A pack read from disk and checked, ready to be compiled by the engine.
#[derive(Debug, Clone)]
pub struct Pack {
    /// The directory it was read from.
    pub dir: PathBuf,
    /// The manifest.
    pub manifest: Manifest,
    /// The manifest's sha256: the pack's identity.
    pub digest: String,
    /// The plugins, in manifest order.
    pub plugins: Vec<PackPlugin>,
    /// The reference lists.
    pub lists: Arc<Lists>,
    /// Exchange rates to tenge, by currency code (KZT is always 1).
    pub fx: HashMap<String, Rate>,
}

impl Pack {
    /// Reads the pack in `dir` as of the current time, **checking no
    /// signature**: it proves only that the files are the ones `pack.toml`
    /// names (digests), that every path stays inside the pack, that the pack
    /// has not expired and that this host is new enough. Anyone who can
    /// write the directory can change what it decides.
    ///
    /// For a pack from a regulator, use an [`Activator`](crate::Activator):
    /// it verifies the signatures against the bank's [`TrustConfig`], refuses
    /// rollbacks, runs the pack's own test cases on this host and only then
    /// swaps it in. `read` is for packs this process built or already
    /// verified, and for tools.
    pub fn read(dir: impl AsRef<Path>) -> Result<Pack, PackError> {
        Pack::read_at(dir, OffsetDateTime::now_utc())
    }

    /// [`Pack::read`], judging expiry at `now`; it checks no signature
    /// either.
    pub fn read_at(dir: impl AsRef<Path>, now: OffsetDateTime) -> Result<Pack, PackError> {
        let dir = dir.as_ref().to_path_buf();
        let manifest_path = dir.join(MANIFEST);
        let manifest_bytes =
            std::fs::read(&manifest_path).map_err(|e| PackError::io(&manifest_path, e))?;
        let manifest = parse_manifest(&manifest_bytes, now).map_err(|e| match e {
            PackError::Manifest { message, .. } => PackError::Manifest {
                path: manifest_path.clone(),
                message,
            },
            other => other,
        })?;

        let mut plugins = Vec::with_capacity(manifest.plugins.len());
        for entry in &manifest.plugins {
            let path = inside(
                &dir,
                &entry.component,
                &format!("plugin `{}`.component", entry.id),
            )?;
            let bytes = match std::fs::read(&path) {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(PackError::MissingComponent {
                        plugin: entry.id.clone(),
                        path,
                        pack_dir: dir.display().to_string(),
                    });
                }
                Err(e) => return Err(PackError::io(path, e)),
            };
            let sha256 = sha256_hex(&bytes);
            check_digest(&entry.component, entry.sha256.as_deref(), &sha256)?;
            plugins.push(PackPlugin {
                entry: entry.clone(),
                bytes: bytes.into(),
                sha256,
            });
        }

        let mut lists = Lists::default();
        for entry in &manifest.lists {
            let path = inside(&dir, &entry.file, &format!("list `{}`.file", entry.name))?;
            let bytes = std::fs::read(&path).map_err(|e| PackError::io(&path, e))?;
            check_digest(&entry.file, entry.sha256.as_deref(), &sha256_hex(&bytes))?;
            lists.insert(entry.name.clone(), List::read(&entry.name, &path)?);
        }

        let mut fx = HashMap::new();
        fx.insert("KZT".to_owned(), Rate { units: 1, scale: 0 });
        for (currency, rate) in &manifest.fx {
            let (units, scale) = Amount::parse_decimal(rate)
                .map_err(|p| PackError::invalid(format!("fx.{currency}"), p))?;
            if units <= 0 {
                return Err(PackError::invalid(
                    format!("fx.{currency}"),
                    "a rate must be above zero",
                ));
            }
            fx.insert(currency.to_ascii_uppercase(), Rate { units, scale });
        }

        Ok(Pack {
            dir,
            digest: sha256_hex(&manifest_bytes),
            manifest,
            plugins,
            lists: Arc::new(lists),
            fx,
        })
    }
}

/// Parses and checks the bytes of a `pack.toml`, judging expiry at `now`:
/// UTF-8 text, valid TOML, the manifest format with no unknown keys, and
/// every value within its bounds. Errors name the manifest as
/// [`MANIFEST`]; [`Pack::read`] names the file it read.
pub fn parse_manifest(bytes: &[u8], now: OffsetDateTime) -> Result<Manifest, PackError> {
    let text = std::str::from_utf8(bytes).map_err(|_| PackError::Manifest {
        path: PathBuf::from(MANIFEST),
        message: "not UTF-8 text".into(),
    })?;
    let manifest: Manifest = toml::from_str(text).map_err(|e| PackError::Manifest {
        path: PathBuf::from(MANIFEST),
        message: e.to_string(),
    })?;
    check_manifest(&manifest, now)?;
    Ok(manifest)
}

/// Resolves `relative` inside `dir`, refusing an empty path, an absolute
/// one and any `..`: every path a manifest names stays inside its pack.
/// `field` names the manifest field in the error.
pub fn inside(dir: &Path, relative: &str, field: &str) -> Result<PathBuf, PackError> {
    let path = Path::new(relative);
    let escapes = path
        .components()
        .any(|c| !matches!(c, PathComponent::Normal(_) | PathComponent::CurDir));
    if relative.is_empty() || escapes {
        return Err(PackError::invalid(
            field,
            format!("`{relative}` must be a relative path inside the pack"),
        ));
    }
    Ok(dir.join(path))
}

fn check_digest(file: &str, expected: Option<&str>, actual: &str) -> Result<(), PackError> {
    match expected {
        Some(expected) if !expected.eq_ignore_ascii_case(actual) => {
            Err(PackError::DigestMismatch {
                file: file.to_owned(),
                expected: expected.to_owned(),
                actual: actual.to_owned(),
            })
        }
        _ => Ok(()),
    }
}

fn parse_time(field: &str, text: &str) -> Result<OffsetDateTime, PackError> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|e| PackError::invalid(field, format!("`{text}` is not an RFC 3339 time ({e})")))
}

fn parse_version(text: &str) -> Option<(u64, u64, u64)> {
    let core = text.split(['-', '+']).next()?;
    let mut parts = core.split('.').map(|p| p.parse::<u64>().ok());
    let major = parts.next()??;
    let minor = parts.next().unwrap_or(Some(0))?;
    let patch = parts.next().unwrap_or(Some(0))?;
    Some((major, minor, patch))
}

/// Whether `id` is kebab-case (lower-case ASCII letters, digits and `-`,
/// not empty), as pack names and plugin ids must be.
pub fn is_kebab(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Checks a pack's `[limits]`: each within the bounds docs/packs.md states.
pub(crate) fn check_limits(limits: &Limits) -> Result<(), PackError> {
    if limits.call_timeout_ms == 0 || limits.call_timeout_ms > 60_000 {
        return Err(PackError::invalid(
            "limits.call_timeout_ms",
            "must be between 1 and 60000",
        ));
    }
    if limits.memory_mib == 0 || limits.memory_mib > 4096 {
        return Err(PackError::invalid(
            "limits.memory_mib",
            "must be between 1 and 4096",
        ));
    }
    if limits.recycle_after_calls == 0 {
        return Err(PackError::invalid(
            "limits.recycle_after_calls",
            "must be at least 1",
        ));
    }
    let fuel_range = format!("must be between 1000 and {MAX_FUEL_PER_TRANSACTION}");
    if !(1000..=MAX_FUEL_PER_TRANSACTION).contains(&limits.fuel_per_transaction) {
        return Err(PackError::invalid(
            "limits.fuel_per_transaction",
            fuel_range,
        ));
    }
    if !(1000..=MAX_LOAD_FUEL).contains(&limits.load_fuel) {
        return Err(PackError::invalid(
            "limits.load_fuel",
            format!("must be between 1000 and {MAX_LOAD_FUEL}"),
        ));
    }
    Ok(())
}

fn check_manifest(m: &Manifest, now: OffsetDateTime) -> Result<(), PackError> {
    if !is_kebab(&m.name) {
        return Err(PackError::invalid(
            "name",
            format!("`{}` must be lower-case letters, digits and dashes", m.name),
        ));
    }
    if m.version.trim().is_empty() {
        return Err(PackError::invalid("version", "must not be empty"));
    }
    if m.plugins.is_empty() {
        return Err(PackError::invalid(
            "plugin",
            "a pack needs at least one plugin",
        ));
    }
    if let Some(issued) = &m.issued_at {
        parse_time("issued_at", issued)?;
    }
    if let Some(expires) = &m.expires_at
        && parse_time("expires_at", expires)? <= now
    {
        return Err(PackError::Expired {
            expires_at: expires.clone(),
        });
    }
    if let Some(required) = &m.min_host_version {
        let need = parse_version(required).ok_or_else(|| {
            PackError::invalid("min_host_version", format!("`{required}` is not a version"))
        })?;
        let have = parse_version(HOST_VERSION).unwrap_or((0, 0, 0));
        if have < need {
            return Err(PackError::HostTooOld {
                required: required.clone(),
                have: HOST_VERSION.to_owned(),
            });
        }
    }
    check_limits(&m.limits)?;
    if m.history.retention_days == 0 || m.history.retention_days > 3660 {
        return Err(PackError::invalid(
            "history.retention_days",
            "must be between 1 and 3660",
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, p) in m.plugins.iter().enumerate() {
        if !is_kebab(&p.id) {
            return Err(PackError::invalid(
                format!("plugin[{i}].id"),
                format!("`{}` must be lower-case letters, digits and dashes", p.id),
            ));
        }
        if !seen.insert(p.id.as_str()) {
            return Err(PackError::invalid(
                format!("plugin[{i}].id"),
                format!("plugin `{}` is listed twice", p.id),
            ));
        }
        if !p.weight.is_finite() || !(0.0..=100.0).contains(&p.weight) {
            return Err(PackError::invalid(
                format!("plugin `{}`.weight", p.id),
                "must be a number between 0 and 100",
            ));
        }
        if let Some(fuel) = p.fuel_per_transaction
            && !(1000..=MAX_FUEL_PER_TRANSACTION).contains(&fuel)
        {
            return Err(PackError::invalid(
                format!("plugin `{}`.fuel_per_transaction", p.id),
                format!("must be between 1000 and {MAX_FUEL_PER_TRANSACTION}"),
            ));
        }
    }
    let mut names = std::collections::HashSet::new();
    for l in &m.lists {
        if !names.insert(l.name.as_str()) {
            return Err(PackError::invalid(
                "list",
                format!("list `{}` is listed twice", l.name),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &[u8]) {
        if let Some(parent) = dir.join(name).parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        if let Err(e) = std::fs::write(dir.join(name), text) {
            panic!("cannot write fixture {name}: {e}");
        }
    }

    fn pack_dir(manifest: &str) -> tempfile::TempDir {
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => panic!("tempdir: {e}"),
        };
        write(dir.path(), MANIFEST, manifest.as_bytes());
        write(dir.path(), "plugins/a.wasm", b"\0asm-not-really");
        write(dir.path(), "lists/l.txt", b"okx\n");
        dir
    }

    const BASE: &str = r#"
name = "p"
version = "1"
serial = 1
[[plugin]]
id = "a"
component = "plugins/a.wasm"
[[list]]
name = "l"
file = "lists/l.txt"
"#;

    fn error_of(manifest: &str) -> String {
        let dir = pack_dir(manifest);
        match Pack::read(dir.path()) {
            Ok(_) => "<read fine>".into(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_minimal_pack_reads_with_defaults() -> Result<(), PackError> {
        let dir = pack_dir(BASE);
        let pack = Pack::read(dir.path())?;
        assert_eq!(
            pack.manifest.failure_action,
            crate::decision::Action::Review
        );
        assert_eq!(pack.plugins.len(), 1);
        assert!(pack.lists.get("l").is_some_and(|l| l.contains("OKX")));
        assert_eq!(pack.fx.get("KZT"), Some(&Rate { units: 1, scale: 0 }));
        Ok(())
    }

    #[test]
    fn a_changed_component_byte_is_refused() {
        let manifest = BASE.replace(
            "component = \"plugins/a.wasm\"",
            "component = \"plugins/a.wasm\"\nsha256 = \"00\"",
        );
        let err = error_of(&manifest);
        assert!(err.starts_with("plugins/a.wasm: sha256 is"), "{err}");
    }

    #[test]
    fn a_missing_component_says_how_to_build_it() {
        let manifest = BASE.replace("plugins/a.wasm", "plugins/b.wasm");
        let err = error_of(&manifest);
        assert!(
            err.contains("plugin `a`") && err.contains("qorgan pack build"),
            "{err}"
        );
    }

    #[test]
    fn paths_outside_the_pack_are_refused() {
        let err = error_of(&BASE.replace("lists/l.txt", "../../etc/passwd"));
        assert!(err.contains("inside the pack"), "{err}");
        let err = error_of(&BASE.replace("plugins/a.wasm", "/etc/passwd"));
        assert!(err.contains("inside the pack"), "{err}");
    }

    #[test]
    fn unknown_manifest_keys_are_refused() {
        let err = error_of(&format!("{BASE}\n[tresholds]\nreview = 1\n"));
        assert!(err.contains("tresholds"), "{err}");
    }

    #[test]
    fn an_expired_pack_is_refused() {
        let err = error_of(&BASE.replace(
            "serial = 1",
            "serial = 1\nexpires_at = \"2001-01-01T00:00:00Z\"",
        ));
        assert!(err.starts_with("pack expired at 2001"), "{err}");
    }

    #[test]
    fn a_pack_for_a_newer_host_is_refused() {
        let err = error_of(&BASE.replace("serial = 1", "serial = 1\nmin_host_version = \"99.0\""));
        assert!(err.contains("needs qorgan 99.0"), "{err}");
    }
}
