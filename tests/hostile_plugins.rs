//! Hostile plugins are contained: each one yields `PLUGIN_FAILED` with the
//! pack's failure action (or is refused at load, naming what it did wrong),
//! and the engine goes on deciding with the other plugins, correctly.

use qorgan::decision::PLUGIN_FAILED;
use qorgan::{Action, Decision, Engine, LoadError, Pack, Transaction};
use qorgan_e2e::fixtures::{kz_threshold_component, tempdir, tx, write};
use qorgan_e2e::hostile::{self, Behaviour};

/// A pack with a hostile plugin first and the real kz-threshold after it.
fn pack_with(behaviour: Behaviour, failure_action: &str) -> (tempfile::TempDir, Pack) {
    let bytes = match hostile::component(behaviour) {
        Ok(b) => b,
        Err(e) => panic!("fixture {behaviour}: {e}"),
    };
    pack_from(behaviour.rule_id(), &bytes, failure_action, 1)
}

fn pack_from(
    id: &str,
    bytes: &[u8],
    failure_action: &str,
    serial: u64,
) -> (tempfile::TempDir, Pack) {
    let dir = tempdir();
    write(&dir.path().join(format!("plugins/{id}.wasm")), bytes);
    write(
        &dir.path().join("plugins/kz-threshold.wasm"),
        kz_threshold_component(),
    );
    write(&dir.path().join("lists/cash-cap-accounts.txt"), b"# none\n");
    let manifest = format!(
        r#"
name = "hostile-test"
version = "1.0.0"
serial = {serial}
failure_action = "{failure_action}"

[limits]
call_timeout_ms = 50
memory_mib = 16

[[plugin]]
id = "{id}"
component = "plugins/{id}.wasm"

[[plugin]]
id = "kz-threshold"
component = "plugins/kz-threshold.wasm"

[[list]]
name = "cash-cap-accounts"
file = "lists/cash-cap-accounts.txt"
"#
    );
    write(&dir.path().join("pack.toml"), manifest.as_bytes());
    let pack = match Pack::read(dir.path()) {
        Ok(p) => p,
        Err(e) => panic!("pack: {e}"),
    };
    (dir, pack)
}

fn engine() -> Engine {
    match Engine::builder().max_instances(16).build() {
        Ok(e) => e,
        Err(e) => panic!("engine: {e}"),
    }
}

/// Three transactions kz-threshold has clear answers for.
fn batch() -> Vec<Transaction> {
    vec![
        tx("topup", "card-topup", "600000.00", "061211600012", &[]),
        tx("coffee", "card-payment", "1500.00", "061211600012", &[]),
        tx("cash", "cash-withdrawal", "20000.00", "061211600012", &[]),
    ]
}

fn decide(engine: &Engine, txs: &[Transaction]) -> Vec<Decision> {
    engine
        .evaluate_batch(txs)
        .into_iter()
        .map(|r| match r {
            Ok(d) => d,
            Err(e) => panic!("no decision: {e}"),
        })
        .collect()
}

/// Asserts the hostile plugin failed with `reason` on every transaction and
/// kz-threshold still decided each one correctly.
fn assert_contained(decisions: &[Decision], rule: &str, reason: &str, failure_action: Action) {
    assert_eq!(decisions.len(), 3);
    for d in decisions {
        let failed: Vec<_> = d
            .findings
            .iter()
            .filter(|f| f.code == PLUGIN_FAILED)
            .collect();
        assert_eq!(failed.len(), 1, "{}: {:?}", d.tx, d.findings);
        assert_eq!(failed[0].rule, format!("{rule}@{}", hostile::VERSION));
        assert_eq!(
            failed[0].evidence.get("reason"),
            Some(reason),
            "{:?}",
            failed[0]
        );
        assert_eq!(failed[0].action, failure_action);
        assert!(
            d.action >= failure_action,
            "a failure never lowers the action"
        );
    }
    assert!(decisions[0].has("TOPUP_SENDER_IIN_REQUIRED"));
    assert!(
        !decisions[1].has("TOPUP_SENDER_IIN_REQUIRED")
            && !decisions[1].has("CASH_BIOMETRIC_REQUIRED")
    );
    assert!(decisions[2].has("CASH_BIOMETRIC_REQUIRED"));
}

