//! A rule change from the author's edit to the bank's shadow run: `pack
//! diff` names what changed, `backtest --baseline` says what it does to a
//! stream (and is exactly the difference of two `eval` runs), `serve` with
//! a shadow candidate answers with the active pack while counting the same
//! differences, and `pack sign` / `pack publish` refuse a pack whose own
//! cases fail. `audit replay --pack` finds the same change over the
//! decision log. Case files naming a code no plugin declares do not load.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use qorgan::pack::sha256_hex;
use qorgan_e2e::fixtures::{tempdir, write};
use qorgan_e2e::releases::{edit, keys, ok, release, unchanged};
use qorgan_e2e::service::{Service, get, post, qorgan};
use serde_json::Value;

/// Replaces the bytes of `file` (relative to the pack) by `bytes`, and its
/// digest in `pack.toml` with theirs, as `pack build` would record it.
fn replace_file(pack: &Path, file: &str, bytes: &[u8]) {
    let path = pack.join(file);
    let old = ok(std::fs::read(&path), "read the file to replace");
    write(&path, bytes);
    edit(
        &pack.join("pack.toml"),
        &sha256_hex(&old),
        &sha256_hex(bytes),
    );
}

/// Adds `entry` to the reference list in `lists/<list>.txt`.
fn add_list_entry(pack: &Path, list: &str, entry: &str) {
    let file = format!("lists/{list}.txt");
    let mut text = ok(std::fs::read(pack.join(&file)), "read the list");
    text.extend_from_slice(format!("{entry}\n").as_bytes());
    replace_file(pack, &file, &text);
}

/// Gives `plugins/<id>.wasm` another digest without changing what it
/// does: a custom section appended, as a rebuild with another toolchain
/// might leave.
fn touch_component(pack: &Path, id: &str) {
    let file = format!("plugins/{id}.wasm");
    let mut bytes = ok(std::fs::read(pack.join(&file)), "read the component");
    let name = b"qorgan-test";
    let mut section = vec![name.len() as u8];
    section.extend_from_slice(name);
    section.extend_from_slice(b"rebuilt");
    bytes.push(0);
    bytes.push(section.len() as u8);
    bytes.extend_from_slice(&section);
    replace_file(pack, &file, &bytes);
}

/// The three changes of a rule author's edit: the review threshold from 60
/// to 50, binance on the blocked platforms, kz-mule rebuilt.
fn three_changes(pack: &Path) {
    edit(&pack.join("pack.toml"), "review = 60\n", "review = 50\n");
    add_list_entry(pack, "blocked-vasps", "binance");
    touch_component(pack, "kz-mule");
}

/// A candidate whose own cases still pass: whitebit blocked, and the case
/// row that said a whitebit purchase is allowed removed by its author.
fn whitebit_blocked(pack: &Path) {
    add_list_entry(pack, "blocked-vasps", "whitebit");
    edit(
        &pack.join("tests/exchanger.yaml"),
        "      - {vasp: whitebit, account: WHITEBIT-DEPOSIT-1}\n",
        "",
    );
}

fn run(args: &[&str]) -> (i32, String, String) {
    qorgan(args)
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

/// `qorgan gen --seed 1 --count N` into `dir/stream.jsonl`, without the
/// `truth` labels (what a bank's systems would send).
fn stream(dir: &Path, count: usize) -> (PathBuf, Vec<String>) {
    let labelled = dir.join("labelled.jsonl");
    let (code, _, err) = run(&[
        "gen",
        "--seed",
        "1",
        "--count",
        &count.to_string(),
        "-o",
        &path(&labelled),
    ]);
    assert_eq!(code, 0, "{err}");
    let text = ok(std::fs::read_to_string(&labelled), "read the stream");
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            let mut value: Value = ok(serde_json::from_str(line), "a generated line");
            if let Some(object) = value.as_object_mut() {
                object.remove("truth");
            }
            value.to_string()
        })
        .collect();
    let unlabelled = dir.join("stream.jsonl");
    write(&unlabelled, format!("{}\n", lines.join("\n")).as_bytes());
    (labelled, lines)
}

