//! `qorgan serve` as a bank exposes it: tokens and roles, TLS with client
//! certificates, timeouts and the connection cap under a flood of idle
//! connections, strict inputs (content types, repeated keys, JSON Lines
//! line by line), and the refusal to listen in the open without TLS and
//! authentication.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use qorgan_e2e::fixtures::{qorgan_bin, tempdir, tx_json, write};
use qorgan_e2e::releases::{built_base, ok};
use qorgan_e2e::service::{Response, Service, exchange, get, post, post_lines, qorgan, send};

const READY: Duration = Duration::from_secs(300);
const DECIDE_TOKEN: &str = "decide-token-3f9a7c";
const OPERATE_TOKEN: &str = "operate-token-81be20";

/// `qorgan hash-token` on `input`: the digest it prints.
fn hash_token(args: &[&str], input: &str) -> String {
    let mut child = ok(
        Command::new(qorgan_bin())
            .arg("hash-token")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn(),
        "run qorgan hash-token",
    );
    if let Some(mut stdin) = child.stdin.take() {
        ok(stdin.write_all(input.as_bytes()), "write the token");
    }
    let out = ok(child.wait_with_output(), "wait for qorgan hash-token");
    assert!(out.status.success(), "qorgan hash-token failed");
    let digest = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert_eq!(digest.len(), 64, "{digest}");
    digest
}

/// A configuration granting the two test tokens, plus `extra` TOML.
fn config_with_tokens(dir: &Path, extra: &str) -> PathBuf {
    let decide = hash_token(&[], &format!("{DECIDE_TOKEN}\n"));
    let operate = hash_token(&[], OPERATE_TOKEN);
    let text = format!(
        "{extra}\n[[tokens]]\nname = \"core-banking\"\nsha256 = \"{decide}\"\nroles = [\"decide\"]\n\n[[tokens]]\nname = \"operations\"\nsha256 = \"{operate}\"\nroles = [\"operate\"]\n"
    );
    let path = dir.join("qorgan.toml");
    write(&path, text.as_bytes());
    path
}

