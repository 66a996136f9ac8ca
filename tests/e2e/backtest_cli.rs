//! `qorgan gen` and `qorgan backtest`, run as an analyst runs them: a
//! seeded stream written twice must be the same bytes, and the backtest of
//! the reference pack over it prints a score for every typology.

use std::path::Path;
use std::process::{Command, Output};

use qorgan_e2e::fixtures::{qorgan_bin, reference_pack_built, tempdir};
use serde_json::Value;

fn qorgan(args: &[&str], cwd: &Path) -> Output {
    match Command::new(qorgan_bin())
        .args(args)
        .current_dir(cwd)
        .output()
    {
        Ok(out) => out,
        Err(e) => panic!("cannot run qorgan: {e}"),
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn gen_3000(dir: &Path) -> Vec<u8> {
    let out = qorgan(&["gen", "--seed", "1", "--count", "3000"], dir);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("mule"),
        "population summary: {}",
        stderr(&out)
    );
    out.stdout
}

fn is_ratio(value: &Value) -> bool {
    value.is_null() || value.as_f64().is_some_and(|v| (0.0..=1.0).contains(&v))
}

#[test]
fn gen_is_reproducible_and_backtest_scores_every_typology() {
    let dir = tempdir();
    let first = gen_3000(dir.path());
    let second = gen_3000(dir.path());
    assert!(
        first == second,
        "the same seed and count gave different bytes"
    );
    assert_eq!(first.iter().filter(|b| **b == b'\n').count(), 3000);

    let input = dir.path().join("stream.jsonl");
    if let Err(e) = std::fs::write(&input, &first) {
        panic!("cannot write {}: {e}", input.display());
    }
    let pack = reference_pack_built();
    let pack_dir = pack.path().to_string_lossy().into_owned();
    let input_path = input.to_string_lossy().into_owned();
    let out = qorgan(
        &[
            "backtest",
            "--pack",
            &pack_dir,
            "--input",
            &input_path,
            "--json",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert_eq!(report["transactions"], 3000, "{report}");
    assert_eq!(report["rejected"], 0);
    assert_eq!(report["unlabelled"], 0);
    for typology in ["mule", "exchanger", "structuring"] {
        let score = &report["typologies"][typology];
        assert!(score.is_object(), "{typology} missing: {report}");
        assert!(
            score["actual"].as_u64().is_some_and(|n| n > 0),
            "{typology}: {score}"
        );
        assert!(is_ratio(&score["precision"]), "{typology}: {score}");
        assert!(is_ratio(&score["recall"]), "{typology}: {score}");
        for count in ["flagged", "tp", "fp", "fn"] {
            assert!(score[count].is_u64(), "{typology}.{count}: {score}");
        }
    }
    assert!(is_ratio(&report["legitimate"]["share"]), "{report}");
    assert!(report["alerts_per_1000"].is_number());
    assert!(report["rules"].as_array().is_some_and(|r| !r.is_empty()));

    // The text summary is a table with a row per typology.
    let text = qorgan(
        &["backtest", "--pack", &pack_dir, "--input", &input_path],
        dir.path(),
    );
    assert_eq!(text.status.code(), Some(0), "{}", stderr(&text));
    let table = String::from_utf8_lossy(&text.stdout);
    for row in ["mule", "exchanger", "structuring", "precision", "customer"] {
        assert!(table.contains(row), "{row} missing from:\n{table}");
    }
}

#[test]
fn backtest_counts_bad_lines_and_exits_65_and_a_missing_pack_exits_2() {
    let dir = tempdir();
    let mut stream = String::from_utf8_lossy(&gen_small(dir.path())).into_owned();
    stream.push_str("{not json\n");
    let input = dir.path().join("stream.jsonl");
    if let Err(e) = std::fs::write(&input, stream) {
        panic!("cannot write {}: {e}", input.display());
    }
    let input_path = input.to_string_lossy().into_owned();
    let pack = reference_pack_built();
    let pack_dir = pack.path().to_string_lossy().into_owned();
    let out = qorgan(
        &[
            "backtest",
            "--pack",
            &pack_dir,
            "--input",
            &input_path,
            "--json",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(65), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert_eq!(report["rejected"], 1, "{report}");
    assert_eq!(report["transactions"], 200);
    assert_eq!(report["rejected_lines"][0]["line"], 201);

    let missing = dir
        .path()
        .join("no-such-pack")
        .to_string_lossy()
        .into_owned();
    let out = qorgan(
        &["backtest", "--pack", &missing, "--input", &input_path],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

fn gen_small(dir: &Path) -> Vec<u8> {
    let out = qorgan(
        &["gen", "--seed", "9", "--count", "200", "--days", "3"],
        dir,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    out.stdout
}

#[test]
fn a_look_back_is_decided_as_history_and_only_the_period_is_scored() {
    let dir = tempdir();
    let out = qorgan(
        &[
            "gen",
            "--seed",
            "3",
            "--count",
            "1500",
            "--look-back-days",
            "5",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("days of look-back"),
        "{}",
        stderr(&out)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let history = text.lines().filter(|l| l.contains("\"id\":\"lb-")).count();
    assert!(history > 0, "no look-back lines");
    assert_eq!(text.lines().count(), 1500 + history);
    let input = dir.path().join("stream.jsonl");
    if let Err(e) = std::fs::write(&input, text.as_bytes()) {
        panic!("cannot write {}: {e}", input.display());
    }
    let pack = reference_pack_built();
    let pack_dir = pack.path().to_string_lossy().into_owned();
    let input_path = input.to_string_lossy().into_owned();
    let backtest = |from: &str| {
        qorgan(
            &[
                "backtest",
                "--pack",
                &pack_dir,
                "--input",
                &input_path,
                "--score-from",
                from,
                "--json",
            ],
            dir.path(),
        )
    };
    let out = backtest("2025-03-01T00:00:00Z");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert_eq!(report["transactions"], 1500, "{report}");
    assert_eq!(report["history"], history, "{report}");
    // A time that is not RFC 3339 is refused, naming the flag.
    let bad = backtest("March 1st");
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert!(stderr(&bad).contains("--score-from"), "{}", stderr(&bad));
}
