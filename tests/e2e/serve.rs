//! `qorgan serve` end to end: the real binary on 127.0.0.1, real HTTP,
//! real signals. Every endpoint answers; a signed v2 published into the
//! watched directory goes live under load with no failed request; a
//! SIGKILL under load loses no acknowledged decision and the log's chain
//! holds, while an edited row breaks it; SIGTERM drains and exits 0; the
//! log replays without a difference.

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use qorgan::pack::archive::{Compression, write_archive};
use qorgan_e2e::fixtures::{heavy_remittance_json, tempdir, tx_json, write};
use qorgan_e2e::releases::{built_base, keys, ok, v1, v2};
use qorgan_e2e::service::{Service, get, post, post_lines, qorgan};
use qorgan_server::testing::Tmpfs;

const READY: Duration = Duration::from_secs(300);

/// A card top-up above the threshold without the sender's IIN verified:
/// decided `verify` by the reference pack.
fn topup(id: &str) -> String {
    tx_json(id, "card-topup", "600000.00", "061211600012", &[])
}

/// `serve` arguments for the local reference pack with state in `state`.
fn local_args(state: &Path) -> Vec<String> {
    vec![
        "--pack".into(),
        built_base().display().to_string(),
        "--state-dir".into(),
        state.display().to_string(),
    ]
}

fn start(args: &[String], env: &[(&str, &str)], stderr: &Path) -> Service {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Service::start(&args, env, stderr)
}

/// Decision ids in the log at `log`.
fn logged_ids(log: &Path) -> HashSet<String> {
    let conn = ok(rusqlite::Connection::open(log), "open the log");
    let mut stmt = ok(conn.prepare("SELECT decision_id FROM decisions"), "prepare");
    let rows = ok(stmt.query_map([], |r| r.get::<_, String>(0)), "query");
    rows.filter_map(Result::ok).collect()
}

/// `qorgan audit verify`: exit code and output.
fn audit_verify(log: &Path) -> (i32, String) {
    let (code, out, err) = qorgan(&["audit", "verify", "--log", &log.display().to_string()]);
    (code, format!("{out}{err}"))
}

