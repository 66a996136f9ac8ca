//! Why a candidate pack was refused, and why a source could not be polled.

use std::path::PathBuf;
use std::time::Duration;

use time::OffsetDateTime;

use crate::engine::LoadError;
use crate::harness::HarnessError;
use crate::pack::{ArchiveError, MANIFEST, PackError, SignatureError};

/// What is wrong with a candidate pack: one variant per check of the
/// activation pipeline, in the order the checks run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RefusalReason {
    /// The candidate could not be read where it was offered (it may have
    /// been moved, or still be being written).
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The candidate could not be brought into a private directory: a
    /// corrupt or unsafe archive, or a pack directory holding a symbolic
    /// link, a device, or more than the extraction limits allow.
    #[error("cannot unpack: {0}")]
    Archive(ArchiveError),
    /// The signatures do not satisfy the trust configuration: none, a
    /// malformed one, a revoked key, a signature that does not hold or
    /// covers another pack, an unknown key, too few signatures.
    #[error("{0}")]
    Signature(SignatureError),
    /// A component or list is not the file `pack.toml` records.
    #[error("{file}: sha256 is {actual}, but pack.toml says {expected}")]
    Digest {
        /// The file, relative to the pack.
        file: String,
        /// The digest `pack.toml` records.
        expected: String,
        /// The file's digest.
        actual: String,
    },
    /// The manifest is malformed or out of bounds, or a file it names is
    /// missing.
    #[error("{0}")]
    Pack(PackError),
    /// The pack is already the active one: nothing to do. Not a fault, so
    /// it is logged quietly and not recorded as the last refusal.
    #[error("the pack is already active (serial {serial})")]
    AlreadyActive {
        /// Its serial.
        serial: u64,
    },
    /// The serial is not above the active (or last persisted) pack's: a
    /// rollback to an older or a rival release.
    #[error(
        "serial {offered} is not above the active pack's serial {active}: refused as a rollback"
    )]
    Rollback {
        /// The candidate's serial.
        offered: u64,
        /// The serial it must exceed.
        active: u64,
    },
    /// The pack's validity has ended.
    #[error("the pack expired at {expires_at}")]
    Expired {
        /// When it expired.
        expires_at: String,
    },
    /// The pack is issued later than this host's clock says it is now.
    #[error("the pack is issued at {issued_at}, still in the future on this host (now {now})")]
    NotYetValid {
        /// When it is issued.
        issued_at: String,
        /// This host's time.
        now: String,
    },
    /// The pack needs a newer host.
    #[error("the pack needs qorgan {required} or newer; this host is {have}")]
    HostTooOld {
        /// The minimum host version.
        required: String,
        /// This host's version.
        have: String,
    },
    /// The engine would not compile or configure the pack.
    #[error("the pack does not load: {0}")]
    Load(LoadError),
    /// The pack carries no test cases, so nothing shows what it decides on
    /// this host.
    #[error(
        "the pack has no test cases of its own (in `{tests}`); a pack must prove on this host what it decides"
    )]
    NoOwnTests {
        /// Where the cases should be, relative to the pack.
        tests: String,
    },
    /// The pack's test cases could not be read.
    #[error("the pack's own test cases cannot be read: {0}")]
    OwnTestsUnreadable(HarnessError),
    /// Some of the pack's own test cases fail on this host.
    #[error(
        "{failed} of the pack's own test cases fail on this host ({passed} pass); first: {first_failure}"
    )]
    OwnTestsFailed {
        /// Cases that failed.
        failed: usize,
        /// Cases that passed.
        passed: usize,
        /// The first failing case and what differed.
        first_failure: String,
    },
    /// The pack could not be written into the state directory; it is not
    /// activated, so that what runs is what a restart restores.
    #[error("cannot persist the pack in {path}: {source}")]
    Persist {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The state directory's record of the active pack is unreadable.
    #[error("{path}: {problem}")]
    PersistedRecord {
        /// The record file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// The persisted pack is signed and valid, but it is not the pack the
    /// record says was active: the state directory was tampered with.
    #[error(
        "the persisted pack is not the one recorded as active: the record names statement {recorded}, the directory holds {found}"
    )]
    NotThePersistedPack {
        /// The statement sha256 in the record.
        recorded: String,
        /// The statement sha256 of the directory.
        found: String,
    },
}

