//! The sequencer of a replica in a cluster (`--journal postgres://…`):
//! each batch journaled in one round trip that also brings the other
//! replicas' entries, applied to history before the batch is recorded; and
//! the sweep that decides what a dead replica journaled and never decided.
//! `crate::cluster` explains the model.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::{
    Outcome, Reply, Request, Screened, Sequenced, Sequencer, Work, conflict, pending, screen,
};
use crate::cluster::{Caught, Placed, ReplicaJournal};
use crate::journal::JournalRow;
use qorgan::history::{Footprint, History, Recorded, Stamp};
use qorgan::journal::{JournalError, Record, Restored};
use qorgan::transaction::Transaction;

/// How many entries a start reads at once while catching up.
const CATCH_UP_CHUNK: i64 = 4096;

/// Who is deciding an entry not yet known to be decided.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Owner {
    /// This replica, in its pipeline now.
    Deciding,
    /// This replica, whose pipeline lost it (a restart, a failed commit):
    /// to sweep.
    Orphaned,
    /// Another replica.
    Other(String),
    /// This replica's sweep, whose decision is on its way to the log.
    Sweeping,
}

/// An entry applied to history and not yet known to be decided.
#[derive(Debug)]
struct Pending {
    stamp: Stamp,
    owner: Owner,
}

/// A replica's share of the cluster's journal: what it applied to its
/// history, and the memory it holds for entries still being decided.
pub(crate) struct Replica {
    journal: ReplicaJournal,
    /// The last journal position applied to history.
    applied: u64,
    /// Memory held for applied entries, until every entry up to the
    /// position given is decided.
    holds: VecDeque<(u64, Recorded)>,
    undecided: BTreeMap<u64, Pending>,
    /// Positions whose decisions this replica's log failed to commit.
    returned: std_mpsc::Receiver<Vec<u64>>,
    returns: std_mpsc::Sender<Vec<u64>>,
}

impl std::fmt::Debug for Replica {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replica")
            .field("journal", &self.journal)
            .field("applied", &self.applied)
            .field("undecided", &self.undecided.len())
            .finish_non_exhaustive()
    }
}

impl Replica {
    /// Joins the cluster: catches `history` up with the whole journal
    /// inside retention before anything is decided.
    pub(crate) fn join(
        journal: ReplicaJournal,
        history: &History,
    ) -> Result<(Replica, Restored), crate::serve::ServeError> {
        let started = Instant::now();
        let (returns, returned) = std_mpsc::channel();
        let mut replica = Replica {
            applied: 0,
            holds: VecDeque::new(),
            undecided: BTreeMap::new(),
            returned,
            returns,
            journal,
        };
        let mut restored = Restored {
            entries: 0,
            last_position: 0,
            elapsed: Duration::ZERO,
        };
        if let Some((last, newest)) = replica.journal.head()? {
            let horizon = newest.saturating_sub(history.limits().retention_secs);
            loop {
                let chunk = replica
                    .journal
                    .since(replica.applied, horizon, CATCH_UP_CHUNK)?;
                let Some(end) = chunk.last().map(|c| c.position) else {
                    break;
                };
                restored.entries += chunk.len() as u64;
                replica.apply(history, &chunk)?;
                replica.applied = end;
            }
            replica.applied = replica.applied.max(last);
        }
        // Whatever was journaled meanwhile, and where decisions stand.
        let trip = replica
            .journal
            .append(replica.applied, horizon_of(history), &[], &[])?;
        restored.entries += trip.entries.len() as u64;
        replica.apply(history, &trip.entries)?;
        replica.settle(trip.undecided_from);
        restored.last_position = replica.applied;
        restored.elapsed = started.elapsed();
        Ok((replica, restored))
    }

    /// The sender the submitter tells failed positions with.
    pub(crate) fn returns(&self) -> std_mpsc::Sender<Vec<u64>> {
        self.returns.clone()
    }

    /// The replica's journal connection's database, for messages.
    pub(crate) fn database(&self) -> String {
        format!("PostgreSQL at {}", self.journal.database().label())
    }

