//! The deciding pipeline: transactions in, decisions out, each
//! acknowledged only once the decision log holds it.
//!
//! Rules read history, so the order transactions enter history is part of
//! every decision. Three stages keep that order while plugins run on every
//! core:
//!
//! - the **sequencer** (one thread) takes requests in arrival order,
//!   admits each transaction (clock skew, repeats), records the batch in
//!   history and journals it. That fixes each transaction's position; it
//!   is the cheap part.
//! - **deciders** (`deciders` threads, each with its own [`Evaluator`] and
//!   plugin instances) decide recorded batches concurrently. History
//!   answers a question as of the asking transaction's position and holds
//!   back retention until the batch is decided
//!   ([`qorgan::history::Recorded`]), so each decision is the one a single
//!   thread would make.
//! - the **submitter** (one thread) takes the batches in the sequencer's
//!   order, waits for each one's decisions and hands them to the log
//!   writer in that order. The log's order is the journal's order, which
//!   is what lets `qorgan audit replay` decide every row again exactly.
//!
//! Each batch is decided by the pack active when the sequencer takes it
//! up: the batch is recorded and decided with that pack, so every decision
//! names the pack (serial and manifest digest) that really made it, even
//! when a swap lands mid-stream. The first decision of each pack brings
//! the pack's archive into the log, for replay.

mod replica;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::{mpsc, oneshot};

use super::errors::ServeError;
use super::metrics::Metrics;
use super::shadow::Shadow;
use crate::audit::{Entry, Job, LogWriter, PackRecord, PackStamp};
use crate::journal::{JournalRow, Settler, SqliteJournal};
use qorgan::decision::Decision;
use qorgan::engine::{Engine, EvaluationError, Evaluator, PreparedPack, RecordedBatch};
use qorgan::history::Footprint;
use qorgan::journal::{BodyDigest, Journal, Record, Reference, admit, body_digest};
use qorgan::pack::archive::{Compression, archive_bytes};
use qorgan::pack::{MANIFEST, sha256_hex};
use qorgan::source::Activator;
use qorgan::transaction::Transaction;
pub(crate) use replica::Replica;

/// How many requests may wait for the sequencer.
const QUEUE: usize = 4096;

/// A transaction to decide, with its JSON as received (what the log keeps).
#[derive(Debug)]
pub(crate) struct Item {
    pub(crate) tx: Transaction,
    pub(crate) raw: String,
}

/// What one transaction of a request is told.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    /// Decided now: the decision's JSON, which the log holds.
    Decided(String),
    /// Its id was decided before with the same body: the original
    /// decision's JSON, not recorded again.
    Repeat(String),
    /// Its id was decided before with another body: why it is refused.
    Conflict(String),
    /// It could not be decided: why.
    Refused(String),
    /// It is journaled and its decision is still being made (by another
    /// thread, or in a cluster by another replica or a sweep): ask again.
    Pending(String),
}

/// What a request is told.
#[derive(Debug)]
pub(crate) enum Reply {
    /// One outcome per item, in order. Every decision is in the log.
    Decided(Vec<Outcome>),
    /// No pack is active yet.
    NoPack,
    /// The decisions were made but could not be logged: not acknowledged.
    NotLogged(String),
}

struct Request {
    items: Vec<Item>,
    reply: oneshot::Sender<Reply>,
}

/// What the sequencer is handed.
enum Message {
    /// A request to decide.
    Decide(Request),
    /// Time passed: a replica catches up and sweeps.
    Tick,
}

/// How often a replica's sequencer catches up and sweeps when idle.
const TICK: Duration = Duration::from_millis(500);

/// Where the archive of each deciding pack comes from.
#[derive(Debug, Clone)]
pub(crate) enum PackFiles {
    /// A local pack directory, loaded as it is.
    Local(PathBuf),
    /// The activator's state directory (its persisted verified copy).
    Activated(Arc<Activator>),
}

