//! The engine: one wasmtime engine, the active pack, and the path from a
//! transaction to a decision.
//!
//! # Why it is built this way
//!
//! Compiling a component takes milliseconds; deciding a transaction must take
//! microseconds. So the work is split the way wasmtime splits it:
//!
//! - [`Engine::prepare`] does everything expensive once per pack: compiles
//!   each component, refuses imports outside `qorgan:rule`, links it
//!   (`InstancePre`), reads its metadata, checks the pack's parameters and
//!   lists against it, and configures a probe instance. The result is a
//!   [`PreparedPack`]. Nothing about the running engine changes.
//! - [`Engine::activate`] swaps the prepared pack in atomically. Batches in
//!   flight finish on the pack they started with; the next batch on every
//!   thread uses the new one. A pack that failed to prepare never gets here.
//! - [`Engine::evaluate_batch`] is the cheap per-request step: it records
//!   the transactions in history, takes a [`Worker`](worker) (per-thread
//!   instances, reused across batches) from a pool, and calls each plugin
//!   once for the whole batch.
//!
//! Each plugin call is sandboxed: a deterministic CPU budget (wasmtime
//! fuel, [`Limits::fuel_per_transaction`](crate::pack::Limits)), a memory
//! cap per instance, a stack cap, a budget for what it hands back
//! ([`output_budget`]) and for what it logs
//! ([`LOG_BYTES_PER_CALL`]), no WASI; an epoch deadline per call is only a
//! wall-clock backstop against host stalls. Batches are at most
//! [`MAX_BATCH`] long. A plugin that fails yields a `PLUGIN_FAILED` finding
//! with the pack's failure action, and its instance is replaced; the other
//! plugins' verdicts stand. Budgets are per transaction and a failed call
//! is narrowed down to the transactions that cause it (see
//! [`QUARANTINE_AFTER_FAILURES`]), so every transaction gets the same
//! outcome whatever batch it came in.

mod bindings;
pub mod calls;
mod errors;
mod lowering;
mod plugin;
mod plugin_log;
mod sandbox;
mod worker;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use wasmtime::component::{Component, Linker};
use wasmtime::{Config, InstanceAllocationStrategy, PoolingAllocationConfig};

pub use errors::{EngineError, EvaluationError, LoadError};
pub use plugin::{CodeInfo, ParamInfo, ParamType, PluginInfo, TOOLCHAIN_SECTION};
pub use plugin_log::{LOG_BYTES_PER_BATCH, LOG_BYTES_PER_CALL};
pub use sandbox::{MAX_OUTPUT_BYTES, OUTPUT_BYTES_PER_TRANSACTION, output_budget};
pub use worker::{PluginFailure, PluginStats, QUARANTINE_AFTER_FAILURES};

use self::calls::Tap;

use self::bindings::HostState;
use self::plugin::{PreparedPlugin, Probe};
use crate::decision::{Action, Decision, PackRef, ScoreThresholds};
use crate::history::{History, HistoryLimits, Stamp};
use crate::lists::Lists;
use crate::pack::{Limits, Pack, Rate, sha256_hex};
use crate::transaction::Transaction;

/// The most transactions one batch may hold. A batch is lowered into every
/// plugin's memory at once and its verdicts copied out at once; past this,
/// a caller's mistake (or a client's) becomes a memory spike on the host
/// rather than a clear refusal. Split longer streams into batches.
pub const MAX_BATCH: usize = 65_536;

/// The least wall-clock backstop of a plugin call, in milliseconds: a
/// pack's `limits.call_timeout_ms` below it is raised to it. The backstop
/// is there for host stalls only; what decides that a plugin ran too long
/// is its fuel budget, which does not depend on how busy the host is. A
/// deadline near a call's real duration would make decisions depend on
/// load again.
pub const MIN_BACKSTOP_MS: u64 = 10_000;

/// Settings of an [`Engine`], fixed when it is built.
#[derive(Debug, Clone)]
pub struct EngineBuilder {
    max_instances: u32,
    max_memory_mib: u64,
    max_stack_bytes: usize,
    epoch_tick: Duration,
    history: HistoryLimits,
    perf_map: bool,
    fuel: bool,
    compiled_cache: Option<std::path::PathBuf>,
}

impl Default for EngineBuilder {
    fn default() -> Self {
        EngineBuilder {
            max_instances: 256,
            max_memory_mib: 256,
            max_stack_bytes: 512 * 1024,
            epoch_tick: Duration::from_millis(1),
            history: HistoryLimits::default(),
            perf_map: false,
            fuel: true,
            compiled_cache: None,
        }
    }
}

