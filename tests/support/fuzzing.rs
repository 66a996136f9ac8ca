//! The entry points of the fuzz targets, shared with the smoke pass.
//!
//! Each function takes arbitrary bytes and feeds them to one of the host's
//! parsers of untrusted input: transactions (one JSON text, and a JSON
//! Lines stream), `pack.toml`, `.qpack` archives, and signature files
//! checked against a fixed trusted key. The cargo-fuzz targets under
//! `fuzz/` call these and nothing else, and `tests/e2e/fuzz_smoke.rs` calls the
//! same functions over the committed seed corpora plus deterministic
//! mutations, so what CI checks on every run is exactly what the fuzzers
//! explore for hours.
//!
//! A function returns the library's own typed result: success, or the typed
//! error that names what was wrong. Anything else — a panic, an abort, an
//! allocation the size of the input's claims — is a defect. The archive
//! entry point also checks what extraction left on disk: regular files and
//! directories only, all inside the destination.

use std::path::Path;
use std::sync::OnceLock;

use ed25519_dalek::SigningKey;
use qorgan::jsonl::{Line, next_line};
use qorgan::pack::archive::{ExtractLimits, Extracted, extract_from};
use qorgan::pack::signature::{PackSignature, canonical_manifest_json};
use qorgan::pack::{
    ArchiveError, KeyError, Manifest, PackError, PublicKey, SecretKey, SignatureError, Statement,
    TrustConfig, Verified, parse_manifest, sha256_hex,
};
use qorgan::{Transaction, TransactionError};
use time::OffsetDateTime;
use time::macros::datetime;

/// The moment manifests are judged at, fixed so a run is reproducible.
pub const NOW: OffsetDateTime = datetime!(2026-01-01 00:00 UTC);

/// The caps archives are extracted under: small, so a bomb is cheap to
/// refuse, yet roomy enough for a real pack.
pub const ARCHIVE_LIMITS: ExtractLimits = ExtractLimits {
    max_entries: 64,
    max_file_bytes: 1024 * 1024,
    max_total_bytes: 4 * 1024 * 1024,
};

/// Parses `data` as one transaction, and reads it as a JSON Lines stream,
/// parsing every line that is text. Returns the whole-text parse.
pub fn transaction_json(data: &[u8]) -> Result<Transaction, TransactionError> {
    let mut reader = data;
    // Reading a byte slice cannot fail with an I/O error.
    while let Ok(Some(line)) = next_line(&mut reader) {
        if let Line::Text(text) = line {
            let _ = Transaction::from_json(&text);
        }
    }
    let text = String::from_utf8_lossy(data);
    Transaction::from_json(&text)
}

/// Parses `data` as a `pack.toml` (judged at [`NOW`]) and, when it is a
/// TOML table, writes its canonical JSON, the form signatures cover.
pub fn pack_manifest(data: &[u8]) -> Result<Manifest, PackError> {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(table) = text.parse::<toml::Table>()
    {
        let _ = canonical_manifest_json(&table);
    }
    parse_manifest(data, NOW)
}

/// Extracts `data` as a `.qpack` archive into a fresh temporary directory
/// under [`ARCHIVE_LIMITS`].
///
/// # Panics
///
/// When extraction succeeded but left behind anything other than regular
/// files and directories, or more than the limits allow: a defect of the
/// extractor.
pub fn archive_extract(data: &[u8]) -> Result<Extracted, ArchiveError> {
    let root = tempfile::tempdir().map_err(|e| ArchiveError::Io {
        path: std::env::temp_dir(),
        source: e,
    })?;
    let out = root.path().join("pack");
    let extracted = extract_from(data, &out, &ARCHIVE_LIMITS)?;
    let mut files = 0;
    let mut bytes = 0;
    walk(&out, &mut |path, meta| {
        assert!(
            meta.is_file() || meta.is_dir(),
            "extraction left {} which is neither a file nor a directory",
            path.display()
        );
        if meta.is_file() {
            files += 1;
            bytes += meta.len();
        }
    });
    assert_eq!(extracted.files, files, "files written and files found");
    assert!(bytes <= ARCHIVE_LIMITS.max_total_bytes, "{bytes} bytes");
    Ok(extracted)
}

fn walk(dir: &Path, visit: &mut impl FnMut(&Path, &std::fs::Metadata)) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        visit(&path, &meta);
        if meta.is_dir() {
            walk(&path, visit);
        }
    }
}

