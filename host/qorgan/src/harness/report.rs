//! What a test run found: per-case results, coverage, and their renderings
//! as text for people, JSON for tools and JUnit XML for CI servers.

use std::fmt::{self, Display, Write as _};
use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;

use crate::decision::Decision;
use crate::engine::PackInfo;
use crate::engine::calls::HostCall;

/// One field where a decision differed from its expectation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    /// The expectation's field, e.g. `action` or `evidence.IIN_INVALID.reason`.
    pub field: String,
    /// What the case expected.
    pub expected: String,
    /// What the decision showed.
    pub actual: String,
    /// What in the decision caused `actual`, when the harness can say
    /// (for `action`: the finding that set it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

impl Mismatch {
    /// A mismatch of `field`.
    pub fn new(field: &str, expected: impl Display, actual: impl Display) -> Mismatch {
        Mismatch {
            field: field.to_owned(),
            expected: expected.to_string(),
            actual: actual.to_string(),
            cause: None,
        }
    }

    /// The same mismatch, saying what caused it.
    pub fn because(mut self, cause: impl Into<String>) -> Mismatch {
        self.cause = Some(cause.into());
        self
    }
}

impl Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: expected {}, got {}",
            self.field, self.expected, self.actual
        )
    }
}

/// The outcome of one case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    /// The case's name.
    pub name: String,
    /// Its file.
    pub file: PathBuf,
    /// What differed; empty when the case passed.
    pub mismatches: Vec<Mismatch>,
    /// The decisions it got, in order.
    pub decisions: Vec<Decision>,
    /// The host calls recorded, when recording.
    #[serde(skip)]
    pub recorded: Vec<HostCall>,
    /// How long it took, in milliseconds.
    pub elapsed_ms: f64,
}

impl CaseResult {
    /// Whether the case passed.
    pub fn passed(&self) -> bool {
        self.mismatches.is_empty()
    }

    pub(super) fn finish(mut self, started: Instant) -> CaseResult {
        self.elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        self
    }
}

/// Which of a plugin's declared codes the cases expect present and absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PluginCoverage {
    /// The plugin.
    pub plugin: String,
    /// Its declared codes.
    pub declared: Vec<String>,
    /// Declared codes some case expects present.
    pub positive: Vec<String>,
    /// Declared codes some case expects absent.
    pub negative: Vec<String>,
}

impl PluginCoverage {
    /// Covered (code, polarity) pairs over all possible ones, in percent.
    /// A plugin that declares no codes is fully covered.
    pub fn percent(&self) -> f64 {
        if self.declared.is_empty() {
            return 100.0;
        }
        (self.positive.len() + self.negative.len()) as f64 * 100.0
            / (2 * self.declared.len()) as f64
    }
}

/// The outcome of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The pack the cases ran on.
    pub pack: PackInfo,
    /// Every case that ran.
    pub cases: Vec<CaseResult>,
    /// Coverage of declared finding codes, per plugin.
    pub coverage: Vec<PluginCoverage>,
}

fn escape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

impl Report {
    pub(super) fn new(
        pack: PackInfo,
        cases: Vec<CaseResult>,
        coverage: Vec<PluginCoverage>,
    ) -> Report {
        Report {
            pack,
            cases,
            coverage,
        }
    }

    /// How many cases passed.
    pub fn passed(&self) -> usize {
        self.cases.iter().filter(|c| c.passed()).count()
    }

    /// How many cases failed.
    pub fn failed(&self) -> usize {
        self.cases.len() - self.passed()
    }

    /// Coverage of all plugins' codes together, in percent.
    pub fn coverage_percent(&self) -> f64 {
        let declared: usize = self.coverage.iter().map(|c| c.declared.len()).sum();
        if declared == 0 {
            return 100.0;
        }
        let covered: usize = self
            .coverage
            .iter()
            .map(|c| c.positive.len() + c.negative.len())
            .sum();
        covered as f64 * 100.0 / (2 * declared) as f64
    }

