//! Several replicas of `qorgan serve` on one PostgreSQL, end to end: a real
//! PostgreSQL server started by the test (`qorgan_e2e::postgres`), three
//! replicas on it, and real HTTP clients. The mule's stream sent
//! round-robin is still held; a replica killed under load loses no
//! acknowledged decision and leaves no entry undecided, and an entry whose
//! replica died before deciding it is decided by another at its position;
//! two withdrawals on
//! two replicas at once are capped by journal order; PostgreSQL stopped
//! mid-stream gets 503s naming it and loses nothing; and 100,000 generated
//! transactions through three replicas replay without a difference, by
//! `audit replay` and by a single node's `qorgan eval` of the journal's
//! order.

use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use qorgan_e2e::fixtures::{finding_codes, qorgan_bin, sample_to_mule_cash_out, tempdir};
use qorgan_e2e::postgres::Postgres;
use qorgan_e2e::releases::{built_base, ok};
use qorgan_e2e::service::{Response, Service, get, post, post_lines, qorgan};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const READY: Duration = Duration::from_secs(300);

/// A PostgreSQL server and the replicas on it.
struct Cluster {
    pg: Postgres,
    dir: tempfile::TempDir,
    replicas: Vec<Option<Service>>,
    starts: usize,
}

impl Cluster {
    fn start(replicas: usize) -> Cluster {
        let mut cluster = Cluster {
            pg: Postgres::start(),
            dir: tempdir(),
            replicas: Vec::new(),
            starts: 0,
        };
        for index in 0..replicas {
            let service = cluster.replica(index);
            cluster.replicas.push(Some(service));
        }
        cluster
    }

    /// Starts replica `index` (named `r{index}`, with a state directory
    /// of its own) and waits until it is ready.
    fn replica(&mut self, index: usize) -> Service {
        self.starts += 1;
        let base = built_base().display().to_string();
        let state = self.dir.path().join(format!("r{index}"));
        let state_dir = state.display().to_string();
        let url = self.pg.url();
        let name = format!("r{index}");
        let service = Service::start(
            &[
                "--pack",
                &base,
                "--state-dir",
                &state_dir,
                "--journal",
                &url,
                "--replica",
                &name,
                "--deciders",
                "2",
            ],
            &[],
            &self
                .dir
                .path()
                .join(format!("stderr-r{index}-{}", self.starts)),
        );
        service.wait_ready(READY);
        service
    }

    fn at(&self, index: usize) -> &Service {
        match self.replicas.get(index).and_then(Option::as_ref) {
            Some(service) => service,
            None => panic!("replica {index} is not running"),
        }
    }

    fn client(&self) -> postgres::Client {
        ok(
            postgres::Client::connect(&self.pg.url(), postgres::NoTls),
            "connect to PostgreSQL",
        )
    }

    /// How many journal entries there are, and how many have no decision.
    fn entries(&self) -> (i64, i64) {
        let row = ok(
            self.client().query_one(
                "SELECT count(*), count(*) FILTER (WHERE seq IS NULL) FROM journal",
                &[],
            ),
            "count the journal",
        );
        (row.get(0), row.get(1))
    }

