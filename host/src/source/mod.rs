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
//!   watched directory; [`HttpSource`] (`http.rs`), a URL polled with
//!   `ETag`s; [`OciSource`] (`oci.rs`), a registry tag resolved to a
//!   digest; the network sources back off after failures (`backoff.rs`)
//!   and share their plumbing (`remote.rs`); [`Watcher`] (`watch.rs`) polls
//!   a source on a background thread;
//! - [`publish()`] (`publish.rs`): the regulator's side, putting a signed
//!   pack where each kind of source finds it;
//! - [`Clock`] (`clock.rs`): the time packs are judged by, settable in tests;
//! - `errors.rs`: [`RefusalReason`], one variant per check.
//!
//! Sources only find candidates; every check is the activator's, so a
//! source adds transport, never trust.

mod activation;
mod backoff;
mod candidate;
mod clock;
mod dir;
mod errors;
mod http;
pub mod oci;
mod publish;
mod remote;
mod status;
mod store;
mod watch;

pub use activation::{Activated, Activator, ActivatorBuilder};
pub use candidate::Candidate;
pub use clock::{Clock, SystemClock};
pub use dir::DirSource;
pub use errors::{PublishError, Refusal, RefusalReason, RemoteProblem, SourceError};
pub use http::{HttpSource, HttpSourceBuilder};
pub use oci::{OciReference, OciSource, OciSourceBuilder};
pub use publish::{PublishOptions, PublishTarget, Published, Release, publish, publish_release};
pub use status::{ActivePack, RefusalRecord, SourceProblem, Status};
pub use watch::Watcher;

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

/// The source a location names: `oci://HOST[:PORT]/REPO:TAG` an
/// [`OciSource`], an `http(s)://` URL an [`HttpSource`], anything else a
/// directory for a [`DirSource`]; each with its defaults.
pub fn open(location: &str) -> Result<Box<dyn Source>, SourceError> {
    if location.starts_with(oci::SCHEME) {
        return Ok(Box::new(OciSource::new(location)?));
    }
    let lower = location.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return Ok(Box::new(HttpSource::new(location)?));
    }
    if location.contains("://") {
        return Err(SourceError::InvalidLocation {
            location: location.to_owned(),
            problem: "a pack source is a directory, an http(s):// URL or an oci:// reference"
                .into(),
        });
    }
    Ok(Box::new(DirSource::new(location)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(location: &str) -> String {
        match open(location) {
            Ok(source) => source.name(),
            Err(e) => panic!("{location}: {e}"),
        }
    }

    #[test]
    fn a_location_opens_the_source_its_form_names() {
        assert_eq!(
            name("oci://127.0.0.1:5000/afm/kz-afm:stable"),
            "OCI source oci://127.0.0.1:5000/afm/kz-afm:stable"
        );
        assert_eq!(
            name("https://packs.afm.kz/kz-afm.qpack"),
            "HTTP source https://packs.afm.kz/kz-afm.qpack"
        );
        assert_eq!(name("/srv/packs"), "directory /srv/packs");
        assert!(matches!(
            open("ftp://packs.afm.kz/kz-afm.qpack"),
            Err(SourceError::InvalidLocation { .. })
        ));
    }
}
