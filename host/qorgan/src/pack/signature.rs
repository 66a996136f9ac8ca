//! Detached ed25519 signatures over a pack, and the trust a bank places in
//! them.
//!
//! A regulator signs a built pack with one or more keys; a bank trusts some
//! public keys, requires M of them to have signed, and may revoke keys. What
//! is signed is the pack's **statement** ([`Statement`]): canonical bytes
//! that change whenever anything the host would load changes, and only
//! then:
//!
//! ```text
//! qorgan-pack-signature-v1
//! manifest {"list":[...],"name":"kz-afm",...}
//! file <sha256 hex> lists/afsa-register.txt
//! file <sha256 hex> plugins/kz-threshold.wasm
//! file <sha256 hex> tests/cash.yaml
//! ```
//!
//! - the first line separates these signatures from any other use of the
//!   same keys (domain separation);
//! - `manifest` is `pack.toml` parsed as TOML and written as canonical JSON
//!   (see [`canonical_manifest_json`]): comments, whitespace, key order and
//!   TOML's notational choices do not change it; every value does. Signing
//!   the data as written, rather than the host's parsed [`Manifest`] with
//!   its defaults filled in, keeps signatures valid on a newer host that
//!   adds an optional manifest field;
//! - one `file` line per regular file of the pack directory other than
//!   `pack.toml` and everything under `signatures/`, sorted by path (byte
//!   order), paths relative with `/`. Components, lists, test cases and any
//!   other file are covered; a file added or removed changes the statement.
//!
//! A signature file, `signatures/<key id>.sig`, carries the statement it
//! signs after a short header, so that a refusal can say *what* changed
//! since signing (a file, a manifest field) rather than only that a
//! signature no longer holds. docs/packs.md specifies the formats for
//! other implementations.
//!
//! Verifying reads the directory once; a caller that then loads the pack
//! should do so from a directory nobody else can write (an extracted
//! archive in a private temporary directory), so that what was verified is
//! what is loaded.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Component as PathComponent, Path};

use sha2::{Digest, Sha256};

use super::errors::{KeyError, PackError, SignatureError};
use super::files::{WalkError, regular_files};
use super::keys::{KeyId, PublicKey, SecretKey, hex, label, unhex};
use super::manifest::Manifest;
use super::{MANIFEST, sha256_hex};

/// The first line of a statement: what the signed bytes are.
pub const STATEMENT_TAG: &str = "qorgan-pack-signature-v1";
/// The first line of a signature file.
pub const SIGNATURE_FILE_TAG: &str = "qorgan-signature-v1";
/// The directory of a pack that holds its signatures.
pub const SIGNATURES_DIR: &str = "signatures";
/// The only signature algorithm.
pub const ALGORITHM: &str = "ed25519";

/// The largest signature file read.
const MAX_SIGNATURE_FILE: u64 = 16 * 1024 * 1024;
/// How many changes a refusal lists before it summarises.
const MAX_LISTED_CHANGES: usize = 10;

/// What a pack signature covers: the canonical bytes of a pack.
#[derive(Debug, Clone)]
pub struct Statement {
    manifest: Manifest,
    manifest_json: String,
    files: BTreeMap<String, String>,
    bytes: Vec<u8>,
}

impl Statement {
    /// Computes the statement of the built pack in `dir`.
    ///
    /// Refuses a pack whose components or lists have no digest in
    /// `pack.toml` (a source pack, never built), a digest that does not
    /// match its file, a symbolic link or other non-regular file, a file
    /// name that is not portable text, and a manifest value without a
    /// canonical form.
    pub fn of_pack(dir: &Path) -> Result<Statement, SignatureError> {
        let manifest_path = dir.join(MANIFEST);
        let meta = std::fs::symlink_metadata(&manifest_path)
            .map_err(|e| PackError::io(&manifest_path, e))?;
        if !meta.is_file() {
            return Err(SignatureError::UnsupportedFile {
                path: MANIFEST.into(),
                problem: "not a regular file".into(),
            });
        }
        let bytes = std::fs::read(&manifest_path).map_err(|e| PackError::io(&manifest_path, e))?;
        let text = String::from_utf8(bytes).map_err(|_| PackError::Manifest {
            path: manifest_path.clone(),
            message: "not UTF-8 text".into(),
        })?;
        let manifest_error = |message: String| PackError::Manifest {
            path: manifest_path.clone(),
            message,
        };
        let manifest: Manifest =
            toml::from_str(&text).map_err(|e| manifest_error(e.to_string()))?;
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| manifest_error(e.to_string()))?;
        let manifest_json = canonical_manifest_json(&table)?;

        let files = file_digests(dir)?;
        let pack_dir = dir.display().to_string();
        for plugin in &manifest.plugins {
            let what = format!("plugin `{}`", plugin.id);
            let path = normal_path(dir, &plugin.component, &format!("{what}.component"))?;
            let Some(actual) = files.get(&path) else {
                return Err(PackError::MissingComponent {
                    plugin: plugin.id.clone(),
                    path: dir.join(&plugin.component),
                    pack_dir,
                }
                .into());
            };
            check_recorded(&what, &path, plugin.sha256.as_deref(), actual, &pack_dir)?;
        }
        for list in &manifest.lists {
            let what = format!("list `{}`", list.name);
            let path = normal_path(dir, &list.file, &format!("{what}.file"))?;
            let Some(actual) = files.get(&path) else {
                return Err(PackError::io(
                    dir.join(&list.file),
                    std::io::Error::new(std::io::ErrorKind::NotFound, "list file not found"),
                )
                .into());
            };
            check_recorded(&what, &path, list.sha256.as_deref(), actual, &pack_dir)?;
        }

