//! What the activator reports: the active pack, the last check, the last
//! refusal.
//!
//! A bank's operators need to see at a glance which rules are deciding,
//! since when, and whether a newer pack was offered and refused (and why),
//! without reading logs. [`Status`] is that view, serialisable as JSON so
//! that the HTTP service can expose it as it is. Times are RFC 3339 strings.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::errors::Refusal;

/// The pack the activator made active.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivePack {
    /// The pack's name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Its serial.
    pub serial: u64,
    /// The sha256 of its `pack.toml`.
    pub manifest_sha256: String,
    /// The sha256 of its signed statement: its identity, every file
    /// included.
    pub statement_sha256: String,
    /// The trusted keys whose signatures held, as `id (name)`.
    pub signers: Vec<String>,
    /// When it was issued (RFC 3339), if it says.
    #[serde(default)]
    pub issued_at: Option<String>,
    /// When it expires (RFC 3339), if it does.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// How many of its own test cases passed on this host.
    pub own_cases: usize,
    /// Where it came from, as the candidate was displayed.
    pub origin: String,
    /// When this host first activated it (a restore keeps the time).
    #[serde(with = "rfc3339")]
    pub activated_at: OffsetDateTime,
}

/// The last refusal of a candidate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusalRecord {
    /// When it was refused.
    #[serde(with = "rfc3339")]
    pub at: OffsetDateTime,
    /// The candidate.
    pub candidate: String,
    /// The reason's kind: [`super::RefusalReason::kind`].
    pub kind: String,
    /// The reason, in words.
    pub reason: String,
}

impl From<&Refusal> for RefusalRecord {
    fn from(refusal: &Refusal) -> Self {
        RefusalRecord {
            at: refusal.at,
            candidate: refusal.candidate.clone(),
            kind: refusal.reason.kind().to_owned(),
            reason: refusal.reason.to_string(),
        }
    }
}

/// The last time a source could not be polled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceProblem {
    /// When.
    #[serde(with = "rfc3339")]
    pub at: OffsetDateTime,
    /// The source.
    pub source: String,
    /// What went wrong.
    pub error: String,
}

/// The activator's state, as [`super::Activator::status`] reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// The active pack, if the activator activated or restored one.
    pub active: Option<ActivePack>,
    /// How long the active pack has been this host's, in seconds.
    pub active_age_secs: Option<i64>,
    /// The serial a candidate must exceed, if any.
    pub serial_floor: Option<u64>,
    /// When a candidate was last offered or a source last polled.
    #[serde(with = "rfc3339::option")]
    pub last_check: Option<OffsetDateTime>,
    /// The last refusal, kept after later activations.
    pub last_refusal: Option<RefusalRecord>,
    /// The last time a source could not be polled.
    pub last_source_problem: Option<SourceProblem>,
    /// Packs activated (or restored) since start.
    pub activations: u64,
    /// Candidates refused since start.
    pub refusals: u64,
}

impl Status {
    /// The status as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}

/// Serde for RFC 3339 times.
pub(crate) mod rfc3339 {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;

    /// Writes `time` as RFC 3339.
    pub(crate) fn serialize<S: Serializer>(
        time: &OffsetDateTime,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let text = time.format(&Rfc3339).map_err(serde::ser::Error::custom)?;
        serializer.serialize_str(&text)
    }

    /// Reads an RFC 3339 time.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<OffsetDateTime, D::Error> {
        let text = String::deserialize(deserializer)?;
        OffsetDateTime::parse(&text, &Rfc3339).map_err(serde::de::Error::custom)
    }

    /// The same for optional times.
    pub(crate) mod option {
        use serde::{Deserialize, Deserializer, Serializer};
        use time::OffsetDateTime;
        use time::format_description::well_known::Rfc3339;

        /// Writes `time` as RFC 3339, or null.
        pub(crate) fn serialize<S: Serializer>(
            time: &Option<OffsetDateTime>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match time {
                Some(time) => super::serialize(time, serializer),
                None => serializer.serialize_none(),
            }
        }

        /// Reads an RFC 3339 time, or null.
        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<OffsetDateTime>, D::Error> {
            Option::<String>::deserialize(deserializer)?
                .map(|text| OffsetDateTime::parse(&text, &Rfc3339))
                .transpose()
                .map_err(serde::de::Error::custom)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn active() -> ActivePack {
        ActivePack {
            name: "kz-afm".into(),
            version: "2025.3.0".into(),
            serial: 7,
            manifest_sha256: "ab".repeat(32),
            statement_sha256: "cd".repeat(32),
            signers: vec!["0123456789abcdef (afm-2025)".into()],
            issued_at: Some("2025-03-01T00:00:00Z".into()),
            expires_at: None,
            own_cases: 157,
            origin: "pack archive /inbox/kz-afm.qpack".into(),
            activated_at: datetime!(2025-03-02 08:00 UTC),
        }
    }

    #[test]
    fn status_is_json_with_rfc3339_times_and_reads_back() {
        let status = Status {
            active: Some(active()),
            active_age_secs: Some(60),
            serial_floor: Some(7),
            last_check: Some(datetime!(2025-03-02 08:01 UTC)),
            last_refusal: Some(RefusalRecord {
                at: datetime!(2025-03-02 08:01 UTC),
                candidate: "pack directory /inbox/old".into(),
                kind: "rollback".into(),
                reason: "serial 6 is not above the active pack's serial 7: refused as a rollback"
                    .into(),
            }),
            last_source_problem: None,
            activations: 1,
            refusals: 1,
        };
        let json = status.to_json();
        assert!(
            json.contains(r#""activated_at":"2025-03-02T08:00:00Z""#),
            "{json}"
        );
        assert!(json.contains(r#""kind":"rollback""#), "{json}");
        let back: Status = match serde_json::from_str(&json) {
            Ok(s) => s,
            Err(e) => panic!("{e}: {json}"),
        };
        assert_eq!(back, status);
    }

    #[test]
    fn an_empty_status_has_nulls() {
        let status = Status {
            active: None,
            active_age_secs: None,
            serial_floor: None,
            last_check: None,
            last_refusal: None,
            last_source_problem: None,
            activations: 0,
            refusals: 0,
        };
        assert!(status.to_json().contains(r#""last_check":null"#));
    }
}
