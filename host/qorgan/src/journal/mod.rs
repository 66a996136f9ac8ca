//! The journal: every transaction history remembers, in one durable,
//! totally ordered sequence.
//!
//! # Why
//!
//! History rules (mule scores, daily cash caps, structuring) decide from
//! what the host remembers about accounts. Kept only in memory, that
//! memory fails open: a restart empties it, a client's retry is counted
//! twice, a transaction dated far ahead moves retention past everything.
//! So history is a *projection* of the journal:
//!
//! - each transaction that is decided gets the next **position**; history
//!   applies transactions in position order, and a restart re-applies the
//!   journal's entries inside the retention period ([`restore`]);
//! - a transaction whose id is already journaled (within retention) gets
//!   its existing position back and is not appended again
//!   ([`Appended::Existing`]): a retry is answered, not recounted;
//! - no transaction is journaled more than a bounded skew ahead of the
//!   reference time (the host's clock in `serve`, the stream's watermark in
//!   `eval`), so no single timestamp can move retention ([`admit`]).
//!
//! Two journals implement [`Journal`]: [`MemoryJournal`] for `eval` and
//! `backtest`, which need no durability, and `qorgan_server::journal`'s
//! `SqliteJournal`, kept inside the service's decision log so that a decision and its journal entry are
//! committed by the same SQLite transaction: the journal never holds a
//! transaction whose decision the log lacks, nor the reverse, and `audit
//! replay` sees exactly the history the service had.

mod memory;

use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::history::{Footprint, History};
use crate::transaction::Transaction;

pub use memory::MemoryJournal;

/// How far ahead of the host's clock a transaction may be dated by
/// default in `serve`, in seconds (10 minutes).
pub const DEFAULT_MAX_SKEW_SECS: i64 = 600;

/// How far ahead of the stream's watermark a transaction may be dated by
/// default in `eval` and `backtest`, in seconds (one day): a recorded
/// stream has quiet hours (nights) that a host's clock does not, while a
/// line dated a retention period ahead would still erase all history.
pub const DEFAULT_STREAM_SKEW_SECS: i64 = 24 * 3600;

/// The sha256 of a transaction's JSON in a canonical form (parsed and
/// written again), so that a retry with other spacing is the same body.
pub type BodyDigest = [u8; 32];

/// A transaction to journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The transaction's id.
    pub id: String,
    /// Its own time, seconds since the epoch.
    pub time: i64,
    /// Its amount in tiyn, as history recorded it.
    pub amount: i64,
    /// The digest of its body ([`body_digest`]).
    pub digest: BodyDigest,
    /// The decision given for it (its JSON), when the journal keeps it.
    pub decision: Option<String>,
    /// What history keeps of it, encoded ([`Footprint::encode`]), so a
    /// restore reads no body; empty where the journal keeps none.
    pub footprint: Vec<u8>,
}

/// Where a transaction handed to [`Journal::append`] stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Appended {
    /// Appended at this position.
    New(u64),
    /// Already journaled: not appended again.
    Existing(Known),
}

/// What the journal knows of a transaction id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    /// Its position.
    pub position: u64,
    /// Its time, seconds since the epoch.
    pub time: i64,
    /// The digest of the body it was journaled with.
    pub digest: BodyDigest,
    /// The decision given for it, when the journal keeps it.
    pub decision: Option<String>,
}

/// A journaled transaction, as read back in position order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its position.
    pub position: u64,
    /// Its id.
    pub id: String,
    /// Its time, seconds since the epoch.
    pub time: i64,
    /// Its amount in tiyn.
    pub amount: i64,
    /// What history keeps of it ([`Footprint::encode`]); empty for an
    /// entry journaled without one, which a restore reads from `tx`.
    pub footprint: Vec<u8>,
    /// Its JSON as received; empty where the journal keeps no bodies, and
    /// where it need not be read because `footprint` is there.
    pub tx: String,
}