        let mut out = String::new();
        out.push_str(STATEMENT_TAG);
        out.push('\n');
        out.push_str("manifest ");
        out.push_str(&manifest_json);
        out.push('\n');
        for (path, sha256) in &files {
            out.push_str("file ");
            out.push_str(sha256);
            out.push(' ');
            out.push_str(path);
            out.push('\n');
        }
        Ok(Statement {
            manifest,
            manifest_json,
            files,
            bytes: out.into_bytes(),
        })
    }

    /// The canonical bytes that signatures cover.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The sha256 of the canonical bytes, hex: a short name for what was
    /// signed.
    pub fn sha256(&self) -> String {
        sha256_hex(&self.bytes)
    }

    /// The parsed manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The manifest as canonical JSON.
    pub fn manifest_json(&self) -> &str {
        &self.manifest_json
    }

    /// The covered files: path relative to the pack → sha256, hex.
    pub fn files(&self) -> &BTreeMap<String, String> {
        &self.files
    }
}

fn check_recorded(
    what: &str,
    path: &str,
    recorded: Option<&str>,
    actual: &str,
    pack_dir: &str,
) -> Result<(), SignatureError> {
    match recorded {
        None => Err(SignatureError::NotBuilt {
            what: what.to_owned(),
            pack_dir: pack_dir.to_owned(),
        }),
        Some(expected) if !expected.eq_ignore_ascii_case(actual) => {
            Err(SignatureError::DigestMismatch {
                file: path.to_owned(),
                expected_by: MANIFEST.into(),
                expected: expected.to_owned(),
                actual: actual.to_owned(),
            })
        }
        Some(_) => Ok(()),
    }
}

/// A manifest path in the statement's form: relative, `/`-separated,
/// without `.` components.
fn normal_path(dir: &Path, relative: &str, field: &str) -> Result<String, SignatureError> {
    super::inside(dir, relative, field)?;
    let parts: Vec<&str> = Path::new(relative)
        .components()
        .filter_map(|c| match c {
            PathComponent::Normal(part) => part.to_str(),
            _ => None,
        })
        .collect();
    Ok(parts.join("/"))
}

/// The sha256 of every regular file of the pack but `pack.toml` and
/// `signatures/`.
fn file_digests(dir: &Path) -> Result<BTreeMap<String, String>, SignatureError> {
    let files = regular_files(dir, &[MANIFEST, SIGNATURES_DIR]).map_err(|e| match e {
        WalkError::Io { path, source } => SignatureError::io(path, source),
        WalkError::Unsupported { path, problem } => SignatureError::UnsupportedFile {
            path,
            problem: problem.into(),
        },
    })?;
    let mut digests = BTreeMap::new();
    for file in files {
        let mut opened =
            std::fs::File::open(&file.path).map_err(|e| SignatureError::io(&file.path, e))?;
        let mut hasher = Sha256::new();
        std::io::copy(&mut opened, &mut hasher).map_err(|e| SignatureError::io(&file.path, e))?;
        digests.insert(file.relative, hex(&hasher.finalize()));
    }
    Ok(digests)
}

/// `pack.toml`'s TOML data as canonical JSON.
///
/// Tables become objects with keys sorted by their UTF-8 bytes; arrays
/// keep their order; there is no whitespace outside strings. Strings are
/// escaped as RFC 8785 (JCS) does: `\"`, `\\`, `\b`, `\f`, `\n`, `\r`,
/// `\t`, other characters below U+0020 as `\u00xx` (lower-case hex), all
/// else as UTF-8. Integers are written in decimal. Floats, which TOML keeps
/// apart from integers, are written as the shortest decimal that reads back
/// to the same binary64 value, in the form `<d>.<digits>e<exponent>`
/// (`1.0e0`, `5.205e2`, `-2.5e-1`): always with a point and an exponent,
/// so a float never reads as an integer. Booleans are `true` and `false`.
/// TOML date-times and floats that are not finite have no canonical form
/// and are refused (no manifest field takes them).
pub fn canonical_manifest_json(table: &toml::Table) -> Result<String, SignatureError> {
    let mut out = String::new();
    write_table(table, "", &mut out)?;
    Ok(out)
}

fn write_table(table: &toml::Table, path: &str, out: &mut String) -> Result<(), SignatureError> {
    let mut keys: Vec<&String> = table.keys().collect();
    keys.sort();
    out.push('{');
    for (i, key) in keys.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(key, out);
        out.push(':');
        let field = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        if let Some(value) = table.get(key) {
            write_value(value, &field, out)?;
        }
    }
    out.push('}');
    Ok(())
}

fn write_value(value: &toml::Value, path: &str, out: &mut String) -> Result<(), SignatureError> {
    match value {
        toml::Value::String(s) => write_string(s, out),
        toml::Value::Integer(i) => out.push_str(&i.to_string()),
        toml::Value::Float(f) => {
            if !f.is_finite() {
                return Err(SignatureError::NotCanonical {
                    field: path.to_owned(),
                    problem: format!("{f} is not a finite number"),
                });
            }
            out.push_str(&canonical_float(*f));
        }
        toml::Value::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        toml::Value::Datetime(d) => {
            return Err(SignatureError::NotCanonical {
                field: path.to_owned(),
                problem: format!(
                    "{d} is a TOML date-time, which a manifest does not take; write it as a string"
                ),
            });
        }
        toml::Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, &format!("{path}[{i}]"), out)?;
            }
            out.push(']');
        }
        toml::Value::Table(table) => write_table(table, path, out)?,
    }
    Ok(())
}

