//! `qorgan bench --compare --json` on the reference pack: the last line is
//! one JSON object with the figures the performance budget is judged by.
//! Only the shape and sanity of the numbers are checked, never a timing.

use std::process::Command;

use qorgan_e2e::fixtures::{qorgan_bin, reference_pack_built};
use serde_json::Value;

fn positive(report: &Value, key: &str) -> f64 {
    let value = report.pointer(key).and_then(Value::as_f64);
    match value {
        Some(v) if v.is_finite() && v > 0.0 => v,
        other => panic!("{key} should be a positive number, got {other:?} in {report}"),
    }
}

#[test]
fn bench_compare_json_reports_every_figure() {
    let pack = reference_pack_built();
    let out = Command::new(qorgan_bin())
        .args(["bench", "--pack"])
        .arg(pack.path())
        .args([
            "--compare",
            "--json",
            "--count",
            "400",
            "--batch",
            "32",
            "--threads",
            "2",
            "--latency-count",
            "50",
            "--rego-count",
            "100",
        ])
        .output();
    let out = match out {
        Ok(out) => out,
        Err(e) => panic!("cannot run qorgan: {e}"),
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "qorgan bench failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last = stdout.lines().last().unwrap_or_default();
    let report: Value = match serde_json::from_str(last) {
        Ok(v) => v,
        Err(e) => panic!("the last line is not JSON ({e}): {last}"),
    };
    for key in [
        "/tx_per_s",
        "/vs_native",
        "/vs_regorus",
        "/p50_us",
        "/p99_us",
        "/p999_us",
        "/threads/tx_per_s",
        "/native/tx_per_s",
        "/regorus/tx_per_s",
        "/noop/tx_per_s",
        "/noop/call_ns_per_tx",
    ] {
        positive(&report, key);
    }
    assert_eq!(report["count"], 400);
    assert_eq!(report["failed"], 0);
    assert_eq!(report["threads"]["threads"], 2);
    let plugins = report["plugins"].as_array().cloned().unwrap_or_default();
    let ids: Vec<&str> = plugins.iter().filter_map(|p| p["id"].as_str()).collect();
    assert_eq!(
        ids,
        ["kz-threshold", "kz-exchanger", "kz-mule", "kz-layering"]
    );
    for plugin in &plugins {
        assert_eq!(plugin["language"], "rust", "{plugin}");
        positive(plugin, "/ns_per_tx");
        positive(plugin, "/native_ns_per_tx");
        // kz-layering asks network questions and has no Rego peer.
        if plugin["id"] == "kz-layering" {
            assert!(plugin["regorus_ns_per_tx"].is_null(), "{plugin}");
        } else {
            positive(plugin, "/regorus_ns_per_tx");
        }
    }
    let languages = report["languages"].as_array().cloned().unwrap_or_default();
    assert_eq!(languages.len(), 1, "{languages:?}");
    assert_eq!(languages[0]["language"], "rust");
    assert_eq!(languages[0]["plugins"], 4);
    assert_eq!(languages[0]["vs_rust"], 1.0);
    // The same rules natively decide exactly as the components do.
    assert_eq!(report["native"]["agree"], 400, "{report}");
    assert_eq!(report["regorus"]["count"], 100);
    // The Rego peers decide as the rules do, kz-layering's codes aside.
    assert_eq!(report["regorus"]["agree"], 100, "{report}");
    assert!(report["machine"]["cpus"].as_u64().is_some_and(|n| n >= 1));
    assert!(report["machine"]["profile"].is_string());
}