impl EngineBuilder {
    /// How many plugin instances may be alive at once, across all threads
    /// (threads × plugins, plus probes). Slots are reserved up front.
    pub fn max_instances(mut self, count: u32) -> Self {
        self.max_instances = count.max(1);
        self
    }

    /// The most memory any pack may give one plugin instance, in MiB.
    pub fn max_memory_mib(mut self, mib: u64) -> Self {
        self.max_memory_mib = mib.clamp(1, 4096);
        self
    }

    /// The most native stack a plugin call may use, in bytes.
    pub fn max_stack_bytes(mut self, bytes: usize) -> Self {
        self.max_stack_bytes = bytes.max(64 * 1024);
        self
    }

    /// How often the epoch advances: the granularity of call deadlines.
    pub fn epoch_tick(mut self, tick: Duration) -> Self {
        self.epoch_tick = tick.max(Duration::from_micros(100));
        self
    }

    /// Bounds on the history the engine keeps (the active pack's
    /// `history.retention_days` replaces the retention when it activates).
    pub fn history(mut self, limits: HistoryLimits) -> Self {
        self.history = limits;
        self
    }

    /// Whether to write `/tmp/perf-PID.map`, which names the compiled
    /// plugins' functions for `perf report`: how a profile shows where a
    /// rule spends its time. Off by default.
    pub fn perf_map(mut self, on: bool) -> Self {
        self.perf_map = on;
        self
    }

    /// Whether plugin calls are metered with wasmtime fuel. On by default,
    /// and it must stay on wherever decisions count: without fuel no
    /// deterministic budget stops a runaway plugin, only the wall-clock
    /// backstop. Off exists to measure what metering costs
    /// (`qorgan bench`).
    pub fn fuel(mut self, on: bool) -> Self {
        self.fuel = on;
        self
    }

    /// A directory where compiled components are kept across starts, keyed
    /// by each component's sha256 and this engine's compatibility: a 15 MB
    /// Python or JavaScript rule is then compiled once per host, not at every
    /// start. The directory is created private to the current user, and one
    /// that other users may write is refused (it holds native code the host
    /// runs). None by default: every component is compiled in memory.
    pub fn compiled_cache(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.compiled_cache = Some(dir.into());
        self
    }

    /// Builds the engine. It has no pack until one is activated.
    pub fn build(self) -> Result<Engine, EngineError> {
        let mut pool = PoolingAllocationConfig::default();
        let memory_bytes = usize::try_from(self.max_memory_mib * 1024 * 1024).unwrap_or(usize::MAX);
        pool.total_component_instances(self.max_instances)
            .total_core_instances(self.max_instances.saturating_mul(4))
            .total_memories(self.max_instances.saturating_mul(2))
            .total_tables(self.max_instances.saturating_mul(4))
            .max_memory_size(memory_bytes)
            .linear_memory_keep_resident(1024 * 1024)
            .table_keep_resident(64 * 1024);
        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .epoch_interruption(true)
            .consume_fuel(self.fuel)
            .max_wasm_stack(self.max_stack_bytes)
            .concurrency_support(false)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        if self.perf_map {
            config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        let wasm =
            wasmtime::Engine::new(&config).map_err(|e| EngineError::Config(format!("{e:#}")))?;
        let mut linker = Linker::new(&wasm);
        bindings::add_to_linker(&mut linker).map_err(|e| EngineError::Config(format!("{e:#}")))?;
        let disk = match &self.compiled_cache {
            Some(dir) => Some(qorgan_compiled_cache::CompiledCache::open(dir, &wasm)?),
            None => None,
        };
        sandbox::EpochTicker::start(&wasm, self.epoch_tick).map_err(EngineError::Ticker)?;
        Ok(Engine {
            inner: Arc::new(Inner {
                wasm,
                linker,
                components: Mutex::new(HashMap::new()),
                disk,
                active: RwLock::new(None),
                history: Arc::new(History::new(self.history)),
                workers: Mutex::new(Vec::new()),
                generation: AtomicU64::new(0),
                settings: self,
            }),
        })
    }
}

/// A pack compiled and checked by [`Engine::prepare`], ready to activate.
pub struct PreparedPack {
    generation: u64,
    info: PackInfo,
    pack_ref: PackRef,
    plugins: Vec<PreparedPlugin>,
    lists: Arc<Lists>,
    /// Rates by currency, on foldhash: one lookup per transaction.
    fx: HashMap<String, Rate, foldhash::fast::FixedState>,
    thresholds: ScoreThresholds,
    failure_action: Action,
    limits: Limits,
    retention_secs: i64,
    memory_bytes: usize,
    deadline_ticks: u64,
    /// The fuel of load-time calls (instantiation and `configure`), or
    /// `None` when the engine does not meter fuel.
    load_fuel: Option<u64>,
}

impl std::fmt::Debug for PreparedPack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedPack")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// Each transaction's amount in tiyn or why it has none, and the priced
/// transactions paired with their amounts.
type Priced<'t> = (
    Vec<Result<i64, EvaluationError>>,
    Vec<(&'t Transaction, i64)>,
);

impl PreparedPack {
    /// What the pack is.
    pub fn info(&self) -> &PackInfo {
        &self.info
    }

