//! `qorgan eval`: JSON Lines in, decision JSON Lines out.
//!
//! Every non-blank input line yields exactly one output line, in order: the
//! decision, or `{"line": N, "error": "..."}` when the line was rejected.
//! A bad line never stops the stream. The exit status is 65 when any line
//! was rejected, 0 otherwise.
//!
//! History is applied through an in-memory journal, as in `serve`: a line
//! repeating a transaction id already decided (within retention) is
//! rejected on its line rather than counted twice, and a line dated more
//! than `--max-clock-skew-secs` ahead of the stream's watermark (the
//! newest time of the lines admitted so far) is rejected naming
//! `timestamp`, so that no single line can move retention.

use std::io::{BufReader, BufWriter, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use qorgan::engine::Engine;
use qorgan::journal::StreamGate;
use qorgan::jsonl::{Batches, Line, next_line};
use qorgan::pack::Pack;
use qorgan::transaction::Transaction;

/// Exit status when some input lines were rejected (EX_DATAERR).
pub(super) const EXIT_REJECTED: u8 = 65;

#[derive(clap::Args)]
pub(super) struct EvalArgs {
    /// The pack directory.
    #[arg(long)]
    pack: PathBuf,
    /// Transactions as JSON Lines; `-` or absent reads standard input.
    #[arg(long)]
    input: Option<PathBuf>,
    /// Past transactions (JSON Lines) to load into history first.
    #[arg(long)]
    history: Option<PathBuf>,
    /// How many transactions to decide per batch.
    #[arg(long, default_value_t = 256)]
    batch: usize,
    /// How far ahead of the stream's watermark a transaction may be dated,
    /// in seconds (a stream with a longer quiet gap needs more).
    #[arg(long, default_value_t = qorgan::journal::DEFAULT_STREAM_SKEW_SECS)]
    max_clock_skew_secs: i64,
}

fn error_line(line: u64, error: &str) -> String {
    serde_json::json!({ "line": line, "error": error }).to_string()
}

pub(super) fn run(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let pack = Pack::read(&args.pack)?;
    let engine = crate::engine()?;
    engine.load(&pack)?;
    if let Some(path) = &args.history {
        preload(&engine, path)?;
    }
    let input: Box<dyn Read> = match &args.input {
        None => Box::new(std::io::stdin()),
        Some(p) if p.as_os_str() == "-" => Box::new(std::io::stdin()),
        Some(p) => Box::new(
            std::fs::File::open(p).with_context(|| format!("cannot open {}", p.display()))?,
        ),
    };
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut batches = Batches::new(
        BufReader::new(input),
        args.batch.clamp(1, qorgan::engine::MAX_BATCH),
    );
    let mut evaluator = engine.evaluator();
    let mut gate = StreamGate::new(engine.history(), args.max_clock_skew_secs);
    let mut rejected = 0usize;
    while let Some(batch) = batches.next_batch()? {
        // Each line's number and its problem, if it was rejected; the
        // accepted transactions go to `txs`, in order, without copies.
        let mut lines: Vec<(u64, Option<String>)> = Vec::with_capacity(batch.len());
        let mut txs: Vec<Transaction> = Vec::with_capacity(batch.len());
        for (line_no, text) in batch {
            let problem = match text {
                Ok(text) => match Transaction::from_json(&text) {
                    Ok(tx) => match gate.admit(&tx) {
                        Ok(()) => {
                            txs.push(tx);
                            None
                        }
                        Err(problem) => Some(problem),
                    },
                    Err(e) => Some(e.to_string()),
                },
                Err(problem) => Some(problem.to_string()),
            };
            lines.push((line_no, problem));
        }
        let decided = evaluator.evaluate_batch(&txs);
        gate.decided(txs.iter().zip(decided.iter().map(Result::is_ok)));
        let mut decisions = decided.into_iter();
        for (line, problem) in lines {
            let text = match problem {
                Some(problem) => Err(problem),
                None => match decisions.next() {
                    Some(Ok(decision)) => Ok(decision.to_json()),
                    Some(Err(e)) => Err(e.to_string()),
                    None => Err("no decision was produced".to_owned()),
                },
            };
            match text {
                Ok(json) => writeln!(out, "{json}")?,
                Err(problem) => {
                    rejected += 1;
                    writeln!(out, "{}", error_line(line, &problem))?;
                }
            }
        }
        out.flush()?;
    }
    if rejected > 0 {
        eprintln!("{rejected} of {} lines rejected", batches.lines());
        return Ok(ExitCode::from(EXIT_REJECTED));
    }
    Ok(ExitCode::SUCCESS)
}

fn preload(engine: &Engine, path: &std::path::Path) -> anyhow::Result<()> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut reader = BufReader::new(file);
    let mut txs = Vec::new();
    let mut line_no = 0usize;
    while let Some(line) = next_line(&mut reader)? {
        line_no += 1;
        match line {
            Line::Text(text) if text.trim().is_empty() => {}
            Line::Text(text) => txs.push(
                Transaction::from_json(&text)
                    .with_context(|| format!("{} line {line_no}", path.display()))?,
            ),
            Line::Bad(problem) => anyhow::bail!("{} line {line_no}: {problem}", path.display()),
        }
    }
    for (i, result) in engine.remember(&txs).into_iter().enumerate() {
        result.with_context(|| format!("{}: history transaction {}", path.display(), i + 1))?;
    }
    Ok(())
}
