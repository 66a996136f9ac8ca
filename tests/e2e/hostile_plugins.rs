//! Hostile plugins are contained: each one yields `PLUGIN_FAILED` with the
//! pack's failure action (or is refused at load, naming what it did wrong),
//! and the engine goes on deciding with the other plugins, correctly.

use std::sync::{Arc, Mutex};

use qorgan::decision::PLUGIN_FAILED;
use qorgan::engine::{LOG_BYTES_PER_BATCH, PluginStats, QUARANTINE_AFTER_FAILURES};
use qorgan::pack::DEFAULT_FUEL_PER_TRANSACTION;
use qorgan::{Action, Decision, Engine, LoadError, Pack, Transaction};
use qorgan_e2e::fixtures::{
    blocked_platform_purchase, heavy_remittance_tx, kz_threshold_component, reference_pack_built,
    tempdir, tx, write,
};
use qorgan_e2e::hostile::{self, Behaviour, Smuggled};

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
    pack_from_with(id, bytes, failure_action, serial, "", "")
}

/// As [`pack_from`], with more lines for the manifest's `[limits]` and for
/// the hostile plugin's `[[plugin]]` table.
fn pack_from_with(
    id: &str,
    bytes: &[u8],
    failure_action: &str,
    serial: u64,
    more_limits: &str,
    plugin_lines: &str,
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
{more_limits}

[[plugin]]
id = "{id}"
component = "plugins/{id}.wasm"
{plugin_lines}

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
    // The memory bomb and the huge finding list do real work before they
    // reach the cap they test: give them the fuel to get there.
    let limits = match behaviour {
        Behaviour::MemoryBomb | Behaviour::HugeFindingList => "fuel_per_transaction = 200000000",
        _ => "",
    };
    let bytes = match hostile::component(behaviour) {
        Ok(b) => b,
        Err(e) => panic!("fixture {behaviour}: {e}"),
    };
    let (_dir, pack) = pack_from_with(behaviour.rule_id(), &bytes, "review", 1, limits, "");
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
fn an_endless_loop_runs_out_of_its_fuel_budget() {
    contained_and_recovering(Behaviour::EndlessLoop, "budget");
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
        Err(e @ LoadError::ForbiddenImports { .. }) => {
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

#[test]
fn a_score_out_of_range_breaks_the_contract() {
    contained_and_recovering(Behaviour::ScoreOutOfRange, "contract");
}

#[test]
fn a_plugin_returning_hundreds_of_thousands_of_findings_is_contained() {
    contained_and_recovering(Behaviour::HugeFindingList, "output-too-large");
}

#[test]
fn a_plugin_returning_a_huge_string_is_contained() {
    contained_and_recovering(Behaviour::HugeString, "output-too-large");
}

#[test]
fn an_output_failure_names_the_budget_it_exceeded() {
    let (_dir, pack) = pack_with(Behaviour::HugeString, "review");
    let engine = engine();
    if let Err(e) = engine.load(&pack) {
        panic!("load: {e}");
    }
    let decisions = decide(&engine, &batch()[..1]);
    let Some(failed) = decisions[0]
        .findings
        .iter()
        .find(|f| f.code == PLUGIN_FAILED)
    else {
        panic!("no failure: {:?}", decisions[0].findings);
    };
    let budget = qorgan::engine::output_budget(1).to_string();
    assert_eq!(failed.evidence.get("limit_bytes"), Some(budget.as_str()));
    assert!(failed.message.contains(&budget), "{}", failed.message);
}

#[test]
fn a_trap_in_the_middle_of_a_batch_fails_only_its_transaction() {
    let (_dir, pack) = pack_with(Behaviour::TrapOnCashWithdrawal, "hold");
    let engine = engine();
    if let Err(e) = engine.load(&pack) {
        panic!("load: {e}");
    }
    // The cash withdrawal is last; put it in the middle.
    let mut txs = batch();
    txs.swap(1, 2);
    for _ in 0..2 {
        let decisions = decide(&engine, &txs);
        assert_eq!(decisions.len(), 3);
        for (d, poisoned) in decisions.iter().zip([false, true, false]) {
            let failed: Vec<_> = d
                .findings
                .iter()
                .filter(|f| f.code == PLUGIN_FAILED)
                .collect();
            if poisoned {
                assert_eq!(failed.len(), 1, "{}: {:?}", d.tx, d.findings);
                assert_eq!(failed[0].evidence.get("reason"), Some("trap"));
                assert_eq!(failed[0].action, Action::Hold);
                assert_eq!(d.action, Action::Hold);
            } else {
                assert!(failed.is_empty(), "{}: {:?}", d.tx, d.findings);
            }
        }
        assert_eq!(decisions[0].tx, "topup");
        assert!(decisions[0].has("TOPUP_SENDER_IIN_REQUIRED"));
        assert_eq!(decisions[0].action, Action::Verify);
        assert!(decisions[1].has("CASH_BIOMETRIC_REQUIRED"));
        assert_eq!(decisions[2].action, Action::Allow);
    }
}

/// The codes a stateful plugin gave each transaction over `rounds` calls
/// of the same batch, in a pack that recycles instances after `recycle`
/// calls.
fn stateful_rounds(recycle: u64, rounds: usize) -> Vec<Vec<bool>> {
    let bytes = match hostile::component(Behaviour::Stateful) {
        Ok(b) => b,
        Err(e) => panic!("fixture: {e}"),
    };
    let (_dir, pack) = pack_from_with(
        Behaviour::Stateful.rule_id(),
        &bytes,
        "review",
        1,
        &format!("recycle_after_calls = {recycle}"),
        "",
    );
    let engine = engine();
    if let Err(e) = engine.load(&pack) {
        panic!("load: {e}");
    }
    (0..rounds)
        .map(|_| {
            decide(&engine, &batch())
                .iter()
                .map(|d| d.has(hostile::DECLARED_CODE))
                .collect()
        })
        .collect()
}

#[test]
fn a_stateful_plugin_decides_identical_transactions_identically_with_a_fresh_instance_per_call() {
    let rounds = stateful_rounds(1, 4);
    assert!(
        rounds.iter().all(|r| r == &[false, false, false]),
        "the counter never survives a call: {rounds:?}"
    );
}

#[test]
fn a_stateful_plugins_state_never_outlives_recycle_after_calls() {
    // Recycled after every second call: the counter starts afresh on calls
    // 1, 3 and 5, so state shows on calls 2, 4 and 6 only.
    let rounds = stateful_rounds(2, 6);
    let flagged: Vec<bool> = rounds.iter().map(|r| r.iter().all(|f| *f)).collect();
    let clean: Vec<bool> = rounds.iter().map(|r| r.iter().all(|f| !*f)).collect();
    assert_eq!(
        flagged,
        [false, true, false, true, false, true],
        "{rounds:?}"
    );
    assert_eq!(clean, [true, false, true, false, true, false], "{rounds:?}");
}

#[test]
fn imports_outside_the_contract_are_refused_at_load_naming_the_import() {
    let engine = engine();
    let (_good_dir, good) = pack_with(Behaviour::Allow, "review");
    if let Err(e) = engine.load(&good) {
        panic!("load: {e}");
    }
    for (serial, smuggled) in (2..).zip(Smuggled::ALL) {
        let bytes = match hostile::importing_component(smuggled) {
            Ok(b) => b,
            Err(e) => panic!("fixture {smuggled:?}: {e}"),
        };
        let (_bad_dir, bad) = pack_from(smuggled.rule_id(), &bytes, "review", serial);
        match engine.load(&bad) {
            Err(LoadError::ForbiddenImports { plugin, imports }) => {
                assert_eq!(plugin, smuggled.rule_id());
                // Every interface of the smuggled package is named
                // (wasi:filesystem's `types` as well as `preopens`), and
                // nothing of the contract is.
                let package = |name: &str| name.split('/').next().map(str::to_owned);
                assert!(
                    imports.iter().any(|i| i == smuggled.interface()),
                    "{imports:?}"
                );
                assert!(
                    imports
                        .iter()
                        .all(|i| package(i) == package(smuggled.interface())),
                    "{imports:?}"
                );
            }
            Err(other) => panic!("{smuggled:?} refused for the wrong reason: {other}"),
            Ok(_) => panic!("a plugin importing {} was loaded", smuggled.interface()),
        }
    }
    let decisions = decide(&engine, &batch());
    assert!(decisions.iter().all(|d| d.pack.serial == 1));
    assert_eq!(decisions[0].action, Action::Verify);
}

/// A component importing three interfaces outside the contract, around a
/// core module with `functions` functions: large enough that compiling it
/// would take far longer than reading its imports.
fn three_foreign_imports_component(functions: usize) -> Vec<u8> {
    let mut wat = String::from(
        "(component\n\
         (import \"wasi:filesystem/preopens@0.2.0\" (instance))\n\
         (import \"wasi:http/outgoing-handler@0.2.0\" (instance))\n\
         (import \"wasi:clocks/wall-clock@0.2.0\" (instance))\n\
         (core module\n",
    );
    for i in 0..functions {
        wat.push_str(&format!(
            "(func (export \"f{i}\") (param i64) (result i64) \
             (local.get 0) (i64.const {i}) (i64.mul) (i64.const 7) (i64.rem_u) \
             (local.get 0) (i64.add) (i64.const 3) (i64.shl))\n"
        ));
    }
    wat.push_str("))\n");
    match wat::parse_str(&wat) {
        Ok(bytes) => bytes,
        Err(e) => panic!("fixture: {e}"),
    }
}

#[test]
fn a_component_importing_three_foreign_interfaces_is_refused_before_compiling_naming_all_three() {
    let engine = engine();
    let bytes = three_foreign_imports_component(20_000);
    let (_dir, pack) = pack_from("three-imports", &bytes, "review", 1);
    let started = std::time::Instant::now();
    let outcome = engine.load(&pack);
    let elapsed = started.elapsed();
    eprintln!("three foreign imports refused in {elapsed:?}");
    match outcome {
        Err(e @ LoadError::ForbiddenImports { .. }) => {
            let message = e.to_string();
            for interface in [
                "wasi:filesystem/preopens@0.2.0",
                "wasi:http/outgoing-handler@0.2.0",
                "wasi:clocks/wall-clock@0.2.0",
            ] {
                assert!(message.contains(interface), "{message}");
            }
            assert!(message.contains("three-imports"), "{message}");
        }
        Err(other) => panic!("refused for the wrong reason: {other}"),
        Ok(_) => panic!("a plugin importing three WASI interfaces was loaded"),
    }
    assert!(
        elapsed < std::time::Duration::from_secs(1),
        "refusing took {elapsed:?}: the component was compiled first"
    );
}

/// kz-threshold's findings in `decisions`, as comparable text.
fn well_behaved_findings(decisions: &[Decision]) -> Vec<Vec<String>> {
    decisions
        .iter()
        .map(|d| {
            d.findings
                .iter()
                .filter(|f| f.rule.starts_with("kz-threshold@"))
                .map(|f| format!("{f:?}"))
                .collect()
        })
        .collect()
}

#[test]
fn a_hostile_plugins_failure_leaves_a_well_behaved_plugins_findings_unchanged() {
    let (_dir, control) = pack_with(Behaviour::Allow, "review");
    let control_engine = engine();
    if let Err(e) = control_engine.load(&control) {
        panic!("load: {e}");
    }
    let expected = well_behaved_findings(&decide(&control_engine, &batch()));
    assert!(expected.iter().any(|f| !f.is_empty()));
    for behaviour in Behaviour::ALL {
        // The log flood decides (it only logs too much).
        if matches!(
            behaviour,
            Behaviour::Allow | Behaviour::Stateful | Behaviour::LogFlood
        ) {
            continue;
        }
        let (_dir, pack) = pack_with(behaviour, "block");
        let engine = engine();
        if let Err(e) = engine.load(&pack) {
            panic!("load {behaviour}: {e}");
        }
        let decisions = decide(&engine, &batch());
        assert_eq!(
            well_behaved_findings(&decisions),
            expected,
            "{behaviour} changed kz-threshold's findings"
        );
        assert!(
            decisions.iter().any(|d| d.has(PLUGIN_FAILED)),
            "{behaviour} failed somewhere"
        );
    }
}

/// The hostile plugin's costs on `evaluator` (it is first in the pack).
fn hostile_stats(evaluator: &qorgan::Evaluator) -> PluginStats {
    match evaluator.plugin_stats().first() {
        Some(stats) => *stats,
        None => panic!("no plugin stats"),
    }
}

/// `count` transactions kz-threshold has clear answers for, in turn.
fn many(count: usize) -> Vec<Transaction> {
    let three = batch();
    (0..count)
        .map(|i| {
            let mut t = three[i % 3].clone();
            t.id = format!("{}-{i}", t.id);
            t
        })
        .collect()
}

#[test]
fn a_budget_failure_names_the_budget_per_transaction_from_the_plugins_own_setting() {
    let bytes = match hostile::component(Behaviour::EndlessLoop) {
        Ok(b) => b,
        Err(e) => panic!("fixture: {e}"),
    };
    let (_dir, pack) = pack_from_with(
        Behaviour::EndlessLoop.rule_id(),
        &bytes,
        "review",
        1,
        "fuel_per_transaction = 3000000",
        "fuel_per_transaction = 40000",
    );
    let engine = engine();
    if let Err(e) = engine.load(&pack) {
        panic!("load: {e}");
    }
    let decisions = decide(&engine, &batch()[..1]);
    let Some(failed) = decisions[0]
        .findings
        .iter()
        .find(|f| f.code == PLUGIN_FAILED)
    else {
        panic!("no failure: {:?}", decisions[0].findings);
    };
    assert_eq!(failed.evidence.get("reason"), Some("budget"));
    assert_eq!(failed.evidence.get("fuel_per_transaction"), Some("40000"));
    assert!(
        failed.message.contains("40000 fuel per transaction"),
        "{}",
        failed.message
    );
}

#[test]
fn a_plugin_that_spins_then_traps_on_1000_transactions_stays_within_its_stated_bound() {
    let (_dir, pack) = pack_with(Behaviour::SpinThenTrap, "review");
    let engine = engine();
    if let Err(e) = engine.load(&pack) {
        panic!("load: {e}");
    }
    let (_control_dir, control) = pack_with(Behaviour::Allow, "review");
    let control_engine = engine_with(&control);
    let txs = many(1000);
    let expected = well_behaved_findings(&decide(&control_engine, &txs));

    let mut evaluator = engine.evaluator();
    let decisions: Vec<Decision> = evaluator
        .evaluate_batch(&txs)
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("no decision: {e}")))
        .collect();
    let stats = hostile_stats(&evaluator);

    // The stated bound: every call within one transaction's budget; a
    // plugin that fails on everything is quarantined after
    // QUARANTINE_AFTER_FAILURES transactions, each found with at most two
    // calls per level of the bisection.
    let n = txs.len() as u64;
    let levels = u64::from(n.next_power_of_two().trailing_zeros());
    assert!(
        stats.calls <= 1 + 2 * QUARANTINE_AFTER_FAILURES * levels,
        "{stats:?}"
    );
    assert!(
        stats.fuel <= stats.calls * DEFAULT_FUEL_PER_TRANSACTION,
        "{stats:?}"
    );
    assert!(
        stats.calls < n / 10,
        "far fewer calls than transactions: {stats:?}"
    );
    assert_eq!(stats.quarantines, 1, "{stats:?}");
    assert_eq!(stats.failed, n, "{stats:?}");

    let reasons = |reason: &str| {
        decisions
            .iter()
            .filter(|d| {
                d.findings
                    .iter()
                    .any(|f| f.code == PLUGIN_FAILED && f.evidence.get("reason") == Some(reason))
            })
            .count() as u64
    };
    assert_eq!(reasons("trap"), QUARANTINE_AFTER_FAILURES);
    assert_eq!(reasons("quarantined"), n - QUARANTINE_AFTER_FAILURES);
    assert!(decisions.iter().all(|d| d.action >= Action::Review));
    assert_eq!(
        well_behaved_findings(&decisions),
        expected,
        "kz-threshold's verdicts stand"
    );
}

fn engine_with(pack: &Pack) -> Engine {
    let engine = engine();
    if let Err(e) = engine.load(pack) {
        panic!("load: {e}");
    }
    engine
}

#[test]
fn four_transactions_that_exhaust_a_real_plugins_budget_leave_the_other_252_with_its_real_verdicts()
{
    let dir = reference_pack_built();
    let pack = match Pack::read(dir.path()) {
        Ok(p) => p,
        Err(e) => panic!("pack: {e}"),
    };
    let workload = match qorgan_lab::bench::Workload::generate(4, 251) {
        Ok(w) => w,
        Err(e) => panic!("generate: {e}"),
    };
    let mut txs = workload.transactions;
    let heavy_at = [10, 70, 71, 200];
    for (n, at) in heavy_at.iter().enumerate() {
        txs.insert(*at, heavy_remittance_tx(&format!("heavy-{n}")));
    }
    let purchase_at = 72;
    txs.insert(purchase_at, blocked_platform_purchase("blocked-purchase"));
    assert_eq!(txs.len(), 256);

    // One batch of 256, and the same stream one transaction at a time.
    let batched_engine = engine_with(&pack);
    let mut evaluator = batched_engine.evaluator();
    let batched: Vec<Decision> = evaluator
        .evaluate_batch(&txs)
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("no decision: {e}")))
        .collect();
    let single_engine = engine_with(&pack);
    let mut singles = Vec::with_capacity(txs.len());
    for tx in &txs {
        singles.extend(decide(&single_engine, std::slice::from_ref(tx)));
    }

    let essence = |d: &Decision| {
        let mut d = d.clone();
        d.decision_id.clear();
        d.elapsed_us = 0;
        d.to_json()
    };
    for (i, (b, s)) in batched.iter().zip(&singles).enumerate() {
        assert_eq!(essence(b), essence(s), "decision {i} depends on its batch");
        let failed: Vec<_> = b
            .findings
            .iter()
            .filter(|f| f.code == PLUGIN_FAILED)
            .collect();
        let heavy = b.tx.starts_with("heavy-");
        if heavy {
            assert_eq!(failed.len(), 1, "{}: {:?}", b.tx, b.findings);
            assert!(failed[0].rule.starts_with("kz-exchanger@"));
            assert_eq!(failed[0].evidence.get("reason"), Some("budget"));
            assert!(b.action >= Action::Review);
        } else {
            assert!(failed.is_empty(), "{}: {:?}", b.tx, b.findings);
        }
    }
    assert_eq!(
        batched
            .iter()
            .filter(|d| d.tx.starts_with("heavy-"))
            .count(),
        4
    );
    let purchase = &batched[purchase_at];
    assert_eq!(purchase.tx, "blocked-purchase");
    assert!(purchase.has("VASP_BLOCKED"), "{:?}", purchase.findings);
    assert_eq!(purchase.action, Action::Block);

    let index = pack
        .manifest
        .plugins
        .iter()
        .position(|p| p.id == "kz-exchanger");
    let exchanger = match index.and_then(|i| evaluator.plugin_stats().get(i)) {
        Some(stats) => *stats,
        None => panic!("no stats for kz-exchanger"),
    };
    assert_eq!(exchanger.failed, 4, "{exchanger:?}");
    assert_eq!(exchanger.quarantines, 0, "{exchanger:?}");
    // At most 2n - 1 calls, each within one transaction's budget.
    assert!(exchanger.calls < 2 * 256, "{exchanger:?}");
    assert!(
        exchanger.fuel <= exchanger.calls * DEFAULT_FUEL_PER_TRANSACTION,
        "{exchanger:?}"
    );
}

