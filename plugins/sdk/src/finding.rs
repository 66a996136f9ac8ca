//! What a rule reports about a transaction.

use core::fmt;
use std::borrow::Cow;

use crate::{Action, Checks, wit};

/// The highest risk score a finding may carry.
pub const MAX_SCORE: u8 = 100;

/// One thing a rule found about a transaction, built step by step:
///
/// ```
/// use qorgan_sdk::{Action, Checks, Finding, Money};
///
/// let amount = Money::from_tiyn(60_000_000);
/// let finding = Finding::new("TOPUP_SENDER_IIN_REQUIRED", Action::Verify)
///     .score(35)
///     .require(Checks::SENDER_IIN)
///     .message(format!("card top-up of {amount} KZT needs the sender's IIN"))
///     .evidence("amount", amount);
/// assert_eq!(finding.evidence_value("amount"), Some("600000.00"));
/// ```
///
/// The code must be one the rule declares in its
/// [`Metadata`](crate::Metadata); the host refuses findings with other codes
/// (and [`testing::Harness`](crate::testing::Harness) fails the test).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    code: Cow<'static, str>,
    action: Action,
    score: u8,
    requirements: Checks,
    message: String,
    evidence: Vec<Evidence>,
}

impl Finding {
    /// A finding with `code` and `action`, score 0, no requirements, no
    /// message and no evidence yet.
    #[must_use]
    pub fn new(code: impl Into<Cow<'static, str>>, action: Action) -> Finding {
        Finding {
            code: code.into(),
            action,
            score: 0,
            requirements: Checks::NONE,
            message: String::new(),
            evidence: Vec::new(),
        }
    }

    /// Sets how much the finding adds to the transaction's risk score.
    /// Scores above [`MAX_SCORE`] (100) are lowered to 100; read configurable
    /// scores with [`Params::score`](crate::Params::score), which refuses them.
    #[must_use]
    pub fn score(mut self, score: u8) -> Finding {
        self.score = score.min(MAX_SCORE);
        self
    }

    /// Adds checks that must be done before the payment can go through
    /// (normally with [`Action::Verify`]). Calls accumulate.
    #[must_use]
    pub fn require(mut self, checks: Checks) -> Finding {
        self.requirements |= checks;
        self
    }

    /// Sets the one-sentence explanation for the analyst.
    #[must_use]
    pub fn message(mut self, message: impl Into<String>) -> Finding {
        self.message = message.into();
        self
    }

    /// Adds a measurement behind the finding, e.g. `("amount", amount)`.
    /// The value is formatted with `Display`.
    #[must_use]
    pub fn evidence(
        mut self,
        name: impl Into<Cow<'static, str>>,
        value: impl fmt::Display,
    ) -> Finding {
        self.evidence.push(Evidence {
            name: name.into(),
            value: value.to_string(),
        });
        self
    }

    /// The finding code.
    #[must_use]
    pub fn code(&self) -> &str {
        &self.code
    }

    /// What the bank should do because of it.
    #[must_use]
    pub fn action(&self) -> Action {
        self.action
    }

    /// Its risk score, 0 to 100.
    #[must_use]
    pub fn risk_score(&self) -> u8 {
        self.score
    }

    /// The checks it requires.
    #[must_use]
    pub fn requirements(&self) -> Checks {
        self.requirements
    }

    /// The explanation for the analyst.
    #[must_use]
    pub fn message_text(&self) -> &str {
        &self.message
    }

    /// The measurements, in the order added.
    #[must_use]
    pub fn evidence_items(&self) -> &[Evidence] {
        &self.evidence
    }

    /// The value of the evidence called `name` (the first, if several).
    #[must_use]
    pub fn evidence_value(&self, name: &str) -> Option<&str> {
        self.evidence
            .iter()
            .find(|item| item.name == name)
            .map(|item| item.value.as_str())
    }

