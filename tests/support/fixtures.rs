//! Shared fixtures of the end-to-end tests: the workspace, the reference
//! plugin built for real, packs in temporary directories, the CLI binary.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

/// The reference pack's source directory.
pub fn reference_pack_source() -> PathBuf {
    workspace().join("examples/packs/kz-afm")
}

/// The sample transactions.
pub fn sample_transactions() -> PathBuf {
    workspace().join("examples/transactions/sample.jsonl")
}

/// The `kz-threshold` plugin compiled to a component, once per test binary.
pub fn kz_threshold_component() -> &'static [u8] {
    static BUILT: OnceLock<Vec<u8>> = OnceLock::new();
    BUILT.get_or_init(|| {
        match qorgan_lab::build::build_component(&workspace().join("plugins/kz-threshold")) {
            Ok(built) => built.component,
            Err(e) => panic!("cannot build plugins/kz-threshold: {e}"),
        }
    })
}

/// Copies `from` into `to`, recursively, skipping built components.
pub fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else if entry.path().extension().is_none_or(|e| e != "wasm") {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// A fresh temporary directory.
pub fn tempdir() -> tempfile::TempDir {
    match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(e) => panic!("cannot create a temporary directory: {e}"),
    }
}

/// Writes a file, creating its directory.
pub fn write(path: &Path, bytes: &[u8]) {
    if let Some(parent) = path.parent()
        && let Err(e) = std::fs::create_dir_all(parent)
    {
        panic!("cannot create {}: {e}", parent.display());
    }
    if let Err(e) = std::fs::write(path, bytes) {
        panic!("cannot write {}: {e}", path.display());
    }
}

/// A copy of the reference pack in a temporary directory, with its crate
/// paths made absolute so `qorgan pack build` works on the copy.
pub fn reference_pack_copy() -> tempfile::TempDir {
    let dir = tempdir();
    if let Err(e) = copy_dir(&reference_pack_source(), dir.path()) {
        panic!("cannot copy the reference pack: {e}");
    }
    let manifest = dir.path().join("pack.toml");
    let text = std::fs::read_to_string(&manifest).unwrap_or_default();
    let plugins = workspace().join("plugins");
    let text = text.replace("\"../../../plugins/", &format!("\"{}/", plugins.display()));
    write(&manifest, text.as_bytes());
    dir
}

/// A copy of the reference pack, built the way `qorgan pack build` builds it
/// (components compiled, digests recorded), ready for `Pack::read`.
pub fn reference_pack_built() -> tempfile::TempDir {
    let dir = reference_pack_copy();
    if let Err(e) = qorgan_lab::build::build_pack(dir.path()) {
        panic!("cannot build the reference pack: {e}");
    }
    dir
}

/// The `qorgan` binary, built on first use with the test profile.
pub fn qorgan_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        cargo_build();
        profile_dir().join(format!("qorgan{}", std::env::consts::EXE_SUFFIX))
    })
    .clone()
}

/// The example program `name` of `examples/`, built on first use with the
/// test profile.
pub fn example_bin(name: &str) -> PathBuf {
    cargo_build();
    profile_dir()
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// `cargo build` of the workspace's binaries, examples and tests, with the
/// test profile: what `cargo test --workspace` builds, with its features,
/// so that nothing is compiled a second time (a narrower build would
/// resolve features differently and compile wasmtime again).
fn cargo_build() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(cargo_build_once);
}

fn cargo_build_once() {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let args = [
        "build",
        "--quiet",
        "--workspace",
        "--bins",
        "--examples",
        "--tests",
    ];
    let status = Command::new(cargo)
        .args(args)
        .current_dir(workspace())
        .status();
    match status {
        Ok(s) if s.success() => {}
        other => panic!("cannot run cargo {args:?}: {other:?}"),
    }
}

