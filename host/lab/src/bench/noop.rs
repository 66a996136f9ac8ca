//! The no-op plugin: the floor of the host–plugin boundary.
//!
//! A real component of the `rule-plugin` world that returns an empty
//! verdict for every transaction and asks the host nothing. Its cost per
//! transaction is what every plugin pays before its rule logic runs:
//! lowering the batch into the guest, the call, lifting the verdicts back,
//! and the host's own work (history, decisions). It is assembled here from
//! a hand-written core module in WAT that implements the canonical ABI
//! (`cabi_realloc` as a bump allocator reset at every `evaluate`, static
//! `metadata` and `configure` answers), with the world's types embedded by
//! `wit-component`, so `qorgan bench` needs no plugin toolchain for it.

use std::fmt::Write as _;
use std::sync::Arc;

use wit_component::{ComponentEncoder, StringEncoding};
use wit_parser::{Resolve, SourceMap};

use super::BenchError;
use qorgan::pack::{Pack, PackPlugin, PluginEntry, sha256_hex};

/// A bump allocator in WAT for hand-written rule modules: `$alloc` (align,
/// size) and the canonical ABI's `cabi_realloc` over a mutable global
/// `$heap`, which the module declares. It never frees, grows memory when it
/// must and traps when it cannot.
pub const BUMP_ALLOCATOR: &str = r#"  (func $alloc (param $align i32) (param $size i32) (result i32)
    (local $ptr i32) (local $end i64) (local $have i64)
    (local.set $ptr
      (i32.and
        (i32.sub (i32.add (global.get $heap) (local.get $align)) (i32.const 1))
        (i32.sub (i32.const 0) (local.get $align))))
    (local.set $end
      (i64.add (i64.extend_i32_u (local.get $ptr)) (i64.extend_i32_u (local.get $size))))
    (local.set $have (i64.shl (i64.extend_i32_u (memory.size)) (i64.const 16)))
    (if (i64.gt_u (local.get $end) (local.get $have))
      (then
        (if (i32.eq
              (memory.grow
                (i32.wrap_i64
                  (i64.shr_u
                    (i64.add (i64.sub (local.get $end) (local.get $have)) (i64.const 0xffff))
                    (i64.const 16))))
              (i32.const -1))
          (then unreachable))))
    (global.set $heap (i32.wrap_i64 (local.get $end)))
    (local.get $ptr))
  (func (export "cabi_realloc")
    (param $old i32) (param $old_size i32) (param $align i32) (param $new_size i32)
    (result i32)
    (local $new i32)
    (local.set $new (call $alloc (local.get $align) (local.get $new_size)))
    (if (local.get $old)
      (then
        (memory.copy (local.get $new) (local.get $old)
          (select (local.get $old_size) (local.get $new_size)
            (i32.lt_u (local.get $old_size) (local.get $new_size))))))
    (local.get $new))"#;

/// The no-op plugin's rule id.
pub const NOOP_ID: &str = "noop";

const RULE_INTERFACE: &str = "qorgan:rule/rule@0.2.0";

/// The WIT package, embedded so the component matches the host's contract.
const WIT: [(&str, &str); 5] = [
    ("types.wit", include_str!("../../../../wit/types.wit")),
    ("history.wit", include_str!("../../../../wit/history.wit")),
    ("lists.wit", include_str!("../../../../wit/lists.wit")),
    ("log.wit", include_str!("../../../../wit/log.wit")),
    ("rule.wit", include_str!("../../../../wit/rule.wit")),
];

/// The component's bytes.
pub fn component() -> Result<Vec<u8>, BenchError> {
    let mut sources = SourceMap::new();
    for (name, text) in WIT {
        sources.push_str(name, text);
    }
    let mut resolve = Resolve::default();
    let group = sources
        .parse()
        .map_err(|(_, e)| BenchError::Noop(format!("parsing the WIT: {e}")))?;
    let pkg = resolve
        .push_group(group)
        .map_err(|e| BenchError::Noop(format!("resolving the WIT: {e:#}")))?;
    let world = resolve
        .select_world(&[pkg], Some("rule-plugin"))
        .map_err(|e| BenchError::Noop(format!("selecting the world: {e:#}")))?;
    let mut module = wat::parse_str(core_module())
        .map_err(|e| BenchError::Noop(format!("assembling the core module: {e}")))?;
    wit_component::embed_component_metadata(&mut module, &resolve, world, StringEncoding::UTF8)
        .map_err(|e| BenchError::Noop(format!("embedding the world: {e:#}")))?;
    ComponentEncoder::default()
        .validate(true)
        .module(&module)
        .and_then(|mut encoder| encoder.encode())
        .map_err(|e| BenchError::Noop(format!("encoding the component: {e:#}")))
}

