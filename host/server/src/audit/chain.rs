//! The hash chain: what each row's hash covers, and how.
//!
//! A row's hash is `sha256(prev_hash ‖ field₁ ‖ field₂ ‖ …)`, where
//! `prev_hash` is the previous row's hash as 64 lowercase hex characters
//! (64 zeros before the first row) and each field is its UTF-8 bytes
//! preceded by their length as 8 bytes, big-endian. Numbers are written in
//! decimal. The length prefixes make the encoding unambiguous: no two
//! different rows have the same bytes, whatever their fields contain.
//!
//! The fields, in order: the sequence number, the decision id, the
//! transaction id, the service run, the time decided, the action, the
//! pack's name, version, serial and manifest sha256, the plugins (JSON),
//! the transaction (JSON, as received) and the decision (JSON, as sent).

use sha2::{Digest, Sha256};

/// The `prev_hash` of the first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The pack that decided a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackStamp {
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Its serial.
    pub serial: u64,
    /// The sha256 of its manifest: which pack, exactly, including every
    /// plugin's and list's digest.
    pub digest: String,
    /// Its plugins as JSON: `[{"id", "version", "sha256"}, …]`.
    pub plugins: String,
}

/// One decision to log: everything a row holds but its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The decision's id (a ULID).
    pub decision_id: String,
    /// The transaction's id.
    pub tx_id: String,
    /// The run of the service that decided (a ULID per start); each run
    /// continues the history of the one before, restored from the journal.
    pub run: String,
    /// When it was decided, RFC 3339.
    pub decided_at: String,
    /// The decision's action.
    pub action: String,
    /// The pack that decided.
    pub pack: PackStamp,
    /// The transaction as received, JSON.
    pub tx: String,
    /// The decision as sent, JSON.
    pub decision: String,
}

/// The hash of the row with sequence number `seq` holding `entry`, after
/// the row whose hash is `prev_hash`.
pub fn row_hash(prev_hash: &str, seq: i64, entry: &Entry) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    let seq = seq.to_string();
    let serial = entry.pack.serial.to_string();
    for field in [
        seq.as_str(),
        &entry.decision_id,
        &entry.tx_id,
        &entry.run,
        &entry.decided_at,
        &entry.action,
        &entry.pack.name,
        &entry.pack.version,
        &serial,
        &entry.pack.digest,
        &entry.pack.plugins,
        &entry.tx,
        &entry.decision,
    ] {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    qorgan::pack::keys::hex(&hasher.finalize())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An entry for tests, with `id` in its ids.
    pub(crate) fn entry(id: &str) -> Entry {
        Entry {
            decision_id: format!("d-{id}"),
            tx_id: format!("tx-{id}"),
            run: "run-1".into(),
            decided_at: "2025-03-01T10:15:00Z".into(),
            action: "verify".into(),
            pack: PackStamp {
                name: "kz-afm".into(),
                version: "2025.3.0".into(),
                serial: 1,
                digest: "ab".repeat(32),
                plugins: r#"[{"id":"kz-threshold","version":"1.0.0","sha256":"cd"}]"#.into(),
            },
            tx: format!(r#"{{"id":"tx-{id}"}}"#),
            decision: format!(r#"{{"tx":"tx-{id}","action":"verify"}}"#),
        }
    }

    #[test]
    fn the_hash_depends_on_every_field_and_on_the_row_before() {
        let base = entry("1");
        let hash = row_hash(GENESIS, 1, &base);
        assert_eq!(hash.len(), 64);
        assert_eq!(hash, row_hash(GENESIS, 1, &base));
        assert_ne!(hash, row_hash(&hash, 1, &base));
        assert_ne!(hash, row_hash(GENESIS, 2, &base));
        let mut changed = base.clone();
        changed.decision = changed.decision.replace("verify", "allow");
        assert_ne!(hash, row_hash(GENESIS, 1, &changed));
        let mut changed = base.clone();
        changed.pack.serial = 2;
        assert_ne!(hash, row_hash(GENESIS, 1, &changed));
    }

    #[test]
    fn moving_bytes_between_fields_changes_the_hash() {
        let mut a = entry("1");
        let mut b = entry("1");
        a.tx_id = "tx-1".into();
        a.run = "r".into();
        b.tx_id = "tx-1r".into();
        b.run = String::new();
        assert_ne!(row_hash(GENESIS, 1, &a), row_hash(GENESIS, 1, &b));
    }
}
