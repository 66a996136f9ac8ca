//! A source polled on a background thread.
//!
//! Polling and activation are slow next to deciding a payment (a pack
//! compiles and runs its cases in about a second), so they run on a thread
//! of their own; deciding threads only ever see the atomic swap.

use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use super::Source;
use super::activation::Activator;
use super::errors::SourceError;

/// A thread polling a [`Source`] every interval and offering what it finds
/// to an [`Activator`]. Stops when [`Watcher::stop`] is called or it is
/// dropped, after the poll in progress, if any.
#[derive(Debug)]
pub struct Watcher {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Watcher {
    /// Polls `source` at once, then every `interval`.
    pub fn spawn(
        activator: Arc<Activator>,
        mut source: impl Source + 'static,
        interval: Duration,
    ) -> Result<Watcher, SourceError> {
        let (stop, stopped) = mpsc::channel::<()>();
        let name = source.name();
        let thread = std::thread::Builder::new()
            .name("qorgan-pack-source".into())
            .spawn(move || {
                loop {
                    // Outcomes are logged and kept in the activator's status.
                    let _ = activator.poll(&mut source);
                    match stopped.recv_timeout(interval) {
                        Err(RecvTimeoutError::Timeout) => {}
                        Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
                    }
                }
            })
            .map_err(|error| SourceError::Thread {
                source_name: name,
                error,
            })?;
        Ok(Watcher {
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Stops polling and waits for the thread to end.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.shutdown();
    }
}
