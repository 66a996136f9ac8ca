//! `qorgan serve`: the HTTP service a bank's other systems call.
//!
//! # Why
//!
//! Most bank systems are not written in Rust; they call a service. The
//! service is where hot reload meets real traffic, and where every decision
//! must be kept for the regulator. So it is built around three promises:
//!
//! - **No failed request on a pack swap.** The pack source is watched on a
//!   background thread ([`qorgan::source::Watcher`]); a new pack is checked
//!   and swapped in atomically by the [`Activator`], and each batch is
//!   decided by whichever pack is active when it is taken up.
//! - **No acknowledged decision is ever lost.** A decision is returned only
//!   once it is committed to the decision log ([`crate::audit`]), durable
//!   on disk; the log commits decisions in groups so that the cost of a
//!   commit is shared under load (`decider.rs`).
//! - **History survives.** Every decided transaction is journaled in the
//!   decision log's database, in the same commit as its decision
//!   ([`crate::journal`]); a start re-applies the journal inside the
//!   pack's retention before listening, a retried id is answered with its
//!   original decision, and a transaction dated more than
//!   `max_clock_skew_secs` ahead of the host's clock is refused.
//! - **Several nodes.** With `--journal postgres://…`, replicas share one
//!   journal and decision log in PostgreSQL: each batch is journaled in one
//!   round trip after what the other replicas journaled, so every decision
//!   sees one global order ([`crate::cluster`], `decider/replica.rs`).
//! - **Operable.** Health and readiness for an orchestrator, Prometheus
//!   metrics (`metrics.rs`), an OpenAPI document for integrators
//!   (`openapi.rs`), configuration from a file, the environment and flags
//!   (`config.rs`), and a graceful stop on SIGTERM that drains requests and
//!   flushes the log (`shutdown.rs`).
//!
//! - **Exposable.** Bearer tokens and client certificates with roles
//!   (`auth.rs`), TLS with certificates reloaded when they change, and
//!   timeouts and a connection cap that an idle or slow client cannot
//!   exhaust (`listener.rs`); a non-loopback address without TLS and
//!   authentication is refused unless `--insecure`.
//! - **Try before trusting.** With a shadow source, a candidate pack
//!   decides every transaction beside the active one, off the response
//!   path and with a history of its own, and only its differences are
//!   counted (`shadow.rs`).
//!
//! The routes are in `routes.rs`; `docs/serve.md` describes them.

pub mod auth;
mod config;
mod decider;
mod errors;
mod listener;
pub mod metrics;
pub mod openapi;
mod routes;
mod shadow;
pub mod shutdown;

use std::net::SocketAddr;
use std::sync::Arc;

pub use config::{ConfigLayer, DEFAULT_LISTEN, ENV_PREFIX, Limits, ServeConfig, TlsFiles};
pub use errors::ServeError;

use self::decider::PackFiles;
use self::metrics::Metrics;
use self::routes::{Origin, Shared};
use crate::audit::LogWriter;
use crate::journal::SqliteJournal;
use qorgan::engine::Engine;
use qorgan::journal::restore;
use qorgan::pack::{Pack, TrustConfig};
use qorgan::source::{Activator, Watcher};

/// What the service did, reported when it stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped {
    /// Decisions committed to the log during this run.
    pub decisions: u64,
    /// Commits (groups) it took.
    pub commits: u64,
    /// The most decisions one commit held.
    pub largest_group: u64,
}

