//! Two decisions of the same transaction, compared: what a rule change does.
//!
//! # Why
//!
//! Before a regulator ships a changed pack, and before a bank trusts it,
//! both want to know which decisions it changes and how: how many payments
//! move from `allow` to `review`, which finding codes appear or vanish, and
//! how many more alerts an analyst will see. `qorgan backtest --baseline`
//! answers this on a recorded stream and `qorgan serve`'s shadow mode on
//! live traffic; both count through this module, so the two agree on what
//! a *change* is.
//!
//! # What is a change
//!
//! A decision *changes* when its action, its score, its requirements, or
//! its findings (each finding code with its action) differ. Messages,
//! evidence, decision ids, elapsed times and the rules' versions do not
//! count: a new threshold changes a message's figures without changing
//! what the bank does. An *alert* is a decision of `review` or stronger,
//! as in `qorgan backtest`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::decision::{Action, Decision};

/// How a finding code differs between two decisions of one transaction.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct CodeChange {
    /// The finding code.
    pub code: String,
    /// Its action before (the strongest, if it was found more than once);
    /// `None` when it was not found.
    pub before: Option<Action>,
    /// Its action after; `None` when it is not found.
    pub after: Option<Action>,
}

/// How the decision of one transaction changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The transaction's id.
    pub tx: String,
    /// The action before.
    pub before: Action,
    /// The action after.
    pub after: Action,
    /// The score before and after.
    pub score: (u32, u32),
    /// The finding codes whose presence or action changed, by code.
    pub codes: Vec<CodeChange>,
}

/// What of a decision counts for a change: its transaction, action,
/// score, requirements, and each finding code with its strongest action.
/// Made from a [`Decision`] or from a decision's JSON (as logged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outline {
    tx: String,
    action: Action,
    score: u32,
    requirements: Vec<String>,
    codes: BTreeMap<String, Action>,
}

impl Outline {
    /// The outline of `decision`.
    pub fn of(decision: &Decision) -> Outline {
        let mut codes: BTreeMap<String, Action> = BTreeMap::new();
        for finding in &decision.findings {
            let slot = codes.entry(finding.code.clone()).or_insert(finding.action);
            *slot = (*slot).max(finding.action);
        }
        let mut requirements: Vec<String> = decision
            .requirements
            .iter()
            .map(|c| c.as_str().to_owned())
            .collect();
        requirements.sort();
        Outline {
            tx: decision.tx.clone(),
            action: decision.action,
            score: decision.score,
            requirements,
            codes,
        }
    }

    /// The outline of a decision's JSON (the decision contract); `None`
    /// when it is not one.
    pub fn from_json(value: &serde_json::Value) -> Option<Outline> {
        let action = |v: &serde_json::Value| v.as_str().and_then(Action::parse);
        let mut codes: BTreeMap<String, Action> = BTreeMap::new();
        for finding in value.get("findings")?.as_array()? {
            let code = finding.get("code")?.as_str()?.to_owned();
            let found = action(finding.get("action")?)?;
            let slot = codes.entry(code).or_insert(found);
            *slot = (*slot).max(found);
        }
        let mut requirements: Vec<String> = match value.get("requirements") {
            None => Vec::new(),
            Some(list) => list
                .as_array()?
                .iter()
                .map(|c| c.as_str().map(str::to_owned))
                .collect::<Option<_>>()?,
        };
        requirements.sort();
        Some(Outline {
            tx: value.get("tx")?.as_str()?.to_owned(),
            action: action(value.get("action")?)?,
            score: u32::try_from(value.get("score")?.as_u64()?).ok()?,
            requirements,
            codes,
        })
    }

