//! The backtest's metrics on hand-made decisions and labels.

use std::time::Duration;

use super::*;
use qorgan::decision::{Evidence, Finding};
use qorgan::transaction::Checks;

fn tx(sender: &str, recipient: &str) -> Transaction {
    let json = serde_json::json!({
        "id": "tx-1", "timestamp": "2025-03-01T10:00:00Z", "kind": "transfer",
        "amount": "1000.00", "currency": "KZT",
        "sender": {"account": sender}, "recipient": {"account": recipient},
    });
    match Transaction::from_value(&json) {
        Ok(tx) => tx,
        Err(e) => panic!("bad fixture: {e}"),
    }
}

fn finding(code: &str, action: Action, side: Option<&str>) -> Finding {
    Finding {
        code: code.to_owned(),
        rule: "r@1.0.0".to_owned(),
        action,
        score: 10,
        requirements: Checks::NONE,
        message: String::new(),
        evidence: Evidence(
            side.map(|s| vec![("side".to_owned(), s.to_owned())])
                .unwrap_or_default(),
        ),
    }
}

fn decision(findings: Vec<Finding>) -> Decision {
    let action = findings
        .iter()
        .map(|f| f.action)
        .max()
        .unwrap_or(Action::Allow);
    Decision {
        tx: "tx-1".to_owned(),
        decision_id: "01J".to_owned(),
        action,
        score: 0,
        requirements: Checks::NONE,
        findings,
        pack: PackRef {
            name: "p".to_owned(),
            version: "1".to_owned(),
            serial: 1,
        },
        elapsed_us: 1,
    }
}

fn truth(sender: Role, recipient: Role) -> Option<Truth> {
    Some(Truth { sender, recipient })
}

const P2P: &str = "P2P_EXCHANGER_PATTERN";
const STRUCT: &str = "STRUCTURING_NEAR_THRESHOLD";

fn score(scorer: &Scorer) -> Report {
    scorer.report(Duration::from_secs(2), None)
}

#[test]
fn precision_and_recall_count_accounts_not_transactions() {
    let mut s = Scorer::new();
    // Exchanger E1 flagged twice as the recipient: one true positive.
    for _ in 0..2 {
        s.observe(
            &tx("C1", "E1"),
            truth(Role::Customer, Role::Exchanger),
            &decision(vec![finding(P2P, Action::Hold, Some("recipient"))]),
        );
    }
    // A customer flagged as the sender: a false positive.
    s.observe(
        &tx("C2", "X1"),
        truth(Role::Customer, Role::External),
        &decision(vec![finding(P2P, Action::Hold, Some("sender"))]),
    );
    // Exchanger E2 seen but never flagged: a false negative.
    s.observe(
        &tx("E2", "X2"),
        truth(Role::Exchanger, Role::External),
        &decision(vec![]),
    );
    let report = score(&s);
    let Some(e) = report.typology("exchanger") else {
        panic!("no exchanger row");
    };
    assert_eq!((e.flagged, e.actual, e.tp, e.fp, e.fn_), (2, 2, 1, 1, 1));
    assert_eq!(e.precision, Some(0.5));
    assert_eq!(e.recall, Some(0.5));
}

#[test]
fn the_subject_is_the_sender_unless_evidence_names_the_recipient() {
    let mut s = Scorer::new();
    // Structuring has no `side`: the sender S1 is the subject, not R1.
    s.observe(
        &tx("S1", "R1"),
        truth(Role::Structurer, Role::Customer),
        &decision(vec![finding(STRUCT, Action::Review, None)]),
    );
    let report = score(&s);
    let Some(t) = report.typology("structuring") else {
        panic!("no structuring row");
    };
    assert_eq!((t.tp, t.fp, t.fn_), (1, 0, 0));
    assert_eq!(t.precision, Some(1.0));
    // The customer recipient was not the subject, so it is not flagged.
    assert_eq!(report.legitimate.flagged, 0);
}

#[test]
fn nothing_flagged_has_no_precision_and_no_accounts_no_recall() {
    let mut s = Scorer::new();
    s.observe(
        &tx("M1", "C1"),
        truth(Role::Mule, Role::Customer),
        &decision(vec![]),
    );
    let report = score(&s);
    let Some(m) = report.typology("mule") else {
        panic!("no mule row");
    };
    assert_eq!((m.flagged, m.actual, m.fn_), (0, 1, 1));
    assert_eq!(m.precision, None);
    assert_eq!(m.recall, Some(0.0));
    let Some(x) = report.typology("exchanger") else {
        panic!("no exchanger row");
    };
    assert_eq!(x.recall, None);
    let json: Value = serde_json::from_str(&report.to_json()).unwrap_or_default();
    assert!(json["typologies"]["mule"]["precision"].is_null());
    assert_eq!(json["typologies"]["mule"]["recall"], 0.0);
    assert_eq!(json["typologies"]["mule"]["fn"], 1);
}

