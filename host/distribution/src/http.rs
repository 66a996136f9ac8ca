//! A pack served over HTTP(S): the simplest channel from a regulator to
//! many banks, since any web server, object store or CDN can serve one
//! `.qpack` file.
//!
//! The source polls one URL with a conditional `GET`: `If-None-Match` with
//! the `ETag` of the last archive it offered, or `If-Modified-Since` with
//! its `Last-Modified` when the server sends no `ETag`. `304 Not Modified`
//! costs the server nothing and offers nothing. A `200` is streamed into a
//! private file, capped at what the extraction limits allow, and offered to
//! the [`Activator`] as an archive; the activator alone decides whether it
//! is safe. A server that sends neither validator is answered with the
//! whole archive every poll, which is offered only when its sha256 changes.
//!
//! A network error or an error status makes the source wait before it asks
//! again, doubling the wait with each failure in a row up to a cap (see
//! `backoff.rs`), and the poll fails with [`SourceError::Unreachable`],
//! which the activator records in its status. The active pack keeps
//! deciding throughout.
//!
//! The HTTP client is asynchronous (the same one the OCI source uses); the
//! source drives it on a runtime of its own, so `poll` blocks and must not
//! be called from inside another tokio runtime.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::{
    ETAG, HeaderMap, HeaderValue, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED,
};
use sha2::{Digest, Sha256};

use crate::backoff::{self, Backoff};
use crate::remote::{self, Downloads};
use qorgan::pack::archive::ExtractLimits;
use qorgan::source::Candidate;
use qorgan::source::Source;
use qorgan::source::{RemoteProblem, SourceError};

/// How long connecting may take, by default.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the server may stay silent in the middle of an answer, by
/// default.
const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(60);

/// Builds an [`HttpSource`].
#[derive(Debug, Clone)]
pub struct HttpSourceBuilder {
    url: String,
    limits: ExtractLimits,
    backoff_initial: Duration,
    backoff_max: Duration,
    connect_timeout: Duration,
    read_timeout: Duration,
}

impl HttpSourceBuilder {
    /// The caps on the archive (default: [`ExtractLimits::default`]); a
    /// download stops at [`ExtractLimits::max_archive_bytes`].
    pub fn extract_limits(mut self, limits: ExtractLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Waits `initial` after the first failure in a row, doubling up to
    /// `max` (default: one second, five minutes).
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.backoff_initial = initial;
        self.backoff_max = max;
        self
    }

    /// How long connecting may take (default ten seconds) and how long the
    /// server may stay silent in the middle of an answer (default a
    /// minute).
    pub fn timeouts(mut self, connect: Duration, read: Duration) -> Self {
        self.connect_timeout = connect;
        self.read_timeout = read;
        self
    }

    /// Checks the URL and sets up the client. Only `http` and `https` URLs
    /// are accepted.
    pub fn build(self) -> Result<HttpSource, SourceError> {
        let url = parse_url(&self.url).map_err(|problem| SourceError::InvalidLocation {
            location: self.url.clone(),
            problem,
        })?;
        let name = format!("HTTP source {}", shown(&url));
        let client_error = |problem: String| SourceError::Client {
            source_name: name.clone(),
            problem,
        };
        remote::ensure_crypto_provider();
        let client = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .read_timeout(self.read_timeout)
            .user_agent(concat!("qorgan/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| client_error(error_chain(&e)))?;
        let runtime = remote::runtime().map_err(|e| client_error(e.to_string()))?;
        let downloads = Downloads::new("qorgan-http-").map_err(|e| client_error(e.to_string()))?;
        Ok(HttpSource {
            url,
            name,
            client,
            runtime,
            downloads,
            max_bytes: self.limits.max_archive_bytes(),
            backoff: Backoff::new(self.backoff_initial, self.backoff_max),
            validators: Validators::default(),
            last_sha256: None,
            offered: None,
            retry: None,
        })
    }
}

/// A URL polled for a `.qpack` archive (see the module documentation).
pub struct HttpSource {
    url: reqwest::Url,
    name: String,
    client: reqwest::Client,
    runtime: tokio::runtime::Runtime,
    downloads: Downloads,
    max_bytes: u64,
    backoff: Backoff,
    /// The validators of the archive last offered.
    validators: Validators,
    /// The sha256 of the archive last offered.
    last_sha256: Option<String>,
    /// The archive last offered, kept until the next one arrives.
    offered: Option<PathBuf>,
    /// An archive to offer again at the next poll.
    retry: Option<Candidate>,
}

impl std::fmt::Debug for HttpSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSource")
            .field("url", &shown(&self.url))
            .field("validators", &self.validators)
            .field("failures", &self.backoff.failures())
            .finish_non_exhaustive()
    }
}

