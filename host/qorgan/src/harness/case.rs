//! Case files: YAML (or JSON) that says what a rule must decide.
//!
//! The format is documented in `docs/testing.md`. Parsing happens in two
//! steps: the file is read into a JSON value, tables (`template` + `rows`)
//! are expanded and transactions merged over the file's `defaults`; then each
//! case is checked and typed. Every error names the file and the case.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value};

use super::HarnessError;
use crate::decision::Action;
use crate::engine::calls::HostCall;
use crate::transaction::{Check, Transaction};

/// A score expectation: an exact number or an inclusive range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum ScoreExpect {
    /// Exactly this score.
    Exact(u32),
    /// Within `[min, max]`; either bound may be absent.
    Range {
        /// Lowest score accepted.
        #[serde(default)]
        min: Option<u32>,
        /// Highest score accepted.
        #[serde(default)]
        max: Option<u32>,
    },
}

/// What a decision must show. Every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The exact action.
    #[serde(default, deserialize_with = "action_opt")]
    pub action: Option<Action>,
    /// The exact set of requirements.
    #[serde(default, deserialize_with = "checks_opt")]
    pub requirements: Option<Vec<Check>>,
    /// Codes that must be present.
    #[serde(default)]
    pub codes: Vec<String>,
    /// Codes that must be absent.
    #[serde(default)]
    pub absent: Vec<String>,
    /// The score.
    #[serde(default)]
    pub score: Option<ScoreExpect>,
    /// Evidence values by code, then by name.
    #[serde(default)]
    pub evidence: BTreeMap<String, BTreeMap<String, String>>,
    /// The exact number of findings.
    #[serde(default)]
    pub findings: Option<usize>,
}

fn action_opt<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Action>, D::Error> {
    Option::<Action>::deserialize(d)
}

fn checks_opt<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Vec<Check>>, D::Error> {
    let names = Option::<Vec<String>>::deserialize(d)?;
    names
        .map(|names| {
            names
                .iter()
                .map(|n| {
                    Check::parse(n).ok_or_else(|| {
                        serde::de::Error::custom(format!("unknown requirement `{n}`"))
                    })
                })
                .collect()
        })
        .transpose()
}

/// One transaction decided in a case, and what its decision must show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The transaction.
    pub transaction: Transaction,
    /// The expectation.
    pub expect: Expect,
}

/// One test case, ready to run.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// What the case proves.
    pub name: String,
    /// The file it came from.
    pub file: PathBuf,
    /// Transactions remembered before the case.
    pub history: Vec<Transaction>,
    /// Transactions decided, in order.
    pub steps: Vec<Step>,
    /// Parameter overrides by plugin id.
    pub parameters: BTreeMap<String, BTreeMap<String, toml::Value>>,
    /// List contents by name, replacing the pack's.
    pub lists: BTreeMap<String, Vec<String>>,
    /// Recorded host answers, when the case replays.
    pub replay: Option<Vec<HostCall>>,
    /// The case as written after table expansion, for `--record`.
    pub source: Value,
}

/// A parsed case file.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// Its `defaults`, for `--record`.
    pub defaults: Value,
    /// Its cases, tables expanded.
    pub cases: Vec<Case>,
}

/// Finds case files: each path is a file, or a directory searched
/// recursively for `.yaml`, `.yml` and `.json` files, in name order.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, HarnessError> {
    let mut found = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| HarnessError::io(path, e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect();
            entries.sort();
            for entry in entries {
                let is_case = entry
                    .extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"));
                if entry.is_dir() {
                    found.extend(discover(&[entry])?);
                } else if is_case {
                    found.push(entry);
                }
            }
        } else if path.is_file() {
            found.push(path.clone());
        } else {
            return Err(HarnessError::io(
                path,
                std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or directory"),
            ));
        }
    }
    Ok(found)
}

/// Reads and parses one case file.
pub fn load(path: &Path) -> Result<CaseFile, HarnessError> {
    let text = std::fs::read_to_string(path).map_err(|e| HarnessError::io(path, e))?;
    parse(path, &text)
}