/// The shortest round-trip decimal of `f`, always with a point and an
/// exponent.
fn canonical_float(f: f64) -> String {
    let text = format!("{f:e}");
    match text.split_once('e') {
        Some((mantissa, exponent)) if !mantissa.contains('.') => {
            format!("{mantissa}.0e{exponent}")
        }
        _ => text,
    }
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A detached signature: a file `signatures/<key id>.sig` of a pack.
///
/// ```text
/// qorgan-signature-v1
/// key-id 1f0c2a3b4d5e6f70
/// algorithm ed25519
/// signature <128 hex digits>
///
/// <the statement signed, byte for byte>
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackSignature {
    /// The signing key's id.
    pub key: KeyId,
    /// The ed25519 signature over `statement`.
    pub signature: [u8; 64],
    /// The statement's bytes, as signed.
    pub statement: Vec<u8>,
}

impl PackSignature {
    /// Signs `statement` with `key`.
    pub fn sign(statement: &Statement, key: &SecretKey) -> PackSignature {
        PackSignature {
            key: key.id().clone(),
            signature: key.sign(statement.bytes()),
            statement: statement.bytes().to_vec(),
        }
    }

    /// The signature file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!(
            "{SIGNATURE_FILE_TAG}\nkey-id {}\nalgorithm {ALGORITHM}\nsignature {}\n\n",
            self.key,
            hex(&self.signature)
        )
        .into_bytes();
        out.extend_from_slice(&self.statement);
        out
    }

    /// Parses a signature file; `file` names it in errors.
    pub fn parse(file: &str, bytes: &[u8]) -> Result<PackSignature, SignatureError> {
        let malformed = |problem: &str| SignatureError::Malformed {
            file: file.to_owned(),
            problem: problem.to_owned(),
        };
        let split = bytes
            .windows(2)
            .position(|w| w == b"\n\n")
            .ok_or_else(|| malformed("no blank line between the header and the statement"))?;
        let (header, rest) = bytes.split_at(split);
        let statement = rest.get(2..).unwrap_or_default();
        let header =
            std::str::from_utf8(header).map_err(|_| malformed("the header is not UTF-8 text"))?;
        let lines: Vec<&str> = header.split('\n').collect();
        let [tag, key_line, algorithm_line, signature_line] = lines.as_slice() else {
            return Err(malformed(
                "the header must be four lines: the tag, key-id, algorithm and signature",
            ));
        };
        if *tag != SIGNATURE_FILE_TAG {
            return Err(malformed(&format!(
                "the first line must be `{SIGNATURE_FILE_TAG}`"
            )));
        }
        let key = key_line
            .strip_prefix("key-id ")
            .ok_or_else(|| malformed("the second line must be `key-id <16 hex digits>`"))?;
        let key = KeyId::parse(key).map_err(|e| malformed(&e.to_string()))?;
        match algorithm_line.strip_prefix("algorithm ") {
            Some(ALGORITHM) => {}
            Some(other) => {
                return Err(malformed(&format!(
                    "algorithm `{other}` is not supported; only `{ALGORITHM}` is"
                )));
            }
            None => return Err(malformed("the third line must be `algorithm ed25519`")),
        }
        let signature = signature_line
            .strip_prefix("signature ")
            .and_then(unhex::<64>)
            .ok_or_else(|| malformed("the fourth line must be `signature <128 hex digits>`"))?;
        if !statement.starts_with(format!("{STATEMENT_TAG}\n").as_bytes())
            || !statement.ends_with(b"\n")
        {
            return Err(malformed(&format!(
                "what it signs is not a pack statement (`{STATEMENT_TAG}` ...)"
            )));
        }
        Ok(PackSignature {
            key,
            signature,
            statement: statement.to_vec(),
        })
    }
}

/// Reads every signature of the pack in `dir`, sorted by key id.
///
/// Every entry of `signatures/` must be a regular file named
/// `<key id>.sig` whose header names the same key.
pub fn read_signatures(dir: &Path) -> Result<Vec<PackSignature>, SignatureError> {
    let sig_dir = dir.join(SIGNATURES_DIR);
    let meta = match std::fs::symlink_metadata(&sig_dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(SignatureError::NoSignatures {
                dir: dir.to_path_buf(),
            });
        }
        Err(e) => return Err(SignatureError::io(&sig_dir, e)),
    };
    if !meta.is_dir() {
        return Err(SignatureError::Malformed {
            file: SIGNATURES_DIR.into(),
            problem: "not a directory".into(),
        });
    }
    let mut signatures = Vec::new();
    let entries = std::fs::read_dir(&sig_dir).map_err(|e| SignatureError::io(&sig_dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| SignatureError::io(&sig_dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let file = format!("{SIGNATURES_DIR}/{name}");
        let malformed = |problem: &str| SignatureError::Malformed {
            file: file.clone(),
            problem: problem.to_owned(),
        };
        let stem = name
            .strip_suffix(".sig")
            .and_then(|stem| KeyId::parse(stem).ok())
            .ok_or_else(|| malformed("only `<key id>.sig` files belong in signatures/"))?;
        let kind = entry
            .file_type()
            .map_err(|e| SignatureError::io(entry.path(), e))?;
        if !kind.is_file() {
            return Err(malformed("not a regular file"));
        }
        let path = entry.path();
        let opened = std::fs::File::open(&path).map_err(|e| SignatureError::io(&path, e))?;
        let mut bytes = Vec::new();
        opened
            .take(MAX_SIGNATURE_FILE + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| SignatureError::io(&path, e))?;
        if bytes.len() as u64 > MAX_SIGNATURE_FILE {
            return Err(malformed("larger than 16 MiB"));
        }
        let signature = PackSignature::parse(&file, &bytes)?;
        if signature.key != stem {
            return Err(malformed(&format!(
                "it says key {}, but its name says {stem}",
                signature.key
            )));
        }
        signatures.push(signature);
    }
    if signatures.is_empty() {
        return Err(SignatureError::NoSignatures {
            dir: dir.to_path_buf(),
        });
    }
    signatures.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(signatures)
}

/// A key whose signature was counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    /// The key's id.
    pub id: KeyId,
    /// The key's name, as the trust configuration knows it.
    pub name: Option<String>,
}

