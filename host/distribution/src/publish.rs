//! `qorgan pack publish`: the regulator's side of the sources, putting a
//! signed pack where hosts poll for it.
//!
//! Three destinations, one per source:
//!
//! - **a directory** (for [`DirSource`](qorgan::source::DirSource)): the archive is written as
//!   `<name>-<serial>.qpack` under a hidden temporary name first, then
//!   renamed into place, so that a host polling the directory never sees
//!   half an archive. A published release is never replaced: the same
//!   bytes again are a no-op, other bytes under the same name and serial
//!   are refused;
//! - **an `http(s)://` URL** (for [`crate::HttpSource`]): one `PUT` of the
//!   archive; the server must store the body and then serve it at the
//!   same URL with an `ETag` or `Last-Modified`;
//! - **an `oci://HOST[:PORT]/REPO:TAG` reference** (for
//!   [`crate::OciSource`]): the pack artifact described in `oci.rs`, pushed
//!   and tagged.
//!
//! A pack is published only if it is signed: it must carry at least one
//! signature, and every signature must cover the pack as it is now (a pack
//! changed after signing would be refused by every host). With a
//! [`TrustConfig`] the signatures are verified in full, as a host would.
//! Publishing adds no trust of its own: hosts check everything again.

use std::io::Read;
use std::path::{Path, PathBuf};

use oci_client::client::{Config, ImageLayer};
use oci_client::secrets::RegistryAuth;
use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;

use crate::errors::PublishError;
use crate::http::error_chain;
use crate::oci::{self, CONFIG_MEDIA_TYPE, LAYER_MEDIA_TYPE, OciReference, PackConfig};
use crate::remote;
use qorgan::pack::archive::{self, Compression, EXTENSION, ExtractLimits};
use qorgan::pack::{PackError, SignatureError, Statement, TrustConfig, check_signed, sha256_hex};
use qorgan::source::{RemoteProblem, SourceError};

/// Where a pack is published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishTarget {
    /// A directory hosts watch.
    Dir(PathBuf),
    /// An `http` or `https` URL the archive is `PUT` to.
    Http(String),
    /// A registry reference the pack artifact is pushed to.
    Oci(OciReference),
}

impl PublishTarget {
    /// `oci://…` is a registry reference, `http://…` and `https://…` a URL,
    /// anything else a directory.
    pub fn parse(text: &str) -> Result<PublishTarget, PublishError> {
        let invalid = |problem: String| PublishError::InvalidTarget {
            target: text.to_owned(),
            problem,
        };
        if text.starts_with(oci::SCHEME) {
            return OciReference::parse(text)
                .map(PublishTarget::Oci)
                .map_err(|e| match e {
                    SourceError::InvalidLocation { problem, .. } => invalid(problem),
                    e => invalid(e.to_string()),
                });
        }
        let lower = text.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            let url = reqwest::Url::parse(text).map_err(|e| invalid(e.to_string()))?;
            if url.host_str().is_none_or(str::is_empty) {
                return Err(invalid("no host".into()));
            }
            return Ok(PublishTarget::Http(text.to_owned()));
        }
        if text.contains("://") {
            return Err(invalid(
                "publish to a directory, an http(s):// URL or an oci:// reference".into(),
            ));
        }
        Ok(PublishTarget::Dir(PathBuf::from(text)))
    }
}

impl std::fmt::Display for PublishTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PublishTarget::Dir(dir) => write!(f, "directory {}", dir.display()),
            PublishTarget::Http(url) => write!(f, "{}", shown_url(url)),
            PublishTarget::Oci(reference) => write!(f, "{reference}"),
        }
    }
}

/// How to publish.
#[derive(Debug, Clone, Default)]
pub struct PublishOptions {
    trust: Option<TrustConfig>,
    basic_auth: Option<(String, String)>,
}

impl PublishOptions {
    /// Verifies the signatures against `trust` before publishing (by
    /// default only their presence and that they cover the pack as it is).
    pub fn trust(mut self, trust: TrustConfig) -> Self {
        self.trust = Some(trust);
        self
    }

