//! Accepting connections: TLS, timeouts, and a cap on open connections.
//!
//! # Why not `axum::serve`
//!
//! `axum::serve` accepts every connection and waits for its headers for
//! ever: 1,100 idle or half-sent connections exhaust a 1,024 file
//! descriptor limit and every request, `/healthz` included, times out,
//! with nothing logged. This accept loop bounds each stage instead:
//!
//! - **a TLS handshake and the request headers** must arrive within
//!   `header_read` (hyper's header timeout, and a timeout on the
//!   handshake);
//! - **a connection with no request in flight** is closed after `idle`;
//! - **a whole request** must be answered within `request`, else 503 (the
//!   body's own timeout is in `routes.rs`);
//! - **at most `max_connections`** are open. At the cap a new connection
//!   closes the oldest one with no request in flight (an idle keep-alive,
//!   or one still sending its headers), so a flood of idle connections
//!   cannot keep a real client out; if every open connection has a request
//!   in flight, the new one is closed at once. The accept loop never
//!   waits, so the kernel's queue of pending connections keeps draining.
//!
//! A request in flight is never cut: a connection is closed for idleness
//! or for the cap only when none of its requests is being handled (the
//! check and the close run on the connection's own task, which also runs
//! its handler, so nothing can start in between).
//!
//! The certificate and key are re-read when their files change (checked
//! every two seconds); a broken new pair is logged and the old one kept.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::http::{Request, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tower::ServiceExt as _;

use super::auth::{Peer, sha256_hex};
use super::config::{Limits, TlsFiles};
use super::errors::ServeError;

/// One open connection, as the cap and the idle timer see it.
#[derive(Debug)]
struct Slot {
    /// Requests of this connection being handled now.
    busy: AtomicUsize,
    /// When its last request finished (or it was accepted), in
    /// milliseconds since the listener started.
    last_ms: AtomicU64,
    /// Told to close (the cap needs its place).
    evict: Notify,
}

/// The open connections, oldest first.
#[derive(Debug)]
struct Registry {
    started: Instant,
    next: AtomicU64,
    max: usize,
    slots: Mutex<BTreeMap<u64, Arc<Slot>>>,
    /// Told each time a connection closes (for the drain at shutdown).
    closed: Notify,
    /// How many are open, for the metrics.
    gauge: Arc<AtomicUsize>,
}

impl Registry {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// A place for a new connection, closing the oldest idle one at the
    /// cap; `None` when every connection is busy.
    fn admit(&self) -> Option<(u64, Arc<Slot>)> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if slots.len() >= self.max {
            let idle = slots
                .iter()
                .find(|(_, slot)| slot.busy.load(Ordering::SeqCst) == 0)
                .map(|(id, _)| *id)?;
            if let Some(slot) = slots.remove(&idle) {
                slot.evict.notify_one();
            }
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let slot = Arc::new(Slot {
            busy: AtomicUsize::new(0),
            last_ms: AtomicU64::new(self.now_ms()),
            evict: Notify::new(),
        });
        slots.insert(id, Arc::clone(&slot));
        self.gauge.store(slots.len(), Ordering::Relaxed);
        Some((id, slot))
    }

    fn remove(&self, id: u64) {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.remove(&id);
        self.gauge.store(slots.len(), Ordering::Relaxed);
        drop(slots);
        self.closed.notify_waiters();
    }