impl RefusalReason {
    /// A short, stable name of the reason, for status and metrics:
    /// `signature`, `digest`, `rollback`, `expired`, ...
    pub fn kind(&self) -> &'static str {
        match self {
            RefusalReason::Io { .. } => "io",
            RefusalReason::Archive(_) => "archive",
            RefusalReason::Signature(_) => "signature",
            RefusalReason::Digest { .. } => "digest",
            RefusalReason::Pack(_) => "pack",
            RefusalReason::AlreadyActive { .. } => "already-active",
            RefusalReason::Rollback { .. } => "rollback",
            RefusalReason::Expired { .. } => "expired",
            RefusalReason::NotYetValid { .. } => "not-yet-valid",
            RefusalReason::HostTooOld { .. } => "host-too-old",
            RefusalReason::Load(_) => "load",
            RefusalReason::NoOwnTests { .. } => "no-own-tests",
            RefusalReason::OwnTestsUnreadable(_) => "own-tests-unreadable",
            RefusalReason::OwnTestsFailed { .. } => "own-tests-failed",
            RefusalReason::Persist { .. } => "persist",
            RefusalReason::PersistedRecord { .. } => "persisted-record",
            RefusalReason::NotThePersistedPack { .. } => "not-the-persisted-pack",
        }
    }

    /// Whether offering the same candidate again later may succeed: the
    /// candidate could not be read where it was offered, the state
    /// directory could not be written, or the pack is issued in the near
    /// future. Every other reason is in the candidate's content (read from
    /// a private copy) and will not change.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            RefusalReason::Io { .. }
                | RefusalReason::Persist { .. }
                | RefusalReason::NotYetValid { .. }
                | RefusalReason::Archive(ArchiveError::Io { .. })
        )
    }

    /// The reason for a refusal by [`crate::pack::TrustConfig::verify`]:
    /// digests and manifest problems get their own variants.
    pub fn from_signature(error: SignatureError) -> RefusalReason {
        match error {
            SignatureError::DigestMismatch {
                file,
                expected_by,
                expected,
                actual,
            } if expected_by == MANIFEST => RefusalReason::Digest {
                file,
                expected,
                actual,
            },
            SignatureError::Pack(e) => RefusalReason::from_pack(e),
            e => RefusalReason::Signature(e),
        }
    }

    /// The reason for a refusal by [`crate::Pack::read_at`]. It reads the
    /// private copy, so an I/O error there is a defect of the pack (a file
    /// it names is missing), not a passing state of the source.
    pub fn from_pack(error: PackError) -> RefusalReason {
        match error {
            PackError::DigestMismatch {
                file,
                expected,
                actual,
            } => RefusalReason::Digest {
                file,
                expected,
                actual,
            },
            PackError::Expired { expires_at } => RefusalReason::Expired { expires_at },
            PackError::HostTooOld { required, have } => {
                RefusalReason::HostTooOld { required, have }
            }
            e => RefusalReason::Pack(e),
        }
    }

    /// The reason for an archive or directory that could not be copied
    /// into a private directory.
    pub fn from_archive(error: ArchiveError) -> RefusalReason {
        match error {
            ArchiveError::Io { path, source } => RefusalReason::Io { path, source },
            e => RefusalReason::Archive(e),
        }
    }
}

/// A candidate pack that was not activated, and why. The active pack, if
/// any, is unchanged.
#[derive(Debug, thiserror::Error)]
#[error("refused {candidate}: {reason}")]
pub struct Refusal {
    /// The candidate, as [`super::Candidate`] displays it.
    pub candidate: String,
    /// What is wrong with it (boxed: the reasons carry whole errors).
    pub reason: Box<RefusalReason>,
    /// When it was refused.
    pub at: OffsetDateTime,
}

