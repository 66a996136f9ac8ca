//! `qorgan gen`: a seeded, labelled stream of realistic transactions.
//!
//! The lines go to standard output (or `-o FILE`); a one-line summary of
//! the population goes to standard error, so the stream can be piped
//! straight into `qorgan eval` or `qorgan backtest`.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;

use qorgan_lab::generator::{Generator, GeneratorConfig, parse_start};

#[derive(clap::Args)]
pub(super) struct GenArgs {
    /// The seed: the same seed and settings give the same bytes.
    #[arg(long)]
    seed: u64,
    /// How many transactions to write.
    #[arg(long)]
    count: u64,
    /// How many days the stream covers.
    #[arg(long, default_value_t = GeneratorConfig::DEFAULT_DAYS)]
    days: u32,
    /// The first instant of the period (RFC 3339).
    #[arg(long, default_value = "2025-03-01T00:00:00Z")]
    start: String,
    /// Days of ordinary life written before the period (ids `lb-…`, not
    /// counted in `--count`, nothing planted): the history a bank holds
    /// when monitoring starts. Score only the period with `qorgan backtest
    /// --score-from START`.
    #[arg(long, default_value_t = 0)]
    look_back_days: u32,
    /// Where to write the JSON Lines; `-` or absent writes to standard
    /// output.
    #[arg(short, long)]
    output: Option<PathBuf>,
}

pub(super) fn run(args: GenArgs) -> anyhow::Result<ExitCode> {
    let config = GeneratorConfig {
        seed: args.seed,
        count: args.count,
        start: parse_start(&args.start)?,
        days: args.days,
        look_back_days: args.look_back_days,
    };
    let began = Instant::now();
    let mut generator = Generator::new(config)?;
    eprintln!("population: {}", generator.summary());
    let written = match &args.output {
        Some(path) if path.as_os_str() != "-" => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            let mut out = BufWriter::with_capacity(1 << 20, file);
            let n = generator.write_to(&mut out)?;
            out.flush()
                .with_context(|| format!("cannot write {}", path.display()))?;
            n
        }
        _ => {
            let stdout = std::io::stdout();
            generator.write_to(BufWriter::with_capacity(1 << 20, stdout.lock()))?
        }
    };
    let secs = began.elapsed().as_secs_f64();
    let look_back = generator.look_back_written();
    eprintln!(
        "wrote {written} transactions over {} days{} in {secs:.1} s ({:.0} tx/s)",
        generator.days_generated(),
        if look_back > 0 {
            format!(
                " ({} of them in {} days of look-back before {}, not counted)",
                look_back, config.look_back_days, args.start
            )
        } else {
            String::new()
        },
        written as f64 / secs.max(1e-9)
    );
    Ok(ExitCode::SUCCESS)
}