impl PackFiles {
    /// The archive of the pack whose manifest's sha256 is `digest`, if
    /// its files are at hand and are that pack.
    fn archive(&self, digest: &str) -> Option<Arc<Vec<u8>>> {
        let dir = match self {
            PackFiles::Local(dir) => dir.clone(),
            PackFiles::Activated(activator) => activator.persisted_dir()?,
        };
        let manifest = std::fs::read(dir.join(MANIFEST)).ok()?;
        if sha256_hex(&manifest) != digest {
            tracing::warn!(digest, dir = %dir.display(), "the deciding pack's files are no longer at hand; the log keeps no archive of it");
            return None;
        }
        match archive_bytes(&dir, Compression::Gzip) {
            Ok(bytes) => Some(Arc::new(bytes)),
            Err(error) => {
                tracing::warn!(digest, %error, "cannot archive the deciding pack for the log");
                None
            }
        }
    }
}

/// A handle to the deciding pipeline; cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct DeciderClient {
    requests: mpsc::Sender<Message>,
}

impl DeciderClient {
    /// Decides `items` and waits until their decisions are logged.
    pub(crate) async fn decide(&self, items: Vec<Item>) -> Reply {
        let (reply, told) = oneshot::channel();
        if self
            .requests
            .send(Message::Decide(Request { items, reply }))
            .await
            .is_err()
        {
            return Reply::NotLogged("the service is stopping".into());
        }
        told.await
            .unwrap_or_else(|_| Reply::NotLogged("the decision log's writer stopped".into()))
    }
}

/// The pipeline's threads; joining them waits for the log to commit
/// everything.
#[derive(Debug)]
pub(crate) struct DeciderThread {
    threads: Vec<JoinHandle<()>>,
}

impl DeciderThread {
    /// Waits until every request was decided and logged and the log closed.
    pub(crate) fn join(self) {
        for thread in self.threads {
            let _ = thread.join();
        }
    }
}

/// Where the pipeline journals.
pub(crate) enum Backend {
    /// The SQLite journal inside one node's decision log.
    Local(SqliteJournal),
    /// The cluster's journal in PostgreSQL.
    Replica(Box<Replica>),
}

/// How the pipeline is put together.
pub(crate) struct Pipeline {
    pub(crate) engine: Engine,
    pub(crate) writer: LogWriter,
    pub(crate) journal: Backend,
    pub(crate) files: PackFiles,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) run: String,
    pub(crate) max_skew_secs: i64,
    pub(crate) deciders: usize,
    /// The shadow candidate, handed every decided batch in journal order
    /// (never waited on).
    pub(crate) shadow: Option<Arc<Shadow>>,
}

fn start(name: &str, work: impl FnOnce() + Send + 'static) -> Result<JoinHandle<()>, ServeError> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(work)
        .map_err(|source| ServeError::Runtime {
            what: format!("the {name} thread"),
            source,
        })
}

