//! The activation pipeline on a bank's host, end to end, with the reference
//! pack built for real and signed: a good newer pack goes live and
//! decisions switch to it; every unsafe candidate is refused with a typed
//! reason while the pack before it keeps deciding; the active pack survives
//! a restart, offline, and a tampered copy of it does not; and a swap under
//! load fails no evaluation.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use qorgan::pack::archive::{self, Compression};
use qorgan::pack::{SignatureError, TrustConfig};
use qorgan::source::{DirSource, Refusal, RefusalReason, Source};
use qorgan_e2e::fixtures::{tempdir, tx, write};
use qorgan_e2e::releases::{
    Host, NOW, copy_all, deciding_serial, edit, keys, ok, release, trust_both, unchanged, v1, v2,
};
use time::macros::datetime;

/// After a refusal: the pack with `serial` still decides, and status shows
/// the refusal's kind and the same active pack.
fn still_deciding(host: &Host, refusal: &Refusal, serial: u64, kind: &str) {
    assert_eq!(refusal.reason.kind(), kind, "{refusal}");
    assert_eq!(deciding_serial(host.engine()), serial, "{refusal}");
    let status = host.status();
    assert_eq!(status.active.as_ref().map(|a| a.serial), Some(serial));
    let last = match &status.last_refusal {
        Some(last) => last,
        None => panic!("status has no refusal: {}", status.to_json()),
    };
    assert_eq!(last.kind, kind);
    assert_eq!(last.reason, refusal.reason.to_string());
    assert_eq!(last.candidate, refusal.candidate);
}

#[test]
fn a_good_second_pack_is_activated_and_decisions_switch_to_serial_2() {
    let host = Host::new(trust_both(2));
    let first = host.activate(&v1(host.packs.path()));
    assert_eq!(first.pack.serial, 1);
    assert_eq!(first.previous, None);
    assert_eq!(deciding_serial(host.engine()), 1);

    host.set_clock(NOW + time::Duration::hours(1));
    let second = host.activate(&v2(host.packs.path()));
    assert_eq!(second.pack.serial, 2);
    assert_eq!(second.pack.version, "2025.3.1");
    assert_eq!(second.previous.map(|p| p.serial), Some(1));
    assert_eq!(second.pack.signers.len(), 2, "{:?}", second.pack.signers);
    assert!(second.pack.own_cases > 100, "{}", second.pack.own_cases);
    assert_eq!(deciding_serial(host.engine()), 2);

    host.set_clock(NOW + time::Duration::hours(2));
    let status = host.status();
    let active = match &status.active {
        Some(a) => a,
        None => panic!("no active pack: {}", status.to_json()),
    };
    assert_eq!(active.serial, 2);
    assert_eq!(active.manifest_sha256.len(), 64);
    assert_eq!(active.activated_at, NOW + time::Duration::hours(1));
    assert_eq!(status.active_age_secs, Some(3600));
    assert_eq!(status.serial_floor, Some(2));
    assert_eq!(status.activations, 2);
    assert_eq!(status.refusals, 0);
    assert!(status.last_refusal.is_none());

    let record: serde_json::Value = ok(
        serde_json::from_str(&ok(
            std::fs::read_to_string(host.state.join("active.json")),
            "read active.json",
        )),
        "parse active.json",
    );
    assert_eq!(record["pack"]["serial"], 2);
    assert_eq!(record["pack"]["activated_at"], "2025-06-01T01:00:00Z");
    let persisted = host
        .state
        .join("packs")
        .join(record["dir"].as_str().unwrap_or("?"));
    assert!(
        persisted.join("pack.toml").is_file(),
        "{}",
        persisted.display()
    );
    let left = ok(std::fs::read_dir(host.state.join("packs")), "packs").count();
    assert_eq!(left, 1, "only the active pack is kept");
}

#[test]
fn a_tampered_wasm_byte_is_refused_and_serial_1_keeps_deciding() {
    let host = Host::new(trust_both(1));
    host.activate(&v1(host.packs.path()));
    let v2 = v2(host.packs.path());
    let component = v2.join("plugins/kz-threshold.wasm");
    let mut bytes = ok(std::fs::read(&component), "read component");
    let middle = bytes.len() / 2;
    if let Some(b) = bytes.get_mut(middle) {
        *b ^= 0x01;
    }
    write(&component, &bytes);

    let refusal = host.refuse(&v2);
    match &*refusal.reason {
        RefusalReason::Digest { file, .. } => assert_eq!(file, "plugins/kz-threshold.wasm"),
        other => panic!("expected a digest refusal, got {other:?}"),
    }
    still_deciding(&host, &refusal, 1, "digest");
}

