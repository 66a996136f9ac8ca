//! `qorgan test`, `qorgan new` and `qorgan::testing`, end to end: the
//! reference pack proves every code it declares, a wrong expectation fails
//! with a diff naming the field, and a rule scaffolded from nothing builds,
//! passes its case, and replays its recorded host calls without a store.

use std::path::Path;
use std::process::{Command, Output};

use qorgan_e2e::fixtures::{qorgan_bin, reference_pack_built, tempdir, write};

fn qorgan_in(dir: &Path, args: &[&str]) -> Output {
    match Command::new(qorgan_bin())
        .args(args)
        .current_dir(dir)
        .output()
    {
        Ok(out) => out,
        Err(e) => panic!("cannot run qorgan: {e}"),
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn the_reference_pack_passes_its_cases_with_full_coverage_and_junit() {
    let pack = reference_pack_built();
    let junit = pack.path().join("junit.xml");
    let out = qorgan_in(
        pack.path(),
        &["test", ".", "--junit", "junit.xml", "--coverage-min", "100"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report = String::from_utf8_lossy(&out.stdout);
    let last = report.lines().last().unwrap_or_default();
    assert!(last.ends_with(" passed, 0 failed"), "{last}");
    let coverage: Vec<&str> = report
        .lines()
        .filter(|l| l.contains(" present, "))
        .collect();
    assert!(
        coverage.len() >= 2,
        "one coverage line per plugin: {report}"
    );
    assert!(coverage.iter().all(|l| l.ends_with("(100%)")), "{report}");

    let xml = std::fs::read_to_string(&junit).unwrap_or_default();
    let doc = match roxmltree::Document::parse(&xml) {
        Ok(doc) => doc,
        Err(e) => panic!("junit.xml is not XML: {e}"),
    };
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let testcases = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .count();
    let passed: usize = last
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_default();
    assert_eq!(testcases, passed, "one testcase per case");
    assert!(testcases >= 100, "the reference pack has {testcases} cases");
    assert_eq!(root.attribute("failures"), Some("0"));
}

#[test]
fn a_wrong_expectation_fails_with_exit_1_and_a_diff_naming_the_field() {
    let pack = reference_pack_built();
    write(
        &pack.path().join("wrong/case.yaml"),
        br#"
defaults:
  timestamp: "2025-03-01T10:15:00Z"
  kind: card-topup
  currency: KZT
  sender: {account: A, iin: "061211600012"}
  recipient: {account: B}
cases:
  - name: a 600000.00 top-up is wrongly expected to pass
    transaction: {amount: "600000.00"}
    expect:
      action: allow
      evidence: {TOPUP_SENDER_IIN_REQUIRED: {threshold: "600000.00"}}
  - name: a coffee is allowed
    transaction: {kind: card-payment, amount: "1500.00"}
    expect: {action: allow}
"#,
    );
    let junit = pack.path().join("junit.xml");
    let out = qorgan_in(pack.path(), &["test", ".", "wrong", "--junit", "junit.xml"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report = text(&out);
    assert!(
        report.contains("FAIL  a 600000.00 top-up is wrongly expected to pass"),
        "{report}"
    );
    assert!(
        report.contains("action: expected allow, got verify"),
        "{report}"
    );
    assert!(
        report.contains(
            "evidence.TOPUP_SENDER_IIN_REQUIRED.threshold: expected 600000.00, got 500000.00"
        ),
        "{report}"
    );
    assert!(report.contains("ok    a coffee is allowed"), "{report}");
    assert!(report.contains("1 passed, 1 failed"), "{report}");

    let xml = std::fs::read_to_string(&junit).unwrap_or_default();
    let doc = match roxmltree::Document::parse(&xml) {
        Ok(doc) => doc,
        Err(e) => panic!("junit.xml is not XML: {e}"),
    };
    let failures: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .collect();
    assert_eq!(failures.len(), 1);
    assert_eq!(
        failures[0].attribute("message"),
        Some("action: expected allow, got verify")
    );

    let json = qorgan_in(pack.path(), &["test", ".", "wrong", "--format", "json"]);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap_or_default();
    assert_eq!(value["failed"], 1);
    assert_eq!(value["cases"][0]["mismatches"][0]["field"], "action");
}

#[test]
fn filters_and_empty_runs_are_reported() {
    let pack = reference_pack_built();
    let some = qorgan_in(pack.path(), &["test", ".", "--filter", "IIN"]);
    assert_eq!(some.status.code(), Some(0), "{}", text(&some));
    let none = qorgan_in(
        pack.path(),
        &["test", ".", "--filter", "no case has this name"],
    );
    assert_eq!(none.status.code(), Some(0));
    let strict = qorgan_in(
        pack.path(),
        &[
            "test",
            ".",
            "--filter",
            "no case has this name",
            "--fail-on-empty",
        ],
    );
    assert_eq!(strict.status.code(), Some(1));
    assert!(text(&strict).contains("0 passed, 0 failed"));
}

#[test]
fn a_malformed_case_file_or_pack_exits_2_naming_it() {
    let pack = reference_pack_built();
    write(
        &pack.path().join("bad/broken.yaml"),
        b"cases:\n  - name: x\n    transaction: {amount: 5.5}\n",
    );
    let out = qorgan_in(pack.path(), &["test", ".", "bad"]);
    assert_eq!(out.status.code(), Some(2));
    let message = text(&out);
    assert!(
        message.contains("broken.yaml") && message.contains("case `x`"),
        "{message}"
    );

    let empty = tempdir();
    let out = qorgan_in(empty.path(), &["test", "."]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[test]
fn the_rust_testing_api_runs_the_pack_cases() {
    let pack = reference_pack_built();
    let report = match qorgan::testing::run_pack(pack.path()) {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    };
    qorgan::testing::assert_passed(&report, 100.0);
    assert!(report.cases.iter().all(|c| !c.decisions.is_empty()));
}

#[test]
fn a_new_rule_builds_passes_its_case_and_replays_its_recording() {
    let work = tempdir();
    let dir = work.path();

    let out = qorgan_in(dir, &["new", "demo-rule"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(dir.join("demo-rule/Cargo.toml").is_file());

    let out = qorgan_in(dir, &["build", "demo-rule"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        dir.join("demo-rule/demo-rule.wasm").is_file(),
        "{}",
        text(&out)
    );

    let out = qorgan_in(
        dir,
        &["test", "demo-rule/demo-rule.wasm", "--fail-on-empty"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains(" passed, 0 failed"), "{}", text(&out));

    // Record the host calls, then replay them: the recorded file has no
    // history, so only the recording can make the positive case pass.
    let out = qorgan_in(
        dir,
        &["test", "demo-rule/demo-rule.wasm", "--record", "recorded"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let recorded = std::fs::read_to_string(dir.join("recorded/cases.yaml")).unwrap_or_default();
    assert!(recorded.contains("call: aggregate"), "{recorded}");
    assert!(!recorded.contains("history:"), "{recorded}");
    let out = qorgan_in(dir, &["test", "demo-rule/demo-rule.wasm", "recorded"]);
    assert_eq!(out.status.code(), Some(0), "replay: {}", text(&out));

    let tampered = recorded
        .lines()
        .map(|l| match l.find("counterparties:") {
            Some(at) => format!("{}counterparties: 0", &l[..at]),
            None => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    write(&dir.join("tampered/cases.yaml"), tampered.as_bytes());
    let out = qorgan_in(dir, &["test", "demo-rule/demo-rule.wasm", "tampered"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "replayed answers decide: {}",
        text(&out)
    );
}
