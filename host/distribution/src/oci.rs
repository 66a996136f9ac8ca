//! A pack pulled from an OCI registry: the registries banks already run
//! for container images (mirrored, access-controlled, audited) carry rule
//! packs too.
//!
//! # The artifact
//!
//! In the spirit of the CNCF's WebAssembly OCI artifact, a pack is one
//! image manifest (`application/vnd.oci.image.manifest.v1+json`) with
//!
//! - `artifactType` and the config's media type
//!   [`CONFIG_MEDIA_TYPE`] (`application/vnd.qorgan.pack.config.v1+json`);
//!   the config is [`PackConfig`], the pack's name, version and serial, for
//!   people and tools browsing the registry;
//! - exactly one layer of media type [`LAYER_MEDIA_TYPE`]
//!   (`application/vnd.qorgan.pack.v1.tar+gzip`): the `.qpack` archive's
//!   bytes.
//!
//! The registry adds no trust: its digests only say that the bytes are the
//! ones the manifest names. The archive goes through the same
//! [`Activator`] as any other candidate (signatures, digests, serial,
//! validity, own test cases).
//!
//! # Polling
//!
//! Each poll resolves the tag to a manifest digest (a `HEAD` request);
//! only when the digest differs from the last one is the manifest pulled,
//! checked against the layout above, and its layer pulled into a private
//! file, capped at what the extraction limits allow, its digest verified.
//! Failures to reach the registry back off like the HTTP source's. Plain
//! HTTP is used only for a registry on the loopback interface (`localhost`,
//! `127.0.0.0/8`, `[::1]`); every other registry is spoken to over TLS.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant};

use oci_client::client::{ClientConfig, ClientProtocol, Config, ImageLayer};
use oci_client::errors::OciDistributionError;
use oci_client::manifest::{OCI_IMAGE_MEDIA_TYPE, OciDescriptor, OciImageManifest};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use serde::{Deserialize, Serialize};

use crate::backoff::{self, Backoff};
use crate::http::error_chain;
use crate::remote::{self, Downloads};
use qorgan::pack::archive::ExtractLimits;
use qorgan::source::Candidate;
use qorgan::source::Source;
use qorgan::source::{RemoteProblem, SourceError};

/// The pack artifact's `artifactType` and its config's media type.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.qorgan.pack.config.v1+json";
/// The media type of the pack artifact's one layer: a gzip-compressed
/// `.qpack` archive.
pub const LAYER_MEDIA_TYPE: &str = "application/vnd.qorgan.pack.v1.tar+gzip";
/// The URL scheme of registry references.
pub const SCHEME: &str = "oci://";

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the registry may stay silent in the middle of an answer.
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// The config blob of a pack artifact: what the pack is, readable without
/// pulling it. Informative only: hosts trust the signed manifest inside
/// the archive, never this.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackConfig {
    /// The pack's name.
    pub name: String,
    /// The pack's version.
    pub version: String,
    /// The pack's serial.
    pub serial: u64,
}

/// A tagged reference into a registry: `oci://HOST[:PORT]/REPO:TAG`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OciReference {
    registry: String,
    repository: String,
    tag: String,
}

impl OciReference {
    /// Parses `oci://HOST[:PORT]/REPO:TAG`. The registry's host must be
    /// named (no implicit Docker Hub) and the tag given: a host follows
    /// one named release channel.
    pub fn parse(text: &str) -> Result<OciReference, SourceError> {
        parse_reference(text).map_err(|problem| SourceError::InvalidLocation {
            location: text.to_owned(),
            problem,
        })
    }

    /// The registry: `HOST[:PORT]`.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository: `afm/kz-afm`.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag: `stable`.
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// Whether the registry is on the loopback interface, where plain HTTP
    /// is allowed.
    pub fn is_loopback(&self) -> bool {
        remote::is_loopback(&self.registry)
    }

    /// The reference by tag, for the client.
    pub(crate) fn by_tag(&self) -> Reference {
        Reference::with_tag(
            self.registry.clone(),
            self.repository.clone(),
            self.tag.clone(),
        )
    }

    /// The same repository, at `digest`.
    pub(crate) fn by_digest(&self, digest: &str) -> Reference {
        Reference::with_digest(
            self.registry.clone(),
            self.repository.clone(),
            digest.to_owned(),
        )
    }