    /// The currencies the pack can price (its `[fx]` table and KZT),
    /// sorted: a transaction in another currency cannot be decided.
    pub fn currencies(&self) -> Vec<String> {
        let mut currencies: Vec<String> = self.fx.keys().cloned().collect();
        currencies.sort();
        currencies
    }

    /// Each plugin's id, resolved parameters (the pack's values and the
    /// declared defaults, as `configure` receives them) and weight in
    /// hundredths, in evaluation order: what a native run of the same rules
    /// needs to configure them identically.
    pub fn plugin_settings(&self) -> Vec<PluginSettings> {
        self.plugins
            .iter()
            .map(|p| PluginSettings {
                id: p.info.id.clone(),
                params: p
                    .params
                    .iter()
                    .map(|param| (param.name.clone(), param.value.clone()))
                    .collect(),
                weight_pct: p.weight_pct,
            })
            .collect()
    }

    /// The pack's reference lists.
    pub fn lists(&self) -> &Lists {
        &self.lists
    }

    /// How long history is kept for this pack, in seconds.
    pub fn retention_secs(&self) -> i64 {
        self.retention_secs
    }

    /// The score thresholds decisions escalate at.
    pub fn thresholds(&self) -> &ScoreThresholds {
        &self.thresholds
    }

    /// What decisions name as their pack.
    pub fn pack_ref(&self) -> &PackRef {
        &self.pack_ref
    }

    /// A transaction's amount in tiyn, with the pack's exchange rates.
    pub fn amount_tiyn(&self, tx: &Transaction) -> Result<i64, EvaluationError> {
        self.to_tiyn(tx)
    }

    /// Each transaction's amount in tiyn (or why it has none), and the
    /// transactions that have one, paired with it, in order.
    fn price<'t>(&self, txs: &'t [Transaction]) -> Priced<'t> {
        let priced: Vec<Result<i64, EvaluationError>> =
            txs.iter().map(|tx| self.to_tiyn(tx)).collect();
        let accepted = txs
            .iter()
            .zip(&priced)
            .filter_map(|(tx, p)| p.as_ref().ok().map(|t| (tx, *t)))
            .collect();
        (priced, accepted)
    }

    fn to_tiyn(&self, tx: &Transaction) -> Result<i64, EvaluationError> {
        let rate =
            self.fx
                .get(&tx.amount.currency)
                .ok_or_else(|| EvaluationError::UnknownCurrency {
                    currency: tx.amount.currency.clone(),
                    pack: self.info.name.clone(),
                })?;
        tx.amount
            .to_tiyn((rate.units, rate.scale))
            .ok_or_else(|| EvaluationError::AmountTooLarge {
                amount: tx.amount.to_string(),
            })
    }
}

/// A plugin of a prepared pack as `configure` sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PluginSettings {
    /// The plugin's id.
    pub id: String,
    /// Its resolved parameters (name, value): the pack's values and the
    /// declared defaults.
    pub params: Vec<(String, String)>,
    /// Its weight in hundredths.
    pub weight_pct: u32,
}

/// What a prepared or active pack is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PackInfo {
    /// The pack's name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Its serial number.
    pub serial: u64,
    /// The sha256 of its manifest.
    pub digest: String,
    /// Its plugins, in evaluation order.
    pub plugins: Vec<PluginInfo>,
}

/// Compiled components by sha256, so preparing a pack whose plugins were
/// compiled before (a hot swap that changes parameters, a test case with
/// overrides) costs no compilation.
type ComponentCache = Mutex<HashMap<String, (Component, Vec<String>)>>;