/// What a signature fuzz input was checked as.
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "one outcome per fuzz input, never stored in bulk"
)]
pub enum SignatureOutcome {
    /// The input is a public key line the parser accepted or refused.
    Key(Result<PublicKey, KeyError>),
    /// The input is a signature file, parsed and checked against
    /// [`fixed_statement`] with [`trusted_key`] as the one trusted key.
    Signature(Result<Verified, SignatureError>),
}

/// Parses `data` as a public key (when it is text) and as a signature
/// file; a signature that parses is checked against [`fixed_statement`]
/// with [`trusted_key`] the only trusted key, one signature required.
pub fn signature_verify(data: &[u8]) -> Vec<SignatureOutcome> {
    let mut outcomes = Vec::with_capacity(2);
    if let Ok(text) = std::str::from_utf8(data) {
        outcomes.push(SignatureOutcome::Key(PublicKey::parse(text)));
    }
    let checked = PackSignature::parse("fuzz.sig", data).and_then(|signature| {
        let (statement, trust) = fixed();
        trust.check(statement.clone(), &[signature])
    });
    outcomes.push(SignatureOutcome::Signature(checked));
    outcomes
}

/// The one key [`signature_verify`] trusts, from a fixed seed.
pub fn trusted_key() -> SecretKey {
    SecretKey::from_signing_key(SigningKey::from_bytes(&[7; 32]), Some("fuzz".into()))
}

/// The statement of a small, fixed, built pack: what the valid seed
/// signature covers.
pub fn fixed_statement() -> &'static Statement {
    &fixed().0
}

/// A signature file by [`trusted_key`] over [`fixed_statement`]: the seed
/// that reaches the end of verification. Ed25519 signing is deterministic,
/// so it is the same bytes on every run.
pub fn valid_signature() -> Vec<u8> {
    PackSignature::sign(fixed_statement(), &trusted_key()).to_bytes()
}

fn fixed() -> &'static (Statement, TrustConfig) {
    static FIXED: OnceLock<(Statement, TrustConfig)> = OnceLock::new();
    FIXED.get_or_init(|| {
        let statement = match build_fixed_statement() {
            Ok(s) => s,
            Err(e) => panic!("the fixed pack's statement: {e}"),
        };
        let trust = match TrustConfig::builder()
            .trust(trusted_key().public().clone())
            .require(1)
            .build()
        {
            Ok(t) => t,
            Err(e) => panic!("the fixed trust configuration: {e}"),
        };
        (statement, trust)
    })
}

fn build_fixed_statement() -> Result<Statement, Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let component = b"\0asm fixed component";
    std::fs::create_dir_all(dir.path().join("plugins"))?;
    std::fs::write(dir.path().join("plugins/rule.wasm"), component)?;
    std::fs::write(
        dir.path().join("pack.toml"),
        format!(
            "name = \"fuzz\"\nversion = \"1.0.0\"\nserial = 1\n\n[[plugin]]\nid = \"rule\"\n\
             component = \"plugins/rule.wasm\"\nsha256 = \"{}\"\n",
            sha256_hex(component)
        ),
    )?;
    Ok(Statement::of_pack(dir.path())?)
}

/// A small seeded generator of byte mutations (xorshift64*), for the smoke
/// pass: the same seed gives the same mutations on every machine.
#[derive(Debug, Clone)]
pub struct Mutator {
    state: u64,
}

impl Mutator {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Mutator {
        Mutator { state: seed.max(1) }
    }

    fn next(&mut self) -> u64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n.max(1)).unwrap_or(1)).unwrap_or(0)
    }

    /// A mutation of `input`: one to four byte flips, insertions, deletions
    /// or overwrites with an interesting byte.
    pub fn mutate(&mut self, input: &[u8]) -> Vec<u8> {
        const INTERESTING: [u8; 10] = [0, 0xff, b'\n', b'"', b'\\', b'/', b'.', b'{', b'0', 0x80];
        let mut out = input.to_vec();
        for _ in 0..=self.below(4) {
            let at = self.below(out.len() + 1);
            match self.below(4) {
                0 if at < out.len() => out[at] ^= 1 << self.below(8),
                1 => out.insert(at, INTERESTING[self.below(INTERESTING.len())]),
                2 if at < out.len() => {
                    out.remove(at);
                }
                _ if at < out.len() => out[at] = INTERESTING[self.below(INTERESTING.len())],
                _ => out.push(self.next() as u8),
            }
        }
        out
    }
}