    /// Logs in to the server or registry with a user name and password.
    pub fn basic_auth(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.basic_auth = Some((user.into(), password.into()));
        self
    }
}

/// A signed pack, archived, ready to be published.
#[derive(Clone)]
pub struct Release {
    /// The pack's name, version and serial.
    pub config: PackConfig,
    /// The signers: labels of the trusted keys that signed when the
    /// signatures were verified against a trust configuration, else the
    /// ids of the keys whose signatures the pack carries.
    pub signers: Vec<String>,
    /// The sha256 of the statement the signatures cover.
    pub statement_sha256: String,
    /// The gzip-compressed `.qpack` archive.
    pub bytes: Vec<u8>,
    /// The archive's sha256, hex.
    pub sha256: String,
}

impl std::fmt::Debug for Release {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Release")
            .field("config", &self.config)
            .field("signers", &self.signers)
            .field("bytes", &self.bytes.len())
            .field("sha256", &self.sha256)
            .finish()
    }
}

impl Release {
    /// Reads the pack directory or `.qpack` archive at `pack`, refusing it
    /// unless it is signed (and, with `trust`, unless its signatures
    /// satisfy it), and archives it with gzip. An archive given is
    /// extracted into a private directory, with every refusal of
    /// extraction, to check it; a gzip archive is published as it is, a
    /// plain tar one is compressed first.
    pub fn prepare(pack: &Path, trust: Option<&TrustConfig>) -> Result<Release, PublishError> {
        let archive_error = |error| PublishError::Archive {
            pack: pack.to_path_buf(),
            error,
        };
        let extracted;
        let (dir, given) = if pack.is_dir() {
            (pack.to_path_buf(), None)
        } else {
            let limits = ExtractLimits::default();
            let bytes = read_capped(pack, limits.max_archive_bytes())?;
            extracted = archive::extract_to_temp(pack, &limits).map_err(archive_error)?;
            (extracted.path().to_path_buf(), Some(bytes))
        };
        let (statement, signers) = signed(pack, &dir, trust)?;
        let manifest = statement.manifest();
        if !qorgan::pack::is_kebab(&manifest.name) {
            return Err(PublishError::Pack {
                pack: pack.to_path_buf(),
                error: PackError::invalid(
                    "name",
                    format!(
                        "`{}` must be lower-case letters, digits and dashes",
                        manifest.name
                    ),
                ),
            });
        }
        let bytes = match given {
            Some(bytes) if bytes.starts_with(&[0x1f, 0x8b]) => bytes,
            _ => archive::archive_bytes(&dir, Compression::Gzip).map_err(archive_error)?,
        };
        Ok(Release {
            config: PackConfig {
                name: manifest.name.clone(),
                version: manifest.version.clone(),
                serial: manifest.serial,
            },
            signers,
            statement_sha256: statement.sha256(),
            sha256: sha256_hex(&bytes),
            bytes,
        })
    }

    /// `<name>-<serial>.qpack`.
    pub fn file_name(&self) -> String {
        format!("{}-{}.{EXTENSION}", self.config.name, self.config.serial)
    }
}

/// A release that was published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// Where it can be fetched: the archive's path, the URL, or the
    /// registry reference with the manifest's digest.
    pub location: String,
    /// Whether the destination already held these very bytes (a directory
    /// only), so nothing was written.
    pub unchanged: bool,
}

/// Publishes the signed pack directory or archive `pack` to `target`.
pub fn publish(
    pack: &Path,
    target: &PublishTarget,
    options: &PublishOptions,
) -> Result<(Release, Published), PublishError> {
    let release = Release::prepare(pack, options.trust.as_ref())?;
    let published = publish_release(&release, target, options)?;
    Ok((release, published))
}

/// Publishes a prepared release to `target`.
pub fn publish_release(
    release: &Release,
    target: &PublishTarget,
    options: &PublishOptions,
) -> Result<Published, PublishError> {
    match target {
        PublishTarget::Dir(dir) => to_dir(release, dir),
        PublishTarget::Http(url) => to_http(release, url, options),
        PublishTarget::Oci(reference) => to_oci(release, reference, options),
    }
}