impl Signer {
    /// The id with the name: `1f0c2a3b4d5e6f70 (afm-2025)`.
    pub fn label(&self) -> String {
        label(&self.id, self.name.as_deref())
    }
}

/// A pack whose signatures satisfied a [`TrustConfig`].
#[derive(Debug, Clone)]
pub struct Verified {
    /// The trusted keys whose signatures hold, sorted by id.
    pub signers: Vec<Signer>,
    /// How many were required.
    pub required: usize,
    /// Signatures by keys the configuration does not know, not counted.
    pub untrusted: Vec<KeyId>,
    /// What they signed.
    pub statement: Statement,
}

/// What a bank trusts: public keys, how many of them must have signed a
/// pack (M of N), and revoked keys.
///
/// Rules, in the order [`TrustConfig::verify`] applies them:
///
/// 1. a pack with no signature is refused;
/// 2. a malformed signature file refuses the pack;
/// 3. a signature by a revoked key refuses the pack outright, however many
///    other keys signed it: a revoked key still signing means the key is in
///    the wrong hands;
/// 4. the pack's files must match the digests its manifest records;
/// 5. every signature by a trusted key must hold and cover the pack as it
///    is: a broken or stale signature refuses the pack;
/// 6. signatures by unknown keys are not counted and do not refuse (the
///    regulator may already sign with a key the bank has not installed);
/// 7. at least M valid signatures by distinct trusted keys are needed.
///
/// Rotation: a regulator signs with both the old and the new key for a
/// while; a bank trusting either verifies, and one trusting both counts
/// both.
#[derive(Debug, Clone)]
pub struct TrustConfig {
    keys: BTreeMap<KeyId, PublicKey>,
    required: usize,
    revoked: BTreeSet<KeyId>,
}

/// Builds a [`TrustConfig`].
#[derive(Debug, Clone, Default)]
pub struct TrustConfigBuilder {
    keys: Vec<PublicKey>,
    required: Option<usize>,
    revoked: Vec<KeyId>,
}

impl TrustConfigBuilder {
    /// Trusts `key`.
    pub fn trust(mut self, key: PublicKey) -> Self {
        self.keys.push(key);
        self
    }

    /// Trusts the key in a public key file.
    pub fn trust_file(self, path: impl AsRef<Path>) -> Result<Self, KeyError> {
        Ok(self.trust(PublicKey::read(path)?))
    }

    /// Requires `m` valid signatures by distinct trusted keys (default 1).
    pub fn require(mut self, m: usize) -> Self {
        self.required = Some(m);
        self
    }

    /// Revokes a key: any pack it signed is refused.
    pub fn revoke(mut self, key: KeyId) -> Self {
        self.revoked.push(key);
        self
    }

    /// Checks the configuration: at least one key, at least one signature
    /// required, no more than the trusted keys that are not revoked, and no
    /// two different keys with the same id.
    pub fn build(self) -> Result<TrustConfig, SignatureError> {
        let mut keys: BTreeMap<KeyId, PublicKey> = BTreeMap::new();
        for key in self.keys {
            if let Some(known) = keys.get(key.id()) {
                if known.key() != key.key() {
                    return Err(SignatureError::Trust(format!(
                        "two different keys have the id {}",
                        key.id()
                    )));
                }
                continue;
            }
            keys.insert(key.id().clone(), key);
        }
        if keys.is_empty() {
            return Err(SignatureError::Trust("no trusted key".into()));
        }
        let revoked: BTreeSet<KeyId> = self.revoked.into_iter().collect();
        let required = self.required.unwrap_or(1);
        if required == 0 {
            return Err(SignatureError::Trust(
                "at least one signature must be required".into(),
            ));
        }
        let usable = keys.keys().filter(|id| !revoked.contains(*id)).count();
        if required > usable {
            return Err(SignatureError::Trust(format!(
                "{required} signatures are required, but only {usable} of the trusted keys are not revoked"
            )));
        }
        Ok(TrustConfig {
            keys,
            required,
            revoked,
        })
    }
}

impl TrustConfig {
    /// Starts a configuration.
    pub fn builder() -> TrustConfigBuilder {
        TrustConfigBuilder::default()
    }

    /// How many valid signatures a pack needs.
    pub fn required(&self) -> usize {
        self.required
    }

    /// The trusted keys, sorted by id (revoked ones included).
    pub fn trusted(&self) -> impl Iterator<Item = &PublicKey> {
        self.keys.values()
    }

    /// The revoked key ids.
    pub fn revoked(&self) -> impl Iterator<Item = &KeyId> {
        self.revoked.iter()
    }

    /// Verifies the signatures of the pack in `dir` (see the rules on
    /// [`TrustConfig`]).
    pub fn verify(&self, dir: &Path) -> Result<Verified, SignatureError> {
        let signatures = read_signatures(dir)?;
        self.refuse_revoked(&signatures)?;
        let statement = Statement::of_pack(dir)?;
        self.check(statement, &signatures)
    }

    /// Checks `signatures` against a statement already computed.
    pub fn check(
        &self,
        statement: Statement,
        signatures: &[PackSignature],
    ) -> Result<Verified, SignatureError> {
        self.refuse_revoked(signatures)?;
        let mut signers = Vec::new();
        let mut untrusted = Vec::new();
        for signature in signatures {
            let Some(key) = self.keys.get(&signature.key) else {
                untrusted.push(signature.key.clone());
                continue;
            };
            if !key.verify(&signature.statement, &signature.signature) {
                return Err(SignatureError::BadSignature { key: key.label() });
            }
            if signature.statement != statement.bytes() {
                return Err(SignatureError::ChangedSinceSigning {
                    key: key.label(),
                    changes: changes(&statement, &signature.statement),
                });
            }
            if !signers.iter().any(|s: &Signer| &s.id == key.id()) {
                signers.push(Signer {
                    id: key.id().clone(),
                    name: key.name().map(str::to_owned),
                });
            }
        }
        if signers.len() >= self.required {
            return Ok(Verified {
                signers,
                required: self.required,
                untrusted,
                statement,
            });
        }
        if signers.is_empty() && !untrusted.is_empty() {
            return Err(SignatureError::UnknownKey {
                keys: untrusted.iter().map(KeyId::to_string).collect(),
            });
        }
        Err(SignatureError::TooFewSignatures {
            have: signers.len(),
            required: self.required,
            untrusted: untrusted.iter().map(KeyId::to_string).collect(),
        })
    }

