//! What history costs: resident memory per retained transaction, and the
//! time a restart takes to re-apply a journal of them.
//!
//! # Method
//!
//! The seeded generator's stream (`qorgan gen`) is recorded into an empty
//! history whose retention keeps every transaction, one transaction at a
//! time as it is generated and parsed, so that nothing but history grows;
//! the process's resident set (`/proc/self/statm`) is read before and
//! after, and the difference divided by the transactions retained. Then the
//! same stream is generated again and written as the service writes it:
//! each transaction as a decision row and its journal row, committed in
//! groups, into a decision log in `dir`. A fresh history then restores from
//! that journal as `qorgan serve` does at start ([`qorgan::journal::restore`]),
//! and the time is taken. Nothing here is asserted; the numbers are printed.

use std::path::Path;
use std::time::Duration;

use super::BenchError;
use crate::generator::{Generator, GeneratorConfig};
use qorgan::history::{Footprint, History, HistoryLimits};
use qorgan::journal::{body_digest, restore};
use qorgan::transaction::Transaction;
use qorgan_server::audit::{Entry, Job, LogWriter, PackStamp};
use qorgan_server::journal::{JournalRow, SqliteJournal};

/// How many transactions one commit of the bench's journal holds.
const GROUP: usize = 4096;

/// What history and a restart cost on one stream.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HistoryCost {
    /// Transactions recorded and retained.
    pub transactions: u64,
    /// Accounts, devices and holders history keeps for them.
    pub keys: usize,
    /// Growth of the resident set while recording, in bytes.
    pub resident_bytes: u64,
    /// `resident_bytes` per retained transaction.
    pub bytes_per_transaction: f64,
    /// Journal entries a restart re-applied.
    pub restored: u64,
    /// How long the restart's restore took.
    pub restore: Duration,
    /// The size of the journal's database, in bytes.
    pub journal_bytes: u64,
}

impl std::fmt::Display for HistoryCost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "history: {} retained transactions, {} keys: {:.0} B per retained transaction ({:.1} MiB resident)",
            self.transactions,
            self.keys,
            self.bytes_per_transaction,
            self.resident_bytes as f64 / (1024.0 * 1024.0)
        )?;
        let secs = self.restore.as_secs_f64();
        let rate = if secs > 0.0 {
            self.restored as f64 / secs
        } else {
            0.0
        };
        writeln!(
            f,
            "restart: {} journal entries restored in {:.2} s ({:.0} entries/s); journal database {:.1} MiB",
            self.restored,
            secs,
            rate,
            self.journal_bytes as f64 / (1024.0 * 1024.0)
        )
    }
}

/// The resident set of this process, in bytes (0 where not on Linux).
fn resident() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

fn generate(seed: u64, count: u64) -> Result<Generator, BenchError> {
    Generator::new(GeneratorConfig::new(seed, count))
        .map_err(|e| BenchError::Generate(e.to_string()))
}

fn parse(line: &str, index: usize) -> Result<Transaction, BenchError> {
    Transaction::from_json(line).map_err(|e| BenchError::BadLine {
        path: "generated stream".to_owned(),
        line: index + 1,
        message: e.to_string(),
    })
}

fn tiyn(tx: &Transaction) -> i64 {
    tx.amount.to_tiyn((1, 0)).unwrap_or(0)
}

/// Measures history's memory and a restart's time on `count` generated
/// transactions (seed `seed`), writing the journal under `dir`.
pub fn measure(seed: u64, count: u64, dir: &Path) -> Result<HistoryCost, BenchError> {
    let limits = HistoryLimits {
        retention_secs: i64::MAX / 4,
        ..HistoryLimits::default()
    };
    // The stream is generated and parsed first, so that the resident set
    // grows by history alone while it records.
    let txs = generate(seed, count)?
        .enumerate()
        .map(|(index, line)| parse(&line, index))
        .collect::<Result<Vec<_>, _>>()?;
    let history = History::new(limits);
    let before = resident();
    for tx in &txs {
        history.record([(tx, tiyn(tx))]);
    }
    let resident_bytes = resident().saturating_sub(before);
    drop(txs);
    let keys = history.accounts();
    drop(history);

    let path = dir.join("bench-journal.sqlite");
    let _ = std::fs::remove_file(&path);
    let writer = LogWriter::builder(&path)
        .max_group(GROUP)
        .spawn()
        .map_err(|e| BenchError::Load(e.to_string()))?;
    let stamp = PackStamp {
        name: "bench".into(),
        version: "0".into(),
        serial: 1,
        digest: String::new(),
        plugins: "[]".into(),
    };
    let mut entries = Vec::with_capacity(GROUP);
    let mut rows = Vec::with_capacity(GROUP);
    let submit = |entries: &mut Vec<Entry>, rows: &mut Vec<JournalRow>| {
        let job = Job {
            packs: Vec::new(),
            entries: std::mem::take(entries),
            journal: std::mem::take(rows),
            done: Box::new(|_| {}),
        };
        writer.submit(job).is_ok()
    };
    for (index, line) in generate(seed, count)?.enumerate() {
        let tx = parse(&line, index)?;
        let position = u64::try_from(index).unwrap_or(u64::MAX).saturating_add(1);
        rows.push(JournalRow {
            entry: entries.len(),
            position,
            id: tx.id.clone(),
            time: tx.timestamp,
            amount: tiyn(&tx),
            digest: body_digest(&line),
            footprint: Footprint::of(&tx, tiyn(&tx)).encode(),
        });
        entries.push(Entry {
            decision_id: format!("bench-{position}"),
            tx_id: tx.id,
            run: "bench".into(),
            decided_at: String::new(),
            action: "allow".into(),
            pack: stamp.clone(),
            tx: line,
            decision: "{}".into(),
        });
        if entries.len() >= GROUP && !submit(&mut entries, &mut rows) {
            return Err(BenchError::Load(
                "the bench's journal writer stopped".into(),
            ));
        }
    }
    if !entries.is_empty() && !submit(&mut entries, &mut rows) {
        return Err(BenchError::Load(
            "the bench's journal writer stopped".into(),
        ));
    }
    writer.close();
    let journal_bytes = std::fs::metadata(&path).map_or(0, |m| m.len());

    let history = History::new(limits);
    let mut journal = SqliteJournal::open(&path).map_err(|e| BenchError::Load(e.to_string()))?;
    let restored = restore(&mut journal, &history).map_err(|e| BenchError::Load(e.to_string()))?;
    drop(journal);
    let _ = std::fs::remove_file(&path);
    let transactions = count;
    Ok(HistoryCost {
        transactions,
        keys,
        resident_bytes,
        bytes_per_transaction: resident_bytes as f64 / transactions.max(1) as f64,
        restored: restored.entries,
        restore: restored.elapsed,
        journal_bytes,
    })
}
