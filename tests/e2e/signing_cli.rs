//! `qorgan key generate`, `pack sign`, `pack verify`, `pack archive` and
//! `pack extract`, run as a regulator and a bank run them, on the reference
//! pack built for real.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output};

use qorgan_e2e::fixtures::{qorgan_bin, reference_pack_built, reference_pack_copy, tempdir};

fn qorgan<S: AsRef<OsStr>>(args: &[S]) -> Output {
    match Command::new(qorgan_bin()).args(args).output() {
        Ok(out) => out,
        Err(e) => panic!("cannot run qorgan: {e}"),
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn succeeded(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({:?}):\n{}{}",
        out.status.code(),
        stdout(out),
        stderr(out)
    );
}

/// Asserts exit status 1 with `reason` in the message.
fn refused(out: &Output, reason: &str) {
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected a refusal:\n{}{}",
        stdout(out),
        stderr(out)
    );
    assert!(
        stderr(out).contains(reason),
        "the refusal does not say `{reason}`:\n{}",
        stderr(out)
    );
}

/// Generates keys `names` with the CLI into a new directory.
fn keys(names: &[&str]) -> tempfile::TempDir {
    let dir = tempdir();
    for name in names {
        let out = qorgan(&[
            OsStr::new("key"),
            OsStr::new("generate"),
            OsStr::new("--out"),
            dir.path().as_os_str(),
            OsStr::new("--name"),
            OsStr::new(name),
        ]);
        succeeded(&out, "key generate");
        assert!(stdout(&out).starts_with("key "), "{}", stdout(&out));
    }
    dir
}

/// The key id written in a public key file.
fn key_id(public: &Path) -> String {
    std::fs::read_to_string(public)
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("qorgan-ed25519-public "))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or_default()
        .to_owned()
}

/// Signs `pack` with the named keys of `keys`.
fn sign(pack: &Path, keys: &Path, names: &[&str]) -> Output {
    let mut args = vec![
        OsStr::new("pack").to_owned(),
        "sign".into(),
        pack.as_os_str().to_owned(),
    ];
    for name in names {
        args.push("--key".into());
        args.push(keys.join(format!("{name}.key")).into_os_string());
    }
    qorgan(&args)
}

/// Verifies `target` trusting the named keys, with more arguments.
fn verify(target: &Path, keys: &Path, trusted: &[&str], more: &[&str]) -> Output {
    let mut args = vec![
        OsStr::new("pack").to_owned(),
        "verify".into(),
        target.as_os_str().to_owned(),
    ];
    for name in trusted {
        args.push("--trust".into());
        args.push(keys.join(format!("{name}.pub")).into_os_string());
    }
    args.extend(more.iter().map(Into::into));
    qorgan(&args)
}

/// The reference pack, built, signed by `afm-a` and `afm-b`.
fn signed_pack() -> (tempfile::TempDir, tempfile::TempDir) {
    let pack = reference_pack_built();
    let keys = keys(&["afm-a", "afm-b"]);
    let out = sign(pack.path(), keys.path(), &["afm-a", "afm-b"]);
    succeeded(&out, "pack sign");
    assert_eq!(stdout(&out).matches("  by ").count(), 2, "{}", stdout(&out));
    (pack, keys)
}

fn flip_byte(path: &Path, at: usize) {
    let mut bytes = std::fs::read(path).unwrap_or_default();
    let at = at.min(bytes.len().saturating_sub(1));
    if let Some(b) = bytes.get_mut(at) {
        *b ^= 0x01;
    }
    if let Err(e) = std::fs::write(path, bytes) {
        panic!("cannot write {}: {e}", path.display());
    }
}

#[test]
fn a_pack_signed_by_two_trusted_keys_verifies_with_two_required() {
    let (pack, keys) = signed_pack();
    let out = verify(
        pack.path(),
        keys.path(),
        &["afm-a", "afm-b"],
        &["--require", "2"],
    );
    succeeded(&out, "pack verify");
    let text = stdout(&out);
    assert!(
        text.starts_with("verified kz-afm 2025.3.0 (serial 1): 2 of 2 required signatures"),
        "{text}"
    );
    assert!(
        text.contains("(afm-a)") && text.contains("(afm-b)"),
        "{text}"
    );
}