/// Starts the pipeline; it stops once every client is dropped, after
/// deciding and logging what was queued.
pub(crate) fn spawn(pipeline: Pipeline) -> Result<(DeciderClient, DeciderThread), ServeError> {
    let Pipeline {
        engine,
        writer,
        journal,
        files,
        metrics,
        run,
        max_skew_secs,
        deciders,
        shadow,
    } = pipeline;
    let deciders = deciders.max(1);
    let (requests, queue) = mpsc::channel::<Message>(QUEUE);
    let (to_decide, work) = std_mpsc::sync_channel::<Work>(deciders * 2);
    let (to_submit, sequenced) = std_mpsc::sync_channel::<Sequenced>(IN_FLIGHT);
    let work = Arc::new(Mutex::new(work));
    let mut threads = Vec::with_capacity(deciders + 2);
    for index in 0..deciders {
        let work = Arc::clone(&work);
        let timer: Arc<dyn qorgan::engine::PluginTimer> = metrics.clone();
        let evaluator = engine.evaluator().with_timer(timer);
        let keep = shadow.is_some();
        threads.push(start(&format!("qorgan-decider-{index}"), move || {
            decide(evaluator, &work, keep)
        })?);
    }
    let (journal, replica) = match journal {
        Backend::Local(journal) => (Some(journal), None),
        Backend::Replica(replica) => (None, Some(*replica)),
    };
    if replica.is_some() {
        let ticks = requests.downgrade();
        threads.push(start("qorgan-replica-tick", move || {
            loop {
                std::thread::sleep(TICK);
                let Some(requests) = ticks.upgrade() else {
                    return;
                };
                let _ = requests.try_send(Message::Tick);
            }
        })?);
    }
    let submitter = Submitter {
        writer_stats: Arc::clone(writer.stats()),
        writer,
        settler: journal.as_ref().map(SqliteJournal::settler),
        returns: replica.as_ref().map(Replica::returns),
        metrics: Arc::clone(&metrics),
        shadow,
        run,
    };
    let mut sequencer = Sequencer {
        log_stats: Arc::clone(submitter.writer.stats()),
        engine,
        journal,
        replica,
        files,
        metrics,
        max_skew_secs,
        current: None,
        archives: HashMap::new(),
        to_decide,
        to_submit,
    };
    threads.push(start("qorgan-submitter", move || submitter.run(sequenced))?);
    threads.insert(0, start("qorgan-sequencer", move || sequencer.run(queue))?);
    Ok((DeciderClient { requests }, DeciderThread { threads }))
}

/// How many sequenced requests may wait for their decisions and the log.
const IN_FLIGHT: usize = 64;

/// How long the sequencer waits for the decision of a transaction that is
/// journaled and being decided, when a repeat of it arrives.
const REPEAT_PATIENCE: Duration = Duration::from_secs(30);

/// What the deciders return for a batch: its decisions, and its pack and
/// transactions when a shadow is to see them.
struct Decided {
    results: Vec<Result<Decision, EvaluationError>>,
    kept: Option<(Arc<PreparedPack>, Vec<Transaction>)>,
}

/// A recorded batch for a decider.
struct Work {
    batch: RecordedBatch,
    done: std_mpsc::SyncSender<Decided>,
}

/// Decides recorded batches until the sequencer stops; `keep`: hands back
/// each batch's pack and transactions too, for the shadow.
fn decide(mut evaluator: Evaluator, work: &Mutex<std_mpsc::Receiver<Work>>, keep: bool) {
    loop {
        let next = work.lock().unwrap_or_else(|p| p.into_inner()).recv();
        let Ok(Work { batch, done }) = next else {
            return;
        };
        let kept = keep.then(|| (Arc::clone(batch.pack()), batch.transactions().to_vec()));
        let results = evaluator.decide(batch);
        let _ = done.send(Decided { results, kept });
    }
}

/// A request the sequencer has placed: what the submitter needs to log
/// its decisions and answer it.
struct Sequenced {
    reply: oneshot::Sender<Reply>,
    /// One slot per item; `None` for the items being decided and the
    /// repeats of an earlier item of the request.
    outcomes: Vec<Option<Outcome>>,
    /// Repeats of an earlier item of the same request: (item, original).
    repeats_in_batch: Vec<(usize, usize)>,
    /// Whether any item repeats a transaction decided before.
    repeats: bool,
    /// The items being decided: their index and JSON, in order.
    indices: Vec<usize>,
    raws: Vec<String>,
    /// The journal rows of the items that were priced and recorded, in
    /// order (their `entry` is set once the decisions are known).
    rows: Vec<JournalRow>,
    /// The pack that decides the batch, as rows name it and as the log
    /// keeps it; `None` when nothing is decided.
    pack: Option<(PackStamp, PackRecord)>,
    /// Where the deciders' results arrive.
    decided: Option<std_mpsc::Receiver<Decided>>,
}

/// The pack the sequencer records with, and how rows name it.
struct Current {
    pack: Arc<PreparedPack>,
    stamp: PackStamp,
    recorder: Evaluator,
}

