//! A backtest's results, as a readable table or as one JSON object with
//! stable keys (numbers as numbers, `null` where a ratio has no
//! denominator).

use std::fmt::{self, Write};

use serde::{Serialize, Serializer};

use crate::generator::Role;
use qorgan::decision::{Action, PackRef};

/// Decisions per action.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ActionCounts {
    /// Decisions to allow.
    pub allow: u64,
    /// Decisions to verify.
    pub verify: u64,
    /// Decisions to review.
    pub review: u64,
    /// Decisions to hold.
    pub hold: u64,
    /// Decisions to block.
    pub block: u64,
}

impl ActionCounts {
    /// Counts one decision with `action`.
    pub fn add(&mut self, action: Action) {
        let slot = match action {
            Action::Allow => &mut self.allow,
            Action::Verify => &mut self.verify,
            Action::Review => &mut self.review,
            Action::Hold => &mut self.hold,
            Action::Block => &mut self.block,
        };
        *slot += 1;
    }
}

/// How a typology's accounts were found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TypologyScore {
    /// The typology's name (the key in JSON).
    #[serde(skip)]
    pub name: &'static str,
    /// The `truth` role of its accounts.
    pub role: Role,
    /// The finding codes that flag it.
    pub codes: Vec<&'static str>,
    /// Labelled accounts flagged by one of the codes.
    pub flagged: u64,
    /// Accounts labelled with the role.
    pub actual: u64,
    /// Flagged accounts that have the role.
    pub tp: u64,
    /// Flagged accounts of a related typology's role (see
    /// [`Typology::related`](super::Typology::related)): neither.
    pub related: u64,
    /// Flagged accounts that have neither the role nor a related one.
    pub fp: u64,
    /// Accounts with the role that were not flagged.
    #[serde(rename = "fn")]
    pub fn_: u64,
    /// tp / (tp + fp); `None` when nothing was flagged.
    pub precision: Option<f64>,
    /// tp / actual; `None` when no account has the role.
    pub recall: Option<f64>,
}

/// How many accounts of a legitimate role were flagged.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoleShare {
    /// The role (the key in JSON).
    #[serde(skip)]
    pub role: Role,
    /// Accounts labelled with it.
    pub accounts: u64,
    /// Of them, subjects of a finding of review, hold or block.
    pub flagged: u64,
    /// flagged / accounts; `None` without accounts.
    pub share: Option<f64>,
}

/// Legitimate accounts flagged, overall and per role.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LegitimateScore {
    /// Accounts with a legitimate role.
    pub accounts: u64,
    /// Of them, subjects of a finding of review, hold or block.
    pub flagged: u64,
    /// flagged / accounts; `None` without accounts.
    pub share: Option<f64>,
    /// The same per role.
    #[serde(serialize_with = "roles_as_map")]
    pub roles: Vec<RoleShare>,
    /// Legitimate accounts not flagged on legitimate transactions but
    /// subject of a review-or-stronger finding on a transaction with a
    /// planted typology (e.g. buying USDT from a shadow exchanger).
    pub flagged_with_typology: u64,
}

/// How often a finding code was raised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleHits {
    /// The finding code.
    pub code: String,
    /// The rule that raised it, `id@version`.
    pub rule: String,
    /// How many findings.
    pub hits: u64,
}

/// A line that was not decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectedLine {
    /// Its number, from 1.
    pub line: u64,
    /// Why.
    pub error: String,
}

/// What a backtest found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The pack that decided.
    pub pack: Option<PackRef>,
    /// Non-blank input lines.
    pub lines: u64,
    /// Transactions decided and scored.
    pub transactions: u64,
    /// Transactions dated before the score-from time: decided into
    /// history, not scored.
    pub history: u64,
    /// Lines not decided (malformed, or the engine refused them).
    pub rejected: u64,
    /// Decided transactions without `truth`.
    pub unlabelled: u64,
    /// Times an account was labelled differently from its first label.
    pub label_conflicts: u64,
    /// The first rejected lines.
    pub rejected_lines: Vec<RejectedLine>,
    /// Wall-clock time of the run, seconds.
    pub elapsed_s: f64,
    /// Transactions decided per second.
    pub tx_per_s: f64,
    /// Decisions of review, hold or block.
    pub alerts: u64,
    /// Alerts per 1,000 transactions decided.
    pub alerts_per_1000: f64,
    /// Decisions per action.
    pub actions: ActionCounts,
    /// Precision and recall per typology, in the order of
    /// [`TYPOLOGIES`](super::TYPOLOGIES).
    #[serde(serialize_with = "typologies_as_map")]
    pub typologies: Vec<TypologyScore>,
    /// Legitimate accounts flagged.
    pub legitimate: LegitimateScore,
    /// Findings per code, most frequent first.
    pub rules: Vec<RuleHits>,
}