    /// Records `entries` (journaled by others, or by this replica before
    /// a restart) in history, holding memory for the undecided ones.
    fn apply(&mut self, history: &History, entries: &[Caught]) -> Result<(), JournalError> {
        let Some(last) = entries.last().map(|e| e.position) else {
            return Ok(());
        };
        let footprints = entries
            .iter()
            .map(|entry| {
                Footprint::decode(&entry.footprint).map_err(|e| JournalError::Unreadable {
                    position: entry.position,
                    id: entry.id.clone(),
                    problem: e.to_string(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let recorded = history.record_pending_footprints(footprints);
        let mut held = false;
        for (entry, stamp) in entries.iter().zip(recorded.stamps()) {
            if entry.decided {
                continue;
            }
            held = true;
            let owner = if entry.owner == self.journal.name() {
                Owner::Orphaned
            } else {
                Owner::Other(entry.owner.clone())
            };
            self.undecided.insert(
                entry.position,
                Pending {
                    stamp: *stamp,
                    owner,
                },
            );
        }
        if held {
            self.holds.push_back((last, recorded));
        }
        self.applied = self.applied.max(last);
        Ok(())
    }

    /// Every entry before `undecided_from` is decided: memory held for
    /// them may go.
    fn settle(&mut self, undecided_from: u64) {
        while self
            .holds
            .front()
            .is_some_and(|(last, _)| *last < undecided_from)
        {
            self.holds.pop_front();
        }
        self.undecided = self.undecided.split_off(&undecided_from);
    }

    /// Positions this replica's log could not commit: to sweep.
    fn take_returned(&mut self) {
        while let Ok(positions) = self.returned.try_recv() {
            for position in positions {
                if let Some(pending) = self.undecided.get_mut(&position) {
                    pending.owner = Owner::Orphaned;
                }
            }
        }
    }
}

fn horizon_of(history: &History) -> i64 {
    history.watermark().map_or(i64::MIN, |w| {
        w.saturating_sub(history.limits().retention_secs)
    })
}

impl Sequencer {
    /// A request in a cluster: journaled in one round trip, after the
    /// entries other replicas journaled since this one last asked.
    pub(super) fn sequence_replica(&mut self, request: Request) {
        if let Some(reply) = self.unable() {
            let _ = request.reply.send(reply);
            return;
        }
        let Some(current) = self.current.as_ref() else {
            let _ = request.reply.send(Reply::NoPack);
            return;
        };
        let stamp = current.stamp.clone();
        let history = Arc::clone(self.engine.history());
        let Screened {
            mut outcomes,
            repeats_in_batch,
            mut candidates,
        } = screen(request.items, self.max_skew_secs);
        if candidates.len() > qorgan::engine::MAX_BATCH {
            // Refused before anything is journaled: the engine records no
            // batch this long, and a journaled entry must be decidable.
            let refusal = format!(
                "a batch of {} transactions is longer than the engine decides at once ({})",
                candidates.len(),
                qorgan::engine::MAX_BATCH
            );
            for (index, _, _) in &candidates {
                if let Some(slot) = outcomes.get_mut(*index) {
                    *slot = Some(Outcome::Refused(refusal.clone()));
                }
            }
            candidates.clear();
        }
        let txs: Vec<Transaction> = candidates.iter().map(|(_, _, i)| i.tx.clone()).collect();
        let priced = current.recorder.price(&txs).unwrap_or_default();
        let mut records = Vec::with_capacity(candidates.len());
        let mut bodies = Vec::with_capacity(candidates.len());
        let mut journaled = Vec::with_capacity(candidates.len());
        for ((_, digest, item), price) in candidates.iter().zip(&priced) {
            let Ok(amount) = price else {
                journaled.push(false);
                continue;
            };
            journaled.push(true);
            records.push(Record {
                id: item.tx.id.clone(),
                time: item.tx.timestamp,
                amount: *amount,
                digest: *digest,
                decision: None,
                footprint: Footprint::of(&item.tx, *amount).encode(),
            });
            bodies.push(item.raw.clone());
        }
        let Some(replica) = self.replica.as_mut() else {
            let _ = request
                .reply
                .send(Reply::NotLogged("no journal is open".into()));
            return;
        };
        replica.take_returned();
        let started = Instant::now();
        let trip =
            match replica
                .journal
                .append(replica.applied, horizon_of(&history), &records, &bodies)
            {
                Ok(trip) => {
                    self.metrics.round_trip(started.elapsed());
                    trip
                }
                Err(error) => {
                    let problem = crate::audit::log::describe(&error);
                    if error.fault().is_some() {
                        self.log_stats.set_failing(Some(problem.clone()));
                    }
                    let _ = request.reply.send(Reply::NotLogged(format!(
                        "the journal could not be written: {problem}"
                    )));
                    return;
                }
            };
        if let Err(error) = replica.apply(&history, &trip.entries) {
            self.log_stats.set_failing(Some(error.to_string()));
            let _ = request.reply.send(Reply::NotLogged(format!(
                "the journal could not be applied: {error}"
            )));
            return;
        }
        replica.settle(trip.undecided_from);
        // The batch to decide: the new entries, and those that do not
        // price (refused when decided, never journaled), in order.
        let mut placed = trip.placed.into_iter();
        let mut decide = Vec::with_capacity(candidates.len());
        let mut new_records = Vec::with_capacity(records.len());
        let mut records = records.into_iter();
        let mut indices = Vec::with_capacity(candidates.len());
        let mut raws = Vec::with_capacity(candidates.len());
        let mut positions = Vec::with_capacity(candidates.len());
        for ((index, digest, item), journaled) in candidates.into_iter().zip(journaled) {
            if !journaled {
                indices.push(index);
                raws.push(item.raw);
                decide.push(item.tx);
                continue;
            }
            let (Some(place), Some(record)) = (placed.next(), records.next()) else {
                break;
            };
            match place {
                Placed::New(position) => {
                    indices.push(index);
                    raws.push(item.raw);
                    decide.push(item.tx);
                    positions.push(position);
                    new_records.push((record, position));
                }
                Placed::Existing {
                    position,
                    digest: known,
                    ..
                } if known != digest => {
                    let slot = outcomes.get_mut(index);
                    if let Some(slot) = slot {
                        *slot = Some(Outcome::Conflict(conflict(&item.tx.id, Some(position))));
                    }
                }
                Placed::Existing {
                    position, decision, ..
                } => {
                    let outcome = match decision {
                        Some(decision) => Outcome::Repeat(decision),
                        None => pending(&item.tx.id, position),
                    };
                    if let Some(slot) = outcomes.get_mut(index) {
                        *slot = Some(outcome);
                    }
                }
            }
        }
        // A repeat's decision was read from the log: committed already, so
        // nothing needs to wait for a commit before answering it.
        let mut sequenced = Sequenced {
            reply: request.reply,
            outcomes,
            repeats_in_batch,
            repeats: false,
            indices,
            raws,
            rows: Vec::new(),
            pack: None,
            decided: None,
        };
        if !decide.is_empty() {
            let Some(current) = self.current.as_ref() else {
                let _ = sequenced.reply.send(Reply::NoPack);
                return;
            };
            let Some(batch) = current.recorder.record(decide) else {
                let _ = sequenced.reply.send(Reply::NoPack);
                return;
            };
            // Held until every replica is known to have decided them, so
            // that a sweep could still decide them at these positions.
            let stamps = batch.stamps().to_vec();
            if let Some(replica) = self.replica.as_mut() {
                for (stamp, position) in stamps.iter().zip(&positions) {
                    replica.undecided.insert(
                        *position,
                        Pending {
                            stamp: *stamp,
                            owner: Owner::Deciding,
                        },
                    );
                }
                if let Some(last) = positions.last() {
                    replica.holds.push_back((*last, history.hold(stamps)));
                    replica.applied = replica.applied.max(*last);
                }
            }
            sequenced.rows = new_records
                .into_iter()
                .map(|(record, position)| JournalRow {
                    entry: 0,
                    position,
                    id: record.id,
                    time: record.time,
                    amount: record.amount,
                    digest: record.digest,
                    footprint: record.footprint,
                })
                .collect();
            let (done, decided) = std_mpsc::sync_channel(1);
            sequenced.decided = Some(decided);
            let record = self.pack_record(&stamp);
            sequenced.pack = Some((stamp, record));
            if self.to_decide.send(Work { batch, done }).is_err() {
                self.metrics.not_logged(sequenced.rows.len() as u64);
            }
        }
        if let Err(std_mpsc::SendError(lost)) = self.to_submit.send(sequenced) {
            let _ = lost
                .reply
                .send(Reply::NotLogged("the decision log's writer stopped".into()));
        }
    }

    /// Every half second: catch up with the journal, and decide the
    /// entries whose replica will not (this one's own, lost to a restart or
    /// a failed commit, and those of replicas that stopped running).
    pub(super) fn tick_replica(&mut self) {
        if self.log_stats.failing().is_some() || !self.follow_active() {
            return;
        }
        let history = Arc::clone(self.engine.history());
        let Some(replica) = self.replica.as_mut() else {
            return;
        };
        replica.take_returned();
        let swept = match sweep_list(replica, &history) {
            Ok(list) => list,
            Err(error) => {
                let problem = crate::audit::log::describe(&error);
                if error.fault().is_some() {
                    self.log_stats.set_failing(Some(problem.clone()));
                }
                tracing::warn!(error = %problem, "the journal could not be read to catch up and sweep");
                return;
            }
        };
        for chunk in swept.chunks(qorgan::engine::MAX_BATCH) {
            self.sweep(chunk);
        }
    }

    /// Decides swept entries at their positions and logs the decisions;
    /// nobody waits for them: a retry of one is answered from the log.
    fn sweep(&mut self, entries: &[(u64, Stamp, String)]) {
        let Some(current) = self.current.as_ref() else {
            return;
        };
        let stamp = current.stamp.clone();
        let mut txs = Vec::with_capacity(entries.len());
        let mut stamps = Vec::with_capacity(entries.len());
        let mut raws = Vec::with_capacity(entries.len());
        let mut rows = Vec::with_capacity(entries.len());
        for (position, at, raw) in entries {
            let tx = match Transaction::from_json(raw) {
                Ok(tx) => tx,
                Err(error) => {
                    tracing::error!(position, %error, "a journaled transaction no longer parses; it cannot be swept");
                    continue;
                }
            };
            rows.push(JournalRow {
                entry: 0,
                position: *position,
                id: tx.id.clone(),
                time: tx.timestamp,
                amount: 0,
                digest: [0; 32],
                footprint: Vec::new(),
            });
            txs.push(tx);
            stamps.push(*at);
            raws.push(raw.clone());
        }
        let Some(batch) = current.recorder.recorded_at(txs, stamps) else {
            tracing::error!(
                positions = ?rows.iter().map(|r| r.position).collect::<Vec<_>>(),
                "undecided journal entries do not price with the active pack; they cannot be swept"
            );
            return;
        };
        tracing::info!(
            entries = rows.len(),
            first = rows.first().map(|r| r.position),
            "deciding journal entries whose replica did not"
        );
        // Nobody waits: the reply goes nowhere.
        let (reply, _) = oneshot::channel();
        let (done, decided) = std_mpsc::sync_channel(1);
        let record = self.pack_record(&stamp);
        let count = rows.len();
        let sequenced = Sequenced {
            reply,
            outcomes: vec![None; count],
            repeats_in_batch: Vec::new(),
            repeats: false,
            indices: (0..count).collect(),
            raws,
            rows,
            pack: Some((stamp, record)),
            decided: Some(decided),
        };
        if self.to_decide.send(Work { batch, done }).is_ok() {
            let _ = self.to_submit.send(sequenced);
        }
    }
}

/// Catches up, then lists the entries to sweep now (position, stamp,
/// body), in position order, taking dead replicas' locks as it goes and
/// giving back those with nothing left to decide.
fn sweep_list(
    replica: &mut Replica,
    history: &History,
) -> Result<Vec<(u64, Stamp, String)>, crate::audit::AuditError> {
    let trip = replica
        .journal
        .append(replica.applied, horizon_of(history), &[], &[])?;
    replica
        .apply(history, &trip.entries)
        .map_err(|e| crate::audit::AuditError::NotDurable(e.to_string()))?;
    replica.settle(trip.undecided_from);
    let me = replica.journal.name().to_owned();
    let mut owners: Vec<String> = Vec::new();
    if replica
        .undecided
        .values()
        .any(|p| p.owner == Owner::Orphaned)
    {
        owners.push(me.clone());
    }
    for owner in replica.journal.owners_of_undecided(replica.applied)? {
        if replica.journal.try_take(&owner)? {
            owners.push(owner);
        }
    }
    let mut list = Vec::new();
    for owner in &owners {
        for entry in replica.journal.undecided_of(owner, replica.applied)? {
            let Some(pending) = replica.undecided.get_mut(&entry.position) else {
                continue;
            };
            // Swept once: again only if its decision comes back unlogged.
            if matches!(pending.owner, Owner::Deciding | Owner::Sweeping) {
                continue;
            }
            pending.owner = Owner::Sweeping;
            list.push((entry.position, pending.stamp, entry.tx));
        }
    }
    for owner in replica.journal.held() {
        if !owners.contains(&owner) && replica.journal.undecided_of(&owner, u64::MAX)?.is_empty() {
            replica.journal.release(&owner)?;
        }
    }
    list.sort_by_key(|(position, _, _)| *position);
    Ok(list)
}

/// Tells the sequencer which positions a failed log commit left
/// undecided, so that it sweeps them.
pub(crate) fn returned_positions(rows: &[JournalRow]) -> Vec<u64> {
    rows.iter().map(|row| row.position).collect()
}
