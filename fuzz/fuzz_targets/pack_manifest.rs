//! Fuzz target: `qorgan_e2e::fuzzing::pack_manifest`, the entry point the smoke
//! pass in `tests/e2e/fuzz_smoke.rs` runs too.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = qorgan_e2e::fuzzing::pack_manifest(data);
});