/// Parses the text of a case file read from `path`.
pub fn parse(path: &Path, text: &str) -> Result<CaseFile, HarnessError> {
    let bad = |case: Option<&str>, problem: String| HarnessError::Case {
        file: path.to_path_buf(),
        case: case.map(str::to_owned),
        problem,
    };
    let is_json = path.extension().is_some_and(|e| e == "json");
    let root: Value = if is_json {
        serde_json::from_str(text).map_err(|e| bad(None, e.to_string()))?
    } else {
        serde_norway::from_str(text).map_err(|e| bad(None, e.to_string()))?
    };
    let Value::Object(mut root) = root else {
        return Err(bad(None, "a case file is a mapping with `cases`".into()));
    };
    for key in root.keys() {
        if !matches!(key.as_str(), "defaults" | "cases") {
            return Err(bad(
                None,
                format!("unknown key `{key}`; a case file has `defaults` and `cases`"),
            ));
        }
    }
    let defaults = root.remove("defaults").unwrap_or(Value::Object(Map::new()));
    if !defaults.is_object() {
        return Err(bad(
            None,
            "`defaults` must be a mapping of transaction fields".into(),
        ));
    }
    let Some(Value::Array(raw_cases)) = root.remove("cases") else {
        return Err(bad(None, "`cases` must be a list".into()));
    };
    let mut expanded = Vec::new();
    for raw in raw_cases {
        expand(raw, &mut expanded).map_err(|p| bad(None, p))?;
    }
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("case")
        .to_owned();
    let mut names = std::collections::HashSet::new();
    let mut cases = Vec::with_capacity(expanded.len());
    for (index, raw) in expanded.into_iter().enumerate() {
        let name = raw
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| bad(None, format!("case {} has no `name`", index + 1)))?;
        if !names.insert(name.clone()) {
            return Err(bad(Some(&name), "two cases have this name".into()));
        }
        let case = build_case(&raw, &defaults, &format!("{stem}-{}", index + 1), path)
            .map_err(|p| bad(Some(&name), p))?;
        cases.push(Case { name, ..case });
    }
    Ok(CaseFile {
        path: path.to_path_buf(),
        defaults,
        cases,
    })
}

/// Expands a table case into one case per row; other cases pass through.
fn expand(raw: Value, out: &mut Vec<Value>) -> Result<(), String> {
    let Value::Object(mut obj) = raw else {
        return Err("every case must be a mapping".into());
    };
    let Some(template) = obj.remove("template") else {
        out.push(Value::Object(obj));
        return Ok(());
    };
    let Some(Value::Array(rows)) = obj.remove("rows") else {
        return Err("a case with `template` needs `rows`, a list of mappings".into());
    };
    let name = obj
        .remove("name")
        .and_then(|n| n.as_str().map(str::to_owned))
        .ok_or("a table case needs a `name`, e.g. \"top-up of {amount}\"")?;
    if let Some(extra) = obj.keys().next() {
        return Err(format!(
            "table `{name}`: `{extra}` belongs inside `template`"
        ));
    }
    let Value::Object(template) = template else {
        return Err(format!("table `{name}`: `template` must be a mapping"));
    };
    for (i, row) in rows.iter().enumerate() {
        let Value::Object(row) = row else {
            return Err(format!("table `{name}`: row {} must be a mapping", i + 1));
        };
        let mut case = substitute(&Value::Object(template.clone()), row);
        if let Value::Object(c) = &mut case {
            c.insert("name".into(), Value::String(fill(&name, row)));
        }
        out.push(case);
    }
    Ok(())
}

fn fill(text: &str, row: &Map<String, Value>) -> String {
    let mut out = text.to_owned();
    for (key, value) in row {
        let shown = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        out = out.replace(&format!("{{{key}}}"), &shown);
    }
    out
}