/// Checks the signatures of the pack copied or found at `dir`.
fn signed(
    pack: &Path,
    dir: &Path,
    trust: Option<&TrustConfig>,
) -> Result<(Statement, Vec<String>), PublishError> {
    let refused = |error: SignatureError| match error {
        SignatureError::NoSignatures { .. } => PublishError::NotSigned {
            pack: pack.to_path_buf(),
        },
        error => PublishError::Signature {
            pack: pack.to_path_buf(),
            error,
        },
    };
    match trust {
        Some(trust) => {
            let verified = trust.verify(dir).map_err(refused)?;
            let signers = verified.signers.iter().map(|s| s.label()).collect();
            Ok((verified.statement, signers))
        }
        None => {
            let (statement, keys) = check_signed(dir).map_err(refused)?;
            Ok((statement, keys.iter().map(ToString::to_string).collect()))
        }
    }
}

/// Reads at most `max` bytes of `path`, refusing a larger file.
fn read_capped(path: &Path, max: u64) -> Result<Vec<u8>, PublishError> {
    let io = |source| PublishError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > max {
        return Err(PublishError::Archive {
            pack: path.to_path_buf(),
            error: qorgan::pack::ArchiveError::LimitExceeded {
                limit: qorgan::pack::ArchiveLimit::TotalBytes,
                max,
                path: None,
            },
        });
    }
    Ok(bytes)
}

/// Writes `<dir>/<name>-<serial>.qpack` through a hidden temporary file.
fn to_dir(release: &Release, dir: &Path) -> Result<Published, PublishError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| PublishError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let target = dir.join(release.file_name());
    let location = target.display().to_string();
    if let Some(unchanged) = same_bytes(&target, &release.bytes)? {
        if unchanged {
            return Ok(Published {
                location,
                unchanged: true,
            });
        }
        return Err(PublishError::AlreadyPublished { path: target });
    }
    // Hidden (a leading `.`) until renamed: directory sources skip it.
    match qorgan::atomic::create_new(&target, &release.bytes) {
        Ok(()) => {}
        // Another publisher got there first: judge what it wrote.
        Err(e) if e.source.kind() == std::io::ErrorKind::AlreadyExists => {
            return match same_bytes(&target, &release.bytes)? {
                Some(true) => Ok(Published {
                    location,
                    unchanged: true,
                }),
                _ => Err(PublishError::AlreadyPublished { path: target }),
            };
        }
        Err(e) => return Err(io(&e.path)(e.source)),
    }
    Ok(Published {
        location,
        unchanged: false,
    })
}

