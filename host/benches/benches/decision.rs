//! Folding findings into a decision's action, score and requirements
//! (`qorgan::decision::aggregate`) for 0, 1 and 5 weighted findings, with
//! the reference pack's score thresholds (review at 60, hold at 90).
//!
//! Why: it runs once for every transaction decided, whatever the plugins
//! found; most transactions have no finding, a flagged one a few. This
//! bounds the fold's share of the host's per-transaction work (it is
//! expected to be nanoseconds; building the `Decision` around it is not
//! measured here).

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use qorgan::decision::{Action, Evidence, Finding, ScoreThresholds, aggregate};
use qorgan::transaction::Check;
use std::hint::black_box;

/// Findings as the reference pack's rules make them: codes, actions,
/// scores and requirements of kz-threshold, kz-exchanger and kz-mule, each
/// at the pack's weight (1.0, 100 hundredths).
fn findings() -> Vec<(Finding, u32)> {
    let finding = |code: &str, rule: &str, action, score, requirements: &[Check]| Finding {
        code: code.to_owned(),
        rule: rule.to_owned(),
        action,
        score,
        requirements: requirements.iter().copied().collect(),
        message: format!("{code}: a sentence for an analyst"),
        evidence: Evidence(vec![
            ("amount".to_owned(), "600000.00".to_owned()),
            ("window_hours".to_owned(), "24".to_owned()),
        ]),
    };
    vec![
        (
            finding(
                "TOPUP_SENDER_IIN_REQUIRED",
                "kz-threshold@0.1.0",
                Action::Verify,
                0,
                &[Check::SenderIin],
            ),
            100,
        ),
        (
            finding(
                "CASH_BIOMETRIC_REQUIRED",
                "kz-threshold@0.1.0",
                Action::Verify,
                0,
                &[Check::Biometric],
            ),
            100,
        ),
        (
            finding(
                "STRUCTURING_NEAR_THRESHOLD",
                "kz-threshold@0.1.0",
                Action::Review,
                30,
                &[],
            ),
            100,
        ),
        (
            finding(
                "CRYPTO_REMITTANCE_KEYWORDS",
                "kz-exchanger@0.1.0",
                Action::Review,
                20,
                &[],
            ),
            100,
        ),
        (
            finding(
                "MULE_SCORE_ELEVATED",
                "kz-mule@0.1.0",
                Action::Review,
                50,
                &[],
            ),
            100,
        ),
    ]
}

fn decision(c: &mut Criterion) {
    let thresholds = ScoreThresholds {
        review: Some(60),
        hold: Some(90),
        block: None,
    };
    let all = findings();
    let mut group = c.benchmark_group("decision/aggregate");
    for n in [0usize, 1, 5] {
        let some = &all[..n];
        group.bench_function(BenchmarkId::from_parameter(format!("{n} findings")), |b| {
            b.iter(|| {
                aggregate(
                    black_box(some).iter().map(|(f, w)| (f, *w)),
                    black_box(&thresholds),
                )
            });
        });
    }
    group.finish();
}

criterion_group!(benches, decision);
criterion_main!(benches);
