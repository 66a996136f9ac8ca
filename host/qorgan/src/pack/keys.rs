//! Ed25519 signing keys and the text files that hold them.
//!
//! A regulator keeps a private key file and hands the matching public key
//! file to every bank. Both are one line of text so that they can be read,
//! mailed and compared by people as well as by programs:
//!
//! ```text
//! # qorgan public key 1f0c2a3b4d5e6f70
//! qorgan-ed25519-public 1f0c2a3b4d5e6f70 <64 hex digits: the public key> afm-2025
//! ```
//!
//! ```text
//! qorgan-ed25519-private 1f0c2a3b4d5e6f70 <64 hex digits: the secret seed> afm-2025
//! ```
//!
//! The second field is the key id (see [`KeyId`]), which is derived from the
//! public key and checked when the file is read, so a damaged file is
//! refused rather than silently naming another key. The last field, the
//! name, is optional. Lines starting with `#` and blank lines are ignored.
//! Private key files are created with mode 0600 and never overwritten.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use super::errors::KeyError;

/// The first word of a public key file's key line.
pub const PUBLIC_KEY_TAG: &str = "qorgan-ed25519-public";
/// The first word of a private key file's key line.
pub const PRIVATE_KEY_TAG: &str = "qorgan-ed25519-private";

/// The longest key name.
const MAX_NAME: usize = 64;

/// A key's id: the first 16 hex digits (8 bytes) of the sha256 of its
/// 32-byte public key, lower case.
///
/// The id names the key in signature files, trust configurations and
/// messages. It only names: verification always uses the full public key
/// the bank trusts, so two keys sharing an id cannot stand in for each
/// other.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(String);

impl KeyId {
    /// The id of a public key.
    pub fn of(key: &VerifyingKey) -> KeyId {
        let digest = Sha256::digest(key.as_bytes());
        KeyId(hex(digest.get(..8).unwrap_or_default()))
    }

    /// Parses a key id: 16 hex digits, either case.
    pub fn parse(text: &str) -> Result<KeyId, KeyError> {
        if text.len() == 16 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(KeyId(text.to_ascii_lowercase()))
        } else {
            Err(KeyError::BadKeyId {
                text: text.to_owned(),
            })
        }
    }

    /// The id as 16 lower-case hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A public key that verifies pack signatures, with its id and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    key: VerifyingKey,
    id: KeyId,
    name: Option<String>,
}

impl PublicKey {
    /// Wraps a public key, naming it.
    pub fn new(key: VerifyingKey, name: Option<String>) -> PublicKey {
        PublicKey {
            id: KeyId::of(&key),
            key,
            name,
        }
    }

    /// Reads a public key file.
    pub fn read(path: impl AsRef<Path>) -> Result<PublicKey, KeyError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| KeyError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        PublicKey::from_text(path, &text)
    }

    /// Parses the text of a public key file.
    pub fn parse(text: &str) -> Result<PublicKey, KeyError> {
        PublicKey::from_text(Path::new("<public key>"), text)
    }

    fn from_text(path: &Path, text: &str) -> Result<PublicKey, KeyError> {
        let line = parse_key_text(path, text, PUBLIC_KEY_TAG)?;
        let bytes = decode_key(path, &line.key_hex)?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| KeyError::Malformed {
            path: path.to_path_buf(),
            problem: "the 32 bytes are not an ed25519 public key".into(),
        })?;
        let public = PublicKey::new(key, line.name);
        check_id(path, &line.id, &public.id)?;
        Ok(public)
    }

    /// The key's id.
    pub fn id(&self) -> &KeyId {
        &self.id
    }

    /// The key's name, if it has one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The ed25519 key.
    pub fn key(&self) -> &VerifyingKey {
        &self.key
    }

    /// The id with the name, for messages: `1f0c2a3b4d5e6f70 (afm-2025)`.
    pub fn label(&self) -> String {
        label(&self.id, self.name.as_deref())
    }

    /// The key line of a public key file (without a trailing newline).
    pub fn to_line(&self) -> String {
        key_line(PUBLIC_KEY_TAG, &self.id, self.key.as_bytes(), self.name())
    }

    /// Checks `signature` over `message` (strict RFC 8032 verification:
    /// no malleable or small-order encodings).
    pub fn verify(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        self.key
            .verify_strict(message, &Signature::from_bytes(signature))
            .is_ok()
    }
}

/// A private signing key, with its id and name.
///
/// The secret is wiped from memory when the value is dropped.
pub struct SecretKey {
    key: SigningKey,
    public: PublicKey,
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretKey")
            .field("id", &self.public.id)
            .field("name", &self.public.name)
            .finish_non_exhaustive()
    }
}

