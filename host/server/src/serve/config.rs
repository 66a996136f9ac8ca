//! The service's configuration: defaults, a TOML file, the environment and
//! flags, each overriding the one before.
//!
//! Every setting is a [`ConfigLayer`] field, all optional; a layer is read
//! from a TOML file ([`ConfigLayer::from_toml`]), from `QORGAN_*`
//! variables ([`ConfigLayer::from_env`]) or built from command-line flags,
//! and [`ServeConfig::apply`] lays it over the settings so far. Applying
//! file, then environment, then flags gives the precedence
//! flags > environment > file > defaults.
//!
//! | TOML key / variable | meaning | default |
//! |---|---|---|
//! | `listen` / `QORGAN_LISTEN` | address to listen on | `127.0.0.1:8377` |
//! | `pack` / `QORGAN_PACK` | an unsigned local pack, used when no source is set | the reference pack `examples/packs/kz-afm` |
//! | `pack_source` / `QORGAN_PACK_SOURCE` | a directory, `http(s)://` URL or `oci://` reference to watch for signed packs | none |
//! | `shadow_source` / `QORGAN_SHADOW_SOURCE` | a second source of signed packs: its pack decides every transaction beside the active one, in shadow (`/v1/pack/shadow`) | none |
//! | `trust` / `QORGAN_TRUST` | public key files trusted for signatures (`,`-separated in the variable) | none |
//! | `require` / `QORGAN_REQUIRE` | signatures required (M of N) | 1 |
//! | `state_dir` / `QORGAN_STATE_DIR` | where the active pack and the log are kept | `$XDG_STATE_HOME/qorgan`, else `~/.local/state/qorgan` |
//! | (derived) | compiled components, kept across restarts | `<state_dir>/compiled` |
//! | `decision_log` / `QORGAN_DECISION_LOG` | the decision log's file | `<state_dir>/decisions.sqlite` |
//! | `journal` / `QORGAN_JOURNAL` | a `postgres://` URL: the journal and decision log shared by the cluster's replicas (docs/cluster.md) | none: the SQLite log in the state directory |
//! | `replica` / `QORGAN_REPLICA` | this replica's name in the cluster, unique and kept across restarts | the host's name |
//! | `poll_interval_ms` / `QORGAN_POLL_INTERVAL_MS` | how often the source is polled | 5000 |
//! | `max_body_bytes` / `QORGAN_MAX_BODY_BYTES` | the largest request body | 4194304 |
//! | `max_batch` / `QORGAN_MAX_BATCH` | the most transactions in one batch request | 1000 |
//! | `max_pack_age_secs` / `QORGAN_MAX_PACK_AGE_SECS` | `/readyz` fails when the active pack was issued longer ago | none |
//! | `max_group` / `QORGAN_MAX_GROUP` | the most decisions one log commit holds | 4096 |
//! | `threads` / `QORGAN_THREADS` | HTTP worker threads | 2 |
//! | `deciders` / `QORGAN_DECIDERS` | threads deciding journaled batches concurrently, each at its journal positions | the available cores |
//! | `max_clock_skew_secs` / `QORGAN_MAX_CLOCK_SKEW_SECS` | how far ahead of the host's clock a transaction may be dated | 600 |
//! | `memory_budget_mib` / `QORGAN_MEMORY_BUDGET_MIB` | resident memory the service is sized for; `/readyz` says `degraded` from 90% of it | none |
//! | `tls_cert`, `tls_key` / `QORGAN_TLS_CERT`, `QORGAN_TLS_KEY` | PEM certificate chain and private key: serve HTTPS (reloaded when the files change) | none: plain HTTP |
//! | `tls_client_ca` / `QORGAN_TLS_CLIENT_CA` | PEM CA certificates client certificates must chain to | none: no client certificates |
//! | `tokens` (TOML only) | bearer tokens: `[[tokens]]` with `name`, `sha256`, `roles` | none |
//! | `client_certs` (TOML only) | client certificates: `[[client_certs]]` with `name`, `sha256`, `roles` | none |
//! | `insecure` / `QORGAN_INSECURE` | allow a non-loopback address without TLS and authentication | false |
//! | `header_read_timeout_ms` / `QORGAN_HEADER_READ_TIMEOUT_MS` | a request's headers (and a TLS handshake) must arrive within | 10000 |
//! | `body_read_timeout_ms` / `QORGAN_BODY_READ_TIMEOUT_MS` | a request's body must arrive within | 30000 |
//! | `idle_timeout_ms` / `QORGAN_IDLE_TIMEOUT_MS` | a kept-alive connection with no request in flight is closed after | 60000 |
//! | `request_timeout_ms` / `QORGAN_REQUEST_TIMEOUT_MS` | a whole request, body to response, must finish within | 60000 |
//! | `max_connections` / `QORGAN_MAX_CONNECTIONS` | open connections; at the cap the oldest idle one is closed for a new one | 512 |

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::auth::Grant;
use super::errors::ServeError;

