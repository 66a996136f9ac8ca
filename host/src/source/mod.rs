//! Where packs come from, and how one becomes active on a bank's host.
//!
//! # Why
//!
//! A bank's host keeps deciding payments while the regulator publishes new
//! rules. A new pack arrives from somewhere (a directory today; an HTTP
//! server or an OCI registry next) and must replace the active pack only if
//! it is safe: signed by enough keys the bank trusts, none of them revoked,
//! every file as signed, newer than what runs (a rollback to an older pack
//! would bring back rules the regulator withdrew), within its validity,
//! loadable, and proven on *this* host by its own test cases. Anything less
//! is refused with a typed reason, and the active pack keeps deciding: a
//! broken or hostile pack never replaces a working one.
//!
//! The pieces, one concern each:
//!
//! - [`Activator`] (`activation.rs`): the pipeline of checks, in order, and
//!   the atomic swap; [`Activator::restore`] brings back the persisted pack
//!   at start-up, offline, re-verified;
//! - [`Candidate`] (`candidate.rs`): a pack offered, not yet trusted;
//! - the state directory (`store.rs`): the active pack's verified files and
//!   a record of it, replaced atomically;
//! - [`Status`] (`status.rs`): the active pack, the last check, the last
//!   refusal, for operators and the HTTP service;
//! - [`Source`] and [`DirSource`] (`dir.rs`): where candidates come from;
//!   [`Watcher`] (`watch.rs`) polls a source on a background thread;
//! - [`Clock`] (`clock.rs`): the time packs are judged by, settable in tests;
//! - `errors.rs`: [`RefusalReason`], one variant per check.
//!
//! Sources only find candidates; every check is the activator's, so a new
//! source (HTTP, OCI) adds transport, never trust.

mod activation;
mod candidate;
mod clock;
mod dir;
mod errors;
mod status;
mod store;
mod watch;

pub use activation::{Activated, Activator, ActivatorBuilder};
pub use candidate::Candidate;
pub use clock::{Clock, SystemClock};
pub use dir::DirSource;
pub use errors::{Refusal, RefusalReason, SourceError};
pub use status::{ActivePack, RefusalRecord, SourceProblem, Status};
pub use watch::Watcher;

/// A place new packs appear: a directory, later an HTTP server or an OCI
/// registry. A source finds candidates; the [`Activator`] decides whether
/// they are safe.
pub trait Source: Send {
    /// What the source is, for logs and status: `directory /srv/packs`.
    fn name(&self) -> String;

    /// The candidates that appeared since the last poll, each offered once,
    /// oldest first.
    fn poll(&mut self) -> Result<Vec<Candidate>, SourceError>;

    /// `candidate` was refused for a reason that may pass (a file still
    /// being written, a pack issued in a minute): offer it again at the
    /// next poll. By default it is not offered again.
    fn retry_later(&mut self, candidate: &Candidate) {
        let _ = candidate;
    }
}
