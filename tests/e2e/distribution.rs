//! Packs travelling from the regulator to a bank's host, end to end, over
//! real servers on 127.0.0.1: a directory written by `pack publish`, an
//! HTTP server speaking `ETag`s (a small one in this file), and an OCI
//! registry (Debian's `docker-registry`, started by the test). Every pack
//! is the reference pack, built for real and signed; every candidate goes
//! through the host's activator.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use qorgan::pack::archive::{self, Compression};
use qorgan::source::{DirSource, RemoteProblem, Source, SourceError};
use qorgan_distribution::{
    HttpSource, OciSource, PublishError, PublishOptions, PublishTarget, publish,
};
use qorgan_e2e::fixtures::{qorgan_bin, tempdir, tx};
use qorgan_e2e::releases::{Host, deciding_serial, keys, ok, release, trust_both, v1, v2};

// ---------------------------------------------------------------------------
// A small HTTP server: GET with ETag and If-None-Match, PUT, forced errors.

/// A request the server answered.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    if_none_match: Option<String>,
    status: u16,
}

/// What the server serves, and what it saw.
#[derive(Debug, Default)]
struct Served {
    body: Option<Vec<u8>>,
    failing: Option<u16>,
    /// Sends no `ETag` (and no `Last-Modified`).
    no_validators: bool,
    log: Vec<Seen>,
}

