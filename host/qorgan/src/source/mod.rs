//! Where packs come from, and how one becomes active on a bank's host.
//!
//! # Why
//!
//! A bank's host keeps deciding payments while the regulator publishes new
//! rules. A new pack arrives from somewhere (a directory, an HTTP server,
//! an OCI registry) and must replace the active pack only if it is safe:
//! signed by enough keys the bank trusts, none of them revoked, every file
//! as signed, newer than what runs (a rollback to an older pack would bring
//! back rules the regulator withdrew), within its validity, loadable, and
//! proven on *this* host by its own test cases. Anything less is refused
//! with a typed reason, and the active pack keeps deciding: a broken or
//! hostile pack never replaces a working one.
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
//! - [`Source`]: where candidates come from: [`DirSource`] (`dir.rs`), a
//!   watched directory, is here; the network sources (a URL polled with
//!   `ETag`s, an OCI registry tag) and the regulator's `publish` are in the
//!   `qorgan-distribution` crate, so that a host reading packs from a
//!   directory carries no HTTP or registry client; [`Watcher`] (`watch.rs`)
//!   polls any source on a background thread;
//! - [`Clock`] (`clock.rs`): the time packs are judged by, settable in tests;
//! - `errors.rs`: [`RefusalReason`], one variant per check.
//!
//! Sources only find candidates; every check is the activator's, so a
//! source adds transport, never trust.

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
pub use errors::{Refusal, RefusalReason, RemoteProblem, SourceError};
pub use status::{ActivePack, RefusalRecord, SourceProblem, Status};
pub use watch::Watcher;

use std::sync::Arc;
use std::time::Duration;

/// A place new packs appear: a directory, an HTTP server, an OCI registry.
/// A source finds candidates; the [`Activator`] decides whether they are
/// safe.
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

    /// Polls once and offers what is new to `activator`
    /// ([`Activator::poll`]).
    fn poll_once(
        &mut self,
        activator: &Activator,
    ) -> Result<Vec<Result<Activated, Refusal>>, SourceError>
    where
        Self: Sized,
    {
        activator.poll(self)
    }

    /// Polls every `interval` on a background thread until the returned
    /// [`Watcher`] is stopped or dropped.
    fn watch(self, activator: Arc<Activator>, interval: Duration) -> Result<Watcher, SourceError>
    where
        Self: Sized + 'static,
    {
        Watcher::spawn(activator, self, interval)
    }
}

/// A boxed source is a source, so that [`open`]'s result can be watched.
impl<S: Source + ?Sized> Source for Box<S> {
    fn name(&self) -> String {
        (**self).name()
    }

    fn poll(&mut self) -> Result<Vec<Candidate>, SourceError> {
        (**self).poll()
    }

    fn retry_later(&mut self, candidate: &Candidate) {
        (**self).retry_later(candidate);
    }
}