fn typologies_as_map<S: Serializer>(items: &[TypologyScore], s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(items.iter().map(|t| (t.name, t)))
}

fn roles_as_map<S: Serializer>(items: &[RoleShare], s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(items.iter().map(|r| (r.role.as_str(), r)))
}

impl Report {
    /// The report as one line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self)
            .unwrap_or_else(|e| format!("{{\"error\":\"cannot serialise the report: {e}\"}}"))
    }

    /// The score of the typology named `name`.
    pub fn typology(&self, name: &str) -> Option<&TypologyScore> {
        self.typologies.iter().find(|t| t.name == name)
    }
}

fn ratio3(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_owned(), |v| format!("{v:.3}"))
}

fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_owned(), |v| format!("{:.2}%", v * 100.0))
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        let pack = self.pack.as_ref().map_or_else(
            || "no pack".to_owned(),
            |p| format!("{} {} (serial {})", p.name, p.version, p.serial),
        );
        let _ = writeln!(out, "backtest of {pack}");
        let _ = writeln!(
            out,
            "  {} transactions decided in {:.1} s ({:.0} tx/s); {} rejected; {} unlabelled",
            self.transactions, self.elapsed_s, self.tx_per_s, self.rejected, self.unlabelled
        );
        if self.history > 0 {
            let _ = writeln!(
                out,
                "  {} earlier transactions decided as history first, not scored",
                self.history
            );
        }
        if self.label_conflicts > 0 {
            let _ = writeln!(out, "  {} conflicting account labels", self.label_conflicts);
        }
        let a = &self.actions;
        let _ = writeln!(
            out,
            "  actions: allow {}, verify {}, review {}, hold {}, block {}",
            a.allow, a.verify, a.review, a.hold, a.block
        );
        let _ = writeln!(
            out,
            "  alerts (review or stronger): {} = {:.2} per 1000 transactions",
            self.alerts, self.alerts_per_1000
        );
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "typology accounts (flagged = subject of a finding with one of the codes; \
             related = of a typology this one is part of, counted neither way)"
        );
        let _ = writeln!(
            out,
            "  {:<14} {:>8} {:>8} {:>6} {:>8} {:>6} {:>6} {:>10} {:>8}  codes",
            "typology", "flagged", "actual", "TP", "related", "FP", "FN", "precision", "recall"
        );
        for t in &self.typologies {
            let _ = writeln!(
                out,
                "  {:<14} {:>8} {:>8} {:>6} {:>8} {:>6} {:>6} {:>10} {:>8}  {}",
                t.name,
                t.flagged,
                t.actual,
                t.tp,
                t.related,
                t.fp,
                t.fn_,
                ratio3(t.precision),
                ratio3(t.recall),
                t.codes.join(", ")
            );
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "legitimate accounts flagged (subject of a review, hold or block finding \
             on a transaction between legitimate parties)"
        );
        let _ = writeln!(
            out,
            "  {:<12} {:>8} {:>8} {:>8}",
            "role", "accounts", "flagged", "share"
        );
        for r in &self.legitimate.roles {
            let _ = writeln!(
                out,
                "  {:<12} {:>8} {:>8} {:>8}",
                r.role.as_str(),
                r.accounts,
                r.flagged,
                percent(r.share)
            );
        }
        let l = &self.legitimate;
        let _ = writeln!(
            out,
            "  {:<12} {:>8} {:>8} {:>8}",
            "all",
            l.accounts,
            l.flagged,
            percent(l.share)
        );
        let _ = writeln!(
            out,
            "  and {} more flagged only while dealing with a planted typology",
            l.flagged_with_typology
        );
        let _ = writeln!(out);
        let _ = writeln!(out, "findings by code");
        if self.rules.is_empty() {
            let _ = writeln!(out, "  none");
        } else {
            let width = self.rules.iter().map(|r| r.code.len()).max().unwrap_or(4);
            let rule_width = self.rules.iter().map(|r| r.rule.len()).max().unwrap_or(4);
            for r in &self.rules {
                let _ = writeln!(
                    out,
                    "  {:<width$}  {:<rule_width$} {:>9}",
                    r.code, r.rule, r.hits
                );
            }
        }
        if !self.rejected_lines.is_empty() {
            let _ = writeln!(out);
            let _ = writeln!(out, "rejected lines (first {}):", self.rejected_lines.len());
            for r in &self.rejected_lines {
                let _ = writeln!(out, "  line {}: {}", r.line, r.error);
            }
        }
        f.write_str(out.trim_end())
    }
}
