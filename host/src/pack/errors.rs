//! Why a pack could not be read or built.

use std::path::PathBuf;

use crate::lists::ListError;

/// Why a pack was refused. Every variant names what is wrong and where.
#[derive(Debug, thiserror::Error)]
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
    /// Building a plugin crate failed.
    #[error(transparent)]
    Build(#[from] crate::build::BuildError),
}

impl PackError {
    pub(crate) fn invalid(field: impl Into<String>, problem: impl Into<String>) -> Self {
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