/// Whether `path` holds `bytes`; `None` if there is no such file.
fn same_bytes(path: &Path, bytes: &[u8]) -> Result<Option<bool>, PublishError> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.len() != bytes.len() as u64 => Ok(Some(false)),
        Ok(_) => {
            let existing = std::fs::read(path).map_err(|source| PublishError::Io {
                path: path.to_path_buf(),
                source,
            })?;
            Ok(Some(existing == bytes))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(PublishError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// `PUT`s the archive to `url`.
fn to_http(
    release: &Release,
    url: &str,
    options: &PublishOptions,
) -> Result<Published, PublishError> {
    let target = shown_url(url);
    let client_error = |problem: String| PublishError::Client {
        target: target.clone(),
        problem,
    };
    let remote_error = |problem: RemoteProblem| PublishError::Remote {
        target: target.clone(),
        problem,
    };
    remote::ensure_crypto_provider();
    let client = reqwest::Client::builder()
        .user_agent(concat!("qorgan/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| client_error(error_chain(&e)))?;
    let runtime = remote::runtime().map_err(|e| client_error(e.to_string()))?;
    let mut request = client
        .put(url)
        .header(CONTENT_TYPE, LAYER_MEDIA_TYPE)
        .body(release.bytes.clone());
    if let Some((user, password)) = &options.basic_auth {
        request = request.basic_auth(user, Some(password));
    }
    let status = runtime
        .block_on(async move { request.send().await.map(|r| r.status()) })
        .map_err(|e| remote_error(RemoteProblem::Network(error_chain(&e))))?;
    if !matches!(
        status,
        StatusCode::OK | StatusCode::CREATED | StatusCode::NO_CONTENT
    ) {
        return Err(remote_error(RemoteProblem::Status {
            status: status.as_u16(),
        }));
    }
    Ok(Published {
        location: target,
        unchanged: false,
    })
}

/// Pushes the pack artifact to `reference` and tags it.
fn to_oci(
    release: &Release,
    reference: &OciReference,
    options: &PublishOptions,
) -> Result<Published, PublishError> {
    let target = reference.to_string();
    let client_error = |problem: String| PublishError::Client {
        target: target.clone(),
        problem,
    };
    let remote_error = |problem: RemoteProblem| PublishError::Remote {
        target: target.clone(),
        problem,
    };
    let client = reference.client().map_err(client_error)?;
    let runtime = remote::runtime().map_err(|e| client_error(e.to_string()))?;
    let auth = match &options.basic_auth {
        Some((user, password)) => RegistryAuth::Basic(user.clone(), password.clone()),
        None => RegistryAuth::Anonymous,
    };
    let config_json =
        serde_json::to_vec(&release.config).map_err(|e| client_error(e.to_string()))?;
    let annotations = oci::annotations(&release.config);
    let layers = [ImageLayer::new(
        release.bytes.clone(),
        LAYER_MEDIA_TYPE.to_owned(),
        Some(annotations.clone()),
    )];
    let config = Config::new(config_json, CONFIG_MEDIA_TYPE.to_owned(), None);
    let manifest = oci::pack_manifest(&layers, &config, annotations);
    let tagged = reference.by_tag();
    let digest = runtime
        .block_on(async {
            client
                .push(&tagged, &layers, config, &auth, Some(manifest))
                .await?;
            client.fetch_manifest_digest(&tagged, &auth).await
        })
        .map_err(|e| remote_error(oci::registry_problem(e)))?;
    Ok(Published {
        location: format!("{reference}@{digest}"),
        unchanged: false,
    })
}

/// A URL without its password.
fn shown_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_is_a_registry_a_url_or_a_directory() {
        assert!(matches!(
            PublishTarget::parse("oci://127.0.0.1:5000/afm/kz-afm:stable"),
            Ok(PublishTarget::Oci(r)) if r.tag() == "stable"
        ));
        assert!(matches!(
            PublishTarget::parse("https://packs.afm.kz/kz-afm.qpack"),
            Ok(PublishTarget::Http(_))
        ));
        assert!(matches!(
            PublishTarget::parse("/srv/packs"),
            Ok(PublishTarget::Dir(d)) if d == Path::new("/srv/packs")
        ));
        for bad in ["oci://127.0.0.1:5000/kz-afm", "ftp://x/y", "http://"] {
            assert!(
                matches!(
                    PublishTarget::parse(bad),
                    Err(PublishError::InvalidTarget { .. })
                ),
                "{bad}"
            );
        }
        assert_eq!(
            PublishTarget::Http("https://afm:secret@packs.afm.kz/p.qpack".into()).to_string(),
            "https://afm:***@packs.afm.kz/p.qpack"
        );
    }

    #[test]
    fn an_unsigned_pack_is_not_published() {
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => panic!("tempdir: {e}"),
        };
        let pack = dir.path().join("pack");
        let written = std::fs::create_dir_all(pack.join("tests")).and_then(|()| {
            std::fs::write(
                pack.join("pack.toml"),
                "name = \"kz-afm\"\nversion = \"1\"\nserial = 1\n",
            )
        });
        assert!(written.is_ok(), "{written:?}");
        match Release::prepare(&pack, None) {
            Err(PublishError::NotSigned { pack: p }) => assert_eq!(p, pack),
            other => panic!("expected NotSigned, got {other:?}"),
        }
        let out = dir.path().join("out");
        let published = publish(
            &pack,
            &PublishTarget::Dir(out.clone()),
            &PublishOptions::default(),
        );
        assert!(matches!(published, Err(PublishError::NotSigned { .. })));
        assert!(!out.exists(), "nothing was written");
    }
}