    /// How `after` differs from this outline (two decisions of one
    /// transaction), or `None` when it does not change.
    pub fn change_to(&self, after: &Outline) -> Option<Change> {
        let (old, new) = (&self.codes, &after.codes);
        let mut changed: Vec<CodeChange> = Vec::new();
        for code in old
            .keys()
            .chain(new.keys().filter(|c| !old.contains_key(*c)))
        {
            let (b, a) = (old.get(code).copied(), new.get(code).copied());
            if b != a {
                changed.push(CodeChange {
                    code: code.clone(),
                    before: b,
                    after: a,
                });
            }
        }
        changed.sort();
        // Both sorted when made.
        let same = self.action == after.action
            && self.score == after.score
            && self.requirements == after.requirements
            && changed.is_empty();
        (!same).then(|| Change {
            tx: after.tx.clone(),
            before: self.action,
            after: after.action,
            score: (self.score, after.score),
            codes: changed,
        })
    }
}

/// How `after` differs from `before` (two decisions of one transaction),
/// or `None` when it does not change (see the module's documentation).
pub fn change(before: &Decision, after: &Decision) -> Option<Change> {
    Outline::of(before).change_to(&Outline::of(after))
}

/// Counts of decisions compared, changed, and alerts on either side, with
/// the changes grouped by action and by finding code.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    decided: u64,
    changed: u64,
    alerts_before: u64,
    alerts_after: u64,
    actions: BTreeMap<(Action, Action), u64>,
    codes: BTreeMap<CodeChange, u64>,
}

impl Tally {
    /// Nothing compared yet.
    pub fn new() -> Tally {
        Tally::default()
    }

    /// Counts the two decisions of one transaction; returns how it changed,
    /// if it did.
    pub fn observe(&mut self, before: &Decision, after: &Decision) -> Option<Change> {
        self.observe_outlines(&Outline::of(before), &Outline::of(after))
    }

    /// [`Tally::observe`], for outlines (e.g. a logged decision's).
    pub fn observe_outlines(&mut self, before: &Outline, after: &Outline) -> Option<Change> {
        self.decided += 1;
        self.alerts_before += u64::from(before.action >= Action::Review);
        self.alerts_after += u64::from(after.action >= Action::Review);
        let change = before.change_to(after)?;
        self.changed += 1;
        *self
            .actions
            .entry((change.before, change.after))
            .or_insert(0) += 1;
        for code in &change.codes {
            *self.codes.entry(code.clone()).or_insert(0) += 1;
        }
        Some(change)
    }

    /// Transactions decided by both sides.
    pub fn decided(&self) -> u64 {
        self.decided
    }

    /// Of them, decisions that changed.
    pub fn changed(&self) -> u64 {
        self.changed
    }

    /// The counts, for a report.
    pub fn summary(&self) -> TallySummary {
        let per_1000 = |alerts: u64| {
            if self.decided > 0 {
                alerts as f64 * 1000.0 / self.decided as f64
            } else {
                0.0
            }
        };
        TallySummary {
            decided: self.decided,
            changed: self.changed,
            alerts: AlertVolume {
                before: self.alerts_before,
                after: self.alerts_after,
                per_1000_before: per_1000(self.alerts_before),
                per_1000_after: per_1000(self.alerts_after),
            },
            actions: self
                .actions
                .iter()
                .map(|((before, after), count)| ActionChange {
                    before: *before,
                    after: *after,
                    count: *count,
                })
                .collect(),
            codes: self
                .codes
                .iter()
                .map(|(change, count)| CodeChangeCount {
                    code: change.code.clone(),
                    before: change.before,
                    after: change.after,
                    count: *count,
                })
                .collect(),
        }
    }
}

/// Alerts (decisions of `review` or stronger) before and after.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AlertVolume {
    /// Alerts before.
    pub before: u64,
    /// Alerts after.
    pub after: u64,
    /// Alerts before per 1,000 transactions compared.
    pub per_1000_before: f64,
    /// Alerts after per 1,000 transactions compared.
    pub per_1000_after: f64,
}

/// How many changed decisions went from one action to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ActionChange {
    /// The action before.
    pub before: Action,
    /// The action after.
    pub after: Action,
    /// Decisions that changed so.
    pub count: u64,
}

/// How many changed decisions saw a finding code change so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeChangeCount {
    /// The finding code.
    pub code: String,
    /// Its action before; `None`: absent before.
    pub before: Option<Action>,
    /// Its action after; `None`: absent after.
    pub after: Option<Action>,
    /// Decisions where it changed so.
    pub count: u64,
}

