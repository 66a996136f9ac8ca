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
    /// How far ahead of the host's clock a transaction may be dated, in
    /// seconds (default 600).
    #[arg(long)]
    max_clock_skew_secs: Option<u64>,
    /// The resident memory the service is sized for, in MiB; `/readyz`
    /// says `degraded` from 90% of it.
    #[arg(long)]
    memory_budget_mib: Option<u64>,
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
            poll_interval_ms: self.poll_interval_ms,
            max_body_bytes: self.max_body_bytes,
            max_batch: self.max_batch,
            max_pack_age_secs: self.max_pack_age_secs,
            max_group: self.max_group,
            threads: self.threads,
            max_clock_skew_secs: self.max_clock_skew_secs,
            memory_budget_mib: self.memory_budget_mib,
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
    let log = config.decision_log_path();
    let stopped = qorgan_server::serve::run(config, move |address| {
        println!(
            "qorgan serve: listening on http://{address} (decision log {})",
            log.display()
        );
        let _ = std::io::stdout().flush();
    })?;
    eprintln!(
        "qorgan serve: stopped; {} decisions logged in {} commits (largest {})",
        stopped.decisions, stopped.commits, stopped.largest_group
    );
    Ok(ExitCode::SUCCESS)
}
