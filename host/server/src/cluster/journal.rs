//! A replica's connection to the cluster's journal: the append round trip,
//! catching up, and the locks that tell which replicas are alive.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use postgres::Client;

use super::{Database, replica_lock};
use crate::audit::AuditError;
use qorgan::journal::{BodyDigest, Record};

/// A journal entry read back while catching up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caught {
    /// Its position.
    pub position: u64,
    /// Its transaction's id.
    pub id: String,
    /// What history keeps of it ([`qorgan::history::Footprint::encode`]).
    pub footprint: Vec<u8>,
    /// The replica that journaled it.
    pub owner: String,
    /// Whether its decision is in the log.
    pub decided: bool,
}

/// Where a transaction handed to [`ReplicaJournal::append`] stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placed {
    /// Journaled now at this position.
    New(u64),
    /// Already journaled (within retention) by some replica.
    Existing {
        /// Its position.
        position: u64,
        /// The digest of the body it was journaled with.
        digest: BodyDigest,
        /// Its decision, once logged.
        decision: Option<String>,
    },
}

/// What one append round trip returned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoundTrip {
    /// The entries journaled since the replica last asked, in position
    /// order, before its own batch.
    pub entries: Vec<Caught>,
    /// Where each transaction of the batch stands, in order.
    pub placed: Vec<Placed>,
    /// Every entry before this position has its decision in the log.
    pub undecided_from: u64,
}

/// An undecided entry to sweep: its position and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undecided {
    /// Its position.
    pub position: u64,
    /// Its transaction's JSON, as received.
    pub tx: String,
}

/// One replica's connection to the journal, holding the replica's lock
/// while it lives. It reconnects by itself after PostgreSQL comes back.
pub struct ReplicaJournal {
    db: Database,
    name: String,
    client: Option<Client>,
    /// Replicas found dead whose lock this connection holds, sweeping.
    held: HashSet<String>,
}

impl std::fmt::Debug for ReplicaJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplicaJournal")
            .field("db", &self.db)
            .field("name", &self.name)
            .field("connected", &self.client.is_some())
            .finish_non_exhaustive()
    }
}

/// How long a start waits for the replica's own lock (held by a sweeper
/// for a moment, or by a replica of the same name still stopping).
const LOCK_PATIENCE: Duration = Duration::from_secs(30);

/// How long a reconnect waits for it: the sequencer waits meanwhile, so
/// briefly; the replica is marked failing (`REPLICA_LOCKED`) and tries
/// again with the next request.
const RELOCK_PATIENCE: Duration = Duration::from_secs(2);

