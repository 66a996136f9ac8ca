//! Why a pack could not be read or built.

use std::path::PathBuf;

use crate::lists::ListError;

/// Why a pack was refused. Every variant names what is wrong and where.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PackError {
    /// A file of the pack could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// `pack.toml` is not valid TOML or does not match the manifest format.
    #[error("{path}: {message}")]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// The parser's message, with the line.
        message: String,
    },
    /// A manifest value is out of bounds or inconsistent.
    #[error("pack.toml: `{field}`: {problem}")]
    Invalid {
        /// The manifest key, e.g. `plugin[1].weight`.
        field: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A plugin's component file is not there.
    #[error(
        "plugin `{plugin}`: component {path} is missing; build it with `qorgan pack build {pack_dir}`"
    )]
    MissingComponent {
        /// The plugin's id.
        plugin: String,
        /// The missing file.
        path: PathBuf,
        /// The pack directory, for the hint.
        pack_dir: String,
    },
    /// A file's contents do not match the digest in the manifest.
    #[error("{file}: sha256 is {actual}, but pack.toml says {expected}")]
    DigestMismatch {
        /// The file, relative to the pack.
        file: String,
        /// The digest in the manifest.
        expected: String,
        /// The digest of the file.
        actual: String,
    },
    /// The pack's validity has ended.
    #[error("pack expired at {expires_at}")]
    Expired {
        /// When it expired.
        expires_at: String,
    },
    /// The pack needs a newer host.
    #[error("pack needs qorgan {required} or newer; this host is {have}")]
    HostTooOld {
        /// The minimum host version.
        required: String,
        /// This host's version.
        have: String,
    },
    /// A reference list could not be loaded.
    #[error(transparent)]
    List(#[from] ListError),
}

impl PackError {
    /// [`PackError::Invalid`] for `field`.
    pub fn invalid(field: impl Into<String>, problem: impl Into<String>) -> Self {
        PackError::Invalid {
            field: field.into(),
            problem: problem.into(),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        PackError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Why a key file could not be read, written or generated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// A key file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A key file does not hold one key line in the documented format.
    #[error("{path}: {problem}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// Generating or writing a key would replace an existing file.
    #[error("{path} already exists; a key file is never overwritten")]
    Exists {
        /// The existing file.
        path: PathBuf,
    },
    /// A key name outside the allowed characters.
    #[error("key name `{name}`: {problem}")]
    BadName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        problem: String,
    },
    /// Text that is not a key id (16 hex digits).
    #[error("`{text}` is not a key id (16 hex digits)")]
    BadKeyId {
        /// The text given.
        text: String,
    },
    /// The operating system's random source failed.
    #[error("cannot get random bytes for a new key: {0}")]
    Random(String),
}

/// Why a pack could not be signed, or why its signatures were refused.
///
/// Verification refuses a pack with the first of these that applies, in
/// this order: no signatures; a malformed signature file; a signature by a
/// revoked key; a file that is not what the manifest or the signed
/// statement says; a signature by a trusted key that does not hold; too few
/// valid signatures by trusted keys.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The pack could not be read, or its manifest does not match its files.
    #[error(transparent)]
    Pack(#[from] PackError),
    /// A key file could not be used.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A component or list has no digest in `pack.toml`: the pack is a
    /// source pack that was never built.
    #[error(
        "{what} has no sha256 in pack.toml: build the pack (`qorgan pack build {pack_dir}`) before signing it"
    )]
    NotBuilt {
        /// The entry without a digest, e.g. ``plugin `kz-threshold` ``.
        what: String,
        /// The pack directory, for the hint.
        pack_dir: String,
    },
    /// A file in the pack that a signature cannot cover: a symbolic link, a
    /// device, or a name that is not portable text.
    #[error("{path}: {problem}")]
    UnsupportedFile {
        /// The file, relative to the pack.
        path: String,
        /// Why it cannot be signed.
        problem: String,
    },
    /// A manifest value with no canonical form (a TOML date-time, a float
    /// that is not finite).
    #[error("pack.toml: `{field}`: {problem}")]
    NotCanonical {
        /// The manifest key.
        field: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The pack carries no signature at all.
    #[error("the pack is not signed: {dir} has no signatures/*.sig")]
    NoSignatures {
        /// The pack directory.
        dir: PathBuf,
    },
    /// A file under `signatures/` is not a signature in the documented
    /// format.
    #[error("malformed signature file {file}: {problem}")]
    Malformed {
        /// The file, relative to the pack.
        file: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The pack carries a signature by a revoked key. A revoked key that
    /// still signs means the key is compromised, so the pack is refused
    /// whatever other signatures it carries.
    #[error(
        "the pack is signed by revoked key {key}; a revoked key's signature refuses a pack whoever else signed it"
    )]
    RevokedKey {
        /// The revoked key.
        key: String,
    },
    /// A signature by a trusted key does not verify: the signature file or
    /// the statement it carries was altered.
    #[error(
        "the signature by {key} does not verify: the signature or the statement it signs was altered"
    )]
    BadSignature {
        /// The trusted key, with its name.
        key: String,
    },
    /// A file's content is not the one the manifest records, or the one a
    /// trusted key signed.
    #[error("{file}: sha256 is {actual}, but {expected_by} says {expected}")]
    DigestMismatch {
        /// The file, relative to the pack.
        file: String,
        /// Who recorded the expected digest: `pack.toml`, or the signature
        /// of a named key.
        expected_by: String,
        /// The recorded digest.
        expected: String,
        /// The file's digest.
        actual: String,
    },
    /// The pack differs from what a trusted key signed in more than a
    /// file's content: the manifest changed, or files were added or
    /// removed.
    #[error("the pack changed after {key} signed it: {}", changes.join("; "))]
    ChangedSinceSigning {
        /// The trusted key, with its name.
        key: String,
        /// What changed, e.g. ``pack.toml: `serial` changed``.
        changes: Vec<String>,
    },
    /// Every signature is by a key this host does not trust.
    #[error("the pack is signed only by keys this host does not trust: {}", keys.join(", "))]
    UnknownKey {
        /// The keys' ids.
        keys: Vec<String>,
    },
    /// Fewer valid signatures by trusted keys than required.
    #[error(
        "too few valid signatures: have {have} of {required} required{}",
        if untrusted.is_empty() { String::new() } else { format!(" (not counted, untrusted keys: {})", untrusted.join(", ")) }
    )]
    TooFewSignatures {
        /// Valid signatures by trusted keys.
        have: usize,
        /// How many are required.
        required: usize,
        /// Signatures by keys this host does not trust.
        untrusted: Vec<String>,
    },
    /// The trust configuration is inconsistent.
    #[error("trust configuration: {0}")]
    Trust(String),
    /// A signature file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl SignatureError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        SignatureError::Io {
            path: path.into(),
            source,
        }
    }
}

