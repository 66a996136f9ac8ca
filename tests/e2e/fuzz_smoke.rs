//! The fuzz targets' smoke pass, run by `cargo test --workspace`.
//!
//! The fuzz crate under `fuzz/` is built only by cargo-fuzz (it would build
//! wasmtime again with instrumentation). This test calls the very entry
//! points the fuzz targets call ([`qorgan_e2e::fuzzing`]) over every seed
//! committed in `fuzz/corpus/<target>/` and a few hundred deterministic
//! mutations of each: no input may panic, every one ends in success or the
//! library's typed error.

use std::path::{Path, PathBuf};

use qorgan::pack::{ArchiveError, ArchiveLimit, SignatureError};
use qorgan_e2e::fuzzing::{self, Mutator, SignatureOutcome};

/// Mutations run per seed.
const MUTATIONS: usize = 200;

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut seeds: Vec<(PathBuf, Vec<u8>)> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .map(|p| {
                let bytes = std::fs::read(&p).unwrap_or_default();
                (p, bytes)
            })
            .collect(),
        Err(e) => panic!("{}: {e}", dir.display()),
    };
    seeds.sort();
    assert!(seeds.len() >= 3, "{target}: at least three seeds");
    seeds
}

/// Runs `entry` over every seed of `target` and its mutations.
fn smoke<T>(target: &str, seed: u64, mut entry: impl FnMut(&[u8]) -> T) -> usize {
    let mut mutator = Mutator::new(seed);
    let mut runs = 0;
    for (_, bytes) in corpus(target) {
        entry(&bytes);
        runs += 1;
        let mut current = bytes;
        for i in 0..MUTATIONS {
            // Walk away from the seed, returning to it now and then.
            let next = mutator.mutate(&current);
            entry(&next);
            runs += 1;
            current = if i % 20 == 19 { current } else { next };
        }
    }
    runs
}

#[test]
fn the_transaction_parser_survives_its_corpus_and_mutations() {
    let mut accepted = 0;
    let runs = smoke("transaction_json", 1, |data| {
        if fuzzing::transaction_json(data).is_ok() {
            accepted += 1;
        }
    });
    assert!(runs > 600);
    assert!(accepted > 0, "the well-formed seeds parse");
}

#[test]
fn the_manifest_parser_survives_its_corpus_and_mutations() {
    let mut refused = 0;
    let runs = smoke("pack_manifest", 2, |data| {
        if let Err(e) = fuzzing::pack_manifest(data) {
            assert!(!e.to_string().is_empty());
            refused += 1;
        }
    });
    assert!(runs > 600);
    assert!(refused > 0);
    let seed = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fuzz/corpus/pack_manifest/seed-minimal.toml"),
    )
    .unwrap_or_default();
    if let Err(e) = fuzzing::pack_manifest(&seed) {
        panic!("the minimal seed is a valid manifest: {e}");
    }
}

#[test]
fn archive_extraction_survives_its_corpus_and_mutations() {
    let runs = smoke("archive_extract", 3, |data| {
        let _ = fuzzing::archive_extract(data);
    });
    assert!(runs > 1500);
}

#[test]
fn the_archive_seeds_are_refused_for_what_they_carry() {
    let seeds = corpus("archive_extract");
    let of = |name: &str| {
        let Some((_, bytes)) = seeds.iter().find(|(p, _)| p.ends_with(name)) else {
            panic!("no seed {name}");
        };
        fuzzing::archive_extract(bytes)
    };
    assert!(of("seed-good.qpack").is_ok());
    assert!(of("seed-good-plain.tar").is_ok());
    assert!(matches!(
        of("seed-traversal.tar"),
        Err(ArchiveError::BadPath { .. })
    ));
    for name in ["seed-symlink.tar", "seed-hardlink.tar", "seed-device.tar"] {
        assert!(
            matches!(of(name), Err(ArchiveError::UnsupportedEntry { .. })),
            "{name}: {:?}",
            of(name)
        );
    }
    assert!(matches!(
        of("seed-duplicate.tar"),
        Err(ArchiveError::Duplicate { .. })
    ));
    assert!(matches!(
        of("seed-bomb.qpack"),
        Err(ArchiveError::LimitExceeded {
            limit: ArchiveLimit::FileBytes | ArchiveLimit::TotalBytes,
            ..
        })
    ));
}

#[test]
fn signature_verification_survives_its_corpus_and_mutations() {
    let runs = smoke("signature_verify", 4, |data| {
        fuzzing::signature_verify(data).len()
    });
    assert!(runs > 600);
}

#[test]
fn the_committed_valid_signature_verifies_and_a_flipped_byte_does_not() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus/signature_verify/seed-valid.sig");
    // `QORGAN_WRITE_SEEDS=1` rewrites the seed, e.g. after the statement
    // format changed.
    if std::env::var_os("QORGAN_WRITE_SEEDS").is_some()
        && let Err(e) = std::fs::write(&path, fuzzing::valid_signature())
    {
        panic!("{}: {e}", path.display());
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert_eq!(
        committed,
        fuzzing::valid_signature(),
        "{} is the fixed key's signature of the fixed statement",
        path.display()
    );
    let verified = |data: &[u8]| {
        fuzzing::signature_verify(data)
            .into_iter()
            .find_map(|o| match o {
                SignatureOutcome::Signature(r) => Some(r),
                SignatureOutcome::Key(_) => None,
            })
    };
    assert!(matches!(verified(&committed), Some(Ok(_))));
    let mut flipped = committed.clone();
    if let Some(last) = flipped.iter().rposition(|b| *b == b'a') {
        flipped[last] = b'b';
    }
    assert!(matches!(
        verified(&flipped),
        Some(Err(
            SignatureError::BadSignature { .. } | SignatureError::Malformed { .. }
        ))
    ));
}