/// How many compiled components the cache keeps.
const COMPONENT_CACHE_SIZE: usize = 64;

struct Inner {
    wasm: wasmtime::Engine,
    linker: Linker<HostState>,
    components: ComponentCache,
    /// Compiled components on disk, when the builder named a directory.
    disk: Option<qorgan_compiled_cache::CompiledCache>,
    /// Read once per batch and replaced whole on a swap: a lock held
    /// only to clone or replace an `Arc`.
    active: RwLock<Option<Arc<PreparedPack>>>,
    history: Arc<History>,
    workers: Mutex<Vec<worker::Worker>>,
    generation: AtomicU64,
    settings: EngineBuilder,
}

/// The rule engine a bank system embeds. Cheap to clone; safe to share
/// across threads.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("active", &self.active().map(|p| p.info.clone()))
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// An engine with default settings.
    pub fn new() -> Result<Engine, EngineError> {
        EngineBuilder::default().build()
    }

    /// A builder for an engine with other settings.
    pub fn builder() -> EngineBuilder {
        EngineBuilder::default()
    }

    /// The history the engine records into and rules read from.
    pub fn history(&self) -> &Arc<History> {
        &self.inner.history
    }

    /// The active pack, if any.
    pub fn active(&self) -> Option<Arc<PreparedPack>> {
        self.inner
            .active
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Compiles a single component and reads its metadata, without a pack.
    pub fn inspect(&self, label: &str, bytes: &[u8]) -> Result<PluginInfo, LoadError> {
        let sha256 = sha256_hex(bytes);
        let (component, imports) = self.compile_cached(label, &sha256, bytes)?;
        let pre = plugin::link(&self.inner.linker, label, &component)?;
        let probe = Probe {
            history: &self.inner.history,
            lists: &Arc::new(Lists::default()),
            memory_bytes: self.memory_bytes(Limits::default().memory_mib),
            deadline_ticks: self.deadline_ticks(Limits::default().call_timeout_ms),
            load_fuel: self.load_fuel(Limits::default().load_fuel),
        };
        let (_, _, meta) = plugin::read_metadata(&pre, label, &probe)?;
        let mut info = plugin::check_metadata(label, meta, imports, sha256)?;
        info.toolchain = plugin::recorded_toolchain(bytes);
        Ok(info)
    }

    fn compile_cached(
        &self,
        label: &str,
        sha256: &str,
        bytes: &[u8],
    ) -> Result<(Component, Vec<String>), LoadError> {
        let cached = self
            .inner
            .components
            .lock()
            .ok()
            .and_then(|cache| cache.get(sha256).cloned());
        if let Some(hit) = cached {
            return Ok(hit);
        }
        let compiled = match &self.inner.disk {
            Some(disk) => {
                plugin::check_imports(label, bytes)?;
                match disk.load(&self.inner.wasm, sha256) {
                    Some(component) => plugin::checked_imports(&self.inner.wasm, label, component)?,
                    None => {
                        let compiled = plugin::compile(&self.inner.wasm, label, bytes)?;
                        if let Err(e) = disk.store(sha256, &compiled.0) {
                            log::warn!("plugin `{label}`: not cached on disk: {e}");
                        }
                        compiled
                    }
                }
            }
            None => plugin::compile(&self.inner.wasm, label, bytes)?,
        };
        if let Ok(mut cache) = self.inner.components.lock() {
            if cache.len() >= COMPONENT_CACHE_SIZE {
                cache.clear();
            }
            cache.insert(sha256.to_owned(), compiled.clone());
        }
        Ok(compiled)
    }

    fn load_fuel(&self, fuel: u64) -> Option<u64> {
        self.inner.settings.fuel.then_some(fuel)
    }

    fn memory_bytes(&self, mib: u64) -> usize {
        usize::try_from(mib.saturating_mul(1024 * 1024)).unwrap_or(usize::MAX)
    }

    fn deadline_ticks(&self, timeout_ms: u64) -> u64 {
        let timeout_ms = timeout_ms.max(MIN_BACKSTOP_MS);
        let tick_us = u64::try_from(self.inner.settings.epoch_tick.as_micros())
            .unwrap_or(1000)
            .max(1);
        (timeout_ms.saturating_mul(1000) / tick_us).max(1)
    }

    /// Compiles and checks a pack: the expensive, fallible half of loading.
    /// The running engine is not touched.
    pub fn prepare(&self, pack: &Pack) -> Result<PreparedPack, LoadError> {
        let m = &pack.manifest;
        if m.limits.memory_mib > self.inner.settings.max_memory_mib {
            return Err(LoadError::MemoryLimit {
                asked: m.limits.memory_mib,
                allowed: self.inner.settings.max_memory_mib,
            });
        }
        let memory_bytes = self.memory_bytes(m.limits.memory_mib);
        let deadline_ticks = self.deadline_ticks(m.limits.call_timeout_ms);
        let load_fuel = self.load_fuel(m.limits.load_fuel);
        let probe = Probe {
            history: &self.inner.history,
            lists: &pack.lists,
            memory_bytes,
            deadline_ticks,
            load_fuel,
        };
        let mut plugins = Vec::with_capacity(pack.plugins.len());
        for p in &pack.plugins {
            let label = p.entry.id.as_str();
            let (component, imports) = self.compile_cached(label, &p.sha256, &p.bytes)?;
            let pre = plugin::link(&self.inner.linker, label, &component)?;
            let (mut store, instance, meta) = plugin::read_metadata(&pre, label, &probe)?;
            let mut info = plugin::check_metadata(label, meta, imports, p.sha256.clone())?;
            info.toolchain = plugin::recorded_toolchain(&p.bytes);
            if info.id != p.entry.id {
                return Err(LoadError::IdMismatch {
                    manifest: p.entry.id.clone(),
                    declared: info.id,
                });
            }
            if let Some(list) = info.lists.iter().find(|l| pack.lists.get(l).is_none()) {
                return Err(LoadError::MissingList {
                    plugin: info.id.clone(),
                    list: list.clone(),
                });
            }
            let params = plugin::resolve_params(&info, &p.entry.parameters)?;
            store.data_mut().declared_lists = Arc::from(info.lists.clone());
            plugin::configure(&mut store, &instance, &info.id, &params, load_fuel)?;
            let lines = store.data_mut().log.take_lines();
            plugin_log::emit(&info.id, lines, None, |_| None);
            plugins.push(PreparedPlugin {
                fuel_per_tx: p
                    .entry
                    .fuel_per_transaction
                    .unwrap_or(m.limits.fuel_per_transaction),
                rule_ref: Arc::from(info.rule_ref()),
                declared_codes: info.codes.iter().map(|c| c.code.clone()).collect(),
                declared_lists: Arc::from(info.lists.clone()),
                weight_pct: p.entry.weight_pct(),
                params,
                pre,
                info,
            });
        }
        let info = PackInfo {
            name: m.name.clone(),
            version: m.version.clone(),
            serial: m.serial,
            digest: pack.digest.clone(),
            plugins: plugins.iter().map(|p| p.info.clone()).collect(),
        };
        Ok(PreparedPack {
            generation: self.inner.generation.fetch_add(1, Ordering::Relaxed) + 1,
            pack_ref: PackRef {
                name: m.name.clone(),
                version: m.version.clone(),
                serial: m.serial,
            },
            info,
            plugins,
            lists: pack.lists.clone(),
            fx: pack.fx.iter().map(|(c, r)| (c.clone(), *r)).collect(),
            thresholds: m.thresholds,
            failure_action: m.failure_action,
            limits: m.limits,
            retention_secs: i64::from(m.history.retention_days) * 24 * 3600,
            memory_bytes,
            deadline_ticks,
            load_fuel,
        })
    }

    /// Makes a prepared pack the active one, returning the one it replaced.
    ///
    /// Takes the pack by value or shared, so that a pack already run
    /// against its own test cases (which hold it as an `Arc`) is the very
    /// one that goes live.
    pub fn activate(&self, prepared: impl Into<Arc<PreparedPack>>) -> Option<Arc<PreparedPack>> {
        let prepared: Arc<PreparedPack> = prepared.into();
        self.inner.history.set_retention(prepared.retention_secs);
        let previous = self
            .inner
            .active
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .replace(prepared);
        // Idle workers hold instances of the old pack; free their slots now
        // rather than when each is next used. Busy ones switch on their own.
        self.inner
            .workers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        previous
    }

    /// Prepares and activates `pack` in one step.
    pub fn load(&self, pack: &Pack) -> Result<PackInfo, LoadError> {
        let prepared = self.prepare(pack)?;
        let info = prepared.info.clone();
        self.activate(prepared);
        Ok(info)
    }

    /// Records past transactions in history without deciding them, e.g. to
    /// preload what happened before the engine started. Amounts are
    /// converted with the active pack's rates; a transaction that cannot be
    /// priced is skipped and reported.
    pub fn remember(&self, txs: &[Transaction]) -> Vec<Result<(), EvaluationError>> {
        let Some(pack) = self.active() else {
            return txs.iter().map(|_| Err(EvaluationError::NoPack)).collect();
        };
        remember(&pack, &self.inner.history, txs)
    }

    /// Records and decides one transaction.
    pub fn evaluate(&self, tx: &Transaction) -> Result<Decision, EvaluationError> {
        self.evaluate_batch(std::slice::from_ref(tx))
            .pop()
            .unwrap_or(Err(EvaluationError::NoPack))
    }

    /// Records a batch in history, in order, and decides it: one result per
    /// transaction, in order. A batch longer than [`MAX_BATCH`] is refused
    /// whole with [`EvaluationError::BatchTooLarge`], nothing recorded.
    pub fn evaluate_batch(&self, txs: &[Transaction]) -> Vec<Result<Decision, EvaluationError>> {
        let Some(pack) = self.active() else {
            return txs.iter().map(|_| Err(EvaluationError::NoPack)).collect();
        };
        let mut worker = self.checkout();
        let context = Context {
            history: self.inner.history.clone(),
            tap: None,
            timer: None,
        };
        let out = run_batch(&pack, &context, &mut worker, txs, true);
        self.checkin(worker);
        out
    }

    /// An evaluator that keeps its own instances, for a thread that decides
    /// many batches: no pool round-trip per batch. It follows the active
    /// pack and the engine's history unless told otherwise.
    pub fn evaluator(&self) -> Evaluator {
        Evaluator {
            engine: self.clone(),
            worker: worker::Worker::default(),
            pinned: None,
            context: Context {
                history: self.inner.history.clone(),
                tap: None,
                timer: None,
            },
        }
    }

    fn checkout(&self) -> worker::Worker {
        let mut pool = self.inner.workers.lock().unwrap_or_else(|p| p.into_inner());
        pool.pop().unwrap_or_default()
    }

    fn checkin(&self, worker: worker::Worker) {
        let mut pool = self.inner.workers.lock().unwrap_or_else(|p| p.into_inner());
        pool.push(worker);
    }
}

