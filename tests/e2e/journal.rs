//! History as a projection of the journal, end to end: `qorgan serve`
//! killed or stopped between a mule's transfers and its cash-out still
//! holds the cash-out after a restart; a retried transaction is answered
//! with its original decision and recorded once, before and after a
//! restart; a transaction dated far ahead is refused in `serve` and in
//! `qorgan eval`, and the mule cash-out after it is still held.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use qorgan_e2e::fixtures::{finding_codes, qorgan_bin, sample_to_mule_cash_out, tempdir};
use qorgan_e2e::releases::{built_base, ok};
use qorgan_e2e::service::{Response, Service, post, post_lines, qorgan};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const READY: Duration = Duration::from_secs(300);

fn parse_time(text: &str) -> OffsetDateTime {
    ok(OffsetDateTime::parse(text, &Rfc3339), "a sample time")
}

fn format_time(t: OffsetDateTime) -> String {
    ok(t.format(&Rfc3339), "format a time")
}

/// Moves every `timestamp` and `opened` of `value` by `by`.
fn shift_value(value: &mut Value, by: time::Duration) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match v {
                    Value::String(s) if key == "timestamp" || key == "opened" => {
                        *s = format_time(parse_time(s) + by);
                    }
                    other => shift_value(other, by),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| shift_value(v, by)),
        _ => {}
    }
}

/// The sample, moved in time so that the cash-out happens a minute ago.
fn sample_now() -> Vec<String> {
    let lines = sample_to_mule_cash_out();
    let last: Value = ok(
        serde_json::from_str(lines.last().map_or("", String::as_str)),
        "tx-0024",
    );
    let then = parse_time(last["timestamp"].as_str().unwrap_or(""));
    let by = OffsetDateTime::now_utc() - time::Duration::minutes(1) - then;
    lines
        .iter()
        .map(|line| {
            let mut value: Value = ok(serde_json::from_str(line), "a sample line");
            shift_value(&mut value, by);
            value.to_string()
        })
        .collect()
}

/// A small transfer between two accounts of their own, dated `timestamp`.
fn dated(id: &str, timestamp: &str) -> String {
    serde_json::json!({
        "id": id, "timestamp": timestamp, "kind": "transfer", "channel": "mobile-app",
        "amount": "100.00", "currency": "KZT",
        "sender": {"account": format!("KZ-S-{id}"), "kind": "individual"},
        "recipient": {"account": format!("KZ-R-{id}"), "kind": "individual"},
    })
    .to_string()
}

fn start(state: &Path, stderr: &str) -> Service {
    let base = built_base().display().to_string();
    let state_dir = state.display().to_string();
    let service = Service::start(
        &["--pack", &base, "--state-dir", &state_dir],
        &[],
        &state.join(stderr),
    );
    service.wait_ready(READY);
    service
}

fn evaluate(service: &Service, body: &str) -> Response {
    ok(post(service.address, "/v1/evaluate", body), "evaluate")
}

/// Posts the lines as one JSON Lines batch; how many were decided.
fn send_batch(service: &Service, lines: &[String]) -> usize {
    let body = lines.join("\n");
    let response = ok(
        post_lines(service.address, "/v1/evaluate/batch", body.as_bytes()),
        "evaluate a batch",
    );
    assert_eq!(response.status, 200, "{}", response.body);
    response
        .body
        .lines()
        .filter(|l| l.contains("\"decision_id\""))
        .count()
}

fn assert_held_as_a_mule(response: &Response) {
    assert_eq!(response.status, 200, "{}", response.body);
    let decision = response.json();
    assert_eq!(decision["tx"], "tx-0024", "{decision}");
    assert_eq!(decision["action"], "hold", "{decision}");
    assert!(
        finding_codes(&decision).contains(&"MULE_SCORE_HIGH".to_owned()),
        "{decision}"
    );
}