#[test]
fn a_pack_signed_by_a_key_this_host_does_not_trust_is_refused() {
    let host = Host::new(trust_both(1));
    host.activate(&v1(host.packs.path()));
    let foreign = release(
        host.packs.path(),
        "foreign",
        2,
        &[&keys().stranger],
        unchanged,
    );

    let refusal = host.refuse(&foreign);
    assert!(
        matches!(
            &*refusal.reason,
            RefusalReason::Signature(SignatureError::UnknownKey { keys: ids })
                if ids == &[keys().stranger.id().to_string()]
        ),
        "{:?}",
        refusal.reason
    );
    still_deciding(&host, &refusal, 1, "signature");
}

#[test]
fn one_of_two_required_signatures_is_refused() {
    let host = Host::new(trust_both(2));
    host.activate(&v1(host.packs.path()));
    let half = release(host.packs.path(), "half-signed", 2, &[&keys().a], unchanged);

    let refusal = host.refuse(&half);
    assert!(
        matches!(
            *refusal.reason,
            RefusalReason::Signature(SignatureError::TooFewSignatures {
                have: 1,
                required: 2,
                ..
            })
        ),
        "{:?}",
        refusal.reason
    );
    still_deciding(&host, &refusal, 1, "signature");
}

#[test]
fn a_pack_signed_by_a_revoked_key_is_refused_whoever_else_signed_it() {
    let trust = ok(
        TrustConfig::builder()
            .trust(keys().a.public().clone())
            .trust(keys().b.public().clone())
            .revoke(keys().b.id().clone())
            .build(),
        "trust",
    );
    let host = Host::new(trust);
    host.activate(&release(
        host.packs.path(),
        "v1",
        1,
        &[&keys().a],
        unchanged,
    ));
    let refusal = host.refuse(&v2(host.packs.path()));
    assert!(
        matches!(
            *refusal.reason,
            RefusalReason::Signature(SignatureError::RevokedKey { .. })
        ),
        "{:?}",
        refusal.reason
    );
    still_deciding(&host, &refusal, 1, "signature");
}

#[test]
fn rollback_to_lower_serial_is_refused() {
    let host = Host::new(trust_both(2));
    host.activate(&v2(host.packs.path()));
    let refusal = host.refuse(&v1(host.packs.path()));
    assert!(
        matches!(
            *refusal.reason,
            RefusalReason::Rollback {
                offered: 1,
                active: 2
            }
        ),
        "{:?}",
        refusal.reason
    );
    still_deciding(&host, &refusal, 2, "rollback");
}

#[test]
fn an_equal_serial_is_refused_as_a_rollback() {
    let host = Host::new(trust_both(2));
    host.activate(&v1(host.packs.path()));
    let rival = release(
        host.packs.path(),
        "rival",
        1,
        &[&keys().a, &keys().b],
        |dir| {
            edit(
                &dir.join("pack.toml"),
                "recycle_after_calls = 100000",
                "recycle_after_calls = 99000",
            );
        },
    );
    let refusal = host.refuse(&rival);
    assert!(
        matches!(
            *refusal.reason,
            RefusalReason::Rollback {
                offered: 1,
                active: 1
            }
        ),
        "{:?}",
        refusal.reason
    );
    still_deciding(&host, &refusal, 1, "rollback");
}

#[test]
fn the_active_pack_offered_again_is_not_counted_as_a_refusal() {
    let host = Host::new(trust_both(2));
    let v1 = v1(host.packs.path());
    host.activate(&v1);
    let again = match host.offer(&v1) {
        Ok(activated) => panic!("activated again: {activated:?}"),
        Err(refusal) => refusal,
    };
    assert!(
        matches!(*again.reason, RefusalReason::AlreadyActive { serial: 1 }),
        "{again:?}"
    );
    let status = host.status();
    assert!(status.last_refusal.is_none(), "{}", status.to_json());
    assert_eq!(status.refusals, 0);
    assert_eq!(deciding_serial(host.engine()), 1);
}

