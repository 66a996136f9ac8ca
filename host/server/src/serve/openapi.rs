//! The service's OpenAPI 3.1 document, served at `/openapi.json`, and the
//! JSON Schemas of the transaction and the decision published in
//! `docs/schemas/`.
//!
//! # One source
//!
//! The schemas are built here from the parser's own lists and limits
//! (`TxKind::ALL`, `Check::ALL`, `PartyKind::ALL`, `Action::ALL`,
//! `MAX_SCALE`), and the served document from the active pack too (the
//! currencies it can price) and the limits in force (`max_batch`). The
//! tests check that the published files are what this module writes, and
//! that the reference transactions are valid while each kind of input the
//! parser refuses is not (`tests/e2e/service_contract.rs` runs
//! schemathesis against the served document).
//!
//! A transaction valid by the schema is decided (200), except where the
//! answer depends on state no schema can state: an id decided before with
//! another body (409), and a date further ahead of the host's clock than
//! `max_clock_skew_secs` (422; the schema's years end in 2025, so no valid
//! example is in the future). Where the parser accepts more than the
//! schema says (years after 2025, days 29 to 31, amounts above ten digits
//! before the point, a currency in lower case), the schema is the
//! contract an integrator can rely on.

use serde_json::{Value, json};

use qorgan::decision::Action;
use qorgan::transaction::{
    CHANNEL_SYNONYMS, Channel, Check, MAX_SCALE, PARTY_KIND_SYNONYMS, PartyKind, TxKind,
};

/// What the served document depends on.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The currencies the active pack can price; empty: any code the
    /// parser accepts.
    pub currencies: Vec<String>,
    /// The most transactions in one batch (0: unstated).
    pub max_batch: usize,
    /// Whether the routes need a credential (security is then declared).
    pub authenticates: bool,
}

/// An RFC 3339 time as the schema states it: years 1971 to 2025 (so that
/// no offset can put it before 1970, which the parser refuses), days 1 to
/// 28 (every month has them), seconds with up to nine fraction digits, `Z`
/// or an offset.
pub const TIME_PATTERN: &str = "^(197[1-9]|19[89][0-9]|20[01][0-9]|202[0-5])-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9])$";

/// The most digits before the decimal point the schema states for an
/// amount: with `MAX_SCALE` fraction digits it stays within the parser's
/// range, and converted to tiyn at any rate up to 9,000,000 tenge a unit
/// it fits the engine's.
pub const AMOUNT_WHOLE_DIGITS: usize = 10;

fn names<T: std::fmt::Display>(all: &[T]) -> Vec<Value> {
    all.iter().map(|v| Value::String(v.to_string())).collect()
}

/// `^(?:[Kk][Zz][Tt]|…)$`: the currencies, as the parser reads them (it
/// upper-cases what it is given).
fn currency_pattern(currencies: &[String]) -> String {
    if currencies.is_empty() {
        return "^[A-Za-z0-9]{3,10}$".into();
    }
    let alternatives: Vec<String> = currencies
        .iter()
        .map(|code| {
            code.chars()
                .map(|c| {
                    if c.is_ascii_alphabetic() {
                        format!("[{}{}]", c.to_ascii_uppercase(), c.to_ascii_lowercase())
                    } else {
                        c.to_string()
                    }
                })
                .collect()
        })
        .collect();
    format!("^(?:{})$", alternatives.join("|"))
}

/// A string or `null` (an optional field the parser reads as absent when
/// null).
fn nullable_string() -> Value {
    json!({"type": ["string", "null"]})
}