/// Log output captured in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

#[test]
fn a_plugin_logging_100_mb_per_call_leaves_at_most_its_budget_each_line_attributed_to_it() {
    let (_dir, pack) = pack_with(Behaviour::LogFlood, "review");
    let engine = engine_with(&pack);
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        // The engine's own lines (plugin logs among them), not wasmtime's.
        .with_env_filter(tracing_subscriber::EnvFilter::new("qorgan=trace"))
        .with_ansi(false)
        .finish();
    // The engine logs through `log`; its records reach this thread's
    // subscriber as the service's and the command line's do.
    let _ = tracing_log::LogTracer::init();
    let mut evaluator = engine.evaluator();
    let rounds = 2;
    tracing::subscriber::with_default(subscriber, || {
        for _ in 0..rounds {
            let decided = evaluator.evaluate_batch(&batch());
            assert!(decided.iter().all(Result::is_ok));
        }
    });
    let text =
        String::from_utf8_lossy(&captured.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned();
    let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    let flood: Vec<&&str> = lines.iter().filter(|l| l.contains("flood\\n")).collect();
    assert!(!flood.is_empty(), "some of the log gets through:\n{text}");
    let message_bytes = hostile::LOG_FLOOD_MESSAGE_BYTES as usize;
    assert!(
        flood.len() * message_bytes <= rounds * LOG_BYTES_PER_BATCH,
        "{} lines of {message_bytes} bytes in {rounds} batches",
        flood.len()
    );
    for line in &lines {
        assert!(
            line.contains(Behaviour::LogFlood.rule_id()),
            "a line not attributed to the plugin: {line}"
        );
        assert!(
            !line.starts_with(&hostile::FORGED_LINE[..20]),
            "a forged line: {line}"
        );
    }
    let stats = hostile_stats(&evaluator);
    assert!(stats.log_lines_dropped > 0, "{stats:?}");
    assert!(
        stats.log_bytes_dropped >= stats.log_lines_dropped * message_bytes as u64,
        "{stats:?}"
    );
}
