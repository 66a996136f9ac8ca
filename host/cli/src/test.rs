//! `qorgan test`: run test cases against a pack or a single component.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use qorgan::harness::{self, Harness, RunOptions};

#[derive(Clone, Copy, clap::ValueEnum)]
pub(super) enum Format {
    /// A readable report.
    Text,
    /// One JSON document.
    Json,
}

#[derive(clap::Args)]
pub(super) struct TestArgs {
    /// A pack directory, or a `.wasm` rule component.
    target: PathBuf,
    /// Case files or directories (default: the pack's `tests/`, or `tests/`
    /// beside the component).
    cases: Vec<PathBuf>,
    /// Run only cases whose name contains this text.
    #[arg(long)]
    filter: Option<String>,
    /// Report format on standard output.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Also write a JUnit XML report here.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Fail when coverage of declared finding codes is below this percent.
    #[arg(long, value_name = "PCT")]
    coverage_min: Option<f64>,
    /// Fail when no case was selected.
    #[arg(long)]
    fail_on_empty: bool,
    /// Write the case files again into DIR with each case's host calls
    /// recorded for replay.
    #[arg(long, value_name = "DIR")]
    record: Option<PathBuf>,
    /// Fuel per transaction for a lone component, in place of the host's
    /// default (a pack sets its own in pack.toml): a JavaScript rule needs
    /// about 50000000.
    #[arg(long, value_name = "FUEL", value_parser = clap::value_parser!(u64).range(1000..=qorgan::pack::MAX_FUEL_PER_TRANSACTION))]
    fuel_per_transaction: Option<u64>,
    /// Memory of a lone component's instance, in MiB, in place of the
    /// host's default (a pack sets its own in pack.toml).
    #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u64).range(1..=4096))]
    memory_mib: Option<u64>,
}

pub(super) fn run(args: TestArgs) -> anyhow::Result<ExitCode> {
    let harness = if args.target.join(qorgan::pack::MANIFEST).is_file() {
        if args.fuel_per_transaction.is_some() || args.memory_mib.is_some() {
            anyhow::bail!(
                "{}: a pack sets its own limits in {}; --fuel-per-transaction and --memory-mib are for a lone component",
                args.target.display(),
                qorgan::pack::MANIFEST
            );
        }
        Harness::for_pack_with(crate::engine_builder(), &args.target)?
    } else if args.target.is_file() {
        let mut limits = qorgan::pack::Limits::default();
        if let Some(fuel) = args.fuel_per_transaction {
            limits.fuel_per_transaction = fuel;
        }
        if let Some(mib) = args.memory_mib {
            limits.memory_mib = mib;
        }
        Harness::for_component_with(crate::engine_builder(), &args.target, limits)?
    } else {
        anyhow::bail!(
            "{}: neither a pack directory (with pack.toml) nor a component file",
            args.target.display()
        );
    };
    let files = if args.cases.is_empty() {
        harness.default_cases().with_context(|| {
            format!(
                "loading cases from {}",
                harness.default_cases_dir().display()
            )
        })?
    } else {
        harness.load(&args.cases)?
    };
    let options = RunOptions {
        filter: args.filter.clone(),
        record: args.record.is_some(),
    };
    let report = harness.run(&files, &options);
    match args.format {
        Format::Text => print!("{}", report.to_text()),
        Format::Json => println!("{}", report.to_json()),
    }
    if let Some(path) = &args.junit {
        std::fs::write(path, report.to_junit())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(dir) = &args.record {
        for file in harness::write_recordings(dir, &files, &report)? {
            eprintln!("recorded {}", file.display());
        }
    }
    let mut failed = report.failed() > 0;
    if report.cases.is_empty() {
        eprintln!("no test cases selected");
        failed |= args.fail_on_empty;
    }
    if let Some(min) = args.coverage_min {
        let coverage = report.coverage_percent();
        if coverage < min {
            eprintln!(
                "coverage of declared finding codes is {coverage:.1}%, below the required {min}%"
            );
            failed = true;
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
