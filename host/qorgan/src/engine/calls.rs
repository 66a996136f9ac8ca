//! The questions plugins ask the host, recorded or replayed.
//!
//! A plugin's verdict depends on its input and on the answers the host gives
//! to its `history` and `lists` questions. A [`Tap`] set on an evaluator
//! either records every question and answer ([`Tap::record`]) or answers
//! from a recording instead of the host's stores ([`Tap::replay`]). Replay
//! makes a test case deterministic and self-contained: it no longer needs
//! the history that produced the answers. A question the recording does not
//! answer stops the plugin with an error naming the question, so a replayed
//! case can never pass on an answer it did not record.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::history::{Aggregate, Direction, Query};
use crate::transaction::TxKind;

/// A question a plugin asked, in terms that survive the engine's lifetime
/// (account names rather than handles).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Question {
    /// `history.aggregate`.
    Aggregate {
        /// The account asked about.
        account: String,
        /// The query, with its account handle left out.
        query: QueryRecord,
    },
    /// `history.first-seen`.
    FirstSeen {
        /// The account asked about.
        account: String,
    },
    /// `history.linked-accounts`.
    LinkedAccounts {
        /// The device (`device:ID`) or holder (`iin:IIN`) asked about.
        key: String,
        /// The window in seconds.
        window: u32,
    },
    /// `lists.contains`.
    Contains {
        /// The list.
        list: String,
        /// The key.
        key: String,
    },
    /// `lists.contains-account`.
    ContainsAccount {
        /// The list.
        list: String,
        /// The account.
        account: String,
    },
}

/// The answer the host gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Totals of an aggregate.
    Totals(Aggregate),
    /// A time, or none.
    Time(Option<i64>),
    /// Membership.
    Member(bool),
    /// A number of accounts.
    Count(u32),
}

/// A history query without its account handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryRecord {
    /// Window in seconds.
    pub window: u32,
    /// `inbound`, `outbound` or `both`.
    pub direction: DirectionRecord,
    /// Kinds counted; empty for all.
    #[serde(default)]
    pub kinds: KindSet,
    /// Smallest amount, tiyn.
    pub min_amount: i64,
    /// Largest amount, tiyn.
    pub max_amount: i64,
}

/// A direction, as written in a recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DirectionRecord {
    /// Inbound.
    Inbound,
    /// Outbound.
    Outbound,
    /// Both.
    Both,
}

/// A set of transaction kinds, written as their names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KindSet(pub u8);

impl Serialize for KindSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(
            TxKind::ALL
                .iter()
                .enumerate()
                .filter(|(i, _)| self.0 & (1 << i) != 0)
                .map(|(_, k)| k.as_str()),
        )
    }
}

impl<'de> Deserialize<'de> for KindSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let names = Vec::<String>::deserialize(d)?;
        let mut bits = 0u8;
        for name in names {
            let index = TxKind::ALL
                .iter()
                .position(|k| k.as_str() == name)
                .ok_or_else(|| {
                    serde::de::Error::custom(format!("unknown transaction kind `{name}`"))
                })?;
            bits |= 1 << index;
        }
        Ok(KindSet(bits))
    }
}

impl QueryRecord {
    pub(crate) fn from_query(q: &Query) -> QueryRecord {
        QueryRecord {
            window: q.window,
            direction: match q.direction {
                Direction::Inbound => DirectionRecord::Inbound,
                Direction::Outbound => DirectionRecord::Outbound,
                Direction::Both => DirectionRecord::Both,
            },
            kinds: KindSet(q.kinds),
            min_amount: q.min_amount,
            max_amount: q.max_amount,
        }
    }
}

/// One recorded exchange between a plugin and the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostCall {
    /// The plugin that asked.
    pub plugin: String,
    /// What it asked.
    pub question: Question,
    /// What it was told.
    pub answer: Answer,
}

/// The answer of an aggregate, as written in a recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TotalsRecord {
    count: u32,
    sum: i64,
    max: i64,
    counterparties: u32,
    first: Option<i64>,
    last: Option<i64>,
}

/// The flat form of a [`HostCall`] in case files.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CallRecord {
    plugin: String,
    call: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    list: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    query: Option<QueryRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    window: Option<u32>,
    answer: serde_json::Value,
}

