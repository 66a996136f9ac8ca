//! Why publishing a pack failed.

use std::path::PathBuf;

use qorgan::pack::{ArchiveError, PackError, SignatureError};
use qorgan::source::RemoteProblem;

/// Why a pack could not be published.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    /// The destination is neither a directory, an `http(s)://` URL nor an
    /// `oci://` reference that can be used.
    #[error("`{target}` cannot be published to: {problem}")]
    InvalidTarget {
        /// What was given.
        target: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The pack carries no signature: no host would accept it.
    #[error("{pack}: the pack is not signed; sign it with `qorgan pack sign` before publishing")]
    NotSigned {
        /// The pack directory or archive.
        pack: PathBuf,
    },
    /// The pack's signatures are malformed, do not cover the pack as it is
    /// (it changed after signing), or do not satisfy the trust given.
    #[error("{pack}: {error}")]
    Signature {
        /// The pack directory or archive.
        pack: PathBuf,
        /// Why.
        error: SignatureError,
    },
    /// The pack's manifest is unreadable or names the pack in a way no
    /// host accepts.
    #[error("{pack}: {error}")]
    Pack {
        /// The pack directory or archive.
        pack: PathBuf,
        /// Why.
        error: PackError,
    },
    /// The pack could not be archived, or the archive given is corrupt or
    /// unsafe.
    #[error("{pack}: {error}")]
    Archive {
        /// The pack directory or archive.
        pack: PathBuf,
        /// Why.
        error: ArchiveError,
    },
    /// The destination directory already holds a different archive of the
    /// same name and serial: a published serial is never replaced.
    #[error(
        "{path} already holds a different archive of this pack and serial; a published release is never replaced: raise the serial"
    )]
    AlreadyPublished {
        /// The archive in the way.
        path: PathBuf,
    },
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The HTTP client or its runtime could not be set up.
    #[error("cannot set up the client for {target}: {problem}")]
    Client {
        /// The destination.
        target: String,
        /// What failed.
        problem: String,
    },
    /// The server or registry did not take the pack.
    #[error("{target}: {problem}")]
    Remote {
        /// The destination.
        target: String,
        /// What went wrong.
        problem: RemoteProblem,
    },
}