struct Sequencer {
    engine: Engine,
    /// One node's journal, or `None` in a cluster.
    journal: Option<SqliteJournal>,
    /// The cluster's journal, for a replica.
    replica: Option<Replica>,
    files: PackFiles,
    metrics: Arc<Metrics>,
    log_stats: Arc<crate::audit::CommitStats>,
    max_skew_secs: i64,
    current: Option<Current>,
    /// Archives by digest, once made (`None`: the files were not at hand).
    archives: HashMap<String, Option<Arc<Vec<u8>>>>,
    to_decide: std_mpsc::SyncSender<Work>,
    to_submit: std_mpsc::SyncSender<Sequenced>,
}

impl Sequencer {
    fn run(&mut self, mut queue: mpsc::Receiver<Message>) {
        while let Some(message) = queue.blocking_recv() {
            match message {
                Message::Decide(request) if self.replica.is_some() => {
                    self.sequence_replica(request)
                }
                Message::Decide(request) => self.sequence(request),
                Message::Tick => self.tick_replica(),
            }
        }
        // Dropping the senders lets the deciders and the submitter finish
        // what was queued, then stop.
    }

    /// Pins the recorder to the active pack, if it changed.
    fn follow_active(&mut self) -> bool {
        let Some(active) = self.engine.active() else {
            return false;
        };
        if self
            .current
            .as_ref()
            .is_some_and(|c| Arc::ptr_eq(&c.pack, &active))
        {
            return true;
        }
        let info = active.info();
        let plugins = serde_json::Value::Array(
            info.plugins
                .iter()
                .map(|p| serde_json::json!({"id": p.id, "version": p.version, "sha256": p.sha256}))
                .collect(),
        )
        .to_string();
        let stamp = PackStamp {
            name: info.name.clone(),
            version: info.version.clone(),
            serial: info.serial,
            digest: info.digest.clone(),
            plugins,
        };
        let recorder = self.engine.evaluator().with_pack(Arc::clone(&active));
        self.current = Some(Current {
            pack: active,
            stamp,
            recorder,
        });
        true
    }

    /// The log's record of the current pack, its archive made once.
    fn pack_record(&mut self, stamp: &PackStamp) -> PackRecord {
        let digest = stamp.digest.clone();
        let archive = match self.archives.get(&digest) {
            Some(archive) => archive.clone(),
            None => {
                let archive = self.files.archive(&digest);
                self.archives.insert(digest.clone(), archive.clone());
                archive
            }
        };
        PackRecord {
            digest,
            name: stamp.name.clone(),
            version: stamp.version.clone(),
            serial: stamp.serial,
            archive,
        }
    }

    /// Why nothing can be sequenced now, if so. While the log cannot be
    /// written, nothing is decided: a decision enters the history later
    /// decisions read, so one that could not be logged would make them
    /// differ from what replay finds.
    fn unable(&mut self) -> Option<Reply> {
        if let Some(problem) = self.log_stats.failing() {
            return Some(Reply::NotLogged(format!(
                "the decision log could not commit: {problem}"
            )));
        }
        (!self.follow_active()).then_some(Reply::NoPack)
    }