/// Told how long each plugin took on each batch, e.g. for the service's
/// latency metrics.
pub trait PluginTimer: Send + Sync {
    /// The plugin `plugin` (its id) decided a batch of `transactions` in
    /// `elapsed`, failures and retries included.
    fn observe(&self, plugin: &str, transactions: usize, elapsed: Duration);

    /// The plugin `plugin` failed so often on one batch that it was not
    /// run on its last `skipped` transactions (each got `PLUGIN_FAILED`).
    fn quarantined(&self, plugin: &str, skipped: usize) {
        let _ = (plugin, skipped);
    }

    /// The plugin `plugin` wrote `lines` log lines (`bytes` bytes) past its
    /// log budget on one batch; they were dropped.
    fn log_dropped(&self, plugin: &str, lines: u64, bytes: u64) {
        let _ = (plugin, lines, bytes);
    }
}

/// What an evaluation reads besides its pack: the history, the tap that
/// records or replays host calls, and who is told the plugins' timings.
#[derive(Clone)]
pub(crate) struct Context {
    pub(crate) history: Arc<History>,
    pub(crate) tap: Option<Arc<Tap>>,
    pub(crate) timer: Option<Arc<dyn PluginTimer>>,
}

/// Decides batches on one thread with instances of its own.
pub struct Evaluator {
    engine: Engine,
    worker: worker::Worker,
    pinned: Option<Arc<PreparedPack>>,
    context: Context,
}