/// Clients posting top-ups until `stop`: each acknowledged decision's id
/// and serial, and every failure.
struct Load {
    stop: Arc<AtomicBool>,
    acknowledged: Arc<Mutex<Vec<(String, u64)>>>,
    failures: Arc<Mutex<Vec<String>>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start(service: &Service, clients: usize, tolerate_refusals: bool) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let acknowledged = Arc::new(Mutex::new(Vec::new()));
        let failures = Arc::new(Mutex::new(Vec::new()));
        let threads = (0..clients)
            .map(|client| {
                let (stop, acknowledged, failures) =
                    (stop.clone(), acknowledged.clone(), failures.clone());
                let address = service.address;
                std::thread::spawn(move || {
                    let mut n = 0u64;
                    let mut last_serial = 0;
                    while !stop.load(Ordering::Relaxed) {
                        n += 1;
                        let id = format!("load-{client}-{n}");
                        // Gentle on a shared machine; still hundreds a second.
                        std::thread::sleep(Duration::from_millis(1));
                        match post(address, "/v1/evaluate", &topup(&id)) {
                            Ok(r) if r.status == 200 => {
                                let decision = r.json();
                                let serial = decision["pack"]["serial"].as_u64().unwrap_or(0);
                                if serial < last_serial {
                                    failures.lock().unwrap_or_else(|p| p.into_inner()).push(
                                        format!("serial went back from {last_serial} to {serial}"),
                                    );
                                }
                                last_serial = serial;
                                let decision_id =
                                    decision["decision_id"].as_str().unwrap_or("").to_owned();
                                acknowledged
                                    .lock()
                                    .unwrap_or_else(|p| p.into_inner())
                                    .push((decision_id, serial));
                            }
                            Ok(r) => failures
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .push(format!("{}: {}", r.status, r.body)),
                            // A server being killed or stopping refuses or
                            // drops connections: no decision was given.
                            Err(e) if tolerate_refusals => {
                                let _ = e;
                                std::thread::sleep(Duration::from_millis(5));
                            }
                            Err(e) => failures
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .push(format!("connection: {e}")),
                        }
                    }
                })
            })
            .collect();
        Load {
            stop,
            acknowledged,
            failures,
            threads,
        }
    }

    fn count(&self) -> usize {
        self.acknowledged
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }

    /// Waits until `n` decisions were acknowledged.
    fn until(&self, n: usize, service: &Service) {
        let started = Instant::now();
        while self.count() < n {
            if started.elapsed() > READY {
                panic!(
                    "only {} decisions in {READY:?}; stderr:\n{}",
                    self.count(),
                    service.stderr_text()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn finish(self) -> (Vec<(String, u64)>, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads {
            let _ = thread.join();
        }
        let acknowledged =
            std::mem::take(&mut *self.acknowledged.lock().unwrap_or_else(|p| p.into_inner()));
        let failures =
            std::mem::take(&mut *self.failures.lock().unwrap_or_else(|p| p.into_inner()));
        (acknowledged, failures)
    }
}

#[test]
fn every_endpoint_answers_over_http_and_sigterm_exits_0_with_a_log_that_verifies_and_replays() {
    let state = tempdir();
    let mut args = local_args(state.path());
    args.extend(["--max-batch", "3", "--max-body-bytes", "2048"].map(String::from));
    let service = start(&args, &[], &state.path().join("stderr"));
    let ready = service.wait_ready(READY);
    assert_eq!(ready["serial"], 1, "{ready}");
    let address = service.address;

    let health = ok(get(address, "/healthz"), "healthz");
    assert_eq!(
        (health.status, health.json()["status"].clone()),
        (200, "ok".into())
    );

    let decided = ok(post(address, "/v1/evaluate", &topup("tx-1")), "evaluate");
    assert_eq!(decided.status, 200, "{}", decided.body);
    let decision = decided.json();
    assert_eq!(decision["tx"], "tx-1");
    assert_eq!(decision["action"], "verify");
    assert_eq!(decision["requirements"], serde_json::json!(["sender-iin"]));
    assert_eq!(decision["pack"]["name"], "kz-afm");
    assert_eq!(decision["pack"]["serial"], 1);
    let mut acknowledged = vec![decision["decision_id"].as_str().unwrap_or("").to_owned()];

    let malformed = ok(
        post(
            address,
            "/v1/evaluate",
            r#"{"id":"tx-bad","kind":"transfer"}"#,
        ),
        "evaluate malformed",
    );
    assert_eq!(malformed.status, 400, "{}", malformed.body);
    assert!(
        malformed.json()["error"]
            .as_str()
            .unwrap_or("")
            .contains("timestamp"),
        "{}",
        malformed.body
    );

    let array = format!(
        "[{}, {{\"id\":\"tx-b2\"}}, {}]",
        topup("tx-b1"),
        topup("tx-b3")
    );
    let batch = ok(post(address, "/v1/evaluate/batch", &array), "batch");
    assert_eq!(batch.status, 200, "{}", batch.body);
    let items = batch.json();
    assert_eq!(items[0]["tx"], "tx-b1");
    assert_eq!(items[1]["index"], 1);
    assert!(items[1]["error"].is_string(), "{items}");
    assert_eq!(items[2]["tx"], "tx-b3");
    for i in [0, 2] {
        acknowledged.push(items[i]["decision_id"].as_str().unwrap_or("").to_owned());
    }

    let lines = format!("{}\nnot json\n{}\n", topup("tx-l1"), topup("tx-l3"));
    let batch = ok(
        post_lines(address, "/v1/evaluate/batch", lines.as_bytes()),
        "batch lines",
    );
    assert_eq!(batch.status, 200, "{}", batch.body);
    assert_eq!(batch.header("content-type"), Some("application/x-ndjson"));
    let out: Vec<serde_json::Value> = batch
        .body
        .lines()
        .map(|l| ok(serde_json::from_str(l), "ndjson line"))
        .collect();
    assert_eq!(out.len(), 3, "{}", batch.body);
    assert_eq!(out[0]["tx"], "tx-l1");
    assert_eq!(out[1]["line"], 2);
    assert_eq!(out[2]["tx"], "tx-l3");
    for i in [0, 2] {
        acknowledged.push(out[i]["decision_id"].as_str().unwrap_or("").to_owned());
    }

    let four = format!(
        "[{},{},{},{}]",
        topup("a"),
        topup("b"),
        topup("c"),
        topup("d")
    );
    let too_many = ok(post(address, "/v1/evaluate/batch", &four), "too many");
    assert_eq!(too_many.status, 400, "{}", too_many.body);
    assert!(
        too_many.body.contains("max_batch") && too_many.body.contains("limit of 3"),
        "{}",
        too_many.body
    );

    let big = format!("{{\"id\":\"{}\"}}", "x".repeat(4000));
    let too_big = ok(post(address, "/v1/evaluate", &big), "too big");
    assert_eq!(too_big.status, 413, "{}", too_big.body);
    assert!(
        too_big.body.contains("max_body_bytes") && too_big.body.contains("2048"),
        "{}",
        too_big.body
    );

    let pack = ok(get(address, "/v1/pack"), "pack").json();
    assert_eq!(pack["active"]["name"], "kz-afm");
    assert_eq!(pack["active"]["serial"], 1);
    assert_eq!(
        pack["active"]["plugins"].as_array().map(Vec::len),
        Some(4),
        "{pack}"
    );
    assert_eq!(pack["source"]["signed"], false);
    assert!(pack["last_refusal"].is_null());

    let metrics = ok(get(address, "/metrics"), "metrics");
    assert_eq!(metrics.status, 200);
    let text = metrics.body;
    assert!(
        text.contains("qorgan_decisions_total{action=\"verify\"} 5"),
        "{text}"
    );
    assert!(
        text.contains(
            "qorgan_plugin_call_duration_seconds_bucket{plugin=\"kz-threshold\",le=\"+Inf\"}"
        ),
        "{text}"
    );
    assert!(
        text.contains("qorgan_plugin_call_duration_seconds_count{plugin=\"kz-mule\"}"),
        "{text}"
    );
    assert!(text.contains("qorgan_active_pack_serial 1"), "{text}");
    assert!(
        text.contains("qorgan_pack_activations_refused_total 0"),
        "{text}"
    );
    assert!(
        text.contains("qorgan_transactions_rejected_total 3"),
        "{text}"
    );
    assert!(text.contains("qorgan_log_decisions_total 5"), "{text}");

    let openapi = ok(get(address, "/openapi.json"), "openapi").json();
    assert_eq!(openapi["openapi"], "3.1.0");
    assert!(openapi["paths"]["/v1/evaluate/batch"]["post"].is_object());

    let status = service.terminate();
    assert_eq!(status.code(), Some(0), "{status:?}");

    let log = state.path().join("decisions.sqlite");
    let ids = logged_ids(&log);
    assert_eq!(ids.len(), 5);
    for id in &acknowledged {
        assert!(ids.contains(id), "{id} is not in the log");
    }
    let (code, out) = audit_verify(&log);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("5 rows"), "{out}");
    let (code, out, err) = qorgan(&["audit", "replay", "--log", &log.display().to_string()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains("replayed 5 rows") && err.contains("0 differences"),
        "{err}"
    );
}

#[test]
fn settings_come_from_a_file_and_the_environment_and_readyz_refuses_a_pack_too_old() {
    let state = tempdir();
    let config = state.path().join("serve.toml");
    write(
        &config,
        format!(
            "pack = {:?}\nstate_dir = {:?}\nmax_pack_age_secs = 60\nmax_batch = 1\n",
            built_base().display().to_string(),
            state.path().display().to_string()
        )
        .as_bytes(),
    );
    let args = vec!["--config".to_owned(), config.display().to_string()];
    let service = start(
        &args,
        &[("QORGAN_MAX_BATCH", "2")],
        &state.path().join("stderr"),
    );
    let started = Instant::now();
    let not_ready = loop {
        let response = ok(get(service.address, "/readyz"), "readyz");
        if response.body.contains("older than") || started.elapsed() > READY {
            break response;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(not_ready.status, 503, "{}", not_ready.body);
    assert!(
        not_ready.body.contains("max_pack_age_secs"),
        "{}",
        not_ready.body
    );

    // The environment's batch limit (2) beats the file's (1).
    let two = format!("[{},{}]", topup("e1"), topup("e2"));
    assert_eq!(
        ok(post(service.address, "/v1/evaluate/batch", &two), "two").status,
        200
    );
    let three = format!("[{},{},{}]", topup("e3"), topup("e4"), topup("e5"));
    let refused = ok(post(service.address, "/v1/evaluate/batch", &three), "three");
    assert!(refused.body.contains("limit of 2"), "{}", refused.body);
    assert_eq!(service.terminate().code(), Some(0));
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

/// Publishes the pack in `dir` into the watched `inbox` as one archive,
/// written aside and renamed into place.
fn publish(dir: &Path, inbox: &Path, name: &str) {
    let aside = inbox.join(format!(".{name}.tmp"));
    ok(write_archive(dir, &aside, Compression::Gzip), "archive");
    ok(
        std::fs::rename(&aside, inbox.join(name)),
        "rename into the inbox",
    );
}

#[test]
fn a_signed_v2_published_under_load_goes_live_with_no_failed_request() {
    let root = tempdir();
    let inbox = root.path().join("inbox");
    ok(std::fs::create_dir_all(&inbox), "inbox");
    publish(&v1(root.path()), &inbox, "kz-afm-1.qpack");
    let mut args = vec![
        "--pack-source".to_owned(),
        inbox.display().to_string(),
        "--require".to_owned(),
        "2".to_owned(),
        "--poll-interval-ms".to_owned(),
        "100".to_owned(),
        "--state-dir".to_owned(),
        root.path().join("state").display().to_string(),
    ];
    for key in trust_files(root.path()) {
        args.extend(["--trust".to_owned(), key]);
    }
    let service = start(&args, &[], &root.path().join("stderr"));
    assert_eq!(service.wait_ready(READY)["serial"], 1);

    let load = Load::start(&service, 2, false);
    load.until(50, &service);
    publish(&v2(root.path()), &inbox, "kz-afm-2.qpack");
    let started = Instant::now();
    loop {
        let switched = load
            .acknowledged
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .any(|(_, serial)| *serial == 2);
        if switched {
            break;
        }
        if started.elapsed() > READY {
            panic!("serial 2 never decided; stderr:\n{}", service.stderr_text());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let seen = load.count();
    load.until(seen + 50, &service);
    let (acknowledged, failures) = load.finish();
    assert!(
        failures.is_empty(),
        "{} failed requests: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    assert!(acknowledged.iter().any(|(_, s)| *s == 1));
    assert!(acknowledged.iter().any(|(_, s)| *s == 2));

    let pack = ok(get(service.address, "/v1/pack"), "pack").json();
    assert_eq!(pack["active"]["serial"], 2, "{pack}");
    assert_eq!(pack["source"]["signed"], true);
    assert_eq!(pack["status"]["activations"], 2, "{pack}");
    let metrics = ok(get(service.address, "/metrics"), "metrics").body;
    assert!(metrics.contains("qorgan_active_pack_serial 2"), "{metrics}");
    assert!(
        metrics.contains("qorgan_pack_activations_total 2"),
        "{metrics}"
    );
    assert_eq!(service.terminate().code(), Some(0));

    // Both packs are in the log, and every row replays the same.
    let log = root.path().join("state/decisions.sqlite");
    assert_eq!(logged_ids(&log).len(), acknowledged.len());
    let (code, out, err) = qorgan(&["audit", "replay", "--log", &log.display().to_string()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("with 2 packs: 0 differences"), "{err}");
}

#[test]
fn sigkill_under_load_loses_no_acknowledged_decision_and_an_edited_row_fails_audit_verify() {
    let state = tempdir();
    let args = local_args(state.path());
    let service = start(&args, &[], &state.path().join("stderr-1"));
    service.wait_ready(READY);
    let load = Load::start(&service, 3, true);
    load.until(300, &service);
    service.kill();
    let (acknowledged, failures) = load.finish();
    assert!(failures.is_empty(), "{failures:?}");

    // The restarted service continues the chain.
    let service = start(&args, &[], &state.path().join("stderr-2"));
    service.wait_ready(READY);
    let after = ok(
        post(service.address, "/v1/evaluate", &topup("after-restart")),
        "after",
    );
    assert_eq!(after.status, 200, "{}", after.body);
    assert_eq!(service.terminate().code(), Some(0));

    let log = state.path().join("decisions.sqlite");
    let ids = logged_ids(&log);
    let missing: Vec<&String> = acknowledged
        .iter()
        .map(|(id, _)| id)
        .filter(|id| !ids.contains(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged decisions are not in the log: {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    let (code, out) = audit_verify(&log);
    assert_eq!(code, 0, "{out}");

    let conn = ok(rusqlite::Connection::open(&log), "open the log");
    ok(
        conn.execute(
            "UPDATE decisions SET decision = replace(decision, '\"verify\"', '\"allow\"'), action = 'allow' WHERE seq = 7",
            [],
        ),
        "edit row 7",
    );
    drop(conn);
    let (code, out) = audit_verify(&log);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("row 7"), "{out}");
}

#[test]
fn sigterm_under_load_drains_exits_0_and_keeps_every_acknowledged_decision() {
    let state = tempdir();
    let service = start(&local_args(state.path()), &[], &state.path().join("stderr"));
    service.wait_ready(READY);
    let load = Load::start(&service, 3, true);
    load.until(100, &service);
    let status = service.terminate();
    let (acknowledged, failures) = load.finish();
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert!(failures.is_empty(), "{failures:?}");
    let ids = logged_ids(&state.path().join("decisions.sqlite"));
    assert!(acknowledged.len() >= 100);
    for (id, _) in &acknowledged {
        assert!(
            ids.contains(id),
            "{id} was acknowledged but is not in the log"
        );
    }
}

/// Transaction ids in the log at `log`.
fn logged_tx_ids(log: &Path) -> HashSet<String> {
    let conn = ok(rusqlite::Connection::open(log), "open the log");
    let mut stmt = ok(conn.prepare("SELECT tx_id FROM decisions"), "prepare");
    let rows = ok(stmt.query_map([], |r| r.get::<_, String>(0)), "query");
    rows.filter_map(Result::ok).collect()
}

#[test]
#[ignore = "needs root to mount a tmpfs; run as root with --include-ignored"]
fn a_full_decision_log_disk_acknowledges_nothing_fails_readyz_and_recovers_when_space_returns() {
    let disk = Tmpfs::mount("32m");
    let state = tempdir();
    let log = disk.path().join("decisions.sqlite");
    let mut args = local_args(state.path());
    args.extend(["--decision-log".into(), log.display().to_string()]);
    let service = start(&args, &[], &state.path().join("stderr"));
    service.wait_ready(READY);

    // Acknowledged decision ids, and the transactions refused.
    let mut acknowledged = Vec::new();
    let mut refused = Vec::new();
    let mut send = |id: String| {
        let response = ok(post(service.address, "/v1/evaluate", &topup(&id)), "post");
        match response.status {
            200 => {
                let decision_id = response.json()["decision_id"].as_str().map(str::to_owned);
                match decision_id {
                    Some(d) => acknowledged.push(d),
                    None => panic!("a decision without an id: {}", response.body),
                }
                None
            }
            503 => {
                refused.push(id);
                Some(
                    response.json()["error"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                )
            }
            other => panic!("{other}: {}", response.body),
        }
    };
    for i in 0..3 {
        assert_eq!(send(format!("before-{i}")), None);
    }

    disk.fill("filler");
    // The log fails as soon as a commit needs space the disk no longer has.
    let mut problem = None;
    for i in 0..200 {
        problem = send(format!("full-{i}"));
        if problem.is_some() {
            break;
        }
    }
    let problem = match problem {
        Some(p) => p,
        None => panic!("200 decisions acknowledged on a full disk"),
    };
    assert!(problem.contains("SQLITE_FULL"), "{problem}");
    assert!(problem.contains(&log.display().to_string()), "{problem}");
    assert!(send("still-full".into()).is_some());
    let ready = ok(get(service.address, "/readyz"), "readyz");
    assert_eq!(ready.status, 503, "{}", ready.body);
    assert!(ready.body.contains("SQLITE_FULL"), "{}", ready.body);
    let metrics = ok(get(service.address, "/metrics"), "metrics").body;
    assert!(metrics.contains("qorgan_log_failing 1"), "{metrics}");
    assert!(
        !metrics.contains("qorgan_log_failures_total 0\n"),
        "{metrics}"
    );

    ok(
        std::fs::remove_file(disk.path().join("filler")),
        "remove the filler",
    );
    // Not ready until the log is written again: the writer finds out alone.
    service.wait_ready(READY);
    for i in 0..3 {
        assert_eq!(send(format!("after-{i}")), None);
    }
    let metrics = ok(get(service.address, "/metrics"), "metrics").body;
    assert!(metrics.contains("qorgan_log_failing 0"), "{metrics}");

    let status = service.terminate();
    assert_eq!(status.code(), Some(0), "{status:?}");
    let (code, out) = audit_verify(&log);
    assert_eq!(code, 0, "{out}");
    let ids = logged_ids(&log);
    assert_eq!(
        ids.len(),
        acknowledged.len(),
        "only acknowledged decisions are logged"
    );
    for id in &acknowledged {
        assert!(
            ids.contains(id),
            "{id} was acknowledged but is not in the log"
        );
    }
    let txs = logged_tx_ids(&log);
    for tx in &refused {
        assert!(!txs.contains(tx), "{tx} was refused but is in the log");
    }
}

/// Threads that keep every core busy until stopped: two per core.
fn spin_every_core(stop: &Arc<AtomicBool>) -> Vec<std::thread::JoinHandle<u64>> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    (0..2 * cores)
        .map(|seed| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut x = seed as u64 + 1;
                while !stop.load(Ordering::Relaxed) {
                    for _ in 0..10_000 {
                        x = std::hint::black_box(
                            x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1),
                        );
                    }
                }
                x
            })
        })
        .collect()
}

#[test]
fn a_log_written_while_every_core_is_busy_replays_without_a_difference() {
    let state = tempdir();
    let service = start(&local_args(state.path()), &[], &state.path().join("stderr"));
    service.wait_ready(READY);
    let config = qorgan_lab::generator::GeneratorConfig::new(16, 3_000);
    let mut lines: Vec<String> = match qorgan_lab::generator::Generator::new(config) {
        Ok(generator) => generator.collect(),
        Err(e) => panic!("generate: {e}"),
    };
    // Two remittances that run kz-exchanger out of its budget.
    lines.insert(100, heavy_remittance_json("heavy-1"));
    lines.insert(2_000, heavy_remittance_json("heavy-2"));

    let stop = Arc::new(AtomicBool::new(false));
    let spinners = spin_every_core(&stop);
    let mut decided = 0;
    let mut failed = 0;
    let mut rest = lines.as_slice();
    for size in [1, 7, 256, 3, 64].iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (batch, after) = rest.split_at((*size).min(rest.len()));
        rest = after;
        let response = ok(
            post_lines(
                service.address,
                "/v1/evaluate/batch",
                batch.join("\n").as_bytes(),
            ),
            "evaluate batch",
        );
        assert_eq!(response.status, 200, "{}", response.body);
        decided += batch.len();
        failed += response.body.matches("PLUGIN_FAILED").count();
    }
    stop.store(true, Ordering::Relaxed);
    for spinner in spinners {
        assert!(spinner.join().is_ok(), "a spinning thread panicked");
    }
    assert_eq!(decided, 3_002);
    assert_eq!(failed, 2, "only the crafted remittances fail");
    assert_eq!(service.terminate().code(), Some(0));

    let log = state.path().join("decisions.sqlite");
    let (code, out, err) = qorgan(&["audit", "replay", "--log", &log.display().to_string()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains("replayed 3002 rows") && err.contains("0 differences"),
        "{err}"
    );
}