/// `target/<profile>`: the test executable lives in its `deps/`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// A transaction as JSON, with the fields tests vary.
pub fn tx_json(id: &str, kind: &str, amount: &str, sender_iin: &str, verified: &[&str]) -> String {
    serde_json::json!({
        "id": id,
        "timestamp": "2025-03-01T10:15:00Z",
        "kind": kind,
        "channel": "mobile-app",
        "amount": amount,
        "currency": "KZT",
        "sender": {"account": format!("KZ-S-{id}"), "iin": sender_iin, "kind": "individual"},
        "recipient": {"account": format!("KZ-R-{id}"), "kind": "individual"},
        "verified": verified,
    })
    .to_string()
}

/// Parses a transaction made by [`tx_json`].
pub fn tx(
    id: &str,
    kind: &str,
    amount: &str,
    sender_iin: &str,
    verified: &[&str],
) -> qorgan::Transaction {
    match qorgan::Transaction::from_json(&tx_json(id, kind, amount, sender_iin, verified)) {
        Ok(tx) => tx,
        Err(e) => panic!("bad fixture transaction: {e}"),
    }
}

/// The length of [`heavy_remittance_tx`]'s remittance text, in bytes.
pub const HEAVY_REMITTANCE_BYTES: usize = 1024 * 1024;

/// A transfer whose remittance text is [`HEAVY_REMITTANCE_BYTES`] of words
/// kz-exchanger scans for its keywords without finding one: the crafted
/// input that drives kz-exchanger past its budget per transaction.
pub fn heavy_remittance_tx(id: &str) -> qorgan::Transaction {
    match qorgan::Transaction::from_json(&heavy_remittance_json(id)) {
        Ok(tx) => tx,
        Err(e) => panic!("bad fixture transaction: {e}"),
    }
}

/// [`heavy_remittance_tx`] as JSON, one line.
pub fn heavy_remittance_json(id: &str) -> String {
    let words = "оплата услуг по договору ";
    let mut remittance = String::with_capacity(HEAVY_REMITTANCE_BYTES + words.len());
    while remittance.len() < HEAVY_REMITTANCE_BYTES {
        remittance.push_str(words);
    }
    let json = serde_json::json!({
        "id": id,
        "timestamp": "2025-03-01T10:15:00Z",
        "kind": "transfer",
        "channel": "mobile-app",
        "amount": "15000.00",
        "currency": "KZT",
        "sender": {"account": format!("KZ-S-{id}"), "iin": "061211600012", "kind": "individual"},
        "recipient": {"account": format!("KZ-R-{id}"), "kind": "individual"},
        "remittance": remittance,
    });
    json.to_string()
}

/// A crypto purchase from a platform on the reference pack's
/// `blocked-vasps` list: decided `block` by kz-exchanger's `VASP_BLOCKED`.
pub fn blocked_platform_purchase(id: &str) -> qorgan::Transaction {
    let json = serde_json::json!({
        "id": id,
        "timestamp": "2025-03-01T10:16:00Z",
        "kind": "crypto-purchase",
        "channel": "mobile-app",
        "amount": "250000.00",
        "currency": "KZT",
        "sender": {"account": format!("KZ-S-{id}"), "iin": "061211600012", "kind": "individual"},
        "recipient": {"account": format!("KZ-R-{id}"), "kind": "vasp", "vasp": "coinbase"},
        "remittance": "USDT",
        "verified": ["sender-iin"],
    });
    match qorgan::Transaction::from_json(&json.to_string()) {
        Ok(tx) => tx,
        Err(e) => panic!("bad fixture transaction: {e}"),
    }
}

/// The sample stream's lines from its first to tx-0024, the money mule's
/// cash-out, which history-based rules hold after the transfers before it.
pub fn sample_to_mule_cash_out() -> Vec<String> {
    let text = match std::fs::read_to_string(sample_transactions()) {
        Ok(text) => text,
        Err(e) => panic!("cannot read the sample: {e}"),
    };
    let lines: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect();
    let cash_out = lines
        .iter()
        .position(|l| l.contains("\"tx-0024\""))
        .unwrap_or_else(|| panic!("tx-0024 is not in the sample"));
    lines.into_iter().take(cash_out + 1).collect()
}

/// The finding codes of a decision, in order.
pub fn finding_codes(decision: &serde_json::Value) -> Vec<String> {
    decision["findings"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter_map(|x| x["code"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
