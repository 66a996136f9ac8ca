//! `qorgan bench`: throughput and latency of a pack, and with `--compare`
//! the same rules natively, in Rego (regorus) and a no-op plugin, measured
//! in the same run on the same transactions. The method is in the library's
//! `bench` module; this file only reads flags and prints.

use std::path::PathBuf;
use std::process::ExitCode;

use qorgan::pack::Pack;
use qorgan_lab::bench::{BenchBuilder, Workload};

#[derive(clap::Args)]
pub(super) struct BenchArgs {
    /// The pack directory (its components built).
    #[arg(long)]
    pack: PathBuf,
    /// Transactions as JSON Lines (default: generated with --seed/--count).
    #[arg(long)]
    input: Option<PathBuf>,
    /// How many transactions to generate.
    #[arg(long, default_value_t = 100_000)]
    count: usize,
    /// The generator's seed.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Transactions per batch.
    #[arg(long, default_value_t = 256)]
    batch: usize,
    /// Threads for the all-cores pass (default: the available cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Also measure the rules compiled natively, in Rego with regorus, and
    /// a no-op plugin.
    #[arg(long)]
    compare: bool,
    /// How many transactions to decide one at a time for latency.
    #[arg(long, default_value_t = 10_000)]
    latency_count: usize,
    /// How many transactions regorus decides (the first of the stream).
    #[arg(long, default_value_t = 20_000)]
    rego_count: usize,
    /// Print the report as one JSON object, as the last line.
    #[arg(long)]
    json: bool,
    /// Write /tmp/perf-PID.map so that `perf record` on this run names the
    /// plugins' compiled functions.
    #[arg(long)]
    perf_map: bool,
    /// Instead of deciding, measure history's memory per retained
    /// transaction and a restart's restore time on this many generated
    /// transactions (e.g. 1000000), the journal written under --state-dir.
    #[arg(long)]
    history: Option<u64>,
    /// Where `--history` writes its journal (default: a temporary
    /// directory).
    #[arg(long)]
    state_dir: Option<PathBuf>,
}

pub(super) fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    if let Some(count) = args.history {
        let temp = tempfile::tempdir()?;
        let dir = args
            .state_dir
            .clone()
            .unwrap_or_else(|| temp.path().to_path_buf());
        std::fs::create_dir_all(&dir)?;
        let cost = qorgan_lab::bench::history_cost::measure(args.seed, count, &dir)?;
        print!("{cost}");
        return Ok(ExitCode::SUCCESS);
    }
    let pack = Pack::read(&args.pack)?;
    let workload = match &args.input {
        Some(path) => Workload::read(path)?,
        None => Workload::generate(args.seed, args.count)?,
    };
    let mut builder = BenchBuilder::default()
        .batch(args.batch)
        .compare(args.compare)
        .latency_count(args.latency_count)
        .rego_count(args.rego_count)
        .perf_map(args.perf_map);
    if let Some(threads) = args.threads {
        builder = builder.threads(threads);
    }
    let report = builder.run(&pack, &workload)?;
    if args.json {
        println!("{}", report.to_json());
    } else {
        print!("{report}");
    }
    Ok(ExitCode::SUCCESS)
}
