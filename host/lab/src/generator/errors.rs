//! Why a stream could not be generated.

/// Why a stream could not be generated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GenError {
    /// A setting is out of range.
    #[error("{setting}: {problem}")]
    Invalid {
        /// The setting, as the command line names it (e.g. `--days`).
        setting: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// Writing the stream failed.
    #[error("cannot write the transactions: {0}")]
    Io(#[from] std::io::Error),
}