    fn refuse_revoked(&self, signatures: &[PackSignature]) -> Result<(), SignatureError> {
        match signatures.iter().find(|s| self.revoked.contains(&s.key)) {
            Some(signature) => Err(SignatureError::RevokedKey {
                key: match self.keys.get(&signature.key) {
                    Some(key) => key.label(),
                    None => signature.key.to_string(),
                },
            }),
            None => Ok(()),
        }
    }
}

/// Checks, with no public key at hand, that the pack in `dir` is signed:
/// it carries at least one well-formed signature, and every signature
/// covers the pack as it is now (nothing changed after signing). Returns
/// the statement and the signing keys' ids.
///
/// This is the publisher's check before a pack leaves for the hosts. It
/// says nothing about *who* signed, nor whether a signature holds: only a
/// [`TrustConfig`], holding the public keys, can say that.
pub fn check_signed(dir: &Path) -> Result<(Statement, Vec<KeyId>), SignatureError> {
    let signatures = read_signatures(dir)?;
    let statement = Statement::of_pack(dir)?;
    for signature in &signatures {
        if signature.statement != statement.bytes() {
            return Err(SignatureError::ChangedSinceSigning {
                key: signature.key.to_string(),
                changes: changes(&statement, &signature.statement),
            });
        }
    }
    let keys = signatures.into_iter().map(|s| s.key).collect();
    Ok((statement, keys))
}

/// What differs between the current statement and a signed one.
fn changes(current: &Statement, signed: &[u8]) -> Vec<String> {
    let signed = String::from_utf8_lossy(signed);
    let mut signed_manifest = None;
    let mut signed_files = BTreeMap::new();
    for line in signed.lines() {
        if let Some(json) = line.strip_prefix("manifest ") {
            signed_manifest = Some(json.to_owned());
        } else if let Some(rest) = line.strip_prefix("file ")
            && let Some((sha256, path)) = rest.split_once(' ')
        {
            signed_files.insert(path.to_owned(), sha256.to_owned());
        }
    }
    let mut out = Vec::new();
    if signed_manifest.as_deref() != Some(current.manifest_json()) {
        let now = serde_json::from_str::<serde_json::Value>(current.manifest_json());
        let then = signed_manifest
            .as_deref()
            .map(serde_json::from_str::<serde_json::Value>);
        let mut fields = Vec::new();
        match (now, then) {
            (Ok(now), Some(Ok(then))) => diff_json("", &then, &now, &mut fields),
            _ => fields.push(String::new()),
        }
        for field in fields {
            if field.is_empty() {
                out.push(format!("{MANIFEST} changed"));
            } else {
                out.push(format!("{MANIFEST}: {field}"));
            }
        }
    }
    for (path, sha256) in current.files() {
        match signed_files.get(path) {
            None => out.push(format!("{path}: added")),
            Some(was) if was != sha256 => {
                out.push(format!("{path}: sha256 is {sha256}, signed {was}"));
            }
            Some(_) => {}
        }
    }
    for path in signed_files.keys() {
        if !current.files().contains_key(path) {
            out.push(format!("{path}: removed"));
        }
    }
    if out.is_empty() {
        out.push("the statement differs".into());
    }
    if out.len() > MAX_LISTED_CHANGES {
        let more = out.len() - MAX_LISTED_CHANGES;
        out.truncate(MAX_LISTED_CHANGES);
        out.push(format!("and {more} more"));
    }
    out
}

fn diff_json(path: &str, then: &serde_json::Value, now: &serde_json::Value, out: &mut Vec<String>) {
    use serde_json::Value;
    let at = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match (then, now) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, was) in a {
                match b.get(key) {
                    Some(is) => diff_json(&at(key), was, is, out),
                    None => out.push(format!("`{}` removed", at(key))),
                }
            }
            for key in b.keys() {
                if !a.contains_key(key) {
                    out.push(format!("`{}` added", at(key)));
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (was, is)) in a.iter().zip(b).enumerate() {
                diff_json(&format!("{path}[{i}]"), was, is, out);
            }
        }
        (Value::Array(a), Value::Array(b)) => out.push(format!(
            "`{path}` has {} entries, signed {}",
            b.len(),
            a.len()
        )),
        (a, b) if a != b => out.push(format!("`{path}` changed")),
        _ => {}
    }
}

/// The outcome of [`sign_pack`].
#[derive(Debug, Clone)]
pub struct SignReport {
    /// The keys that signed, in the order given.
    pub signed: Vec<Signer>,
    /// The signature files written.
    pub files: Vec<std::path::PathBuf>,
    /// Signatures that covered an earlier state of the pack and were
    /// removed.
    pub removed_stale: Vec<KeyId>,
    /// The sha256 of the statement signed.
    pub statement_sha256: String,
}

