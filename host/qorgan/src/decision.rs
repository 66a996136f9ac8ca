//! Decisions: what the bank is told to do with a transaction, and why.
//!
//! Each rule returns findings for a transaction; this module folds them into
//! one [`Decision`] (the output contract of docs/contracts.md): the strongest action
//! among the findings and the pack's score thresholds, the summed score, the
//! union of required checks, and every finding with the rule that made it.
//! A rule that fails (traps, runs out of time or memory, breaks the contract)
//! contributes a `PLUGIN_FAILED` finding carrying the pack's failure action,
//! so a failure is never a silent `allow`.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::transaction::{Checks, Transaction, wire_enum};

wire_enum! {
    /// What the bank should do, from weakest to strongest.
    Action {
        /// Let it through.
        Allow = "allow",
        /// Let it through once the required checks are done.
        Verify = "verify",
        /// Let it through and queue it for an analyst.
        Review = "review",
        /// Suspend it pending review.
        Hold = "hold",
        /// Reject it.
        Block = "block",
    }
}

impl Serialize for Action {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Action {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Action::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown action `{text}`; expected allow, verify, review, hold or block"
            ))
        })
    }
}

/// The finding code of a rule that failed to give a verdict.
pub const PLUGIN_FAILED: &str = "PLUGIN_FAILED";

/// The finding code of a vocabulary word (a transaction or party kind, a
/// channel, a check) that the host does not know: the transaction is
/// decided with the word read as `unknown` / `other` (a check: not
/// credited), and this finding names it.
pub const UNKNOWN_VOCABULARY: &str = "UNKNOWN_VOCABULARY";

/// The finding codes the host gives itself; no plugin may declare them.
pub const HOST_CODES: &[&str] = &[PLUGIN_FAILED, UNKNOWN_VOCABULARY];

/// What host findings name as their `rule`: `qorgan@<host version>`.
pub const HOST_RULE: &str = concat!("qorgan@", env!("CARGO_PKG_VERSION"));

/// The `UNKNOWN_VOCABULARY` findings of a transaction, one per unknown
/// word, in field order: action `review`, score 0, evidence `field`, `word`
/// and `read_as`.
pub fn vocabulary_findings(tx: &Transaction) -> impl Iterator<Item = Finding> + '_ {
    tx.unknown_words.iter().map(|unknown| Finding {
        code: UNKNOWN_VOCABULARY.to_owned(),
        rule: HOST_RULE.to_owned(),
        action: Action::Review,
        score: 0,
        requirements: Checks::NONE,
        message: format!(
            "`{}` is `{}`, a word this host does not know: read as `{}`",
            unknown.field, unknown.word, unknown.read_as
        ),
        evidence: Evidence(vec![
            ("field".to_owned(), unknown.field.clone()),
            ("word".to_owned(), unknown.word.clone()),
            ("read_as".to_owned(), unknown.read_as.to_owned()),
        ]),
    })
}

/// Named values behind a finding, kept in the order the rule gave them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Evidence(pub Vec<(String, String)>);

impl Serialize for Evidence {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

impl Evidence {
    /// The value recorded under `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One thing a rule found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The finding code, e.g. `TOPUP_SENDER_IIN_REQUIRED`.
    pub code: String,
    /// The rule that made it, as `id@version`.
    pub rule: String,
    /// The action it calls for.
    pub action: Action,
    /// What it adds to the risk score, before the pack's weight.
    pub score: u32,
    /// Checks it requires.
    #[serde(skip_serializing_if = "Checks::is_empty")]
    pub requirements: Checks,
    /// A sentence for an analyst.
    pub message: String,
    /// The measurements behind it.
    pub evidence: Evidence,
}

/// The pack that decided, as the decision names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackRef {
    /// The pack's name.
    pub name: String,
    /// The pack's version.
    pub version: String,
    /// The pack's serial number.
    pub serial: u64,
}

/// A decision on one transaction (docs/contracts.md, "Decision JSON").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// The transaction's id.
    pub tx: String,
    /// A unique, time-ordered identifier of this decision (a ULID).
    pub decision_id: String,
    /// What to do.
    pub action: Action,
    /// The risk score: the findings' scores times their rules' weights.
    pub score: u32,
    /// Checks that must be done first, the union over all findings.
    pub requirements: Checks,
    /// Every finding, rule by rule in pack order.
    pub findings: Vec<Finding>,
    /// The pack that decided.
    pub pack: PackRef,
    /// Time spent deciding, in microseconds. For a batch, the batch's time
    /// shared equally among its transactions.
    pub elapsed_us: u64,
}

impl Decision {
    /// The decision as one line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| {
            format!(
                "{{\"tx\":{:?},\"error\":\"cannot serialise decision: {e}\"}}",
                self.tx
            )
        })
    }

    /// Whether a finding with `code` is present.
    pub fn has(&self, code: &str) -> bool {
        self.findings.iter().any(|f| f.code == code)
    }
}

