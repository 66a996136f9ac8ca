//! Testing rules from Rust: `cargo test` against real components.
//!
//! The same case files `qorgan test` runs (see `docs/testing.md`), run from a
//! Rust test through the production engine, plus one-line helpers for the
//! common assertions. Rule logic itself is best unit-tested natively with
//! the plugin SDK's `qorgan_sdk::testing`; this module is for what only the
//! real component in the real sandbox can prove.
//!
//! ```ignore
//! #[test]
//! fn the_pack_proves_every_code() {
//!     let report = qorgan::testing::run_pack("examples/packs/kz-afm").unwrap();
//!     qorgan::testing::assert_passed(&report, 100.0);
//! }
//! ```

use std::path::{Path, PathBuf};

pub use crate::harness::{
    Case, CaseFile, CaseResult, Expect, Harness, HarnessError, Mismatch, PluginCoverage, Report,
    RunOptions, ScoreExpect, load_cases,
};

/// Runs a pack's own cases (its `tests/` directory).
pub fn run_pack(dir: impl AsRef<Path>) -> Result<Report, HarnessError> {
    let harness = Harness::for_pack(dir)?;
    let files = harness.default_cases()?;
    Ok(harness.run(&files, &RunOptions::default()))
}

/// Runs case files (or directories of them) against one component.
pub fn run_component(
    component: impl AsRef<Path>,
    cases: &[PathBuf],
) -> Result<Report, HarnessError> {
    let harness = Harness::for_component(component)?;
    let files = if cases.is_empty() {
        harness.default_cases()?
    } else {
        load_cases(cases)?
    };
    Ok(harness.run(&files, &RunOptions::default()))
}

/// Panics with the text report unless every case passed, at least one ran,
/// and coverage of declared codes is at least `coverage_min` percent.
pub fn assert_passed(report: &Report, coverage_min: f64) {
    assert!(!report.cases.is_empty(), "no test case ran");
    assert!(
        report.failed() == 0 && report.coverage_percent() >= coverage_min,
        "{} (coverage {:.1}%, required {coverage_min}%)",
        report.to_text(),
        report.coverage_percent()
    );
}