/// Why the journal could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// The journal's storage (for the service, SQLite) failed on its file.
    #[error("the journal in {path}: {source}")]
    Storage {
        /// The database file.
        path: std::path::PathBuf,
        /// What the storage said.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A journaled transaction can no longer be read as one.
    #[error("journal entry {position} ({id}) is not a transaction this host reads: {problem}")]
    Unreadable {
        /// Its position.
        position: u64,
        /// Its id.
        id: String,
        /// What is wrong with it.
        problem: String,
    },
}

/// A durable, totally ordered sequence of transactions.
pub trait Journal {
    /// What the journal knows of `id`, if it was journaled at a time after
    /// `horizon` (the start of the retention period).
    fn lookup(&mut self, id: &str, horizon: i64) -> Result<Option<Known>, JournalError>;

    /// Appends a batch in order: each new transaction gets the next
    /// position; one whose id is known after `horizon` gets its existing
    /// position back and is not appended again (the later of two equal
    /// ids in one batch gets the earlier's position). See each journal for
    /// when the new entries are durable.
    fn append(&mut self, batch: &[Record], horizon: i64) -> Result<Vec<Appended>, JournalError>;

    /// Up to `limit` entries after position `after`, dated after `horizon`,
    /// in position order.
    fn since(&mut self, after: u64, horizon: i64, limit: usize)
    -> Result<Vec<Entry>, JournalError>;

    /// The newest time journaled, if any.
    fn watermark(&self) -> Option<i64>;
}

/// The digest of a transaction's JSON text: its canonical form if it
/// parses, its bytes otherwise.
pub fn body_digest(json: &str) -> BodyDigest {
    let canonical = serde_json::from_str::<serde_json::Value>(json)
        .map(|v| v.to_string())
        .unwrap_or_else(|_| json.to_owned());
    Sha256::digest(canonical.as_bytes()).into()
}

/// What a timestamp is measured against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reference {
    /// The host's clock (`serve`).
    HostClock,
    /// The newest time of the stream so far (`eval`, `backtest`).
    StreamWatermark,
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Reference::HostClock => "the host's clock",
            Reference::StreamWatermark => "the stream's watermark",
        })
    }
}

/// A transaction refused for its time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimeError {
    /// Dated further ahead of the reference than the allowed skew.
    #[error(
        "timestamp {timestamp} is {ahead_secs}s ahead of {reference} ({now}), more than the allowed clock skew of {skew_secs}s (max_clock_skew_secs); refused so that one transaction cannot move history's retention"
    )]
    TooFarAhead {
        /// The transaction's timestamp, RFC 3339.
        timestamp: String,
        /// The reference time, RFC 3339.
        now: String,
        /// What the reference is.
        reference: Reference,
        /// How far ahead it is, in seconds.
        ahead_secs: i64,
        /// The allowed skew, in seconds.
        skew_secs: i64,
    },
}

fn rfc3339(secs: i64) -> String {
    OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| format!("{secs}s since the epoch"))
}

/// Admits a transaction dated `timestamp` against `now` (the reference's
/// time): refused when it is more than `skew_secs` ahead.
pub fn admit(
    timestamp: i64,
    now: i64,
    skew_secs: i64,
    reference: Reference,
) -> Result<(), TimeError> {
    let ahead = timestamp.saturating_sub(now);
    if ahead > skew_secs.max(0) {
        return Err(TimeError::TooFarAhead {
            timestamp: rfc3339(timestamp),
            now: rfc3339(now),
            reference,
            ahead_secs: ahead,
            skew_secs: skew_secs.max(0),
        });
    }
    Ok(())
}

/// The gate of a recorded stream (`eval`, `backtest`): each line's
/// transaction is admitted only if it is not dated more than the skew
/// ahead of the stream's watermark (the newest time admitted so far) and
/// its id was not decided earlier within retention. Decided transactions
/// are journaled in memory, in order.
#[derive(Debug)]
pub struct StreamGate {
    journal: MemoryJournal,
    watermark: Option<i64>,
    retention_secs: i64,
    skew_secs: i64,
    /// Ids admitted since the last [`StreamGate::decided`].
    pending: std::collections::HashSet<String>,
}