fn substitute(value: &Value, row: &Map<String, Value>) -> Value {
    match value {
        Value::String(s) => {
            let whole = s
                .strip_prefix('{')
                .and_then(|r| r.strip_suffix('}'))
                .and_then(|key| row.get(key));
            match whole {
                Some(v) => v.clone(),
                None => Value::String(fill(s, row)),
            }
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| substitute(v, row)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), substitute(v, row)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Deep-merges `over` onto `base`: objects key by key, anything else replaced.
fn merge(base: &Value, over: &Value) -> Value {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            let mut out = b.clone();
            for (k, v) in o {
                let merged = match out.get(k) {
                    Some(existing) => merge(existing, v),
                    None => v.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (_, over) => over.clone(),
    }
}

fn transaction(defaults: &Value, raw: &Value, id: &str, what: &str) -> Result<Transaction, String> {
    let mut merged = merge(defaults, raw);
    if let Value::Object(m) = &mut merged {
        m.entry("id")
            .or_insert_with(|| Value::String(id.to_owned()));
    }
    Transaction::from_value(&merged).map_err(|e| format!("{what}: {e}"))
}

fn expect_of(raw: Option<&Value>, what: &str) -> Result<Expect, String> {
    match raw {
        None | Some(Value::Null) => Ok(Expect::default()),
        Some(v) => serde_json::from_value(v.clone()).map_err(|e| format!("{what}: {e}")),
    }
}

fn build_case(raw: &Value, defaults: &Value, id: &str, file: &Path) -> Result<Case, String> {
    let Value::Object(obj) = raw else {
        return Err("a case must be a mapping".into());
    };
    for key in obj.keys() {
        if !matches!(
            key.as_str(),
            "name"
                | "transaction"
                | "sequence"
                | "history"
                | "parameters"
                | "lists"
                | "expect"
                | "replay"
        ) {
            return Err(format!(
                "unknown key `{key}`; a case has name, transaction or sequence, history, parameters, lists, expect, replay"
            ));
        }
    }
    let history = match obj.get("history") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, t)| {
                transaction(
                    defaults,
                    t,
                    &format!("{id}-h{}", i + 1),
                    &format!("history[{i}]"),
                )
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("`history` must be a list of transactions".into()),
    };
    let steps = match (obj.get("transaction"), obj.get("sequence")) {
        (Some(_), Some(_)) => return Err("a case has `transaction` or `sequence`, not both".into()),
        (Some(t), None) => vec![Step {
            transaction: transaction(defaults, t, id, "transaction")?,
            expect: expect_of(obj.get("expect"), "expect")?,
        }],
        (None, Some(Value::Array(items))) => {
            if obj.contains_key("expect") {
                return Err("in a `sequence`, each step carries its own `expect`".into());
            }
            items
                .iter()
                .enumerate()
                .map(|(i, step)| {
                    let t = step
                        .get("transaction")
                        .ok_or_else(|| format!("sequence[{i}] needs `transaction`"))?;
                    Ok(Step {
                        transaction: transaction(
                            defaults,
                            t,
                            &format!("{id}-{}", i + 1),
                            &format!("sequence[{i}].transaction"),
                        )?,
                        expect: expect_of(step.get("expect"), &format!("sequence[{i}].expect"))?,
                    })
                })
                .collect::<Result<_, String>>()?
        }
        (None, Some(_)) => return Err("`sequence` must be a list of steps".into()),
        (None, None) => return Err("a case needs `transaction` or `sequence`".into()),
    };
    let parameters = match obj.get("parameters") {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(v) => {
            let by_plugin: BTreeMap<String, BTreeMap<String, Value>> =
                serde_json::from_value(v.clone()).map_err(|e| format!("parameters: {e}"))?;
            by_plugin
                .into_iter()
                .map(|(plugin, params)| {
                    let params = params
                        .into_iter()
                        .map(|(k, v)| {
                            Ok((
                                k.clone(),
                                json_to_toml(&v)
                                    .map_err(|p| format!("parameters.{plugin}.{k}: {p}"))?,
                            ))
                        })
                        .collect::<Result<_, String>>()?;
                    Ok((plugin, params))
                })
                .collect::<Result<_, String>>()?
        }
    };
    let lists = match obj.get("lists") {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(v) => serde_json::from_value(v.clone()).map_err(|e| format!("lists: {e}"))?,
    };
    let replay = match obj.get("replay") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            serde_json::from_value::<Vec<HostCall>>(v.clone())
                .map_err(|e| format!("replay: {e}"))?,
        ),
    };
    Ok(Case {
        name: String::new(),
        file: file.to_path_buf(),
        history,
        steps,
        parameters,
        lists,
        replay,
        source: raw.clone(),
    })
}