    /// Waits until every journal entry has its decision.
    fn wait_all_decided(&self, within: Duration) -> (i64, i64) {
        let started = Instant::now();
        loop {
            let (entries, undecided) = self.entries();
            if undecided == 0 || started.elapsed() > within {
                return (entries, undecided);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The decision ids in the log.
    fn decision_ids(&self) -> HashSet<String> {
        ok(
            self.client()
                .query("SELECT decision_id FROM decisions", &[]),
            "read the decisions",
        )
        .into_iter()
        .map(|row| row.get(0))
        .collect()
    }

    /// `audit replay` and `audit verify` of the cluster's log: both pass.
    fn assert_replays(&self) -> String {
        let url = self.pg.url();
        let (code, out, err) = qorgan(&["audit", "verify", "--log", &url]);
        assert_eq!(code, 0, "verify: {out}{err}");
        assert!(out.contains("chain intact"), "{out}");
        let (code, out, err) = qorgan(&["audit", "replay", "--log", &url]);
        assert_eq!(code, 0, "replay: {out}{err}");
        assert!(err.contains(": 0 differences"), "{err}");
        err
    }

    fn stderr_of_all(&self) -> String {
        let mut text = String::new();
        if let Ok(entries) = std::fs::read_dir(self.dir.path()) {
            for entry in entries.flatten() {
                if entry.file_name().to_string_lossy().starts_with("stderr") {
                    text += &format!("--- {}\n", entry.file_name().to_string_lossy());
                    text += &std::fs::read_to_string(entry.path()).unwrap_or_default();
                }
            }
        }
        text
    }
}

fn evaluate(service: &Service, body: &str) -> Response {
    ok(post(service.address, "/v1/evaluate", body), "evaluate")
}

/// Posts a JSON Lines batch; the decision ids acknowledged, or the
/// response when it is not a 200.
fn send_batch(service: &Service, lines: &[String]) -> Result<Vec<String>, Response> {
    let body = lines.join("\n");
    let response = match post_lines(service.address, "/v1/evaluate/batch", body.as_bytes()) {
        Ok(response) => response,
        Err(e) => {
            return Err(Response {
                status: 0,
                headers: Vec::new(),
                body: e.to_string(),
            });
        }
    };
    if response.status != 200 {
        return Err(response);
    }
    Ok(response
        .body
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v["decision_id"].as_str().map(str::to_owned))
        .collect())
}

fn assert_held_as_a_mule(response: &Response) {
    assert_eq!(response.status, 200, "{}", response.body);
    let decision = response.json();
    assert_eq!(decision["action"], "hold", "{decision}");
    assert!(
        finding_codes(&decision).contains(&"MULE_SCORE_HIGH".to_owned()),
        "{decision}"
    );
}

/// `qorgan gen --seed SEED --count COUNT` as lines.
fn generated(dir: &Path, seed: u64, count: usize, days: u32) -> Vec<String> {
    let path = dir.join(format!("gen-{seed}.jsonl"));
    let (code, out, err) = qorgan(&[
        "gen",
        "--seed",
        &seed.to_string(),
        "--count",
        &count.to_string(),
        "--days",
        &days.to_string(),
        "-o",
        &path.display().to_string(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let text = ok(std::fs::read_to_string(&path), "read the stream");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_mule_stream_sent_round_robin_across_three_replicas_still_holds_the_cash_out() {
    let cluster = Cluster::start(3);
    let lines = sample_to_mule_cash_out();
    let (before, cash_out) = lines.split_at(lines.len() - 1);
    for (i, line) in before.iter().enumerate() {
        let response = evaluate(cluster.at(i % 3), line);
        assert!(
            matches!(response.status, 200 | 422),
            "{}: {}",
            response.status,
            response.body
        );
    }
    let cash_out = cash_out.first().map_or("", String::as_str);
    let response = evaluate(cluster.at(before.len() % 3), cash_out);
    assert_held_as_a_mule(&response);
    assert_eq!(response.json()["tx"], "tx-0024");
    let (entries, undecided) = cluster.wait_all_decided(Duration::from_secs(90));
    assert_eq!(undecided, 0, "{entries} entries");
    cluster.assert_replays();
}

#[test]
fn two_withdrawals_on_two_replicas_at_once_cap_only_the_later_journal_position() {
    let cluster = Cluster::start(3);
    // The pack's capped accounts; each round uses one, 25 hours after its
    // previous round, so only the round's two withdrawals are in its
    // 24-hour window.
    let accounts = [
        "KZ29722C000054321098",
        "KZ64601A871009876543",
        "4400430277770001",
    ];
    let rounds = 200;
    let start = OffsetDateTime::now_utc() - time::Duration::hours(25 * (rounds / 3 + 2));
    let withdrawal = |id: &str, account: &str, at: OffsetDateTime| -> String {
        serde_json::json!({
            "id": id, "timestamp": ok(at.format(&Rfc3339), "a time"),
            "kind": "cash-withdrawal", "channel": "atm",
            "amount": "200000.00", "currency": "KZT",
            "sender": {"account": account, "kind": "individual"},
            "recipient": {"account": "ATM-ALA-0042", "kind": "business"},
            "verified": ["biometric"],
        })
        .to_string()
    };
    let mut pg = cluster.client();
    for round in 0..rounds {
        let account = accounts[(round % 3) as usize];
        let at = start + time::Duration::hours(25 * (round / 3));
        let (a, b) = (format!("cap-{round}-a"), format!("cap-{round}-b"));
        let (first, second) = (withdrawal(&a, account, at), withdrawal(&b, account, at));
        let (ra, rb) = std::thread::scope(|scope| {
            let one = scope.spawn(|| evaluate(cluster.at(0), &first));
            let two = scope.spawn(|| evaluate(cluster.at(1), &second));
            (one.join(), two.join())
        });
        let (Ok(ra), Ok(rb)) = (ra, rb) else {
            panic!("a client thread panicked");
        };
        assert_eq!(
            (ra.status, rb.status),
            (200, 200),
            "{} / {}",
            ra.body,
            rb.body
        );
        let capped =
            |r: &Response| finding_codes(&r.json()).contains(&"CASH_DAILY_CAP_EXCEEDED".to_owned());
        let mut position = |id: &str| -> i64 {
            ok(
                pg.query_one("SELECT position FROM journal WHERE tx_id = $1", &[&id]),
                "the journal position",
            )
            .get(0)
        };
        let (pa, pb) = (position(&a), position(&b));
        let later_capped = if pa > pb { capped(&ra) } else { capped(&rb) };
        let earlier_capped = if pa > pb { capped(&rb) } else { capped(&ra) };
        assert!(
            later_capped && !earlier_capped,
            "round {round}: {a} at {pa} capped {}, {b} at {pb} capped {}",
            capped(&ra),
            capped(&rb)
        );
    }
}

#[test]
fn a_replica_killed_under_load_loses_no_acknowledged_decision_and_leaves_no_entry_undecided() {
    let mut cluster = Cluster::start(3);
    let dir = tempdir();
    let lines = generated(dir.path(), 11, 15_000, 10);
    let batches = lines.chunks(25).count();
    // Batches acknowledged by replica 1 so far; it is killed after 40 of its
    // 200, while all three clients are sending.
    let acked_by_1 = std::sync::atomic::AtomicUsize::new(0);
    let (acknowledged, interrupted): (Vec<String>, bool) = std::thread::scope(|scope| {
        let clients: Vec<_> = (0..3)
            .map(|replica| {
                let cluster = &cluster;
                let lines = &lines;
                let acked_by_1 = &acked_by_1;
                scope.spawn(move || {
                    let mut acked = Vec::new();
                    let mut interrupted = false;
                    for batch in lines.chunks(25).skip(replica).step_by(3) {
                        let Some(service) = cluster.replicas.get(replica).and_then(Option::as_ref)
                        else {
                            break;
                        };
                        match send_batch(service, batch) {
                            Ok(ids) => {
                                acked.extend(ids);
                                if replica == 1 {
                                    acked_by_1.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                                }
                            }
                            // The killed replica's client stops at its
                            // first failure.
                            Err(_) if replica == 1 => {
                                interrupted = true;
                                break;
                            }
                            Err(response) => {
                                panic!("replica {replica}: {} {}", response.status, response.body)
                            }
                        }
                    }
                    (acked, interrupted)
                })
            })
            .collect();
        // Mid-stream, under load: SIGKILL replica 1.
        let deadline = Instant::now() + Duration::from_secs(120);
        while acked_by_1.load(std::sync::atomic::Ordering::SeqCst) < 40 && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        let pid = cluster.at(1).pid();
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
        let mut all = Vec::new();
        let mut interrupted = false;
        for client in clients {
            let (acked, stopped) = client.join().unwrap_or_default();
            all.extend(acked);
            interrupted |= stopped;
        }
        (all, interrupted)
    });
    assert!(
        interrupted,
        "replica 1 was killed after its client had sent all its batches (of {batches})"
    );
    assert!(
        acknowledged.len() > 1000,
        "{} acknowledged",
        acknowledged.len()
    );
    // The killed replica's undecided entries are decided by another one,
    // or by itself when it is back.
    let restarted = cluster.replica(1);
    cluster.replicas[1] = Some(restarted);
    let (entries, undecided) = cluster.wait_all_decided(Duration::from_secs(120));
    assert_eq!(
        undecided,
        0,
        "{entries} entries; logs:\n{}",
        cluster.stderr_of_all()
    );
    let logged = cluster.decision_ids();
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|id| !logged.contains(*id))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged decisions are not in the log: {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
    let decisions: i64 = ok(
        cluster
            .client()
            .query_one("SELECT count(*) FROM decisions", &[]),
        "count the decisions",
    )
    .get(0);
    assert_eq!(decisions, entries, "exactly one decision per journal entry");
    // The restarted replica decides the mule's cash-out from what the
    // others journaled while it was away.
    let lines = sample_to_mule_cash_out();
    let (before, cash_out) = lines.split_at(lines.len() - 1);
    for (i, line) in before.iter().enumerate() {
        let _ = evaluate(cluster.at(if i % 2 == 0 { 0 } else { 2 }), line);
    }
    assert_held_as_a_mule(&evaluate(
        cluster.at(1),
        cash_out.first().map_or("", String::as_str),
    ));
    cluster.wait_all_decided(Duration::from_secs(90));
    cluster.assert_replays();
}

/// A replica that journals a transaction and dies before deciding it: the
/// entry is journaled as `ghost` (a replica that is not running, so nobody
/// holds its lock), through the same function a replica calls.
#[test]
fn a_transaction_journaled_by_a_replica_that_died_is_decided_by_another_at_its_position() {
    let cluster = Cluster::start(2);
    let lines = sample_to_mule_cash_out();
    let (before, cash_out) = lines.split_at(lines.len() - 1);
    for (i, line) in before.iter().enumerate() {
        let response = evaluate(cluster.at(i % 2), line);
        assert!(matches!(response.status, 200 | 422), "{}", response.body);
    }
    let raw = cash_out.first().map_or("", String::as_str);
    let tx = ok(qorgan::Transaction::from_json(raw), "tx-0024");
    let amount: i64 = 50_800_000; // 508,000.00 KZT in tiyn
    let footprint = qorgan::history::Footprint::of(&tx, amount).encode();
    let digest = qorgan::journal::body_digest(raw);
    let mut pg = cluster.client();
    let placed = ok(
        pg.query(
            "SELECT o_kind, o_position FROM qorgan_append_v1('ghost', 0, $1, $2, $3, $4, $5, $6, $7)",
            &[
                &i64::MIN,
                &vec![tx.id.as_str()],
                &vec![tx.timestamp],
                &vec![amount],
                &vec![&digest[..]],
                &vec![&footprint[..]],
                &vec![raw],
            ],
        ),
        "journal as a replica that then dies",
    );
    let position: i64 = placed
        .iter()
        .find(|row| row.get::<_, &str>(0) == "new")
        .map(|row| row.get(1))
        .unwrap_or_else(|| panic!("tx-0024 was not journaled"));
    let (_, undecided) = cluster.wait_all_decided(Duration::from_secs(90));
    assert_eq!(undecided, 0, "logs:\n{}", cluster.stderr_of_all());
    let decision: String = ok(
        pg.query_one(
            "SELECT d.decision FROM journal j JOIN decisions d ON d.seq = j.seq WHERE j.position = $1",
            &[&position],
        ),
        "the swept decision",
    )
    .get(0);
    let decision: Value = ok(serde_json::from_str(&decision), "a decision");
    assert_eq!(decision["action"], "hold", "{decision}");
    assert!(
        finding_codes(&decision).contains(&"MULE_SCORE_HIGH".to_owned()),
        "{decision}"
    );
    assert!(
        cluster
            .stderr_of_all()
            .contains("deciding journal entries whose replica did not"),
        "the sweep is logged"
    );
    // The bank's retry, to either replica, gets that decision.
    let again = evaluate(cluster.at(1), raw);
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.header("qorgan-repeat"), Some("true"));
    assert_eq!(again.json()["decision_id"], decision["decision_id"]);
    cluster.assert_replays();
}

#[test]
fn postgresql_stopped_mid_stream_gets_503s_naming_it_and_loses_no_acknowledged_decision() {
    let mut cluster = Cluster::start(3);
    let dir = tempdir();
    let lines = generated(dir.path(), 12, 6_000, 10);
    let (first, rest) = lines.split_at(2_000);
    let mut acknowledged = Vec::new();
    for (i, batch) in first.chunks(50).enumerate() {
        match send_batch(cluster.at(i % 3), batch) {
            Ok(ids) => acknowledged.extend(ids),
            Err(response) => panic!("{} {}", response.status, response.body),
        }
    }
    cluster.pg.stop();
    let mut refused = 0;
    let mut pending: Vec<&[String]> = Vec::new();
    for (i, batch) in rest.chunks(50).take(12).enumerate() {
        match send_batch(cluster.at(i % 3), batch) {
            Ok(ids) => acknowledged.extend(ids),
            Err(response) => {
                assert_eq!(response.status, 503, "{}", response.body);
                assert!(response.body.contains("PostgreSQL"), "{}", response.body);
                refused += 1;
                pending.push(batch);
            }
        }
    }
    assert!(
        refused >= 10,
        "{refused} of 12 batches refused while PostgreSQL was down"
    );
    for index in 0..3 {
        let readyz = ok(get(cluster.at(index).address, "/readyz"), "readyz");
        assert_eq!(readyz.status, 503, "{}", readyz.body);
        assert!(readyz.body.contains("PostgreSQL"), "{}", readyz.body);
    }
    cluster.pg.start_again();
    for index in 0..3 {
        cluster.at(index).wait_ready(Duration::from_secs(120));
    }
    // The refused batches are sent again (a client retries what was not
    // acknowledged), then the rest.
    let sent_again: Vec<&[String]> = pending
        .into_iter()
        .chain(rest.chunks(50).skip(12))
        .collect();
    for (i, batch) in sent_again.into_iter().enumerate() {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match send_batch(cluster.at(i % 3), batch) {
                Ok(ids) => {
                    acknowledged.extend(ids);
                    break;
                }
                Err(response) if Instant::now() < deadline => {
                    assert!(matches!(response.status, 503 | 0), "{}", response.body);
                    std::thread::sleep(Duration::from_millis(500));
                }
                Err(response) => panic!("{} {}", response.status, response.body),
            }
        }
    }
    let (entries, undecided) = cluster.wait_all_decided(Duration::from_secs(120));
    assert_eq!(undecided, 0, "{entries} entries");
    let logged = cluster.decision_ids();
    let missing = acknowledged
        .iter()
        .filter(|id| !logged.contains(*id))
        .count();
    assert_eq!(missing, 0, "acknowledged decisions missing from the log");
    assert_eq!(entries, 6_000, "every transaction journaled once");
    cluster.assert_replays();
}

/// The transactions of the cluster's log in journal order, as JSON Lines,
/// and the logged decisions in the same order.
fn journal_order(cluster: &Cluster) -> (Vec<String>, Vec<Value>) {
    let rows = ok(
        cluster.client().query(
            "SELECT d.tx, d.decision FROM journal j JOIN decisions d ON d.seq = j.seq
             ORDER BY j.position",
            &[],
        ),
        "read the log in journal order",
    );
    rows.into_iter()
        .map(|row| {
            let tx: String = row.get(0);
            let decision: String = row.get(1);
            (tx, ok(serde_json::from_str(&decision), "a logged decision"))
        })
        .unzip()
}

#[test]
fn a_hundred_thousand_transactions_through_three_replicas_replay_alike_by_audit_and_by_one_node() {
    let cluster = Cluster::start(3);
    let dir = tempdir();
    let lines = generated(dir.path(), 13, 100_000, 30);
    let started = Instant::now();
    let decided: usize = std::thread::scope(|scope| {
        let clients: Vec<_> = (0..3)
            .map(|replica| {
                let cluster = &cluster;
                let lines = &lines;
                scope.spawn(move || {
                    lines
                        .chunks(100)
                        .skip(replica)
                        .step_by(3)
                        .map(|batch| match send_batch(cluster.at(replica), batch) {
                            Ok(ids) => ids.len(),
                            Err(r) => panic!("replica {replica}: {} {}", r.status, r.body),
                        })
                        .sum::<usize>()
                })
            })
            .collect();
        clients.into_iter().map(|c| c.join().unwrap_or(0)).sum()
    });
    eprintln!(
        "100,000 transactions through three replicas in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(decided, lines.len());
    let report = cluster.assert_replays();
    assert!(report.contains("replayed 100000 rows"), "{report}");

    // A single node's eval of the journal's order decides every
    // transaction as the cluster did.
    let (txs, logged) = journal_order(&cluster);
    assert_eq!(txs.len(), 100_000);
    let input = dir.path().join("journal-order.jsonl");
    ok(
        std::fs::write(&input, txs.join("\n") + "\n"),
        "write the journal's order",
    );
    let base = built_base().display().to_string();
    let out = ok(
        Command::new(qorgan_bin())
            .args([
                "eval",
                "--pack",
                &base,
                "--max-clock-skew-secs",
                "100000000",
                "--input",
            ])
            .arg(&input)
            .stdin(Stdio::null())
            .output(),
        "run qorgan eval",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let replayed: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert_eq!(replayed.len(), logged.len());
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(o) = v.as_object_mut() {
            o.remove("decision_id");
            o.remove("elapsed_us");
        }
        v
    };
    let differences = logged
        .iter()
        .zip(&replayed)
        .filter(|(a, b)| strip(a) != strip(b))
        .count();
    assert_eq!(differences, 0, "single-node eval differs from the cluster");
}