/// An HTTP/1.1 server on 127.0.0.1 serving one archive at every path,
/// with a strong `ETag` (the archive's sha256); `PUT` replaces it. One
/// connection at a time, each closed after its answer.
struct PackServer {
    addr: SocketAddr,
    served: Arc<Mutex<Served>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl PackServer {
    fn start() -> PackServer {
        let listener = ok(TcpListener::bind("127.0.0.1:0"), "bind");
        let addr = ok(listener.local_addr(), "local address");
        let served = Arc::new(Mutex::new(Served::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (state, stopping) = (Arc::clone(&served), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    answer(stream, &state);
                }
            }
        });
        PackServer {
            addr,
            served,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("http://{}/packs/kz-afm.qpack", self.addr)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, Served> {
        self.served.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn serve(&self, body: Vec<u8>) {
        self.state().body = Some(body);
    }

    fn fail_with(&self, status: Option<u16>) {
        self.state().failing = status;
    }

    fn log(&self) -> Vec<Seen> {
        self.state().log.clone()
    }
}

impl Drop for PackServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accepting thread up.
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn etag(body: &[u8]) -> String {
    format!("\"{}\"", qorgan::pack::sha256_hex(body))
}

/// Reads one request and answers it.
fn answer(stream: TcpStream, served: &Mutex<Served>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let method = request_line
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned();
    let mut headers = HashMap::new();
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }

    let mut state = served.lock().unwrap_or_else(|p| p.into_inner());
    let if_none_match = headers.get("if-none-match").cloned();
    let (status, reason, tag, content): (u16, &str, Option<String>, Vec<u8>) =
        match (method.as_str(), state.failing, &state.body) {
            (_, Some(code), _) => (code, "Failing", None, b"down for maintenance".to_vec()),
            ("PUT", None, previous) => {
                let status = if previous.is_some() { 204 } else { 201 };
                state.body = Some(body);
                (status, "Stored", None, Vec::new())
            }
            ("GET", None, Some(served)) if state.no_validators => (200, "OK", None, served.clone()),
            ("GET", None, Some(served)) => {
                let tag = etag(served);
                if if_none_match.as_deref() == Some(tag.as_str()) {
                    (304, "Not Modified", Some(tag), Vec::new())
                } else {
                    (200, "OK", Some(tag), served.clone())
                }
            }
            ("GET", None, None) => (404, "Not Found", None, Vec::new()),
            _ => (405, "Method Not Allowed", None, Vec::new()),
        };
    state.log.push(Seen {
        method,
        if_none_match,
        status,
    });
    drop(state);

    let mut head = format!("HTTP/1.1 {status} {reason}\r\nConnection: close\r\n");
    if let Some(tag) = tag {
        head.push_str(&format!("ETag: {tag}\r\n"));
    }
    if status != 304 {
        head.push_str(&format!(
            "Content-Type: application/octet-stream\r\nContent-Length: {}\r\n",
            content.len()
        ));
    }
    head.push_str("\r\n");
    let mut stream = reader.into_inner();
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&content);
    let _ = stream.flush();
}

/// The gzip archive of the pack directory `dir`.
fn archived(dir: &Path) -> Vec<u8> {
    ok(archive::archive_bytes(dir, Compression::Gzip), "archive")
}

fn http_source(url: &str, backoff: Duration) -> HttpSource {
    ok(
        HttpSource::builder(url)
            .backoff(backoff, backoff * 4)
            .build(),
        "HTTP source",
    )
}

// ---------------------------------------------------------------------------
// HTTP

#[test]
fn the_http_source_pulls_once_then_gets_304_and_pulls_v2_after_it_changes() {
    let host = Host::new(trust_both(2));
    let server = PackServer::start();
    let v1 = archived(&v1(host.packs.path()));
    server.serve(v1.clone());
    let mut source = http_source(&server.url(), Duration::from_millis(100));

    let outcomes = ok(source.poll_once(&host.activator), "first poll");
    assert!(
        matches!(outcomes.as_slice(), [Ok(a)] if a.pack.serial == 1),
        "{outcomes:?}"
    );
    assert_eq!(deciding_serial(host.engine()), 1);

    let outcomes = ok(source.poll_once(&host.activator), "second poll");
    assert!(outcomes.is_empty(), "{outcomes:?}");

    server.serve(archived(&v2(host.packs.path())));
    let outcomes = ok(source.poll_once(&host.activator), "third poll");
    assert!(
        matches!(outcomes.as_slice(), [Ok(a)] if a.pack.serial == 2 && a.previous.as_ref().map(|p| p.serial) == Some(1)),
        "{outcomes:?}"
    );
    assert_eq!(deciding_serial(host.engine()), 2);
    let origin = host.status().active.map(|a| a.origin).unwrap_or_default();
    assert_eq!(
        origin.split(" (sha256 ").next(),
        Some(format!("pack archive from {}", server.url()).as_str()),
        "{origin}"
    );
    assert!(ok(source.poll_once(&host.activator), "fourth poll").is_empty());

    let log = server.log();
    let shape: Vec<(u16, bool)> = log
        .iter()
        .map(|s| (s.status, s.if_none_match.is_some()))
        .collect();
    assert_eq!(
        shape,
        [(200, false), (304, true), (200, true), (304, true)],
        "{log:?}"
    );
    assert_eq!(
        log.get(1).and_then(|s| s.if_none_match.clone()),
        Some(etag(&v1))
    );
    assert!(log.iter().all(|s| s.method == "GET"));
    let status = host.status();
    assert_eq!(status.refusals, 0, "{}", status.to_json());
    assert_eq!(status.activations, 2);
}

#[test]
fn a_server_without_validators_is_polled_whole_but_only_a_changed_archive_is_offered() {
    let host = Host::new(trust_both(2));
    let server = PackServer::start();
    server.state().no_validators = true;
    server.serve(archived(&v1(host.packs.path())));
    let mut source = http_source(&server.url(), Duration::from_millis(100));

    let outcomes = ok(source.poll_once(&host.activator), "first poll");
    assert!(
        matches!(outcomes.as_slice(), [Ok(a)] if a.pack.serial == 1),
        "{outcomes:?}"
    );
    assert!(ok(source.poll_once(&host.activator), "same bytes").is_empty());
    server.serve(archived(&v2(host.packs.path())));
    let outcomes = ok(source.poll_once(&host.activator), "new bytes");
    assert!(
        matches!(outcomes.as_slice(), [Ok(a)] if a.pack.serial == 2),
        "{outcomes:?}"
    );
    let log = server.log();
    assert!(
        log.iter()
            .all(|s| s.status == 200 && s.if_none_match.is_none()),
        "{log:?}"
    );
    assert_eq!(log.len(), 3);
    assert_eq!(host.status().activations, 2);
}

#[test]
fn a_failing_http_server_is_backed_off_and_serial_1_keeps_deciding() {
    let host = Host::new(trust_both(2));
    let server = PackServer::start();
    server.serve(archived(&v1(host.packs.path())));
    let backoff = Duration::from_millis(300);
    let mut source = http_source(&server.url(), backoff);
    ok(source.poll_once(&host.activator), "first poll");
    assert_eq!(deciding_serial(host.engine()), 1);

    server.serve(archived(&v2(host.packs.path())));
    server.fail_with(Some(503));
    let failure = |source: &mut HttpSource| match source.poll_once(&host.activator) {
        Err(SourceError::Unreachable {
            problem: RemoteProblem::Status { status },
            failures,
            retry_in,
            ..
        }) => (status, failures, retry_in),
        other => panic!("expected the server's error, got {other:?}"),
    };
    assert_eq!(failure(&mut source), (503, 1, backoff));
    assert_eq!(deciding_serial(host.engine()), 1);
    let problem = host.status().last_source_problem.map(|p| p.error);
    assert!(
        problem
            .as_deref()
            .is_some_and(|e| e.contains("answered 503") && e.contains("failure 1 in a row")),
        "{problem:?}"
    );

    // Within the wait the source does not ask the server at all.
    let asked = server.log().len();
    assert!(ok(source.poll_once(&host.activator), "poll while waiting").is_empty());
    assert_eq!(server.log().len(), asked);

    std::thread::sleep(backoff);
    assert_eq!(failure(&mut source), (503, 2, backoff * 2));
    assert_eq!(server.log().len(), asked + 1);
    assert_eq!(deciding_serial(host.engine()), 1);

    server.fail_with(None);
    std::thread::sleep(backoff * 2);
    let outcomes = ok(source.poll_once(&host.activator), "poll after recovery");
    assert!(
        matches!(outcomes.as_slice(), [Ok(a)] if a.pack.serial == 2),
        "{outcomes:?}"
    );
    assert_eq!(deciding_serial(host.engine()), 2);
    assert_eq!(host.status().refusals, 0);
}

#[test]
fn pack_publish_puts_the_archive_and_a_host_polling_the_url_activates_it() {
    let host = Host::new(trust_both(2));
    let server = PackServer::start();
    let v1 = v1(host.packs.path());

    let out = ok(
        Command::new(qorgan_bin())
            .args(["pack", "publish"])
            .arg(&v1)
            .args(["--to", &server.url()])
            .output(),
        "run qorgan pack publish",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("published kz-afm 2025.3.0 (serial 1)"),
        "{stdout}"
    );
    assert!(
        matches!(server.log().as_slice(), [s] if s.method == "PUT" && s.status == 201),
        "{:?}",
        server.log()
    );

    let mut source = http_source(&server.url(), Duration::from_millis(100));
    let outcomes = ok(source.poll_once(&host.activator), "poll");
    assert!(
        matches!(outcomes.as_slice(), [Ok(a)] if a.pack.serial == 1),
        "{outcomes:?}"
    );

    // An unsigned pack is refused before anything is sent.
    let unsigned = host.packs.path().join("unsigned");
    qorgan_e2e::releases::copy_all(&v1, &unsigned);
    ok(
        std::fs::remove_dir_all(unsigned.join("signatures")),
        "unsign",
    );
    let out = ok(
        Command::new(qorgan_bin())
            .args(["pack", "publish"])
            .arg(&unsigned)
            .args(["--to", &server.url()])
            .output(),
        "run qorgan pack publish",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("the pack is not signed"), "{stderr}");
    assert_eq!(server.log().len(), 2, "only the host's GET after the PUT");
}

// ---------------------------------------------------------------------------
// Directory

#[test]
fn publish_to_a_directory_writes_name_serial_qpack_atomically_for_a_dir_source() {
    let host = Host::new(trust_both(2));
    let inbox = host.packs.path().join("inbox");
    let target = PublishTarget::Dir(inbox.clone());
    let options = PublishOptions::default().trust(trust_both(2));
    let v1 = v1(host.packs.path());

    let (release_1, published) = ok(publish(&v1, &target, &options), "publish v1");
    assert_eq!(release_1.file_name(), "kz-afm-1.qpack");
    assert_eq!(release_1.signers.len(), 2, "{:?}", release_1.signers);
    assert!(!published.unchanged);
    let names: Vec<String> = ok(std::fs::read_dir(&inbox), "inbox")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["kz-afm-1.qpack"], "no temporary file is left");
    assert_eq!(
        ok(std::fs::read(inbox.join("kz-afm-1.qpack")), "read"),
        release_1.bytes
    );

