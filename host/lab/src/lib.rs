//! # qorgan-lab
//!
//! The rule author's and the analyst's bench: everything that builds,
//! exercises or measures rules, and that a bank's production host never
//! runs.
//!
//! - [`build`]: a rule crate compiled into a component (cargo for
//!   `wasm32-unknown-unknown`, then `wit-component`), and a source pack
//!   made runnable (`qorgan pack build`);
//! - [`generator`]: seeded, realistic, labelled transaction streams
//!   (`qorgan gen`);
//! - [`backtest`]: a pack run over a labelled stream and scored per
//!   typology (`qorgan backtest`), or against a baseline pack
//!   (`qorgan backtest --baseline`);
//! - [`diff`]: what differs between two packs (`qorgan pack diff`);
//! - [`bench`]: a pack's throughput and latency, against the same rules
//!   natively, in Rego (regorus) and a no-op plugin (`qorgan bench`).
//!
//! It links the reference rules natively and regorus for the comparisons,
//! which is why none of it lives in the embeddable `qorgan` crate.

#![forbid(unsafe_code)]

pub mod backtest;
pub mod bench;
pub mod build;
pub mod diff;
pub mod generator;