impl Serialize for HostCall {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut record = CallRecord {
            plugin: self.plugin.clone(),
            call: String::new(),
            account: None,
            list: None,
            key: None,
            query: None,
            window: None,
            answer: serde_json::Value::Null,
        };
        match &self.question {
            Question::Aggregate { account, query } => {
                record.call = "aggregate".into();
                record.account = Some(account.clone());
                record.query = Some(*query);
            }
            Question::FirstSeen { account } => {
                record.call = "first-seen".into();
                record.account = Some(account.clone());
            }
            Question::LinkedAccounts { key, window } => {
                record.call = "linked-accounts".into();
                record.key = Some(key.clone());
                record.window = Some(*window);
            }
            Question::Contains { list, key } => {
                record.call = "contains".into();
                record.list = Some(list.clone());
                record.key = Some(key.clone());
            }
            Question::ContainsAccount { list, account } => {
                record.call = "contains-account".into();
                record.list = Some(list.clone());
                record.account = Some(account.clone());
            }
        }
        record.answer = match self.answer {
            Answer::Totals(a) => serde_json::to_value(TotalsRecord {
                count: a.count,
                sum: a.sum,
                max: a.max,
                counterparties: a.counterparties,
                first: a.first,
                last: a.last,
            })
            .map_err(serde::ser::Error::custom)?,
            Answer::Time(t) => serde_json::json!(t),
            Answer::Member(b) => serde_json::json!(b),
            Answer::Count(n) => serde_json::json!(n),
        };
        record.serialize(s)
    }
}

impl<'de> Deserialize<'de> for HostCall {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let r = CallRecord::deserialize(d)?;
        let need = |v: Option<String>, field: &str| {
            v.ok_or_else(|| D::Error::custom(format!("`{}` call needs `{field}`", r.call)))
        };
        let (question, answer) = match r.call.as_str() {
            "aggregate" => {
                let totals: TotalsRecord =
                    serde_json::from_value(r.answer.clone()).map_err(D::Error::custom)?;
                (
                    Question::Aggregate {
                        account: need(r.account.clone(), "account")?,
                        query: r
                            .query
                            .ok_or_else(|| D::Error::custom("`aggregate` call needs `query`"))?,
                    },
                    Answer::Totals(Aggregate {
                        count: totals.count,
                        sum: totals.sum,
                        max: totals.max,
                        counterparties: totals.counterparties,
                        first: totals.first,
                        last: totals.last,
                    }),
                )
            }
            "first-seen" => (
                Question::FirstSeen {
                    account: need(r.account.clone(), "account")?,
                },
                Answer::Time(serde_json::from_value(r.answer.clone()).map_err(D::Error::custom)?),
            ),
            "linked-accounts" => (
                Question::LinkedAccounts {
                    key: need(r.key.clone(), "key")?,
                    window: r
                        .window
                        .ok_or_else(|| D::Error::custom("`linked-accounts` call needs `window`"))?,
                },
                Answer::Count(serde_json::from_value(r.answer.clone()).map_err(D::Error::custom)?),
            ),
            "contains" => (
                Question::Contains {
                    list: need(r.list.clone(), "list")?,
                    key: need(r.key.clone(), "key")?,
                },
                Answer::Member(serde_json::from_value(r.answer.clone()).map_err(D::Error::custom)?),
            ),
            "contains-account" => (
                Question::ContainsAccount {
                    list: need(r.list.clone(), "list")?,
                    account: need(r.account.clone(), "account")?,
                },
                Answer::Member(serde_json::from_value(r.answer.clone()).map_err(D::Error::custom)?),
            ),
            other => {
                return Err(D::Error::custom(format!(
                    "unknown call `{other}`; expected aggregate, first-seen, linked-accounts, contains or contains-account"
                )));
            }
        };
        Ok(HostCall {
            plugin: r.plugin,
            question,
            answer,
        })
    }
}

/// Records host calls, or answers them from a recording.
#[derive(Debug)]
pub enum Tap {
    /// Every call is answered by the host and appended here.
    Record(Mutex<Vec<HostCall>>),
    /// Every call is answered from here; each recorded call answers once, in
    /// order among equal questions.
    Replay(Mutex<Vec<(HostCall, bool)>>),
}

impl Tap {
    /// A tap that records.
    pub fn record() -> Tap {
        Tap::Record(Mutex::new(Vec::new()))
    }