#[test]
fn an_expired_pack_is_refused_by_the_clock() {
    let host = Host::new(trust_both(2));
    host.activate(&v1(host.packs.path()));
    let short = release(
        host.packs.path(),
        "short-lived",
        2,
        &[&keys().a, &keys().b],
        |dir| {
            edit(
                &dir.join("pack.toml"),
                "expires_at = \"2030-12-31T23:59:59Z\"",
                "expires_at = \"2025-09-01T00:00:00Z\"",
            );
        },
    );
    host.set_clock(datetime!(2025-10-01 00:00 UTC));
    let refusal = host.refuse(&short);
    assert!(
        matches!(&*refusal.reason, RefusalReason::Expired { expires_at } if expires_at == "2025-09-01T00:00:00Z"),
        "{:?}",
        refusal.reason
    );
    still_deciding(&host, &refusal, 1, "expired");
}

#[test]
fn a_pack_issued_in_the_future_is_refused_until_its_time_comes() {
    let host = Host::new(trust_both(2));
    host.activate(&v1(host.packs.path()));
    let early = release(
        host.packs.path(),
        "early",
        2,
        &[&keys().a, &keys().b],
        |dir| {
            edit(
                &dir.join("pack.toml"),
                "issued_at = \"2025-03-01T00:00:00Z\"",
                "issued_at = \"2025-07-01T00:00:00Z\"",
            );
        },
    );
    let refusal = host.refuse(&early);
    assert!(
        matches!(*refusal.reason, RefusalReason::NotYetValid { .. }),
        "{:?}",
        refusal.reason
    );
    assert!(refusal.reason.is_transient());
    still_deciding(&host, &refusal, 1, "not-yet-valid");

    host.set_clock(datetime!(2025-07-01 00:01 UTC));
    assert_eq!(host.activate(&early).pack.serial, 2);
    assert_eq!(deciding_serial(host.engine()), 2);
}

#[test]
fn a_pack_whose_own_tests_fail_on_this_host_is_refused() {
    let host = Host::new(trust_both(2));
    host.activate(&v1(host.packs.path()));
    let wrong = release(
        host.packs.path(),
        "wrong",
        2,
        &[&keys().a, &keys().b],
        |dir| {
            edit(&dir.join("tests/topup.yaml"), "score: 35", "score: 36");
        },
    );
    let refusal = host.refuse(&wrong);
    match &*refusal.reason {
        RefusalReason::OwnTestsFailed {
            failed,
            passed,
            first_failure,
        } => {
            assert!(
                *failed >= 1 && *passed > 100,
                "{failed} failed, {passed} passed"
            );
            assert!(
                first_failure.contains("tests/topup.yaml")
                    && first_failure.contains("score: expected 36, got 35"),
                "{first_failure}"
            );
        }
        other => panic!("expected failing cases, got {other:?}"),
    }
    still_deciding(&host, &refusal, 1, "own-tests-failed");
}

#[test]
fn a_pack_without_test_cases_of_its_own_is_refused() {
    let host = Host::new(trust_both(2));
    host.activate(&v1(host.packs.path()));
    let untested = release(
        host.packs.path(),
        "untested",
        2,
        &[&keys().a, &keys().b],
        |dir| {
            ok(std::fs::remove_dir_all(dir.join("tests")), "remove tests");
        },
    );
    let refusal = host.refuse(&untested);
    assert!(
        matches!(&*refusal.reason, RefusalReason::NoOwnTests { tests } if tests == "tests"),
        "{:?}",
        refusal.reason
    );
    still_deciding(&host, &refusal, 1, "no-own-tests");
}

#[test]
fn a_corrupted_archive_is_refused() {
    let host = Host::new(trust_both(2));
    host.activate(&v1(host.packs.path()));
    let qpack = host.packs.path().join("kz-afm-2.qpack");
    ok(
        archive::write_archive(&v2(host.packs.path()), &qpack, Compression::Gzip),
        "archive",
    );
    let mut bytes = ok(std::fs::read(&qpack), "read archive");
    let middle = bytes.len() / 2;
    for b in bytes.iter_mut().skip(middle).take(16) {
        *b ^= 0xff;
    }
    write(&qpack, &bytes);

    let refusal = host.refuse(&qpack);
    assert!(
        matches!(*refusal.reason, RefusalReason::Archive(_)),
        "{:?}",
        refusal.reason
    );
    still_deciding(&host, &refusal, 1, "archive");
}

#[test]
fn a_signed_archive_is_activated_like_a_pack_directory() {
    let host = Host::new(trust_both(2));
    host.activate(&v1(host.packs.path()));
    let qpack = host.packs.path().join("kz-afm-2.qpack");
    ok(
        archive::write_archive(&v2(host.packs.path()), &qpack, Compression::Gzip),
        "archive",
    );
    let activated = host.activate(&qpack);
    assert_eq!(activated.pack.serial, 2);
    assert_eq!(
        activated.pack.origin,
        format!("pack archive {}", qpack.display())
    );
    assert_eq!(deciding_serial(host.engine()), 2);
}

