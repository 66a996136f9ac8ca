//! How a bank system embeds qorgan: trust the regulator's public key,
//! activate the signed pack it ships (a copy changed after signing is
//! refused, naming what changed), then decide payments from any number of
//! threads.
//!
//! Run it after building the reference pack:
//!
//! ```sh
//! cargo qorgan pack build examples/packs/kz-afm
//! cargo run -p qorgan-examples --example embed [-- BUILT_PACK_DIR]
//! ```
//!
//! So that it runs on its own, the example first plays the regulator: it
//! signs a copy of the built pack with a fresh key and ships it as one
//! `.qpack` file. A bank receives that file and the regulator's public key
//! instead; everything after `the bank's side` is what it runs.

use std::path::{Path, PathBuf};

use anyhow::Context;
use qorgan::pack::archive::{self, Compression, ExtractLimits};
use qorgan::pack::{SecretKey, sign_pack};
use qorgan::{Action, Activator, Candidate, Engine, Transaction, TrustConfig};

fn main() -> anyhow::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let built = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("packs/kz-afm"));
    let work = tempfile::tempdir()?;

    // The regulator's side: a signed `.qpack` and a public key.
    let (qpack, public_key) = regulator_ships(&built, work.path())?;

    // The bank's side. Once, at start-up: the keys it trusts, the engine,
    // and the activator that is the only way a pack reaches the engine.
    let trust = TrustConfig::builder()
        .trust_file(&public_key)
        .context("reading the regulator's public key")?
        .build()?;
    let engine = Engine::new()?;
    let activator = Activator::builder(engine.clone(), trust, work.path().join("state")).build()?;

    // A pack changed on its way (here: Coinbase taken off the blocked list)
    // is refused, and nothing it says ever decides a payment.
    let tampered = tampered_copy(&qpack, work.path())?;
    match activator.offer(Candidate::from_path(&tampered)) {
        Ok(_) => anyhow::bail!("a tampered pack was activated"),
        Err(refusal) => println!("refused a tampered pack: {refusal}"),
    }
    anyhow::ensure!(engine.active().is_none(), "a refused pack is active");

    // The genuine pack: signatures, digests, serial, validity, compilation
    // and the pack's own test cases on this host, then an atomic swap.
    let activated = activator
        .offer(Candidate::from_path(&qpack))
        .context("activating the signed pack")?;
    println!(
        "active pack: {} {} (serial {}), signed by {}",
        activated.pack.name,
        activated.pack.version,
        activated.pack.serial,
        activated.pack.signers.join(", ")
    );

    // Per payment: parse the bank's JSON (or build a `Transaction` from the
    // core banking record) and ask for a decision.
    let sample = std::fs::read_to_string(root.join("transactions/sample.jsonl"))?;
    let txs: Vec<Transaction> = sample
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(Transaction::from_json)
        .collect::<Result<_, _>>()?;

    // Payment threads share the engine; each decides its own batches.
    let (left, right) = txs.split_at(txs.len() / 2);
    let results = std::thread::scope(|scope| {
        let handles = [left, right].map(|part| {
            let engine = engine.clone();
            scope.spawn(move || engine.evaluate_batch(part))
        });
        handles.map(|h| h.join())
    });
    for batch in results {
        let batch = batch.map_err(|_| anyhow::anyhow!("a payment thread panicked"))?;
        for decision in batch {
            let decision = decision?;
            match decision.action {
                Action::Allow => println!("{}: allow", decision.tx),
                Action::Verify => {
                    let checks: Vec<&str> =
                        decision.requirements.iter().map(|c| c.as_str()).collect();
                    println!(
                        "{}: ask the customer for {}",
                        decision.tx,
                        checks.join(" + ")
                    );
                }
                action => {
                    let why: Vec<&str> = decision
                        .findings
                        .iter()
                        .map(|f| f.message.as_str())
                        .collect();
                    println!("{}: {action} — {}", decision.tx, why.join("; "));
                }
            }
        }
    }
    Ok(())
}

/// Signs a copy of the built pack in `built` with a fresh key and archives
/// it, as `qorgan key generate`, `pack sign` and `pack archive` do:
/// returns the `.qpack` and the public key file.
fn regulator_ships(built: &Path, work: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
    let copy = archive::copy_to_temp(built, &ExtractLimits::default())
        .with_context(|| format!("copying {}", built.display()))?;
    let key = SecretKey::generate(Some("afm-example"))?;
    sign_pack(copy.path(), std::slice::from_ref(&key)).context(
        "signing the pack (build it first: cargo qorgan pack build examples/packs/kz-afm)",
    )?;
    let keys = work.join("keys");
    std::fs::create_dir_all(&keys)?;
    let (_, public_key) = key.write_pair(&keys)?;
    let qpack = work.join("kz-afm.qpack");
    archive::write_archive(copy.path(), &qpack, Compression::Gzip)?;
    Ok((qpack, public_key))
}

/// The signed pack, unpacked, with `coinbase` taken off its blocked list.
fn tampered_copy(qpack: &Path, work: &Path) -> anyhow::Result<PathBuf> {
    let dir = work.join("tampered");
    archive::extract(qpack, &dir, &ExtractLimits::default())?;
    let list = dir.join("lists/blocked-vasps.txt");
    let text = std::fs::read_to_string(&list)?;
    std::fs::write(&list, text.replace("coinbase\n", ""))?;
    Ok(dir)
}
