//! What can stop the service from starting or running.

use std::path::PathBuf;

/// Why the service could not start, or stopped with a fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// A configuration file, variable or flag is malformed.
    #[error("configuration: {0}")]
    Config(String),
    /// A configuration file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The local pack cannot be used.
    #[error("{0}")]
    Pack(String),
    /// The engine could not be built or the pack not loaded.
    #[error("{0}")]
    Engine(String),
    /// The pack source or its trust could not be set up.
    #[error("{0}")]
    Source(String),
    /// The decision log could not be opened.
    #[error(transparent)]
    Audit(#[from] crate::audit::AuditError),
    /// The journal could not be opened or restored.
    #[error(transparent)]
    Journal(#[from] qorgan::journal::JournalError),
    /// The listening socket could not be bound, or the server failed.
    #[error("{what}: {source}")]
    Net {
        /// What was being done.
        what: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A thread or the runtime could not be started.
    #[error("cannot start {what}: {source}")]
    Runtime {
        /// What.
        what: String,
        /// The I/O error.
        source: std::io::Error,
    },
}
