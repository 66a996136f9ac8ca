//! What can stop a benchmark.

use thiserror::Error;

/// Why `qorgan bench` could not measure.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum BenchError {
    /// The transaction file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A line of the transaction file is not a valid transaction.
    #[error("{path}, line {line}: {message}")]
    BadLine {
        /// The file.
        path: String,
        /// The line number, from 1.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
    /// The transaction generator refused its settings.
    #[error("generating transactions: {0}")]
    Generate(String),
    /// There are no transactions to measure.
    #[error("no transactions to measure")]
    Empty,
    /// The engine could not be built or the pack not prepared.
    #[error("loading the pack: {0}")]
    Load(String),
    /// A transaction could not be priced with the pack's rates.
    #[error("transaction {tx}: {message}")]
    Price {
        /// The transaction's id.
        tx: String,
        /// Why.
        message: String,
    },
    /// The no-op plugin could not be assembled.
    #[error("building the no-op plugin: {0}")]
    Noop(String),
    /// A rule compiled natively refused the pack's parameters.
    #[error("configuring {rule} natively: {message}")]
    NativeConfig {
        /// The rule.
        rule: String,
        /// Its message.
        message: String,
    },
    /// The pack has a plugin the native comparison does not know.
    #[error(
        "no native build of plugin {0}: the native and Rego comparisons cover the kz-afm rules"
    )]
    UnknownPlugin(String),
    /// regorus refused a policy or failed to evaluate one.
    #[error("regorus: {0}")]
    Rego(String),
    /// A worker thread panicked.
    #[error("a benchmark thread panicked")]
    Thread,
}