#[test]
fn legitimate_accounts_count_as_flagged_only_for_review_or_stronger() {
    let mut s = Scorer::new();
    // A merchant sent to review as the recipient: flagged.
    s.observe(
        &tx("X1", "MER"),
        truth(Role::External, Role::Merchant),
        &decision(vec![finding("ANY", Action::Review, Some("recipient"))]),
    );
    // A customer asked only to verify: not flagged.
    s.observe(
        &tx("C1", "X2"),
        truth(Role::Customer, Role::External),
        &decision(vec![finding("TOPUP", Action::Verify, None)]),
    );
    // A student blocked: flagged.
    s.observe(
        &tx("ST", "X3"),
        truth(Role::Student, Role::External),
        &decision(vec![finding("VASP", Action::Block, None)]),
    );
    // An external account held as the subject: counted nowhere.
    s.observe(
        &tx("X4", "C1"),
        truth(Role::External, Role::Customer),
        &decision(vec![finding("ANY", Action::Hold, None)]),
    );
    let report = score(&s);
    let l = &report.legitimate;
    assert_eq!((l.accounts, l.flagged), (3, 2));
    let share = |role: Role| {
        l.roles
            .iter()
            .find(|r| r.role == role)
            .map(|r| (r.accounts, r.flagged, r.share))
    };
    assert_eq!(share(Role::Merchant), Some((1, 1, Some(1.0))));
    assert_eq!(share(Role::Customer), Some((1, 0, Some(0.0))));
    assert_eq!(share(Role::Student), Some((1, 1, Some(1.0))));
    assert_eq!(share(Role::Payroll), Some((0, 0, None)));
}

#[test]
fn actions_alerts_and_rule_hits_are_counted() {
    let mut s = Scorer::new();
    s.observe(&tx("A", "B"), None, &decision(vec![]));
    s.observe(
        &tx("A", "B"),
        None,
        &decision(vec![finding(STRUCT, Action::Review, None)]),
    );
    s.observe(
        &tx("A", "B"),
        None,
        &decision(vec![
            finding(P2P, Action::Hold, Some("sender")),
            finding(STRUCT, Action::Review, None),
        ]),
    );
    s.observe(
        &tx("A", "B"),
        None,
        &decision(vec![finding("V", Action::Verify, None)]),
    );
    let report = score(&s);
    assert_eq!(report.transactions, 4);
    assert_eq!(report.unlabelled, 4);
    assert_eq!(report.actions.allow, 1);
    assert_eq!(report.actions.verify, 1);
    assert_eq!(report.actions.review, 1);
    assert_eq!(report.actions.hold, 1);
    assert_eq!(report.alerts, 2);
    assert_eq!(report.alerts_per_1000, 500.0);
    assert_eq!(report.tx_per_s, 2.0);
    let hits: Vec<(&str, u64)> = report
        .rules
        .iter()
        .map(|r| (r.code.as_str(), r.hits))
        .collect();
    assert_eq!(hits, vec![(STRUCT, 2), (P2P, 1), ("V", 1)]);
    // Unlabelled accounts are scored nowhere.
    assert_eq!(report.typology("structuring").map(|t| t.flagged), Some(0));
}

#[test]
fn conflicting_labels_keep_the_first_and_are_counted() {
    let mut s = Scorer::new();
    s.observe(
        &tx("A", "B"),
        truth(Role::Mule, Role::Customer),
        &decision(vec![]),
    );
    s.observe(
        &tx("A", "B"),
        truth(Role::Customer, Role::Customer),
        &decision(vec![]),
    );
    let report = score(&s);
    assert_eq!(report.label_conflicts, 1);
    assert_eq!(report.typology("mule").map(|m| m.actual), Some(1));
}

#[test]
fn rejected_lines_are_counted_and_the_first_few_listed_in_order() {
    let mut s = Scorer::new();
    for line in [9, 3, 12, 7, 5, 1, 20] {
        s.reject(line, format!("bad {line}"));
    }
    let report = score(&s);
    assert_eq!(report.rejected, 7);
    let listed: Vec<u64> = report.rejected_lines.iter().map(|r| r.line).collect();
    assert_eq!(listed, vec![1, 3, 5, 7, 9]);
    assert!(report.to_string().contains("line 1: bad 1"));
}

