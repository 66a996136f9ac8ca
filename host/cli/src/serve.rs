//! `qorgan serve`: the HTTP service. Settings come from defaults, a TOML
//! file (`--config`), `QORGAN_*` variables and these flags, each
//! overriding the one before (`qorgan_server::serve::ServeConfig`).

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use qorgan_server::serve::{ConfigLayer, ServeConfig};

#[derive(clap::Args)]
pub(super) struct ServeArgs {
    /// A TOML configuration file.
    #[arg(long)]
    config: Option<PathBuf>,
    /// The address to listen on (default 127.0.0.1:8377; port 0 picks a
    /// free port, printed at start).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Watch for signed packs: a directory, an http(s):// URL or an
    /// oci://HOST/REPO:TAG reference. Without it, the local `--pack` is
    /// loaded unsigned.
    #[arg(long)]
    pack_source: Option<String>,
    /// Run a candidate pack in shadow: signed packs from this directory,
    /// URL or OCI reference, checked like the active one, decide every
    /// transaction beside it without answering (see /v1/pack/shadow).
    #[arg(long, requires = "pack_source")]
    shadow_source: Option<String>,
    /// A public key file trusted to sign packs (repeatable).
    #[arg(long = "trust")]
    trust: Vec<PathBuf>,
    /// How many trusted signatures a pack needs (M of N; default 1).
    #[arg(long)]
    require: Option<usize>,
    /// An unsigned local pack directory, used when there is no
    /// `--pack-source` (default: the reference pack examples/packs/kz-afm).
    #[arg(long)]
    pack: Option<PathBuf>,
    /// Where the active pack and the decision log are kept.
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// The decision log's file (default <state-dir>/decisions.sqlite).
    #[arg(long)]
    decision_log: Option<PathBuf>,
    /// Run as a replica of a cluster: the journal and decision log in this
    /// PostgreSQL (`postgres://user:password@host:port/db`), shared by
    /// every replica (docs/cluster.md). Default: the SQLite log.
    #[arg(long, value_name = "URL")]
    journal: Option<String>,
    /// This replica's name: unique in the cluster, the same across its
    /// restarts (default: the host's name).
    #[arg(long, value_name = "NAME")]
    replica: Option<String>,
    /// How often the pack source is polled, in milliseconds.
    #[arg(long)]
    poll_interval_ms: Option<u64>,
    /// The largest request body, in bytes.
    #[arg(long)]
    max_body_bytes: Option<usize>,
    /// The most transactions in one batch request.
    #[arg(long)]
    max_batch: Option<usize>,
    /// `/readyz` fails when the active pack was issued longer ago, in seconds.
    #[arg(long)]
    max_pack_age_secs: Option<u64>,
    /// The most decisions one commit of the log holds.
    #[arg(long)]
    max_group: Option<usize>,
    /// HTTP worker threads.
    #[arg(long)]
    threads: Option<usize>,
    /// Threads deciding journaled batches concurrently (default: the
    /// available cores); decisions are the same with one or many.
    #[arg(long)]
    deciders: Option<usize>,
    /// How far ahead of the host's clock a transaction may be dated, in
    /// seconds (default 600).
    #[arg(long)]
    max_clock_skew_secs: Option<u64>,
    /// The resident memory the service is sized for, in MiB; `/readyz`
    /// says `degraded` from 90% of it.
    #[arg(long)]
    memory_budget_mib: Option<u64>,
    /// The PEM certificate chain to serve HTTPS with (with --tls-key);
    /// reloaded when the file changes.
    #[arg(long)]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long)]
    tls_key: Option<PathBuf>,
    /// PEM CA certificates client certificates must chain to (their grants
    /// are `[[client_certs]]` in the --config file).
    #[arg(long)]
    tls_client_ca: Option<PathBuf>,
    /// Listen on a non-loopback address even without TLS and
    /// authentication (e.g. behind a proxy that provides them).
    #[arg(long)]
    insecure: bool,
    /// Request headers (and a TLS handshake) must arrive within this, in
    /// milliseconds (default 10000).
    #[arg(long)]
    header_read_timeout_ms: Option<u64>,
    /// A request body must arrive within this, in milliseconds (default
    /// 30000).
    #[arg(long)]
    body_read_timeout_ms: Option<u64>,
    /// A connection with no request in flight is closed after this, in
    /// milliseconds (default 60000).
    #[arg(long)]
    idle_timeout_ms: Option<u64>,
    /// A whole request must be answered within this, in milliseconds
    /// (default 60000).
    #[arg(long)]
    request_timeout_ms: Option<u64>,
    /// The most open connections (default 512).
    #[arg(long)]
    max_connections: Option<usize>,
}

