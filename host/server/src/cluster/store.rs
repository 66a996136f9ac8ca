//! The cluster's decision log: the log writer's groups committed to
//! PostgreSQL, one hash chain across replicas.

use std::collections::HashSet;

use postgres::Client;

use super::Database;
use crate::audit::log::{Job, Store};
use crate::audit::{AuditError, row_hash};

/// Commits a replica's groups of decisions, with the journal entries they
/// decide, to the cluster's database.
pub(crate) struct PgStore {
    db: Database,
    client: Option<Client>,
    /// Packs whose archive the database already holds.
    archived: HashSet<String>,
}

/// Why a group was not committed.
enum Failure {
    Postgres(postgres::Error),
    /// Of this many entries to decide, only so many were undecided
    /// journal entries.
    Unjournaled(usize, u64),
}

impl From<postgres::Error> for Failure {
    fn from(error: postgres::Error) -> Self {
        Failure::Postgres(error)
    }
}

impl PgStore {
    /// A store on `db`; it connects when first used, and again after
    /// PostgreSQL was unreachable.
    pub(crate) fn new(db: &Database) -> PgStore {
        PgStore {
            db: db.clone(),
            client: None,
            archived: HashSet::new(),
        }
    }

    fn client(&mut self) -> Result<&mut Client, AuditError> {
        if self.client.is_none() {
            self.client = Some(self.db.connect()?);
        }
        self.client.as_mut().ok_or(AuditError::WriterStopped)
    }

    fn failed(&mut self, failure: Failure) -> AuditError {
        match failure {
            Failure::Postgres(error) => {
                if super::unavailable(&error) {
                    self.client = None;
                }
                self.db.error(error)
            }
            Failure::Unjournaled(expected, found) => AuditError::Format {
                path: self.db.label().into(),
                problem: format!(
                    "a group decides {expected} journal entries, of which only {found} are journaled and undecided; nothing of it is logged"
                ),
            },
        }
    }
}

fn position_of(row: &crate::journal::JournalRow) -> i64 {
    i64::try_from(row.position).unwrap_or(i64::MAX)
}

/// Writes the group: each job whose entries are all still undecided gets
/// its rows; a job with an entry another replica decided meanwhile is left
/// out (`None`), so that every entry keeps exactly one decision.
fn write(
    client: &mut Client,
    group: &[Job],
    archived: &HashSet<String>,
) -> Result<Vec<Option<i64>>, Failure> {
    let mut tx = client.transaction()?;
    // The entries' rows are locked first: a concurrent commit deciding
    // one of them waits, then finds it decided.
    let all: Vec<i64> = group
        .iter()
        .flat_map(|job| job.journal.iter().map(position_of))
        .collect();
    let decided: HashSet<i64> = tx
        .query(
            "SELECT position, seq IS NOT NULL FROM journal WHERE position = ANY($1)
             ORDER BY position FOR UPDATE",
            &[&all],
        )?
        .into_iter()
        .filter(|row| row.get::<_, bool>(1))
        .map(|row| row.get(0))
        .collect();
    let head = tx.query_one("SELECT seq, hash FROM chain_head WHERE one FOR UPDATE", &[])?;
    let mut seq: i64 = head.get(0);
    let mut hash: String = head.get(1);
    let mut firsts = Vec::with_capacity(group.len());
    let mut columns = Columns::default();
    let (mut positions, mut seqs) = (Vec::new(), Vec::new());
    // Positions decided by a job of this group already.
    let mut claimed: HashSet<i64> = HashSet::new();
    for job in group {
        let taken = job.journal.iter().any(|row| {
            let position = position_of(row);
            decided.contains(&position) || claimed.contains(&position)
        });
        if taken {
            firsts.push(None);
            continue;
        }
        claimed.extend(job.journal.iter().map(position_of));
        for pack in job.packs.iter().filter(|p| !archived.contains(&p.digest)) {
            let serial = i64::try_from(pack.serial).unwrap_or(i64::MAX);
            let archive = pack.archive.as_ref().map(|a| a.as_slice());
            tx.execute(
                "INSERT INTO packs (digest, name, version, serial, archive)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (digest) DO UPDATE
                 SET archive = coalesce(packs.archive, excluded.archive)",
                &[&pack.digest, &pack.name, &pack.version, &serial, &archive],
            )?;
        }
        firsts.push(Some(seq + 1));
        let first = seq;
        for entry in &job.entries {
            seq += 1;
            let next = row_hash(&hash, seq, entry);
            columns.push(seq, entry, hash, next.clone());
            hash = next;
        }
        for row in &job.journal {
            let Ok(index) = i64::try_from(row.entry) else {
                continue;
            };
            positions.push(position_of(row));
            seqs.push(first + 1 + index);
        }
    }
    columns.insert(&mut tx)?;
    let set = tx.execute(
        "UPDATE journal j SET seq = u.seq, tx = NULL
         FROM unnest($1::bigint[], $2::bigint[]) AS u(position, seq)
         WHERE j.position = u.position AND j.seq IS NULL",
        &[&positions, &seqs],
    )?;
    if usize::try_from(set).ok() != Some(positions.len()) {
        // Dropping the transaction rolls it back: nothing of the group is
        // kept, nothing acknowledged.
        return Err(Failure::Unjournaled(positions.len(), set));
    }
    tx.execute(
        "UPDATE chain_head SET seq = $1, hash = $2 WHERE one",
        &[&seq, &hash],
    )?;
    tx.commit()?;
    Ok(firsts)
}

