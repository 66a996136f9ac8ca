//! `qorgan audit`: the decision log checked (`verify`) and decided again
//! (`replay`).
//!
//! `verify` exits 0 when the chain holds, printing the head to anchor
//! elsewhere, and 1 naming the first row that does not; `replay` exits 0
//! when every logged decision is decided the same again, 1 listing those
//! that are not.
//!
//! A cluster's log (`--log postgres://…`) is first copied, row for row,
//! into a SQLite file (`export`), which both read as they read one node's.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use qorgan::pack::Pack;
use qorgan_server::audit::{self, Anchor, AuditError};

#[derive(clap::Subcommand)]
pub(super) enum AuditCommand {
    /// Check the hash chain of a decision log; print its head.
    Verify {
        /// The decision log: a SQLite file, or a cluster's `postgres://` URL.
        #[arg(long)]
        log: PathBuf,
        /// A head recorded earlier, `SEQ:HASH`, that must still be in the
        /// log (catches rows removed from its end).
        #[arg(long)]
        anchor: Option<String>,
    },
    /// Decide every logged transaction again with the pack that decided it
    /// and report any difference.
    Replay {
        /// The decision log: a SQLite file, or a cluster's `postgres://` URL
        /// (replayed in journal order).
        #[arg(long)]
        log: PathBuf,
        /// Print every difference as JSON Lines instead of text (with
        /// `--pack`: the comparison as one JSON object).
        #[arg(long)]
        json: bool,
        /// A candidate pack directory: decide the logged transactions with
        /// it instead, and report what it would change against the logged
        /// decisions (as `backtest --baseline` does on a stream).
        #[arg(long, value_name = "DIR")]
        pack: Option<PathBuf>,
    },
    /// Copy a cluster's decision log, packs and decided journal entries
    /// from PostgreSQL into a new SQLite log file, row for row (the same
    /// hashes).
    Export {
        /// The cluster's journal, `postgres://user:password@host:port/db`.
        #[arg(long, value_name = "URL")]
        from: String,
        /// The SQLite file to write (must not exist).
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
}

/// A cluster's log is copied into a temporary SQLite file first; one
/// node's is read where it is.
fn local_log(log: PathBuf) -> anyhow::Result<(PathBuf, Option<tempfile::TempDir>)> {
    let text = log.to_string_lossy().into_owned();
    if !(text.starts_with("postgres://") || text.starts_with("postgresql://")) {
        return Ok((log, None));
    }
    let db = qorgan_server::cluster::Database::parse(&text).map_err(anyhow::Error::msg)?;
    let dir = tempfile::tempdir().context("cannot make a directory for the exported log")?;
    let path = dir.path().join("cluster.sqlite");
    let exported = qorgan_server::cluster::export(&db, &path)?;
    eprintln!(
        "copied the cluster's log at {}: {} decisions, {} journal entries ({} not decided yet, left out)",
        db.label(),
        exported.decisions,
        exported.entries,
        exported.undecided
    );
    Ok((path, Some(dir)))
}

pub(super) fn run(command: AuditCommand) -> anyhow::Result<ExitCode> {
    match command {
        AuditCommand::Verify { log, anchor } => {
            let (log, _copy) = local_log(log)?;
            verify(&log, anchor.as_deref())
        }
        AuditCommand::Replay {
            log,
            json,
            pack: Some(pack),
        } => {
            let (log, _copy) = local_log(log)?;
            replay_with(&log, &pack, json)
        }
        AuditCommand::Replay {
            log,
            json,
            pack: None,
        } => {
            let (log, _copy) = local_log(log)?;
            replay(&log, json)
        }
        AuditCommand::Export { from, to } => {
            let db = qorgan_server::cluster::Database::parse(&from).map_err(anyhow::Error::msg)?;
            let exported = qorgan_server::cluster::export(&db, &to)?;
            println!(
                "exported {} decisions and {} journal entries to {} ({} entries not decided yet, left out)",
                exported.decisions,
                exported.entries,
                to.display(),
                exported.undecided
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn verify(log: &std::path::Path, anchor: Option<&str>) -> anyhow::Result<ExitCode> {
    let anchor = anchor
        .map(|text| {
            Anchor::parse(text).with_context(|| format!("--anchor `{text}` is not SEQ:HASH"))
        })
        .transpose()?;
    match audit::verify(log, anchor.as_ref()) {
        Ok(verified) => {
            match &verified.head {
                Some(head) => println!(
                    "ok: {} rows, chain intact; head {head} (anchor it elsewhere to detect truncation)",
                    verified.rows
                ),
                None => println!("ok: the log is empty"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(AuditError::Broken { seq, problem }) => {
            println!("FAILED: row {seq}: {problem}");
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(e.into()),
    }
}

/// The logged transactions decided by a candidate pack, compared with the
/// logged decisions; exits 0 whatever changes (a comparison, not a check).
fn replay_with(
    log: &std::path::Path,
    pack: &std::path::Path,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let engine = crate::engine()?;
    let candidate = Pack::read(pack).with_context(|| format!("cannot read {}", pack.display()))?;
    let comparison = audit::compare_with(log, &engine, &candidate)?;
    if json {
        println!("{}", serde_json::to_string(&comparison)?);
        return Ok(ExitCode::SUCCESS);
    }
    let m = &candidate.manifest;
    println!(
        "the logged decisions of {} against {} {} (serial {}):",
        log.display(),
        m.name,
        m.version,
        m.serial
    );
    print!("{}", comparison.changes);
    if comparison.undecided > 0 {
        println!(
            "{} rows were not compared (not decidable by the candidate, or unreadable)",
            comparison.undecided
        );
    }
    for s in &comparison.samples {
        println!(
            "  row {} {}: {} (score {}) -> {} (score {})",
            s.seq, s.change.tx, s.change.before, s.change.score.0, s.change.after, s.change.score.1
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn replay(log: &std::path::Path, json: bool) -> anyhow::Result<ExitCode> {
    let engine = crate::engine()?;
    let report = audit::replay(log, &engine)?;
    for difference in &report.differences {
        if json {
            println!(
                "{}",
                serde_json::json!({
                    "seq": difference.seq,
                    "decision_id": difference.decision_id,
                    "tx": difference.tx_id,
                    "difference": difference.what,
                })
            );
        } else {
            println!(
                "row {} ({}, decision {}): {}",
                difference.seq, difference.tx_id, difference.decision_id, difference.what
            );
        }
    }
    eprintln!(
        "replayed {} rows over {} runs with {} packs: {} differences",
        report.rows,
        report.runs,
        report.packs,
        report.differences.len()
    );
    Ok(if report.differences.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