/// What a conditional request sends back to the server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Validators {
    etag: Option<HeaderValue>,
    last_modified: Option<HeaderValue>,
}

impl Validators {
    /// The validators a response carries.
    fn from_headers(headers: &HeaderMap) -> Validators {
        Validators {
            etag: headers.get(ETAG).cloned(),
            last_modified: headers.get(LAST_MODIFIED).cloned(),
        }
    }

    /// The conditional header to send: `If-None-Match` with the `ETag`,
    /// else `If-Modified-Since` with `Last-Modified`, else none.
    fn condition(&self) -> Option<(reqwest::header::HeaderName, HeaderValue)> {
        match (&self.etag, &self.last_modified) {
            (Some(etag), _) => Some((IF_NONE_MATCH, etag.clone())),
            (None, Some(modified)) => Some((IF_MODIFIED_SINCE, modified.clone())),
            (None, None) => None,
        }
    }
}

/// What one request brought.
enum Fetched {
    /// `304`: the archive last offered is still the one served.
    NotModified,
    /// A whole archive, in a private file.
    Archive {
        path: PathBuf,
        sha256: String,
        validators: Validators,
    },
}

impl HttpSource {
    /// Starts building a source polling `url`.
    pub fn builder(url: impl Into<String>) -> HttpSourceBuilder {
        HttpSourceBuilder {
            url: url.into(),
            limits: ExtractLimits::default(),
            backoff_initial: backoff::DEFAULT_INITIAL,
            backoff_max: backoff::DEFAULT_MAX,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            read_timeout: DEFAULT_READ_TIMEOUT,
        }
    }

    /// A source polling `url` with the default limits, backoff and
    /// timeouts.
    pub fn new(url: impl Into<String>) -> Result<HttpSource, SourceError> {
        HttpSource::builder(url).build()
    }

    /// The URL polled (without a password, if it had one).
    pub fn url(&self) -> String {
        shown(&self.url)
    }

    /// One conditional `GET`.
    fn fetch(&mut self) -> Result<Fetched, RemoteProblem> {
        let mut request = self.client.get(self.url.clone());
        if let Some((header, value)) = self.validators.condition() {
            request = request.header(header, value);
        }
        let max = self.max_bytes;
        let downloads = &mut self.downloads;
        self.runtime.block_on(async move {
            let mut response = request.send().await.map_err(network)?;
            let status = response.status();
            if status == StatusCode::NOT_MODIFIED {
                return Ok(Fetched::NotModified);
            }
            if status != StatusCode::OK {
                return Err(RemoteProblem::Status {
                    status: status.as_u16(),
                });
            }
            if response.content_length().is_some_and(|len| len > max) {
                return Err(RemoteProblem::TooLarge { max });
            }
            let validators = Validators::from_headers(response.headers());
            let mut file = downloads.create(max)?;
            let mut hasher = Sha256::new();
            loop {
                let chunk = match response.chunk().await {
                    Ok(Some(chunk)) => chunk,
                    Ok(None) => break,
                    Err(e) => {
                        file.discard();
                        return Err(network(e));
                    }
                };
                if let Err(e) = std::io::Write::write_all(&mut file, &chunk) {
                    let problem = file.problem(e);
                    file.discard();
                    return Err(problem);
                }
                hasher.update(&chunk);
            }
            let path = file.finish()?;
            Ok(Fetched::Archive {
                path,
                sha256: qorgan::pack::keys::hex(&hasher.finalize()),
                validators,
            })
        })
    }
}