#[test]
fn a_tampered_component_byte_is_refused() {
    let (pack, keys) = signed_pack();
    flip_byte(&pack.path().join("plugins/kz-threshold.wasm"), 1000);
    let out = verify(
        pack.path(),
        keys.path(),
        &["afm-a", "afm-b"],
        &["--require", "2"],
    );
    refused(&out, "plugins/kz-threshold.wasm: sha256 is");
}

#[test]
fn a_test_case_edited_after_signing_is_refused_naming_it() {
    let (pack, keys) = signed_pack();
    let case = pack.path().join("tests/cash.yaml");
    let mut text = std::fs::read_to_string(&case).unwrap_or_default();
    text.push_str("\n# an innocent edit\n");
    let _ = std::fs::write(&case, text);
    let out = verify(pack.path(), keys.path(), &["afm-a"], &[]);
    refused(&out, "the pack changed after");
    refused(&out, "tests/cash.yaml: sha256 is");
}

#[test]
fn a_pack_signed_only_by_keys_the_bank_does_not_trust_is_refused() {
    let (pack, _) = signed_pack();
    let other = keys(&["stranger"]);
    let out = verify(pack.path(), other.path(), &["stranger"], &[]);
    refused(&out, "signed only by keys this host does not trust");
}

#[test]
fn one_of_two_required_signatures_is_refused() {
    let pack = reference_pack_built();
    let keys = keys(&["afm-a", "afm-b"]);
    succeeded(&sign(pack.path(), keys.path(), &["afm-a"]), "pack sign");
    let out = verify(
        pack.path(),
        keys.path(),
        &["afm-a", "afm-b"],
        &["--require", "2"],
    );
    refused(&out, "have 1 of 2 required");
}

#[test]
fn a_pack_signed_by_a_revoked_key_is_refused() {
    let (pack, keys) = signed_pack();
    let revoked = key_id(&keys.path().join("afm-b.pub"));
    assert_eq!(revoked.len(), 16);
    let out = verify(
        pack.path(),
        keys.path(),
        &["afm-a", "afm-b"],
        &["--revoked", &revoked],
    );
    refused(&out, &format!("signed by revoked key {revoked} (afm-b)"));
}

#[test]
fn a_signed_archive_is_deterministic_and_verifies_before_and_after_extraction() {
    let (pack, keys) = signed_pack();
    let work = tempdir();
    let first = work.path().join("kz-afm.qpack");
    let second = work.path().join("again.qpack");
    for archive in [&first, &second] {
        let out = qorgan(&[
            OsStr::new("pack"),
            OsStr::new("archive"),
            pack.path().as_os_str(),
            OsStr::new("-o"),
            archive.as_os_str(),
        ]);
        succeeded(&out, "pack archive");
    }
    assert_eq!(std::fs::read(&first).ok(), std::fs::read(&second).ok());

    let out = verify(
        &first,
        keys.path(),
        &["afm-a", "afm-b"],
        &["--require", "2"],
    );
    succeeded(&out, "pack verify of the archive");

    let extracted = work.path().join("extracted");
    let out = qorgan(&[
        OsStr::new("pack"),
        OsStr::new("extract"),
        first.as_os_str(),
        OsStr::new("-o"),
        extracted.as_os_str(),
    ]);
    succeeded(&out, "pack extract");
    let out = verify(
        &extracted,
        keys.path(),
        &["afm-a", "afm-b"],
        &["--require", "2"],
    );
    succeeded(&out, "pack verify of the extracted pack");
}

#[test]
fn a_corrupted_archive_is_refused() {
    let (pack, keys) = signed_pack();
    let work = tempdir();
    let archive = work.path().join("kz-afm.qpack");
    let out = qorgan(&[
        OsStr::new("pack"),
        OsStr::new("archive"),
        pack.path().as_os_str(),
        OsStr::new("-o"),
        archive.as_os_str(),
    ]);
    succeeded(&out, "pack archive");
    let size = std::fs::metadata(&archive).map(|m| m.len()).unwrap_or(0) as usize;
    flip_byte(&archive, size / 2);
    let out = verify(&archive, keys.path(), &["afm-a"], &[]);
    refused(&out, "corrupt archive");
}

#[test]
fn signing_an_unbuilt_source_pack_is_refused() {
    let pack = reference_pack_copy();
    let keys = keys(&["afm-a"]);
    let out = sign(pack.path(), keys.path(), &["afm-a"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("qorgan pack build"),
        "{}",
        stderr(&out)
    );
    assert!(!pack.path().join("signatures").exists());
}