    /// A client for this registry: TLS, except on the loopback interface.
    pub(crate) fn client(&self) -> Result<Client, String> {
        remote::ensure_crypto_provider();
        let protocol = if self.is_loopback() {
            ClientProtocol::HttpsExcept(vec![self.registry.clone()])
        } else {
            ClientProtocol::Https
        };
        let config = ClientConfig {
            protocol,
            // A pack is one manifest; an image index is not a pack.
            platform_resolver: None,
            connect_timeout: Some(CONNECT_TIMEOUT),
            read_timeout: Some(READ_TIMEOUT),
            user_agent: concat!("qorgan/", env!("CARGO_PKG_VERSION")),
            ..ClientConfig::default()
        };
        Client::try_from(config).map_err(|e| error_chain(&e))
    }
}

impl fmt::Display for OciReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{SCHEME}{}/{}:{}",
            self.registry, self.repository, self.tag
        )
    }
}

impl FromStr for OciReference {
    type Err = SourceError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        OciReference::parse(text)
    }
}

/// `oci://HOST[:PORT]/REPO:TAG`, checked by the distribution
/// specification's grammar (repository components of lower-case letters
/// and digits joined by `.`, `_`, `__` or `-`; a tag of at most 128
/// letters, digits, `_`, `.` and `-`, not starting with `.` or `-`).
fn parse_reference(text: &str) -> Result<OciReference, String> {
    let rest = text
        .strip_prefix(SCHEME)
        .ok_or_else(|| format!("a registry reference starts with `{SCHEME}`"))?;
    let (registry, path) = rest
        .split_once('/')
        .ok_or("no repository: write oci://HOST[:PORT]/REPO:TAG")?;
    if registry.is_empty()
        || !registry
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
    {
        return Err(format!("`{registry}` is not a registry host[:port]"));
    }
    if path.contains('@') {
        return Err("a digest pins one release; name a tag to follow: REPO:TAG".into());
    }
    let (repository, tag) = path
        .rsplit_once(':')
        .ok_or("no tag: write oci://HOST[:PORT]/REPO:TAG")?;
    if repository.is_empty() || !repository.split('/').all(valid_path_component) {
        return Err(format!(
            "`{repository}` is not a repository name (lower-case letters and digits, separated by `.`, `_`, `-` or `/`)"
        ));
    }
    let tag_ok = !tag.is_empty()
        && tag.len() <= 128
        && !tag.starts_with(['.', '-'])
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    if !tag_ok {
        return Err(format!(
            "`{tag}` is not a tag (at most 128 letters, digits, `_`, `.` and `-`, not starting with `.` or `-`)"
        ));
    }
    Ok(OciReference {
        registry: registry.to_owned(),
        repository: repository.to_owned(),
        tag: tag.to_owned(),
    })
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn valid_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    if !alnum(first) || !alnum(last) {
        return false;
    }
    let mut separator = String::new();
    for &b in bytes {
        if alnum(&b) {
            let ok = matches!(separator.as_str(), "" | "." | "_" | "__")
                || separator.bytes().all(|s| s == b'-');
            if !ok {
                return false;
            }
            separator.clear();
        } else if b"._-".contains(&b) {
            separator.push(char::from(b));
        } else {
            return false;
        }
    }
    true
}

/// The annotations a pack artifact carries: the OCI standard title and
/// version, for registry browsers.
pub(crate) fn annotations(config: &PackConfig) -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            "org.opencontainers.image.title".to_owned(),
            format!("{}-{}.qpack", config.name, config.serial),
        ),
        (
            "org.opencontainers.image.version".to_owned(),
            config.version.clone(),
        ),
    ])
}

/// The manifest of a pack artifact: an OCI image manifest whose
/// `artifactType` is [`CONFIG_MEDIA_TYPE`], over `config` and `layers`.
pub(crate) fn pack_manifest(
    layers: &[ImageLayer],
    config: &Config,
    annotations: BTreeMap<String, String>,
) -> OciImageManifest {
    let mut manifest = OciImageManifest::build(layers, config, Some(annotations));
    manifest.media_type = Some(OCI_IMAGE_MEDIA_TYPE.to_owned());
    manifest.artifact_type = Some(CONFIG_MEDIA_TYPE.to_owned());
    manifest
}