/// `qorgan eval --pack PACK --input INPUT`: one decision per line.
fn eval(pack: &Path, input: &Path) -> Vec<Value> {
    let (code, out, err) = run(&["eval", "--pack", &path(pack), "--input", &path(input)]);
    assert_eq!(code, 0, "{err}");
    out.lines()
        .map(|l| ok(serde_json::from_str::<Value>(l), "a decision line"))
        .collect()
}

/// What counts in a decision for a change: action, score, requirements and
/// each finding code with its (strongest) action.
type Outline = (String, u64, Vec<String>, BTreeMap<String, String>);

fn outline(decision: &Value) -> Outline {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let mut codes: BTreeMap<String, String> = BTreeMap::new();
    let rank = |a: &str| {
        ["allow", "verify", "review", "hold", "block"]
            .iter()
            .position(|x| *x == a)
    };
    for f in decision["findings"].as_array().into_iter().flatten() {
        let (code, action) = (text(&f["code"]), text(&f["action"]));
        let slot = codes.entry(code).or_insert_with(|| action.clone());
        if rank(&action) > rank(slot) {
            *slot = action;
        }
    }
    let mut requirements: Vec<String> = decision["requirements"]
        .as_array()
        .into_iter()
        .flatten()
        .map(text)
        .collect();
    requirements.sort();
    (
        text(&decision["action"]),
        decision["score"].as_u64().unwrap_or(0),
        requirements,
        codes,
    )
}

/// The decision-by-decision difference of two runs, counted as the
/// reports count it: changed decisions, by (before, after) action and by
/// (code, before, after), and alerts on each side.
#[derive(Debug, Default, PartialEq)]
struct Expected {
    changed: u64,
    actions: BTreeMap<(String, String), u64>,
    codes: BTreeMap<(String, String, String), u64>,
    alerts: (u64, u64),
}

fn is_alert(action: &str) -> bool {
    matches!(action, "review" | "hold" | "block")
}

fn diff_runs(before: &[Value], after: &[Value]) -> Expected {
    assert_eq!(before.len(), after.len(), "both runs decide every line");
    let mut expected = Expected::default();
    for (b, a) in before.iter().zip(after) {
        assert_eq!(b["tx"], a["tx"], "the runs are in the same order");
        let (ob, oa) = (outline(b), outline(a));
        expected.alerts.0 += u64::from(is_alert(&ob.0));
        expected.alerts.1 += u64::from(is_alert(&oa.0));
        if ob == oa {
            continue;
        }
        expected.changed += 1;
        *expected
            .actions
            .entry((ob.0.clone(), oa.0.clone()))
            .or_insert(0) += 1;
        let none = || "none".to_owned();
        let codes: std::collections::BTreeSet<&String> = ob.3.keys().chain(oa.3.keys()).collect();
        for code in codes {
            let (cb, ca) = (ob.3.get(code).cloned(), oa.3.get(code).cloned());
            if cb != ca {
                *expected
                    .codes
                    .entry((
                        code.clone(),
                        cb.unwrap_or_else(none),
                        ca.unwrap_or_else(none),
                    ))
                    .or_insert(0) += 1;
            }
        }
    }
    expected
}

/// The same counts, as a report's `changes` (or `/v1/pack/shadow`) has them.
fn reported(changes: &Value) -> Expected {
    let text = |v: &Value| v.as_str().unwrap_or("none").to_owned();
    Expected {
        changed: changes["changed"].as_u64().unwrap_or(u64::MAX),
        actions: changes["actions"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| {
                (
                    (text(&a["before"]), text(&a["after"])),
                    a["count"].as_u64().unwrap_or(0),
                )
            })
            .collect(),
        codes: changes["codes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                (
                    (text(&c["code"]), text(&c["before"]), text(&c["after"])),
                    c["count"].as_u64().unwrap_or(0),
                )
            })
            .collect(),
        alerts: (
            changes["alerts"]["before"].as_u64().unwrap_or(u64::MAX),
            changes["alerts"]["after"].as_u64().unwrap_or(u64::MAX),
        ),
    }
}

