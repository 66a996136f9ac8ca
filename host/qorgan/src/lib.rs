//! # qorgan
//!
//! A WebAssembly rule-plugin engine for anti-money-laundering transaction
//! monitoring. A regulator writes each rule as a sandboxed WebAssembly
//! component against the `qorgan:rule` WIT contract and ships the rules as a
//! signed *pack*; a bank embeds this crate (or runs `qorgan serve`), loads the
//! pack and asks for a decision on every payment.
//!
//! The short path is the safe one: a bank trusts the regulator's public
//! keys, and an [`Activator`] activates a pack only once its signatures,
//! digests, serial, validity and own test cases all hold on this host.
//!
//! ```ignore
//! use qorgan::{Activator, Candidate, Engine, Transaction, TrustConfig};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let trust = TrustConfig::builder().trust_file("keys/afm-2025.pub")?.build()?;
//! let engine = Engine::new()?;
//! let activator = Activator::builder(engine.clone(), trust, "/var/lib/qorgan").build()?;
//! activator.offer(Candidate::from_path("kz-afm.qpack"))?; // refused unless signed and proven
//! let tx = Transaction::from_json(r#"{"id":"tx-1","timestamp":"2025-03-01T10:15:00Z",
//!     "kind":"card-topup","amount":"600000.00","currency":"KZT",
//!     "sender":{"account":"KZ86125KZT5004100100"},"recipient":{"account":"KZ1"}}"#)?;
//! let decision = engine.evaluate(&tx)?;
//! println!("{}", decision.to_json()); // action "verify", requirement "sender-iin"
//! # Ok(()) }
//! ```
//!
//! After a restart, [`Activator::restore`] brings the persisted pack back,
//! checked again. [`Pack::read`] with [`Engine::load`] checks no signature:
//! it is for packs the process built itself, and for tools.
//!
//! `examples/embed.rs` is the same, runnable, with a tampered pack refused
//! and payments decided from two threads.
//!
//! The crate is split by concern, one module each:
//!
//! - [`transaction`]: the input contract, parsed exactly (no floats);
//! - [`engine`]: wasmtime, compiled and pre-linked plugins, per-thread
//!   instances, sandbox limits, hot swap;
//! - [`decision`]: findings folded into the output contract;
//! - [`pack`]: the pack directory, its manifest and digests, `pack build`,
//!   signatures and archives;
//! - [`source`]: where packs come from, and the checks a pack passes before
//!   it is activated on a bank's host;
//! - [`history`]: what rules may ask about accounts' past;
//! - [`journal`]: the durable, ordered sequence of transactions history
//!   is a projection of: restarts, retries and hostile timestamps;
//! - [`jsonl`]: JSON Lines input read one bounded line at a time;
//! - [`lists`]: reference lists shipped in packs;
//! - [`atomic`]: files replaced whole or not at all, and [`scratch`],
//!   private directories removed when dropped;
//! - [`harness`]: test cases that prove a pack decides what it should, and
//!   [`testing`], the same for `cargo test`.
//!
//! The rest of qorgan is in crates of their own, so that a bank embedding
//! this one compiles no server, database, network client or tooling:
//! `qorgan-distribution` (packs over HTTP and OCI registries, publishing),
//! `qorgan-server` (`qorgan serve` and the decision log), `qorgan-lab`
//! (building plugins, generated streams, backtests, benchmarks) and
//! `qorgan-cli` (the `qorgan` command).

#![forbid(unsafe_code)]

pub mod atomic;
pub mod compare;
pub mod decision;
pub mod engine;
pub mod harness;
pub mod history;
pub mod journal;
pub mod jsonl;
pub mod lists;
pub mod pack;
pub mod scratch;
pub mod source;
#[cfg(test)]
mod test_support;
pub mod testing;
pub mod transaction;

pub use decision::{Action, Decision, Finding};
pub use engine::{
    Engine, EngineBuilder, EvaluationError, Evaluator, LoadError, PackInfo, PluginInfo,
};
pub use pack::{Pack, PackError, TrustConfig};
pub use source::{Activated, Activator, Candidate, DirSource, Refusal, RefusalReason};
pub use transaction::{Transaction, TransactionError};
