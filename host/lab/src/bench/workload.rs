//! The transactions a benchmark runs: generated from a seed or read from a
//! JSON Lines file, always parsed before any clock starts.

use std::path::Path;

use super::BenchError;
use crate::generator::{Generator, GeneratorConfig};
use qorgan::transaction::Transaction;

/// Parsed transactions, in stream order.
#[derive(Debug, Clone)]
pub struct Workload {
    /// The transactions.
    pub transactions: Vec<Transaction>,
    /// Where they came from, for the report.
    pub source: String,
}

impl Workload {
    /// `count` transactions of the seeded generator (`qorgan gen`).
    pub fn generate(seed: u64, count: usize) -> Result<Workload, BenchError> {
        let config = GeneratorConfig::new(seed, u64::try_from(count).unwrap_or(u64::MAX));
        let generator = Generator::new(config).map_err(|e| BenchError::Generate(e.to_string()))?;
        let mut transactions = Vec::with_capacity(count);
        for (index, line) in generator.enumerate() {
            let tx = Transaction::from_json(&line).map_err(|e| BenchError::BadLine {
                path: "generated stream".to_owned(),
                line: index + 1,
                message: e.to_string(),
            })?;
            transactions.push(tx);
        }
        Workload::new(
            transactions,
            format!("generated: seed {seed}, {count} transactions"),
        )
    }

    /// The transactions of a JSON Lines file; blank lines are skipped, a bad
    /// line is an error naming it.
    pub fn read(path: &Path) -> Result<Workload, BenchError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| BenchError::Read {
            path: shown.clone(),
            source,
        })?;
        let mut transactions = Vec::new();
        for (index, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let tx = Transaction::from_json(line).map_err(|e| BenchError::BadLine {
                path: shown.clone(),
                line: index + 1,
                message: e.to_string(),
            })?;
            transactions.push(tx);
        }
        Workload::new(transactions, format!("file: {shown}"))
    }

    fn new(transactions: Vec<Transaction>, source: String) -> Result<Workload, BenchError> {
        if transactions.is_empty() {
            return Err(BenchError::Empty);
        }
        Ok(Workload {
            transactions,
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_seeded() {
        let a = Workload::generate(7, 50).map(|w| w.transactions);
        let b = Workload::generate(7, 50).map(|w| w.transactions);
        assert!(matches!((&a, &b), (Ok(x), Ok(y)) if x == y && x.len() == 50));
    }

    #[test]
    fn a_bad_line_is_named() {
        let dir = tempfile::tempdir().ok();
        let Some(dir) = dir else { return };
        let path = dir.path().join("txs.jsonl");
        let _ = std::fs::write(&path, "\n{\"id\": 1}\n");
        match Workload::read(&path) {
            Err(BenchError::BadLine { line, .. }) => assert_eq!(line, 2),
            other => panic!("expected a bad line, got {other:?}"),
        }
    }

    #[test]
    fn nothing_to_measure_is_an_error() {
        assert!(matches!(Workload::generate(1, 0), Err(BenchError::Empty)));
    }
}