impl StreamGate {
    /// A gate continuing `history` (its watermark and retention), with
    /// the allowed skew in seconds.
    pub fn new(history: &History, skew_secs: i64) -> StreamGate {
        StreamGate {
            journal: MemoryJournal::new(),
            watermark: history.watermark(),
            retention_secs: history.limits().retention_secs,
            skew_secs,
            pending: std::collections::HashSet::new(),
        }
    }

    fn horizon(&self) -> i64 {
        self.watermark
            .map_or(i64::MIN, |w| w.saturating_sub(self.retention_secs))
    }

    /// Admits `tx`, or says why it is refused (naming `timestamp` for its
    /// time, or the repeated id).
    pub fn admit(&mut self, tx: &Transaction) -> Result<(), String> {
        if let Some(watermark) = self.watermark {
            admit(
                tx.timestamp,
                watermark,
                self.skew_secs,
                Reference::StreamWatermark,
            )
            .map_err(|e| e.to_string())?;
        }
        let horizon = self.horizon();
        let known = self.pending.contains(&tx.id)
            || self
                .journal
                .lookup(&tx.id, horizon)
                .map_err(|e| e.to_string())?
                .is_some();
        if known {
            return Err(format!(
                "transaction id {} was already decided earlier in the stream; a repeat is not counted again",
                tx.id
            ));
        }
        self.watermark = Some(self.watermark.map_or(tx.timestamp, |w| w.max(tx.timestamp)));
        self.pending.insert(tx.id.clone());
        Ok(())
    }

    /// Journals the admitted transactions that were decided (`decided`
    /// tells which, in order); the others may come again.
    pub fn decided<'a>(&mut self, txs: impl IntoIterator<Item = (&'a Transaction, bool)>) {
        let horizon = self.horizon();
        let records: Vec<Record> = txs
            .into_iter()
            .filter(|(_, decided)| *decided)
            .map(|(tx, _)| Record {
                id: tx.id.clone(),
                time: tx.timestamp,
                amount: 0,
                digest: [0; 32],
                decision: None,
                footprint: Vec::new(),
            })
            .collect();
        // The memory journal cannot fail.
        let _ = self.journal.append(&records, horizon);
        self.journal.forget_before(horizon);
        self.pending.clear();
    }
}

/// What a restore re-applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Restored {
    /// Entries re-applied to history.
    pub entries: u64,
    /// The last position re-applied (0 when none).
    pub last_position: u64,
    /// How long it took.
    pub elapsed: std::time::Duration,
}

/// How many entries a restore reads and records at once.
const RESTORE_CHUNK: usize = 4096;

