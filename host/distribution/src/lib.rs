//! # qorgan-distribution
//!
//! Rule packs over the network, on both sides of it.
//!
//! A bank's host that reads packs from a watched directory needs nothing
//! here: the embeddable `qorgan` crate has the [`Activator`] and its
//! [`DirSource`]. This crate adds the network sources a host may poll
//! instead, and the regulator's side that puts a signed pack where each
//! kind of source finds it, so that only the programs that speak HTTP or to
//! a registry carry an HTTP client, TLS and an OCI client:
//!
//! - [`HttpSource`] (`http.rs`): one URL polled with conditional `GET`s
//!   (`ETag` or `Last-Modified`);
//! - [`OciSource`] (`oci.rs`): an OCI registry tag resolved to a digest,
//!   the pack carried as a registry artifact ([`oci`] describes it);
//! - both back off after failures (`backoff.rs`) and share their download
//!   plumbing (`remote.rs`): a private file, capped at what the extraction
//!   limits allow;
//! - [`publish()`] (`publish.rs`): a signed pack into a directory, `PUT` to
//!   a web server or pushed to a registry;
//! - [`open`]: the source a location names.
//!
//! Sources only find candidates; every check (signatures, digests, serial,
//! validity, the pack's own tests) is the [`Activator`]'s, so a network
//! source adds transport, never trust.
//!
//! [`Activator`]: qorgan::source::Activator
//! [`DirSource`]: qorgan::source::DirSource

#![forbid(unsafe_code)]

mod backoff;
mod errors;
mod http;
pub mod oci;
mod publish;
mod remote;

pub use errors::PublishError;
pub use http::{HttpSource, HttpSourceBuilder};
pub use oci::{OciReference, OciSource, OciSourceBuilder};
pub use publish::{PublishOptions, PublishTarget, Published, Release, publish, publish_release};

use qorgan::source::{DirSource, Source, SourceError};

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