impl Evaluator {
    /// Decides with `pack` rather than the engine's active pack.
    pub fn with_pack(mut self, pack: Arc<PreparedPack>) -> Evaluator {
        self.pinned = Some(pack);
        self.worker = worker::Worker::default();
        self
    }

    /// Reads and records history in `history` rather than the engine's.
    pub fn with_history(mut self, history: Arc<History>) -> Evaluator {
        self.context.history = history;
        self.worker = worker::Worker::default();
        self
    }

    /// Records or replays the plugins' host calls through `tap`.
    pub fn with_tap(mut self, tap: Arc<Tap>) -> Evaluator {
        self.context.tap = Some(tap);
        self.worker = worker::Worker::default();
        self
    }

    /// Tells `timer` how long each plugin takes on each batch.
    pub fn with_timer(mut self, timer: Arc<dyn PluginTimer>) -> Evaluator {
        self.context.timer = Some(timer);
        self
    }

    /// Nanoseconds this evaluator has spent inside each plugin's calls
    /// (instantiation included), in pack order, since it last switched
    /// packs: the per-plugin split that `qorgan bench` reports.
    pub fn plugin_nanos(&self) -> &[u64] {
        self.worker.spent_ns()
    }

    /// What each plugin's calls cost on this evaluator (calls, fuel,
    /// failures, quarantines, dropped log), in pack order, since it last
    /// switched packs: what bounds on a hostile plugin are checked with.
    pub fn plugin_stats(&self) -> &[PluginStats] {
        self.worker.stats()
    }