/// Signs the built pack in `dir` with each key, writing
/// `signatures/<key id>.sig` (replacing a key's earlier signature).
///
/// Other keys' signatures that cover an earlier state of the pack can never
/// verify again and are removed; signatures of the current state are kept,
/// so several signers can sign one after another.
pub fn sign_pack(dir: &Path, keys: &[SecretKey]) -> Result<SignReport, SignatureError> {
    let statement = Statement::of_pack(dir)?;
    let sig_dir = dir.join(SIGNATURES_DIR);
    let existing = match read_signatures(dir) {
        Ok(existing) => existing,
        Err(SignatureError::NoSignatures { .. }) => Vec::new(),
        Err(e) => return Err(e),
    };
    std::fs::create_dir_all(&sig_dir).map_err(|e| SignatureError::io(&sig_dir, e))?;
    let mut removed_stale = Vec::new();
    for old in existing {
        if old.statement != statement.bytes() && !keys.iter().any(|k| k.id() == &old.key) {
            let path = sig_dir.join(format!("{}.sig", old.key));
            std::fs::remove_file(&path).map_err(|e| SignatureError::io(&path, e))?;
            removed_stale.push(old.key);
        }
    }
    let mut signed = Vec::new();
    let mut files = Vec::new();
    for key in keys {
        if signed.iter().any(|s: &Signer| &s.id == key.id()) {
            continue;
        }
        let signature = PackSignature::sign(&statement, key);
        let path = sig_dir.join(format!("{}.sig", key.id()));
        write_atomically(&path, &signature.to_bytes())?;
        signed.push(Signer {
            id: key.id().clone(),
            name: key.name().map(str::to_owned),
        });
        files.push(path);
    }
    Ok(SignReport {
        signed,
        files,
        removed_stale,
        statement_sha256: statement.sha256(),
    })
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), SignatureError> {
    crate::atomic::replace(path, bytes).map_err(|e| SignatureError::io(e.path, e.source))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{tempdir, write};

    const COMPONENT: &[u8] = b"\0asm component bytes";
    const LIST: &[u8] = b"okx\n";

    /// A built pack: manifest with digests, a component, a list, a case.
    fn built_pack(extra_manifest: &str) -> tempfile::TempDir {
        let dir = tempdir();
        write(dir.path(), "plugins/a.wasm", COMPONENT);
        write(dir.path(), "lists/l.txt", LIST);
        write(dir.path(), "tests/a.yaml", b"cases: []\n");
        write(dir.path(), MANIFEST, manifest(extra_manifest).as_bytes());
        dir
    }

    fn manifest(extra: &str) -> String {
        format!(
            r#"# The test pack.
name = "p"
version = "1"
serial = 1
{extra}
[[plugin]]
id = "a"
component = "plugins/a.wasm"
sha256 = "{}"
weight = 0.5
[plugin.parameters]
limit = "500000.00"

[[list]]
name = "l"
file = "lists/l.txt"
sha256 = "{}"
"#,
            sha256_hex(COMPONENT),
            sha256_hex(LIST)
        )
    }

    fn statement(dir: &Path) -> Statement {
        match Statement::of_pack(dir) {
            Ok(s) => s,
            Err(e) => panic!("statement: {e}"),
        }
    }

    fn key(name: &str) -> SecretKey {
        match SecretKey::generate(Some(name)) {
            Ok(k) => k,
            Err(e) => panic!("key: {e}"),
        }
    }

    fn trust(keys: &[&SecretKey], required: usize) -> TrustConfig {
        let mut builder = TrustConfig::builder().require(required);
        for key in keys {
            builder = builder.trust(key.public().clone());
        }
        match builder.build() {
            Ok(t) => t,
            Err(e) => panic!("trust: {e}"),
        }
    }

    fn sign(dir: &Path, keys: Vec<SecretKey>) {
        if let Err(e) = sign_pack(dir, &keys) {
            panic!("sign: {e}");
        }
    }

    fn refusal(trust: &TrustConfig, dir: &Path) -> SignatureError {
        match trust.verify(dir) {
            Ok(v) => panic!("verified, signed by {:?}", v.signers),
            Err(e) => e,
        }
    }

    #[test]
    fn the_statement_is_exactly_the_documented_bytes() {
        let dir = built_pack("");
        let expected = format!(
            "qorgan-pack-signature-v1\n\
             manifest {{\"list\":[{{\"file\":\"lists/l.txt\",\"name\":\"l\",\"sha256\":\"{list}\"}}],\
             \"name\":\"p\",\
             \"plugin\":[{{\"component\":\"plugins/a.wasm\",\"id\":\"a\",\"parameters\":{{\"limit\":\"500000.00\"}},\
             \"sha256\":\"{component}\",\"weight\":5.0e-1}}],\
             \"serial\":1,\"version\":\"1\"}}\n\
             file {list} lists/l.txt\n\
             file {component} plugins/a.wasm\n\
             file {case} tests/a.yaml\n",
            list = sha256_hex(LIST),
            component = sha256_hex(COMPONENT),
            case = sha256_hex(b"cases: []\n"),
        );
        assert_eq!(
            String::from_utf8_lossy(statement(dir.path()).bytes()),
            expected
        );
    }

    #[test]
    fn comments_whitespace_and_table_style_do_not_change_the_statement() {
        let dir = built_pack("");
        let before = statement(dir.path());
        let text = manifest("")
            .replace("# The test pack.\n", "")
            .replace("serial = 1", "serial   =   1   # bumped by hand")
            .replace(
                "[plugin.parameters]\nlimit = \"500000.00\"",
                "parameters = { limit = '500000.00' }",
            );
        write(dir.path(), MANIFEST, text.as_bytes());
        assert_eq!(statement(dir.path()).bytes(), before.bytes());
    }

    #[test]
    fn a_changed_parameter_changes_the_statement() {
        let dir = built_pack("");
        let before = statement(dir.path());
        let text = manifest("").replace("500000.00", "500000.01");
        write(dir.path(), MANIFEST, text.as_bytes());
        assert_ne!(statement(dir.path()).bytes(), before.bytes());
    }

    #[test]
    fn an_integer_and_the_same_float_are_different_statements() {
        let dir = built_pack("");
        let text = manifest("").replace("weight = 0.5", "weight = 1");
        write(dir.path(), MANIFEST, text.as_bytes());
        let as_int = statement(dir.path());
        write(
            dir.path(),
            MANIFEST,
            text.replace("weight = 1", "weight = 1.0").as_bytes(),
        );
        let as_float = statement(dir.path());
        assert_ne!(as_int.bytes(), as_float.bytes());
        assert!(as_int.manifest_json().contains("\"weight\":1}"));
        assert!(as_float.manifest_json().contains("\"weight\":1.0e0}"));
    }

    #[test]
    fn an_added_file_changes_the_statement() {
        let dir = built_pack("");
        let before = statement(dir.path());
        write(dir.path(), "tests/b.yaml", b"cases: []\n");
        let after = statement(dir.path());
        assert_ne!(after.bytes(), before.bytes());
        assert!(after.files().contains_key("tests/b.yaml"));
    }

    #[test]
    fn signatures_are_not_part_of_the_statement() {
        let dir = built_pack("");
        let before = statement(dir.path());
        sign(dir.path(), vec![key("a")]);
        assert_eq!(statement(dir.path()).bytes(), before.bytes());
    }

    #[test]
    fn strings_are_escaped_as_jcs_does() {
        let mut out = String::new();
        write_string("a\"b\\c\n\u{1}é\u{7f}", &mut out);
        assert_eq!(out, "\"a\\\"b\\\\c\\n\\u0001é\u{7f}\"");
    }

    #[test]
    fn floats_are_shortest_round_trip_with_a_point_and_an_exponent() {
        assert_eq!(canonical_float(1.0), "1.0e0");
        assert_eq!(canonical_float(0.1), "1.0e-1");
        assert_eq!(canonical_float(520.5), "5.205e2");
        assert_eq!(canonical_float(-0.0), "-0.0e0");
        assert_eq!(canonical_float(1e300), "1.0e300");
    }

    #[test]
    fn a_date_time_in_the_manifest_has_no_canonical_form() {
        let dir = built_pack("");
        let text = manifest("").replace("limit = ", "when = 2025-01-01T00:00:00Z\nlimit = ");
        write(dir.path(), MANIFEST, text.as_bytes());
        match Statement::of_pack(dir.path()) {
            Err(SignatureError::NotCanonical { field, .. }) => {
                assert_eq!(field, "plugin[0].parameters.when");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_source_pack_without_digests_cannot_be_signed() {
        let dir = built_pack("");
        let text =
            manifest("").replacen(&format!("sha256 = \"{}\"\n", sha256_hex(COMPONENT)), "", 1);
        write(dir.path(), MANIFEST, text.as_bytes());
        let err = match sign_pack(dir.path(), &[key("a")]) {
            Ok(_) => panic!("signed a source pack"),
            Err(e) => e,
        };
        assert!(matches!(err, SignatureError::NotBuilt { .. }), "{err}");
        assert!(err.to_string().contains("qorgan pack build"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_in_a_pack_is_refused() {
        let dir = built_pack("");
        let _ = std::os::unix::fs::symlink("/etc/passwd", dir.path().join("tests/link.yaml"));
        match Statement::of_pack(dir.path()) {
            Err(SignatureError::UnsupportedFile { path, problem }) => {
                assert_eq!(path, "tests/link.yaml");
                assert!(problem.contains("symbolic link"), "{problem}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_pack_signed_by_two_trusted_keys_verifies_with_two_required() {
        let dir = built_pack("");
        let (a, b) = (key("a"), key("b"));
        let trust = trust(&[&a, &b], 2);
        sign(dir.path(), vec![a]);
        sign(dir.path(), vec![b]);
        match trust.verify(dir.path()) {
            Ok(v) => {
                assert_eq!(v.signers.len(), 2);
                assert_eq!(v.statement.manifest().name, "p");
            }
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn a_pack_without_signatures_is_refused() {
        let dir = built_pack("");
        let a = key("a");
        let err = refusal(&trust(&[&a], 1), dir.path());
        assert!(matches!(err, SignatureError::NoSignatures { .. }), "{err}");
    }

    #[test]
    fn a_malformed_signature_file_is_refused_naming_it() {
        let dir = built_pack("");
        let a = key("a");
        sign(dir.path(), vec![key("a")]);
        let name = format!("signatures/{}.sig", a.id());
        write(dir.path(), &name, b"qorgan-signature-v1\nkey-id x\n\n");
        let err = refusal(&trust(&[&a], 1), dir.path());
        assert!(
            matches!(&err, SignatureError::Malformed { file, .. } if *file == name),
            "{err}"
        );
        write(dir.path(), "signatures/notes.txt", b"hello");
        let err = refusal(&trust(&[&a], 1), dir.path());
        assert!(matches!(err, SignatureError::Malformed { .. }), "{err}");
    }

    #[test]
    fn a_pack_signed_only_by_an_unknown_key_is_refused_naming_it() {
        let dir = built_pack("");
        let (a, stranger) = (key("a"), key("stranger"));
        let id = stranger.id().to_string();
        sign(dir.path(), vec![stranger]);
        let err = refusal(&trust(&[&a], 1), dir.path());
        assert!(
            matches!(&err, SignatureError::UnknownKey { keys } if keys == &vec![id.clone()]),
            "{err}"
        );
        assert!(err.to_string().contains(&id), "{err}");
    }

    #[test]
    fn a_revoked_key_refuses_the_pack_even_when_enough_others_signed() {
        let dir = built_pack("");
        let (a, b, c) = (key("a"), key("b"), key("c"));
        let revoked = c.id().clone();
        let trust = match TrustConfig::builder()
            .trust(a.public().clone())
            .trust(b.public().clone())
            .trust(c.public().clone())
            .require(2)
            .revoke(revoked.clone())
            .build()
        {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        };
        sign(dir.path(), vec![a, b, c]);
        let err = refusal(&trust, dir.path());
        assert!(
            matches!(&err, SignatureError::RevokedKey { key } if key.contains(revoked.as_str())),
            "{err}"
        );
    }

    #[test]
    fn a_forged_signature_is_refused_naming_the_key() {
        let dir = built_pack("");
        let a = key("a");
        let trust = trust(&[&a], 1);
        sign(dir.path(), vec![key("other")]);
        // Someone renames another key's signature after the trusted key.
        let signatures = match read_signatures(dir.path()) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        let mut forged = signatures.into_iter().next().map(|s| PackSignature {
            key: a.id().clone(),
            ..s
        });
        let _ = std::fs::remove_dir_all(dir.path().join(SIGNATURES_DIR));
        if let Some(forged) = forged.take() {
            write(
                dir.path(),
                &format!("signatures/{}.sig", a.id()),
                &forged.to_bytes(),
            );
        }
        let err = refusal(&trust, dir.path());
        assert!(
            matches!(&err, SignatureError::BadSignature { key } if key.contains(a.id().as_str())),
            "{err}"
        );
    }

    #[test]
    fn one_of_two_required_signatures_is_refused() {
        let dir = built_pack("");
        let (a, b) = (key("a"), key("b"));
        let trust = trust(&[&a, &b], 2);
        sign(dir.path(), vec![a]);
        let err = refusal(&trust, dir.path());
        assert!(err.to_string().contains("have 1 of 2 required"), "{err}");
    }

    #[test]
    fn a_changed_component_byte_is_refused_naming_the_file() {
        let dir = built_pack("");
        let a = key("a");
        let trust = trust(&[&a], 1);
        sign(dir.path(), vec![a]);
        write(dir.path(), "plugins/a.wasm", b"\0asm component bytez");
        let err = refusal(&trust, dir.path());
        assert!(
            matches!(&err, SignatureError::DigestMismatch { file, .. } if file == "plugins/a.wasm"),
            "{err}"
        );
    }

    #[test]
    fn a_test_case_changed_after_signing_is_refused_naming_it() {
        let dir = built_pack("");
        let a = key("a");
        let trust = trust(&[&a], 1);
        sign(dir.path(), vec![a]);
        write(dir.path(), "tests/a.yaml", b"cases: [x]\n");
        let err = refusal(&trust, dir.path());
        assert!(
            matches!(&err, SignatureError::ChangedSinceSigning { changes, .. }
                if changes.iter().any(|c| c.starts_with("tests/a.yaml: sha256 is"))),
            "{err}"
        );
    }

    #[test]
    fn a_manifest_edit_after_signing_is_refused_naming_the_field() {
        let dir = built_pack("");
        let a = key("a");
        let trust = trust(&[&a], 1);
        sign(dir.path(), vec![a]);
        let text = manifest("").replace("500000.00", "900000.00");
        write(dir.path(), MANIFEST, text.as_bytes());
        let err = refusal(&trust, dir.path());
        assert!(
            err.to_string()
                .contains("pack.toml: `plugin[0].parameters.limit` changed"),
            "{err}"
        );
    }

    #[test]
    fn a_manifest_comment_edit_after_signing_still_verifies() {
        let dir = built_pack("");
        let a = key("a");
        let trust = trust(&[&a], 1);
        sign(dir.path(), vec![a]);
        let text = manifest("").replace("# The test pack.", "# The test pack, reviewed.");
        write(dir.path(), MANIFEST, text.as_bytes());
        assert!(trust.verify(dir.path()).is_ok());
    }

    #[test]
    fn old_and_new_keys_both_count_during_a_rotation() {
        let dir = built_pack("");
        let (old, new) = (key("afm-2025"), key("afm-2026"));
        let both = trust(&[&old, &new], 2);
        let only_old = trust(&[&old], 1);
        let only_new = trust(&[&new], 1);
        sign(dir.path(), vec![old, new]);
        assert!(both.verify(dir.path()).is_ok_and(|v| v.signers.len() == 2));
        assert!(
            only_old
                .verify(dir.path())
                .is_ok_and(|v| v.signers.len() == 1 && v.untrusted.len() == 1)
        );
        assert!(only_new.verify(dir.path()).is_ok());
    }

    #[test]
    fn signing_again_after_a_change_removes_stale_signatures() {
        let dir = built_pack("");
        let (a, b) = (key("a"), key("b"));
        let b_id = b.id().clone();
        let trust = trust(&[&a], 1);
        sign(dir.path(), vec![b]);
        write(dir.path(), "tests/b.yaml", b"cases: []\n");
        let report = match sign_pack(dir.path(), std::slice::from_ref(&a)) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(report.removed_stale, vec![b_id]);
        assert!(trust.verify(dir.path()).is_ok());
    }

    #[test]
    fn trust_configurations_that_no_pack_could_satisfy_are_refused() {
        let (a, b) = (key("a"), key("b"));
        let too_many = TrustConfig::builder()
            .trust(a.public().clone())
            .trust(b.public().clone())
            .require(3)
            .build();
        assert!(matches!(too_many, Err(SignatureError::Trust(_))));
        let revoked_away = TrustConfig::builder()
            .trust(a.public().clone())
            .revoke(a.id().clone())
            .build();
        assert!(matches!(revoked_away, Err(SignatureError::Trust(_))));
        let none = TrustConfig::builder()
            .require(0)
            .trust(a.public().clone())
            .build();
        assert!(matches!(none, Err(SignatureError::Trust(_))));
        assert!(matches!(
            TrustConfig::builder().build(),
            Err(SignatureError::Trust(_))
        ));
    }

    #[test]
    fn a_signature_file_round_trips() {
        let dir = built_pack("");
        let a = key("a");
        let signature = PackSignature::sign(&statement(dir.path()), &a);
        let parsed = PackSignature::parse("x.sig", &signature.to_bytes());
        assert!(parsed.is_ok_and(|p| p == signature));
    }
}