/// The pack's layer, if `manifest` is a pack artifact whose layer fits in
/// `max` bytes; else what is wrong.
fn pack_layer(manifest: &OciImageManifest, max: u64) -> Result<&OciDescriptor, String> {
    if let Some(media_type) = &manifest.media_type
        && media_type != OCI_IMAGE_MEDIA_TYPE
    {
        return Err(format!(
            "its media type is `{media_type}`, not `{OCI_IMAGE_MEDIA_TYPE}`"
        ));
    }
    if let Some(artifact_type) = &manifest.artifact_type
        && artifact_type != CONFIG_MEDIA_TYPE
    {
        return Err(format!(
            "its artifact type is `{artifact_type}`, not `{CONFIG_MEDIA_TYPE}`"
        ));
    }
    if manifest.config.media_type != CONFIG_MEDIA_TYPE {
        return Err(format!(
            "its config's media type is `{}`, not `{CONFIG_MEDIA_TYPE}`",
            manifest.config.media_type
        ));
    }
    let [layer] = manifest.layers.as_slice() else {
        return Err(format!(
            "it has {} layers; a pack has exactly one",
            manifest.layers.len()
        ));
    };
    if layer.media_type != LAYER_MEDIA_TYPE {
        return Err(format!(
            "its layer's media type is `{}`, not `{LAYER_MEDIA_TYPE}`",
            layer.media_type
        ));
    }
    match u64::try_from(layer.size) {
        Ok(size) if size <= max => Ok(layer),
        Ok(size) => Err(format!(
            "its layer is {size} bytes, more than the {max} this host accepts"
        )),
        Err(_) => Err(format!("its layer's size {} is negative", layer.size)),
    }
}

/// The problem an OCI client error stands for.
pub(crate) fn registry_problem(error: OciDistributionError) -> RemoteProblem {
    match error {
        OciDistributionError::RequestError(e) => RemoteProblem::Network(error_chain(&e)),
        OciDistributionError::ServerError { code, .. } if code >= 500 => {
            RemoteProblem::Status { status: code }
        }
        e => RemoteProblem::Registry(error_chain(&e)),
    }
}

/// Builds an [`OciSource`].
#[derive(Clone)]
pub struct OciSourceBuilder {
    reference: String,
    limits: ExtractLimits,
    backoff_initial: Duration,
    backoff_max: Duration,
    auth: RegistryAuth,
}

impl fmt::Debug for OciSourceBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OciSourceBuilder")
            .field("reference", &self.reference)
            .field("limits", &self.limits)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

impl OciSourceBuilder {
    /// The caps on the archive (default: [`ExtractLimits::default`]); a
    /// layer larger than [`ExtractLimits::max_archive_bytes`] is not pulled.
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

    /// Logs in with a user name and password (default: anonymous).
    pub fn basic_auth(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.auth = RegistryAuth::Basic(user.into(), password.into());
        self
    }

    /// Checks the reference and sets up the client.
    pub fn build(self) -> Result<OciSource, SourceError> {
        let reference = OciReference::parse(&self.reference)?;
        let name = format!("OCI source {reference}");
        let client_error = |problem: String| SourceError::Client {
            source_name: name.clone(),
            problem,
        };
        let client = reference.client().map_err(client_error)?;
        let runtime = remote::runtime().map_err(|e| client_error(e.to_string()))?;
        let downloads = Downloads::new("qorgan-oci-").map_err(|e| client_error(e.to_string()))?;
        Ok(OciSource {
            reference,
            name,
            client,
            auth: self.auth,
            runtime,
            downloads,
            max_bytes: self.limits.max_archive_bytes(),
            backoff: Backoff::new(self.backoff_initial, self.backoff_max),
            last_digest: None,
            offered: None,
            retry: None,
        })
    }
}

/// A registry reference polled for a pack artifact (see the module
/// documentation).
pub struct OciSource {
    reference: OciReference,
    name: String,
    client: Client,
    auth: RegistryAuth,
    runtime: tokio::runtime::Runtime,
    downloads: Downloads,
    max_bytes: u64,
    backoff: Backoff,
    /// The manifest digest last offered (or found not to be a pack).
    last_digest: Option<String>,
    /// The archive last offered, kept until the next one arrives.
    offered: Option<PathBuf>,
    /// An archive to offer again at the next poll.
    retry: Option<Candidate>,
}