    fn pack(&self) -> Option<Arc<PreparedPack>> {
        self.pinned.clone().or_else(|| self.engine.active())
    }

    /// Records and decides a batch, like [`Engine::evaluate_batch`].
    pub fn evaluate_batch(
        &mut self,
        txs: &[Transaction],
    ) -> Vec<Result<Decision, EvaluationError>> {
        self.run(txs, true)
    }

    /// Decides a batch as if it came next in the stream, without recording
    /// it: history is read but not changed.
    pub fn evaluate_dry(&mut self, txs: &[Transaction]) -> Vec<Result<Decision, EvaluationError>> {
        self.run(txs, false)
    }

    /// Records past transactions in this evaluator's history without
    /// deciding them, priced with its pack's rates.
    pub fn remember(&self, txs: &[Transaction]) -> Vec<Result<(), EvaluationError>> {
        let Some(pack) = self.pack() else {
            return txs.iter().map(|_| Err(EvaluationError::NoPack)).collect();
        };
        remember(&pack, &self.context.history, txs)
    }

    fn run(&mut self, txs: &[Transaction], record: bool) -> Vec<Result<Decision, EvaluationError>> {
        let Some(pack) = self.pack() else {
            return txs.iter().map(|_| Err(EvaluationError::NoPack)).collect();
        };
        run_batch(&pack, &self.context, &mut self.worker, txs, record)
    }

    /// Records a batch in history with this evaluator's pack, without
    /// deciding it: the first half of [`Evaluator::evaluate_batch`], for a
    /// caller that decides on other threads. Recording is the ordered,
    /// cheap part; any evaluator may then [`decide`](Evaluator::decide)
    /// the batch, concurrently with others, and each transaction still
    /// sees exactly the history before its position. `None` when no pack
    /// is active.
    pub fn record(&self, txs: Vec<Transaction>) -> Option<RecordedBatch> {
        let pack = self.pack()?;
        let history = Arc::clone(&self.context.history);
        let (priced, recorded) = if txs.len() > MAX_BATCH {
            (Vec::new(), None)
        } else {
            let (priced, accepted) = pack.price(&txs);
            let recorded = history.record_pending(accepted);
            (priced, Some(recorded))
        };
        Some(RecordedBatch {
            pack,
            history,
            txs,
            priced,
            recorded,
        })
    }

    /// Each transaction's amount in tiyn with this evaluator's pack's
    /// rates, as [`Evaluator::record`] would record it, or why it cannot
    /// be priced; `None` when no pack is active. For a caller that must
    /// journal a batch's footprints before recording it.
    pub fn price(&self, txs: &[Transaction]) -> Option<Vec<Result<i64, EvaluationError>>> {
        let pack = self.pack()?;
        Some(pack.price(txs).0)
    }

    /// A batch whose transactions history already holds at `stamps` (one
    /// per transaction that prices, in order), to decide at those
    /// positions: transactions that another writer of a shared journal
    /// recorded and left undecided. Whoever recorded them must hold memory
    /// for them ([`History::record_pending_footprints`]) until this batch is
    /// decided. `None` when no pack is active or the stamps do not match
    /// the transactions that price.
    pub fn recorded_at(&self, txs: Vec<Transaction>, stamps: Vec<Stamp>) -> Option<RecordedBatch> {
        let pack = self.pack()?;
        if txs.len() > MAX_BATCH {
            return None;
        }
        let history = Arc::clone(&self.context.history);
        let (priced, accepted) = pack.price(&txs);
        if accepted.len() != stamps.len() {
            return None;
        }
        let recorded = history.already_recorded(stamps);
        Some(RecordedBatch {
            pack,
            history,
            txs,
            priced,
            recorded: Some(recorded),
        })
    }

