//! The sandbox around each plugin call: memory cap and wall-clock deadline.
//!
//! Memory is capped per instance by [`PluginLimiter`], which also remembers
//! that the cap was hit so the failure can be reported as such rather than
//! as an anonymous trap. Time is bounded with wasmtime's epochs: one
//! [`EpochTicker`] thread per engine advances the epoch every tick, and each
//! call gets a deadline a number of ticks ahead. Checking an epoch costs a
//! load and a compare in the compiled code, far cheaper than fuel.

use std::time::Duration;

use wasmtime::ResourceLimiter;

/// Caps a plugin instance's linear memory and tables.
#[derive(Debug, Clone)]
pub(crate) struct PluginLimiter {
    /// Bytes of linear memory allowed.
    pub(crate) memory_bytes: usize,
    /// Set once a growth past the cap was refused.
    pub(crate) memory_exceeded: bool,
}

/// Most table elements an instance may have.
const MAX_TABLE_ELEMENTS: usize = 100_000;

impl PluginLimiter {
    pub(crate) fn new(memory_bytes: usize) -> Self {
        PluginLimiter {
            memory_bytes,
            memory_exceeded: false,
        }
    }
}

impl ResourceLimiter for PluginLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            self.memory_exceeded = true;
            // Trap rather than return -1: a rule that cannot get memory cannot
            // give a verdict, and a clear failure beats a confused one.
            return Err(wasmtime::format_err!(
                "memory limit of {} MiB reached",
                self.memory_bytes / (1024 * 1024)
            ));
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }

    fn instances(&self) -> usize {
        64
    }

    fn tables(&self) -> usize {
        64
    }

    fn memories(&self) -> usize {
        4
    }
}

/// Advances an engine's epoch every `tick` until the engine is dropped.
pub(crate) struct EpochTicker;

impl EpochTicker {
    pub(crate) fn start(engine: &wasmtime::Engine, tick: Duration) -> std::io::Result<()> {
        let weak = engine.weak();
        std::thread::Builder::new()
            .name("qorgan-epoch".into())
            .spawn(move || {
                while let Some(engine) = weak.upgrade() {
                    engine.increment_epoch();
                    drop(engine);
                    std::thread::sleep(tick);
                }
            })
            .map(|_| ())
    }
}