impl fmt::Debug for OciSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OciSource")
            .field("reference", &self.reference.to_string())
            .field("last_digest", &self.last_digest)
            .field("failures", &self.backoff.failures())
            .finish_non_exhaustive()
    }
}

/// What one poll of the registry found.
enum Pulled {
    /// The tag still names the manifest last seen.
    Unchanged,
    /// A new pack artifact, its archive in a private file.
    Pack { digest: String, path: PathBuf },
    /// A new manifest that is not a pack artifact.
    NotAPack { digest: String, problem: String },
}

impl OciSource {
    /// Starts building a source following `reference`
    /// (`oci://HOST[:PORT]/REPO:TAG`).
    pub fn builder(reference: impl Into<String>) -> OciSourceBuilder {
        OciSourceBuilder {
            reference: reference.into(),
            limits: ExtractLimits::default(),
            backoff_initial: backoff::DEFAULT_INITIAL,
            backoff_max: backoff::DEFAULT_MAX,
            auth: RegistryAuth::Anonymous,
        }
    }

    /// A source following `reference`, anonymously, with the default limits
    /// and backoff.
    pub fn new(reference: impl Into<String>) -> Result<OciSource, SourceError> {
        OciSource::builder(reference).build()
    }

    /// The reference followed.
    pub fn reference(&self) -> &OciReference {
        &self.reference
    }

    /// The manifest digest of the pack last offered, if any.
    pub fn last_digest(&self) -> Option<&str> {
        self.last_digest.as_deref()
    }

    /// Resolves the tag; pulls the artifact if it moved.
    fn pull(&mut self) -> Result<Pulled, RemoteProblem> {
        let OciSource {
            reference,
            client,
            auth,
            runtime,
            downloads,
            max_bytes,
            last_digest,
            ..
        } = self;
        let max = *max_bytes;
        runtime.block_on(async move {
            let digest = client
                .fetch_manifest_digest(&reference.by_tag(), auth)
                .await
                .map_err(registry_problem)?;
            if last_digest.as_deref() == Some(digest.as_str()) {
                return Ok(Pulled::Unchanged);
            }
            // By digest: the tag may move between the two requests.
            let pinned = reference.by_digest(&digest);
            let (manifest, _) = client
                .pull_image_manifest(&pinned, auth)
                .await
                .map_err(registry_problem)?;
            let layer = match pack_layer(&manifest, max) {
                Ok(layer) => layer,
                Err(problem) => return Ok(Pulled::NotAPack { digest, problem }),
            };
            let mut file = downloads.create(max)?;
            if let Err(error) = client.pull_blob(&pinned, layer, &mut file).await {
                let problem = match error {
                    OciDistributionError::IoError(e) => file.problem(e),
                    e => registry_problem(e),
                };
                file.discard();
                return Err(problem);
            }
            let path = file.finish()?;
            Ok(Pulled::Pack { digest, path })
        })
    }
}