/// The address the service listens on by default.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8377";

/// The prefix of the service's environment variables.
pub const ENV_PREFIX: &str = "QORGAN_";

/// The service's settings, complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeConfig {
    /// The address to listen on (port 0: any free port, printed at start).
    pub listen: SocketAddr,
    /// The unsigned local pack used when there is no `pack_source`.
    pub pack: PathBuf,
    /// Where signed packs come from: a directory, a URL, an OCI reference.
    pub pack_source: Option<String>,
    /// Where candidate packs for shadow mode come from: signed and
    /// activated like the active pack's, they decide beside it without
    /// answering, recording or logging anything (`serve/shadow.rs`).
    pub shadow_source: Option<String>,
    /// Public key files trusted to sign packs.
    pub trust: Vec<PathBuf>,
    /// How many trusted signatures a pack needs.
    pub require: usize,
    /// The state directory.
    pub state_dir: PathBuf,
    /// The decision log's file, if not the default in the state directory.
    pub decision_log: Option<PathBuf>,
    /// The cluster's PostgreSQL (`postgres://…`): the journal and the
    /// decision log every replica shares, instead of the SQLite file.
    pub journal: Option<String>,
    /// This replica's name in the cluster: unique among the replicas and
    /// the same across its restarts (it owns the entries it journals).
    pub replica: Option<String>,
    /// How often the pack source is polled.
    pub poll_interval: Duration,
    /// The largest request body, in bytes.
    pub max_body_bytes: usize,
    /// The most transactions in one batch request.
    pub max_batch: usize,
    /// How long ago the active pack may have been issued for `/readyz`.
    pub max_pack_age: Option<Duration>,
    /// The most decisions one commit of the log holds.
    pub max_group: usize,
    /// HTTP worker threads.
    pub threads: usize,
    /// Threads deciding journaled batches concurrently. Each batch is
    /// decided at its journal positions, so the decisions (and the log's
    /// order) are the same with one decider or many.
    pub deciders: usize,
    /// How far ahead of the host's clock a transaction may be dated, in
    /// seconds; a transaction dated further ahead is refused, so that no
    /// single timestamp can move history's retention.
    pub max_clock_skew_secs: u64,
    /// The resident memory the service is sized for, in MiB: approaching
    /// it (90%), `/readyz` says `degraded` naming it, a warning is logged
    /// and a metric shows it. History never drops an event inside
    /// retention to stay under it.
    pub memory_budget_mib: Option<u64>,
    /// HTTPS: the certificate chain and key files, and the CA client
    /// certificates are checked against; `None` serves plain HTTP.
    pub tls: Option<TlsFiles>,
    /// Bearer tokens and their roles.
    pub tokens: Vec<Grant>,
    /// Client certificates and their roles (needs `tls.client_ca`).
    pub client_certs: Vec<Grant>,
    /// Listen on a non-loopback address without TLS and authentication.
    pub insecure: bool,
    /// Timeouts and the connection cap.
    pub limits: Limits,
    /// A TLS file was set without its pair: refused by [`ServeConfig::check`].
    half_tls: bool,
}

/// The files of HTTPS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The PEM certificate chain, the server's first.
    pub cert: PathBuf,
    /// The PEM private key.
    pub key: PathBuf,
    /// The PEM CA certificates a client certificate must chain to; a
    /// client may still present none and use a token.
    pub client_ca: Option<PathBuf>,
}

