//! The `qorgan` command: build, inspect, test, sign, publish and run rule
//! packs (docs/contracts.md, "The command line").
//!
//! Exit codes: 0 success; 65 when `eval` or `backtest` rejected any input
//! line; 1 when `test` found a failing case or `pack verify` refused a pack;
//! 1 when `audit verify` finds the chain broken or `audit replay` a
//! difference; 2 when nothing could be loaded (a bad pack, a missing file, a failed
//! build).

#![forbid(unsafe_code)]

mod audit;
mod backtest;
mod bench;
mod eval;
mod generate;
mod inspect;
mod key;
mod new;
mod pack;
mod serve;
mod test;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use qorgan::engine::Engine;

/// qorgan: WebAssembly rule packs for anti-money-laundering monitoring.
#[derive(Parser)]
#[command(name = "qorgan", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build a rule into a component: a Rust crate (Cargo.toml), a Python
    /// rule (pyproject.toml or app.py, with componentize-py) or a JavaScript
    /// rule (package.json, with jco).
    Build {
        /// The rule's directory.
        crate_dir: PathBuf,
        /// Where to write the component (default: `<package>.wasm` in the
        /// rule's directory).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Show a component's or a pack's metadata, parameters, codes, imports
    /// and digests.
    Inspect {
        /// A `.wasm` component or a pack directory.
        target: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Decide transactions: JSON Lines in, decision JSON Lines out.
    Eval(eval::EvalArgs),
    /// Generate a seeded, labelled stream of realistic transactions.
    Gen(generate::GenArgs),
    /// Run a pack over a labelled stream and score it: precision and recall
    /// per typology, legitimate customers flagged, alerts, throughput.
    Backtest(backtest::BacktestArgs),
    /// Measure a pack's throughput and latency; with --compare, against the
    /// same rules natively, in Rego (regorus) and a no-op plugin.
    Bench(bench::BenchArgs),
    /// Run test cases against a pack or a component; exit 0 all pass, 1 a
    /// case failed, 2 nothing could be loaded.
    Test(test::TestArgs),
    /// Create a new rule that builds and passes its cases.
    New {
        /// The language to write it in.
        #[arg(long, value_enum, default_value = "rust")]
        lang: new::Lang,
        /// The rule's id, in kebab-case (e.g. `demo-rule`).
        name: String,
        /// Where to create it (default: `./<name>`).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// The SDK to depend on (default: this source tree's SDK for the
        /// language).
        #[arg(long)]
        sdk: Option<PathBuf>,
    },
    /// Work with rule packs: build, sign, verify, archive, extract, publish.
    Pack {
        #[command(subcommand)]
        command: pack::PackCommand,
    },
    /// Manage the keys that sign rule packs.
    Key {
        #[command(subcommand)]
        command: key::KeyCommand,
    },
    /// Run the HTTP service: decisions over HTTP, hot reload of signed
    /// packs, health, metrics and a durable, tamper-evident decision log.
    Serve(Box<serve::ServeArgs>),
    /// Print the SHA-256 that grants a bearer token (read from standard
    /// input) or a client certificate (--cert FILE) in `qorgan serve`'s
    /// configuration.
    HashToken(serve::HashTokenArgs),
    /// Check the decision log's hash chain, or decide its transactions
    /// again with the packs that decided them.
    Audit {
        #[command(subcommand)]
        command: audit::AuditCommand,
    },
}

/// Runs the command line and maps the outcome to an exit code.
fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("QORGAN_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", message(&e));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes, each cause once: library errors already
/// print their source (`{path}: {source}`), which `{:#}` would repeat.
fn message(e: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !message.contains(&text) {
            if !message.is_empty() {
                message.push_str(": ");
            }
            message.push_str(&text);
        }
    }
    message
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Build { crate_dir, output } => build(&crate_dir, output),
        Command::Inspect { target, json } => inspect::run(&target, json),
        Command::Eval(args) => eval::run(args),
        Command::Gen(args) => generate::run(args),
        Command::Backtest(args) => backtest::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Test(args) => test::run(args),
        Command::New {
            name,
            dir,
            sdk,
            lang,
        } => new::run(&name, dir.as_deref(), sdk.as_deref(), lang),
        Command::Pack { command } => pack::run(command),
        Command::Key { command } => key::run(command),
        Command::Serve(args) => serve::run(*args),
        Command::HashToken(args) => serve::hash_token(args),
        Command::Audit { command } => audit::run(command),
    }
}

/// The engine every command uses: compiled components are kept on disk in
/// `QORGAN_CACHE_DIR` (default `$XDG_CACHE_HOME/qorgan/compiled`, else
/// `~/.cache/qorgan/compiled`), so a pack's components are compiled once per
/// machine rather than at every command. `QORGAN_CACHE_DIR=` (empty) turns
/// the disk cache off.
pub(crate) fn engine() -> anyhow::Result<Engine> {
    Ok(engine_builder().build()?)
}

/// The builder of [`engine`], for callers that build the engine themselves
/// (the test harness).
pub(crate) fn engine_builder() -> qorgan::engine::EngineBuilder {
    let dir = match std::env::var_os("QORGAN_CACHE_DIR") {
        Some(dir) if dir.is_empty() => None,
        Some(dir) => Some(PathBuf::from(dir)),
        None => std::env::var_os("XDG_CACHE_HOME")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .map(|d| d.join("qorgan").join("compiled")),
    };
    let builder = Engine::builder();
    match dir {
        Some(dir) => builder.compiled_cache(dir),
        None => builder,
    }
}

fn build(crate_dir: &std::path::Path, output: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let built = qorgan_lab::build::build_component(crate_dir)?;
    let output = output.unwrap_or_else(|| crate_dir.join(format!("{}.wasm", built.package)));
    let engine = crate::engine()?;
    let info = engine
        .inspect(&built.package, &built.component)
        .with_context(|| {
            format!(
                "the component built from {} does not load",
                crate_dir.display()
            )
        })?;
    std::fs::write(&output, &built.component)
        .with_context(|| format!("cannot write {}", output.display()))?;
    println!(
        "built {} {} ({}) -> {} ({} bytes, sha256 {})",
        info.id,
        info.version,
        built.language,
        output.display(),
        built.component.len(),
        info.sha256
    );
    if let Some(toolchain) = &built.toolchain {
        for line in toolchain.lines() {
            println!("  {line}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
