//! How a bank system embeds qorgan: load the regulator's pack once, then
//! decide payments from any number of threads.
//!
//! Run it after building the reference pack:
//!
//! ```sh
//! cargo qorgan pack build examples/packs/kz-afm
//! cargo run -p qorgan-examples --example embed
//! ```

use std::path::Path;

use anyhow::Context;
use qorgan::{Action, Engine, Pack, Transaction};

fn main() -> anyhow::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let pack_dir = root.join("packs/kz-afm");

    // Once, at start-up (and again whenever the regulator ships a new pack):
    // read and verify the pack, compile it, swap it in.
    let engine = Engine::new()?;
    let pack = Pack::read(&pack_dir).context("reading the reference pack")?;
    let info = engine.load(&pack).context("loading the reference pack")?;
    println!(
        "active pack: {} {} (serial {}), {} plugins",
        info.name,
        info.version,
        info.serial,
        info.plugins.len()
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