#[test]
fn truth_is_read_only_when_both_roles_are_known() {
    let line = |truth: Value| serde_json::json!({ "truth": truth });
    assert_eq!(
        Truth::from_transaction(&line(
            serde_json::json!({"sender": "mule", "recipient": "external"})
        )),
        truth(Role::Mule, Role::External)
    );
    assert_eq!(
        Truth::from_transaction(&line(serde_json::json!({"sender": "mule"}))),
        None
    );
    assert_eq!(
        Truth::from_transaction(&line(
            serde_json::json!({"sender": "mule", "recipient": "alien"})
        )),
        None
    );
    assert_eq!(Truth::from_transaction(&serde_json::json!({})), None);
}

#[test]
fn json_report_has_stable_keys_and_numbers() {
    let mut s = Scorer::new();
    s.observe(
        &tx("E1", "C1"),
        truth(Role::Exchanger, Role::Customer),
        &decision(vec![finding(P2P, Action::Hold, Some("sender"))]),
    );
    let json: Value = serde_json::from_str(&score(&s).to_json()).unwrap_or_default();
    for key in ["mule", "exchanger", "structuring"] {
        assert!(json["typologies"][key].is_object(), "{key}");
    }
    assert_eq!(json["typologies"]["exchanger"]["precision"], 1.0);
    assert_eq!(
        json["typologies"]["exchanger"]["codes"],
        serde_json::json!([P2P])
    );
    assert_eq!(json["legitimate"]["roles"]["customer"]["accounts"], 1);
    assert_eq!(json["actions"]["hold"], 1);
    assert!(json["alerts_per_1000"].is_number());
    assert!(json["elapsed_s"].is_number());
}

#[test]
fn a_finding_about_a_network_flags_every_account_its_evidence_names() {
    let mut s = Scorer::new();
    let mut about_three = finding(P2P, Action::Review, Some("sender"));
    about_three
        .evidence
        .0
        .push(("accounts".to_owned(), "E1, E2, C9".to_owned()));
    s.observe(
        &tx("E1", "X1"),
        truth(Role::Exchanger, Role::External),
        &decision(vec![about_three]),
    );
    for (account, role) in [("E2", Role::Exchanger), ("C9", Role::Customer)] {
        s.observe(
            &tx(account, "X2"),
            truth(role, Role::External),
            &decision(vec![]),
        );
    }
    let report = score(&s);
    let Some(e) = report.typology("exchanger") else {
        panic!("no exchanger row");
    };
    // E1 (the sender) and E2 are exchangers; C9 was named but is not one.
    assert_eq!((e.flagged, e.tp, e.fp), (3, 2, 1));
}

#[test]
fn transactions_before_the_score_from_time_are_history_not_scored() {
    // tx() is dated 2025-03-01T10:00:00Z.
    let mut s = Scorer::scoring_from(1_740_823_200 + 1);
    s.observe(
        &tx("C1", "E1"),
        truth(Role::Customer, Role::Exchanger),
        &decision(vec![finding(P2P, Action::Hold, Some("recipient"))]),
    );
    let report = score(&s);
    assert_eq!(
        (report.history, report.transactions, report.lines),
        (1, 0, 0)
    );
    let Some(e) = report.typology("exchanger") else {
        panic!("no exchanger row");
    };
    // E1 was neither seen nor flagged in the scored period.
    assert_eq!((e.flagged, e.actual), (0, 0));
    assert_eq!(report.actions.hold, 0);
    assert!(
        report
            .to_string()
            .contains("1 earlier transactions decided as history")
    );
    // From the time itself on, it counts.
    let mut s = Scorer::scoring_from(1_740_823_200);
    s.observe(
        &tx("C1", "E1"),
        truth(Role::Customer, Role::Exchanger),
        &decision(vec![finding(P2P, Action::Hold, Some("recipient"))]),
    );
    let report = score(&s);
    assert_eq!((report.history, report.transactions), (0, 1));
    assert_eq!(report.typology("exchanger").map(|e| e.tp), Some(1));
}

#[test]
fn paying_an_unlicensed_platform_is_dealing_with_an_illegal_operator() {
    let mut s = Scorer::new();
    s.observe(
        &tx("C1", "OKX-DEPOSIT-01"),
        truth(Role::Customer, Role::UnlicensedPlatform),
        &decision(vec![finding("VASP_UNLICENSED", Action::Block, None)]),
    );
    let report = score(&s);
    assert_eq!(report.legitimate.flagged, 0);
    assert_eq!(report.legitimate.flagged_with_typology, 1);
}