impl Source for OciSource {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn poll(&mut self) -> Result<Vec<Candidate>, SourceError> {
        let now = Instant::now();
        if !self.backoff.ready(now) {
            tracing::debug!(source = %self.name, failures = self.backoff.failures(), "waiting after failures");
            return Ok(Vec::new());
        }
        match self.pull() {
            Ok(Pulled::Unchanged) => {
                self.backoff.succeeded();
                Ok(self.retry.take().into_iter().collect())
            }
            Ok(Pulled::Pack { digest, path }) => {
                self.backoff.succeeded();
                tracing::info!(source = %self.name, %digest, "a new pack artifact was pulled");
                self.downloads.remove_all_but(Some(&path));
                let from = format!("{} ({digest})", self.reference);
                self.last_digest = Some(digest);
                self.offered = Some(path.clone());
                self.retry = None;
                Ok(vec![Candidate::Fetched { path, from }])
            }
            Ok(Pulled::NotAPack { digest, problem }) => {
                self.backoff.succeeded();
                self.last_digest = Some(digest.clone());
                self.retry = None;
                Err(SourceError::NotAPackArtifact {
                    source_name: self.name.clone(),
                    digest,
                    problem,
                })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> OciReference {
        match OciReference::parse(text) {
            Ok(r) => r,
            Err(e) => panic!("{text}: {e}"),
        }
    }

    #[test]
    fn a_reference_names_registry_repository_and_tag() {
        let r = parsed("oci://127.0.0.1:5000/afm/kz-afm:stable");
        assert_eq!(r.registry(), "127.0.0.1:5000");
        assert_eq!(r.repository(), "afm/kz-afm");
        assert_eq!(r.tag(), "stable");
        assert!(r.is_loopback());
        assert_eq!(r.to_string(), "oci://127.0.0.1:5000/afm/kz-afm:stable");
        let remote = parsed("oci://registry.afm.kz/packs/kz-afm:2025.3");
        assert!(!remote.is_loopback());
        assert_eq!(
            remote.by_tag().whole(),
            "registry.afm.kz/packs/kz-afm:2025.3"
        );
        assert_eq!(
            remote.by_digest("sha256:00").whole(),
            "registry.afm.kz/packs/kz-afm@sha256:00"
        );
        assert!(parsed("oci://localhost:5000/a__b/c-d--e.f:v1_0").is_loopback());
    }

    #[test]
    fn malformed_references_are_refused_with_what_is_wrong() {
        for (bad, says) in [
            ("127.0.0.1:5000/kz-afm:1", "starts with `oci://`"),
            ("oci://127.0.0.1:5000", "no repository"),
            ("oci://127.0.0.1:5000/kz-afm", "no tag"),
            ("oci:///kz-afm:1", "not a registry"),
            ("oci://127.0.0.1:5000/KZ-AFM:1", "not a repository"),
            ("oci://127.0.0.1:5000/kz-afm-:1", "not a repository"),
            ("oci://127.0.0.1:5000/kz-afm:", "not a tag"),
            ("oci://127.0.0.1:5000/kz-afm:-x", "not a tag"),
            ("oci://127.0.0.1:5000/kz-afm@sha256:00", "name a tag"),
        ] {
            match OciReference::parse(bad) {
                Ok(r) => panic!("{bad} parsed as {r}"),
                Err(e) => assert!(e.to_string().contains(says), "{bad}: {e}"),
            }
        }
    }

    fn artifact() -> OciImageManifest {
        let layer = ImageLayer::new(b"archive".to_vec(), LAYER_MEDIA_TYPE.to_owned(), None);
        let config = Config::new(b"{}".to_vec(), CONFIG_MEDIA_TYPE.to_owned(), None);
        pack_manifest(&[layer], &config, BTreeMap::new())
    }

    #[test]
    fn only_the_pack_artifact_layout_is_pulled() {
        let good = artifact();
        assert_eq!(good.media_type.as_deref(), Some(OCI_IMAGE_MEDIA_TYPE));
        assert!(matches!(pack_layer(&good, 100), Ok(l) if l.size == 7));

        let mut index = artifact();
        index.media_type = Some("application/vnd.oci.image.index.v1+json".into());
        assert!(matches!(pack_layer(&index, 100), Err(e) if e.contains("its media type")));
        assert!(matches!(pack_layer(&good, 6), Err(e) if e.contains("7 bytes, more than the 6")),);

        let mut image = artifact();
        image.config.media_type = "application/vnd.oci.image.config.v1+json".into();
        image.artifact_type = None;
        assert!(matches!(pack_layer(&image, 100), Err(e) if e.contains("config's media type")));

        let mut other = artifact();
        other.artifact_type = Some("application/vnd.wasm.config.v0+json".into());
        assert!(matches!(pack_layer(&other, 100), Err(e) if e.contains("artifact type")));

        let mut two = artifact();
        let extra = two.layers.clone();
        two.layers.extend(extra);
        assert!(matches!(pack_layer(&two, 100), Err(e) if e.contains("2 layers")));

        let mut tar = artifact();
        if let Some(layer) = tar.layers.first_mut() {
            layer.media_type = "application/vnd.oci.image.layer.v1.tar".into();
        }
        assert!(matches!(pack_layer(&tar, 100), Err(e) if e.contains("layer's media type")));
    }

    #[test]
    fn annotations_name_the_archive_and_the_version() {
        let config = PackConfig {
            name: "kz-afm".into(),
            version: "2025.3.1".into(),
            serial: 2,
        };
        let a = annotations(&config);
        assert_eq!(
            a.get("org.opencontainers.image.title").map(String::as_str),
            Some("kz-afm-2.qpack")
        );
        assert_eq!(
            serde_json::to_string(&config).unwrap_or_default(),
            r#"{"name":"kz-afm","version":"2025.3.1","serial":2}"#
        );
    }
}
