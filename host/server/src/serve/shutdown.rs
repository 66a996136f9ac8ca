//! Graceful shutdown: the signal that starts it.
//!
//! On SIGTERM (what an orchestrator sends) or Ctrl-C the service stops
//! accepting connections, lets every request in flight finish (each waits
//! for its decisions to be logged), then the deciding pipeline and the log
//! writer commit what they hold, and the process exits 0. No acknowledged
//! decision is lost and none is acknowledged after the log closed.

use std::future::Future as _;
use std::task::Poll;

/// Resolves on SIGTERM or Ctrl-C (SIGINT).
pub async fn signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    let mut interrupt = std::pin::pin!(interrupt);
    let mut terminate = std::pin::pin!(terminate);
    let which = std::future::poll_fn(|cx| {
        if interrupt.as_mut().poll(cx).is_ready() {
            return Poll::Ready("interrupted");
        }
        if terminate.as_mut().poll(cx).is_ready() {
            return Poll::Ready("SIGTERM");
        }
        Poll::Pending
    })
    .await;
    tracing::info!("{which}: shutting down");
}
