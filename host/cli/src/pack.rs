//! `qorgan pack`: build, sign, verify, carry and publish rule packs.
//!
//! `sign` and `publish` first run the pack's own test cases, as every
//! bank's host will before letting it decide, and refuse (exit 1, naming
//! the failing cases) unless `--allow-failing-cases` is given, which says
//! loudly what is being let through.
//!
//! `verify` exits 0 when the pack's signatures satisfy the trust given on
//! the command line, 1 when the pack is refused (with the reason), and 2
//! when the trust itself could not be set up (an unreadable key file, more
//! signatures required than keys trusted).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use qorgan::harness::{Harness, RunOptions};
use qorgan::pack::archive::{self, Compression, ExtractLimits};
use qorgan::pack::signature::SIGNATURES_DIR;
use qorgan::pack::{KeyId, Pack, SecretKey, TrustConfig, sign_pack};
use qorgan_distribution::{self as source, PublishOptions, PublishTarget};
use qorgan_lab::build::build_pack;
use qorgan_lab::diff::PackDiff;

#[derive(clap::Subcommand)]
pub(super) enum PackCommand {
    /// Compile the plugin crates a pack's manifest names and record the
    /// digests of every component and list in `pack.toml`.
    Build {
        /// The pack directory.
        dir: PathBuf,
    },
    /// Sign a built pack: write `signatures/<key id>.sig` for each key.
    Sign {
        /// The pack directory (built: every component and list has its
        /// digest in `pack.toml`).
        dir: PathBuf,
        /// A private key file; repeat for several signers.
        #[arg(long = "key", value_name = "FILE", required = true)]
        keys: Vec<PathBuf>,
        /// Sign even when the pack's own cases fail or are missing (every
        /// bank will refuse such a pack).
        #[arg(long)]
        allow_failing_cases: bool,
    },
    /// Show what differs between two packs: plugins and their digests,
    /// effective parameter values, list entries, thresholds, failure
    /// action, serial and validity.
    Diff {
        /// The old pack directory.
        old: PathBuf,
        /// The new pack directory.
        new: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Verify a pack's signatures: exit 0 naming the signers, or 1 with the
    /// reason the pack is refused.
    Verify(VerifyArgs),
    /// Write a pack directory into one `.qpack` file (deterministic: the
    /// same pack gives the same bytes).
    Archive {
        /// The pack directory.
        dir: PathBuf,
        /// The archive to write.
        #[arg(short, long, value_name = "FILE.qpack")]
        output: PathBuf,
        /// Write a plain tar stream instead of gzip-compressing it.
        #[arg(long)]
        no_gzip: bool,
    },
    /// Extract a `.qpack` file into a new directory, refusing unsafe
    /// entries; it does not verify the signatures (`pack verify` does).
    Extract {
        /// The archive.
        archive: PathBuf,
        /// The directory to create.
        #[arg(short, long, value_name = "DIR")]
        output: PathBuf,
    },
    /// Publish a signed pack where hosts poll for it: a directory
    /// (`<name>-<serial>.qpack`, written atomically), an HTTP(S) URL (one
    /// PUT of the archive) or an OCI registry (`oci://HOST[:PORT]/REPO:TAG`).
    Publish(PublishArgs),
}

#[derive(clap::Args)]
pub(super) struct PublishArgs {
    /// A signed pack directory or `.qpack` archive.
    pack: PathBuf,
    /// Where to: a directory, an `http(s)://` URL or an
    /// `oci://HOST[:PORT]/REPO:TAG` reference.
    #[arg(long, value_name = "DIR|URL|oci://REF")]
    to: String,
    /// Verify the signatures against these public keys first (without it,
    /// the pack must carry signatures that cover it as it is).
    #[arg(long = "trust", value_name = "PUBFILE", num_args = 1..)]
    trust: Vec<PathBuf>,
    /// With `--trust`: how many trusted keys must have signed.
    #[arg(long, value_name = "M", default_value_t = 1, requires = "trust")]
    require: usize,
    /// Publish even when the pack's own cases fail or are missing (every
    /// bank will refuse such a pack).
    #[arg(long)]
    allow_failing_cases: bool,
}

/// The environment variables holding the user name and password for a
/// server or registry that wants them.
const USER_ENV: &str = "QORGAN_PUBLISH_USER";
const PASSWORD_ENV: &str = "QORGAN_PUBLISH_PASSWORD";

#[derive(clap::Args)]
pub(super) struct VerifyArgs {
    /// A pack directory or a `.qpack` archive.
    target: PathBuf,
    /// A trusted public key file; repeat or list several.
    #[arg(long = "trust", value_name = "PUBFILE", required = true, num_args = 1..)]
    trust: Vec<PathBuf>,
    /// How many trusted keys must have signed.
    #[arg(long, value_name = "M", default_value_t = 1)]
    require: usize,
    /// A revoked key id: a pack it signed is refused; repeat or list
    /// several.
    #[arg(long = "revoked", value_name = "KEYID", num_args = 1..)]
    revoked: Vec<String>,
}

pub(super) fn run(command: PackCommand) -> anyhow::Result<ExitCode> {
    match command {
        PackCommand::Build { dir } => build(&dir),
        PackCommand::Sign {
            dir,
            keys,
            allow_failing_cases,
        } => {
            if let Some(refused) = own_cases(&dir, &dir, allow_failing_cases)? {
                return Ok(refused);
            }
            sign(&dir, &keys)
        }
        PackCommand::Diff { old, new, json } => diff(&old, &new, json),
        PackCommand::Verify(args) => verify(args),
        PackCommand::Archive {
            dir,
            output,
            no_gzip,
        } => {
            let compression = if no_gzip {
                Compression::None
            } else {
                Compression::Gzip
            };
            let summary = archive::write_archive(&dir, &output, compression)?;
            println!(
                "wrote {}: {} files, {} bytes (sha256 {})",
                output.display(),
                summary.files,
                summary.archive_bytes,
                summary.sha256
            );
            if !dir.join(SIGNATURES_DIR).is_dir() {
                eprintln!("note: the pack is not signed; banks will refuse it");
            }
            Ok(ExitCode::SUCCESS)
        }
        PackCommand::Publish(args) => publish(args),
        PackCommand::Extract { archive, output } => {
            let summary = archive::extract(&archive, &output, &ExtractLimits::default())
                .with_context(|| format!("cannot extract {}", archive.display()))?;
            println!(
                "extracted {} files ({} bytes) into {}; verify them with `qorgan pack verify {} --trust KEYFILE`",
                summary.files,
                summary.bytes,
                output.display(),
                output.display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn build(dir: &Path) -> anyhow::Result<ExitCode> {
    let built = build_pack(dir)?;
    for plugin in &built {
        println!(
            "{} {} -> {} (sha256 {})",
            if plugin.compiled { "built" } else { "digested" },
            plugin.id,
            plugin.component.display(),
            plugin.sha256
        );
    }
    let pack = Pack::read(dir)?;
    let engine = crate::engine()?;
    let prepared = engine
        .prepare(&pack)
        .with_context(|| format!("pack {} was built but does not load", dir.display()))?;
    let info = prepared.info();
    println!(
        "pack {} {} (serial {}) is ready: {} plugins, manifest sha256 {}",
        info.name,
        info.version,
        info.serial,
        info.plugins.len(),
        info.digest
    );
    Ok(ExitCode::SUCCESS)
}

fn sign(dir: &Path, key_files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let keys = key_files
        .iter()
        .map(SecretKey::read)
        .collect::<Result<Vec<_>, _>>()?;
    let pack = Pack::read(dir).with_context(|| format!("cannot sign {}", dir.display()))?;
    let report = sign_pack(dir, &keys).with_context(|| format!("cannot sign {}", dir.display()))?;
    let m = &pack.manifest;
    println!(
        "signed {} {} (serial {}), statement sha256 {}",
        m.name, m.version, m.serial, report.statement_sha256
    );
    for (signer, file) in report.signed.iter().zip(&report.files) {
        println!("  by {} -> {}", signer.label(), file.display());
    }
    for stale in &report.removed_stale {
        println!(
            "  removed the stale signature of {stale}: it covered an earlier state of the pack"
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let mut builder = TrustConfig::builder().require(args.require);
    for file in &args.trust {
        builder = builder.trust_file(file)?;
    }
    for id in &args.revoked {
        builder = builder.revoke(KeyId::parse(id)?);
    }
    let trust = builder.build()?;

    let extracted;
    let dir = if args.target.is_file() {
        match archive::extract_to_temp(&args.target, &ExtractLimits::default()) {
            Ok(pack) => {
                extracted = pack;
                extracted.path().to_path_buf()
            }
            Err(e) => return Ok(refused(&args.target, &e)),
        }
    } else if args.target.is_dir() {
        args.target.clone()
    } else {
        anyhow::bail!(
            "{}: neither a pack directory nor a .qpack archive",
            args.target.display()
        );
    };
    match trust.verify(&dir) {
        Ok(verified) => {
            let m = verified.statement.manifest();
            println!(
                "verified {} {} (serial {}): {} of {} required signatures",
                m.name,
                m.version,
                m.serial,
                verified.signers.len(),
                verified.required
            );
            for signer in &verified.signers {
                println!("  signed by {}", signer.label());
            }
            for key in &verified.untrusted {
                println!("  not counted: {key} (not a trusted key)");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Ok(refused(&args.target, &e)),
    }
}

/// The publish gate: runs the pack in `dir` (given as `shown`) against its
/// own cases. `Some(exit code)` when it must be refused: a case failed, or
/// there is none; with `allow`, it is let through with a warning instead.
fn own_cases(dir: &Path, shown: &Path, allow: bool) -> anyhow::Result<Option<ExitCode>> {
    let harness = Harness::for_pack_with(crate::engine_builder(), dir)
        .with_context(|| format!("cannot run the own cases of {}", shown.display()))?;
    let files = harness
        .default_cases()
        .with_context(|| format!("cannot load the own cases of {}", shown.display()))?;
    let report = harness.run(&files, &RunOptions::default());
    let failing: Vec<String> = report
        .cases
        .iter()
        .filter(|c| !c.passed())
        .map(|c| {
            let first = c
                .mismatches
                .first()
                .map(|m| format!(": {m}"))
                .unwrap_or_default();
            format!("case `{}` ({}) failed{first}", c.name, c.file.display())
        })
        .collect();
    let problem = if report.cases.is_empty() {
        Some("the pack has no own test cases; every bank refuses such a pack".to_owned())
    } else if failing.is_empty() {
        None
    } else {
        Some(format!(
            "{} of {} own cases failed; every bank refuses such a pack:\n  {}",
            failing.len(),
            report.cases.len(),
            failing.join("\n  ")
        ))
    };
    let Some(problem) = problem else {
        println!(
            "own cases: {} passed ({}% of declared finding codes covered)",
            report.cases.len(),
            report.coverage_percent().round()
        );
        return Ok(None);
    };
    if allow {
        eprintln!(
            "WARNING: --allow-failing-cases: going on although {}: {problem}",
            shown.display()
        );
        return Ok(None);
    }
    eprintln!(
        "refused: {}: {problem}\n(fix the rules or the cases; --allow-failing-cases overrides)",
        shown.display()
    );
    Ok(Some(ExitCode::from(1)))
}

fn diff(old: &Path, new: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let engine = crate::engine()?;
    let a = Pack::read(old).with_context(|| format!("cannot read {}", old.display()))?;
    let b = Pack::read(new).with_context(|| format!("cannot read {}", new.display()))?;
    let diff = PackDiff::between(&engine, &a, &b)?;
    if json {
        println!("{}", diff.to_json());
    } else {
        print!("{diff}");
    }
    Ok(ExitCode::SUCCESS)
}

fn publish(args: PublishArgs) -> anyhow::Result<ExitCode> {
    let target = PublishTarget::parse(&args.to)?;
    let extracted;
    let dir = if args.pack.is_file() {
        extracted = archive::extract_to_temp(&args.pack, &ExtractLimits::default())
            .with_context(|| format!("cannot extract {}", args.pack.display()))?;
        extracted.path().to_path_buf()
    } else {
        args.pack.clone()
    };
    if let Some(refused) = own_cases(&dir, &args.pack, args.allow_failing_cases)? {
        return Ok(refused);
    }
    let mut options = PublishOptions::default();
    if !args.trust.is_empty() {
        let mut builder = TrustConfig::builder().require(args.require);
        for file in &args.trust {
            builder = builder.trust_file(file)?;
        }
        options = options.trust(builder.build()?);
    }
    match (std::env::var(USER_ENV), std::env::var(PASSWORD_ENV)) {
        (Ok(user), Ok(password)) => options = options.basic_auth(user, password),
        (Err(_), Err(_)) => {}
        _ => anyhow::bail!("set both {USER_ENV} and {PASSWORD_ENV}, or neither"),
    }
    let (release, published) = source::publish(&args.pack, &target, &options)
        .with_context(|| format!("cannot publish {} to {target}", args.pack.display()))?;
    let c = &release.config;
    if published.unchanged {
        println!(
            "{} {} (serial {}) is already published at {}",
            c.name, c.version, c.serial, published.location
        );
    } else {
        println!(
            "published {} {} (serial {}) to {}: {} bytes, sha256 {}",
            c.name,
            c.version,
            c.serial,
            published.location,
            release.bytes.len(),
            release.sha256
        );
    }
    println!("  signed by {}", release.signers.join(", "));
    Ok(ExitCode::SUCCESS)
}

fn refused(target: &Path, reason: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("refused: {}: {reason}", target.display());
    ExitCode::from(1)
}