fn position(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn digest_of(bytes: &[u8]) -> BodyDigest {
    let mut digest = [0u8; 32];
    if bytes.len() == digest.len() {
        digest.copy_from_slice(bytes);
    }
    digest
}

impl ReplicaJournal {
    /// Connects as replica `name` and takes its lock: a replica of the same
    /// name still running is an error, as two would claim one's entries.
    pub fn open(db: &Database, name: &str) -> Result<ReplicaJournal, AuditError> {
        let mut journal = ReplicaJournal {
            db: db.clone(),
            name: name.to_owned(),
            client: None,
            held: HashSet::new(),
        };
        journal.connect(LOCK_PATIENCE)?;
        Ok(journal)
    }

    /// This replica's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The database, for messages.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// The connection, made (and the replica's lock taken) if there is
    /// none.
    fn client(&mut self) -> Result<&mut Client, AuditError> {
        self.connect(RELOCK_PATIENCE)
    }

    fn connect(&mut self, patience: Duration) -> Result<&mut Client, AuditError> {
        if self.client.is_none() {
            let mut client = self.db.connect()?;
            let key = replica_lock(&self.name);
            let deadline = Instant::now() + patience;
            loop {
                let taken: bool = client
                    .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
                    .map_err(|e| self.db.error(e))?
                    .get(0);
                if taken {
                    break;
                }
                if Instant::now() >= deadline {
                    return Err(AuditError::ReplicaLocked {
                        database: self.db.label(),
                        name: self.name.clone(),
                    });
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            // A new session holds no other replica's lock.
            self.held.clear();
            self.client = Some(client);
        }
        match self.client.as_mut() {
            Some(client) => Ok(client),
            None => Err(AuditError::WriterStopped),
        }
    }

    /// Runs `work` on the connection; drops the connection when PostgreSQL
    /// cannot be reached, so the next call reconnects.
    fn with<T>(
        &mut self,
        work: impl FnOnce(&mut Client) -> Result<T, postgres::Error>,
    ) -> Result<T, AuditError> {
        let client = self.client()?;
        match work(client) {
            Ok(value) => Ok(value),
            Err(error) => {
                if super::unavailable(&error) {
                    self.client = None;
                }
                Err(self.db.error(error))
            }
        }
    }

    /// The append round trip: returns the entries after `after` (the last
    /// position this replica applied), then journals `batch` right after
    /// them (`bodies` are their JSON, kept until they are decided); an id
    /// journaled after `horizon` keeps its position.
    pub fn append(
        &mut self,
        after: u64,
        horizon: i64,
        batch: &[Record],
        bodies: &[String],
    ) -> Result<RoundTrip, AuditError> {
        let owner = self.name.clone();
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let ids: Vec<&str> = batch.iter().map(|r| r.id.as_str()).collect();
        let times: Vec<i64> = batch.iter().map(|r| r.time).collect();
        let amounts: Vec<i64> = batch.iter().map(|r| r.amount).collect();
        let digests: Vec<&[u8]> = batch.iter().map(|r| &r.digest[..]).collect();
        let footprints: Vec<&[u8]> = batch.iter().map(|r| &r.footprint[..]).collect();
        let bodies: Vec<&str> = bodies.iter().map(String::as_str).collect();
        let rows = self.with(|client| {
            client.query(
                "SELECT o_kind, o_item, o_position, o_tx_id, o_footprint, o_owner, o_decided,
                        o_digest, o_decision
                 FROM qorgan_append_v1($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                &[
                    &owner,
                    &after,
                    &horizon,
                    &ids,
                    &times,
                    &amounts,
                    &digests,
                    &footprints,
                    &bodies,
                ],
            )
        })?;
        let mut trip = RoundTrip {
            placed: vec![Placed::New(0); batch.len()],
            ..RoundTrip::default()
        };
        for row in rows {
            let kind: &str = row.get(0);
            let item = usize::try_from(row.get::<_, i32>(1)).unwrap_or(usize::MAX);
            let at = position(row.get(2));
            match kind {
                "entry" => trip.entries.push(Caught {
                    position: at,
                    id: row.get(3),
                    footprint: row.get(4),
                    owner: row.get(5),
                    decided: row.get(6),
                }),
                "new" => {
                    if let Some(slot) = trip.placed.get_mut(item) {
                        *slot = Placed::New(at);
                    }
                }
                "existing" => {
                    if let Some(slot) = trip.placed.get_mut(item) {
                        *slot = Placed::Existing {
                            position: at,
                            digest: digest_of(row.get::<_, &[u8]>(7)),
                            decision: row.get(8),
                        };
                    }
                }
                _ => trip.undecided_from = at,
            }
        }
        Ok(trip)
    }

    /// The journal's last position and newest time, if it holds anything.
    pub fn head(&mut self) -> Result<Option<(u64, i64)>, AuditError> {
        let row = self
            .with(|client| client.query_one("SELECT max(position), max(time) FROM journal", &[]))?;
        let last: Option<i64> = row.get(0);
        let time: Option<i64> = row.get(1);
        Ok(last.zip(time).map(|(l, t)| (position(l), t)))
    }

    /// Up to `limit` entries after `after` dated after `horizon`, in
    /// position order: a start's catch-up.
    pub fn since(
        &mut self,
        after: u64,
        horizon: i64,
        limit: i64,
    ) -> Result<Vec<Caught>, AuditError> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let rows = self.with(|client| {
            client.query(
                "SELECT position, tx_id, footprint, owner, seq IS NOT NULL FROM journal
                 WHERE position > $1 AND time > $2 ORDER BY position LIMIT $3",
                &[&after, &horizon, &limit],
            )
        })?;
        Ok(rows
            .into_iter()
            .map(|row| Caught {
                position: position(row.get(0)),
                id: row.get(1),
                footprint: row.get(2),
                owner: row.get(3),
                decided: row.get(4),
            })
            .collect())
    }

    /// The other replicas with undecided entries at or before `through`.
    pub fn owners_of_undecided(&mut self, through: u64) -> Result<Vec<String>, AuditError> {
        let through = i64::try_from(through).unwrap_or(i64::MAX);
        let me = self.name.clone();
        let rows = self.with(|client| {
            client.query(
                "SELECT DISTINCT owner FROM journal
                 WHERE seq IS NULL AND position <= $1 AND owner <> $2",
                &[&through, &me],
            )
        })?;
        Ok(rows.into_iter().map(|row| row.get(0)).collect())
    }

    /// Takes the lock of replica `owner` if nobody holds it: then that
    /// replica is not running, and this one may decide its entries. The
    /// lock is kept until [`ReplicaJournal::release`].
    pub fn try_take(&mut self, owner: &str) -> Result<bool, AuditError> {
        if self.held.contains(owner) {
            return Ok(true);
        }
        let key = replica_lock(owner);
        let taken: bool = self
            .with(|client| client.query_one("SELECT pg_try_advisory_lock($1)", &[&key]))?
            .get(0);
        if taken {
            self.held.insert(owner.to_owned());
        }
        Ok(taken)
    }

    /// The dead replicas whose lock this one holds.
    pub fn held(&self) -> Vec<String> {
        self.held.iter().cloned().collect()
    }

    /// Gives back the lock of replica `owner`.
    pub fn release(&mut self, owner: &str) -> Result<(), AuditError> {
        if self.held.remove(owner) {
            let key = replica_lock(owner);
            self.with(|client| client.execute("SELECT pg_advisory_unlock($1)", &[&key]))?;
        }
        Ok(())
    }

    /// The undecided entries of `owner` at or before `through`, with their
    /// bodies, in position order.
    pub fn undecided_of(
        &mut self,
        owner: &str,
        through: u64,
    ) -> Result<Vec<Undecided>, AuditError> {
        let through = i64::try_from(through).unwrap_or(i64::MAX);
        let rows = self.with(|client| {
            client.query(
                "SELECT position, coalesce(tx, '') FROM journal
                 WHERE seq IS NULL AND owner = $1 AND position <= $2 ORDER BY position",
                &[&owner, &through],
            )
        })?;
        Ok(rows
            .into_iter()
            .map(|row| Undecided {
                position: position(row.get(0)),
                tx: row.get(1),
            })
            .collect())
    }
}