/// Score levels at which a decision escalates regardless of its findings'
/// own actions: a decision whose score reaches `review` is at least
/// `review`, and so on. Absent levels never escalate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreThresholds {
    /// Score from which a decision is at least `review`.
    pub review: Option<u32>,
    /// Score from which a decision is at least `hold`.
    pub hold: Option<u32>,
    /// Score from which a decision is `block`.
    pub block: Option<u32>,
}

impl ScoreThresholds {
    /// The strongest action the score alone calls for.
    pub fn action_for(&self, score: u32) -> Action {
        let reached = |level: Option<u32>| level.is_some_and(|l| score >= l);
        if reached(self.block) {
            Action::Block
        } else if reached(self.hold) {
            Action::Hold
        } else if reached(self.review) {
            Action::Review
        } else {
            Action::Allow
        }
    }
}

/// Folds weighted findings into a decision's action, score and requirements.
/// Each item is a finding and its rule's weight in hundredths (100 = 1.0).
pub fn aggregate<'a>(
    findings: impl IntoIterator<Item = (&'a Finding, u32)>,
    thresholds: &ScoreThresholds,
) -> (Action, u32, Checks) {
    let mut action = Action::Allow;
    let mut score: u32 = 0;
    let mut requirements = Checks::NONE;
    for (finding, weight_pct) in findings {
        action = action.max(finding.action);
        let weighted = (u64::from(finding.score) * u64::from(weight_pct) + 50) / 100;
        score = score.saturating_add(u32::try_from(weighted).unwrap_or(u32::MAX));
        requirements = requirements.union(finding.requirements);
    }
    action = action.max(thresholds.action_for(score));
    (action, score, requirements)
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} (score {})", self.tx, self.action, self.score)
    }
}

/// A decision (or run) id: a ULID, 48 bits of milliseconds since the Unix
/// epoch and then 80 random bits, written as 26 characters of Crockford's
/// base 32, so that ids sort in the order they were made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ulid(u128);

/// Crockford's base-32 alphabet (no I, L, O, U).
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// The random part's bits.
const RANDOM_BITS: u32 = 80;

impl Ulid {
    /// A new id: now, and random bits from the operating system.
    pub fn fresh() -> Ulid {
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        let mut random = [0u8; 16];
        if getrandom::fill(&mut random).is_err() {
            // The time and this process's counter still keep ids apart
            // within the process; the random part only keeps hosts apart.
            use std::sync::atomic::{AtomicU64, Ordering};
            static COUNTER: AtomicU64 = AtomicU64::new(0);
            let count = COUNTER.fetch_add(1, Ordering::Relaxed);
            let pid = u64::from(std::process::id());
            random = (u128::from(count) | (u128::from(pid) << 64)).to_le_bytes();
        }
        Ulid::from_parts(millis, u128::from_le_bytes(random))
    }

    /// The id of `millis` (its low 48 bits) and `random` (its low 80 bits).
    pub fn from_parts(millis: u64, random: u128) -> Ulid {
        let time = u128::from(millis) & ((1 << 48) - 1);
        let random = random & ((1 << RANDOM_BITS) - 1);
        Ulid((time << RANDOM_BITS) | random)
    }

    /// The next id of the same millisecond, or `None` when the random part
    /// is at its maximum.
    pub fn increment(self) -> Option<Ulid> {
        let random = self.0 & ((1 << RANDOM_BITS) - 1);
        (random != (1 << RANDOM_BITS) - 1).then_some(Ulid(self.0 + 1))
    }
}

/// Why text is not a [`Ulid`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a ULID: 26 characters of Crockford's base 32, at most 7ZZZZZZZZZZZZZZZZZZZZZZZZZ")]
pub struct UlidError;

impl std::str::FromStr for Ulid {
    type Err = UlidError;

    /// Reads the 26 characters [`Ulid`]'s `Display` writes, in either case.
    fn from_str(text: &str) -> Result<Ulid, UlidError> {
        if text.len() != 26 {
            return Err(UlidError);
        }
        let mut value: u128 = 0;
        for (i, byte) in text.bytes().enumerate() {
            let digit = CROCKFORD
                .iter()
                .position(|c| *c == byte.to_ascii_uppercase())
                .ok_or(UlidError)?;
            // The first character carries only the top 3 of 130 bits.
            if i == 0 && digit > 7 {
                return Err(UlidError);
            }
            value = (value << 5) | digit as u128;
        }
        Ok(Ulid(value))
    }
}