/// The extraction limit an archive exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ArchiveLimit {
    /// The number of entries (files and directories).
    Entries,
    /// The size of one file.
    FileBytes,
    /// The size of all files together, and of the uncompressed stream.
    TotalBytes,
    /// The length of one path.
    PathBytes,
}

impl std::fmt::Display for ArchiveLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ArchiveLimit::Entries => "entries",
            ArchiveLimit::FileBytes => "bytes in one file",
            ArchiveLimit::TotalBytes => "bytes in total (uncompressed)",
            ArchiveLimit::PathBytes => "bytes in one path",
        })
    }
}

/// Why a pack archive could not be written or extracted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArchiveError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The archive is not a well-formed tar (or gzip-compressed tar)
    /// stream: truncated, corrupted, or with data after its end.
    #[error("corrupt archive: {problem}")]
    Corrupt {
        /// What is wrong.
        problem: String,
    },
    /// An entry whose path could escape the destination or is not portable:
    /// absolute, with `..`, empty, or with control characters.
    #[error("archive entry `{path}`: {problem}")]
    BadPath {
        /// The entry's path, as written in the archive (lossy UTF-8).
        path: String,
        /// What is wrong with it.
        problem: String,
    },
    /// An entry that is not a regular file or a directory: a symbolic or
    /// hard link, a device, a FIFO, a sparse file, a global header.
    #[error("archive entry `{path}` is a {kind}; a pack archive holds only files and directories")]
    UnsupportedEntry {
        /// The entry's path.
        path: String,
        /// What kind of entry it is.
        kind: String,
    },
    /// The same path appears twice.
    #[error("archive entry `{path}` appears twice")]
    Duplicate {
        /// The path.
        path: String,
    },
    /// The archive exceeds an extraction limit.
    #[error("archive exceeds the limit of {max} {limit}{}", path.as_ref().map(|p| format!(" at `{p}`")).unwrap_or_default())]
    LimitExceeded {
        /// Which limit.
        limit: ArchiveLimit,
        /// The limit's value.
        max: u64,
        /// The entry that crossed it, where there is one.
        path: Option<String>,
    },
    /// A file in the pack directory that an archive cannot carry.
    #[error("{path}: {problem}")]
    UnsupportedFile {
        /// The file, relative to the pack.
        path: String,
        /// Why it cannot be archived.
        problem: String,
    },
    /// The archive has no `pack.toml` at its root.
    #[error("the archive holds no pack.toml at its root: not a pack archive")]
    NotAPack,
    /// The destination exists already.
    #[error("{path} already exists; extract into a new directory")]
    DestinationExists {
        /// The destination.
        path: PathBuf,
    },
}

impl ArchiveError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ArchiveError::Io {
            path: path.into(),
            source,
        }
    }
}