impl SecretKey {
    /// Generates a new key from the operating system's random source.
    pub fn generate(name: Option<&str>) -> Result<SecretKey, KeyError> {
        if let Some(name) = name {
            check_name(name)?;
        }
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| KeyError::Random(e.to_string()))?;
        let key = SigningKey::from_bytes(&seed);
        Ok(SecretKey::from_signing_key(key, name.map(str::to_owned)))
    }

    /// Wraps an ed25519 signing key, naming it.
    pub fn from_signing_key(key: SigningKey, name: Option<String>) -> SecretKey {
        let public = PublicKey::new(key.verifying_key(), name);
        SecretKey { key, public }
    }

    /// Reads a private key file.
    pub fn read(path: impl AsRef<Path>) -> Result<SecretKey, KeyError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| KeyError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        let line = parse_key_text(path, &text, PRIVATE_KEY_TAG)?;
        let seed = decode_key(path, &line.key_hex)?;
        let secret = SecretKey::from_signing_key(SigningKey::from_bytes(&seed), line.name);
        check_id(path, &line.id, secret.id())?;
        Ok(secret)
    }

    /// The key's id.
    pub fn id(&self) -> &KeyId {
        &self.public.id
    }

    /// The key's name, if it has one.
    pub fn name(&self) -> Option<&str> {
        self.public.name()
    }

    /// The matching public key.
    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    /// Signs `message` (pure Ed25519, RFC 8032).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }

    /// Writes `<stem>.key` (the private key, mode 0600) and `<stem>.pub`
    /// into `dir`, where the stem is the key's name or else its id. Refuses
    /// to replace either file. Returns the two paths.
    pub fn write_pair(&self, dir: &Path) -> Result<(PathBuf, PathBuf), KeyError> {
        std::fs::create_dir_all(dir).map_err(|e| KeyError::Io {
            path: dir.to_path_buf(),
            source: e,
        })?;
        let stem = self
            .name()
            .map(str::to_owned)
            .unwrap_or_else(|| self.id().to_string());
        let private = dir.join(format!("{stem}.key"));
        let public = dir.join(format!("{stem}.pub"));
        for path in [&private, &public] {
            if path.exists() {
                return Err(KeyError::Exists { path: path.clone() });
            }
        }
        let private_text = format!(
            "# qorgan private key {}: keep it secret; it signs rule packs\n{}\n",
            self.public.label(),
            key_line(PRIVATE_KEY_TAG, self.id(), self.key.as_bytes(), self.name())
        );
        write_new(&private, private_text.as_bytes(), true)?;
        let public_text = format!(
            "# qorgan public key {}: banks trust it to verify rule packs\n{}\n",
            self.public.label(),
            self.public.to_line()
        );
        write_new(&public, public_text.as_bytes(), false)?;
        Ok((private, public))
    }
}

/// `1f0c2a3b4d5e6f70 (afm-2025)`, or the bare id without a name.
pub(crate) fn label(id: &KeyId, name: Option<&str>) -> String {
    match name {
        Some(name) => format!("{id} ({name})"),
        None => id.to_string(),
    }
}

/// Lower-case hex of `bytes`, as digests and key ids are written.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Decodes exactly `N` bytes of hex (either case).
pub(crate) fn unhex<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != N * 2 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        let pair = text.get(i * 2..i * 2 + 2)?;
        *byte = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
}