/// A group's decision rows, column by column, inserted in one statement.
#[derive(Default)]
struct Columns {
    seq: Vec<i64>,
    decision_id: Vec<String>,
    tx_id: Vec<String>,
    run: Vec<String>,
    decided_at: Vec<String>,
    action: Vec<String>,
    pack_name: Vec<String>,
    pack_version: Vec<String>,
    pack_serial: Vec<i64>,
    pack_digest: Vec<String>,
    plugins: Vec<String>,
    tx: Vec<String>,
    decision: Vec<String>,
    prev_hash: Vec<String>,
    hash: Vec<String>,
}

impl Columns {
    fn push(&mut self, seq: i64, entry: &crate::audit::Entry, prev_hash: String, hash: String) {
        self.seq.push(seq);
        self.decision_id.push(entry.decision_id.clone());
        self.tx_id.push(entry.tx_id.clone());
        self.run.push(entry.run.clone());
        self.decided_at.push(entry.decided_at.clone());
        self.action.push(entry.action.clone());
        self.pack_name.push(entry.pack.name.clone());
        self.pack_version.push(entry.pack.version.clone());
        self.pack_serial
            .push(i64::try_from(entry.pack.serial).unwrap_or(i64::MAX));
        self.pack_digest.push(entry.pack.digest.clone());
        self.plugins.push(entry.pack.plugins.clone());
        self.tx.push(entry.tx.clone());
        self.decision.push(entry.decision.clone());
        self.prev_hash.push(prev_hash);
        self.hash.push(hash);
    }

    fn insert(&self, tx: &mut postgres::Transaction<'_>) -> Result<(), postgres::Error> {
        if self.seq.is_empty() {
            return Ok(());
        }
        tx.execute(
            "INSERT INTO decisions (seq, decision_id, tx_id, run, decided_at, action,
                pack_name, pack_version, pack_serial, pack_digest, plugins, tx, decision,
                prev_hash, hash)
             SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[],
                $6::text[], $7::text[], $8::text[], $9::bigint[], $10::text[], $11::text[],
                $12::text[], $13::text[], $14::text[], $15::text[])",
            &[
                &self.seq,
                &self.decision_id,
                &self.tx_id,
                &self.run,
                &self.decided_at,
                &self.action,
                &self.pack_name,
                &self.pack_version,
                &self.pack_serial,
                &self.pack_digest,
                &self.plugins,
                &self.tx,
                &self.decision,
                &self.prev_hash,
                &self.hash,
            ],
        )?;
        Ok(())
    }
}

impl Store for PgStore {
    fn commit(&mut self, group: &[Job]) -> Result<Vec<Option<i64>>, AuditError> {
        let archived = std::mem::take(&mut self.archived);
        let written = match self.client() {
            Ok(client) => write(client, group, &archived),
            Err(error) => {
                self.archived = archived;
                return Err(error);
            }
        };
        self.archived = archived;
        match written {
            Ok(firsts) => {
                for (job, _) in group.iter().zip(&firsts).filter(|(_, f)| f.is_some()) {
                    for pack in job.packs.iter().filter(|p| p.archive.is_some()) {
                        self.archived.insert(pack.digest.clone());
                    }
                }
                Ok(firsts)
            }
            Err(failure) => Err(self.failed(failure)),
        }
    }

    fn probe(&mut self) -> Result<(), AuditError> {
        let client = self.client()?;
        let result = client.execute(
            "UPDATE qorgan_meta SET value = value WHERE key = 'format'",
            &[],
        );
        match result {
            Ok(_) => Ok(()),
            Err(error) => Err(self.failed(Failure::Postgres(error))),
        }
    }
}
