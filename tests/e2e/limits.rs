//! The engine's limits on its callers' input, each refused with a typed
//! error naming the limit and its value. (The line, list and pack-size
//! limits are tested next to their code: `jsonl`, `lists`, `pack::archive`.)

use qorgan::engine::MAX_BATCH;
use qorgan::{Engine, EvaluationError, Pack};
use qorgan_e2e::fixtures::{tempdir, tx, write};
use qorgan_e2e::hostile::{self, Behaviour};

fn engine_with_allow_pack() -> (tempfile::TempDir, Engine) {
    let bytes = match hostile::component(Behaviour::Allow) {
        Ok(b) => b,
        Err(e) => panic!("fixture: {e}"),
    };
    let dir = tempdir();
    write(&dir.path().join("plugins/allow.wasm"), &bytes);
    write(
        &dir.path().join("pack.toml"),
        format!(
            "name = \"limits\"\nversion = \"1\"\nserial = 1\n\n[[plugin]]\nid = \"{}\"\ncomponent = \"plugins/allow.wasm\"\n",
            Behaviour::Allow.rule_id()
        )
        .as_bytes(),
    );
    let pack = match Pack::read(dir.path()) {
        Ok(p) => p,
        Err(e) => panic!("pack: {e}"),
    };
    let engine = match Engine::builder().max_instances(8).build() {
        Ok(e) => e,
        Err(e) => panic!("engine: {e}"),
    };
    if let Err(e) = engine.load(&pack) {
        panic!("load: {e}");
    }
    (dir, engine)
}

#[test]
fn a_batch_over_the_maximum_is_refused_whole_naming_the_limit() {
    let (_dir, engine) = engine_with_allow_pack();
    let one = tx("t", "transfer", "100.00", "061211600012", &[]);
    let txs = vec![one.clone(); MAX_BATCH + 1];
    let results = engine.evaluate_batch(&txs);
    assert_eq!(results.len(), MAX_BATCH + 1);
    for result in &results {
        assert_eq!(
            result,
            &Err(EvaluationError::BatchTooLarge {
                len: MAX_BATCH + 1,
                max: MAX_BATCH
            })
        );
    }
    let message = results[0].as_ref().err().map(|e| e.to_string());
    assert!(
        message.is_some_and(|m| m.contains(&MAX_BATCH.to_string())),
        "the error names the limit"
    );
    // Nothing was recorded: the accounts are unknown to history.
    assert_eq!(engine.history().accounts(), 0);
    // A batch at the limit is decided.
    let at_limit = engine.evaluate_batch(&txs[..MAX_BATCH]);
    assert!(at_limit.iter().all(Result::is_ok));
}