impl Source for HttpSource {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn poll(&mut self) -> Result<Vec<Candidate>, SourceError> {
        let now = Instant::now();
        if !self.backoff.ready(now) {
            tracing::debug!(source = %self.name, failures = self.backoff.failures(), "waiting after failures");
            return Ok(Vec::new());
        }
        match self.fetch() {
            Ok(Fetched::NotModified) => {
                self.backoff.succeeded();
                Ok(self.retry.take().into_iter().collect())
            }
            Ok(Fetched::Archive {
                path,
                sha256,
                validators,
            }) => {
                self.backoff.succeeded();
                self.validators = validators;
                if self.last_sha256.as_deref() == Some(sha256.as_str()) {
                    // The same bytes again, from a server without validators.
                    self.downloads.remove_all_but(self.offered.as_deref());
                    return Ok(self.retry.take().into_iter().collect());
                }
                tracing::info!(source = %self.name, %sha256, "a new pack archive was downloaded");
                self.downloads.remove_all_but(Some(&path));
                let from = format!("{} (sha256 {sha256})", shown(&self.url));
                self.last_sha256 = Some(sha256);
                self.offered = Some(path.clone());
                self.retry = None;
                Ok(vec![Candidate::Fetched { path, from }])
            }
            Err(problem) => {
                let retry_in = self.backoff.failed(now);
                Err(SourceError::Unreachable {
                    source_name: self.name.clone(),
                    problem,
                    failures: self.backoff.failures(),
                    retry_in,
                })
            }
        }
    }

    fn retry_later(&mut self, candidate: &Candidate) {
        if self.offered.as_deref() == Some(candidate.path()) {
            self.retry = Some(candidate.clone());
        }
    }
}

/// Parses an `http` or `https` URL with a host.
fn parse_url(text: &str) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(text).map_err(|e| e.to_string())?;
    match url.scheme() {
        "http" | "https" => {}
        other => return Err(format!("the scheme is `{other}`, not `http` or `https`")),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("no host".into());
    }
    Ok(url)
}

/// The URL as logs and status show it: without a password.
fn shown(url: &reqwest::Url) -> String {
    let mut url = url.clone();
    if url.password().is_some() {
        let _ = url.set_password(Some("***"));
    }
    url.to_string()
}

/// A transport error, with its causes (reqwest's own message is terse).
fn network(error: reqwest::Error) -> RemoteProblem {
    RemoteProblem::Network(error_chain(&error))
}

/// An error and its sources, joined by `: `.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_etag_is_preferred_to_the_modification_time() {
        let mut headers = HeaderMap::new();
        headers.insert(
            LAST_MODIFIED,
            HeaderValue::from_static("Sat, 01 Mar 2025 10:00:00 GMT"),
        );
        let only_time = Validators::from_headers(&headers);
        assert_eq!(
            only_time.condition(),
            Some((
                IF_MODIFIED_SINCE,
                HeaderValue::from_static("Sat, 01 Mar 2025 10:00:00 GMT")
            ))
        );
        headers.insert(ETAG, HeaderValue::from_static("\"v7\""));
        assert_eq!(
            Validators::from_headers(&headers).condition(),
            Some((IF_NONE_MATCH, HeaderValue::from_static("\"v7\"")))
        );
        assert_eq!(Validators::default().condition(), None);
    }

    #[test]
    fn only_http_and_https_urls_with_a_host_are_sources() {
        assert!(parse_url("https://packs.afm.kz/kz-afm.qpack").is_ok());
        assert!(parse_url("http://127.0.0.1:8080/kz-afm.qpack").is_ok());
        for bad in [
            "ftp://packs.afm.kz/kz-afm.qpack",
            "file:///srv/kz-afm.qpack",
            "kz-afm.qpack",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
        let error = match HttpSource::new("oci://127.0.0.1/kz-afm:1") {
            Ok(_) => panic!("an oci reference made an HTTP source"),
            Err(e) => e,
        };
        assert!(
            matches!(error, SourceError::InvalidLocation { .. }),
            "{error}"
        );
    }

    #[test]
    fn a_password_in_the_url_is_not_shown() {
        let url = match parse_url("https://afm:secret@packs.afm.kz/kz-afm.qpack") {
            Ok(u) => u,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(shown(&url), "https://afm:***@packs.afm.kz/kz-afm.qpack");
    }

    #[test]
    fn an_unreachable_server_backs_off_with_a_typed_error() {
        // Port 1 on the loopback interface: nothing listens there.
        let mut source = match HttpSource::builder("http://127.0.0.1:1/kz-afm.qpack")
            .backoff(Duration::from_secs(60), Duration::from_secs(600))
            .build()
        {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        match source.poll() {
            Err(SourceError::Unreachable {
                problem: RemoteProblem::Network(_),
                failures: 1,
                retry_in,
                ..
            }) => assert_eq!(retry_in, Duration::from_secs(60)),
            other => panic!("expected an unreachable server, got {other:?}"),
        }
        // Within the wait, the source does not ask.
        assert!(matches!(source.poll(), Ok(c) if c.is_empty()));
    }
}