/// A [`Tally`]'s counts, as reports print them and serialise them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TallySummary {
    /// Transactions decided by both sides.
    pub decided: u64,
    /// Of them, decisions that changed.
    pub changed: u64,
    /// Alert volume before and after.
    pub alerts: AlertVolume,
    /// Changed decisions by action, before -> after.
    pub actions: Vec<ActionChange>,
    /// Changed finding codes, by code and action before -> after.
    pub codes: Vec<CodeChangeCount>,
}

impl std::fmt::Display for TallySummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let action = |a: Option<Action>| a.map_or_else(|| "-".to_owned(), |a| a.to_string());
        writeln!(
            f,
            "{} of {} decisions changed; alerts per 1,000 transactions {:.2} -> {:.2} ({} -> {})",
            self.changed,
            self.decided,
            self.alerts.per_1000_before,
            self.alerts.per_1000_after,
            self.alerts.before,
            self.alerts.after
        )?;
        if !self.actions.is_empty() {
            writeln!(f, "by action (before -> after):")?;
            for a in &self.actions {
                // Padded as text: an action's `Display` ignores widths.
                let (before, after) = (a.before.to_string(), a.after.to_string());
                writeln!(f, "  {before:<8} -> {after:<8} {:>8}", a.count)?;
            }
        }
        if !self.codes.is_empty() {
            writeln!(
                f,
                "by finding code (its action before -> after, `-` absent):"
            )?;
            for c in &self.codes {
                writeln!(
                    f,
                    "  {:<32} {:<8} -> {:<8} {:>8}",
                    c.code,
                    action(c.before),
                    action(c.after),
                    c.count
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::{Finding, PackRef};

    fn decision(action: Action, score: u32, codes: &[(&str, Action)]) -> Decision {
        Decision {
            tx: "tx-1".into(),
            decision_id: String::new(),
            action,
            score,
            requirements: Default::default(),
            findings: codes
                .iter()
                .map(|(code, action)| Finding {
                    code: (*code).to_owned(),
                    rule: "r@1".into(),
                    action: *action,
                    score: 0,
                    requirements: Default::default(),
                    message: "m".into(),
                    evidence: Default::default(),
                })
                .collect(),
            pack: PackRef {
                name: "p".into(),
                version: "1".into(),
                serial: 1,
            },
            elapsed_us: 0,
        }
    }

    #[test]
    fn a_finding_that_appears_changes_the_decision_and_is_counted_by_code_and_action() {
        let before = decision(Action::Allow, 0, &[]);
        let after = decision(Action::Review, 40, &[("X", Action::Review)]);
        let mut tally = Tally::new();
        let change = tally.observe(&before, &after);
        assert_eq!(
            change.map(|c| c.codes),
            Some(vec![CodeChange {
                code: "X".into(),
                before: None,
                after: Some(Action::Review)
            }])
        );
        tally.observe(&before, &before);
        let summary = tally.summary();
        assert_eq!((summary.decided, summary.changed), (2, 1));
        assert_eq!(summary.alerts.before, 0);
        assert_eq!(summary.alerts.after, 1);
        assert_eq!(summary.alerts.per_1000_after, 500.0);
        assert_eq!(summary.actions.len(), 1);
        assert_eq!(summary.codes.len(), 1);
    }

    #[test]
    fn a_changed_message_alone_is_no_change() {
        let before = decision(Action::Verify, 35, &[("X", Action::Verify)]);
        let mut after = before.clone();
        if let Some(f) = after.findings.first_mut() {
            f.message = "another threshold".into();
        }
        after.decision_id = "other".into();
        assert_eq!(change(&before, &after), None);
    }

    #[test]
    fn a_decision_read_back_from_its_json_has_the_same_outline() {
        let decision = decision(
            Action::Hold,
            95,
            &[("X", Action::Review), ("Y", Action::Hold)],
        );
        let json: serde_json::Value = serde_json::from_str(&decision.to_json()).unwrap_or_default();
        assert_eq!(Outline::from_json(&json), Some(Outline::of(&decision)));
    }
}