impl ServeArgs {
    fn layer(self) -> (Option<PathBuf>, ConfigLayer) {
        let layer = ConfigLayer {
            listen: self.listen,
            pack: self.pack,
            pack_source: self.pack_source,
            shadow_source: self.shadow_source,
            trust: (!self.trust.is_empty()).then_some(self.trust),
            require: self.require,
            state_dir: self.state_dir,
            decision_log: self.decision_log,
            journal: self.journal,
            replica: self.replica,
            poll_interval_ms: self.poll_interval_ms,
            max_body_bytes: self.max_body_bytes,
            max_batch: self.max_batch,
            max_pack_age_secs: self.max_pack_age_secs,
            max_group: self.max_group,
            threads: self.threads,
            deciders: self.deciders,
            max_clock_skew_secs: self.max_clock_skew_secs,
            memory_budget_mib: self.memory_budget_mib,
            tls_cert: self.tls_cert,
            tls_key: self.tls_key,
            tls_client_ca: self.tls_client_ca,
            tokens: None,
            client_certs: None,
            insecure: self.insecure.then_some(true),
            header_read_timeout_ms: self.header_read_timeout_ms,
            body_read_timeout_ms: self.body_read_timeout_ms,
            idle_timeout_ms: self.idle_timeout_ms,
            request_timeout_ms: self.request_timeout_ms,
            max_connections: self.max_connections,
        };
        (self.config, layer)
    }
}

pub(super) fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let (file, flags) = args.layer();
    let mut config = ServeConfig::default();
    if let Some(file) = &file {
        config = config.apply(ConfigLayer::from_file(file)?);
    }
    config = config
        .apply(ConfigLayer::from_env(std::env::vars())?)
        .apply(flags);
    let log = match &config.journal {
        Some(url) => match qorgan_server::cluster::Database::parse(url) {
            Ok(db) => format!(
                "replica {} of the cluster at PostgreSQL {}",
                config.replica_name(),
                db.label()
            ),
            Err(problem) => anyhow::bail!(problem),
        },
        None => format!("decision log {}", config.decision_log_path().display()),
    };
    let stopped = qorgan_server::serve::run(config, move |address, tls| {
        let scheme = if tls { "https" } else { "http" };
        println!("qorgan serve: listening on {scheme}://{address} ({log})");
        let _ = std::io::stdout().flush();
    })?;
    eprintln!(
        "qorgan serve: stopped; {} decisions logged in {} commits (largest {})",
        stopped.decisions, stopped.commits, stopped.largest_group
    );
    Ok(ExitCode::SUCCESS)
}

/// `qorgan hash-token`: the SHA-256 a grant names, of a token or of a
/// client certificate.
#[derive(clap::Args)]
pub(super) struct HashTokenArgs {
    /// Hash the first certificate of this PEM file (its DER bytes), for
    /// `[[client_certs]]`, instead of a token read from standard input.
    #[arg(long)]
    cert: Option<PathBuf>,
}

/// Prints the SHA-256 in hex of the token on standard input (its first
/// line, without the line ending) or of `--cert`'s certificate.
pub(super) fn hash_token(args: HashTokenArgs) -> anyhow::Result<ExitCode> {
    use anyhow::Context as _;
    let digest = match &args.cert {
        Some(path) => qorgan_server::serve::auth::certificate_sha256(path)?,
        None => {
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .context("cannot read the token from standard input")?;
            let token = line.trim_end_matches(['\r', '\n']);
            anyhow::ensure!(!token.is_empty(), "no token on standard input");
            qorgan_server::serve::auth::sha256_hex(token.as_bytes())
        }
    };
    println!("{digest}");
    Ok(ExitCode::SUCCESS)
}