/// The mule's history is sent, the service stopped by `stop`, restarted,
/// and asked about the cash-out.
fn restart_between_the_transfers_and_the_cash_out(stop: impl FnOnce(Service)) {
    let state = tempdir();
    let lines = sample_to_mule_cash_out();
    let (before, cash_out) = lines.split_at(lines.len() - 1);
    let service = start(state.path(), "stderr-1");
    let decided = send_batch(&service, before);
    assert!(decided >= 20, "{decided} of {} decided", before.len());
    stop(service);

    let service = start(state.path(), "stderr-2");
    let log = service.stderr_text();
    assert!(
        log.contains(&format!("restored {decided} journal entries")),
        "the start-up log does not name the {decided} entries restored:\n{log}"
    );
    let cash_out = cash_out.first().map_or("", String::as_str);
    assert_held_as_a_mule(&evaluate(&service, cash_out));
    assert_eq!(service.terminate().code(), Some(0));

    // Replay continues one history across the two runs, as the restart did.
    let log = state.path().join("decisions.sqlite").display().to_string();
    let (code, out, err) = qorgan(&["audit", "replay", "--log", &log]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("0 differences"), "{err}");
}

#[test]
fn the_mule_cash_out_is_held_after_a_sigkill_between_the_transfers_and_the_cash_out() {
    restart_between_the_transfers_and_the_cash_out(Service::kill);
}

#[test]
fn the_mule_cash_out_is_held_after_a_sigterm_between_the_transfers_and_the_cash_out() {
    restart_between_the_transfers_and_the_cash_out(|service| {
        assert_eq!(service.terminate().code(), Some(0));
    });
}

/// A 480,000 KZT top-up from one account: three of them in a day are
/// structuring, so a repeat counted as a new one would show.
fn near_threshold(id: &str, amount: &str) -> String {
    serde_json::json!({
        "id": id, "timestamp": "2025-03-01T10:15:00Z", "kind": "card-topup",
        "channel": "mobile-app", "amount": amount, "currency": "KZT",
        "sender": {"account": "KZ-STRUCT-1", "iin": "061211600012", "kind": "individual"},
        "recipient": {"account": "KZ-CARD-1", "kind": "individual"},
        "verified": ["sender-iin"],
    })
    .to_string()
}

fn journal_entries(state: &Path, id: &str) -> i64 {
    let conn = ok(
        rusqlite::Connection::open(state.join("decisions.sqlite")),
        "open the log",
    );
    ok(
        conn.query_row("SELECT count(*) FROM journal WHERE tx_id = ?1", [id], |r| {
            r.get(0)
        }),
        "count journal entries",
    )
}

#[test]
fn a_retried_transaction_is_journaled_once_and_answered_with_its_original_decision() {
    let state = tempdir();
    let service = start(state.path(), "stderr-1");
    let first = near_threshold("retry-1", "480000.00");

    let sequential: Vec<Response> = (0..3).map(|_| evaluate(&service, &first)).collect();
    let original = sequential
        .first()
        .map(|r| r.body.clone())
        .unwrap_or_default();
    for (n, response) in sequential.iter().enumerate() {
        assert_eq!(response.status, 200, "{}", response.body);
        assert_eq!(response.body, original, "answer {n} differs");
        let marked = response.header("qorgan-repeat") == Some("true");
        assert_eq!(marked, n > 0, "answer {n}: {:?}", response.headers);
    }
    let decision: Value = ok(serde_json::from_str(&original), "decision");
    assert!(
        !finding_codes(&decision).contains(&"STRUCTURING_NEAR_THRESHOLD".to_owned()),
        "{decision}"
    );

    let second = near_threshold("retry-2", "480000.00");
    let address = service.address;
    let concurrent: Vec<Response> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..20)
            .map(|_| scope.spawn(|| ok(post(address, "/v1/evaluate", &second), "evaluate")))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| panic!("a client panicked")))
            .collect()
    });
    let bodies: std::collections::HashSet<&str> =
        concurrent.iter().map(|r| r.body.as_str()).collect();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    assert!(concurrent.iter().all(|r| r.status == 200));
    let originals = concurrent
        .iter()
        .filter(|r| r.header("qorgan-repeat").is_none())
        .count();
    assert_eq!(originals, 1, "exactly one answer is not a repeat");
    let decision = concurrent.first().map(Response::json).unwrap_or_default();
    assert!(
        !finding_codes(&decision).contains(&"STRUCTURING_NEAR_THRESHOLD".to_owned()),
        "two near-threshold top-ups and 21 repeats are not structuring: {decision}"
    );
    assert_eq!(service.terminate().code(), Some(0));
    assert_eq!(journal_entries(state.path(), "retry-1"), 1);
    assert_eq!(journal_entries(state.path(), "retry-2"), 1);

    let service = start(state.path(), "stderr-2");
    let again = evaluate(&service, &first);
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(
        again.body, original,
        "the original decision after a restart"
    );
    assert_eq!(again.header("qorgan-repeat"), Some("true"));

    let changed = evaluate(&service, &near_threshold("retry-1", "480001.00"));
    assert_eq!(changed.status, 409, "{}", changed.body);
    assert!(changed.body.contains("retry-1"), "{}", changed.body);

    // A third near-threshold top-up is the first one that is structuring.
    let third = evaluate(&service, &near_threshold("retry-3", "480000.00"));
    assert_eq!(third.status, 200, "{}", third.body);
    assert!(
        finding_codes(&third.json()).contains(&"STRUCTURING_NEAR_THRESHOLD".to_owned()),
        "{}",
        third.body
    );
    assert_eq!(service.terminate().code(), Some(0));
    assert_eq!(journal_entries(state.path(), "retry-1"), 1);
}