impl std::fmt::Display for Ulid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut text = [0u8; 26];
        for (i, c) in text.iter_mut().enumerate() {
            // 26 × 5 = 130 bits: the first character holds the top 3.
            let shift = 125 - 5 * i;
            let digit = (self.0 >> shift) & 31;
            *c = CROCKFORD.get(digit as usize).copied().unwrap_or(b'0');
        }
        f.write_str(std::str::from_utf8(&text).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::Ulid;

    #[test]
    fn a_ulid_is_written_as_the_ulid_crate_writes_it() {
        let id = Ulid::from_parts(1_700_000_000_123, 0x1234_5678_9abc_def0_1234);
        let theirs = ulid::Ulid::from_parts(1_700_000_000_123, 0x1234_5678_9abc_def0_1234);
        assert_eq!(id.to_string(), theirs.to_string());
        let fresh = Ulid::fresh().to_string();
        assert!(fresh.parse::<ulid::Ulid>().is_ok(), "{fresh}");
        assert_eq!(theirs.to_string().parse::<Ulid>(), Ok(id));
        assert_eq!(
            fresh.to_lowercase().parse::<Ulid>().map(|u| u.to_string()),
            Ok(fresh)
        );
        assert!("8ZZZZZZZZZZZZZZZZZZZZZZZZZ".parse::<Ulid>().is_err());
        assert!(
            "01ARZ3NDEKTSV4RRFFQ69G5FAU".parse::<Ulid>().is_err(),
            "U is not a digit"
        );
    }

    #[test]
    fn incremented_ulids_ascend_and_stop_at_the_top_of_the_millisecond() {
        let id = Ulid::from_parts(5, 7);
        let next = id.increment().unwrap();
        assert!(next > id && next.to_string() > id.to_string());
        assert_eq!(Ulid::from_parts(5, u128::MAX).increment(), None);
    }

    use super::*;
    use crate::transaction::Check;

    fn finding(code: &str, action: Action, score: u32, req: &[Check]) -> Finding {
        Finding {
            code: code.into(),
            rule: "r@1".into(),
            action,
            score,
            requirements: req.iter().copied().collect(),
            message: String::new(),
            evidence: Evidence::default(),
        }
    }

    #[test]
    fn actions_are_ordered_from_allow_to_block() {
        assert!(Action::Allow < Action::Verify);
        assert!(Action::Verify < Action::Review);
        assert!(Action::Review < Action::Hold);
        assert!(Action::Hold < Action::Block);
    }

    #[test]
    fn strongest_action_wins_and_requirements_unite() {
        let a = finding("A", Action::Verify, 35, &[Check::SenderIin]);
        let b = finding("B", Action::Review, 40, &[Check::Biometric]);
        let (action, score, req) = aggregate([(&a, 100), (&b, 100)], &ScoreThresholds::default());
        assert_eq!(action, Action::Review);
        assert_eq!(score, 75);
        assert_eq!(
            req.iter().collect::<Vec<_>>(),
            vec![Check::SenderIin, Check::Biometric]
        );
    }

    #[test]
    fn score_thresholds_escalate_and_weights_scale() {
        let t = ScoreThresholds {
            review: Some(50),
            hold: Some(80),
            block: None,
        };
        let a = finding("A", Action::Verify, 40, &[]);
        assert_eq!(aggregate([(&a, 100)], &t).0, Action::Verify);
        assert_eq!(
            aggregate([(&a, 150)], &t),
            (Action::Review, 60, Checks::NONE)
        );
        assert_eq!(aggregate([(&a, 200)], &t).0, Action::Hold);
    }

    #[test]
    fn no_findings_allow() {
        let none: [(&Finding, u32); 0] = [];
        assert_eq!(
            aggregate(none, &ScoreThresholds::default()),
            (Action::Allow, 0, Checks::NONE)
        );
    }

    #[test]
    fn decision_json_matches_the_contract() {
        let mut f = finding(
            "TOPUP_SENDER_IIN_REQUIRED",
            Action::Verify,
            35,
            &[Check::SenderIin],
        );
        f.evidence = Evidence(vec![
            ("amount".into(), "600000.00".into()),
            ("threshold".into(), "500000.00".into()),
        ]);
        let d = Decision {
            tx: "tx-1".into(),
            decision_id: "01J".into(),
            action: Action::Verify,
            score: 35,
            requirements: f.requirements,
            findings: vec![f],
            pack: PackRef {
                name: "kz-afm".into(),
                version: "2025.3.0".into(),
                serial: 7,
            },
            elapsed_us: 3,
        };
        let json: serde_json::Value = serde_json::from_str(&d.to_json()).unwrap_or_default();
        assert_eq!(json["action"], "verify");
        assert_eq!(json["requirements"], serde_json::json!(["sender-iin"]));
        assert_eq!(json["findings"][0]["evidence"]["threshold"], "500000.00");
        assert_eq!(json["pack"]["serial"], 7);
    }
}