    fn open(&self) -> usize {
        self.slots.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

/// Removes a connection from the registry when its task ends, however.
struct Registered(Arc<Registry>, u64);

impl Drop for Registered {
    fn drop(&mut self) {
        self.0.remove(self.1);
    }
}

/// Marks a connection busy while one of its requests is handled.
struct Busy(Arc<Slot>, Arc<Registry>);

impl Busy {
    fn enter(slot: &Arc<Slot>, registry: &Arc<Registry>) -> Busy {
        slot.busy.fetch_add(1, Ordering::SeqCst);
        Busy(Arc::clone(slot), Arc::clone(registry))
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.last_ms.store(self.1.now_ms(), Ordering::SeqCst);
        self.0.busy.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The TLS configuration in force, re-read when its files change.
pub(crate) struct Tls {
    files: TlsFiles,
    current: RwLock<Arc<ServerConfig>>,
    stamps: Mutex<Vec<Option<SystemTime>>>,
}

impl Tls {
    /// Reads the certificate, the key and the client CA; an error names
    /// the file.
    pub(crate) fn load(files: &TlsFiles) -> Result<Tls, ServeError> {
        let config = server_config(files)?;
        Ok(Tls {
            files: files.clone(),
            current: RwLock::new(Arc::new(config)),
            stamps: Mutex::new(stamps(files)),
        })
    }

    fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        let config = self
            .current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        tokio_rustls::TlsAcceptor::from(config)
    }

    /// Re-reads the files if any changed since last read.
    fn reload_if_changed(&self) {
        let now = stamps(&self.files);
        {
            let mut known = self.stamps.lock().unwrap_or_else(|p| p.into_inner());
            if *known == now {
                return;
            }
            *known = now;
        }
        match server_config(&self.files) {
            Ok(config) => {
                *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(config);
                tracing::info!(cert = %self.files.cert.display(), "reloaded the TLS certificate and key");
            }
            Err(e) => {
                tracing::warn!(error = %e, "the changed TLS files cannot be used; keeping the ones in force");
            }
        }
    }
}

fn stamps(files: &TlsFiles) -> Vec<Option<SystemTime>> {
    [
        Some(&files.cert),
        Some(&files.key),
        files.client_ca.as_ref(),
    ]
    .into_iter()
    .flatten()
    .map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
    .collect()
}

fn pem_error(path: &Path, what: &str, e: impl std::fmt::Display) -> ServeError {
    ServeError::Config(format!("{}: cannot read {what}: {e}", path.display()))
}

fn certificates(path: &PathBuf) -> Result<Vec<CertificateDer<'static>>, ServeError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| pem_error(path, "PEM certificates", e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(path, "PEM certificates", e))?;
    if certs.is_empty() {
        return Err(pem_error(path, "PEM certificates", "it holds none"));
    }
    Ok(certs)
}

fn server_config(files: &TlsFiles) -> Result<ServerConfig, ServeError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = certificates(&files.cert)?;
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| pem_error(&files.key, "a PEM private key", e))?;
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| ServeError::Config(format!("TLS: {e}")))?;
    let builder = match &files.client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in certificates(ca)? {
                roots
                    .add(cert)
                    .map_err(|e| pem_error(ca, "a CA certificate", e))?;
            }
            // A client may present no certificate and use a token; one it
            // presents must chain to the CA, else the handshake fails.
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .allow_unauthenticated()
                .build()
                .map_err(|e| pem_error(ca, "the client CA", e))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|e| ServeError::Config(format!("{}: {e}", files.cert.display())))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// What the accept loop needs.
pub(crate) struct Listener {
    pub(crate) listener: TcpListener,
    pub(crate) router: Router,
    pub(crate) tls: Option<Arc<Tls>>,
    pub(crate) limits: Limits,
    /// The number of connections open, for the metrics.
    pub(crate) open: Arc<AtomicUsize>,
}