/// How long each stage of a request may take, and how many connections
/// may be open: a slow or idle client cannot hold the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The request line and headers (and a TLS handshake) must arrive
    /// within this, counted from the connection or the previous response.
    pub header_read: Duration,
    /// The body must arrive within this once the headers have.
    pub body_read: Duration,
    /// A connection with no request in flight is closed after this.
    pub idle: Duration,
    /// A whole request, from its headers to its response.
    pub request: Duration,
    /// The most connections open at once. At the cap, a new connection
    /// closes the oldest one with no request in flight; if every one is
    /// busy, the new connection is closed.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read: Duration::from_secs(10),
            body_read: Duration::from_secs(30),
            idle: Duration::from_secs(60),
            request: Duration::from_secs(60),
            max_connections: 512,
        }
    }
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8377)),
            pack: default_pack(),
            pack_source: None,
            shadow_source: None,
            trust: Vec::new(),
            require: 1,
            state_dir: default_state_dir(),
            decision_log: None,
            journal: None,
            replica: None,
            poll_interval: Duration::from_secs(5),
            max_body_bytes: 4 * 1024 * 1024,
            max_batch: 1000,
            max_pack_age: None,
            max_group: crate::audit::log::DEFAULT_MAX_GROUP,
            threads: 2,
            deciders: std::thread::available_parallelism().map_or(1, |n| n.get()),
            max_clock_skew_secs: qorgan::journal::DEFAULT_MAX_SKEW_SECS.unsigned_abs(),
            memory_budget_mib: None,
            tls: None,
            tokens: Vec::new(),
            client_certs: Vec::new(),
            insecure: false,
            limits: Limits::default(),
            half_tls: false,
        }
    }
}

impl ServeConfig {
    /// Lays `layer` over these settings: what it sets wins.
    pub fn apply(mut self, layer: ConfigLayer) -> ServeConfig {
        self = self.apply_service(&layer);
        if let Some(v) = layer.listen {
            self.listen = v;
        }
        if let Some(v) = layer.pack {
            self.pack = v;
        }
        if let Some(v) = layer.pack_source {
            self.pack_source = Some(v);
        }
        if let Some(v) = layer.shadow_source {
            self.shadow_source = Some(v);
        }
        if let Some(v) = layer.trust {
            self.trust = v;
        }
        if let Some(v) = layer.require {
            self.require = v.max(1);
        }
        if let Some(v) = layer.state_dir {
            self.state_dir = v;
        }
        if let Some(v) = layer.decision_log {
            self.decision_log = Some(v);
        }
        if let Some(v) = layer.journal {
            self.journal = Some(v);
        }
        if let Some(v) = layer.replica {
            self.replica = Some(v);
        }
        if let Some(v) = layer.poll_interval_ms {
            self.poll_interval = Duration::from_millis(v.max(10));
        }
        if let Some(v) = layer.max_body_bytes {
            self.max_body_bytes = v.max(1024);
        }
        if let Some(v) = layer.max_batch {
            self.max_batch = v.max(1);
        }
        if let Some(v) = layer.max_pack_age_secs {
            self.max_pack_age = Some(Duration::from_secs(v));
        }
        if let Some(v) = layer.max_group {
            self.max_group = v.max(1);
        }
        if let Some(v) = layer.threads {
            self.threads = v.clamp(1, 256);
        }
        if let Some(v) = layer.deciders {
            self.deciders = v.clamp(1, 256);
        }
        if let Some(v) = layer.max_clock_skew_secs {
            self.max_clock_skew_secs = v.min(i64::MAX.unsigned_abs());
        }
        if let Some(v) = layer.memory_budget_mib {
            self.memory_budget_mib = Some(v.max(1));
        }
        self
    }

