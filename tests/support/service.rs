//! `qorgan serve` as a process on 127.0.0.1, and a small HTTP/1.1 client
//! to talk to it: the service's end-to-end tests drive the real binary
//! over real sockets, and signal it as an orchestrator would.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::fixtures::qorgan_bin;

/// An HTTP response.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body, as text.
    pub body: String,
}

impl Response {
    /// The body as JSON (a panic naming the body if it is not).
    pub fn json(&self) -> serde_json::Value {
        match serde_json::from_str(&self.body) {
            Ok(v) => v,
            Err(e) => panic!("not JSON ({e}): {}", self.body),
        }
    }

    /// The value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Sends one request on a fresh connection and reads the whole response.
pub fn request(
    address: SocketAddr,
    method: &str,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> std::io::Result<Response> {
    send(
        address,
        method,
        path,
        &[("Content-Type", content_type)],
        body,
    )
}

/// Sends one request with `headers` (and `Content-Length`) on a fresh
/// connection and reads the whole response.
pub fn send(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect(address)?;
    stream.set_read_timeout(Some(Duration::from_secs(120)))?;
    exchange(&mut stream, address, method, path, headers, body)
}

/// Writes one request on `stream` (any transport, e.g. TLS) and reads the
/// whole response; the server closes the connection after it.
pub fn exchange(
    stream: &mut (impl Read + Write),
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Response> {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(head.as_bytes())?;
    // A server refusing an over-long body may answer before reading it all.
    let _ = stream.write_all(body);
    let _ = stream.flush();
    let mut raw = Vec::new();
    match stream.read_to_end(&mut raw) {
        Ok(_) => {}
        // A TLS peer that closes without close_notify: what was read stands.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !raw.is_empty() => {}
        Err(e) => return Err(e),
    }
    parse(&raw)
}

/// `GET path`.
pub fn get(address: SocketAddr, path: &str) -> std::io::Result<Response> {
    request(address, "GET", path, "text/plain", b"")
}

/// `POST path` with a JSON body.
pub fn post(address: SocketAddr, path: &str, body: &str) -> std::io::Result<Response> {
    request(address, "POST", path, "application/json", body.as_bytes())
}

/// `POST path` with a JSON Lines body (`application/x-ndjson`).
pub fn post_lines(address: SocketAddr, path: &str, body: &[u8]) -> std::io::Result<Response> {
    request(address, "POST", path, "application/x-ndjson", body)
}

fn invalid(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned())
}

fn parse(raw: &[u8]) -> std::io::Result<Response> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| invalid("no end of headers"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().ok_or_else(|| invalid("no status line"))?;
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| invalid("bad status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"))
    {
        body = dechunk(&body)?;
    }
    Ok(Response {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn dechunk(mut data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| invalid("bad chunk"))?;
        let size_text = String::from_utf8_lossy(&data[..end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| invalid("bad chunk size"))?;
        data = &data[end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if data.len() < size + 2 {
            return Err(invalid("short chunk"));
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// A running `qorgan serve`.
pub struct Service {
    child: Child,
    /// The address it listens on.
    pub address: SocketAddr,
    /// Its standard error, kept in a file.
    pub stderr: PathBuf,
}

impl Service {
    /// Starts `qorgan serve --listen 127.0.0.1:0 ARGS…` with `env`, and
    /// waits until it listens. Its standard error goes to `stderr`.
    pub fn start(args: &[&str], env: &[(&str, &str)], stderr: &Path) -> Service {
        let err = match std::fs::File::create(stderr) {
            Ok(f) => f,
            Err(e) => panic!("cannot create {}: {e}", stderr.display()),
        };
        let mut command = Command::new(qorgan_bin());
        command
            .arg("serve")
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env("QORGAN_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(err);
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = match command.spawn() {
            Ok(c) => c,
            Err(e) => panic!("cannot start qorgan serve: {e}"),
        };
        let stdout = match child.stdout.take() {
            Some(s) => s,
            None => panic!("no stdout"),
        };
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let address = line
            .split("://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|a| a.parse().ok());
        match address {
            Some(address) => Service {
                child,
                address,
                stderr: stderr.to_path_buf(),
            },
            None => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "qorgan serve did not start: stdout {line:?}, stderr:\n{}",
                    std::fs::read_to_string(stderr).unwrap_or_default()
                );
            }
        }
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What it wrote on standard error so far.
    pub fn stderr_text(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Waits until `/readyz` answers 200 and returns its body.
    pub fn wait_ready(&self, within: Duration) -> serde_json::Value {
        let started = Instant::now();
        loop {
            if let Ok(response) = get(self.address, "/readyz")
                && response.status == 200
            {
                return response.json();
            }
            if started.elapsed() > within {
                panic!(
                    "qorgan serve not ready after {within:?}; stderr:\n{}",
                    self.stderr_text()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub fn terminate(mut self) -> ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        match self.child.wait() {
            Ok(status) => status,
            Err(e) => panic!("cannot wait for qorgan serve: {e}"),
        }
    }

    /// Kills the process with SIGKILL and reaps it.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs `qorgan ARGS…` to completion: its exit code and standard output.
pub fn qorgan(args: &[&str]) -> (i32, String, String) {
    match Command::new(qorgan_bin()).args(args).output() {
        Ok(out) => (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ),
        Err(e) => panic!("cannot run qorgan {args:?}: {e}"),
    }
}
