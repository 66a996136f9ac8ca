//! The deciding thread: transactions in, decisions out, each acknowledged
//! only once the decision log holds it.
//!
//! One thread decides every request, in arrival order, with one
//! [`Evaluator`] (its own plugin instances, no pool round-trip), and hands
//! each batch's decisions to the log writer in that same order. Rules read
//! history, so the order the engine records transactions in is part of
//! each decision; deciding on one thread makes the log's order *be* that
//! order, which is what lets `qorgan audit replay` decide every row again
//! exactly. Plugin calls take microseconds; HTTP parsing, JSON and the
//! log's commits run on other threads, alongside.
//!
//! Each batch is decided by the pack active when it is taken up: the
//! evaluator is pinned to that pack, so every decision of the batch names
//! the pack (serial and manifest digest) that really made it, even when a
//! swap lands mid-batch. The first decision of each pack brings the pack's
//! archive into the log, for replay.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::{mpsc, oneshot};

use super::errors::ServeError;
use super::metrics::Metrics;
use super::shadow::Shadow;
use crate::audit::{Entry, Job, LogWriter, PackRecord, PackStamp};
use crate::journal::SqliteJournal;
use qorgan::engine::{Engine, Evaluator, PreparedPack};
use qorgan::journal::{BodyDigest, Journal, Record, Reference, admit, body_digest};
use qorgan::pack::archive::{Compression, archive_bytes};
use qorgan::pack::{MANIFEST, sha256_hex};
use qorgan::source::Activator;
use qorgan::transaction::Transaction;

/// How many requests may wait for the deciding thread.
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

/// A handle to the deciding thread; cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct DeciderClient {
    requests: mpsc::Sender<Request>,
}

impl DeciderClient {
    /// Decides `items` and waits until their decisions are logged.
    pub(crate) async fn decide(&self, items: Vec<Item>) -> Reply {
        let (reply, told) = oneshot::channel();
        if self.requests.send(Request { items, reply }).await.is_err() {
            return Reply::NotLogged("the service is stopping".into());
        }
        told.await
            .unwrap_or_else(|_| Reply::NotLogged("the decision log's writer stopped".into()))
    }
}

/// The deciding thread; joining it waits for the log to commit everything.
#[derive(Debug)]
pub(crate) struct DeciderThread {
    thread: JoinHandle<()>,
}

impl DeciderThread {
    /// Waits until every request was decided and logged and the log closed.
    pub(crate) fn join(self) {
        let _ = self.thread.join();
    }
}

/// Starts the deciding thread; it stops once every client is dropped,
/// after deciding and logging what was queued. `shadow`, when given, is
/// handed every decided batch (never waited on).
#[allow(clippy::too_many_arguments)] // each is one part of the thread's state
pub(crate) fn spawn(
    engine: Engine,
    writer: LogWriter,
    journal: SqliteJournal,
    files: PackFiles,
    metrics: Arc<Metrics>,
    shadow: Option<Arc<Shadow>>,
    run: String,
    max_skew_secs: i64,
) -> Result<(DeciderClient, DeciderThread), ServeError> {
    let (requests, queue) = mpsc::channel::<Request>(QUEUE);
    let mut decider = Decider {
        engine,
        writer,
        journal,
        files,
        metrics,
        shadow,
        run,
        max_skew_secs,
        current: None,
        archives: HashMap::new(),
    };
    let thread = std::thread::Builder::new()
        .name("qorgan-decider".into())
        .spawn(move || decider.run(queue))
        .map_err(|source| ServeError::Runtime {
            what: "the deciding thread".into(),
            source,
        })?;
    Ok((DeciderClient { requests }, DeciderThread { thread }))
}

/// The pack the evaluator is pinned to, and how rows name it.
struct Current {
    pack: Arc<PreparedPack>,
    stamp: PackStamp,
    evaluator: Evaluator,
}