#[test]
fn pack_diff_of_packs_differing_in_a_threshold_a_list_entry_and_a_digest_names_exactly_those_three()
{
    let root = tempdir();
    let old = release(root.path(), "old", 1, &[], unchanged);
    let new = release(root.path(), "new", 1, &[], three_changes);

    let (code, out, err) = run(&["pack", "diff", &path(&old), &path(&new), "--json"]);
    assert_eq!(code, 0, "{err}");
    let diff: Value = ok(serde_json::from_str(&out), "the diff's JSON");
    let differences = diff["differences"].as_array().cloned().unwrap_or_default();
    let named: Vec<&str> = differences
        .iter()
        .map(|d| d["what"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        named,
        [
            "thresholds.review",
            "plugin kz-mule sha256",
            "list blocked-vasps"
        ],
        "{diff}"
    );
    assert_eq!(differences[0]["before"], "60");
    assert_eq!(differences[0]["after"], "50");
    assert_eq!(differences[2]["added"], serde_json::json!(["binance"]));
    assert!(differences[2].get("removed").is_none(), "{diff}");

    let (code, text, err) = run(&["pack", "diff", &path(&old), &path(&new)]);
    assert_eq!(code, 0, "{err}");
    assert!(text.contains("3 differences"), "{text}");
    assert!(text.contains("+binance"), "{text}");

    let (code, same, err) = run(&["pack", "diff", &path(&old), &path(&old)]);
    assert_eq!(code, 0, "{err}");
    assert!(same.contains("0 differences"), "{same}");
}

#[test]
fn a_parameter_the_new_pack_stops_setting_shows_its_effective_default_in_diff_and_inspect() {
    let root = tempdir();
    let old = release(root.path(), "old", 1, &[], |dir| {
        edit(
            &dir.join("pack.toml"),
            "topup-threshold = \"500000.00\"\n",
            "topup-threshold = \"400000.00\"\n",
        );
    });
    let new = release(root.path(), "new", 1, &[], |dir| {
        edit(
            &dir.join("pack.toml"),
            "topup-threshold = \"500000.00\"\n",
            "",
        );
    });
    let (code, out, err) = run(&["pack", "diff", &path(&old), &path(&new), "--json"]);
    assert_eq!(code, 0, "{err}");
    let diff: Value = ok(serde_json::from_str(&out), "the diff's JSON");
    assert_eq!(
        diff["differences"],
        serde_json::json!([{
            "what": "plugin kz-threshold parameter topup-threshold",
            "before": "400000.00",
            "after": "500000.00"
        }]),
        "the default the new pack falls back to is shown"
    );

    let (code, text, err) = run(&["inspect", &path(&old)]);
    assert_eq!(code, 0, "{err}");
    let line = text
        .lines()
        .find(|l| l.contains("topup-threshold"))
        .unwrap_or_default();
    assert!(line.contains("value 400000.00"), "{line}");
    assert!(line.contains("(default 500000.00)"), "{line}");
}

#[test]
fn backtest_against_a_baseline_equals_the_decision_by_decision_diff_of_two_eval_runs() {
    let root = tempdir();
    let old = release(root.path(), "old", 1, &[], unchanged);
    let new = release(root.path(), "new", 1, &[], three_changes);
    let (labelled, _) = stream(root.path(), 5000);

    let (code, out, err) = run(&[
        "backtest",
        "--baseline",
        &path(&old),
        "--pack",
        &path(&new),
        "--input",
        &path(&labelled),
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let report: Value = ok(serde_json::from_str(&out), "the comparison's JSON");

    let expected = diff_runs(&eval(&old, &labelled), &eval(&new, &labelled));
    assert!(expected.changed > 0, "the change changes nothing: {report}");
    assert_eq!(reported(&report["changes"]), expected, "{report}");
    assert_eq!(report["changes"]["decided"], 5000);
    assert_eq!(report["decided_by_one"], 0);
    let per_1000 = |n: u64| n as f64 * 1000.0 / 5000.0;
    assert_eq!(
        report["changes"]["alerts"]["per_1000_before"].as_f64(),
        Some(per_1000(expected.alerts.0))
    );
    assert_eq!(
        report["changes"]["alerts"]["per_1000_after"].as_f64(),
        Some(per_1000(expected.alerts.1))
    );
    // Each side's own backtest, per typology, since the stream is labelled.
    for side in ["baseline", "candidate"] {
        assert_eq!(report[side]["transactions"], 5000, "{side}");
        assert!(report[side]["typologies"]["mule"]["actual"].as_u64() > Some(0));
    }
    // The samples carry both decisions and agree with the counts.
    let samples = report["samples"].as_array().cloned().unwrap_or_default();
    assert_eq!(samples.len() as u64, expected.changed.min(10));
    for sample in &samples {
        assert_ne!(outline(&sample["before"]), outline(&sample["after"]));
    }

    let (code, text, err) = run(&[
        "backtest",
        "--baseline",
        &path(&old),
        "--pack",
        &path(&new),
        "--input",
        &path(&labelled),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        text.contains(&format!("{} of 5000 decisions changed", expected.changed)),
        "{text}"
    );
    assert!(text.contains("VASP_BLOCKED"), "{text}");
    assert!(text.contains("per typology"), "{text}");
}

/// A public key file for each regulator key, in `dir`.
fn trust_files(dir: &Path) -> Vec<String> {
    [&keys().a, &keys().b]
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let path = dir.join(format!("afm-{i}.pub"));
            write(&path, format!("{}\n", key.public().to_line()).as_bytes());
            path.display().to_string()
        })
        .collect()
}

/// Waits until `/v1/pack/shadow` has decided `n` transactions; the
/// summary then. The shadow decides off the response path, so it may
/// trail the last answer.
fn shadow_after(service: &Service, n: u64) -> Value {
    let started = Instant::now();
    loop {
        let summary = ok(get(service.address, "/v1/pack/shadow"), "shadow").json();
        let seen = summary["decided"].as_u64().unwrap_or(0)
            + summary["undecided"].as_u64().unwrap_or(0)
            + summary["skipped"]["transactions"].as_u64().unwrap_or(0);
        if seen >= n {
            return summary;
        }
        if started.elapsed() > Duration::from_secs(120) {
            panic!(
                "the shadow saw {seen} of {n}: {summary}\n{}",
                service.stderr_text()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn serve_with_a_shadow_candidate_answers_as_the_active_pack_and_counts_the_differences_eval_predicts()
 {
    let root = tempdir();
    let signers = [&keys().a, &keys().b];
    let active = release(root.path(), "active", 1, &signers, unchanged);
    let candidate = release(root.path(), "candidate", 1, &signers, whitebit_blocked);
    let (_, lines) = stream(root.path(), 3000);
    let input = root.path().join("stream.jsonl");
    let before = eval(&active, &input);
    let expected = diff_runs(&before, &eval(&candidate, &input));
    assert!(expected.changed > 0, "the candidate changes nothing");

    let state = root.path().join("state");
    let mut args = vec![
        "--pack-source".to_owned(),
        path(&active),
        "--shadow-source".to_owned(),
        path(&candidate),
        "--state-dir".to_owned(),
        path(&state),
        "--poll-interval-ms".to_owned(),
        "100".to_owned(),
    ];
    for key in trust_files(root.path()) {
        args.push("--trust".to_owned());
        args.push(key);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let service = Service::start(&args, &[], &root.path().join("serve.err"));
    service.wait_ready(Duration::from_secs(120));
    // The candidate is checked (its 312 cases) before it decides; until it
    // is active, transactions are only remembered in its history.
    let started = Instant::now();
    while ok(get(service.address, "/v1/pack/shadow"), "shadow").json()["candidate"].is_null() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "{}",
            service.stderr_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let mut answered: Vec<Value> = Vec::new();
    for chunk in lines.chunks(500) {
        let body = format!("[{}]", chunk.join(","));
        let response = ok(post(service.address, "/v1/evaluate/batch", &body), "batch");
        assert_eq!(response.status, 200, "{}", response.body);
        answered.extend(response.json().as_array().cloned().unwrap_or_default());
    }
    assert_eq!(answered.len(), before.len());
    for (served, evaluated) in answered.iter().zip(&before) {
        assert_eq!(served["tx"], evaluated["tx"]);
        assert_eq!(
            outline(served),
            outline(evaluated),
            "the active pack's decision of {} changed",
            served["tx"]
        );
        assert_eq!(served["pack"]["serial"], 1);
    }

    let summary = shadow_after(&service, 3000);
    assert_eq!(summary["decided"], 3000, "{summary}");
    assert_eq!(summary["skipped"]["transactions"], 0, "{summary}");
    assert_eq!(reported(&summary), expected, "{summary}");

    let metrics = ok(get(service.address, "/metrics"), "metrics").body;
    assert!(
        metrics.contains(&format!("qorgan_shadow_changed_total {}", expected.changed)),
        "{metrics}"
    );
    assert!(
        metrics.contains("qorgan_shadow_decisions_total 3000"),
        "{metrics}"
    );
    for ((before, after), count) in &expected.actions {
        let line = format!(
            "qorgan_shadow_changes_by_action_total{{before=\"{before}\",after=\"{after}\"}} {count}"
        );
        assert!(metrics.contains(&line), "{line} in {metrics}");
    }
    for ((code, before, after), count) in &expected.codes {
        let line = format!(
            "qorgan_shadow_changes_by_code_total{{code=\"{code}\",before=\"{before}\",after=\"{after}\"}} {count}"
        );
        assert!(metrics.contains(&line), "{line} in {metrics}");
    }
    // Only the active pack's decisions are logged and journaled.
    let stopped = service.terminate();
    assert_eq!(stopped.code(), Some(0));
    let log = state.join("decisions.sqlite");
    let (code, out, err) = run(&["audit", "replay", "--log", &path(&log)]);
    assert_eq!(code, 0, "{out}{err}");
    // The same change, replayed over the decision log.
    let (code, out, err) = run(&[
        "audit",
        "replay",
        "--log",
        &path(&log),
        "--pack",
        &path(&candidate),
        "--json",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let replayed: Value = ok(serde_json::from_str(&out), "the replay's JSON");
    assert_eq!(replayed["rows"], 3000, "{replayed}");
    assert_eq!(replayed["undecided"], 0, "{replayed}");
    assert_eq!(reported(&replayed["changes"]), expected, "{replayed}");
}

#[test]
fn a_refused_shadow_candidate_leaves_the_active_decisions_alone() {
    let root = tempdir();
    let active = release(root.path(), "active", 1, &[&keys().a], unchanged);
    // Signed by nobody the host trusts.
    let candidate = release(root.path(), "candidate", 1, &[&keys().stranger], unchanged);
    let state = root.path().join("state");
    let trust = trust_files(root.path());
    let args = [
        "--pack-source",
        &path(&active),
        "--shadow-source",
        &path(&candidate),
        "--state-dir",
        &path(&state),
        "--trust",
        &trust[0],
    ];
    let service = Service::start(&args, &[], &root.path().join("serve.err"));
    service.wait_ready(Duration::from_secs(120));
    let started = Instant::now();
    let summary = loop {
        let summary = ok(get(service.address, "/v1/pack/shadow"), "shadow").json();
        if !summary["status"]["last_refusal"].is_null() {
            break summary;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{summary}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(summary["candidate"].is_null(), "{summary}");
    let tx = qorgan_e2e::fixtures::tx_json("t1", "card-topup", "600000.00", "061211600012", &[]);
    let response = ok(post(service.address, "/v1/evaluate", &tx), "evaluate");
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.json()["action"], "verify");
    assert_eq!(service.terminate().code(), Some(0));
}

#[test]
fn pack_publish_and_sign_of_a_pack_with_a_failing_case_exit_non_zero_naming_it() {
    let root = tempdir();
    // Signed through the library, which runs no cases: what a pack signed
    // before the gate existed looks like.
    let bad = release(root.path(), "bad", 1, &[&keys().a], |dir| {
        add_list_entry(dir, "blocked-vasps", "binance");
    });
    let failing = "vasp: a crypto purchase at binance (AFSA licensed) is allowed";
    let inbox = root.path().join("inbox");
    ok(std::fs::create_dir_all(&inbox), "inbox");

    let (code, out, err) = run(&["pack", "publish", &path(&bad), "--to", &path(&inbox)]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains(failing), "{err}");
    assert!(err.contains("--allow-failing-cases"), "{err}");
    assert_eq!(
        ok(std::fs::read_dir(&inbox), "inbox").count(),
        0,
        "nothing published"
    );

    let keys_dir = root.path().join("keys");
    let (code, _, err) = run(&["key", "generate", "--out", &path(&keys_dir), "--name", "k"]);
    assert_eq!(code, 0, "{err}");
    let key = path(&keys_dir.join("k.key"));
    let (code, _, err) = run(&["pack", "sign", &path(&bad), "--key", &key]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains(failing), "{err}");

    let (code, out, err) = run(&[
        "pack",
        "publish",
        &path(&bad),
        "--to",
        &path(&inbox),
        "--allow-failing-cases",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("WARNING"), "{err}");
    assert!(inbox.join("kz-afm-1.qpack").is_file());
}

#[test]
fn a_case_file_with_a_misspelt_code_under_absent_fails_to_load_naming_it() {
    let root = tempdir();
    let pack = release(root.path(), "pack", 1, &[], unchanged);
    let cases = root.path().join("misspelt.yaml");
    write(
        &cases,
        br#"defaults:
  timestamp: "2025-03-01T10:15:00Z"
  kind: card-topup
  channel: mobile-app
  amount: "1000.00"
  currency: KZT
  sender: {account: KZ86125KZT5004100100, iin: "061211600012", kind: individual}
  recipient: {account: "4400430212345678", kind: individual}
  verified: []
cases:
  - name: "a small top-up needs no IIN"
    transaction: {amount: "1000.00"}
    expect:
      action: allow
      absent: [TOPUP_SENDER_IIN_REQIURED]
"#,
    );
    let (code, out, err) = run(&["test", &path(&pack), &path(&cases)]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("TOPUP_SENDER_IIN_REQIURED"), "{err}");
    assert!(err.contains("`absent`"), "{err}");
    assert!(
        err.contains("declared: ") && err.contains("TOPUP_SENDER_IIN_REQUIRED"),
        "the declared codes are listed: {err}"
    );
}

#[test]
fn the_text_report_names_the_finding_that_set_a_mismatched_action() {
    let root = tempdir();
    let pack = release(root.path(), "pack", 1, &[], unchanged);
    let cases = root.path().join("wrong.yaml");
    write(
        &cases,
        br#"defaults:
  timestamp: "2025-03-01T10:15:00Z"
  kind: card-topup
  channel: mobile-app
  currency: KZT
  sender: {account: KZ86125KZT5004100100, iin: "061211600012", kind: individual}
  recipient: {account: "4400430212345678", kind: individual}
  verified: []
cases:
  - name: "a large top-up wrongly expected to pass"
    transaction: {amount: "600000.00"}
    expect: {action: allow}
"#,
    );
    let (code, out, err) = run(&["test", &path(&pack), &path(&cases)]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("action: expected allow, got verify"), "{out}");
    assert!(
        out.contains("verify set by TOPUP_SENDER_IIN_REQUIRED (kz-threshold@"),
        "{out}"
    );
}