/// Runs the service with `config` until SIGTERM or Ctrl-C, then drains
/// requests, flushes the log and returns. `on_listening` is told the
/// address once the socket is bound (useful with port 0), and whether it
/// speaks TLS.
pub fn run(
    config: ServeConfig,
    on_listening: impl FnOnce(SocketAddr, bool) + Send + 'static,
) -> Result<Stopped, ServeError> {
    // Settings that cannot work, and an exposed address without TLS and
    // authentication, stop the start before anything is opened.
    config.check()?;
    let authority = Arc::new(auth::Authority::new(&config.tokens, &config.client_certs)?);
    let tls = config
        .tls
        .as_ref()
        .map(listener::Tls::load)
        .transpose()?
        .map(Arc::new);
    if config.insecure
        && !config.listen.ip().is_loopback()
        && (tls.is_none() || !authority.enabled())
    {
        tracing::warn!(
            address = %config.listen,
            tls = tls.is_some(),
            authentication = authority.enabled(),
            "--insecure: listening on a non-loopback address without TLS and authentication"
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.threads)
        .thread_name("qorgan-http")
        .enable_all()
        .build()
        .map_err(|source| ServeError::Runtime {
            what: "the HTTP runtime".into(),
            source,
        })?;
    let engine = Engine::builder()
        .compiled_cache(config.compiled_cache_dir())
        .build()
        .map_err(|e| ServeError::Engine(e.to_string()))?;
    let (origin, files, watcher) = match &config.pack_source {
        Some(location) => start_source(&engine, &config, location)?,
        None => load_local(&engine, &config)?,
    };
    let shadow = match &config.shadow_source {
        Some(location) => Some(start_shadow(&config, location)?),
        None => None,
    };
    let metrics = Arc::new(Metrics::default());
    // Opened once a pack is at hand: a start that fails leaves no log.
    // History is restored from the journal before the service listens:
    // nothing is decided, and `/readyz` cannot answer, until it is.
    let (writer, backend, log_label) = match &config.journal {
        Some(url) => join_cluster(&config, url, &engine)?,
        None => open_local(&config, &engine, shadow.as_ref().map(|(s, _)| s))?,
    };
    let log_stats = Arc::clone(writer.stats());

    let run_id = qorgan::decision::Ulid::fresh().to_string();
    let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (decider, decider_thread) = decider::spawn(decider::Pipeline {
        engine: engine.clone(),
        writer,
        journal: backend,
        files,
        metrics: Arc::clone(&metrics),
        run: run_id,
        max_skew_secs: i64::try_from(config.max_clock_skew_secs).unwrap_or(i64::MAX),
        deciders: config.deciders,
        shadow: shadow.as_ref().map(|(shadow, _)| Arc::clone(shadow)),
    })?;
    let shared = Arc::new(Shared {
        decider,
        engine,
        origin,
        metrics,
        shadow: shadow.as_ref().map(|(shadow, _)| Arc::clone(shadow)),
        log_stats: Arc::clone(&log_stats),
        log_path: log_label,
        max_body_bytes: config.max_body_bytes,
        max_batch: config.max_batch,
        max_pack_age: config.max_pack_age,
        memory_budget_bytes: config
            .memory_budget_mib
            .map(|mib| mib.saturating_mul(1024 * 1024)),
        memory_warned: std::sync::atomic::AtomicBool::new(false),
        body_read_timeout: config.limits.body_read,
        connections: Arc::clone(&connections),
        authenticates: authority.enabled(),
    });
    let router = routes::router(shared, authority);
    let listen = config.listen;
    let limits = config.limits;
    let served = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|source| ServeError::Net {
                what: format!("cannot listen on {listen}"),
                source,
            })?;
        let local = listener.local_addr().map_err(|source| ServeError::Net {
            what: "cannot read the bound address".into(),
            source,
        })?;
        tracing::info!(address = %local, tls = tls.is_some(), "listening");
        on_listening(local, tls.is_some());
        listener::Listener {
            listener,
            router,
            tls,
            limits,
            open: connections,
        }
        .run(shutdown::signal())
        .await;
        Ok::<(), ServeError>(())
    });
    // Every connection is closed: dropping the runtime drops the last
    // handles to the deciding pipeline, which then decides what is queued,
    // hands it to the log, and closes the log once it is committed.
    drop(runtime);
    if let Some(watcher) = watcher {
        watcher.stop();
    }
    decider_thread.join();
    if let Some((shadow, threads)) = shadow {
        drop(shadow);
        threads.stop();
    }
    served?;
    Ok(Stopped {
        decisions: log_stats.rows(),
        commits: log_stats.groups(),
        largest_group: log_stats.largest_group(),
    })
}

/// Joins the cluster whose journal is at `url`: catches history up with
/// the journal, and logs decisions to the same database.
fn join_cluster(
    config: &ServeConfig,
    url: &str,
    engine: &Engine,
) -> Result<(LogWriter, decider::Backend, String), ServeError> {
    let db = crate::cluster::Database::parse(url).map_err(ServeError::Config)?;
    let name = config.replica_name();
    let journal = crate::cluster::ReplicaJournal::open(&db, &name)?;
    let (replica, restored) = decider::Replica::join(journal, engine.history())?;
    tracing::info!(
        replica = %name,
        database = %db.label(),
        entries = restored.entries,
        last_position = restored.last_position,
        elapsed_ms = restored.elapsed.as_millis() as u64,
        "joined the cluster: restored {} journal entries into history in {} ms",
        restored.entries,
        restored.elapsed.as_millis()
    );
    let label = replica.database();
    let writer = LogWriter::builder(db.label())
        .max_group(config.max_group)
        .spawn_on(crate::cluster::PgStore::new(&db))?;
    Ok((writer, decider::Backend::Replica(Box::new(replica)), label))
}

/// Opens one node's decision log and restores history (and the shadow's)
/// from the journal inside it.
fn open_local(
    config: &ServeConfig,
    engine: &Engine,
    shadow: Option<&Arc<shadow::Shadow>>,
) -> Result<(LogWriter, decider::Backend, String), ServeError> {
    let log_path = config.decision_log_path();
    let writer = LogWriter::builder(&log_path)
        .max_group(config.max_group)
        .spawn()?;
    let mut journal = SqliteJournal::open(&log_path)?;
    let restored = restore(&mut journal, engine.history())?;
    tracing::info!(
        entries = restored.entries,
        last_position = restored.last_position,
        elapsed_ms = restored.elapsed.as_millis() as u64,
        retention_secs = engine.history().limits().retention_secs,
        "restored {} journal entries into history in {} ms",
        restored.entries,
        restored.elapsed.as_millis()
    );
    if let Some(shadow) = shadow {
        // The candidate reads the same past as the active pack, from a
        // history of its own.
        let restored = restore(&mut journal, shadow.engine().history())?;
        tracing::info!(
            target: "qorgan::shadow",
            entries = restored.entries,
            "restored {} journal entries into the shadow's history",
            restored.entries
        );
    }
    Ok((
        writer,
        decider::Backend::Local(journal),
        log_path.display().to_string(),
    ))
}