struct Decider {
    engine: Engine,
    writer: LogWriter,
    journal: SqliteJournal,
    files: PackFiles,
    metrics: Arc<Metrics>,
    /// The shadow candidate, handed every decided batch (never waited on).
    shadow: Option<Arc<Shadow>>,
    run: String,
    max_skew_secs: i64,
    current: Option<Current>,
    /// Archives by digest, once made (`None`: the files were not at hand).
    archives: HashMap<String, Option<Arc<Vec<u8>>>>,
}

impl Decider {
    fn run(&mut self, mut queue: mpsc::Receiver<Request>) {
        while let Some(request) = queue.blocking_recv() {
            self.decide(request);
        }
        // Dropping the writer commits what it was handed, then stops it.
    }

    /// Pins the evaluator to the active pack, if it changed.
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
        let timer: Arc<dyn qorgan::engine::PluginTimer> = self.metrics.clone();
        let evaluator = self
            .engine
            .evaluator()
            .with_pack(Arc::clone(&active))
            .with_timer(timer);
        self.current = Some(Current {
            pack: active,
            stamp,
            evaluator,
        });
        true
    }

    fn decide(&mut self, request: Request) {
        // While the log cannot be written, nothing is decided: a decision
        // enters the history later decisions read, so one that could not
        // be logged would make them differ from what replay finds.
        if let Some(problem) = self.writer.stats().failing() {
            let _ = request.reply.send(Reply::NotLogged(format!(
                "the decision log could not commit: {problem}"
            )));
            return;
        }
        if !self.follow_active() {
            let _ = request.reply.send(Reply::NoPack);
            return;
        }
        let Some(current) = self.current.as_mut() else {
            let _ = request.reply.send(Reply::NoPack);
            return;
        };
        let history = self.engine.history();
        let horizon = history.watermark().map_or(i64::MIN, |w| {
            w.saturating_sub(history.limits().retention_secs)
        });
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let mut outcomes: Vec<Option<Outcome>> = Vec::with_capacity(request.items.len());
        // Repeats of an earlier item of the same request: (item, original).
        let mut repeats_in_batch: Vec<(usize, usize)> = Vec::new();
        let mut firsts: HashMap<String, (usize, BodyDigest)> = HashMap::new();
        let mut indices = Vec::with_capacity(request.items.len());
        let mut digests = Vec::with_capacity(request.items.len());
        let mut raws = Vec::with_capacity(request.items.len());
        let mut txs = Vec::with_capacity(request.items.len());
        let mut repeats = false;
        for (index, item) in request.items.into_iter().enumerate() {
            if let Err(refusal) = admit(
                item.tx.timestamp,
                now,
                self.max_skew_secs,
                Reference::HostClock,
            ) {
                outcomes.push(Some(Outcome::Refused(refusal.to_string())));
                continue;
            }
            let digest = body_digest(&item.raw);
            if let Some(&(original, known)) = firsts.get(&item.tx.id) {
                if known == digest {
                    repeats_in_batch.push((index, original));
                    outcomes.push(None);
                } else {
                    outcomes.push(Some(Outcome::Conflict(conflict(&item.tx.id, None))));
                }
                continue;
            }
            match self.journal.lookup(&item.tx.id, horizon) {
                Err(error) => {
                    let _ = request.reply.send(Reply::NotLogged(format!(
                        "the journal could not be read: {error}"
                    )));
                    return;
                }
                Ok(Some(known)) if known.digest != digest => {
                    let message = conflict(&item.tx.id, Some(known.position));
                    outcomes.push(Some(Outcome::Conflict(message)));
                }
                Ok(Some(known)) => {
                    repeats = true;
                    outcomes.push(Some(match known.decision {
                        Some(decision) => Outcome::Repeat(decision),
                        None => Outcome::Refused(format!(
                            "transaction {} is journaled at position {} without its decision",
                            item.tx.id, known.position
                        )),
                    }));
                }
                Ok(None) => {
                    firsts.insert(item.tx.id.clone(), (index, digest));
                    outcomes.push(None);
                    indices.push(index);
                    digests.push(digest);
                    raws.push(item.raw);
                    txs.push(item.tx);
                }
            }
        }
        let decided = current.evaluator.evaluate_batch(&txs);
        if let Some(shadow) = &self.shadow {
            shadow.offer(&current.pack, &txs, &decided);
        }
        let decided_at = OffsetDateTime::now_utc()
            .format(&Rfc3339)
            .unwrap_or_default();
        let mut entries = Vec::with_capacity(decided.len());
        let mut records = Vec::with_capacity(decided.len());
        let mut counted = Vec::with_capacity(decided.len());
        let mut rejected = 0u64;
        for ((((result, raw), tx), digest), index) in decided
            .into_iter()
            .zip(raws)
            .zip(&txs)
            .zip(digests)
            .zip(indices)
        {
            let outcome = match result {
                Ok(decision) => {
                    let json = decision.to_json();
                    records.push(Record {
                        id: tx.id.clone(),
                        time: tx.timestamp,
                        amount: current.pack.amount_tiyn(tx).unwrap_or(0),
                        digest,
                        decision: Some(json.clone()),
                    });
                    entries.push(Entry {
                        decision_id: decision.decision_id.clone(),
                        tx_id: decision.tx.clone(),
                        run: self.run.clone(),
                        decided_at: decided_at.clone(),
                        action: decision.action.to_string(),
                        pack: current.stamp.clone(),
                        tx: raw,
                        decision: json.clone(),
                    });
                    counted.push((decision.action, decision.findings));
                    Outcome::Decided(json)
                }
                Err(error) => {
                    rejected += 1;
                    Outcome::Refused(error.to_string())
                }
            };
            if let Some(slot) = outcomes.get_mut(index) {
                *slot = Some(outcome);
            }
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
            let _ = request.reply.send(Reply::Decided(outcomes));
            return;
        }
        let appended = match self.journal.append(&records, horizon) {
            Ok(appended) => appended,
            Err(error) => {
                let _ = request.reply.send(Reply::NotLogged(format!(
                    "the journal could not be written: {error}"
                )));
                return;
            }
        };
        let journal = SqliteJournal::rows(&records, &appended);
        let settled: Vec<(String, u64)> = journal
            .iter()
            .map(|row| (row.id.clone(), row.position))
            .collect();
        let settler = self.journal.settler();
        let stats = Arc::clone(self.writer.stats());
        let failures_before = stats.failures();
        let digest = current.stamp.digest.clone();
        let archive = match self.archives.get(&digest) {
            Some(archive) => archive.clone(),
            None => {
                let archive = self.files.archive(&digest);
                self.archives.insert(digest.clone(), archive.clone());
                archive
            }
        };
        let pack = PackRecord {
            digest,
            name: current.stamp.name.clone(),
            version: current.stamp.version.clone(),
            serial: current.stamp.serial,
            archive,
        };
        let metrics = Arc::clone(&self.metrics);
        let reply = request.reply;
        let logged = entries.len() as u64;
        let job = Job {
            packs: vec![pack],
            entries,
            journal,
            done: Box::new(move |outcome| match outcome {
                // A repeat is answered once the group holding it commits,
                // so after its original's group: unless a group failed in
                // between, which may have been the original's.
                Ok(_) if repeats && stats.failures() != failures_before => {
                    settler.settle(&settled);
                    let _ = reply.send(Reply::NotLogged(
                        "a group of the decision log failed to commit meanwhile; the original decision may not be logged".into(),
                    ));
                }
                Ok(_) => {
                    settler.settle(&settled);
                    for (action, findings) in &counted {
                        metrics.decided(*action, findings);
                    }
                    let _ = reply.send(Reply::Decided(outcomes));
                }
                Err(error) => {
                    settler.settle(&settled);
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