fn start(dir: &Path, extra: &[&str]) -> Service {
    let pack = built_base().display().to_string();
    let state = dir.join("state").display().to_string();
    let mut args = vec!["--pack", pack.as_str(), "--state-dir", state.as_str()];
    args.extend_from_slice(extra);
    Service::start(&args, &[], &dir.join("stderr.log"))
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn topup(id: &str) -> String {
    tx_json(id, "card-topup", "600000.00", "061211600012", &[])
}

/// `qorgan_log_decisions_total` as `/metrics` shows it.
fn logged(address: SocketAddr, token: Option<&str>) -> u64 {
    let auth = token.map(bearer);
    let headers: Vec<(&str, &str)> = auth
        .as_deref()
        .map(|a| vec![("Authorization", a)])
        .unwrap_or_default();
    let metrics = ok(send(address, "GET", "/metrics", &headers, b""), "metrics");
    assert_eq!(metrics.status, 200, "{}", metrics.body);
    metrics
        .body
        .lines()
        .find_map(|l| l.strip_prefix("qorgan_log_decisions_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no qorgan_log_decisions_total in {}", metrics.body))
}

#[test]
fn no_token_is_401_and_a_deciding_token_on_an_operating_route_is_403() {
    let dir = tempdir();
    let config = config_with_tokens(dir.path(), "").display().to_string();
    let service = start(dir.path(), &["--config", &config]);
    service.wait_ready(READY);
    let address = service.address;
    let json = ("Content-Type", "application/json");
    let decide = bearer(DECIDE_TOKEN);
    let operate = bearer(OPERATE_TOKEN);

    let anonymous = ok(
        send(
            address,
            "POST",
            "/v1/evaluate",
            &[json],
            topup("a-1").as_bytes(),
        ),
        "anonymous",
    );
    assert_eq!(anonymous.status, 401, "{}", anonymous.body);
    assert!(anonymous.header("www-authenticate").is_some());
    assert!(
        anonymous.json()["error"]
            .as_str()
            .is_some_and(|e| e.contains("decide"))
    );
    let wrong = ok(
        send(
            address,
            "POST",
            "/v1/evaluate",
            &[json, ("Authorization", "Bearer not-a-granted-token")],
            topup("a-2").as_bytes(),
        ),
        "unknown token",
    );
    assert_eq!(wrong.status, 401, "{}", wrong.body);
    let decided = ok(
        send(
            address,
            "POST",
            "/v1/evaluate",
            &[json, ("Authorization", &decide)],
            topup("a-3").as_bytes(),
        ),
        "decide",
    );
    assert_eq!(decided.status, 200, "{}", decided.body);
    assert_eq!(decided.json()["tx"], "a-3");

    let forbidden = ok(
        send(
            address,
            "GET",
            "/v1/pack",
            &[("Authorization", &decide)],
            b"",
        ),
        "pack with a deciding token",
    );
    assert_eq!(forbidden.status, 403, "{}", forbidden.body);
    assert!(
        forbidden.json()["error"]
            .as_str()
            .is_some_and(|e| e.contains("operate"))
    );
    let operating = ok(
        send(
            address,
            "GET",
            "/v1/pack",
            &[("Authorization", &operate)],
            b"",
        ),
        "pack with an operating token",
    );
    assert_eq!(operating.status, 200, "{}", operating.body);
    let not_deciding = ok(
        send(
            address,
            "POST",
            "/v1/evaluate",
            &[json, ("Authorization", &operate)],
            topup("a-4").as_bytes(),
        ),
        "evaluate with an operating token",
    );
    assert_eq!(not_deciding.status, 403, "{}", not_deciding.body);
    assert_eq!(ok(get(address, "/metrics"), "metrics").status, 401);
    // Probes and the document need no credential.
    assert_eq!(ok(get(address, "/healthz"), "healthz").status, 200);
    assert_eq!(ok(get(address, "/openapi.json"), "openapi").status, 200);
    // Only the authorised request was decided and logged.
    assert_eq!(logged(address, Some(OPERATE_TOKEN)), 1);
}

/// A CA, and certificates it signs.
struct Ca {
    params: rcgen::CertificateParams,
    key: rcgen::KeyPair,
    cert: rcgen::Certificate,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let key = ok(rcgen::KeyPair::generate(), "CA key");
        let mut params = ok(
            rcgen::CertificateParams::new(Vec::<String>::new()),
            "CA params",
        );
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let cert = ok(params.self_signed(&key), "self-sign the CA");
        Ca { params, key, cert }
    }

    /// A certificate for `names` (a server's) or for a client.
    fn issue(&self, names: &[&str], client: bool) -> (rcgen::Certificate, rcgen::KeyPair) {
        let key = ok(rcgen::KeyPair::generate(), "key");
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = ok(rcgen::CertificateParams::new(names), "params");
        params.extended_key_usages = vec![if client {
            rcgen::ExtendedKeyUsagePurpose::ClientAuth
        } else {
            rcgen::ExtendedKeyUsagePurpose::ServerAuth
        }];
        let issuer = rcgen::Issuer::from_params(&self.params, &self.key);
        (ok(params.signed_by(&key, &issuer), "sign"), key)
    }
}

/// A TLS client trusting `ca`, presenting `identity` if given.
fn tls_client(
    ca: &Ca,
    identity: Option<&(rcgen::Certificate, rcgen::KeyPair)>,
) -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    ok(roots.add(ca.cert.der().clone()), "trust the CA");
    let builder = ok(
        rustls::ClientConfig::builder_with_provider(provider).with_safe_default_protocol_versions(),
        "TLS versions",
    )
    .with_root_certificates(roots);
    let config = match identity {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => ok(
            builder.with_client_auth_cert(
                vec![cert.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
            ),
            "client certificate",
        ),
    };
    Arc::new(config)
}

/// `GET path` over TLS with `config`, with `headers`.
fn tls_get(
    address: SocketAddr,
    config: Arc<rustls::ClientConfig>,
    path: &str,
    headers: &[(&str, &str)],
) -> std::io::Result<Response> {
    let name = ok(
        rustls::pki_types::ServerName::try_from("localhost"),
        "server name",
    );
    let connection = rustls::ClientConnection::new(config, name).map_err(std::io::Error::other)?;
    let tcp = TcpStream::connect(address)?;
    tcp.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut stream = rustls::StreamOwned::new(connection, tcp);
    exchange(&mut stream, address, "GET", path, headers, b"")
}

