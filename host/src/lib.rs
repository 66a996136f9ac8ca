//! # qorgan
//!
//! A WebAssembly rule-plugin engine for anti-money-laundering transaction
//! monitoring. A regulator writes each rule as a sandboxed WebAssembly
//! component against the `qorgan:rule` WIT contract and ships the rules as a
//! signed *pack*; a bank embeds this crate (or runs `qorgan serve`), loads the
//! pack and asks for a decision on every payment.
//!
//! ```ignore
//! use qorgan::{Engine, Pack, Transaction};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let engine = Engine::new()?;
//! engine.load(&Pack::read("examples/packs/kz-afm")?)?;
//! let tx = Transaction::from_json(r#"{"id":"tx-1","timestamp":"2025-03-01T10:15:00Z",
//!     "kind":"card-topup","amount":"600000.00","currency":"KZT",
//!     "sender":{"account":"KZ86125KZT5004100100"},"recipient":{"account":"KZ1"}}"#)?;
//! let decision = engine.evaluate(&tx)?;
//! println!("{}", decision.to_json()); // action "verify", requirement "sender-iin"
//! # Ok(()) }
//! ```
//!
//! `examples/embed.rs` is the same, runnable, with threads.
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
//! - [`build`]: compiling a rule crate into a component;
//! - [`harness`]: test cases that prove a pack decides what it should, and
//!   [`testing`], the same for `cargo test`;
//! - [`generator`]: seeded, realistic, labelled transaction streams;
//! - [`backtest`]: a pack run over a labelled stream, scored per typology;
//! - [`serve`]: the HTTP service a bank's other systems call, with hot
//!   reload, health, metrics and the decision log;
//! - [`audit`]: the decision log: durable, hash-chained, verified and
//!   replayed.
//! - [`bench`]: a pack's throughput and latency, against the same rules
//!   natively, in Rego (regorus) and a no-op plugin.

#![forbid(unsafe_code)]

pub mod audit;
pub mod backtest;
pub mod bench;
pub mod build;
pub mod decision;
pub mod engine;
pub mod generator;
pub mod harness;
pub mod history;
pub mod journal;
pub mod jsonl;
pub mod lists;
pub mod pack;
pub mod serve;
pub mod source;
pub mod testing;
pub mod transaction;

pub use decision::{Action, Decision, Finding};
pub use engine::{
    Engine, EngineBuilder, EvaluationError, Evaluator, LoadError, PackInfo, PluginInfo,
};
pub use pack::{Pack, PackError};
pub use transaction::{Transaction, TransactionError};
