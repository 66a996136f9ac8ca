//! The transaction's vocabularies as banks send them: a party kind in a
//! bank's own words (`legal-entity`) is read as the contract's kind, and a
//! word the host does not know still gets a decision, at least `review`,
//! with an `UNKNOWN_VOCABULARY` finding naming it. Both in `qorgan eval` and
//! over `qorgan serve`'s HTTP.

use std::time::Duration;

use qorgan_e2e::fixtures::{tempdir, write};
use qorgan_e2e::releases::{built_base, ok};
use qorgan_e2e::service::{Service, post, qorgan};
use serde_json::{Value, json};

/// A transfer between two parties of the given kinds.
fn transfer(id: &str, sender_kind: &str, recipient_kind: &str, kind: &str) -> String {
    json!({
        "id": id,
        "timestamp": "2025-03-01T10:15:00Z",
        "kind": kind,
        "channel": "internet-banking",
        "amount": "120000.00",
        "currency": "KZT",
        "sender": {"account": format!("KZ-S-{id}"), "kind": sender_kind},
        "recipient": {"account": format!("KZ-R-{id}"), "kind": recipient_kind},
        "remittance": "оплата по договору",
    })
    .to_string()
}

/// The cases: (transaction, the unknown word expected in a finding, if any).
fn cases() -> Vec<(String, Option<(&'static str, &'static str)>)> {
    vec![
        (
            transfer("le-sender", "legal-entity", "individual", "transfer"),
            None,
        ),
        (
            transfer("le-recipient", "individual", "legal-entity", "transfer"),
            None,
        ),
        (
            transfer("le-both", "Legal_Entity", "government-body", "transfer"),
            None,
        ),
        (
            transfer(
                "ip-non-profit",
                "individual-entrepreneur",
                "non-profit",
                "transfer",
            ),
            None,
        ),
        (
            transfer("trust", "individual", "trust", "transfer"),
            Some(("recipient.kind", "trust")),
        ),
        (
            transfer("new-kind", "individual", "individual", "sbp-transfer"),
            Some(("kind", "sbp-transfer")),
        ),
    ]
}

fn codes(decision: &Value) -> Vec<&str> {
    decision["findings"]
        .as_array()
        .map(|f| f.iter().filter_map(|x| x["code"].as_str()).collect())
        .unwrap_or_default()
}

/// Checks one decision against its case.
fn check(decision: &Value, unknown: Option<(&str, &str)>) {
    let action = decision["action"].as_str().unwrap_or("");
    match unknown {
        None => {
            assert_eq!(action, "allow", "{decision}");
            assert!(
                !codes(decision).contains(&"UNKNOWN_VOCABULARY"),
                "{decision}"
            );
        }
        Some((field, word)) => {
            assert!(
                ["review", "hold", "block"].contains(&action),
                "an unknown word is at least review: {decision}"
            );
            let Some(finding) = decision["findings"]
                .as_array()
                .and_then(|f| f.iter().find(|x| x["code"] == "UNKNOWN_VOCABULARY"))
            else {
                panic!("no UNKNOWN_VOCABULARY: {decision}");
            };
            assert_eq!(finding["action"], "review", "{finding}");
            assert_eq!(finding["evidence"]["field"], field, "{finding}");
            assert_eq!(finding["evidence"]["word"], word, "{finding}");
            assert!(
                finding["message"].as_str().unwrap_or("").contains(word),
                "{finding}"
            );
        }
    }
}

#[test]
fn bank_words_for_party_kinds_are_decided_and_unknown_words_are_reviewed_naming_the_word_in_eval() {
    let dir = tempdir();
    let cases = cases();
    let input = dir.path().join("in.jsonl");
    let lines: Vec<&str> = cases.iter().map(|(tx, _)| tx.as_str()).collect();
    write(&input, (lines.join("\n") + "\n").as_bytes());
    let (code, out, err) = qorgan(&[
        "eval",
        "--pack",
        &built_base().display().to_string(),
        "--input",
        &input.display().to_string(),
    ]);
    assert_eq!(code, 0, "every line is decided: {out}{err}");
    let decisions: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or(Value::Null))
        .collect();
    assert_eq!(decisions.len(), cases.len(), "{out}");
    for (decision, (_, unknown)) in decisions.iter().zip(&cases) {
        check(decision, *unknown);
    }
}

#[test]
fn bank_words_for_party_kinds_are_decided_and_unknown_words_are_reviewed_naming_the_word_over_http()
{
    let state = tempdir();
    let args = [
        "--pack".to_owned(),
        built_base().display().to_string(),
        "--state-dir".to_owned(),
        state.path().display().to_string(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let service = Service::start(&args, &[], &state.path().join("stderr"));
    service.wait_ready(Duration::from_secs(300));
    for (tx, unknown) in cases() {
        let answer = ok(post(service.address, "/v1/evaluate", &tx), "evaluate");
        assert_eq!(answer.status, 200, "{tx}: {}", answer.body);
        check(&answer.json(), unknown);
    }
}