    /// The settings of exposing the service: TLS, grants, limits.
    fn apply_service(mut self, layer: &ConfigLayer) -> ServeConfig {
        if let (Some(cert), Some(key)) = (layer.tls_cert.clone(), layer.tls_key.clone()) {
            let client_ca = self.tls.as_ref().and_then(|t| t.client_ca.clone());
            self.tls = Some(TlsFiles {
                cert,
                key,
                client_ca,
            });
        } else if layer.tls_cert.is_some() || layer.tls_key.is_some() {
            // One without the other: kept for `check` to refuse.
            self.half_tls = true;
        }
        if let Some(ca) = layer.tls_client_ca.clone() {
            match &mut self.tls {
                Some(tls) => tls.client_ca = Some(ca),
                None => self.half_tls = true,
            }
        }
        if let Some(v) = &layer.tokens {
            self.tokens = v.clone();
        }
        if let Some(v) = &layer.client_certs {
            self.client_certs = v.clone();
        }
        if let Some(v) = layer.insecure {
            self.insecure = v;
        }
        let ms = |v: u64| Duration::from_millis(v.max(100));
        if let Some(v) = layer.header_read_timeout_ms {
            self.limits.header_read = ms(v);
        }
        if let Some(v) = layer.body_read_timeout_ms {
            self.limits.body_read = ms(v);
        }
        if let Some(v) = layer.idle_timeout_ms {
            self.limits.idle = ms(v);
        }
        if let Some(v) = layer.request_timeout_ms {
            self.limits.request = ms(v);
        }
        if let Some(v) = layer.max_connections {
            self.limits.max_connections = v.max(1);
        }
        self
    }

    /// Whether requests need a credential (some token or certificate is
    /// granted).
    pub fn authenticates(&self) -> bool {
        !self.tokens.is_empty() || !self.client_certs.is_empty()
    }

    /// Refuses settings that cannot work together, and a non-loopback
    /// address without TLS and authentication unless `insecure`.
    pub fn check(&self) -> Result<(), ServeError> {
        if self.half_tls {
            return Err(ServeError::Config(
                "TLS needs both tls_cert and tls_key (and tls_client_ca only with them)".into(),
            ));
        }
        if !self.client_certs.is_empty()
            && self
                .tls
                .as_ref()
                .and_then(|t| t.client_ca.as_ref())
                .is_none()
        {
            return Err(ServeError::Config(
                "client_certs are granted, but no tls_client_ca is set to verify them".into(),
            ));
        }
        if let Some(journal) = &self.journal {
            crate::cluster::Database::parse(journal).map_err(ServeError::Config)?;
            if let Some(shadow) = &self.shadow_source {
                return Err(ServeError::Config(format!(
                    "the shadow source {shadow} is not supported with a cluster journal yet: run the shadow on a single node"
                )));
            }
            if self.replica_name().is_empty() {
                return Err(ServeError::Config(
                    "a replica needs a name (--replica NAME): the host's name could not be read"
                        .into(),
                ));
            }
        }
        if !self.listen.ip().is_loopback() && !self.insecure {
            let mut missing = Vec::new();
            if self.tls.is_none() {
                missing.push("TLS (tls_cert and tls_key)");
            }
            if !self.authenticates() {
                missing.push("authentication (tokens or client_certs)");
            }
            if !missing.is_empty() {
                return Err(ServeError::Config(format!(
                    "refusing to listen on {} without {}: anyone who can reach it could decide payments and read the pack's status. Configure them (docs/serve.md, \"Production\"), listen on 127.0.0.1 behind a proxy that does, or pass --insecure to accept the risk",
                    self.listen,
                    missing.join(" and ")
                )));
            }
        }
        Ok(())
    }

    /// This replica's name: `replica`, else the host's name.
    pub fn replica_name(&self) -> String {
        self.replica.clone().unwrap_or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_owned())
                .unwrap_or_default()
        })
    }

    /// The decision log's file.
    pub fn decision_log_path(&self) -> PathBuf {
        self.decision_log
            .clone()
            .unwrap_or_else(|| self.state_dir.join("decisions.sqlite"))
    }

    /// The directory the activator keeps the active signed pack in.
    pub fn pack_state_dir(&self) -> PathBuf {
        self.state_dir.join("pack")
    }

    /// The directory compiled components are cached in across restarts
    /// (see `qorgan::engine::EngineBuilder::compiled_cache`).
    pub fn compiled_cache_dir(&self) -> PathBuf {
        self.state_dir.join("compiled")
    }

    /// The directory the shadow's activator keeps its candidate pack in.
    pub fn shadow_state_dir(&self) -> PathBuf {
        self.state_dir.join("shadow")
    }
}