#[test]
fn tls_serves_a_client_certificate_of_the_test_ca_and_refuses_an_unknown_one() {
    let dir = tempdir();
    let ca = Ca::new("qorgan test CA");
    let (server_cert, server_key) = ca.issue(&["localhost", "127.0.0.1"], false);
    let client = ca.issue(&["operations-console"], true);
    let stranger_ca = Ca::new("somebody else's CA");
    let stranger = stranger_ca.issue(&["intruder"], true);
    let files = [
        ("server.pem", server_cert.pem()),
        ("server.key", server_key.serialize_pem()),
        ("ca.pem", ca.cert.pem()),
        ("client.pem", client.0.pem()),
    ];
    for (name, text) in &files {
        write(&dir.path().join(name), text.as_bytes());
    }
    let fingerprint = hash_token(
        &[
            "--cert",
            &dir.path().join("client.pem").display().to_string(),
        ],
        "",
    );
    let path = |name: &str| dir.path().join(name).display().to_string();
    let extra = format!(
        "tls_cert = \"{}\"\ntls_key = \"{}\"\ntls_client_ca = \"{}\"\n[[client_certs]]\nname = \"operations-console\"\nsha256 = \"{fingerprint}\"\nroles = [\"operate\"]\n",
        path("server.pem"),
        path("server.key"),
        path("ca.pem")
    );
    let config = config_with_tokens(dir.path(), &extra).display().to_string();
    let service = start(dir.path(), &["--config", &config]);
    let address = service.address;

    let pack = ok(
        tls_get(address, tls_client(&ca, Some(&client)), "/v1/pack", &[]),
        "GET /v1/pack with the client certificate",
    );
    assert_eq!(pack.status, 200, "{}", pack.body);
    assert_eq!(pack.json()["active"]["name"], "kz-afm");
    // No certificate: a token still works over TLS; nothing is 401.
    let anonymous = ok(
        tls_get(address, tls_client(&ca, None), "/v1/pack", &[]),
        "GET /v1/pack without a credential",
    );
    assert_eq!(anonymous.status, 401, "{}", anonymous.body);
    let operate = bearer(OPERATE_TOKEN);
    let with_token = ok(
        tls_get(
            address,
            tls_client(&ca, None),
            "/v1/pack",
            &[("Authorization", &operate)],
        ),
        "GET /v1/pack with a token",
    );
    assert_eq!(with_token.status, 200, "{}", with_token.body);
    // A certificate of another CA: the handshake is refused.
    let refused = tls_get(address, tls_client(&ca, Some(&stranger)), "/v1/pack", &[]);
    assert!(
        refused.is_err(),
        "a certificate of an unknown CA was served: {refused:?}"
    );
    // Plain HTTP on the TLS port gets no answer.
    assert!(get(address, "/healthz").is_err_or_not_ok());

    // The certificate is re-read when its file changes.
    let second_ca = Ca::new("qorgan renewed CA");
    let (renewed, renewed_key) = second_ca.issue(&["localhost"], false);
    write(
        &dir.path().join("server.key"),
        renewed_key.serialize_pem().as_bytes(),
    );
    write(&dir.path().join("server.pem"), renewed.pem().as_bytes());
    let started = Instant::now();
    loop {
        let answer = tls_get(address, tls_client(&second_ca, None), "/healthz", &[]);
        if answer.as_ref().is_ok_and(|r| r.status == 200) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the renewed certificate was not served: {answer:?}\n{}",
            service.stderr_text()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Whether a plain-HTTP exchange failed to get an HTTP answer.
trait NotOk {
    fn is_err_or_not_ok(&self) -> bool;
}

impl NotOk for std::io::Result<Response> {
    fn is_err_or_not_ok(&self) -> bool {
        !self.as_ref().is_ok_and(|r| r.status == 200)
    }
}

/// Raises this process's soft limit on open files to at least `want`
/// (within the hard limit), so that it can hold the connections it opens.
fn raise_own_file_limit(want: u64) {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let soft = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    if soft >= want {
        return;
    }
    let status = Command::new("prlimit")
        .args([
            "--pid",
            &std::process::id().to_string(),
            &format!("--nofile={want}:"),
        ])
        .status();
    assert!(
        status.as_ref().is_ok_and(|s| s.success()),
        "cannot raise this test's open-file limit to {want} (prlimit: {status:?}); it needs that many connections"
    );
}

#[test]
fn a_new_request_is_answered_within_5s_while_1100_idle_or_half_sent_connections_are_held() {
    let dir = tempdir();
    let service = start(dir.path(), &[]);
    service.wait_ready(READY);
    let address = service.address;
    // The service gets 1,024 file descriptors, fewer than the flood.
    let limited = Command::new("prlimit")
        .args(["--pid", &service.pid().to_string(), "--nofile=1024:1024"])
        .status();
    assert!(
        limited.as_ref().is_ok_and(|s| s.success()),
        "cannot limit the service's open files with prlimit (util-linux): {limited:?}"
    );
    raise_own_file_limit(4096);
    let mut held = Vec::with_capacity(1100);
    for i in 0..1100 {
        let mut stream = ok(TcpStream::connect(address), "open a flood connection");
        if i % 2 == 1 {
            // Half-sent: a request line and part of a header, then nothing.
            let _ = stream.write_all(b"POST /v1/evaluate HTTP/1.1\r\nHost: flood\r\nContent-Ty");
        }
        held.push(stream);
    }
    let started = Instant::now();
    let health = ok(get(address, "/healthz"), "healthz during the flood");
    let decided = ok(post(address, "/v1/evaluate", &topup("flood-1")), "evaluate");
    let elapsed = started.elapsed();
    assert_eq!(health.status, 200, "{}", health.body);
    assert_eq!(decided.status, 200, "{}", decided.body);
    assert!(
        elapsed < Duration::from_secs(5),
        "answered in {elapsed:?} while 1,100 connections were held"
    );
    let metrics = ok(get(address, "/metrics"), "metrics").body;
    let open: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("qorgan_http_connections_open "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(u64::MAX);
    assert!(
        open <= 512,
        "{open} connections open, above the cap:\n{metrics}"
    );
    drop(held);
}

#[test]
fn a_text_plain_post_is_415_and_is_neither_decided_nor_logged() {
    let dir = tempdir();
    let service = start(dir.path(), &[]);
    service.wait_ready(READY);
    let address = service.address;
    let plain = ok(
        send(
            address,
            "POST",
            "/v1/evaluate",
            &[("Content-Type", "text/plain")],
            topup("csrf-1").as_bytes(),
        ),
        "text/plain",
    );
    assert_eq!(plain.status, 415, "{}", plain.body);
    assert!(
        plain.json()["error"]
            .as_str()
            .is_some_and(|e| e.contains("application/json"))
    );
    let missing = ok(
        send(
            address,
            "POST",
            "/v1/evaluate/batch",
            &[],
            topup("csrf-2").as_bytes(),
        ),
        "no content type",
    );
    assert_eq!(missing.status, 415, "{}", missing.body);
    assert_eq!(logged(address, None), 0);
    // The same transaction as JSON is decided: it was refused for its type.
    assert_eq!(
        ok(post(address, "/v1/evaluate", &topup("csrf-1")), "json").status,
        200
    );
}

#[test]
fn a_repeated_key_is_refused_naming_it_in_serve_and_in_eval() {
    let dir = tempdir();
    let service = start(dir.path(), &[]);
    service.wait_ready(READY);
    let twice = topup("dup-1").replace(
        "\"amount\":\"600000.00\"",
        "\"amount\":\"600000.00\",\"amount\":\"1.00\"",
    );
    assert!(twice.contains("\"1.00\""), "{twice}");
    let refused = ok(post(service.address, "/v1/evaluate", &twice), "evaluate");
    assert_eq!(refused.status, 400, "{}", refused.body);
    let message = refused.json()["error"].as_str().unwrap_or("").to_owned();
    assert!(message.contains("duplicate key `amount`"), "{message}");
    assert_eq!(logged(service.address, None), 0);

    let input = dir.path().join("dup.jsonl");
    write(
        &input,
        format!("{}\n{twice}\n{}\n", topup("dup-0"), topup("dup-2")).as_bytes(),
    );
    let (code, out, err) = qorgan(&[
        "eval",
        "--pack",
        &built_base().display().to_string(),
        "--input",
        &input.display().to_string(),
    ]);
    assert_eq!(code, 65, "{out}{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| ok(serde_json::from_str(l), "eval line"))
        .collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert_eq!(lines[1]["line"], 2);
    assert!(
        lines[1]["error"]
            .as_str()
            .is_some_and(|e| e.contains("duplicate key `amount`")),
        "{out}"
    );
    assert_eq!(lines[0]["tx"], "dup-0");
    assert_eq!(lines[2]["tx"], "dup-2");
}

#[test]
fn a_json_lines_batch_with_one_bad_line_decides_the_others() {
    let dir = tempdir();
    let service = start(dir.path(), &[]);
    service.wait_ready(READY);
    let mut body = format!("{}\n", topup("jl-1")).into_bytes();
    body.extend_from_slice(b"{\"id\":\"jl-2\",\"kind\":\"\xff\xfe\"}\n");
    body.extend_from_slice(format!("{}\n", topup("jl-3")).as_bytes());
    let batch = ok(
        post_lines(service.address, "/v1/evaluate/batch", &body),
        "batch",
    );
    assert_eq!(batch.status, 200, "{}", batch.body);
    let items: Vec<serde_json::Value> = batch
        .body
        .lines()
        .map(|l| ok(serde_json::from_str(l), "item"))
        .collect();
    assert_eq!(items.len(), 3, "{}", batch.body);
    assert_eq!(items[0]["tx"], "jl-1");
    assert_eq!(items[1]["line"], 2);
    assert!(
        items[1]["error"]
            .as_str()
            .is_some_and(|e| e.contains("UTF-8"))
    );
    assert_eq!(items[2]["tx"], "jl-3");
    assert_eq!(logged(service.address, None), 2);
}

#[test]
fn an_empty_batch_unknown_routes_and_wrong_methods_answer_json_errors() {
    let dir = tempdir();
    let service = start(dir.path(), &[]);
    service.wait_ready(READY);
    let address = service.address;
    for (body, media) in [
        ("", "application/x-ndjson"),
        ("\n  \n", "application/x-ndjson"),
        ("[]", "application/json"),
    ] {
        let empty = ok(
            send(
                address,
                "POST",
                "/v1/evaluate/batch",
                &[("Content-Type", media)],
                body.as_bytes(),
            ),
            "empty batch",
        );
        assert_eq!(empty.status, 400, "{body:?}: {}", empty.body);
        assert!(empty.json()["error"].is_string());
    }
    let object = ok(post(address, "/v1/evaluate/batch", "{}"), "object batch");
    assert_eq!(object.status, 400, "{}", object.body);
    let missing = ok(get(address, "/v2/nothing"), "404");
    assert_eq!(missing.status, 404);
    assert!(
        missing.json()["error"]
            .as_str()
            .is_some_and(|e| e.contains("/v2/nothing"))
    );
    let wrong = ok(get(address, "/v1/evaluate"), "405");
    assert_eq!(wrong.status, 405);
    assert!(wrong.json()["error"].is_string());
    assert_eq!(wrong.header("allow"), Some("POST"));
}

#[test]
fn a_body_over_the_limit_is_413_without_100_continue() {
    let dir = tempdir();
    let service = start(dir.path(), &["--max-body-bytes", "2048"]);
    service.wait_ready(READY);
    let mut stream = ok(TcpStream::connect(service.address), "connect");
    ok(
        stream.set_read_timeout(Some(Duration::from_secs(30))),
        "timeout",
    );
    ok(
        stream.write_all(
            b"POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\nExpect: 100-continue\r\n\r\n",
        ),
        "headers",
    );
    let mut head = [0u8; 12];
    ok(stream.read_exact(&mut head), "status line");
    let status = String::from_utf8_lossy(&head).into_owned();
    assert_eq!(status, "HTTP/1.1 413", "the first answer was {status:?}");
}

#[test]
fn a_non_loopback_listen_without_authentication_exits_non_zero_saying_why() {
    let dir = tempdir();
    let (code, out, err) = qorgan(&[
        "serve",
        "--listen",
        "0.0.0.0:0",
        "--pack",
        &built_base().display().to_string(),
        "--state-dir",
        &dir.path().join("state").display().to_string(),
    ]);
    assert_ne!(code, 0, "{out}{err}");
    assert!(
        err.contains("--insecure") && err.contains("TLS") && err.contains("authentication"),
        "{err}"
    );
    assert!(!out.contains("listening"), "{out}");
    assert!(!dir.path().join("state/decisions.sqlite").exists());
}