fn json_to_toml(v: &Value) -> Result<toml::Value, String> {
    Ok(match v {
        Value::String(s) => toml::Value::String(s.clone()),
        Value::Bool(b) => toml::Value::Boolean(*b),
        Value::Number(n) if n.is_i64() => toml::Value::Integer(n.as_i64().unwrap_or_default()),
        Value::Number(n) => toml::Value::Float(n.as_f64().unwrap_or_default()),
        other => return Err(format!("{other} is not a parameter value")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
defaults:
  timestamp: "2025-03-01T10:15:00Z"
  kind: card-topup
  amount: "1.00"
  currency: KZT
  sender: {account: A, iin: "061211600012"}
  recipient: {account: B}
cases:
  - name: "top-up of {amount}: {action}"
    template:
      transaction: {amount: "{amount}"}
      expect: {action: "{action}", codes: "{codes}"}
    rows:
      - {amount: "500000.00", action: allow, codes: []}
      - {amount: "500000.01", action: verify, codes: [TOPUP_SENDER_IIN_REQUIRED]}
  - name: a sequence with history
    history:
      - {kind: transfer, amount: "5.00"}
    sequence:
      - transaction: {kind: transfer}
        expect: {score: {min: 0, max: 10}}
      - transaction: {kind: transfer, sender: {account: C}}
        expect: {score: 0, requirements: [sender-iin]}
    parameters: {kz-threshold: {topup-threshold: "1.00", topup-confirmation: true}}
    lists: {blocked-vasps: [okx]}
"#;

    fn parsed() -> CaseFile {
        match parse(Path::new("tests/topup.yaml"), FILE) {
            Ok(f) => f,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn tables_expand_into_one_case_per_row_with_typed_values() {
        let file = parsed();
        assert_eq!(file.cases.len(), 3);
        assert_eq!(file.cases[0].name, "top-up of 500000.00: allow");
        assert_eq!(file.cases[1].steps[0].transaction.amount.units, 50_000_001);
        assert_eq!(file.cases[1].steps[0].expect.action, Some(Action::Verify));
        assert_eq!(
            file.cases[1].steps[0].expect.codes,
            vec!["TOPUP_SENDER_IIN_REQUIRED"]
        );
        assert!(file.cases[0].steps[0].expect.codes.is_empty());
    }

    #[test]
    fn transactions_merge_over_defaults_and_get_ids() {
        let file = parsed();
        let seq = &file.cases[2];
        assert_eq!(seq.history.len(), 1);
        assert_eq!(seq.history[0].amount.units, 500);
        assert_eq!(seq.steps.len(), 2);
        assert_eq!(seq.steps[1].transaction.sender.account, "C");
        assert_eq!(
            seq.steps[1].transaction.sender.iin.as_deref(),
            Some("061211600012")
        );
        assert_eq!(seq.steps[0].transaction.id, "topup-3-1");
        assert_eq!(seq.steps[1].expect.score, Some(ScoreExpect::Exact(0)));
        assert_eq!(
            seq.steps[1].expect.requirements,
            Some(vec![Check::SenderIin])
        );
        assert_eq!(seq.lists["blocked-vasps"], vec!["okx"]);
        assert_eq!(
            seq.parameters["kz-threshold"]["topup-confirmation"],
            toml::Value::Boolean(true)
        );
    }

    #[test]
    fn errors_name_the_file_the_case_and_the_field() {
        let text = FILE.replace("amount: \"5.00\"", "amount: 5.5");
        let err = match parse(Path::new("t.yaml"), &text) {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        };
        assert!(err.contains("t.yaml"), "{err}");
        assert!(err.contains("a sequence with history"), "{err}");
        assert!(err.contains("history[0]: field `amount`"), "{err}");
    }

    #[test]
    fn unknown_expectations_are_refused() {
        let text = FILE.replace("expect: {score: 0,", "expect: {scroe: 0,");
        assert!(parse(Path::new("t.yaml"), &text).is_err());
    }
}
