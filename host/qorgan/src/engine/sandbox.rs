//! The sandbox around each plugin call: memory cap and wall-clock backstop.
//!
//! Memory is capped per instance by [`PluginLimiter`], which also remembers
//! that the cap was hit so the failure can be reported as such rather than
//! as an anonymous trap. Time is bounded with wasmtime's epochs: one
//! [`EpochTicker`] thread per engine advances the epoch every tick, and each
//! call gets a deadline a number of ticks ahead. The deadline is only a
//! backstop against host stalls: the budget that decides is fuel, which
//! does not depend on how busy the host is (see the worker's module).
//!
//! What a plugin hands the host is bounded too. Its memory is capped, but
//! the canonical ABI lets many lists and strings point at the same bytes: a
//! plugin with 16 MiB can return a verdict per transaction, each naming the
//! same half a million findings, each naming the same 16 MiB message, and a
//! host that copies all of it out needs terabytes. wasmtime charges every
//! byte it copies out of a guest against the store's *hostcall fuel*; each
//! call gets [`output_budget`]`(1)`, one transaction's worth, whatever its
//! size (a call on several transactions that needs more is split, like one
//! that runs out of fuel), and a call that runs out fails as
//! [`PluginFailure::OutputTooLarge`](super::PluginFailure) instead of
//! exhausting the host.

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

/// The bytes a plugin call may hand the host for each transaction of its
/// batch: verdicts, findings and their text, and the arguments of its host
/// calls, as wasmtime counts them. Real rules need a few hundred bytes for
/// a finding; this leaves room for dozens.
pub const OUTPUT_BYTES_PER_TRANSACTION: usize = 16 * 1024;

/// The most bytes any one plugin call may hand the host, whatever its batch.
pub const MAX_OUTPUT_BYTES: usize = 128 * 1024 * 1024;

/// The bytes a call on a batch of `transactions` may hand the host: 1 MiB
/// plus [`OUTPUT_BYTES_PER_TRANSACTION`] per transaction, at most
/// [`MAX_OUTPUT_BYTES`].
pub fn output_budget(transactions: usize) -> usize {
    transactions
        .saturating_mul(OUTPUT_BYTES_PER_TRANSACTION)
        .saturating_add(1024 * 1024)
        .min(MAX_OUTPUT_BYTES)
}

/// Whether `error` is wasmtime refusing to copy more out of a guest than
/// its hostcall fuel allows. wasmtime's error type for it is private; its
/// message is what it exposes.
pub(crate) fn is_output_exhausted(error: &wasmtime::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .to_string()
            .contains("fuel allocated for hostcalls has been exhausted")
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_output_budget_grows_with_the_batch_up_to_its_cap() {
        assert_eq!(output_budget(0), 1024 * 1024);
        assert_eq!(
            output_budget(10),
            1024 * 1024 + 10 * OUTPUT_BYTES_PER_TRANSACTION
        );
        assert_eq!(output_budget(usize::MAX), MAX_OUTPUT_BYTES);
    }

    #[test]
    fn wasmtimes_hostcall_fuel_error_is_recognised() {
        let plain = wasmtime::format_err!("wasm trap: unreachable");
        assert!(!is_output_exhausted(&plain));
        let exhausted = wasmtime::format_err!(
            "too much data is being copied between the host and the guest: \
             fuel allocated for hostcalls has been exhausted"
        )
        .context("lifting the result of `evaluate`");
        assert!(is_output_exhausted(&exhausted));
    }
}