    // The same release again changes nothing; other bytes for serial 1 are refused.
    let (_, again) = ok(publish(&v1, &target, &options), "publish v1 again");
    assert!(again.unchanged);
    let rival = release(
        host.packs.path(),
        "rival",
        1,
        &[&keys().a, &keys().b],
        |dir| {
            qorgan_e2e::releases::edit(
                &dir.join("pack.toml"),
                "recycle_after_calls = 100000",
                "recycle_after_calls = 99000",
            );
        },
    );
    match publish(&rival, &target, &options) {
        Err(PublishError::AlreadyPublished { path }) => {
            assert_eq!(path, inbox.join("kz-afm-1.qpack"));
        }
        other => panic!("expected AlreadyPublished, got {other:?}"),
    }

    // A published archive is itself publishable (as it is: already gzip).
    let copy = host.packs.path().join("copy");
    let (from_archive, _) = ok(
        publish(
            &inbox.join("kz-afm-1.qpack"),
            &PublishTarget::Dir(copy.clone()),
            &PublishOptions::default(),
        ),
        "publish the archive",
    );
    assert_eq!(from_archive.bytes, release_1.bytes);

    let mut source = DirSource::new(&inbox);
    let outcomes = ok(source.poll_once(&host.activator), "poll");
    assert!(
        matches!(outcomes.as_slice(), [Ok(a)] if a.pack.serial == 1),
        "{outcomes:?}"
    );
    ok(
        publish(&v2(host.packs.path()), &target, &options),
        "publish v2",
    );
    let outcomes = ok(source.poll_once(&host.activator), "poll");
    assert!(
        matches!(outcomes.as_slice(), [Ok(a)] if a.pack.serial == 2),
        "{outcomes:?}"
    );
    assert_eq!(deciding_serial(host.engine()), 2);
}