#[test]
fn transactions_dated_far_ahead_are_refused_by_serve_and_the_mule_cash_out_is_still_held() {
    let state = tempdir();
    let lines = sample_now();
    let (before, cash_out) = lines.split_at(lines.len() - 1);
    let service = start(state.path(), "stderr");
    send_batch(&service, before);

    let ahead = format_time(OffsetDateTime::now_utc() + time::Duration::days(31));
    for hostile in [
        dated("far-9999", "9999-01-01T00:00:00Z"),
        dated("far-31d", &ahead),
    ] {
        let refused = evaluate(&service, &hostile);
        assert_eq!(refused.status, 422, "{}", refused.body);
        let error = refused.json()["error"].as_str().unwrap_or("").to_owned();
        assert!(error.starts_with("timestamp "), "{error}");
        assert!(error.contains("600s"), "the skew is named: {error}");
    }
    let cash_out = cash_out.first().map_or("", String::as_str);
    assert_held_as_a_mule(&evaluate(&service, cash_out));
    assert_eq!(service.terminate().code(), Some(0));
}

fn eval(pack: &Path, input: &str) -> Output {
    let dir = tempdir();
    let file = dir.path().join("input.jsonl");
    ok(std::fs::write(&file, input), "write the input");
    let output = Command::new(qorgan_bin())
        .arg("eval")
        .arg("--pack")
        .arg(pack)
        .arg("--input")
        .arg(&file)
        .stdin(Stdio::null())
        .output();
    ok(output, "run qorgan eval")
}

/// Each output line's transaction, action, score and finding codes.
fn outcomes(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| ok(serde_json::from_str::<Value>(l), "an output line"))
        .map(|d| {
            if d.get("error").is_some() {
                return d;
            }
            serde_json::json!({
                "tx": d["tx"], "action": d["action"], "score": d["score"], "codes": finding_codes(&d),
            })
        })
        .collect()
}

#[test]
fn eval_rejects_far_future_lines_and_repeated_ids_on_their_lines_and_decides_the_rest_as_without_them()
 {
    let lines = sample_to_mule_cash_out();
    let (before, cash_out) = lines.split_at(lines.len() - 1);
    let clean = format!("{}\n{}\n", before.join("\n"), cash_out.join("\n"));
    let baseline = eval(built_base(), &clean);
    assert!(
        baseline.status.code() == Some(0) || baseline.status.code() == Some(65),
        "{baseline:?}"
    );
    let expected = outcomes(&baseline);

    // Retention + 1 day ahead of the stream's newest time so far.
    let newest = before
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v["timestamp"].as_str().map(parse_time))
        .max()
        .unwrap_or_else(|| panic!("no timestamps"));
    let ahead = format_time(newest + time::Duration::days(31));
    let repeat = before.first().cloned().unwrap_or_default();
    let hostile = format!(
        "{}\n{}\n{}\n{}\n{}\n",
        before.join("\n"),
        dated("far-9999", "9999-01-01T00:00:00Z"),
        dated("far-31d", &ahead),
        repeat,
        cash_out.join("\n"),
    );
    let out = eval(built_base(), &hostile);
    assert_eq!(out.status.code(), Some(65), "{out:?}");
    let got = outcomes(&out);
    let n = before.len();
    assert_eq!(got.len(), n + 4, "one line out per line in");
    for (offset, what) in [(0, "timestamp "), (1, "timestamp "), (2, "already decided")] {
        let line = &got[n + offset];
        assert_eq!(line["line"], n + offset + 1, "{line}");
        let error = line["error"].as_str().unwrap_or("");
        assert!(error.contains(what), "{error}");
        if offset < 2 {
            assert!(error.contains("86400s"), "the skew is named: {error}");
        }
    }
    let mut decided: Vec<Value> = got[..n].to_vec();
    decided.push(got[n + 3].clone());
    assert_eq!(decided, expected, "the rest is decided as without them");
    let cash_out = &got[n + 3];
    assert_eq!(cash_out["action"], "hold", "{cash_out}");
}