    fn sequence(&mut self, request: Request) {
        if let Some(reply) = self.unable() {
            let _ = request.reply.send(reply);
            return;
        }
        let history = self.engine.history();
        let horizon = history.watermark().map_or(i64::MIN, |w| {
            w.saturating_sub(history.limits().retention_secs)
        });
        let Screened {
            mut outcomes,
            repeats_in_batch,
            candidates,
        } = screen(request.items, self.max_skew_secs);
        let count = candidates.len();
        let mut indices = Vec::with_capacity(count);
        let mut digests = Vec::with_capacity(count);
        let mut raws = Vec::with_capacity(count);
        let mut txs = Vec::with_capacity(count);
        let mut repeats = false;
        for (index, digest, item) in candidates {
            let Some(journal) = self.journal.as_mut() else {
                let _ = request
                    .reply
                    .send(Reply::NotLogged("no journal is open".into()));
                return;
            };
            let outcome = match journal.lookup_decided(&item.tx.id, horizon, REPEAT_PATIENCE) {
                Err(error) => {
                    let _ = request.reply.send(Reply::NotLogged(format!(
                        "the journal could not be read: {error}"
                    )));
                    return;
                }
                Ok(Some(known)) if known.digest != digest => {
                    Outcome::Conflict(conflict(&item.tx.id, Some(known.position)))
                }
                Ok(Some(known)) => {
                    repeats = true;
                    match known.decision {
                        Some(decision) => Outcome::Repeat(decision),
                        None => pending(&item.tx.id, known.position),
                    }
                }
                Ok(None) => {
                    indices.push(index);
                    digests.push(digest);
                    raws.push(item.raw);
                    txs.push(item.tx);
                    continue;
                }
            };
            if let Some(slot) = outcomes.get_mut(index) {
                *slot = Some(outcome);
            }
        }
        let Some(current) = self.current.as_ref() else {
            let _ = request.reply.send(Reply::NoPack);
            return;
        };
        let stamp = current.stamp.clone();
        let mut sequenced = Sequenced {
            reply: request.reply,
            outcomes,
            repeats_in_batch,
            repeats,
            indices,
            raws,
            rows: Vec::new(),
            pack: None,
            decided: None,
        };
        if !txs.is_empty() {
            let Some(batch) = current.recorder.record(txs) else {
                let _ = sequenced.reply.send(Reply::NoPack);
                return;
            };
            let records: Vec<Record> = batch
                .transactions()
                .iter()
                .zip(batch.amounts())
                .zip(digests)
                .filter_map(|((tx, amount), digest)| {
                    amount.map(|amount| Record {
                        id: tx.id.clone(),
                        time: tx.timestamp,
                        amount,
                        digest,
                        decision: None,
                        footprint: Footprint::of(tx, amount).encode(),
                    })
                })
                .collect();
            let appended = match self.journal.as_mut().map(|j| j.append(&records, horizon)) {
                Some(Ok(appended)) => appended,
                None => {
                    let _ = sequenced
                        .reply
                        .send(Reply::NotLogged("no journal is open".into()));
                    return;
                }
                Some(Err(error)) => {
                    let _ = sequenced.reply.send(Reply::NotLogged(format!(
                        "the journal could not be written: {error}"
                    )));
                    return;
                }
            };
            sequenced.rows = SqliteJournal::rows(&records, &appended);
            let (done, decided) = std_mpsc::sync_channel(1);
            sequenced.decided = Some(decided);
            let record = self.pack_record(&stamp);
            sequenced.pack = Some((stamp, record));
            if self.to_decide.send(Work { batch, done }).is_err() {
                self.metrics.not_logged(records.len() as u64);
            }
        }
        if let Err(std_mpsc::SendError(lost)) = self.to_submit.send(sequenced) {
            let _ = lost
                .reply
                .send(Reply::NotLogged("the decision log's writer stopped".into()));
        }
    }
}

/// Hands decisions to the log writer in the sequencer's order and answers
/// the requests once their group commits.
struct Submitter {
    writer: LogWriter,
    writer_stats: Arc<crate::audit::CommitStats>,
    /// One node's journal's pending entries; `None` in a cluster.
    settler: Option<Settler>,
    /// A replica's sequencer, told the positions whose decisions were not
    /// logged, so that it sweeps them.
    returns: Option<std_mpsc::Sender<Vec<u64>>>,
    metrics: Arc<Metrics>,
    shadow: Option<Arc<Shadow>>,
    run: String,
}

impl Submitter {
    fn run(self, sequenced: std_mpsc::Receiver<Sequenced>) {
        while let Ok(next) = sequenced.recv() {
            self.submit(next);
        }
        // Dropping the writer commits what it was handed, then stops it.
    }

