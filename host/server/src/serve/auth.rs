//! Who may call what: bearer tokens and client certificates, each granted
//! roles.
//!
//! # Why
//!
//! The service decides payments and shows where its log and its packs are:
//! a bank exposes it to its own systems only. Two kinds of credential are
//! accepted, both configured as SHA-256 digests so that the configuration
//! file holds no secret:
//!
//! - a **bearer token** (`Authorization: Bearer TOKEN`), granted when the
//!   SHA-256 of the token, in hex, is one of `tokens` (`qorgan hash-token`
//!   prints it);
//! - a **client certificate** presented in the TLS handshake, verified
//!   against `tls_client_ca`, granted when the SHA-256 of its DER encoding
//!   is one of `client_certs` (`qorgan hash-token --cert FILE`).
//!
//! Each grant carries [`Role`]s: `decide` for the `/v1/evaluate` routes,
//! `operate` for `/v1/pack` and `/metrics`. `/healthz`, `/readyz` and
//! `/openapi.json` answer without a credential, so that an orchestrator's
//! probes and an integrator's code generator need none; they show no
//! transaction, no path and no pack source. With no grant configured at
//! all, authentication is off (a trial on 127.0.0.1; a non-loopback
//! address then needs `--insecure`, see `config.rs`).
//!
//! A request without a credential is answered 401 with
//! `WWW-Authenticate: Bearer`; an unknown token also 401; a known
//! credential without the route's role 403 naming the role. A refused
//! request never reaches the deciding pipeline, so it enters neither history
//! nor the decision log.

use std::collections::HashMap;
use std::fmt;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::errors::ServeError;

/// What a credential may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Role {
    /// Decide transactions: `POST /v1/evaluate` and `/v1/evaluate/batch`.
    Decide,
    /// Operate the service: `GET /v1/pack` and `/metrics`.
    Operate,
}

impl Role {
    /// The role's name in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Decide => "decide",
            Role::Operate => "operate",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One credential's grant: whose it is, its SHA-256 in hex, and its roles.
///
/// In TOML, under `[[tokens]]` or `[[client_certs]]`:
/// `name = "core-banking"`, `sha256 = "…64 hex digits…"`,
/// `roles = ["decide"]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    /// Who holds the credential, for the logs.
    pub name: String,
    /// The SHA-256 of the token (its UTF-8 bytes) or of the certificate
    /// (its DER bytes), 64 hexadecimal digits.
    pub sha256: String,
    /// What it may do.
    pub roles: Vec<Role>,
}

/// The SHA-256 of `bytes` in lower-case hex: what a grant names.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The SHA-256 in hex of the first certificate of a PEM file (its DER
/// bytes): what `[[client_certs]]` names.
pub fn certificate_sha256(path: &std::path::Path) -> Result<String, ServeError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;
    let certificate = CertificateDer::from_pem_file(path)
        .map_err(|e| ServeError::Config(format!("{}: no PEM certificate: {e}", path.display())))?;
    Ok(sha256_hex(certificate.as_ref()))
}

/// The client certificate a connection presented, verified by TLS: its
/// SHA-256 (put in each request's extensions by the listener).
#[derive(Debug, Clone, Default)]
pub(crate) struct Peer {
    /// The SHA-256 of the certificate's DER, hex, if one was presented.
    pub(crate) certificate: Option<String>,
}

/// The grants in force, looked up by digest.
#[derive(Debug, Default)]
pub(crate) struct Authority {
    tokens: HashMap<String, Grant>,
    certificates: HashMap<String, Grant>,
}