/// Some settings: a TOML file's, the environment's or the flags'.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigLayer {
    /// See [`ServeConfig::listen`].
    pub listen: Option<SocketAddr>,
    /// See [`ServeConfig::pack`].
    pub pack: Option<PathBuf>,
    /// See [`ServeConfig::pack_source`].
    pub pack_source: Option<String>,
    /// See [`ServeConfig::shadow_source`].
    #[serde(default)]
    pub shadow_source: Option<String>,
    /// See [`ServeConfig::trust`].
    pub trust: Option<Vec<PathBuf>>,
    /// See [`ServeConfig::require`].
    pub require: Option<usize>,
    /// See [`ServeConfig::state_dir`].
    pub state_dir: Option<PathBuf>,
    /// See [`ServeConfig::decision_log`].
    pub decision_log: Option<PathBuf>,
    /// See [`ServeConfig::journal`].
    pub journal: Option<String>,
    /// See [`ServeConfig::replica`].
    pub replica: Option<String>,
    /// See [`ServeConfig::poll_interval`], in milliseconds.
    pub poll_interval_ms: Option<u64>,
    /// See [`ServeConfig::max_body_bytes`].
    pub max_body_bytes: Option<usize>,
    /// See [`ServeConfig::max_batch`].
    pub max_batch: Option<usize>,
    /// See [`ServeConfig::max_pack_age`], in seconds.
    pub max_pack_age_secs: Option<u64>,
    /// See [`ServeConfig::max_group`].
    pub max_group: Option<usize>,
    /// See [`ServeConfig::threads`].
    pub threads: Option<usize>,
    /// See [`ServeConfig::deciders`].
    pub deciders: Option<usize>,
    /// See [`ServeConfig::max_clock_skew_secs`].
    pub max_clock_skew_secs: Option<u64>,
    /// See [`ServeConfig::memory_budget_mib`].
    pub memory_budget_mib: Option<u64>,
    /// See [`TlsFiles::cert`].
    pub tls_cert: Option<PathBuf>,
    /// See [`TlsFiles::key`].
    pub tls_key: Option<PathBuf>,
    /// See [`TlsFiles::client_ca`].
    pub tls_client_ca: Option<PathBuf>,
    /// See [`ServeConfig::tokens`].
    pub tokens: Option<Vec<Grant>>,
    /// See [`ServeConfig::client_certs`].
    pub client_certs: Option<Vec<Grant>>,
    /// See [`ServeConfig::insecure`].
    pub insecure: Option<bool>,
    /// See [`Limits::header_read`], in milliseconds.
    pub header_read_timeout_ms: Option<u64>,
    /// See [`Limits::body_read`], in milliseconds.
    pub body_read_timeout_ms: Option<u64>,
    /// See [`Limits::idle`], in milliseconds.
    pub idle_timeout_ms: Option<u64>,
    /// See [`Limits::request`], in milliseconds.
    pub request_timeout_ms: Option<u64>,
    /// See [`Limits::max_connections`].
    pub max_connections: Option<usize>,
}

impl ConfigLayer {
    /// The settings of a TOML document; an unknown key is an error.
    pub fn from_toml(text: &str) -> Result<ConfigLayer, ServeError> {
        toml::from_str(text).map_err(|e| ServeError::Config(e.to_string()))
    }