    fn submit(&self, sequenced: Sequenced) {
        let Sequenced {
            reply,
            mut outcomes,
            repeats_in_batch,
            mut repeats,
            indices,
            raws,
            rows,
            pack,
            decided,
        } = sequenced;
        let Decided { results, kept } =
            decided
                .and_then(|decided| decided.recv().ok())
                .unwrap_or(Decided {
                    results: Vec::new(),
                    kept: None,
                });
        if let (Some(shadow), Some((pack, txs))) = (&self.shadow, &kept) {
            shadow.offer(pack, txs, &results);
        }
        let decided_at = OffsetDateTime::now_utc()
            .format(&Rfc3339)
            .unwrap_or_default();
        let stamp = pack.as_ref().map(|(stamp, _)| stamp.clone());
        let mut entries = Vec::with_capacity(results.len());
        let mut journal = Vec::with_capacity(rows.len());
        let mut rows = rows.into_iter();
        let mut counted = Vec::with_capacity(results.len());
        let mut rejected = 0u64;
        let mut results = results.into_iter();
        for (raw, index) in raws.into_iter().zip(indices) {
            let outcome = match (results.next(), &stamp) {
                (Some(Ok(decision)), Some(stamp)) => {
                    let json = decision.to_json();
                    if let Some(mut row) = rows.next() {
                        row.entry = entries.len();
                        journal.push(row);
                    }
                    entries.push(Entry {
                        decision_id: decision.decision_id.clone(),
                        tx_id: decision.tx.clone(),
                        run: self.run.clone(),
                        decided_at: decided_at.clone(),
                        action: decision.action.to_string(),
                        pack: stamp.clone(),
                        tx: raw,
                        decision: json.clone(),
                    });
                    counted.push((decision.action, decision.findings));
                    Outcome::Decided(json)
                }
                (Some(Err(error)), _) => {
                    rejected += 1;
                    Outcome::Refused(error.to_string())
                }
                _ => Outcome::Refused("no decision was made: a decider stopped".into()),
            };
            if let Some(slot) = outcomes.get_mut(index) {
                *slot = Some(outcome);
            }
        }
        // Positions journaled without a decision stay unused.
        let unused: Vec<JournalRow> = rows.collect();
        if let Some(settler) = &self.settler {
            settler.settle(
                &unused
                    .iter()
                    .map(|row| (row.id.clone(), row.position))
                    .collect::<Vec<_>>(),
            );
        }
        if let Some(returns) = self.returns.as_ref().filter(|_| !unused.is_empty()) {
            let _ = returns.send(replica::returned_positions(&unused));
        }
        let decisions: Vec<(String, u64, String)> = journal
            .iter()
            .filter_map(|row| {
                entries
                    .get(row.entry)
                    .map(|e| (row.id.clone(), row.position, e.decision.clone()))
            })
            .collect();
        if let Some(settler) = &self.settler {
            settler.decided(&decisions);
        }
        for (index, original) in repeats_in_batch {
            let repeated = match outcomes.get(original).cloned().flatten() {
                Some(Outcome::Decided(json)) => Outcome::Repeat(json),
                Some(other) => other,
                None => Outcome::Refused("no decision was made".into()),
            };
            repeats = true;
            if let Some(slot) = outcomes.get_mut(index) {
                *slot = Some(repeated);
            }
        }
        let outcomes: Vec<Outcome> = outcomes
            .into_iter()
            .map(|o| o.unwrap_or_else(|| Outcome::Refused("no decision was made".into())))
            .collect();
        if rejected > 0 {
            self.metrics.rejected(rejected);
        }
        if entries.is_empty() && !repeats {
            let _ = reply.send(Reply::Decided(outcomes));
            return;
        }
        let settled: Vec<(String, u64)> = journal
            .iter()
            .map(|row| (row.id.clone(), row.position))
            .collect();
        let settler = self.settler.clone();
        let returns = self.returns.clone();
        let positions = replica::returned_positions(&journal);
        let stats = Arc::clone(&self.writer_stats);
        let failures_before = stats.failures();
        let metrics = Arc::clone(&self.metrics);
        let logged = entries.len() as u64;
        let job = Job {
            packs: pack.map(|(_, record)| vec![record]).unwrap_or_default(),
            entries,
            journal,
            done: Box::new(move |outcome| match outcome {
                // A repeat is answered once the group holding it commits,
                // so after its original's group: unless a group failed in
                // between, which may have been the original's.
                Ok(_) if repeats && stats.failures() != failures_before => {
                    if let Some(settler) = &settler {
                        settler.settle(&settled);
                    }
                    let _ = reply.send(Reply::NotLogged(
                        "a group of the decision log failed to commit meanwhile; the original decision may not be logged".into(),
                    ));
                }
                Ok(_) => {
                    if let Some(settler) = &settler {
                        settler.settle(&settled);
                    }
                    for (action, findings) in &counted {
                        metrics.decided(*action, findings);
                    }
                    let _ = reply.send(Reply::Decided(outcomes));
                }
                Err(error) => {
                    if let Some(settler) = &settler {
                        settler.settle(&settled);
                    }
                    if let Some(returns) = &returns {
                        let _ = returns.send(positions);
                    }
                    metrics.not_logged(logged);
                    let _ = reply.send(Reply::NotLogged(error.to_string()));
                }
            }),
        };
        if let Err(job) = self.writer.submit(job) {
            (job.done)(Err(crate::audit::AuditError::WriterStopped));
        }
    }
}