// ---------------------------------------------------------------------------
// OCI

const REGISTRY_BIN: &str = "/usr/bin/docker-registry";

/// Debian's `docker-registry` (the CNCF distribution registry) on a free
/// port of 127.0.0.1, storing in a temporary directory; killed on drop.
struct Registry {
    child: Child,
    addr: SocketAddr,
    dir: tempfile::TempDir,
}

impl Registry {
    fn start() -> Registry {
        assert!(
            Path::new(REGISTRY_BIN).is_file(),
            "{REGISTRY_BIN} is missing: the OCI tests need Debian's OCI registry; install it with `apt-get install -y docker-registry`"
        );
        let dir = tempdir();
        // A free port: bound, read, released for the registry.
        let addr = {
            let probe = ok(TcpListener::bind("127.0.0.1:0"), "bind");
            ok(probe.local_addr(), "local address")
        };
        let config = dir.path().join("config.yml");
        let storage = dir.path().join("storage");
        ok(std::fs::create_dir_all(&storage), "storage");
        let yaml = format!(
            "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {addr}\n",
            storage.display()
        );
        ok(std::fs::write(&config, yaml), "write the registry's config");
        let log = ok(
            std::fs::File::create(dir.path().join("registry.log")),
            "log",
        );
        let child = ok(
            Command::new(REGISTRY_BIN)
                .arg("serve")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(ok(log.try_clone(), "log"))
                .stderr(log)
                .spawn(),
            "start docker-registry",
        );
        let mut registry = Registry { child, addr, dir };
        registry.wait_until_ready();
        registry
    }