#[test]
fn readyz_says_degraded_naming_the_memory_budget_when_memory_approaches_it() {
    let state = tempdir();
    let base = built_base().display().to_string();
    let state_dir = state.path().display().to_string();
    let service = Service::start(
        &[
            "--pack",
            &base,
            "--state-dir",
            &state_dir,
            "--memory-budget-mib",
            "1",
        ],
        &[],
        &state.path().join("stderr"),
    );
    let ready = service.wait_ready(READY);
    assert_eq!(ready["status"], "degraded", "{ready}");
    let reason = ready["reason"].as_str().unwrap_or("");
    assert!(
        reason.contains("memory_budget_mib") && reason.contains("1 MiB"),
        "{reason}"
    );
    let metrics = ok(
        qorgan_e2e::service::get(service.address, "/metrics"),
        "metrics",
    );
    assert!(
        metrics.body.contains("qorgan_memory_budget_bytes 1048576"),
        "{}",
        metrics.body
    );
    let decided = evaluate(&service, &near_threshold("budget-1", "1000.00"));
    assert_eq!(
        decided.status, 200,
        "degraded still decides: {}",
        decided.body
    );
    assert_eq!(service.terminate().code(), Some(0));
    assert!(
        std::fs::read_to_string(state.path().join("stderr"))
            .unwrap_or_default()
            .contains("memory budget"),
        "the warning is logged"
    );
}

/// Four deciders and four clients sending generated traffic at once: the
/// log holds one decision per transaction, in journal order, and `audit
/// replay` (one thread, the log's order) decides every row the same.
#[test]
fn concurrent_deciders_decide_as_one_thread_would_and_audit_replay_finds_no_difference() {
    let state = tempdir();
    let generated = state.path().join("gen.jsonl");
    let (code, out, err) = qorgan(&[
        "gen",
        "--seed",
        "5",
        "--count",
        "20000",
        "--days",
        "10",
        "-o",
        &generated.display().to_string(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let text = ok(std::fs::read_to_string(&generated), "read the stream");
    let lines: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len(), 20_000);

    let base = built_base().display().to_string();
    let state_dir = state.path().display().to_string();
    let service = Service::start(
        &[
            "--pack",
            &base,
            "--state-dir",
            &state_dir,
            "--deciders",
            "4",
        ],
        &[],
        &state.path().join("stderr"),
    );
    service.wait_ready(READY);
    let decided: usize = std::thread::scope(|scope| {
        let clients: Vec<_> = lines
            .chunks(lines.len() / 4)
            .map(|share| {
                scope.spawn(|| {
                    share
                        .chunks(50)
                        .map(|b| send_batch(&service, b))
                        .sum::<usize>()
                })
            })
            .collect();
        clients.into_iter().map(|c| c.join().unwrap_or(0)).sum()
    });
    assert_eq!(decided, lines.len(), "every transaction was decided");
    assert_eq!(service.terminate().code(), Some(0));

    let log = state.path().join("decisions.sqlite");
    let conn = ok(rusqlite::Connection::open(&log), "open the log");
    let (rows, journaled, in_order): (i64, i64, i64) = ok(
        conn.query_row(
            "SELECT (SELECT count(*) FROM decisions), (SELECT count(*) FROM journal),
                    (SELECT count(*) FROM journal a JOIN journal b ON b.position = a.position + 1
                     WHERE b.seq < a.seq)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        ),
        "count the log's rows",
    );
    assert_eq!((rows, journaled), (20_000, 20_000));
    assert_eq!(in_order, 0, "the log's order is the journal's order");
    let (code, out, err) = qorgan(&["audit", "replay", "--log", &log.display().to_string()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("replayed 20000 rows"), "{err}");
    assert!(err.contains(": 0 differences"), "{err}");
}