fn check_name(name: &str) -> Result<(), KeyError> {
    let bad = |problem: &str| KeyError::BadName {
        name: name.to_owned(),
        problem: problem.to_owned(),
    };
    if name.is_empty() || name.len() > MAX_NAME {
        return Err(bad("must be 1 to 64 characters"));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        || name.starts_with('.')
    {
        return Err(bad(
            "may hold only ASCII letters, digits, `-`, `_` and `.`, and may not start with `.`",
        ));
    }
    Ok(())
}

fn key_line(tag: &str, id: &KeyId, key: &[u8; 32], name: Option<&str>) -> String {
    match name {
        Some(name) => format!("{tag} {id} {} {name}", hex(key)),
        None => format!("{tag} {id} {}", hex(key)),
    }
}

struct KeyLine {
    id: String,
    key_hex: String,
    name: Option<String>,
}

fn parse_key_text(path: &Path, text: &str, tag: &str) -> Result<KeyLine, KeyError> {
    let malformed = |problem: String| KeyError::Malformed {
        path: path.to_path_buf(),
        problem,
    };
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    let line = lines
        .next()
        .ok_or_else(|| malformed("no key line".into()))?;
    if lines.next().is_some() {
        return Err(malformed("more than one key line".into()));
    }
    let fields: Vec<&str> = line.split_ascii_whitespace().collect();
    let (found, id, key_hex, name) = match fields.as_slice() {
        [found, id, key] => (*found, *id, *key, None),
        [found, id, key, name] => (*found, *id, *key, Some(*name)),
        _ => {
            return Err(malformed(format!(
                "expected `{tag} <key id> <64 hex digits> [name]`"
            )));
        }
    };
    if found != tag {
        let other = if found == PUBLIC_KEY_TAG || found == PRIVATE_KEY_TAG {
            format!("this is a `{found}` key file, where a `{tag}` one is needed")
        } else {
            format!("expected a line starting with `{tag}`, found `{found}`")
        };
        return Err(malformed(other));
    }
    if let Some(name) = name {
        check_name(name)?;
    }
    Ok(KeyLine {
        id: id.to_owned(),
        key_hex: key_hex.to_owned(),
        name: name.map(str::to_owned),
    })
}

fn decode_key(path: &Path, key_hex: &str) -> Result<[u8; 32], KeyError> {
    unhex::<32>(key_hex).ok_or_else(|| KeyError::Malformed {
        path: path.to_path_buf(),
        problem: "the key is not 64 hex digits".into(),
    })
}

fn check_id(path: &Path, written: &str, derived: &KeyId) -> Result<(), KeyError> {
    if written.eq_ignore_ascii_case(derived.as_str()) {
        Ok(())
    } else {
        Err(KeyError::Malformed {
            path: path.to_path_buf(),
            problem: format!(
                "the file says key id {written}, but its key's id is {derived}: the file is damaged"
            ),
        })
    }
}

fn write_new(path: &Path, bytes: &[u8], secret: bool) -> Result<(), KeyError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if secret { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = secret;
    let io = |e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            KeyError::Exists {
                path: path.to_path_buf(),
            }
        } else {
            KeyError::Io {
                path: path.to_path_buf(),
                source: e,
            }
        }
    };
    let mut file = options.open(path).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::tempdir;

    #[test]
    fn a_generated_key_round_trips_through_its_files() -> Result<(), KeyError> {
        let dir = tempdir();
        let key = SecretKey::generate(Some("afm-2025"))?;
        let (private, public) = key.write_pair(dir.path())?;
        assert_eq!(private, dir.path().join("afm-2025.key"));
        let read_back = SecretKey::read(&private)?;
        let public_key = PublicKey::read(&public)?;
        assert_eq!(read_back.id(), key.id());
        assert_eq!(public_key.id(), key.id());
        assert_eq!(public_key.name(), Some("afm-2025"));
        let signature = read_back.sign(b"message");
        assert!(public_key.verify(b"message", &signature));
        assert!(!public_key.verify(b"massage", &signature));
        Ok(())
    }

    #[test]
    fn a_key_without_a_name_is_filed_under_its_id() -> Result<(), KeyError> {
        let dir = tempdir();
        let key = SecretKey::generate(None)?;
        let (private, public) = key.write_pair(dir.path())?;
        assert_eq!(private, dir.path().join(format!("{}.key", key.id())));
        assert_eq!(PublicKey::read(&public)?.name(), None);
        Ok(())
    }

    #[cfg(unix)]
    #[test]
    fn private_key_files_are_readable_by_their_owner_only() -> Result<(), KeyError> {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempdir();
        let (private, _) = SecretKey::generate(Some("k"))?.write_pair(dir.path())?;
        let mode = std::fs::metadata(&private)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0);
        assert_eq!(mode, 0o600);
        Ok(())
    }

    #[test]
    fn existing_key_files_are_not_overwritten() -> Result<(), KeyError> {
        let dir = tempdir();
        SecretKey::generate(Some("k"))?.write_pair(dir.path())?;
        let again = SecretKey::generate(Some("k"))?.write_pair(dir.path());
        assert!(matches!(again, Err(KeyError::Exists { .. })), "{again:?}");
        Ok(())
    }

    #[test]
    fn a_key_file_whose_id_does_not_match_its_key_is_refused() -> Result<(), KeyError> {
        let dir = tempdir();
        let key = SecretKey::generate(Some("k"))?;
        let (_, public) = key.write_pair(dir.path())?;
        let text = std::fs::read_to_string(&public).unwrap_or_default();
        let _ = std::fs::write(&public, text.replace(key.id().as_str(), "0000000000000000"));
        let err = PublicKey::read(&public).map(|_| ()).unwrap_err_or_default();
        assert!(err.contains("damaged"), "{err}");
        Ok(())
    }

    #[test]
    fn a_public_key_file_is_not_a_private_key() -> Result<(), KeyError> {
        let dir = tempdir();
        let (_, public) = SecretKey::generate(Some("k"))?.write_pair(dir.path())?;
        let err = SecretKey::read(&public).map(|_| ()).unwrap_err_or_default();
        assert!(err.contains("`qorgan-ed25519-public` key file"), "{err}");
        Ok(())
    }

    #[test]
    fn key_names_that_are_not_file_names_are_refused() {
        for name in ["", "../x", "a b", ".hidden", &"x".repeat(65)] {
            assert!(
                matches!(
                    SecretKey::generate(Some(name)),
                    Err(KeyError::BadName { .. })
                ),
                "{name:?}"
            );
        }
    }

    #[test]
    fn key_ids_are_sixteen_hex_digits() {
        assert!(KeyId::parse("1F0C2A3B4D5E6F70").is_ok_and(|k| k.as_str() == "1f0c2a3b4d5e6f70"));
        assert!(KeyId::parse("1f0c").is_err());
        assert!(KeyId::parse("zz0c2a3b4d5e6f70").is_err());
    }

    trait ErrText {
        fn unwrap_err_or_default(self) -> String;
    }

    impl ErrText for Result<(), KeyError> {
        fn unwrap_err_or_default(self) -> String {
            match self {
                Ok(()) => "<accepted>".into(),
                Err(e) => e.to_string(),
            }
        }
    }
}