/// The unsigned local pack, loaded as it is.
fn load_local(
    engine: &Engine,
    config: &ServeConfig,
) -> Result<(Origin, PackFiles, Option<Watcher>), ServeError> {
    let dir = &config.pack;
    let pack = Pack::read(dir)
        .map_err(|e| ServeError::Pack(format!("cannot load the pack {}: {e}", dir.display())))?;
    let info = engine
        .load(&pack)
        .map_err(|e| ServeError::Engine(format!("{}: {e}", dir.display())))?;
    tracing::warn!(
        pack = %dir.display(),
        name = %info.name,
        serial = info.serial,
        "deciding with a local pack loaded as it is: its signatures are not checked (use --pack-source and --trust in production)"
    );
    let origin = Origin::Local {
        dir: dir.display().to_string(),
        issued_at: pack.manifest.issued_at.clone(),
        expires_at: pack.manifest.expires_at.clone(),
    };
    Ok((origin, PackFiles::Local(dir.clone()), None))
}

/// The trust configured for the pack source at `location`.
fn trust(config: &ServeConfig, location: &str) -> Result<TrustConfig, ServeError> {
    if config.trust.is_empty() {
        return Err(ServeError::Config(format!(
            "the pack source {location} needs at least one trusted key (--trust KEYFILE)"
        )));
    }
    let mut trust = TrustConfig::builder();
    for key in &config.trust {
        trust = trust
            .trust_file(key)
            .map_err(|e| ServeError::Source(e.to_string()))?;
    }
    trust
        .require(config.require)
        .build()
        .map_err(|e| ServeError::Source(e.to_string()))
}

/// The shadow: candidate packs from `location`, signed and checked like
/// the active pack's but activated on an engine (and so a history) of
/// their own, with their own state directory.
fn start_shadow(
    config: &ServeConfig,
    location: &str,
) -> Result<(Arc<shadow::Shadow>, shadow::ShadowThreads), ServeError> {
    if config.pack_source.is_none() {
        return Err(ServeError::Config(format!(
            "the shadow source {location} needs a pack source to compare with (--pack-source)"
        )));
    }
    let trust = trust(config, location)?;
    let engine = Engine::builder()
        .compiled_cache(config.compiled_cache_dir())
        .build()
        .map_err(|e| ServeError::Engine(e.to_string()))?;
    let activator = Activator::builder(engine.clone(), trust, config.shadow_state_dir())
        .build()
        .map_err(|e| ServeError::Source(e.to_string()))?;
    let activator = Arc::new(activator);
    match activator.restore() {
        Ok(Some(restored)) => tracing::info!(
            target: "qorgan::shadow",
            serial = restored.pack.serial,
            "restored the persisted shadow candidate"
        ),
        Ok(None) => {}
        Err(refusal) => tracing::warn!(
            target: "qorgan::shadow",
            %refusal,
            "the persisted shadow candidate was refused; waiting for the shadow source"
        ),
    }
    let source =
        qorgan_distribution::open(location).map_err(|e| ServeError::Source(e.to_string()))?;
    let name = qorgan::source::Source::name(&source);
    let watcher = Watcher::spawn(Arc::clone(&activator), source, config.poll_interval)
        .map_err(|e| ServeError::Source(e.to_string()))?;
    shadow::Shadow::spawn(engine, activator, name, watcher).map_err(|source| ServeError::Runtime {
        what: "the shadow's thread".into(),
        source,
    })
}

/// Signed packs from `location`, through an activator: the persisted pack
/// restored first, then the source watched.
fn start_source(
    engine: &Engine,
    config: &ServeConfig,
    location: &str,
) -> Result<(Origin, PackFiles, Option<Watcher>), ServeError> {
    let trust = trust(config, location)?;
    let activator = Activator::builder(engine.clone(), trust, config.pack_state_dir())
        .build()
        .map_err(|e| ServeError::Source(e.to_string()))?;
    let activator = Arc::new(activator);
    match activator.restore() {
        Ok(Some(restored)) => {
            tracing::info!(serial = restored.pack.serial, "restored the persisted pack")
        }
        Ok(None) => {}
        Err(refusal) => {
            tracing::warn!(%refusal, "the persisted pack was refused; waiting for the source")
        }
    }
    let source =
        qorgan_distribution::open(location).map_err(|e| ServeError::Source(e.to_string()))?;
    let name = qorgan::source::Source::name(&source);
    let watcher = Watcher::spawn(Arc::clone(&activator), source, config.poll_interval)
        .map_err(|e| ServeError::Source(e.to_string()))?;
    let origin = Origin::Source {
        name,
        activator: Arc::clone(&activator),
    };
    Ok((origin, PackFiles::Activated(activator), Some(watcher)))
}