    /// The settings of the TOML file at `path`.
    pub fn from_file(path: &Path) -> Result<ConfigLayer, ServeError> {
        let text = std::fs::read_to_string(path).map_err(|source| ServeError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        ConfigLayer::from_toml(&text)
            .map_err(|e| ServeError::Config(format!("{}: {e}", path.display())))
    }

    /// The settings of the `QORGAN_*` variables among `vars` (e.g.
    /// `std::env::vars()`); other variables are ignored.
    pub fn from_env(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<ConfigLayer, ServeError> {
        let mut layer = ConfigLayer::default();
        for (name, value) in vars {
            let Some(key) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let bad = |e: &dyn std::fmt::Display| ServeError::Config(format!("{name}: {e}"));
            let number = |v: &str| v.trim().parse::<u64>().map_err(|e| bad(&e));
            let size = |v: &str| v.trim().parse::<usize>().map_err(|e| bad(&e));
            match key {
                "LISTEN" => layer.listen = Some(value.trim().parse().map_err(|e| bad(&e))?),
                "PACK" => layer.pack = Some(PathBuf::from(value)),
                "PACK_SOURCE" => layer.pack_source = Some(value),
                "SHADOW_SOURCE" => layer.shadow_source = Some(value),
                "TRUST" => {
                    layer.trust = Some(
                        value
                            .split(',')
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(PathBuf::from)
                            .collect(),
                    );
                }
                "REQUIRE" => layer.require = Some(size(&value)?),
                "STATE_DIR" => layer.state_dir = Some(PathBuf::from(value)),
                "DECISION_LOG" => layer.decision_log = Some(PathBuf::from(value)),
                "JOURNAL" => layer.journal = Some(value),
                "REPLICA" => layer.replica = Some(value),
                "POLL_INTERVAL_MS" => layer.poll_interval_ms = Some(number(&value)?),
                "MAX_BODY_BYTES" => layer.max_body_bytes = Some(size(&value)?),
                "MAX_BATCH" => layer.max_batch = Some(size(&value)?),
                "MAX_PACK_AGE_SECS" => layer.max_pack_age_secs = Some(number(&value)?),
                "MAX_GROUP" => layer.max_group = Some(size(&value)?),
                "THREADS" => layer.threads = Some(size(&value)?),
                "DECIDERS" => layer.deciders = Some(size(&value)?),
                "MAX_CLOCK_SKEW_SECS" => layer.max_clock_skew_secs = Some(number(&value)?),
                "MEMORY_BUDGET_MIB" => layer.memory_budget_mib = Some(number(&value)?),
                "TLS_CERT" => layer.tls_cert = Some(PathBuf::from(value)),
                "TLS_KEY" => layer.tls_key = Some(PathBuf::from(value)),
                "TLS_CLIENT_CA" => layer.tls_client_ca = Some(PathBuf::from(value)),
                "INSECURE" => {
                    layer.insecure = Some(match value.trim() {
                        "1" | "true" | "yes" => true,
                        "0" | "false" | "no" | "" => false,
                        other => return Err(bad(&format!("`{other}` is not true or false"))),
                    });
                }
                "HEADER_READ_TIMEOUT_MS" => layer.header_read_timeout_ms = Some(number(&value)?),
                "BODY_READ_TIMEOUT_MS" => layer.body_read_timeout_ms = Some(number(&value)?),
                "IDLE_TIMEOUT_MS" => layer.idle_timeout_ms = Some(number(&value)?),
                "REQUEST_TIMEOUT_MS" => layer.request_timeout_ms = Some(number(&value)?),
                "MAX_CONNECTIONS" => layer.max_connections = Some(size(&value)?),
                // QORGAN_LOG (the log filter) and others are not the
                // service's settings.
                _ => {}
            }
        }
        Ok(layer)
    }
}

/// The reference pack: `examples/packs/kz-afm` under the current
/// directory if it is there, else in the source tree this host was built
/// from.
fn default_pack() -> PathBuf {
    let here = PathBuf::from("examples/packs/kz-afm");
    if here.join(qorgan::pack::MANIFEST).is_file() {
        return here;
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(|root| root.join("examples/packs/kz-afm"))
        .unwrap_or(here)
}

/// `$XDG_STATE_HOME/qorgan`, else `$HOME/.local/state/qorgan`, else
/// `.qorgan-state` in the current directory.
fn default_state_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("XDG_STATE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("qorgan");
    }
    if let Some(home) = std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(home).join(".local/state/qorgan");
    }
    PathBuf::from(".qorgan-state")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn flags_beat_the_environment_which_beats_the_file_which_beats_defaults() {
        let file = match ConfigLayer::from_toml(
            "listen = \"127.0.0.1:9000\"\nmax_batch = 10\nmax_group = 7\ntrust = [\"a.pub\"]\n",
        ) {
            Ok(l) => l,
            Err(e) => panic!("{e}"),
        };
        let env = match ConfigLayer::from_env(vars(&[
            ("QORGAN_MAX_BATCH", "20"),
            ("QORGAN_LISTEN", "127.0.0.1:9001"),
            ("QORGAN_TRUST", "b.pub, c.pub"),
            ("QORGAN_LOG", "debug"),
            ("HOME", "/root"),
        ])) {
            Ok(l) => l,
            Err(e) => panic!("{e}"),
        };
        let flags = ConfigLayer {
            listen: Some(SocketAddr::from(([127, 0, 0, 1], 9002))),
            ..ConfigLayer::default()
        };
        let config = ServeConfig::default().apply(file).apply(env).apply(flags);
        assert_eq!(config.listen.port(), 9002);
        assert_eq!(config.max_batch, 20);
        assert_eq!(config.max_group, 7);
        assert_eq!(
            config.trust,
            vec![PathBuf::from("b.pub"), PathBuf::from("c.pub")]
        );
        assert_eq!(config.max_body_bytes, ServeConfig::default().max_body_bytes);
    }

    #[test]
    fn an_unknown_key_or_a_malformed_variable_is_an_error_naming_it() {
        match ConfigLayer::from_toml("listen_on = \"x\"\n") {
            Err(e) => assert!(e.to_string().contains("listen_on"), "{e}"),
            Ok(l) => panic!("accepted {l:?}"),
        }
        match ConfigLayer::from_env(vars(&[("QORGAN_MAX_BATCH", "many")])) {
            Err(e) => assert!(e.to_string().contains("QORGAN_MAX_BATCH"), "{e}"),
            Ok(l) => panic!("accepted {l:?}"),
        }
    }

    #[test]
    fn a_public_address_needs_tls_and_authentication_or_insecure() {
        let public = ConfigLayer {
            listen: Some(SocketAddr::from(([0, 0, 0, 0], 8377))),
            ..ConfigLayer::default()
        };
        let config = ServeConfig::default().apply(public.clone());
        match config.check() {
            Err(e) => assert!(
                e.to_string().contains("--insecure") && e.to_string().contains("TLS"),
                "{e}"
            ),
            Ok(()) => panic!("a public address without TLS was accepted"),
        }
        let insecure = ServeConfig::default().apply(public).apply(ConfigLayer {
            insecure: Some(true),
            ..ConfigLayer::default()
        });
        assert!(insecure.check().is_ok());
        assert!(ServeConfig::default().check().is_ok());
    }

    #[test]
    fn grants_and_limits_are_read_from_toml() {
        let layer = match ConfigLayer::from_toml(
            "tls_cert = \"c.pem\"\ntls_key = \"k.pem\"\nheader_read_timeout_ms = 2000\nmax_connections = 64\n[[tokens]]\nname = \"core\"\nsha256 = \"00\"\nroles = [\"decide\", \"operate\"]\n",
        ) {
            Ok(l) => l,
            Err(e) => panic!("{e}"),
        };
        let config = ServeConfig::default().apply(layer);
        assert_eq!(config.limits.header_read, Duration::from_secs(2));
        assert_eq!(config.limits.max_connections, 64);
        assert_eq!(config.tokens.len(), 1);
        assert!(config.tls.is_some());
        let half = ServeConfig::default().apply(ConfigLayer {
            tls_cert: Some(PathBuf::from("c.pem")),
            ..ConfigLayer::default()
        });
        assert!(half.check().is_err());
    }

    #[test]
    fn the_log_lives_in_the_state_directory_unless_named() {
        let config = ServeConfig::default().apply(ConfigLayer {
            state_dir: Some(PathBuf::from("/var/lib/qorgan")),
            ..ConfigLayer::default()
        });
        assert_eq!(
            config.decision_log_path(),
            PathBuf::from("/var/lib/qorgan/decisions.sqlite")
        );
    }
}