/// The transactions of the `entries` that carry no footprint, in order,
/// parsed on every core: parsing is most of a restore of such entries,
/// while recording must stay in order.
fn parse_bodies(entries: &[&Entry]) -> Result<Vec<Transaction>, JournalError> {
    let parse = |entry: &&Entry| {
        Transaction::from_json(&entry.tx).map_err(|e| JournalError::Unreadable {
            position: entry.position,
            id: entry.id.clone(),
            problem: e.to_string(),
        })
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let share = entries.len().div_ceil(threads).max(256);
    std::thread::scope(|scope| {
        let parsers: Vec<_> = entries
            .chunks(share)
            .map(|part| scope.spawn(move || part.iter().map(parse).collect::<Result<Vec<_>, _>>()))
            .collect();
        let mut txs = Vec::with_capacity(entries.len());
        for parser in parsers {
            match parser.join() {
                Ok(part) => txs.extend(part?),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        Ok(txs)
    })
}

/// The footprints of `entries`, in order: decoded where the journal kept
/// one, taken from the parsed body (`bodies`, in order) where it did not.
fn footprints<'a>(
    entries: &'a [Entry],
    bodies: &'a [Transaction],
) -> Result<Vec<Footprint<'a>>, JournalError> {
    let mut bodies = bodies.iter();
    entries
        .iter()
        .map(|entry| {
            if entry.footprint.is_empty() {
                let tx = bodies.next().ok_or_else(|| JournalError::Unreadable {
                    position: entry.position,
                    id: entry.id.clone(),
                    problem: "its body was not read".into(),
                })?;
                Ok(Footprint::of(tx, entry.amount))
            } else {
                Footprint::decode(&entry.footprint).map_err(|e| JournalError::Unreadable {
                    position: entry.position,
                    id: entry.id.clone(),
                    problem: e.to_string(),
                })
            }
        })
        .collect()
}

/// Re-applies the journal's entries inside `history`'s retention (measured
/// from the journal's watermark) to `history`, in position order.
///
/// The journal is read on a thread of its own, a chunk ahead of recording,
/// so a restore takes about the longer of the two, not their sum.
///
/// An entry that can no longer be read as a transaction is an error: a
/// restore never silently forgets what rules remember.
pub fn restore(
    journal: &mut (dyn Journal + Send),
    history: &History,
) -> Result<Restored, JournalError> {
    let started = std::time::Instant::now();
    let mut restored = Restored {
        entries: 0,
        last_position: 0,
        elapsed: std::time::Duration::ZERO,
    };
    let Some(watermark) = journal.watermark() else {
        restored.elapsed = started.elapsed();
        return Ok(restored);
    };
    let horizon = watermark.saturating_sub(history.limits().retention_secs);
    std::thread::scope(|scope| {
        let (chunks, read) = std::sync::mpsc::sync_channel(2);
        scope.spawn(move || {
            let mut after = 0;
            loop {
                let chunk = journal.since(after, horizon, RESTORE_CHUNK);
                let more = match &chunk {
                    Ok(entries) => entries.last().map(|last| after = last.position),
                    Err(_) => None,
                };
                let end = more.is_none() && chunk.as_ref().is_ok_and(Vec::is_empty);
                // The recorder stopped on an error of its own, or this
                // was the last chunk, or an error to hand over.
                if end || chunks.send(chunk).is_err() || more.is_none() {
                    break;
                }
            }
        });
        for chunk in read {
            let chunk = chunk?;
            let Some(last) = chunk.last() else {
                break;
            };
            let last = last.position;
            let bare: Vec<&Entry> = chunk.iter().filter(|e| e.footprint.is_empty()).collect();
            let bodies = parse_bodies(&bare)?;
            history.record_footprints(footprints(&chunk, &bodies)?);
            restored.entries += chunk.len() as u64;
            restored.last_position = last;
        }
        Ok::<_, JournalError>(())
    })?;
    restored.elapsed = started.elapsed();
    Ok(restored)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timestamp_within_the_skew_is_admitted_and_one_beyond_is_refused_naming_timestamp() {
        assert!(admit(1_000 + 600, 1_000, 600, Reference::HostClock).is_ok());
        assert!(admit(0, 1_000, 600, Reference::HostClock).is_ok(), "late");
        match admit(1_000 + 601, 1_000, 600, Reference::StreamWatermark) {
            Err(e) => {
                let text = e.to_string();
                assert!(text.starts_with("timestamp "), "{text}");
                assert!(text.contains("600s"), "{text}");
                assert!(text.contains("watermark"), "{text}");
            }
            Ok(()) => panic!("admitted a transaction 601s ahead"),
        }
        let year_9999 = 253_370_764_800;
        assert!(admit(year_9999, 1_000, 600, Reference::HostClock).is_err());
    }

    fn tx(id: &str, time: &str) -> Transaction {
        let text = format!(
            r#"{{"id":"{id}","timestamp":"{time}","kind":"transfer","amount":"1.00",
                "currency":"KZT","sender":{{"account":"A"}},"recipient":{{"account":"B"}}}}"#
        );
        match Transaction::from_json(&text) {
            Ok(tx) => tx,
            Err(e) => panic!("bad fixture: {e}"),
        }
    }

    #[test]
    fn a_stream_gate_refuses_lines_far_ahead_and_repeated_ids_but_not_late_ones() {
        let history = History::default();
        let mut gate = StreamGate::new(&history, 3600);
        let first = tx("1", "2025-03-01T10:00:00Z");
        assert_eq!(gate.admit(&first), Ok(()));
        let far = gate.admit(&tx("2", "2025-03-01T11:00:01Z"));
        assert!(
            far.as_ref().is_err_and(|e| e.starts_with("timestamp ")),
            "{far:?}"
        );
        assert_eq!(gate.admit(&tx("3", "2025-03-01T11:00:00Z")), Ok(()));
        assert_eq!(gate.admit(&tx("4", "2025-02-01T00:00:00Z")), Ok(()), "late");
        let again = gate.admit(&tx("1", "2025-03-01T10:00:00Z"));
        assert!(
            again.is_err_and(|e| e.contains("already decided")),
            "same batch"
        );
        let three = tx("3", "2025-03-01T11:00:00Z");
        gate.decided([(&first, true), (&three, false)]);
        assert!(gate.admit(&first).is_err(), "decided in an earlier batch");
        assert_eq!(gate.admit(&three), Ok(()), "not decided: may come again");
    }

    #[test]
    fn a_restore_re_applies_the_entries_inside_retention_in_position_order() {
        let mut journal = MemoryJournal::new();
        let history = History::default();
        let _ = journal.append(
            &[
                Record {
                    id: "old".into(),
                    time: 0,
                    amount: 1,
                    digest: [0; 32],
                    decision: None,
                    footprint: Vec::new(),
                },
                Record {
                    id: "new".into(),
                    time: 40 * 24 * 3600,
                    amount: 1,
                    digest: [0; 32],
                    decision: None,
                    footprint: Vec::new(),
                },
            ],
            i64::MIN,
        );
        // The memory journal keeps no bodies, so its entries cannot be read
        // back as transactions: a restore says so rather than forgetting.
        match restore(&mut journal, &history) {
            Err(JournalError::Unreadable { position, id, .. }) => {
                assert_eq!(
                    (position, id.as_str()),
                    (2, "new"),
                    "the old one is outside retention"
                );
            }
            other => panic!("a restore of unreadable entries did not fail: {other:?}"),
        }
    }

    #[test]
    fn a_restore_reads_footprints_where_the_journal_kept_them() -> Result<(), JournalError> {
        let mut journal = MemoryJournal::new();
        let day = 24 * 3600;
        let records: Vec<Record> = (0..3)
            .map(|i| {
                let tx = tx(&format!("t{i}"), "2025-03-01T10:00:00Z");
                Record {
                    id: tx.id.clone(),
                    time: tx.timestamp + i * day,
                    amount: 100,
                    digest: [0; 32],
                    decision: None,
                    footprint: Footprint {
                        time: tx.timestamp + i * day,
                        ..Footprint::of(&tx, 100)
                    }
                    .encode(),
                }
            })
            .collect();
        let _ = journal.append(&records, i64::MIN)?;
        let history = History::default();
        let restored = restore(&mut journal, &history)?;
        assert_eq!((restored.entries, restored.last_position), (3, 3));
        let stamps = history.record([(&tx("probe", "2025-03-04T10:00:00Z"), 1)]);
        let [probe] = stamps[..] else {
            panic!("one transaction recorded, {} stamps", stamps.len());
        };
        let totals = history.aggregate(
            probe.at,
            &crate::history::Query {
                account: probe.sender,
                window: 10 * 86_400,
                direction: crate::history::Direction::Outbound,
                kinds: 0,
                min_amount: i64::MIN,
                max_amount: i64::MAX,
            },
        );
        assert_eq!((totals.count, totals.sum), (3, 300));
        Ok(())
    }

    #[test]
    fn bodies_that_differ_only_in_spacing_have_one_digest() {
        let a = body_digest(r#"{"id":"t1","amount":"1.00"}"#);
        let b = body_digest("{ \"id\": \"t1\",\n \"amount\": \"1.00\" }");
        let c = body_digest(r#"{"id":"t1","amount":"2.00"}"#);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