impl Listener {
    /// Serves until `shutdown` resolves, then lets every request in flight
    /// finish (up to the request timeout) and returns.
    pub(crate) async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        let registry = Arc::new(Registry {
            started: Instant::now(),
            next: AtomicU64::new(0),
            max: self.limits.max_connections.max(1),
            slots: Mutex::new(BTreeMap::new()),
            closed: Notify::new(),
            gauge: Arc::clone(&self.open),
        });
        let (stop_tx, stop_rx) = watch::channel(false);
        if let Some(tls) = &self.tls {
            let tls = Arc::clone(tls);
            let mut stop = stop_rx.clone();
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        _ = stop.changed() => return,
                        _ = tokio::time::sleep(Duration::from_secs(2)) => tls.reload_if_changed(),
                    }
                }
            });
        }
        tokio::pin!(shutdown);
        let mut refused_logged = false;
        loop {
            let accepted = tokio::select! {
                () = &mut shutdown => break,
                accepted = self.listener.accept() => accepted,
            };
            let stream = match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before
                    // it was taken: wait a little, never spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let Some((id, slot)) = registry.admit() else {
                if !refused_logged {
                    tracing::warn!(
                        max_connections = registry.max,
                        "every connection has a request in flight: closing a new one (max_connections)"
                    );
                    refused_logged = true;
                }
                drop(stream);
                continue;
            };
            refused_logged = false;
            let connection = Connection {
                registry: Arc::clone(&registry),
                slot,
                router: self.router.clone(),
                limits: self.limits,
                stop: stop_rx.clone(),
            };
            let tls = self.tls.as_ref().map(|t| t.acceptor());
            tokio::spawn(async move {
                let _registered = Registered(Arc::clone(&connection.registry), id);
                let _ = stream.set_nodelay(true);
                match tls {
                    None => connection.serve(stream, Peer::default()).await,
                    Some(acceptor) => {
                        let handshake = tokio::time::timeout(
                            connection.limits.header_read,
                            acceptor.accept(stream),
                        );
                        let stream = tokio::select! {
                            done = handshake => match done {
                                Ok(Ok(stream)) => stream,
                                Ok(Err(e)) => {
                                    tracing::debug!(error = %e, "TLS handshake refused");
                                    return;
                                }
                                Err(_) => return,
                            },
                            () = connection.slot.evict.notified() => return,
                        };
                        let certificate = stream
                            .get_ref()
                            .1
                            .peer_certificates()
                            .and_then(|chain| chain.first())
                            .map(|cert| sha256_hex(cert.as_ref()));
                        connection.serve(stream, Peer { certificate }).await;
                    }
                }
            });
        }
        drop(self.listener);
        let _ = stop_tx.send(true);
        // Drain: every connection finishes its request in flight.
        let deadline = Instant::now() + self.limits.request + Duration::from_secs(5);
        while registry.open() > 0 && Instant::now() < deadline {
            let closed = registry.closed.notified();
            let _ = tokio::time::timeout(Duration::from_millis(100), closed).await;
        }
    }
}

/// One accepted connection.
struct Connection {
    registry: Arc<Registry>,
    slot: Arc<Slot>,
    router: Router,
    limits: Limits,
    stop: watch::Receiver<bool>,
}

impl Connection {
    async fn serve<IO>(mut self, io: IO, peer: Peer)
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let router = self.router.clone();
        let slot = Arc::clone(&self.slot);
        let registry = Arc::clone(&self.registry);
        let timeout = self.limits.request;
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            let busy = Busy::enter(&slot, &registry);
            request.extensions_mut().insert(peer.clone());
            let router = router.clone();
            async move {
                let _busy = busy;
                let request = request.map(axum::body::Body::new);
                let response = match tokio::time::timeout(timeout, router.oneshot(request)).await {
                    Ok(Ok(response)) => response,
                    Ok(Err(never)) => match never {},
                    Err(_) => super::routes::error(
                        StatusCode::SERVICE_UNAVAILABLE,
                        format!(
                            "the request was not answered within {} ms (request_timeout_ms); a decision it asked for may have been made: retry with the same body to get it",
                            timeout.as_millis()
                        ),
                    ),
                };
                Ok::<_, Infallible>(response)
            }
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(self.limits.header_read)
            .keep_alive(true);
        let connection = builder.serve_connection(TokioIo::new(io), service);
        tokio::pin!(connection);
        let idle_ms = u64::try_from(self.limits.idle.as_millis()).unwrap_or(u64::MAX);
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let mut closing = false;
        loop {
            tokio::select! {
                _ = connection.as_mut() => return,
                () = self.slot.evict.notified(), if !closing => {
                    if self.slot.busy.load(Ordering::SeqCst) == 0 {
                        return;
                    }
                    connection.as_mut().graceful_shutdown();
                    closing = true;
                }
                changed = self.stop.changed(), if !closing => {
                    let _ = changed;
                    connection.as_mut().graceful_shutdown();
                    closing = true;
                }
                _ = tick.tick() => {
                    let idle = self.slot.busy.load(Ordering::SeqCst) == 0
                        && self.registry.now_ms().saturating_sub(self.slot.last_ms.load(Ordering::SeqCst)) > idle_ms;
                    if idle {
                        return;
                    }
                }
            }
        }
    }
}