/// Why the activator could not be set up, or a source could not be polled.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// A directory or file could not be read or created.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The background thread that polls a source could not be started.
    #[error("cannot start the thread that polls {source_name}: {error}")]
    Thread {
        /// The source.
        source_name: String,
        /// The error.
        error: std::io::Error,
    },
    /// A URL or registry reference that cannot name a pack source.
    #[error("`{location}` cannot be a pack source: {problem}")]
    InvalidLocation {
        /// What was given.
        location: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The HTTP client or the runtime that drives it could not be set up.
    #[error("cannot set up the client for {source_name}: {problem}")]
    Client {
        /// The source.
        source_name: String,
        /// What failed.
        problem: String,
    },
    /// A remote source could not be polled: the server or registry is
    /// unreachable, answered with an error, or sent too much. The source
    /// waits `retry_in` before it asks again, doubling the wait with each
    /// failure in a row up to its cap.
    #[error(
        "{source_name}: {problem} (failure {failures} in a row; next attempt in {secs:.1} s)",
        secs = retry_in.as_secs_f64()
    )]
    Unreachable {
        /// The source.
        source_name: String,
        /// What went wrong.
        problem: RemoteProblem,
        /// Failures in a row, this one included.
        failures: u32,
        /// How long the source waits before it asks again.
        retry_in: Duration,
    },
    /// What a registry holds under the reference is not a qorgan pack
    /// artifact (see `docs/packs.md`). Reported once per manifest digest:
    /// the source asks again only when the reference moves.
    #[error("{source_name}: manifest {digest} is not a qorgan pack: {problem}")]
    NotAPackArtifact {
        /// The source.
        source_name: String,
        /// The manifest's digest.
        digest: String,
        /// What differs from the pack artifact layout.
        problem: String,
    },
}

/// Why a remote server or registry could not give (or take) a pack.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RemoteProblem {
    /// No answer: the connection, TLS or the transfer failed, or timed out.
    #[error("no answer: {0}")]
    Network(String),
    /// The server answered with an HTTP status other than the expected
    /// ones.
    #[error("the server answered {status}")]
    Status {
        /// The status code.
        status: u16,
    },
    /// The registry refused the request or answered something the OCI
    /// distribution protocol does not allow (including a blob whose digest
    /// differs from the one its manifest names).
    #[error("the registry: {0}")]
    Registry(String),
    /// The archive is larger than the extraction limits allow.
    #[error("the archive is larger than {max} bytes, the most this host accepts")]
    TooLarge {
        /// The most bytes accepted.
        max: u64,
    },
    /// The downloaded archive could not be written to its private file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl SourceError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        SourceError::Io {
            path: path.into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digest_that_differs_from_the_manifest_is_its_own_reason() {
        let reason = RefusalReason::from_signature(SignatureError::DigestMismatch {
            file: "plugins/a.wasm".into(),
            expected_by: MANIFEST.into(),
            expected: "00".into(),
            actual: "11".into(),
        });
        assert!(
            matches!(&reason, RefusalReason::Digest { file, .. } if file == "plugins/a.wasm"),
            "{reason:?}"
        );
        assert_eq!(reason.kind(), "digest");
    }

    #[test]
    fn a_file_changed_since_signing_is_a_signature_refusal() {
        let reason = RefusalReason::from_signature(SignatureError::DigestMismatch {
            file: "tests/a.yaml".into(),
            expected_by: "the signature of 0123456789abcdef".into(),
            expected: "00".into(),
            actual: "11".into(),
        });
        assert_eq!(reason.kind(), "signature");
    }

    #[test]
    fn manifest_refusals_map_to_expiry_and_host_version() {
        let expired = RefusalReason::from_pack(PackError::Expired {
            expires_at: "2001-01-01T00:00:00Z".into(),
        });
        assert_eq!(expired.kind(), "expired");
        assert_eq!(
            expired.to_string(),
            "the pack expired at 2001-01-01T00:00:00Z"
        );
        let old = RefusalReason::from_signature(SignatureError::Pack(PackError::HostTooOld {
            required: "9.0".into(),
            have: "0.1.0".into(),
        }));
        assert_eq!(old.kind(), "host-too-old");
    }

    #[test]
    fn only_reads_writes_and_the_issue_time_are_worth_retrying() {
        let io = RefusalReason::from_archive(ArchiveError::Io {
            path: "x".into(),
            source: std::io::Error::other("busy"),
        });
        assert!(io.is_transient());
        assert!(
            RefusalReason::NotYetValid {
                issued_at: "a".into(),
                now: "b".into()
            }
            .is_transient()
        );
        assert!(
            !RefusalReason::Rollback {
                offered: 1,
                active: 2
            }
            .is_transient()
        );
        let missing = RefusalReason::from_pack(PackError::Io {
            path: "lists/l.txt".into(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        });
        assert_eq!(missing.kind(), "pack");
        assert!(!missing.is_transient());
        assert!(
            !RefusalReason::from_archive(ArchiveError::Corrupt {
                problem: "crc".into()
            })
            .is_transient()
        );
    }
}