/// A request's items sorted out before the journal is asked.
struct Screened {
    /// One slot per item: refused for its time, or a conflict within the
    /// request; `None` for the rest.
    outcomes: Vec<Option<Outcome>>,
    /// Repeats of an earlier item of the same request: (item, original).
    repeats_in_batch: Vec<(usize, usize)>,
    /// The items to journal and decide: index, body digest, item.
    candidates: Vec<(usize, BodyDigest, Item)>,
}

/// Refuses the items dated more than `max_skew_secs` ahead of the host's
/// clock, and sets apart repeats of an earlier item of the request.
fn screen(items: Vec<Item>, max_skew_secs: i64) -> Screened {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let mut screened = Screened {
        outcomes: Vec::with_capacity(items.len()),
        repeats_in_batch: Vec::new(),
        candidates: Vec::with_capacity(items.len()),
    };
    let mut firsts: HashMap<String, (usize, BodyDigest)> = HashMap::new();
    for (index, item) in items.into_iter().enumerate() {
        if let Err(refusal) = admit(item.tx.timestamp, now, max_skew_secs, Reference::HostClock) {
            screened
                .outcomes
                .push(Some(Outcome::Refused(refusal.to_string())));
            continue;
        }
        let digest = body_digest(&item.raw);
        if let Some(&(original, known)) = firsts.get(&item.tx.id) {
            if known == digest {
                screened.repeats_in_batch.push((index, original));
                screened.outcomes.push(None);
            } else {
                let problem = conflict(&item.tx.id, None);
                screened.outcomes.push(Some(Outcome::Conflict(problem)));
            }
            continue;
        }
        firsts.insert(item.tx.id.clone(), (index, digest));
        screened.outcomes.push(None);
        screened.candidates.push((index, digest, item));
    }
    screened
}

/// The answer to a repeat of `id`, journaled at `position`, whose decision
/// is still being made.
fn pending(id: &str, position: u64) -> Outcome {
    Outcome::Pending(format!(
        "transaction {id} is journaled at position {position} and its decision is not made yet; ask again"
    ))
}

/// Why a repeat of `id` with another body is refused.
fn conflict(id: &str, position: Option<u64>) -> String {
    let at = position.map_or_else(
        || "earlier in this request".to_owned(),
        |p| format!("at journal position {p}"),
    );
    format!(
        "transaction id {id} was already decided with a different body ({at}); a transaction id names one transaction"
    )
}
