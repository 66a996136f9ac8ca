//! `qorgan backtest`: run a pack over a labelled stream (as `qorgan gen`
//! writes) and print precision and recall per typology, the legitimate
//! customers flagged, alerts and throughput.
//!
//! With `--baseline OLD`, the stream is decided by both packs, each as
//! `eval` would alone, and the report is what the pack changes against the
//! baseline: the changed decisions by action and by finding code, alerts
//! per 1,000 transactions before and after, per typology when the stream
//! is labelled, and the first changed transactions with both decisions.
//!
//! Exit status: 0 on success, 2 when the pack cannot be loaded, 65 when
//! some lines were rejected (the summary is printed all the same).

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;

use qorgan::engine::Engine;
use qorgan::pack::Pack;
use qorgan_lab::backtest::{self, Progress, compare};

use super::eval::EXIT_REJECTED;

#[derive(clap::Args)]
pub(super) struct BacktestArgs {
    /// The pack directory.
    #[arg(long)]
    pack: PathBuf,
    /// A baseline pack directory: report what `--pack` changes against it.
    #[arg(long, value_name = "DIR")]
    baseline: Option<PathBuf>,
    /// Labelled transactions as JSON Lines; `-` reads standard input.
    #[arg(long)]
    input: PathBuf,
    /// How many transactions to decide per batch.
    #[arg(long, default_value_t = 256)]
    batch: usize,
    /// Score only transactions dated from this time on (RFC 3339); earlier
    /// ones are decided into history first, as a bank starts monitoring
    /// with its history loaded (`qorgan gen --look-back-days` writes one).
    #[arg(long, value_name = "TIME", conflicts_with = "baseline")]
    score_from: Option<String>,
    /// Print the summary as one JSON object.
    #[arg(long)]
    json: bool,
    /// Show a progress bar on standard error even when it is not a
    /// terminal.
    #[arg(long)]
    progress: bool,
}

/// An engine of its own (so its own history) with the pack in `dir`.
fn engine_with(dir: &Path) -> anyhow::Result<Engine> {
    let pack = Pack::read(dir)?;
    let engine = crate::engine()?;
    engine.load(&pack)?;
    Ok(engine)
}

pub(super) fn run(args: BacktestArgs) -> anyhow::Result<ExitCode> {
    let engine = engine_with(&args.pack)?;
    let baseline = args.baseline.as_deref().map(engine_with).transpose()?;
    let (input, size): (Box<dyn Read>, Option<u64>) = if args.input.as_os_str() == "-" {
        (Box::new(std::io::stdin()), None)
    } else {
        let file = std::fs::File::open(&args.input)
            .with_context(|| format!("cannot open {}", args.input.display()))?;
        let size = file.metadata().ok().map(|m| m.len());
        (Box::new(file), size)
    };
    let show = args.progress || std::io::stderr().is_terminal();
    let mut bar = Bar::new(show);
    if let Some(baseline) = baseline {
        let comparison = compare::run(
            &baseline,
            &engine,
            input,
            size,
            args.batch,
            qorgan::journal::DEFAULT_STREAM_SKEW_SECS,
            |p| bar.update(p),
        )
        .with_context(|| format!("backtest of {}", args.input.display()))?;
        bar.finish();
        if args.json {
            println!("{}", comparison.to_json());
        } else {
            println!("input: {}", args.input.display());
            print!("{comparison}");
        }
        let rejected = comparison
            .candidate
            .rejected
            .max(comparison.baseline.rejected);
        if rejected > 0 {
            eprintln!(
                "{rejected} of {} lines rejected",
                comparison.candidate.lines
            );
            return Ok(ExitCode::from(EXIT_REJECTED));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let options = backtest::RunOptions {
        batch: args.batch,
        score_from: args
            .score_from
            .as_deref()
            .map(|text| {
                qorgan_lab::generator::parse_start(text).map_err(|_| {
                    anyhow::anyhow!(
                        "--score-from: `{text}` is not an RFC 3339 time such as 2025-03-01T00:00:00Z"
                    )
                })
            })
            .transpose()?,
        ..backtest::RunOptions::default()
    };
    let report = backtest::run_with(&engine, input, size, options, |p| bar.update(p))
        .with_context(|| format!("backtest of {}", args.input.display()))?;
    bar.finish();
    if args.json {
        println!("{}", report.to_json());
    } else {
        println!("input: {}", args.input.display());
        println!("{report}");
    }
    if report.rejected > 0 {
        eprintln!("{} of {} lines rejected", report.rejected, report.lines);
        return Ok(ExitCode::from(EXIT_REJECTED));
    }
    Ok(ExitCode::SUCCESS)
}

/// A hand-drawn progress bar on standard error, redrawn at most ten times a
/// second.
struct Bar {
    show: bool,
    last: Option<Instant>,
    latest: Option<Progress>,
}

const WIDTH: usize = 30;

impl Bar {
    fn new(show: bool) -> Bar {
        Bar {
            show,
            last: None,
            latest: None,
        }
    }

    fn update(&mut self, p: &Progress) {
        self.latest = Some(*p);
        if !self.show
            || self
                .last
                .is_some_and(|t| t.elapsed() < Duration::from_millis(100))
        {
            return;
        }
        self.last = Some(Instant::now());
        draw(p);
    }

    /// Draws the final state and ends the line.
    fn finish(&mut self) {
        if let (true, Some(p)) = (self.show, self.latest) {
            draw(&p);
            let _ = writeln!(std::io::stderr().lock());
        }
    }
}

fn draw(p: &Progress) {
    let rate = p.decided as f64 / p.elapsed.as_secs_f64().max(1e-3);
    let line = match p.total_bytes.filter(|t| *t > 0) {
        Some(total) => {
            let fraction = (p.bytes as f64 / total as f64).clamp(0.0, 1.0);
            let filled = ((fraction * WIDTH as f64).round() as usize).min(WIDTH);
            // The lines to expect, from the bytes per line so far.
            let expected = if p.bytes > 0 {
                (p.lines as f64 * total as f64 / p.bytes as f64).round() as u64
            } else {
                0
            };
            let eta = if fraction > 0.0 {
                p.elapsed.as_secs_f64() * (1.0 - fraction) / fraction
            } else {
                0.0
            };
            format!(
                "\r[{}{}] {:>3.0}% {}/~{} tx {:.0} tx/s ETA {:.0} s ",
                "#".repeat(filled),
                " ".repeat(WIDTH - filled),
                fraction * 100.0,
                p.decided,
                expected.max(p.decided),
                rate,
                eta
            )
        }
        None => format!("\r{} tx {:.0} tx/s ", p.decided, rate),
    };
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(line.as_bytes());
    let _ = err.flush();
}