/// `like` with its plugins replaced by the no-op plugin alone: the same
/// rates, lists, limits and thresholds.
pub fn pack(like: &Pack) -> Result<Pack, BenchError> {
    let bytes = component()?;
    let mut pack = like.clone();
    pack.plugins = vec![PackPlugin {
        entry: PluginEntry {
            id: NOOP_ID.to_owned(),
            component: format!("plugins/{NOOP_ID}.wasm"),
            sha256: None,
            source: None,
            weight: 1.0,
            parameters: Default::default(),
            fuel_per_transaction: None,
        },
        sha256: sha256_hex(&bytes),
        bytes: Arc::from(bytes),
    }];
    Ok(pack)
}

/// The core module. Layout of the static data from address 16: the
/// `configure` result (`ok`, all zero), the `evaluate` result slot, the
/// metadata record (id, version, description, then three empty lists),
/// then the strings. Records and lists are `{ptr: u32, len: u32}`.
fn core_module() -> String {
    let (id, version, description) = (
        NOOP_ID,
        "0.1.0",
        "Returns no findings: the boundary's floor.",
    );
    let configure_ret = 16u32;
    let evaluate_ret = 32u32;
    let metadata = 40u32;
    let strings = metadata + 48;
    let mut image = vec![0u8; strings as usize];
    let mut put = |at: u32, ptr: u32, len: usize| {
        let at = at as usize;
        if let Some(slot) = image.get_mut(at..at + 8) {
            slot[..4].copy_from_slice(&ptr.to_le_bytes());
            slot[4..].copy_from_slice(&(len as u32).to_le_bytes());
        }
    };
    let id_at = strings;
    let version_at = id_at + id.len() as u32;
    let description_at = version_at + version.len() as u32;
    put(metadata, id_at, id.len());
    put(metadata + 8, version_at, version.len());
    put(metadata + 16, description_at, description.len());
    image.extend_from_slice(id.as_bytes());
    image.extend_from_slice(version.as_bytes());
    image.extend_from_slice(description.as_bytes());
    let heap_base = (image.len() as u32).next_multiple_of(16);
    let mut data = String::with_capacity(image.len() * 3);
    for byte in &image {
        let _ = write!(data, "\\{byte:02x}");
    }
    format!(
        r#"(module
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const {heap_base}))
  (data (i32.const 0) "{data}")
{BUMP_ALLOCATOR}
  (func (export "{RULE_INTERFACE}#metadata") (result i32)
    (i32.const {metadata}))
  (func (export "{RULE_INTERFACE}#configure") (param i32) (param i32) (result i32)
    (i32.const {configure_ret}))
  ;; The batch is not read: the heap starts over, and the verdicts (empty
  ;; lists, 8 bytes each) are zeroed where it was.
  (func (export "{RULE_INTERFACE}#evaluate")
    (param $tx i32) (param $n i32) (param $text i32) (param $text_len i32)
    (result i32)
    (local $list i32)
    (if (i32.gt_u (local.get $n) (i32.const 0x1fffffff)) (then unreachable))
    (global.set $heap (i32.const {heap_base}))
    (local.set $list (call $alloc (i32.const 4) (i32.mul (local.get $n) (i32.const 8))))
    (memory.fill (local.get $list) (i32.const 0) (i32.mul (local.get $n) (i32.const 8)))
    (i32.store (i32.const {evaluate_ret}) (local.get $list))
    (i32.store offset=4 (i32.const {evaluate_ret}) (local.get $n))
    (i32.const {evaluate_ret}))
)
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use qorgan::engine::Engine;

    #[test]
    fn the_noop_plugin_is_a_valid_rule_plugin() {
        let bytes = component();
        assert!(bytes.is_ok(), "{:?}", bytes.err());
        let engine = Engine::new();
        let Ok(engine) = engine else { return };
        let info = bytes
            .map_err(|e| e.to_string())
            .and_then(|b| engine.inspect(NOOP_ID, &b).map_err(|e| e.to_string()));
        match info {
            Ok(info) => {
                assert_eq!(info.id, NOOP_ID);
                assert!(info.codes.is_empty());
            }
            Err(e) => panic!("{e}"),
        }
    }
}
