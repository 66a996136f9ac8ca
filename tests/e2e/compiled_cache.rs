//! The on-disk cache of compiled components: a second engine (a restarted
//! host) loads a component from the cache instead of compiling it again, and
//! a refused component leaves nothing behind.

use std::path::{Path, PathBuf};

use qorgan::{Engine, LoadError};
use qorgan_e2e::fixtures::{kz_threshold_component, tempdir};

fn cached_engine(dir: &Path) -> Engine {
    match Engine::builder()
        .max_instances(8)
        .compiled_cache(dir)
        .build()
    {
        Ok(engine) => engine,
        Err(e) => panic!("engine: {e}"),
    }
}

fn entries(dir: &Path) -> Vec<(PathBuf, std::time::SystemTime)> {
    let mut entries: Vec<_> = match std::fs::read_dir(dir) {
        Ok(read) => read
            .filter_map(Result::ok)
            .filter_map(|e| {
                let modified = e.metadata().ok()?.modified().ok()?;
                Some((e.path(), modified))
            })
            .collect(),
        Err(e) => panic!("{}: {e}", dir.display()),
    };
    entries.sort();
    entries
}

#[test]
fn a_restarted_engine_loads_a_component_from_the_disk_cache_without_compiling_it_again() {
    let root = tempdir();
    let dir = root.path().join("compiled");
    let bytes = kz_threshold_component();
    let first = match cached_engine(&dir).inspect("kz-threshold", bytes) {
        Ok(info) => info,
        Err(e) => panic!("first load: {e}"),
    };
    let after_first = entries(&dir);
    assert_eq!(after_first.len(), 1, "{after_first:?}");
    assert!(
        after_first
            .iter()
            .all(|(p, _)| p.to_string_lossy().contains(&first.sha256)),
        "{after_first:?}"
    );
    let second = match cached_engine(&dir).inspect("kz-threshold", bytes) {
        Ok(info) => info,
        Err(e) => panic!("second load: {e}"),
    };
    assert_eq!(first, second);
    // A hit is never rewritten: the entry is the one the first engine wrote.
    assert_eq!(entries(&dir), after_first);
}

#[test]
fn a_damaged_cache_entry_is_compiled_afresh_and_replaced() {
    let root = tempdir();
    let dir = root.path().join("compiled");
    let bytes = kz_threshold_component();
    if let Err(e) = cached_engine(&dir).inspect("kz-threshold", bytes) {
        panic!("first load: {e}");
    }
    let listed = entries(&dir);
    let [(entry, _)] = listed.as_slice() else {
        panic!("not one entry: {listed:?}");
    };
    if let Err(e) = std::fs::write(entry, b"qorgan-compiled-component v1\nnot an artifact") {
        panic!("{e}");
    }
    if let Err(e) = cached_engine(&dir).inspect("kz-threshold", bytes) {
        panic!("load past a damaged entry: {e}");
    }
    let replaced = match std::fs::metadata(entry) {
        Ok(meta) => meta.len(),
        Err(e) => panic!("{e}"),
    };
    assert!(
        replaced > 1000,
        "the entry was not rewritten: {replaced} bytes"
    );
}

#[test]
fn a_component_with_foreign_imports_is_refused_and_not_cached() {
    let root = tempdir();
    let dir = root.path().join("compiled");
    let bytes = match wat::parse_str(
        r#"(component (import "wasi:random/random@0.2.0" (instance)) (core module))"#,
    ) {
        Ok(bytes) => bytes,
        Err(e) => panic!("fixture: {e}"),
    };
    match cached_engine(&dir).inspect("random", &bytes) {
        Err(LoadError::ForbiddenImports { imports, .. }) => {
            assert_eq!(imports, ["wasi:random/random@0.2.0"]);
        }
        other => panic!("not refused for its import: {other:?}"),
    }
    assert!(entries(&dir).is_empty());
}