    /// Waits for `GET /v2/` to answer 200.
    fn wait_until_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("docker-registry exited with {status}: {}", self.log());
            }
            if let Ok(mut stream) = TcpStream::connect(self.addr) {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                let request = format!(
                    "GET /v2/ HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
                    self.addr
                );
                let mut answer = String::new();
                if stream.write_all(request.as_bytes()).is_ok()
                    && stream.read_to_string(&mut answer).is_ok()
                    && answer.starts_with("HTTP/1.1 200")
                {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("docker-registry did not answer within 30 s: {}", self.log());
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    fn reference(&self, repository_and_tag: &str) -> String {
        format!("oci://{}/{repository_and_tag}", self.addr)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn an_oci_registry_carries_v1_then_v2_to_a_host_under_load_with_no_failed_evaluation() {
    let registry = Registry::start();
    let reference = registry.reference("afm/kz-afm:stable");
    let host = Host::new(trust_both(2));

    let target = ok(PublishTarget::parse(&reference), "target");
    let (release_1, published) = ok(
        publish(&v1(host.packs.path()), &target, &PublishOptions::default()),
        "publish v1",
    );
    assert!(
        published
            .location
            .starts_with(&format!("{reference}@sha256:")),
        "{}",
        published.location
    );
    assert_eq!(release_1.config.serial, 1);

    let mut source = ok(OciSource::new(&reference), "OCI source");
    let outcomes = ok(source.poll_once(&host.activator), "first poll");
    assert!(
        matches!(outcomes.as_slice(), [Ok(a)] if a.pack.serial == 1),
        "{outcomes:?}\n{}",
        registry.log()
    );
    let digest_1 = source.last_digest().map(str::to_owned);
    assert_eq!(
        digest_1.as_deref(),
        published.location.rsplit_once('@').map(|(_, d)| d)
    );
    assert!(
        ok(source.poll_once(&host.activator), "unchanged tag").is_empty(),
        "the same digest is not pulled again"
    );

    // Decisions keep flowing while v2 is published and activated.
    let engine = host.engine().clone();
    let stop = Arc::new(AtomicBool::new(false));
    let running = Arc::clone(&stop);
    let load = std::thread::spawn(move || {
        let txs: Vec<_> = (0..8)
            .map(|i| {
                let kind = if i % 2 == 0 {
                    "card-topup"
                } else {
                    "cash-withdrawal"
                };
                tx(&format!("load-{i}"), kind, "600000.00", "061211600012", &[])
            })
            .collect();
        let mut evaluator = engine.evaluator();
        let mut serials = Vec::new();
        let mut failures = Vec::new();
        while !running.load(Ordering::Relaxed) {
            for result in evaluator.evaluate_batch(&txs) {
                match result {
                    Ok(decision) => serials.push(decision.pack.serial),
                    Err(e) => failures.push(e.to_string()),
                }
            }
        }
        (serials, failures)
    });

    let v2 = v2(host.packs.path());
    let out = ok(
        Command::new(qorgan_bin())
            .args(["pack", "publish"])
            .arg(&v2)
            .args(["--to", &reference])
            .output(),
        "run qorgan pack publish",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        registry.log()
    );
    assert!(stdout.contains("(serial 2)"), "{stdout}");

    let outcomes = ok(source.poll_once(&host.activator), "poll after v2");
    assert!(
        matches!(outcomes.as_slice(), [Ok(a)] if a.pack.serial == 2),
        "{outcomes:?}"
    );
    // The active pack says where it came from: the reference and the
    // digest it resolved to, not the local download.
    let origin = host.status().active.map(|a| a.origin).unwrap_or_default();
    assert!(
        origin.starts_with("pack archive from oci://") && origin.contains("(sha256:"),
        "{origin}"
    );
    assert_ne!(source.last_digest().map(str::to_owned), digest_1);
    let deadline = Instant::now() + Duration::from_secs(60);
    while deciding_serial(host.engine()) != 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    let (serials, failures) = match load.join() {
        Ok(outcome) => outcome,
        Err(_) => panic!("the load thread panicked"),
    };

    assert!(failures.is_empty(), "failed evaluations: {failures:?}");
    assert_eq!(serials.first(), Some(&1), "the load started on serial 1");
    assert_eq!(serials.last(), Some(&2), "the load ended on serial 2");
    assert!(
        serials.windows(2).all(|w| matches!(w, [a, b] if a <= b)),
        "a decision went back to serial 1 after serial 2"
    );
    assert_eq!(host.status().refusals, 0, "{}", host.status().to_json());
}

#[test]
fn an_oci_source_whose_registry_is_down_backs_off_with_a_typed_error() {
    // A port that was free a moment ago: nothing listens on it.
    let addr = {
        let probe = ok(TcpListener::bind("127.0.0.1:0"), "bind");
        ok(probe.local_addr(), "local address")
    };
    let host = Host::new(trust_both(2));
    let mut source = ok(
        OciSource::builder(format!("oci://{addr}/afm/kz-afm:stable"))
            .backoff(Duration::from_secs(30), Duration::from_secs(60))
            .build(),
        "OCI source",
    );
    match source.poll_once(&host.activator) {
        Err(SourceError::Unreachable {
            problem: RemoteProblem::Network(_),
            failures: 1,
            retry_in,
            ..
        }) => assert_eq!(retry_in, Duration::from_secs(30)),
        other => panic!("expected an unreachable registry, got {other:?}"),
    }
    assert!(ok(source.poll_once(&host.activator), "poll while waiting").is_empty());
    assert!(host.status().last_source_problem.is_some());
    assert!(host.engine().active().is_none());
}

#[test]
fn an_unreachable_registry_or_server_is_backed_off_while_the_active_pack_keeps_deciding() {
    let host = Host::new(trust_both(2));
    host.activate(&v1(host.packs.path()));
    assert_eq!(deciding_serial(host.engine()), 1);
    // A port that was free a moment ago: nothing listens on it.
    let addr = {
        let probe = ok(TcpListener::bind("127.0.0.1:0"), "bind");
        ok(probe.local_addr(), "local address")
    };
    let mut oci = ok(
        OciSource::builder(format!("oci://{addr}/afm/kz-afm:stable"))
            .backoff(Duration::from_secs(30), Duration::from_secs(60))
            .build(),
        "OCI source",
    );
    let mut http = http_source(
        &format!("http://{addr}/kz-afm.qpack"),
        Duration::from_secs(30),
    );
    for round in 0..2 {
        let polls = [
            oci.poll_once(&host.activator),
            http.poll_once(&host.activator),
        ];
        for poll in polls {
            match (round, poll) {
                (
                    0,
                    Err(SourceError::Unreachable {
                        problem: RemoteProblem::Network(_),
                        failures: 1,
                        retry_in,
                        ..
                    }),
                ) => assert_eq!(retry_in, Duration::from_secs(30)),
                // Within the wait, neither source asks again.
                (1, Ok(outcomes)) => assert!(outcomes.is_empty()),
                (_, other) => panic!("round {round}: {other:?}"),
            }
        }
        assert_eq!(deciding_serial(host.engine()), 1, "serial 1 keeps deciding");
    }
    let status = host.status();
    assert!(status.last_source_problem.is_some());
    assert_eq!(
        status.refusals, 0,
        "an unreachable source is not a refused pack"
    );
}