    /// A tap that replays `calls`.
    pub fn replay(calls: Vec<HostCall>) -> Tap {
        Tap::Replay(Mutex::new(calls.into_iter().map(|c| (c, false)).collect()))
    }

    /// The calls recorded so far (empty for a replaying tap).
    pub fn recorded(&self) -> Vec<HostCall> {
        match self {
            Tap::Record(calls) => calls.lock().map(|c| c.clone()).unwrap_or_default(),
            Tap::Replay(_) => Vec::new(),
        }
    }

    /// Answers `question` for `plugin`: from the recording when replaying,
    /// otherwise by `live`, recording the answer when recording.
    pub(crate) fn answer(
        &self,
        plugin: &str,
        question: Question,
        live: impl FnOnce() -> Answer,
    ) -> Result<Answer, String> {
        match self {
            Tap::Record(calls) => {
                let answer = live();
                if let Ok(mut calls) = calls.lock() {
                    calls.push(HostCall {
                        plugin: plugin.to_owned(),
                        question,
                        answer,
                    });
                }
                Ok(answer)
            }
            Tap::Replay(calls) => {
                let mut calls = calls
                    .lock()
                    .map_err(|_| "replay table poisoned".to_owned())?;
                let found = calls
                    .iter_mut()
                    .find(|(c, used)| !*used && c.plugin == plugin && c.question == question);
                match found {
                    Some((call, used)) => {
                        *used = true;
                        Ok(call.answer)
                    }
                    None => Err(format!("the recording has no answer for {question:?}")),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(question: Question, answer: Answer) -> HostCall {
        HostCall {
            plugin: "p".into(),
            question,
            answer,
        }
    }

    #[test]
    fn recordings_round_trip_through_yaml() -> Result<(), String> {
        let calls = vec![
            call(
                Question::Aggregate {
                    account: "KZ01".into(),
                    query: QueryRecord {
                        window: 86_400,
                        direction: DirectionRecord::Inbound,
                        kinds: KindSet(0b11),
                        min_amount: 0,
                        max_amount: i64::MAX,
                    },
                },
                Answer::Totals(Aggregate {
                    count: 3,
                    sum: 300,
                    max: 100,
                    counterparties: 3,
                    first: Some(1),
                    last: Some(2),
                }),
            ),
            call(
                Question::FirstSeen {
                    account: "KZ01".into(),
                },
                Answer::Time(None),
            ),
            call(
                Question::LinkedAccounts {
                    key: "device:d-1".into(),
                    window: 3600,
                },
                Answer::Count(4),
            ),
            call(
                Question::Contains {
                    list: "blocked-vasps".into(),
                    key: "okx".into(),
                },
                Answer::Member(true),
            ),
            call(
                Question::ContainsAccount {
                    list: "mules".into(),
                    account: "KZ02".into(),
                },
                Answer::Member(false),
            ),
        ];
        let text = serde_norway::to_string(&calls).map_err(|e| e.to_string())?;
        assert!(
            text.contains("kinds:\n    - card-topup\n    - transfer"),
            "{text}"
        );
        let back: Vec<HostCall> = serde_norway::from_str(&text).map_err(|e| e.to_string())?;
        assert_eq!(back, calls);
        Ok(())
    }

    #[test]
    fn replay_answers_each_recorded_question_once_and_refuses_others() {
        let q = Question::Contains {
            list: "l".into(),
            key: "k".into(),
        };
        let tap = Tap::replay(vec![call(q.clone(), Answer::Member(true))]);
        let live_is_never_asked = || panic!("replay must not ask the host");
        assert_eq!(
            tap.answer("p", q.clone(), live_is_never_asked),
            Ok(Answer::Member(true))
        );
        assert!(tap.answer("p", q.clone(), live_is_never_asked).is_err());
        assert!(tap.answer("other", q, live_is_never_asked).is_err());
    }

    #[test]
    fn record_keeps_the_live_answer() {
        let tap = Tap::record();
        let q = Question::FirstSeen {
            account: "a".into(),
        };
        assert_eq!(
            tap.answer("p", q.clone(), || Answer::Time(Some(5))),
            Ok(Answer::Time(Some(5)))
        );
        assert_eq!(tap.recorded(), vec![call(q, Answer::Time(Some(5)))]);
    }
}