    /// Decides a batch recorded by [`Evaluator::record`] (on this thread or
    /// another), with the pack that recorded it: one result per
    /// transaction, in order, the same as [`Evaluator::evaluate_batch`]
    /// would give. Dropping the batch afterwards lets history's retention
    /// move past it.
    pub fn decide(&mut self, batch: RecordedBatch) -> Vec<Result<Decision, EvaluationError>> {
        let RecordedBatch {
            pack,
            history,
            txs,
            priced,
            recorded,
        } = batch;
        let Some(recorded) = recorded else {
            let error = EvaluationError::BatchTooLarge {
                len: txs.len(),
                max: MAX_BATCH,
            };
            return txs.iter().map(|_| Err(error.clone())).collect();
        };
        if !Arc::ptr_eq(&history, &self.context.history) {
            self.context.history = history;
            self.worker = worker::Worker::default();
        }
        let accepted: Vec<(&Transaction, i64)> = txs
            .iter()
            .zip(&priced)
            .filter_map(|(tx, p)| p.as_ref().ok().map(|t| (tx, *t)))
            .collect();
        let decisions = self
            .worker
            .run(&pack, &self.context, &accepted, recorded.stamps());
        drop(recorded);
        assemble(priced, decisions)
    }
}

/// A batch recorded in history and not yet decided ([`Evaluator::record`]):
/// its transactions, the pack that priced them and their places in
/// history. While it lives, history keeps every event its transactions
/// may ask about.
pub struct RecordedBatch {
    pack: Arc<PreparedPack>,
    history: Arc<History>,
    txs: Vec<Transaction>,
    priced: Vec<Result<i64, EvaluationError>>,
    /// `None` when the batch was too long to record.
    recorded: Option<crate::history::Recorded>,
}

impl RecordedBatch {
    /// The pack that recorded the batch, and will decide it.
    pub fn pack(&self) -> &Arc<PreparedPack> {
        &self.pack
    }

    /// The transactions, in order.
    pub fn transactions(&self) -> &[Transaction] {
        &self.txs
    }

    /// The places in history of the transactions that were recorded (those
    /// that priced), in order; empty when the batch was too long.
    pub fn stamps(&self) -> &[Stamp] {
        self.recorded.as_ref().map_or(&[], |r| r.stamps())
    }

    /// Each transaction's amount in tiyn as history recorded it, or why it
    /// could not be priced (it was not recorded and will be refused).
    pub fn amounts(&self) -> impl Iterator<Item = Option<i64>> + '_ {
        self.priced.iter().map(|p| p.as_ref().ok().copied())
    }
}

impl std::fmt::Debug for RecordedBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordedBatch")
            .field("pack", &self.pack.info().digest)
            .field("transactions", &self.txs.len())
            .finish_non_exhaustive()
    }
}

fn remember(
    pack: &PreparedPack,
    history: &History,
    txs: &[Transaction],
) -> Vec<Result<(), EvaluationError>> {
    let (priced, accepted) = pack.price(txs);
    history.record(accepted);
    priced.into_iter().map(|p| p.map(|_| ())).collect()
}

fn run_batch(
    pack: &Arc<PreparedPack>,
    context: &Context,
    worker: &mut worker::Worker,
    txs: &[Transaction],
    record: bool,
) -> Vec<Result<Decision, EvaluationError>> {
    if txs.len() > MAX_BATCH {
        let error = EvaluationError::BatchTooLarge {
            len: txs.len(),
            max: MAX_BATCH,
        };
        return txs.iter().map(|_| Err(error.clone())).collect();
    }
    let (priced, accepted) = pack.price(txs);
    let decisions = if record {
        let recorded = context.history.record_pending(accepted.iter().copied());
        worker.run(pack, context, &accepted, recorded.stamps())
    } else {
        let stamps: Vec<Stamp> = context
            .history
            .stamp_only(accepted.iter().map(|(tx, _)| *tx));
        worker.run(pack, context, &accepted, &stamps)
    };
    assemble(priced, decisions)
}

/// One result per priced transaction: its decision, or why it could not be
/// priced.
fn assemble(
    priced: Vec<Result<i64, EvaluationError>>,
    decisions: Vec<Decision>,
) -> Vec<Result<Decision, EvaluationError>> {
    let mut decisions = decisions.into_iter();
    priced
        .into_iter()
        .map(|p| match p {
            Ok(_) => decisions.next().ok_or(EvaluationError::NoPack),
            Err(e) => Err(e),
        })
        .collect()
}
