//! The service's OpenAPI document, served at `/openapi.json`, so that a
//! bank's integrators can generate a client in their own language.

use serde_json::{Value, json};

/// The OpenAPI 3.1 document of the service.
pub fn document() -> Value {
    let error = json!({"$ref": "#/components/schemas/Error"});
    let json_body = |schema: Value| json!({"content": {"application/json": {"schema": schema}}});
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "qorgan",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Anti-money-laundering decisions on payments by a signed WebAssembly rule pack. Every decision is in the tamper-evident decision log before it is returned."
        },
        "paths": {
            "/v1/evaluate": {"post": {
                "summary": "Decide one transaction",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Transaction"}}}},
                "responses": {
                    "200": {"description": "The decision, logged. A transaction id decided before with the same body is answered with its original decision and the header qorgan-repeat: true",
                        "headers": {"qorgan-repeat": {"description": "true when the decision is the original of an id decided before", "schema": {"type": "string"}}},
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Decision"}}}},
                    "400": {"description": "The transaction is malformed (the field is named)", "content": {"application/json": {"schema": error}}},
                    "409": {"description": "The transaction id was decided before with a different body (the id is named)", "content": {"application/json": {"schema": error}}},
                    "422": {"description": "The transaction cannot be decided: dated more than max_clock_skew_secs ahead of the host's clock (naming timestamp), or a currency or amount the pack cannot price", "content": {"application/json": {"schema": error}}},
                    "413": {"description": "The body is above max_body_bytes", "content": {"application/json": {"schema": error}}},
                    "503": {"description": "No active pack, or the decision could not be logged (not acknowledged)", "content": {"application/json": {"schema": error}}}
                }
            }},
            "/v1/evaluate/batch": {"post": {
                "summary": "Decide transactions in order: a JSON array, or JSON Lines",
                "requestBody": {"required": true, "content": {
                    "application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Transaction"}}},
                    "application/x-ndjson": {"schema": {"type": "string", "description": "one transaction per line"}}
                }},
                "responses": {
                    "200": {"description": "One item per transaction, in order: its decision, or {index|line, error} for a transaction that was rejected. An array answers an array, JSON Lines answer JSON Lines. A repeated transaction id with the same body holds its original decision with \"repeat\": true, and the header qorgan-repeat counts them.",
                        "content": {
                            "application/json": {"schema": {"type": "array", "items": {"oneOf": [{"$ref": "#/components/schemas/Decision"}, {"$ref": "#/components/schemas/ItemError"}]}}},
                            "application/x-ndjson": {"schema": {"type": "string"}}
                        }},
                    "400": {"description": "Not a JSON array nor JSON Lines, or more transactions than max_batch", "content": {"application/json": {"schema": error}}},
                    "413": {"description": "The body is above max_body_bytes", "content": {"application/json": {"schema": error}}},
                    "503": {"description": "No active pack, or the decisions could not be logged", "content": {"application/json": {"schema": error}}}
                }
            }},
            "/v1/pack": {"get": {
                "summary": "The active pack, where packs come from, and the last refusal",
                "responses": {"200": json_body(json!({"type": "object"}))}
            }},
            "/v1/pack/shadow": {"get": {
                "summary": "Shadow mode: the candidate pack from the shadow source, its activation status, and what it would change against the active pack (decisions compared and changed, alerts before and after, changes by action and by finding code, recent changed transactions)",
                "responses": {
                    "200": json_body(json!({"type": "object", "properties": {
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
                    "404": json_body(error.clone())
                }
            }},
            "/healthz": {"get": {"summary": "The process is up", "responses": {"200": json_body(json!({"type": "object"}))}}},
            "/readyz": {"get": {
                "summary": "Ready: an active, unexpired pack, issued no longer ago than max_pack_age_secs, and a decision log that can be written",
                "responses": {"200": json_body(json!({"type": "object"})), "503": json_body(error)}
            }},
            "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {"description": "text exposition format", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
            "/openapi.json": {"get": {"summary": "This document", "responses": {"200": json_body(json!({"type": "object"}))}}}
        },
        "components": {"schemas": {
            "Transaction": {
                "type": "object",
                "required": ["id", "timestamp", "kind", "amount", "currency", "sender", "recipient"],
                "properties": {
                    "id": {"type": "string"},
                    "timestamp": {"type": "string", "format": "date-time"},
                    "kind": {"enum": ["card-topup", "transfer", "cash-withdrawal", "cash-deposit", "card-payment", "crypto-purchase", "crypto-sale", "other"]},
                    "channel": {"type": "string"},
                    "amount": {"type": "string", "description": "decimal, major units"},
                    "currency": {"type": "string"},
                    "sender": {"$ref": "#/components/schemas/Party"},
                    "recipient": {"$ref": "#/components/schemas/Party"},
                    "remittance": {"type": "string"},
                    "verified": {"type": "array", "items": {"enum": ["sender-iin", "recipient-iin", "app-confirmation", "sms-confirmation", "biometric"]}},
                    "device": {"type": "object"}
                }
            },
            "Party": {"type": "object", "required": ["account"], "properties": {
                "account": {"type": "string"}, "iin": {"type": ["string", "null"]}, "name": {"type": "string"},
                "kind": {"type": "string"}, "bank": {"type": "string"}, "country": {"type": "string"},
                "opened": {"type": "string", "format": "date-time"}, "vasp": {"type": ["string", "null"]}
            }},
            "Decision": {
                "type": "object",
                "required": ["tx", "decision_id", "action", "score", "requirements", "findings", "pack", "elapsed_us"],
                "properties": {
                    "tx": {"type": "string"},
                    "decision_id": {"type": "string"},
                    "action": {"enum": ["allow", "verify", "review", "hold", "block"]},
                    "score": {"type": "integer"},
                    "requirements": {"type": "array", "items": {"type": "string"}},
                    "findings": {"type": "array", "items": {"type": "object", "properties": {
                        "code": {"type": "string"}, "rule": {"type": "string"}, "action": {"type": "string"},
                        "score": {"type": "integer"}, "message": {"type": "string"}, "evidence": {"type": "object"}
                    }}},
                    "pack": {"type": "object", "properties": {"name": {"type": "string"}, "version": {"type": "string"}, "serial": {"type": "integer"}}},
                    "elapsed_us": {"type": "integer"}
                }
            },
            "ItemError": {"type": "object", "required": ["error"], "properties": {
                "index": {"type": "integer", "description": "0-based, for an array"},
                "line": {"type": "integer", "description": "1-based, for JSON Lines"},
                "error": {"type": "string"}
            }},
            "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}
        }}
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_route_is_documented() {
        let doc = super::document();
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
            assert!(doc["paths"][path].is_object(), "{path} is missing");
        }
    }
}