fn contained_and_recovering(behaviour: Behaviour, reason: &str) {
    let (_dir, pack) = pack_with(behaviour, "review");
    let engine = engine();
    if let Err(e) = engine.load(&pack) {
        panic!("{behaviour} should load (it misbehaves only in evaluate): {e}");
    }
    // Twice: the failed instance is replaced and fails the same way again,
    // while kz-threshold keeps its verdicts.
    for _ in 0..2 {
        assert_contained(
            &decide(&engine, &batch()),
            behaviour.rule_id(),
            reason,
            Action::Review,
        );
    }
}

#[test]
fn an_endless_loop_times_out() {
    contained_and_recovering(Behaviour::EndlessLoop, "timeout");
}

#[test]
fn a_memory_bomb_hits_the_cap() {
    contained_and_recovering(Behaviour::MemoryBomb, "memory");
}

#[test]
fn a_trap_is_contained() {
    contained_and_recovering(Behaviour::Trap, "trap");
}

#[test]
fn deep_recursion_overflows_the_stack_cap() {
    contained_and_recovering(Behaviour::DeepRecursion, "stack-overflow");
}

#[test]
fn an_undeclared_finding_code_breaks_the_contract() {
    contained_and_recovering(Behaviour::EmitsUndeclaredCode, "contract");
}

#[test]
fn too_few_verdicts_break_the_contract() {
    contained_and_recovering(Behaviour::WrongVerdictCount, "contract");
}

#[test]
fn the_packs_failure_action_is_applied() {
    let (_dir, pack) = pack_with(Behaviour::Trap, "hold");
    let engine = engine();
    if let Err(e) = engine.load(&pack) {
        panic!("load: {e}");
    }
    let decisions = decide(&engine, &batch());
    assert_contained(&decisions, Behaviour::Trap.rule_id(), "trap", Action::Hold);
    assert!(decisions.iter().all(|d| d.action == Action::Hold));
}

#[test]
fn a_well_behaved_fixture_adds_nothing() {
    let (_dir, pack) = pack_with(Behaviour::Allow, "review");
    let engine = engine();
    if let Err(e) = engine.load(&pack) {
        panic!("load: {e}");
    }
    let decisions = decide(&engine, &batch());
    assert!(decisions.iter().all(|d| !d.has(PLUGIN_FAILED)));
    assert_eq!(decisions[0].action, Action::Verify);
    assert_eq!(decisions[1].action, Action::Allow);
}

#[test]
fn a_filesystem_import_is_refused_at_load_and_the_active_pack_keeps_deciding() {
    let engine = engine();
    let (_good_dir, good) = pack_with(Behaviour::Allow, "review");
    if let Err(e) = engine.load(&good) {
        panic!("load: {e}");
    }
    let bytes = match hostile::filesystem_importing_component() {
        Ok(b) => b,
        Err(e) => panic!("fixture: {e}"),
    };
    let (_bad_dir, bad) = pack_from(hostile::FILESYSTEM_RULE_ID, &bytes, "review", 2);
    match engine.load(&bad) {
        Err(e @ LoadError::ForbiddenImport { .. }) => {
            let message = e.to_string();
            assert!(message.contains("wasi:filesystem/"), "{message}");
            assert!(message.contains(hostile::FILESYSTEM_RULE_ID), "{message}");
        }
        Err(other) => panic!("refused for the wrong reason: {other}"),
        Ok(_) => panic!("a plugin importing wasi:filesystem was loaded"),
    }
    let decisions = decide(&engine, &batch());
    assert!(
        decisions.iter().all(|d| d.pack.serial == 1),
        "the good pack still decides"
    );
    assert_eq!(decisions[0].action, Action::Verify);
    assert!(decisions[2].has("CASH_BIOMETRIC_REQUIRED"));
}
