//! What can go wrong with the decision log.

use std::path::PathBuf;

/// An error of the decision log: opening it, writing it, verifying it or
/// replaying it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// SQLite refused an operation on the log.
    #[error("decision log {path}: {source}")]
    Sqlite {
        /// The log's file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// PostgreSQL (the cluster's journal and decision log) refused an
    /// operation or could not be reached.
    #[error("PostgreSQL at {database}: {source}")]
    Postgres {
        /// The database, as `host:port/dbname` (never its password).
        database: String,
        /// The client's error.
        source: postgres::Error,
    },
    /// Another process holds this replica's lock: a replica of the same
    /// name runs, or another replica is deciding this one's entries.
    #[error(
        "PostgreSQL at {database}: another process holds the lock of replica {name}; each replica needs a name of its own (--replica), and one whose entries another replica is deciding waits for it"
    )]
    ReplicaLocked {
        /// The database, as `host:port/dbname`.
        database: String,
        /// The replica's name.
        name: String,
    },
    /// A file or directory around the log could not be used.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a decision log of a format this host reads.
    #[error("{path} is not a decision log this host reads: {problem}")]
    Format {
        /// The log's file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The group holding this decision could not be committed: the
    /// decision is not in the log and must not be acknowledged.
    #[error("the decision log could not commit: {0}")]
    NotDurable(String),
    /// The writer has stopped: nothing more can be appended.
    #[error("the decision log's writer has stopped")]
    WriterStopped,
    /// The writer's thread could not be started.
    #[error("cannot start the decision log's writer: {0}")]
    Thread(std::io::Error),
    /// A row breaks the hash chain: it, or a row before it, was edited,
    /// inserted or deleted.
    #[error("row {seq}: {problem}")]
    Broken {
        /// The row's sequence number.
        seq: i64,
        /// What does not hold.
        problem: String,
    },
    /// A pack that decided logged rows cannot be rebuilt for replay.
    #[error("pack {digest}: {problem}")]
    Pack {
        /// The pack's manifest sha256.
        digest: String,
        /// What is wrong.
        problem: String,
    },
}

impl AuditError {
    /// The SQLite result code naming why the log could not be written, for
    /// the faults an operator must act on: `SQLITE_FULL` (the disk is
    /// full), `SQLITE_READONLY` (the file or its file system is read-only),
    /// `SQLITE_IOERR` (the disk failed), `SQLITE_CANTOPEN`; `None` for
    /// any other error.
    ///
    /// For the cluster's PostgreSQL: `POSTGRES_UNAVAILABLE` when it cannot
    /// be reached or is shutting down or out of resources (no SQL error,
    /// or SQLSTATE classes 08, 53 and 57).
    pub fn fault(&self) -> Option<&'static str> {
        use rusqlite::ErrorCode;
        let source = match self {
            AuditError::Sqlite { source, .. } => source,
            AuditError::Postgres { source, .. } => {
                return crate::cluster::unavailable(source).then_some("POSTGRES_UNAVAILABLE");
            }
            AuditError::ReplicaLocked { .. } => return Some("REPLICA_LOCKED"),
            _ => return None,
        };
        match source.sqlite_error_code()? {
            ErrorCode::DiskFull => Some("SQLITE_FULL"),
            ErrorCode::ReadOnly => Some("SQLITE_READONLY"),
            ErrorCode::SystemIoFailure => Some("SQLITE_IOERR"),
            ErrorCode::CannotOpen => Some("SQLITE_CANTOPEN"),
            _ => None,
        }
    }

    /// Wraps a SQLite error on the log at `path`.
    pub(crate) fn sqlite(path: &std::path::Path, source: rusqlite::Error) -> AuditError {
        AuditError::Sqlite {
            path: path.to_path_buf(),
            source,
        }
    }
}