#[test]
fn restore_after_a_restart_brings_back_the_persisted_pack_offline() {
    let state_root = tempdir();
    let state = state_root.path().join("state");
    let activated_at = {
        let host = Host::with_state(trust_both(2), &state);
        host.activate(&v1(host.packs.path()));
        let activated = host.activate(&v2(host.packs.path()));
        activated.pack.activated_at
        // The host and every pack it was offered are gone.
    };

    let host = Host::with_state(trust_both(2), &state);
    host.set_clock(NOW + time::Duration::days(1));
    assert!(host.engine().active().is_none());
    let restored = match ok(host.activator.restore(), "restore") {
        Some(r) => r,
        None => panic!("nothing restored"),
    };
    assert_eq!(restored.pack.serial, 2);
    assert_eq!(restored.pack.activated_at, activated_at);
    assert_eq!(deciding_serial(host.engine()), 2);
    assert_eq!(host.status().active_age_secs, Some(86_400));

    // The persisted serial is the floor: a rollback is still refused.
    let refusal = host.refuse(&v1(host.packs.path()));
    assert!(
        matches!(
            *refusal.reason,
            RefusalReason::Rollback {
                offered: 1,
                active: 2
            }
        ),
        "{:?}",
        refusal.reason
    );
}

#[test]
fn a_fresh_state_directory_restores_nothing() {
    let host = Host::new(trust_both(2));
    assert!(matches!(host.activator.restore(), Ok(None)));
    assert!(host.engine().active().is_none());
}

/// The directory of the persisted pack, from `active.json`.
fn persisted_dir(state: &Path) -> PathBuf {
    let record: serde_json::Value = ok(
        serde_json::from_str(&ok(
            std::fs::read_to_string(state.join("active.json")),
            "read active.json",
        )),
        "parse active.json",
    );
    state
        .join("packs")
        .join(record["dir"].as_str().unwrap_or("?"))
}

#[test]
fn a_tampered_persisted_pack_is_refused_at_restore_and_the_host_starts_without_a_pack() {
    let state_root = tempdir();
    let state = state_root.path().join("state");
    {
        let host = Host::with_state(trust_both(2), &state);
        host.activate(&v1(host.packs.path()));
    }
    let component = persisted_dir(&state).join("plugins/kz-threshold.wasm");
    let mut bytes = ok(std::fs::read(&component), "read component");
    if let Some(b) = bytes.get_mut(100) {
        *b ^= 0x01;
    }
    write(&component, &bytes);

    let host = Host::with_state(trust_both(2), &state);
    let refusal = match host.activator.restore() {
        Ok(restored) => panic!("restored a tampered pack: {restored:?}"),
        Err(refusal) => refusal,
    };
    assert!(
        matches!(&*refusal.reason, RefusalReason::Digest { file, .. } if file == "plugins/kz-threshold.wasm"),
        "{:?}",
        refusal.reason
    );
    assert!(host.engine().active().is_none(), "a bad pack was activated");
    let tx = tx("t-1", "card-topup", "600000.00", "061211600012", &[]);
    assert!(host.engine().evaluate(&tx).is_err());
    let status = host.status();
    assert!(status.active.is_none());
    assert_eq!(
        status.last_refusal.map(|r| r.kind),
        Some("digest".to_owned())
    );
    assert_eq!(
        status.serial_floor,
        Some(1),
        "the floor survives a refused restore"
    );
}

#[test]
fn an_older_signed_pack_swapped_into_the_state_directory_is_refused_at_restore() {
    let state_root = tempdir();
    let state = state_root.path().join("state");
    let packs = tempdir();
    let old = v1(packs.path());
    {
        let host = Host::with_state(trust_both(2), &state);
        host.activate(&old);
        host.activate(&v2(host.packs.path()));
    }
    let persisted = persisted_dir(&state);
    ok(std::fs::remove_dir_all(&persisted), "remove persisted pack");
    copy_all(&old, &persisted);

    let host = Host::with_state(trust_both(2), &state);
    let refusal = match host.activator.restore() {
        Ok(restored) => panic!("restored a swapped pack: {restored:?}"),
        Err(refusal) => refusal,
    };
    assert!(
        matches!(*refusal.reason, RefusalReason::NotThePersistedPack { .. }),
        "{:?}",
        refusal.reason
    );
    assert!(host.engine().active().is_none());
}

