//! # qorgan-server
//!
//! `qorgan serve` as a library: the HTTP service a bank's systems in any
//! language call for decisions, and the decision log every decision is
//! committed to before it is returned.
//!
//! - [`serve`]: the service: routes, the deciding thread, hot reload from a
//!   watched pack source, health, readiness, Prometheus metrics, the
//!   OpenAPI document, configuration and graceful shutdown;
//! - [`journal`]: the durable journal of transactions that history is a
//!   projection of, kept in the decision log's database;
//! - [`cluster`]: several replicas sharing one journal and decision log in
//!   PostgreSQL (`serve --journal postgres://…`), in one global order;
//! - [`audit`]: the decision log: SQLite, group-committed, hash-chained,
//!   verified and replayed with the packs that decided.
//!
//! A bank that embeds the engine in its own process needs none of this:
//! the `qorgan` crate decides without a server, a database or a network
//! client. This crate adds axum, tokio's network stack, SQLite, a PostgreSQL client, and the
//! network pack sources of `qorgan-distribution`.

#![forbid(unsafe_code)]

pub mod audit;
pub mod cluster;
pub mod journal;
pub mod serve;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