/// A vocabulary's words, comma-separated, for a description.
fn words<T: std::fmt::Display>(all: &[T]) -> String {
    all.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Synonyms as `word = canonical`, comma-separated, for a description.
fn synonyms<T: std::fmt::Display>(table: &[(&str, T)]) -> String {
    table
        .iter()
        .map(|(word, canonical)| format!("{word} = {canonical}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The transaction's schemas: `Transaction` and `Party`, referring to each
/// other under `refs` (`#/components/schemas/` or `#/$defs/`).
pub fn transaction_schemas(context: &Context, refs: &str) -> (Value, Value) {
    let party_ref = json!({"$ref": format!("{refs}Party")});
    let amount_pattern = format!("^[0-9]{{1,{AMOUNT_WHOLE_DIGITS}}}(\\.[0-9]{{1,{MAX_SCALE}}})?$");
    let currency_description = if context.currencies.is_empty() {
        "An ISO 4217 code (or a digital asset's ticker), 3 to 10 letters or digits; the active pack must have an exchange rate for it (422 otherwise).".to_owned()
    } else {
        format!(
            "A currency the active pack can price: {} (in any letter case).",
            context.currencies.join(", ")
        )
    };
    let transaction = json!({
        "title": "Transaction",
        "description": "One payment (docs/contracts.md, Transaction JSON). Fields not listed are ignored. A key may appear once in each object.",
        "type": "object",
        "required": ["id", "timestamp", "kind", "amount", "currency", "sender", "recipient"],
        "properties": {
            "id": {"type": "string", "minLength": 1, "description": "The bank's transaction id; a repeat with the same body is answered with the original decision, with another body 409."},
            "timestamp": {"type": "string", "pattern": TIME_PATTERN, "description": "When it happened, RFC 3339 (date-time), not before 1970-01-01T00:00:00Z. The service refuses a time more than max_clock_skew_secs ahead of its clock (422)."},
            "kind": {"type": "string", "description": format!("One of {}; compared without regard to case, `_` or spaces. Any other word is decided as `other` with an UNKNOWN_VOCABULARY finding (review).", words(TxKind::ALL))},
            "channel": {"type": ["string", "null"], "description": format!("One of {}, or a synonym: {}. Any other word is decided as `other` with an UNKNOWN_VOCABULARY finding (review).", words(Channel::ALL), synonyms(CHANNEL_SYNONYMS))},
            "amount": {"type": "string", "pattern": amount_pattern, "description": format!("A non-negative decimal in major units, at most {MAX_SCALE} fraction digits, as a string (not a JSON number).")},
            "currency": {"type": "string", "pattern": currency_pattern(&context.currencies), "description": currency_description},
            "sender": party_ref.clone(),
            "recipient": party_ref,
            "remittance": nullable_string(),
            "verified": {"type": ["array", "null"], "items": {"type": "string"}, "description": format!("Checks the bank has already done: {}. A word the host does not know is not credited, and named in an UNKNOWN_VOCABULARY finding (review).", words(Check::ALL))},
            "device": {"type": ["object", "null"], "properties": {"id": nullable_string(), "ip": nullable_string()}}
        }
    });
    let party = json!({
        "title": "Party",
        "type": "object",
        "required": ["account"],
        "properties": {
            "account": {"type": "string", "pattern": "\\S", "description": "An IBAN or a card reference; not blank."},
            "iin": {"type": ["string", "null"], "description": "The IIN or BIN as given; a rule checks it."},
            "name": nullable_string(),
            "kind": {"type": ["string", "null"], "description": format!("One of {}, or a synonym: {}. Absent or blank reads as unknown; any other word is decided as `unknown` with an UNKNOWN_VOCABULARY finding (review).", words(PartyKind::ALL), synonyms(PARTY_KIND_SYNONYMS))},
            "bank": nullable_string(),
            "country": nullable_string(),
            "opened": {"type": ["string", "null"], "pattern": TIME_PATTERN, "description": "When the account was opened, RFC 3339."},
            "vasp": nullable_string(),
            "income": {"type": ["string", "null"], "pattern": "^[0-9]{1,10}(\\.[0-9]{1,2})?$", "description": "Declared monthly income in tenge."}
        }
    });
    (transaction, party)
}

/// The decision's schemas: `Decision` and `Finding`, under `refs`.
pub fn decision_schemas(refs: &str) -> (Value, Value) {
    let checks = json!({"type": "array", "items": {"type": "string", "enum": names(Check::ALL)}});
    let actions = json!({"type": "string", "enum": names(Action::ALL)});
    let decision = json!({
        "title": "Decision",
        "description": "The decision on one transaction (docs/contracts.md, Decision JSON), logged before it is returned.",
        "type": "object",
        "required": ["tx", "decision_id", "action", "score", "requirements", "findings", "pack", "elapsed_us"],
        "properties": {
            "tx": {"type": "string", "minLength": 1},
            "decision_id": {"type": "string", "pattern": "^[0-9A-HJKMNP-TV-Z]{26}$", "description": "A ULID."},
            "action": actions.clone(),
            "score": {"type": "integer", "minimum": 0},
            "requirements": checks.clone(),
            "findings": {"type": "array", "items": {"$ref": format!("{refs}Finding")}},
            "pack": {"type": "object", "required": ["name", "version", "serial"], "properties": {
                "name": {"type": "string"}, "version": {"type": "string"}, "serial": {"type": "integer", "minimum": 0}
            }},
            "elapsed_us": {"type": "integer", "minimum": 0},
            "repeat": {"type": "boolean", "description": "In a batch: the original decision of an id decided before with the same body."}
        }
    });
    let finding = json!({
        "title": "Finding",
        "type": "object",
        "required": ["code", "rule", "action", "score", "message", "evidence"],
        "properties": {
            "code": {"type": "string"},
            "rule": {"type": "string", "description": "id@version"},
            "action": actions,
            "score": {"type": "integer", "minimum": 0},
            "requirements": checks,
            "message": {"type": "string"},
            "evidence": {"type": "object", "additionalProperties": {"type": "string"}}
        }
    });
    (decision, finding)
}

/// The published JSON Schema (2020-12) of the transaction.
pub fn transaction_json_schema() -> Value {
    let (mut transaction, party) = transaction_schemas(&Context::default(), "#/$defs/");
    if let Some(object) = transaction.as_object_mut() {
        object.insert(
            "$schema".into(),
            json!("https://json-schema.org/draft/2020-12/schema"),
        );
        object.insert("$defs".into(), json!({"Party": party}));
    }
    transaction
}

/// The published JSON Schema (2020-12) of the decision.
pub fn decision_json_schema() -> Value {
    let (mut decision, finding) = decision_schemas("#/$defs/");
    if let Some(object) = decision.as_object_mut() {
        object.insert(
            "$schema".into(),
            json!("https://json-schema.org/draft/2020-12/schema"),
        );
        object.insert("$defs".into(), json!({"Finding": finding}));
    }
    decision
}

/// The OpenAPI 3.1 document of the service.
pub fn document(context: &Context) -> Value {
    let error = |description: &str| json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let object = |description: &str| json!({"description": description, "content": {"application/json": {"schema": {"type": "object"}}}});
    let described = |description: &str, schema: Value| json!({"description": description, "content": {"application/json": {"schema": schema}}});
    let (transaction, party) = transaction_schemas(context, "#/components/schemas/");
    let (decision, finding) = decision_schemas("#/components/schemas/");
    let mut batch_array = json!({"type": "array", "minItems": 1, "items": {"anyOf": [
        {"$ref": "#/components/schemas/Transaction"},
        {"description": "Any other value: it is answered by an ItemError in its place, and the other items are decided."}
    ]}});
    if context.max_batch > 0
        && let Some(array) = batch_array.as_object_mut()
    {
        array.insert("maxItems".into(), json!(context.max_batch));
    }
    let unauthorized = error("No credential, or a bearer token this service does not grant");
    let forbidden = error("The credential does not have the role this operation needs");
    let security = |role: &str| {
        if context.authenticates {
            json!([{"bearer": [role]}, {"mutualTLS": [role]}])
        } else {
            json!([])
        }
    };
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "qorgan",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Anti-money-laundering decisions on payments by a signed WebAssembly rule pack. Every decision is in the tamper-evident decision log before it is returned. Every error body is {\"error\": \"...\"} naming what was wrong, unknown routes (404) and methods (405) included. Credentials: a bearer token or a client certificate with the role an operation names (decide, operate); /healthz, /readyz and /openapi.json need none."
        },
        "paths": {
            "/v1/evaluate": {"post": {
                "operationId": "evaluate",
                "summary": "Decide one transaction",
                "security": security("decide"),
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Transaction"}}}},
                "responses": {
                    "200": {"description": "The decision, logged. A transaction id decided before with the same body is answered with its original decision and the header qorgan-repeat: true",
                        "headers": {"qorgan-repeat": {"description": "true when the decision is the original of an id decided before", "schema": {"type": "string"}}},
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Decision"}}}},
                    "400": error("The body is not a transaction: not JSON, a repeated key, a missing or malformed field (each named)"),
                    "401": unauthorized.clone(),
                    "403": forbidden.clone(),
                    "408": error("The body did not arrive within body_read_timeout_ms"),
                    "409": error("The transaction id was decided before with a different body (the id is named)"),
                    "413": error("The body is above max_body_bytes"),
                    "415": error("The Content-Type is not application/json"),
                    "422": error("The transaction cannot be decided: dated more than max_clock_skew_secs ahead of the host's clock (naming timestamp), or a currency or amount the active pack cannot price"),
                    "503": error("No active pack, the decision could not be logged (not acknowledged), its id is journaled and its decision not made yet (ask again), or it took longer than request_timeout_ms")
                }
            }},
            "/v1/evaluate/batch": {"post": {
                "operationId": "evaluateBatch",
                "summary": "Decide transactions in order: a JSON array, or JSON Lines",
                "security": security("decide"),
                "requestBody": {"required": true, "content": {
                    "application/json": {"schema": batch_array},
                    "application/x-ndjson": {"schema": {"type": "string", "description": "One transaction per line; a line that is not a transaction (not UTF-8, not JSON, a repeated key, a bad field) is answered by an ItemError naming its line, the others are decided."}}
                }},
                "responses": {
                    "200": {"description": "One item per transaction, in order: its decision, or an ItemError ({index|line, error}) for one that was rejected. An array answers an array, JSON Lines answer JSON Lines. A repeated transaction id with the same body holds its original decision with \"repeat\": true, and the header qorgan-repeat counts them.",
                        "headers": {"qorgan-repeat": {"description": "How many items are original decisions of ids decided before", "schema": {"type": "string"}}},
                        "content": {
                            "application/json": {"schema": {"type": "array", "items": {"anyOf": [{"$ref": "#/components/schemas/Decision"}, {"$ref": "#/components/schemas/ItemError"}]}}},
                            "application/x-ndjson": {"schema": {"type": "string"}}
                        }},
                    "400": error("An application/json body that is not a JSON array, an empty batch, or more transactions than max_batch"),
                    "401": unauthorized.clone(),
                    "403": forbidden.clone(),
                    "408": error("The body did not arrive within body_read_timeout_ms"),
                    "413": error("The body is above max_body_bytes"),
                    "415": error("The Content-Type is neither application/json nor application/x-ndjson"),
                    "503": error("No active pack, the decisions could not be logged, or they took longer than request_timeout_ms")
                }
            }},
            "/v1/pack": {"get": {
                "operationId": "pack",
                "summary": "The active pack, where packs come from, and the last refusal",
                "security": security("operate"),
                "responses": {"200": object("The active pack and the activator's status"), "401": unauthorized.clone(), "403": forbidden.clone()}
            }},
            "/v1/pack/shadow": {"get": {
                "operationId": "packShadow",
                "security": security("operate"),
                "summary": "Shadow mode: the candidate pack from the shadow source, its activation status, and what it would change against the active pack (decisions compared and changed, alerts before and after, changes by action and by finding code, recent changed transactions)",
                "responses": {
                    "200": described("What the candidate would change against the active pack", json!({"type": "object", "properties": {
                        "source": {"type": "object"},
                        "candidate": {"type": ["object", "null"], "description": "the candidate deciding in shadow, as /v1/pack's active"},
                        "compared_with": {"type": ["object", "null"], "description": "the candidate the counts are about (name, version, serial)"},
                        "status": {"type": "object", "description": "the shadow activator's status, as /v1/pack's"},
                        "decided": {"type": "integer"},
                        "changed": {"type": "integer"},
                        "alerts": {"type": "object", "properties": {
                            "before": {"type": "integer"}, "after": {"type": "integer"},
                            "per_1000_before": {"type": "number"}, "per_1000_after": {"type": "number"}}},
                        "actions": {"type": "array", "items": {"type": "object", "properties": {
                            "before": {"type": "string"}, "after": {"type": "string"}, "count": {"type": "integer"}}}},
                        "codes": {"type": "array", "items": {"type": "object", "properties": {
                            "code": {"type": "string"}, "before": {"type": ["string", "null"]},
                            "after": {"type": ["string", "null"]}, "count": {"type": "integer"}}}},
                        "undecided": {"type": "integer"},
                        "skipped": {"type": "object", "properties": {"batches": {"type": "integer"}, "transactions": {"type": "integer"}}},
                        "without_candidate": {"type": "integer"},
                        "recent": {"type": "array", "items": {"type": "object"}}
                    }})),
                    "401": unauthorized.clone(),
                    "403": forbidden.clone(),
                    "404": error("No shadow pack source is configured")
                }
            }},
            "/healthz": {"get": {"operationId": "healthz", "summary": "The process is up; quarantined plugins make it degraded", "security": [],
                "responses": {"200": object("ok, or degraded naming quarantined plugins")}}},
            "/readyz": {"get": {
                "operationId": "readyz",
                "summary": "Ready: an active, unexpired pack, issued no longer ago than max_pack_age_secs, and a decision log that can be written",
                "security": [],
                "responses": {"200": object("ready, or degraded by memory"), "503": error("Not ready, and why")}
            }},
            "/metrics": {"get": {"operationId": "metrics", "summary": "Prometheus metrics", "security": security("operate"),
                "responses": {
                    "200": {"description": "The Prometheus text exposition format", "content": {"text/plain": {"schema": {"type": "string"}}}},
                    "401": unauthorized,
                    "403": forbidden
                }}},
            "/openapi.json": {"get": {"operationId": "openapi", "summary": "This document", "security": [],
                "responses": {"200": object("The OpenAPI 3.1 document")}}}
        },
        "components": {
            "schemas": {
                "Transaction": transaction,
                "Party": party,
                "Decision": decision,
                "Finding": finding,
                "ItemError": {"type": "object", "required": ["error"], "properties": {
                    "index": {"type": "integer", "minimum": 0, "description": "0-based, for an array"},
                    "line": {"type": "integer", "minimum": 1, "description": "1-based, for JSON Lines"},
                    "error": {"type": "string"}
                }},
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}
            },
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "A token whose SHA-256 the configuration grants (qorgan hash-token)"},
                "mutualTLS": {"type": "mutualTLS", "description": "A client certificate chaining to tls_client_ca whose SHA-256 the configuration grants"}
            }
        }
    });
    if !context.authenticates
        && let Some(components) = doc["components"].as_object_mut()
    {
        components.remove("securitySchemes");
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_documented_with_an_operation_id_and_described_responses() {
        let doc = document(&Context::default());
        for path in [
            "/v1/evaluate",
            "/v1/evaluate/batch",
            "/v1/pack",
            "/v1/pack/shadow",
            "/healthz",
            "/readyz",
            "/metrics",
            "/openapi.json",
        ] {
            let Some(item) = doc["paths"][path].as_object() else {
                panic!("{path} is missing");
            };
            for (method, operation) in item {
                assert!(operation["operationId"].is_string(), "{method} {path}");
                let Some(responses) = operation["responses"].as_object() else {
                    panic!("{method} {path} has no responses");
                };
                for (status, response) in responses {
                    assert!(
                        response["description"].is_string(),
                        "{method} {path} {status} has no description"
                    );
                }
            }
        }
    }

    #[test]
    fn the_vocabularies_are_the_parsers_own_and_any_word_is_accepted() {
        let (transaction, party) = transaction_schemas(&Context::default(), "#/");
        let described = |schema: &Value| schema["description"].as_str().unwrap_or("").to_owned();
        let kind = &transaction["properties"]["kind"];
        assert_eq!(kind["type"], "string");
        assert!(kind.get("enum").is_none());
        assert!(
            TxKind::ALL
                .iter()
                .all(|k| described(kind).contains(k.as_str()))
        );
        let party_kind = &party["properties"]["kind"];
        assert_eq!(party_kind["type"], json!(["string", "null"]));
        for (word, _) in PARTY_KIND_SYNONYMS {
            assert!(described(party_kind).contains(word), "{word}");
        }
        let checks = &transaction["properties"]["verified"];
        assert!(
            Check::ALL
                .iter()
                .all(|c| described(checks).contains(c.as_str()))
        );
        let (decision, _) = decision_schemas("#/");
        assert_eq!(
            decision["properties"]["action"]["enum"],
            json!(["allow", "verify", "review", "hold", "block"])
        );
    }

    #[test]
    fn the_currencies_are_the_active_packs_in_any_case() {
        let pattern = currency_pattern(&["KZT".into(), "USD".into()]);
        assert_eq!(pattern, "^(?:[Kk][Zz][Tt]|[Uu][Ss][Dd])$");
    }

    /// The files in docs/schemas are what this module writes; with
    /// `QORGAN_WRITE_SCHEMAS=1` the test writes them.
    #[test]
    fn the_published_schemas_are_generated_from_the_parsers_lists() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/schemas");
        for (file, schema) in [
            ("transaction.schema.json", transaction_json_schema()),
            ("decision.schema.json", decision_json_schema()),
        ] {
            let path = dir.join(file);
            let text = match serde_json::to_string_pretty(&schema) {
                Ok(t) => t + "\n",
                Err(e) => panic!("{e}"),
            };
            if std::env::var_os("QORGAN_WRITE_SCHEMAS").is_some() {
                if let Err(e) =
                    std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, &text))
                {
                    panic!("cannot write {}: {e}", path.display());
                }
                continue;
            }
            let published = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                published == text,
                "{} is not what openapi.rs writes; run the test with QORGAN_WRITE_SCHEMAS=1",
                path.display()
            );
        }
    }
}