#[test]
fn hot_swap_under_load_fails_no_evaluation_and_switches_serial_monotonically() {
    let host = Host::new(trust_both(2));
    host.activate(&v1(host.packs.path()));
    let v2 = v2(host.packs.path());

    let engine = host.engine().clone();
    let stop = Arc::new(AtomicBool::new(false));
    let running = Arc::clone(&stop);
    let load = std::thread::spawn(move || {
        let txs: Vec<_> = (0..8)
            .map(|i| {
                tx(
                    &format!("load-{i}"),
                    if i % 2 == 0 {
                        "card-topup"
                    } else {
                        "cash-withdrawal"
                    },
                    "600000.00",
                    "061211600012",
                    &[],
                )
            })
            .collect();
        let mut evaluator = engine.evaluator();
        let mut serials = Vec::new();
        let mut failures = Vec::new();
        while !running.load(Ordering::Relaxed) {
            for result in evaluator.evaluate_batch(&txs) {
                match result {
                    Ok(decision) => serials.push(decision.pack.serial),
                    Err(e) => failures.push(e.to_string()),
                }
            }
        }
        (serials, failures)
    });

    std::thread::sleep(Duration::from_millis(200));
    let activated = host.activate(&v2);
    assert_eq!(activated.pack.serial, 2);
    // Let the load see the new pack for a while.
    let deadline = Instant::now() + Duration::from_secs(60);
    while deciding_serial(host.engine()) != 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    let (serials, failures) = match load.join() {
        Ok(outcome) => outcome,
        Err(_) => panic!("the load thread panicked"),
    };

    assert!(failures.is_empty(), "failed evaluations: {failures:?}");
    assert_eq!(serials.first(), Some(&1), "the load started on serial 1");
    assert_eq!(serials.last(), Some(&2), "the load ended on serial 2");
    assert!(
        serials.windows(2).all(|w| matches!(w, [a, b] if a <= b)),
        "a decision went back to serial 1 after serial 2"
    );
}

#[test]
fn the_dir_source_offers_each_new_pack_once() {
    let host = Host::new(trust_both(2));
    let inbox = host.packs.path().join("inbox");
    let releases = tempdir();
    ok(std::fs::create_dir_all(&inbox), "inbox");
    ok(
        archive::write_archive(
            &v1(releases.path()),
            &inbox.join("kz-afm-1.qpack"),
            Compression::Gzip,
        ),
        "archive v1",
    );
    let mut source = DirSource::new(&inbox);

    let outcomes = ok(source.poll_once(&host.activator), "poll");
    assert_eq!(outcomes.len(), 1);
    assert_eq!(deciding_serial(host.engine()), 1);
    assert!(ok(source.poll_once(&host.activator), "poll").is_empty());
    assert!(host.status().last_check.is_some());

    copy_all(&v2(releases.path()), &inbox.join("kz-afm-2"));
    let outcomes = ok(source.poll_once(&host.activator), "poll");
    assert!(
        matches!(outcomes.as_slice(), [Ok(a)] if a.pack.serial == 2),
        "{outcomes:?}"
    );
    assert_eq!(deciding_serial(host.engine()), 2);
    assert!(ok(source.poll_once(&host.activator), "poll").is_empty());
    assert_eq!(host.status().refusals, 0);
}

#[test]
fn a_watched_directory_activates_a_pack_dropped_into_it() {
    let host = Host::new(trust_both(2));
    let inbox = host.packs.path().join("inbox");
    let releases = tempdir();
    ok(std::fs::create_dir_all(&inbox), "inbox");
    let watcher = ok(
        DirSource::new(&inbox).watch(Arc::clone(&host.activator), Duration::from_millis(20)),
        "watch",
    );
    // Written under a hidden name, then renamed into place.
    let hidden = inbox.join(".kz-afm-1.qpack.tmp");
    ok(
        archive::write_archive(&v1(releases.path()), &hidden, Compression::Gzip),
        "archive",
    );
    ok(
        std::fs::rename(&hidden, inbox.join("kz-afm-1.qpack")),
        "rename",
    );

    let deadline = Instant::now() + Duration::from_secs(120);
    while host.engine().active().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    watcher.stop();
    assert_eq!(deciding_serial(host.engine()), 1);
    assert_eq!(host.status().refusals, 0, "{}", host.status().to_json());
}