    /// The WIT record for this finding.
    #[must_use]
    pub fn into_wit(self) -> wit::Finding {
        wit::Finding {
            code: self.code.into_owned(),
            action: self.action,
            score: self.score,
            requirements: self.requirements.into(),
            message: self.message,
            evidence: self
                .evidence
                .into_iter()
                .map(|item| wit::Evidence {
                    name: item.name.into_owned(),
                    value: item.value,
                })
                .collect(),
        }
    }
}

/// A named measurement attached to a [`Finding`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evidence {
    name: Cow<'static, str>,
    value: String,
}

impl Evidence {
    /// What was measured.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its value, formatted for a person.
    #[must_use]
    pub fn value(&self) -> &str {
        &self.value
    }
}

/// The findings a rule makes about one transaction; the rule adds to it in
/// [`Rule::evaluate`](crate::Rule::evaluate) and the SDK turns it into the
/// transaction's verdict. Empty means nothing was found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Findings {
    items: Vec<Finding>,
}

impl Findings {
    /// No findings.
    #[must_use]
    pub fn new() -> Findings {
        Findings::default()
    }

    /// Records a finding.
    pub fn add(&mut self, finding: Finding) {
        self.items.push(finding);
    }

    /// Whether nothing was found.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// How many findings there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// The findings, in the order added.
    pub fn iter(&self) -> core::slice::Iter<'_, Finding> {
        self.items.iter()
    }

    /// The findings, in the order added.
    #[must_use]
    pub fn into_vec(self) -> Vec<Finding> {
        self.items
    }

    /// The WIT verdict made of these findings.
    #[must_use]
    pub fn into_verdict(self) -> wit::Verdict {
        wit::Verdict {
            findings: self.items.into_iter().map(Finding::into_wit).collect(),
        }
    }
}

impl<'a> IntoIterator for &'a Findings {
    type Item = &'a Finding;
    type IntoIter = core::slice::Iter<'a, Finding>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl IntoIterator for Findings {
    type Item = Finding;
    type IntoIter = std::vec::IntoIter<Finding>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_sets_every_field() {
        let finding = Finding::new("A_CODE", Action::Verify)
            .score(35)
            .require(Checks::SENDER_IIN)
            .require(Checks::SMS_CONFIRMATION)
            .message("why")
            .evidence("amount", "600000.00")
            .evidence("threshold", 500_000);
        assert_eq!(finding.code(), "A_CODE");
        assert_eq!(finding.action(), Action::Verify);
        assert_eq!(finding.risk_score(), 35);
        assert_eq!(
            finding.requirements(),
            Checks::SENDER_IIN | Checks::SMS_CONFIRMATION
        );
        assert_eq!(finding.message_text(), "why");
        assert_eq!(finding.evidence_value("threshold"), Some("500000"));
        assert_eq!(finding.evidence_value("nope"), None);
    }

    #[test]
    fn scores_are_capped_at_one_hundred() {
        assert_eq!(
            Finding::new("A", Action::Review).score(250).risk_score(),
            100
        );
    }

    #[test]
    fn converts_to_wit_keeping_order() {
        let mut findings = Findings::new();
        findings.add(
            Finding::new("FIRST", Action::Review)
                .evidence("a", 1)
                .evidence("b", 2),
        );
        findings.add(Finding::new("SECOND", Action::Verify).require(Checks::BIOMETRIC));
        let verdict = findings.into_verdict();
        let codes: Vec<&str> = verdict.findings.iter().map(|f| f.code.as_str()).collect();
        assert_eq!(codes, ["FIRST", "SECOND"]);
        let names: Vec<&str> = verdict
            .findings
            .first()
            .map(|f| f.evidence.iter().map(|e| e.name.as_str()).collect())
            .unwrap_or_default();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(
            verdict.findings.get(1).map(|f| f.requirements),
            Some(wit::Checks::BIOMETRIC)
        );
    }
}
