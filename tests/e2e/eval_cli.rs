//! `qorgan pack build`, `qorgan eval`, `qorgan build` and `qorgan inspect`,
//! run as a bank engineer runs them.

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Output, Stdio};

use qorgan_e2e::fixtures::{
    finding_codes, qorgan_bin, reference_pack_copy, sample_transactions, tempdir, tx_json,
    workspace, write,
};
use serde_json::Value;

fn qorgan(args: &[&std::ffi::OsStr], stdin: Option<&str>) -> Output {
    let mut child = match Command::new(qorgan_bin())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => panic!("cannot run qorgan: {e}"),
    };
    if let Some(mut pipe) = child.stdin.take() {
        let _ = pipe.write_all(stdin.unwrap_or("").as_bytes());
    }
    match child.wait_with_output() {
        Ok(out) => out,
        Err(e) => panic!("qorgan did not finish: {e}"),
    }
}

fn os(s: &str) -> &std::ffi::OsStr {
    std::ffi::OsStr::new(s)
}

fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or(Value::Null))
        .collect()
}

/// Builds a copy of the reference pack with the CLI and returns it.
fn built_pack() -> tempfile::TempDir {
    let pack = reference_pack_copy();
    let out = qorgan(&[os("pack"), os("build"), pack.path().as_os_str()], None);
    assert!(
        out.status.success(),
        "pack build failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let manifest = std::fs::read_to_string(pack.path().join("pack.toml")).unwrap_or_default();
    let entries = manifest.matches("[[plugin]]").count() + manifest.matches("[[list]]").count();
    assert!(entries >= 4, "{manifest}");
    assert_eq!(
        manifest.matches("\nsha256 = ").count(),
        entries,
        "one digest per component and list:\n{manifest}"
    );
    pack
}

#[test]
fn reference_pack_decides_the_sample_transactions() {
    let pack = built_pack();
    let out = qorgan(
        &[
            os("eval"),
            os("--pack"),
            pack.path().as_os_str(),
            os("--input"),
            sample_transactions().as_os_str(),
        ],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let decisions: HashMap<String, Value> = lines(&out)
        .into_iter()
        .map(|d| (d["tx"].as_str().unwrap_or_default().to_owned(), d))
        .collect();
    assert_eq!(decisions.len(), 24, "one decision per sample transaction");

    let topup = &decisions["tx-0001"];
    assert_eq!(topup["action"], "verify");
    assert_eq!(topup["requirements"], serde_json::json!(["sender-iin"]));
    assert_eq!(finding_codes(topup), vec!["TOPUP_SENDER_IIN_REQUIRED"]);
    assert_eq!(
        topup["findings"][0]["message"],
        "card top-up of 600000.00 KZT above 500000.00 KZT needs the sender's IIN"
    );
    assert_eq!(topup["findings"][0]["rule"], "kz-threshold@1.0.0");
    assert_eq!(topup["pack"]["name"], "kz-afm");

    let at_threshold = &decisions["tx-0002"];
    assert_eq!(at_threshold["action"], "allow");
    assert!(finding_codes(at_threshold).is_empty());

    let one_tiyn_above = &decisions["tx-0012"];
    assert_eq!(
        one_tiyn_above["requirements"],
        serde_json::json!(["sender-iin"])
    );

    let bad_iin = &decisions["tx-0004"];
    assert!(finding_codes(bad_iin).contains(&"IIN_INVALID".to_owned()));
    assert_eq!(bad_iin["action"], "review");

    let cash = &decisions["tx-0005"];
    assert_eq!(cash["action"], "verify");
    assert_eq!(cash["requirements"], serde_json::json!(["biometric"]));

    let cash_verified = &decisions["tx-0006"];
    assert_eq!(cash_verified["action"], "allow");

    let okx = &decisions["tx-0009"];
    assert_eq!(
        okx["action"], "block",
        "a purchase at an unlicensed platform"
    );
    assert!(finding_codes(okx).contains(&"VASP_UNLICENSED".to_owned()));
    assert!(finding_codes(okx).contains(&"CRYPTO_REMITTANCE_KEYWORDS".to_owned()));
    assert_eq!(okx["findings"][0]["rule"], "kz-exchanger@1.0.0");

    let dollars = &decisions["tx-0008"];
    assert_eq!(
        dollars["requirements"],
        serde_json::json!(["sender-iin"]),
        "1000 USD = 520000 KZT"
    );

    // A mule: eleven transfers from eleven people to an account opened five
    // days before, each allowed, then the cash-out is held.
    for id in 13..=23 {
        let inbound = &decisions[&format!("tx-{id:04}")];
        assert_eq!(inbound["action"], "allow", "tx-{id:04}");
    }
    let cash_out = &decisions["tx-0024"];
    assert_eq!(cash_out["action"], "hold");
    assert_eq!(
        finding_codes(cash_out),
        vec!["CASH_DAILY_CAP_EXCEEDED", "MULE_SCORE_HIGH"]
    );
    let mule = cash_out["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["code"] == "MULE_SCORE_HIGH"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(mule["rule"], "kz-mule@1.0.0");
    assert_eq!(mule["evidence"]["side"], "sender");
    assert_eq!(mule["evidence"]["senders"], "11");
    assert_eq!(mule["evidence"]["account-age-days"], "5");
}

#[test]
fn bad_lines_get_error_records_in_place_and_exit_65() {
    let pack = built_pack();
    let good = tx_json("g-1", "card-topup", "600000.00", "061211600012", &[]);
    let missing_amount =
        tx_json("b-1", "transfer", "1.00", "061211600012", &[]).replace("\"amount\":\"1.00\",", "");
    let float_amount = tx_json("b-2", "transfer", "1.00", "061211600012", &[])
        .replace("\"amount\":\"1.00\"", "\"amount\":1.5");
    let input = [
        good.as_str(),
        "{not json",
        &missing_amount,
        &tx_json("g-2", "cash-withdrawal", "100.00", "061211600012", &[]),
        "",
        &float_amount,
        &tx_json("g-3", "card-payment", "10.00", "061211600012", &[]),
    ]
    .join("\n");
    let out = qorgan(
        &[
            os("eval"),
            os("--pack"),
            pack.path().as_os_str(),
            os("--batch"),
            os("2"),
        ],
        Some(&input),
    );
    assert_eq!(
        out.status.code(),
        Some(65),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = lines(&out);
    assert_eq!(got.len(), 6, "one output line per non-blank input line");
    assert_eq!(got[0]["tx"], "g-1");
    assert_eq!(got[1]["line"], 2);
    assert!(
        got[1]["error"]
            .as_str()
            .unwrap_or("")
            .starts_with("not a JSON object")
    );
    assert_eq!(got[2]["line"], 3);
    assert_eq!(got[2]["error"], "missing field `amount`");
    assert_eq!(got[3]["tx"], "g-2");
    assert_eq!(got[3]["requirements"], serde_json::json!(["biometric"]));
    assert_eq!(got[4]["line"], 6);
    assert!(
        got[4]["error"]
            .as_str()
            .unwrap_or("")
            .starts_with("field `amount`")
    );
    assert_eq!(got[5]["tx"], "g-3");
}

#[test]
fn a_clean_stream_exits_zero() {
    let pack = built_pack();
    let input = tx_json("g-1", "card-payment", "10.00", "061211600012", &[]);
    let out = qorgan(
        &[os("eval"), os("--pack"), pack.path().as_os_str()],
        Some(&input),
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(lines(&out)[0]["action"], "allow");
}

#[test]
fn eval_on_an_unbuilt_pack_names_the_missing_component_and_how_to_build_it() {
    let pack = reference_pack_copy();
    let out = qorgan(
        &[os("eval"), os("--pack"), pack.path().as_os_str()],
        Some(""),
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("plugin `kz-threshold`") && stderr.contains("qorgan pack build"),
        "{stderr}"
    );
}

#[test]
fn build_then_inspect_shows_the_rules_contract() {
    let dir = tempdir();
    let wasm = dir.path().join("rule.wasm");
    let crate_dir = workspace().join("plugins/kz-threshold");
    let out = qorgan(
        &[
            os("build"),
            crate_dir.as_os_str(),
            os("-o"),
            wasm.as_os_str(),
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = qorgan(&[os("inspect"), wasm.as_os_str(), os("--json")], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert_eq!(info["id"], "kz-threshold");
    let declared: Vec<&str> = info["codes"]
        .as_array()
        .map(|c| c.iter().filter_map(|x| x["code"].as_str()).collect())
        .unwrap_or_default();
    for code in [
        "TOPUP_SENDER_IIN_REQUIRED",
        "IIN_INVALID",
        "CASH_BIOMETRIC_REQUIRED",
    ] {
        assert!(declared.contains(&code), "{code} missing from {declared:?}");
    }
    let imports = info["imports"].as_array().cloned().unwrap_or_default();
    assert!(
        imports
            .iter()
            .all(|i| i.as_str().is_some_and(|s| s.starts_with("qorgan:rule/"))),
        "{imports:?}"
    );
    let text = qorgan(&[os("inspect"), wasm.as_os_str()], None);
    assert!(String::from_utf8_lossy(&text.stdout).contains("topup-threshold"));
    write(&dir.path().join("junk.wasm"), b"not wasm");
    let bad = qorgan(
        &[os("inspect"), dir.path().join("junk.wasm").as_os_str()],
        None,
    );
    assert_eq!(bad.status.code(), Some(2));
}
