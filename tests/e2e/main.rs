//! End-to-end tests across the qorgan crates, in one test binary: each
//! module is one area, run the way its users run it (the real `qorgan`
//! binary, real servers on 127.0.0.1, plugins and packs built for real).
//! Shared helpers are in `tests/support` (the `qorgan-e2e` library).
//!
//! One binary rather than one per area: each links wasmtime and the whole
//! host, so twelve binaries cost twelve links of some 200 MB.
//!
//! Tests that need root (mounting a tmpfs to fill a disk) are marked
//! `#[ignore]` with the reason, so that a plain `cargo test` reports them as
//! ignored; the README's test command, which runs as root, adds
//! `--include-ignored`, and run that way without root they fail saying so.

mod activation;
mod backtest_cli;
mod bench_cli;
mod change_workflow;
mod cluster;
mod compiled_cache;
mod determinism;
mod distribution;
mod embedding;
mod eval_cli;
mod fuzz_smoke;
mod harness;
mod hostile_plugins;
mod interpreted_rules;
mod journal;
mod limits;
mod serve;
mod service_contract;
mod service_security;
mod signing_cli;
mod threads;
mod vocabulary;