    /// The report for a person; its last line is `N passed, N failed`.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} {} — {} cases",
            self.pack.name,
            self.pack.version,
            self.cases.len()
        );
        for case in &self.cases {
            if case.passed() {
                let _ = writeln!(out, "ok    {}", case.name);
            } else {
                let _ = writeln!(out, "FAIL  {}  ({})", case.name, case.file.display());
                for m in &case.mismatches {
                    let _ = writeln!(out, "      {m}");
                    if let Some(cause) = &m.cause {
                        let _ = writeln!(out, "        {cause}");
                    }
                }
            }
        }
        let _ = writeln!(
            out,
            "coverage of declared finding codes (expected present / expected absent):"
        );
        for c in &self.coverage {
            let _ = writeln!(
                out,
                "  {:<24} {}/{} present, {}/{} absent ({:.0}%)",
                c.plugin,
                c.positive.len(),
                c.declared.len(),
                c.negative.len(),
                c.declared.len(),
                c.percent()
            );
            for code in &c.declared {
                let mark = |set: &[String]| if set.contains(code) { "yes" } else { "NO " };
                let _ = writeln!(
                    out,
                    "    {:<36} present {}  absent {}",
                    code,
                    mark(&c.positive),
                    mark(&c.negative)
                );
            }
        }
        let _ = writeln!(out, "{} passed, {} failed", self.passed(), self.failed());
        out
    }

    /// The report as one JSON document.
    pub fn to_json(&self) -> String {
        let value = serde_json::json!({
            "pack": { "name": self.pack.name, "version": self.pack.version, "serial": self.pack.serial },
            "passed": self.passed(),
            "failed": self.failed(),
            "coverage_percent": self.coverage_percent(),
            "coverage": self.coverage,
            "cases": self.cases.iter().map(|c| serde_json::json!({
                "name": c.name,
                "file": c.file.display().to_string(),
                "passed": c.passed(),
                "mismatches": c.mismatches,
                "decisions": c.decisions,
                "elapsed_ms": c.elapsed_ms,
            })).collect::<Vec<_>>(),
        });
        serde_json::to_string_pretty(&value).unwrap_or_default()
    }

    /// The report as JUnit XML: one `testsuite` per case file, one
    /// `testcase` per case.
    pub fn to_junit(&self) -> String {
        let mut files: Vec<&PathBuf> = Vec::new();
        for c in &self.cases {
            if !files.contains(&&c.file) {
                files.push(&c.file);
            }
        }
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let total_time: f64 = self.cases.iter().map(|c| c.elapsed_ms).sum::<f64>() / 1000.0;
        let _ = writeln!(
            out,
            "<testsuites name=\"{}\" tests=\"{}\" failures=\"{}\" time=\"{:.3}\">",
            escape_xml(&format!("{} {}", self.pack.name, self.pack.version)),
            self.cases.len(),
            self.failed(),
            total_time
        );
        for file in files {
            let cases: Vec<&CaseResult> = self.cases.iter().filter(|c| &c.file == file).collect();
            let failures = cases.iter().filter(|c| !c.passed()).count();
            let time: f64 = cases.iter().map(|c| c.elapsed_ms).sum::<f64>() / 1000.0;
            let suite = file.display().to_string();
            let _ = writeln!(
                out,
                "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" time=\"{time:.3}\">",
                escape_xml(&suite),
                cases.len()
            );
            for case in cases {
                let _ = write!(
                    out,
                    "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
                    escape_xml(&suite),
                    escape_xml(&case.name),
                    case.elapsed_ms / 1000.0
                );
                if case.passed() {
                    out.push_str("/>\n");
                } else {
                    let first = case
                        .mismatches
                        .first()
                        .map(|m| m.to_string())
                        .unwrap_or_default();
                    let all: Vec<String> = case.mismatches.iter().map(|m| m.to_string()).collect();
                    let _ = writeln!(
                        out,
                        ">\n      <failure message=\"{}\" type=\"mismatch\">{}</failure>\n    </testcase>",
                        escape_xml(&first),
                        escape_xml(&all.join("\n"))
                    );
                }
            }
            out.push_str("  </testsuite>\n");
        }
        out.push_str("</testsuites>\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        let pack = PackInfo {
            name: "p".into(),
            version: "1".into(),
            serial: 1,
            digest: String::new(),
            plugins: Vec::new(),
        };
        let case = |name: &str, mismatches: Vec<Mismatch>| CaseResult {
            name: name.into(),
            file: PathBuf::from("tests/a&b.yaml"),
            mismatches,
            decisions: Vec::new(),
            recorded: Vec::new(),
            elapsed_ms: 1.5,
        };
        Report::new(
            pack,
            vec![
                case("passes", vec![]),
                case(
                    "fails <badly>",
                    vec![Mismatch::new("action", "allow", "verify")],
                ),
            ],
            vec![PluginCoverage {
                plugin: "r".into(),
                declared: vec!["A".into(), "B".into()],
                positive: vec!["A".into(), "B".into()],
                negative: vec!["A".into()],
            }],
        )
    }

    #[test]
    fn text_names_the_differing_field_and_ends_with_the_counts() {
        let text = report().to_text();
        assert!(text.contains("FAIL  fails <badly>"), "{text}");
        assert!(
            text.contains("action: expected allow, got verify"),
            "{text}"
        );
        assert!(text.contains("2/2 present, 1/2 absent (75%)"), "{text}");
        assert_eq!(text.lines().last(), Some("1 passed, 1 failed"));
    }

    #[test]
    fn junit_escapes_and_counts() {
        let xml = report().to_junit();
        assert!(xml.contains("tests=\"2\" failures=\"1\""), "{xml}");
        assert!(xml.contains("name=\"fails &lt;badly&gt;\""), "{xml}");
        assert!(xml.contains("tests/a&amp;b.yaml"), "{xml}");
        assert_eq!(xml.matches("<testcase ").count(), 2);
    }

    #[test]
    fn coverage_percent_counts_both_polarities() {
        assert_eq!(report().coverage_percent(), 75.0);
    }
}