impl Authority {
    /// The grants of the configuration, each digest checked.
    pub(crate) fn new(tokens: &[Grant], certificates: &[Grant]) -> Result<Authority, ServeError> {
        let index = |grants: &[Grant], what: &str| -> Result<HashMap<String, Grant>, ServeError> {
            let mut map = HashMap::new();
            for grant in grants {
                let digest = grant.sha256.trim().to_ascii_lowercase();
                if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(ServeError::Config(format!(
                        "{what} `{}`: sha256 must be 64 hexadecimal digits (qorgan hash-token prints it)",
                        grant.name
                    )));
                }
                if grant.roles.is_empty() {
                    return Err(ServeError::Config(format!(
                        "{what} `{}` has no roles; give it `decide`, `operate` or both",
                        grant.name
                    )));
                }
                if map.insert(digest, grant.clone()).is_some() {
                    return Err(ServeError::Config(format!(
                        "{what} `{}`: its sha256 is granted twice",
                        grant.name
                    )));
                }
            }
            Ok(map)
        };
        Ok(Authority {
            tokens: index(tokens, "token")?,
            certificates: index(certificates, "client certificate")?,
        })
    }

    /// Whether any credential is configured (else every route is open).
    pub(crate) fn enabled(&self) -> bool {
        !self.tokens.is_empty() || !self.certificates.is_empty()
    }

    /// Whether `request` may call a route needing `role`: `None` if so,
    /// else the refusal (401 or 403).
    fn check(&self, request: &Request, role: Role) -> Option<(StatusCode, String)> {
        if !self.enabled() {
            return None;
        }
        let bearer = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim);
        let grant = match bearer {
            Some(token) => match self.tokens.get(&sha256_hex(token.as_bytes())) {
                Some(grant) => grant,
                None => {
                    return Some((
                        StatusCode::UNAUTHORIZED,
                        "the bearer token is not one this service grants".into(),
                    ));
                }
            },
            None => {
                let certificate = request
                    .extensions()
                    .get::<Peer>()
                    .and_then(|peer| peer.certificate.as_deref())
                    .and_then(|digest| self.certificates.get(digest));
                match certificate {
                    Some(grant) => grant,
                    None => {
                        return Some((
                            StatusCode::UNAUTHORIZED,
                            format!(
                                "this route needs the `{role}` role: send Authorization: Bearer TOKEN, or a client certificate granted it"
                            ),
                        ));
                    }
                }
            }
        };
        if grant.roles.contains(&role) {
            None
        } else {
            Some((
                StatusCode::FORBIDDEN,
                format!(
                    "the credential `{}` does not have the `{role}` role this route needs",
                    grant.name
                ),
            ))
        }
    }
}

/// The middleware state: the authority and the role a group of routes
/// needs.
#[derive(Clone)]
pub(crate) struct Guard {
    pub(crate) authority: std::sync::Arc<Authority>,
    pub(crate) role: Role,
}

/// Lets a request through to its route if its credential has the role.
pub(crate) async fn require(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    match guard.authority.check(&request, guard.role) {
        None => next.run(request).await,
        Some((status, message)) => {
            let mut response = super::routes::error(status, message);
            if status == StatusCode::UNAUTHORIZED {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"qorgan\""),
                );
            }
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(name: &str, token: &str, roles: &[Role]) -> Grant {
        Grant {
            name: name.into(),
            sha256: sha256_hex(token.as_bytes()),
            roles: roles.to_vec(),
        }
    }

    fn request(token: Option<&str>) -> Request {
        let mut builder = axum::http::Request::builder().uri("/v1/pack");
        if let Some(token) = token {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        match builder.body(axum::body::Body::empty()) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn tokens_are_matched_by_digest_and_roles_are_enforced() {
        let authority = match Authority::new(
            &[
                grant("core", "s3cret-decide", &[Role::Decide]),
                grant("ops", "s3cret-operate", &[Role::Operate]),
            ],
            &[],
        ) {
            Ok(a) => a,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(
            authority.check(&request(None), Role::Operate).map(|r| r.0),
            Some(StatusCode::UNAUTHORIZED)
        );
        assert_eq!(
            authority
                .check(&request(Some("guess")), Role::Decide)
                .map(|r| r.0),
            Some(StatusCode::UNAUTHORIZED)
        );
        assert_eq!(
            authority
                .check(&request(Some("s3cret-decide")), Role::Operate)
                .map(|r| r.0),
            Some(StatusCode::FORBIDDEN)
        );
        assert!(
            authority
                .check(&request(Some("s3cret-operate")), Role::Operate)
                .is_none()
        );
    }

    #[test]
    fn a_malformed_digest_or_a_grant_without_roles_is_refused_naming_it() {
        let mut bad = grant("core", "x", &[Role::Decide]);
        bad.sha256 = "abc".into();
        match Authority::new(&[bad], &[]) {
            Err(e) => assert!(e.to_string().contains("`core`"), "{e}"),
            Ok(_) => panic!("accepted a short digest"),
        }
        match Authority::new(&[grant("idle", "y", &[])], &[]) {
            Err(e) => assert!(e.to_string().contains("no roles"), "{e}"),
            Ok(_) => panic!("accepted a grant without roles"),
        }
    }

    #[test]
    fn without_grants_every_route_is_open() {
        let authority = Authority::default();
        assert!(!authority.enabled());
        assert!(authority.check(&request(None), Role::Decide).is_none());
    }
}
