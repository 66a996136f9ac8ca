//! Hostile rule plugins, built from hand-written WAT inside the test process.
//!
//! Every fixture here is a real component of the `qorgan:rule@0.2.0`
//! `rule-plugin` world: a core module written in WAT that implements the
//! canonical ABI by hand (lowered exports named as `wit-component` expects,
//! `cabi_realloc` as a bump allocator, and `memory`), with the world's
//! component-type metadata embedded by `wit-component` and encoded into a
//! component with validation on. Each one answers `metadata` with a valid
//! record and `configure` with `ok`; only `evaluate` misbehaves, in the way its
//! [`Behaviour`] says. [`Behaviour::Allow`] is the well-behaved control that
//! proves the machinery right.
//!
//! The core modules import nothing: a hostile plugin needs none of the host's
//! interfaces to do damage. The components still import one instance,
//! [`TYPES_INTERFACE`], which holds types only: `wit-component` adds it (as it
//! does for every real plugin) because the exported `rule` interface uses the
//! records of `types`. [`filesystem_importing_component`] is the odd one
//! out: a plugin that is well behaved but imports
//! `wasi:filesystem/preopens@0.2.0`, which the host must refuse at load time.
//!
//! ```no_run
//! use qorgan_e2e::hostile::{self, Behaviour};
//!
//! let bytes = hostile::component(Behaviour::EndlessLoop)?;
//! assert_eq!(Behaviour::EndlessLoop.rule_id(), "hostile-loop");
//! # Ok::<(), hostile::FixtureError>(())
//! ```

use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};

use qorgan_lab::bench::noop::BUMP_ALLOCATOR;
use wit_component::{ComponentEncoder, StringEncoding};
use wit_parser::{PackageId, Resolve, WorldId};

/// The version every hostile plugin reports in its metadata.
pub const VERSION: &str = "0.0.1";

/// The one finding code every hostile plugin declares (with action `review`).
pub const DECLARED_CODE: &str = "HOSTILE";

/// The code [`Behaviour::EmitsUndeclaredCode`] emits without declaring it.
pub const UNDECLARED_CODE: &str = "UNDECLARED_HOSTILE";

/// The rule id of the plugin built by [`filesystem_importing_component`].
pub const FILESYSTEM_RULE_ID: &str = "hostile-filesystem";

/// The forbidden import of [`filesystem_importing_component`]: the name the
/// host's refusal should mention.
pub const FORBIDDEN_IMPORT: &str = "wasi:filesystem/preopens@0.2.0";

/// The WIT interface the rule plugins export.
pub const RULE_INTERFACE: &str = "qorgan:rule/rule@0.2.0";

/// The one import of every fixture built by [`component`]: the `types`
/// interface, which `wit-component` imports because the exported `rule`
/// interface uses its types. The instance holds types only, no functions.
pub const TYPES_INTERFACE: &str = "qorgan:rule/types@0.2.0";

/// The log interface, which [`Behaviour::LogFlood`] imports.
pub const LOG_INTERFACE: &str = "qorgan:rule/log@0.2.0";

/// How a hostile plugin's `evaluate` behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Behaviour {
    /// Never returns: spins in a loop without calling anything. A host with
    /// epoch or fuel interruption stops it.
    EndlessLoop,
    /// Grows its memory 1 MiB at a time, writing every byte of each new
    /// stretch so that it is really committed, until growth fails; then it
    /// traps with `unreachable`. A host whose memory limiter traps on growth
    /// failure stops it at the cap. Without a cap it takes a 32-bit memory to
    /// its full 4 GiB before trapping, so only run it under a limit.
    MemoryBomb,
    /// Executes `unreachable` at once.
    Trap,
    /// Behaves well: returns one empty verdict per transaction of the batch.
    /// The control fixture.
    Allow,
    /// Calls a non-tail recursive function that never ends, until the wasm
    /// stack overflows.
    DeepRecursion,
    /// Returns one verdict per transaction, each with one finding whose code
    /// ([`UNDECLARED_CODE`]) the plugin's metadata does not declare.
    EmitsUndeclaredCode,
    /// Returns no verdicts at all, whatever the size of the batch.
    WrongVerdictCount,
    /// Returns one verdict per transaction, each with one finding of the
    /// declared code but a score of 200, outside the contract's 0 to 100.
    ScoreOutOfRange,
    /// Returns one verdict per transaction, all naming the same list of
    /// [`HUGE_FINDING_COUNT`] findings (of the declared code): a few MiB of
    /// guest memory that a host copying it out eagerly multiplies by the
    /// batch size.
    HugeFindingList,
    /// Returns one verdict per transaction, each with one finding whose
    /// message is [`HUGE_STRING_BYTES`] bytes long.
    HugeString,
    /// Traps when its batch holds a cash withdrawal; otherwise behaves as
    /// [`Behaviour::Allow`]. A batch with one cash withdrawal in the middle
    /// traps as a whole.
    TrapOnCashWithdrawal,
    /// Keeps a counter of its `evaluate` calls in a global and, from its
    /// second call on, reports a finding of the declared code on every
    /// transaction: a rule whose verdicts depend on what it saw before.
    Stateful,
    /// Spins [`SPIN_ITERATIONS`] times in every call, whatever its batch,
    /// then traps: a host that retries each transaction alone pays the spin
    /// once per transaction.
    SpinThenTrap,
    /// Writes [`LOG_FLOOD_LINES`] log lines of [`LOG_FLOOD_MESSAGE_BYTES`]
    /// bytes each (100 MB) in every call, each holding a newline and a forged
    /// host line, then returns one empty verdict per transaction. Its core
    /// module imports `qorgan:rule/log`.
    LogFlood,
    /// Loops forever when its batch holds a cash withdrawal; otherwise gives
    /// every transaction one finding of the declared code: a plugin with real
    /// verdicts that some transactions drive past any budget.
    LoopOnCashWithdrawal,
}

/// How many times [`Behaviour::SpinThenTrap`] goes round its loop per call.
pub const SPIN_ITERATIONS: u32 = 100_000;

/// How many lines [`Behaviour::LogFlood`] writes per call.
pub const LOG_FLOOD_LINES: u32 = 100_000;

/// The length of each of [`Behaviour::LogFlood`]'s lines, in bytes.
pub const LOG_FLOOD_MESSAGE_BYTES: u32 = 1000;

/// What each of [`Behaviour::LogFlood`]'s lines forges after its newline.
pub const FORGED_LINE: &str =
    "2026-12-07T00:00:00.000000Z  INFO qorgan_server::serve: pack activated serial=999";

/// The findings in the one list [`Behaviour::HugeFindingList`] returns for
/// every transaction.
pub const HUGE_FINDING_COUNT: u32 = 200_000;

/// The length of [`Behaviour::HugeString`]'s message, in bytes.
pub const HUGE_STRING_BYTES: u32 = 8 * 1024 * 1024;

impl Behaviour {
    /// Every behaviour, in declaration order.
    pub const ALL: [Behaviour; 15] = [
        Behaviour::EndlessLoop,
        Behaviour::MemoryBomb,
        Behaviour::Trap,
        Behaviour::Allow,
        Behaviour::DeepRecursion,
        Behaviour::EmitsUndeclaredCode,
        Behaviour::WrongVerdictCount,
        Behaviour::ScoreOutOfRange,
        Behaviour::HugeFindingList,
        Behaviour::HugeString,
        Behaviour::TrapOnCashWithdrawal,
        Behaviour::Stateful,
        Behaviour::SpinThenTrap,
        Behaviour::LogFlood,
        Behaviour::LoopOnCashWithdrawal,
    ];

    /// The rule id the plugin reports in its metadata, distinct for each
    /// behaviour (e.g. `hostile-loop`).
    pub fn rule_id(self) -> &'static str {
        match self {
            Behaviour::EndlessLoop => "hostile-loop",
            Behaviour::MemoryBomb => "hostile-memory-bomb",
            Behaviour::Trap => "hostile-trap",
            Behaviour::Allow => "hostile-allow",
            Behaviour::DeepRecursion => "hostile-recursion",
            Behaviour::EmitsUndeclaredCode => "hostile-undeclared-code",
            Behaviour::WrongVerdictCount => "hostile-wrong-verdict-count",
            Behaviour::ScoreOutOfRange => "hostile-score-out-of-range",
            Behaviour::HugeFindingList => "hostile-huge-finding-list",
            Behaviour::HugeString => "hostile-huge-string",
            Behaviour::TrapOnCashWithdrawal => "hostile-trap-on-cash",
            Behaviour::Stateful => "hostile-stateful",
            Behaviour::SpinThenTrap => "hostile-spin-then-trap",
            Behaviour::LogFlood => "hostile-log-flood",
            Behaviour::LoopOnCashWithdrawal => "hostile-loop-on-cash",
        }
    }

    /// The description the plugin reports in its metadata.
    pub fn description(self) -> &'static str {
        match self {
            Behaviour::EndlessLoop => "Hostile fixture: evaluate never returns.",
            Behaviour::MemoryBomb => "Hostile fixture: evaluate grows memory until growth fails.",
            Behaviour::Trap => "Hostile fixture: evaluate traps at once.",
            Behaviour::Allow => "Well-behaved fixture: one empty verdict per transaction.",
            Behaviour::DeepRecursion => "Hostile fixture: evaluate recurses without end.",
            Behaviour::EmitsUndeclaredCode => {
                "Hostile fixture: evaluate emits a finding code it does not declare."
            }
            Behaviour::WrongVerdictCount => {
                "Hostile fixture: evaluate returns no verdicts for any batch."
            }
            Behaviour::ScoreOutOfRange => "Hostile fixture: evaluate scores a finding 200.",
            Behaviour::HugeFindingList => {
                "Hostile fixture: every verdict names the same 200,000 findings."
            }
            Behaviour::HugeString => "Hostile fixture: every finding's message is 8 MiB long.",
            Behaviour::TrapOnCashWithdrawal => {
                "Hostile fixture: evaluate traps on a batch with a cash withdrawal."
            }
            Behaviour::Stateful => {
                "Hostile fixture: evaluate flags everything from its second call on."
            }
            Behaviour::SpinThenTrap => "Hostile fixture: evaluate spins, then traps.",
            Behaviour::LogFlood => "Hostile fixture: evaluate logs 100 MB of forged lines.",
            Behaviour::LoopOnCashWithdrawal => {
                "Hostile fixture: evaluate loops forever on a batch with a cash withdrawal."
            }
        }
    }

    /// The file name [`write_component`] gives this fixture:
    /// `<rule id>.wasm`.
    pub fn file_name(self) -> String {
        format!("{}.wasm", self.rule_id())
    }
}

impl fmt::Display for Behaviour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.rule_id())
    }
}

/// Why a fixture could not be built or written: the WIT did not parse, the
/// WAT did not assemble, `wit-component` refused the module, or the file
/// could not be written. The message carries the whole cause chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixtureError {
    message: String,
}

impl FixtureError {
    fn new(step: &str, cause: impl fmt::Display) -> Self {
        FixtureError {
            message: format!("hostile fixture: {step}: {cause}"),
        }
    }

    fn from_anyhow(step: &str, cause: &(impl fmt::Display + fmt::Debug)) -> Self {
        // `{:#}` prints an anyhow error with its whole context chain.
        FixtureError::new(step, format_args!("{cause:#}"))
    }
}

impl fmt::Display for FixtureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FixtureError {}

/// The directory of the `qorgan:rule` WIT package (`<workspace>/wit`).
pub fn wit_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("wit")
}

/// Builds the component of a hostile rule plugin whose `evaluate` behaves as
/// `behaviour`. Its core module imports nothing.
///
/// # Errors
///
/// When the WIT in [`wit_dir`] does not parse or no longer fits the
/// hand-written canonical ABI (e.g. a function's signature changed), or the
/// WAT does not assemble.
pub fn component(behaviour: Behaviour) -> Result<Vec<u8>, FixtureError> {
    let (resolve, world) = rule_plugin_world()?;
    encode(&core_module_wat(behaviour), &resolve, world)
}

/// Builds [`component`]`(behaviour)` and writes it to
/// `dir/`[`Behaviour::file_name`], returning the path written.
///
/// # Errors
///
/// As [`component`], and when the file cannot be written.
pub fn write_component(dir: &Path, behaviour: Behaviour) -> Result<PathBuf, FixtureError> {
    let bytes = component(behaviour)?;
    let path = dir.join(behaviour.file_name());
    std::fs::write(&path, bytes)
        .map_err(|e| FixtureError::new(&format!("writing {}", path.display()), e))?;
    Ok(path)
}

/// The WAT text of the core module behind [`component`]`(behaviour)`, for
/// debugging a fixture or deriving a new one.
pub fn core_module_wat(behaviour: Behaviour) -> String {
    CoreModule::new(behaviour.rule_id(), behaviour.description()).wat(behaviour, None)
}

/// Builds a well-behaved rule plugin (its `evaluate` is
/// [`Behaviour::Allow`], its id [`FILESYSTEM_RULE_ID`]) that also imports
/// [`FORBIDDEN_IMPORT`] (and, through it, `wasi:filesystem/types@0.2.0` for
/// the `descriptor` resource) and calls `get-directories` at the start of
/// every `evaluate`. Apart from that import it is a perfectly valid
/// `rule-plugin`, so a host that refuses it can only be refusing the import.
///
/// The WASI interfaces are declared with the minimal subset of
/// `wasi:filesystem@0.2.0` needed for `get-directories`.
///
/// # Errors
///
/// As [`component`].
pub fn filesystem_importing_component() -> Result<Vec<u8>, FixtureError> {
    importing_component(Smuggled::Filesystem)
}

/// An interface outside the `qorgan:rule` contract that a fixture of
/// [`importing_component`] imports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Smuggled {
    /// `wasi:filesystem/preopens@0.2.0` (`get-directories`): files.
    Filesystem,
    /// `wasi:random/random@0.2.0` (`get-random-u64`): randomness, which
    /// would make verdicts irreproducible.
    Random,
    /// `wasi:clocks/monotonic-clock@0.2.0` (`now`): a clock, which would let
    /// a rule decide by the time of evaluation rather than the transaction.
    Clock,
    /// `exfil:net/send@1.0.0` (`send`): an interface no host offers, e.g. a
    /// channel out for the transactions a rule sees.
    Unknown,
}

impl Smuggled {
    /// Every smuggled import.
    pub const ALL: [Smuggled; 4] = [
        Smuggled::Filesystem,
        Smuggled::Random,
        Smuggled::Clock,
        Smuggled::Unknown,
    ];

    /// The rule id of the fixture.
    pub fn rule_id(self) -> &'static str {
        match self {
            Smuggled::Filesystem => FILESYSTEM_RULE_ID,
            Smuggled::Random => "hostile-random",
            Smuggled::Clock => "hostile-clock",
            Smuggled::Unknown => "hostile-unknown-import",
        }
    }

    /// The imported interface, as the host's refusal should name it.
    pub fn interface(self) -> &'static str {
        match self {
            Smuggled::Filesystem => FORBIDDEN_IMPORT,
            Smuggled::Random => "wasi:random/random@0.2.0",
            Smuggled::Clock => "wasi:clocks/monotonic-clock@0.2.0",
            Smuggled::Unknown => "exfil:net/send@1.0.0",
        }
    }

    /// The WIT package declaring the interface (a minimal subset).
    fn package_wit(self) -> &'static str {
        match self {
            Smuggled::Filesystem => WASI_FILESYSTEM_WIT,
            Smuggled::Random => {
                "package wasi:random@0.2.0;\ninterface random {\n    get-random-u64: func() -> u64;\n}\n"
            }
            Smuggled::Clock => {
                "package wasi:clocks@0.2.0;\ninterface monotonic-clock {\n    type instant = u64;\n    now: func() -> instant;\n}\n"
            }
            Smuggled::Unknown => {
                "package exfil:net@1.0.0;\ninterface send {\n    send: func(data: list<u8>);\n}\n"
            }
        }
    }

    /// The core import of the function.
    fn core_import(self) -> String {
        let (name, signature) = match self {
            Smuggled::Filesystem => ("get-directories", "(param i32)"),
            Smuggled::Random => ("get-random-u64", "(result i64)"),
            Smuggled::Clock => ("now", "(result i64)"),
            Smuggled::Unknown => ("send", "(param i32 i32)"),
        };
        format!(
            r#"(import "{}" "{name}" (func $smuggled {signature}))"#,
            self.interface()
        )
    }

    /// A call of the imported function, with `scratch` as its scratch space.
    fn core_call(self, scratch: u32) -> String {
        match self {
            Smuggled::Filesystem => format!("(call $smuggled (i32.const {scratch}))"),
            Smuggled::Random | Smuggled::Clock => "(drop (call $smuggled))".to_owned(),
            Smuggled::Unknown => "(call $smuggled (i32.const 0) (i32.const 16))".to_owned(),
        }
    }
}

/// Builds a well-behaved rule plugin (its `evaluate` is
/// [`Behaviour::Allow`], its id [`Smuggled::rule_id`]) that also imports
/// the interface of `smuggled` and calls it at the start of every
/// `evaluate`. Apart from that import it is a valid `rule-plugin`, so a host
/// that refuses it can only be refusing the import.
///
/// # Errors
///
/// As [`component`].
pub fn importing_component(smuggled: Smuggled) -> Result<Vec<u8>, FixtureError> {
    let mut resolve = Resolve::default();
    push_rule_package(&mut resolve)?;
    resolve
        .push_str("smuggled.wit", smuggled.package_wit())
        .map_err(|e| FixtureError::from_anyhow("parsing the smuggled interface", &e))?;
    let world_wit = format!(
        "package qorgan-e2e:hostile;\n\nworld rule-plugin-smuggling {{\n    include qorgan:rule/rule-plugin@0.2.0;\n    import {};\n}}\n",
        smuggled.interface()
    );
    let pkg = resolve
        .push_str("hostile-smuggling.wit", &world_wit)
        .map_err(|e| FixtureError::from_anyhow("parsing the smuggling world", &e))?;
    let world = resolve
        .select_world(&[pkg], Some("rule-plugin-smuggling"))
        .map_err(|e| FixtureError::from_anyhow("selecting the smuggling world", &e))?;
    let wat = CoreModule::new(
        smuggled.rule_id(),
        "Hostile fixture: imports an interface outside the contract.",
    )
    .wat(Behaviour::Allow, Some(smuggled));
    encode(&wat, &resolve, world)
}

/// A minimal, type-compatible subset of `wasi:filesystem@0.2.0`.
const WASI_FILESYSTEM_WIT: &str = r#"
package wasi:filesystem@0.2.0;

interface types {
    resource descriptor;
}

interface preopens {
    use types.{descriptor};
    get-directories: func() -> list<tuple<descriptor, string>>;
}
"#;

fn push_rule_package(resolve: &mut Resolve) -> Result<PackageId, FixtureError> {
    let dir = wit_dir();
    resolve
        .push_dir(&dir)
        .map(|(pkg, _sources)| pkg)
        .map_err(|e| FixtureError::from_anyhow(&format!("parsing {}", dir.display()), &e))
}

fn rule_plugin_world() -> Result<(Resolve, WorldId), FixtureError> {
    let mut resolve = Resolve::default();
    let pkg = push_rule_package(&mut resolve)?;
    let world = resolve
        .select_world(&[pkg], Some("rule-plugin"))
        .map_err(|e| FixtureError::from_anyhow("selecting world rule-plugin", &e))?;
    Ok((resolve, world))
}

fn encode(wat: &str, resolve: &Resolve, world: WorldId) -> Result<Vec<u8>, FixtureError> {
    let mut module =
        wat::parse_str(wat).map_err(|e| FixtureError::new("assembling the core module", e))?;
    wit_component::embed_component_metadata(&mut module, resolve, world, StringEncoding::UTF8)
        .map_err(|e| FixtureError::from_anyhow("embedding component metadata", &e))?;
    ComponentEncoder::default()
        .validate(true)
        .module(&module)
        .and_then(|mut encoder| encoder.encode())
        .map_err(|e| FixtureError::from_anyhow("encoding the component", &e))
}

// --- Canonical ABI layouts (wasm32) -----------------------------------------
//
// string / list<T>: { ptr: u32, len: u32 }, size 8, align 4.
// enum action (5 cases): u8.  flags checks (5 flags): u8.
//
// code-spec { code: string @0, action: action @8, description: string @12 }
//     size 20, align 4.
// finding { code: string @0, action @8, score: u8 @9, requirements @10,
//           message: string @12, evidence: list<evidence> @20 }
//     size 28, align 4.
// verdict { findings: list<finding> @0 }          size 8, align 4.
// metadata { id @0, version @8, description @16, parameters @24,
//            codes @32, lists @40 }                size 48, align 4.
// result<_, string>: discriminant u8 @0, string @4; size 12, align 4.
//
// Lowered export signatures (results of more than one flat value are
// returned through a pointer to them):
//   metadata: func() -> i32
//   configure: func(params.ptr i32, params.len i32) -> i32
//   evaluate: func(transactions.ptr, transactions.len, text.ptr, text.len) -> i32
// Lowered import `get-directories: func() -> list<...>`: func(retptr i32).
//
// These layouts are computed by hand from `wit/types.wit`: `wit-component`
// checks the signatures above but not what the pointers point at. If the
// records change, update them; the unit tests below (which lift `metadata`
// and `evaluate` results with wasmtime) catch a drift.

const CODE_SPEC_SIZE: u32 = 20;
const FINDING_SIZE: u32 = 28;
const METADATA_SIZE: u32 = 48;
const VERDICT_SIZE: u32 = 8;
const ACTION_REVIEW: u8 = 2;
// transaction { at: cursor @0 (16), kind: tx-kind @16, channel @17,
//   amount @24, currency @32, sender: party @40 (88), recipient @128 (88),
//   remittance @216, verified @224, device: option<u64> @232 }
//   size 248, align 8, where party is { account @0, iin @8, kind @16,
//   vasp @20, country @28, opened: option<s64> @40, holder @56, income @72 }
//   size 88, align 8.
const TRANSACTION_SIZE: u32 = 248;
const TX_KIND_OFFSET: u32 = 16;
const KIND_CASH_WITHDRAWAL: u32 = 2;

/// The static data of a plugin's core module, laid out from address 0, and
/// the addresses the code refers to.
struct CoreModule {
    image: Vec<u8>,
    configure_ret: u32,
    evaluate_ret: u32,
    scratch: u32,
    metadata: u32,
    finding: u32,
    declared_finding: u32,
    out_of_range_finding: u32,
    flood_message: (u32, u32),
}

impl CoreModule {
    fn new(id: &str, description: &str) -> Self {
        // Keep the first 16 bytes unused so that no data sits at null.
        let mut image = Image { bytes: vec![0; 16] };
        let configure_ret = image.reserve(12); // all zero: `ok`
        let evaluate_ret = image.reserve(8);
        let scratch = image.reserve(8);
        let metadata = image.reserve(METADATA_SIZE);
        let code_spec = image.reserve(CODE_SPEC_SIZE);
        let finding = image.reserve(FINDING_SIZE);
        let declared_finding = image.reserve(FINDING_SIZE);
        let out_of_range_finding = image.reserve(FINDING_SIZE);

        let id = image.string(id);
        let version = image.string(VERSION);
        let description = image.string(description);
        let code = image.string(DECLARED_CODE);
        let code_description = image.string("Raised by a hostile test fixture.");
        let undeclared = image.string(UNDECLARED_CODE);
        let message = image.string("A code the rule never declared.");
        let declared_message = image.string("A finding of a hostile fixture.");
        let mut flood = format!("flood\n{FORGED_LINE}\n");
        flood.extend(std::iter::repeat_n(
            'x',
            LOG_FLOOD_MESSAGE_BYTES as usize - flood.len(),
        ));
        let flood_message = image.string(&flood);

        // metadata
        image.put_pair(metadata, id);
        image.put_pair(metadata + 8, version);
        image.put_pair(metadata + 16, description);
        image.put_pair(metadata + 24, (0, 0)); // parameters: none
        image.put_pair(metadata + 32, (code_spec, 1)); // codes: one
        image.put_pair(metadata + 40, (0, 0)); // lists: none
        // the declared code
        image.put_pair(code_spec, code);
        image.put_u8(code_spec + 8, ACTION_REVIEW);
        image.put_pair(code_spec + 12, code_description);
        // the finding with the undeclared code
        image.put_pair(finding, undeclared);
        image.put_u8(finding + 8, ACTION_REVIEW);
        image.put_u8(finding + 9, 50); // score
        image.put_u8(finding + 10, 0); // requirements: none
        image.put_pair(finding + 12, message);
        image.put_pair(finding + 20, (0, 0)); // evidence: none
        // findings with the declared code: one in range, one not
        for (at, score) in [(declared_finding, 50), (out_of_range_finding, 200)] {
            image.put_pair(at, code);
            image.put_u8(at + 8, ACTION_REVIEW);
            image.put_u8(at + 9, score);
            image.put_u8(at + 10, 0); // requirements: none
            image.put_pair(at + 12, declared_message);
            image.put_pair(at + 20, (0, 0)); // evidence: none
        }

        CoreModule {
            image: image.bytes,
            configure_ret,
            evaluate_ret,
            scratch,
            metadata,
            finding,
            declared_finding,
            out_of_range_finding,
            flood_message,
        }
    }

    /// The core module's WAT; with `smuggled`, it also imports that
    /// function and calls it at the start of `evaluate`.
    fn wat(&self, behaviour: Behaviour, smuggled: Option<Smuggled>) -> String {
        let heap_base = (self.image.len() as u32).next_multiple_of(16);
        let data = wat_string(&self.image);
        let ret = self.evaluate_ret;
        let finding = self.finding;
        let (mut smuggled_import, smuggled_call) = match smuggled {
            Some(s) => (s.core_import(), s.core_call(self.scratch)),
            None => (String::new(), String::new()),
        };
        if behaviour == Behaviour::LogFlood {
            smuggled_import.push_str(
                r#"(import "qorgan:rule/log@0.2.0" "log" (func $log (param i32 i32 i32)))"#,
            );
        }
        let (flood_ptr, flood_len) = self.flood_message;
        let declared = self.declared_finding;
        let out_of_range = self.out_of_range_finding;
        let empty_verdicts = format!(
            r#"(local.set $n (local.get $tx_len))
    (local.set $list (call $verdicts (local.get $n)))
    (memory.fill (local.get $list) (i32.const 0) (i32.mul (local.get $n) (i32.const {VERDICT_SIZE})))
    (i32.store (i32.const {ret}) (local.get $list))
    (i32.store offset=4 (i32.const {ret}) (local.get $n))
    (i32.const {ret})"#
        );
        // One verdict per transaction, each naming the `$count` findings at
        // `$f`; leaves the result's address on the stack.
        let verdicts_naming_f = format!(
            r#"(local.set $n (local.get $tx_len))
    (local.set $list (call $verdicts (local.get $n)))
    (local.set $i (i32.const 0))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $at (i32.add (local.get $list) (i32.mul (local.get $i) (i32.const {VERDICT_SIZE}))))
        (i32.store (local.get $at) (local.get $f))
        (i32.store offset=4 (local.get $at) (local.get $count))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))
    (i32.store (i32.const {ret}) (local.get $list))
    (i32.store offset=4 (i32.const {ret}) (local.get $n))
    (i32.const {ret})"#
        );
        let body = match behaviour {
            Behaviour::EndlessLoop => "(loop $forever (br $forever))\n    unreachable".to_owned(),
            Behaviour::MemoryBomb => r#"(loop $more
      (local.set $old (memory.grow (i32.const 16)))
      (if (i32.eq (local.get $old) (i32.const -1)) (then unreachable))
      ;; Touch every byte of the new 1 MiB so that it is really committed.
      (memory.fill
        (i32.shl (local.get $old) (i32.const 16))
        (i32.const 0xa5)
        (i32.const 0x100000))
      (br $more))
    unreachable"#
                .to_owned(),
            Behaviour::Trap => "unreachable".to_owned(),
            Behaviour::Allow => empty_verdicts,
            Behaviour::DeepRecursion => "(call $recurse (i32.const 0))".to_owned(),
            Behaviour::EmitsUndeclaredCode => format!(
                r#"(local.set $n (local.get $tx_len))
    (local.set $list (call $verdicts (local.get $n)))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $at (i32.add (local.get $list) (i32.mul (local.get $i) (i32.const {VERDICT_SIZE}))))
        (i32.store (local.get $at) (i32.const {finding}))
        (i32.store offset=4 (local.get $at) (i32.const 1))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))
    (i32.store (i32.const {ret}) (local.get $list))
    (i32.store offset=4 (i32.const {ret}) (local.get $n))
    (i32.const {ret})"#
            ),
            Behaviour::WrongVerdictCount => format!(
                r#"(i32.store (i32.const {ret}) (i32.const 0))
    (i32.store offset=4 (i32.const {ret}) (i32.const 0))
    (i32.const {ret})"#
            ),
            Behaviour::ScoreOutOfRange => format!(
                r#"(local.set $f (i32.const {out_of_range}))
    (local.set $count (i32.const 1))
    {verdicts_naming_f}"#
            ),
            Behaviour::HugeFindingList => format!(
                r#"(local.set $count (i32.const {HUGE_FINDING_COUNT}))
    (local.set $f (call $alloc (i32.const 4) (i32.mul (local.get $count) (i32.const {FINDING_SIZE}))))
    (block $filled
      (loop $fill
        (br_if $filled (i32.ge_u (local.get $i) (local.get $count)))
        (memory.copy
          (i32.add (local.get $f) (i32.mul (local.get $i) (i32.const {FINDING_SIZE})))
          (i32.const {declared})
          (i32.const {FINDING_SIZE}))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $fill)))
    {verdicts_naming_f}"#
            ),
            Behaviour::HugeString => format!(
                r#";; Fresh pages are zeroed, and zero bytes are valid UTF-8.
    (local.set $old (call $alloc (i32.const 1) (i32.const {HUGE_STRING_BYTES})))
    (local.set $f (call $alloc (i32.const 4) (i32.const {FINDING_SIZE})))
    (memory.copy (local.get $f) (i32.const {declared}) (i32.const {FINDING_SIZE}))
    (i32.store offset=12 (local.get $f) (local.get $old))
    (i32.store offset=16 (local.get $f) (i32.const {HUGE_STRING_BYTES}))
    (local.set $count (i32.const 1))
    {verdicts_naming_f}"#
            ),
            Behaviour::TrapOnCashWithdrawal => format!(
                r#"(block $scanned
      (loop $scan
        (br_if $scanned (i32.ge_u (local.get $i) (local.get $tx_len)))
        (if (i32.eq
              (i32.load8_u offset={TX_KIND_OFFSET}
                (i32.add (local.get $tx) (i32.mul (local.get $i) (i32.const {TRANSACTION_SIZE}))))
              (i32.const {KIND_CASH_WITHDRAWAL}))
          (then unreachable))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $scan)))
    {empty_verdicts}"#
            ),
            Behaviour::SpinThenTrap => format!(
                r#"(block $spun
      (loop $spin
        (br_if $spun (i32.ge_u (local.get $i) (i32.const {SPIN_ITERATIONS})))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $spin)))
    unreachable"#
            ),
            Behaviour::LogFlood => format!(
                r#"(block $logged
      (loop $flood
        (br_if $logged (i32.ge_u (local.get $i) (i32.const {LOG_FLOOD_LINES})))
        (call $log (i32.const 2) (i32.const {flood_ptr}) (i32.const {flood_len}))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $flood)))
    {empty_verdicts}"#
            ),
            Behaviour::LoopOnCashWithdrawal => format!(
                r#"(block $scanned
      (loop $scan
        (br_if $scanned (i32.ge_u (local.get $i) (local.get $tx_len)))
        (if (i32.eq
              (i32.load8_u offset={TX_KIND_OFFSET}
                (i32.add (local.get $tx) (i32.mul (local.get $i) (i32.const {TRANSACTION_SIZE}))))
              (i32.const {KIND_CASH_WITHDRAWAL}))
          (then (loop $forever (br $forever))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $scan)))
    (local.set $f (i32.const {declared}))
    (local.set $count (i32.const 1))
    {verdicts_naming_f}"#
            ),
            Behaviour::Stateful => format!(
                r#"(global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (if (i32.gt_u (global.get $calls) (i32.const 1))
      (then
        (local.set $f (i32.const {declared}))
        (local.set $count (i32.const 1))
        (return {verdicts_naming_f})))
    {empty_verdicts}"#
            ),
        };

        let mut wat = String::new();
        // `write!` into a String cannot fail.
        let _ = write!(
            wat,
            r#"(module
  {smuggled_import}
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const {heap_base}))
  (global $calls (mut i32) (i32.const 0))
  (data (i32.const 0) "{data}")

{BUMP_ALLOCATOR}

  ;; Room for `n` verdicts; traps if `n` verdicts would not fit in 4 GiB.
  (func $verdicts (param $n i32) (result i32)
    (if (i32.gt_u (local.get $n) (i32.const 0x1fffffff)) (then unreachable))
    (call $alloc (i32.const 4) (i32.mul (local.get $n) (i32.const {VERDICT_SIZE}))))

  ;; Recurses without end; the addition after the call keeps it from being a
  ;; tail call.
  (func $recurse (param $depth i32) (result i32)
    (i32.add
      (call $recurse (i32.add (local.get $depth) (i32.const 1)))
      (i32.const 1)))

  (func (export "{RULE_INTERFACE}#metadata") (result i32)
    (i32.const {metadata}))

  (func (export "{RULE_INTERFACE}#configure") (param $params i32) (param $params_len i32)
    (result i32)
    (i32.const {configure_ret}))

  (func (export "{RULE_INTERFACE}#evaluate")
    (param $tx i32) (param $tx_len i32) (param $text i32) (param $text_len i32)
    (result i32)
    (local $n i32) (local $list i32) (local $i i32) (local $at i32) (local $old i32)
    (local $f i32) (local $count i32)
    {smuggled_call}
    {body})
)
"#,
            metadata = self.metadata,
            configure_ret = self.configure_ret,
        );
        wat
    }
}

/// A static data image under construction.
struct Image {
    bytes: Vec<u8>,
}

impl Image {
    /// Reserves `size` zeroed bytes at the next 4-aligned address.
    fn reserve(&mut self, size: u32) -> u32 {
        let at = self.bytes.len().next_multiple_of(4);
        self.bytes.resize(at + size as usize, 0);
        at as u32
    }

    /// Places a string's bytes and returns its `(ptr, len)`.
    fn string(&mut self, s: &str) -> (u32, u32) {
        let at = self.bytes.len() as u32;
        self.bytes.extend_from_slice(s.as_bytes());
        (at, s.len() as u32)
    }

    fn put_u8(&mut self, at: u32, value: u8) {
        self.bytes[at as usize] = value;
    }

    fn put_u32(&mut self, at: u32, value: u32) {
        let at = at as usize;
        self.bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
    }

    /// Writes a `(ptr, len)` pair, the layout of a string or a list.
    fn put_pair(&mut self, at: u32, (ptr, len): (u32, u32)) {
        self.put_u32(at, ptr);
        self.put_u32(at + 4, len);
    }
}

/// Escapes bytes as the contents of a WAT string literal.
fn wat_string(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for byte in bytes {
        let _ = write!(out, "\\{byte:02x}");
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::time::Duration;

    use wasmtime::component::types::{ComponentItem, Type};
    use wasmtime::component::{Component, Func, Instance, Linker, Val};
    use wasmtime::{Config, Engine, Store, StoreLimits, StoreLimitsBuilder, Trap};

    use super::*;

    /// The memory cap of the test stores.
    const MEMORY_CAP: usize = 16 << 20;

    struct Host {
        limits: StoreLimits,
    }

    struct Plugin {
        store: Store<Host>,
        instance: Instance,
    }

    fn engine() -> Engine {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(true);
        Engine::new(&config).expect("engine")
    }

    fn instantiate(bytes: &[u8], trap_on_grow_failure: bool) -> Plugin {
        let engine = engine();
        let component = Component::new(&engine, bytes).expect("component compiles");
        let mut linker = Linker::<Host>::new(&engine);
        linker
            .define_unknown_imports_as_traps(&component)
            .expect("stub imports");
        let limits = StoreLimitsBuilder::new()
            .memory_size(MEMORY_CAP)
            .trap_on_grow_failure(trap_on_grow_failure)
            .build();
        let mut store = Store::new(&engine, Host { limits });
        store.limiter(|host| &mut host.limits);
        // Generous: only the epoch thread of a test advances the epoch.
        store.set_epoch_deadline(1);
        let instance = linker
            .instantiate(&mut store, &component)
            .expect("instantiates");
        Plugin { store, instance }
    }

    impl Plugin {
        fn func(&mut self, name: &str) -> Func {
            let iface = self
                .instance
                .get_export_index(&mut self.store, None, RULE_INTERFACE)
                .expect("exports the rule interface");
            let index = self
                .instance
                .get_export_index(&mut self.store, Some(&iface), name)
                .unwrap_or_else(|| panic!("exports {name}"));
            self.instance
                .get_func(&mut self.store, index)
                .unwrap_or_else(|| panic!("{name} is a function"))
        }

        fn metadata(&mut self) -> Vec<(String, Val)> {
            let func = self.func("metadata");
            let mut results = [Val::Bool(false)];
            func.call(&mut self.store, &[], &mut results)
                .expect("metadata returns");
            match results {
                [Val::Record(fields)] => fields,
                other => panic!("metadata returned {other:?}"),
            }
        }

        fn configure(&mut self) -> Val {
            let func = self.func("configure");
            let mut results = [Val::Bool(false)];
            func.call(&mut self.store, &[Val::List(Vec::new())], &mut results)
                .expect("configure returns");
            let [result] = results;
            result
        }

        /// Calls `evaluate` with `n` all-zero transactions.
        fn evaluate(&mut self, n: usize) -> wasmtime::Result<Vec<Val>> {
            let func = self.func("evaluate");
            let ty = func.ty(&self.store);
            let params: Vec<Val> = ty.params().map(|(_, ty)| batch(&ty, n)).collect();
            let mut results = [Val::Bool(false)];
            func.call(&mut self.store, &params, &mut results)?;
            match results {
                [Val::List(verdicts)] => Ok(verdicts),
                other => panic!("evaluate returned {other:?}"),
            }
        }
    }

    /// A batch of `n` all-zero transactions and no text, built from the
    /// parameter's type so that it keeps up with the WIT.
    fn batch(ty: &Type, n: usize) -> Val {
        let Type::Record(record) = ty else {
            panic!("batch is a record, not {ty:?}")
        };
        Val::Record(
            record
                .fields()
                .map(|field| {
                    let value = match (&field.ty, field.name) {
                        (Type::List(list), "transactions") => {
                            Val::List((0..n).map(|_| zero(&list.ty())).collect())
                        }
                        (ty, _) => zero(ty),
                    };
                    (field.name.to_owned(), value)
                })
                .collect(),
        )
    }

    /// The "zero" value of a type: numbers 0, empty lists and strings, the
    /// first case of enums and variants, `none`, no flags.
    fn zero(ty: &Type) -> Val {
        match ty {
            Type::Bool => Val::Bool(false),
            Type::S8 => Val::S8(0),
            Type::U8 => Val::U8(0),
            Type::S16 => Val::S16(0),
            Type::U16 => Val::U16(0),
            Type::S32 => Val::S32(0),
            Type::U32 => Val::U32(0),
            Type::S64 => Val::S64(0),
            Type::U64 => Val::U64(0),
            Type::Float32 => Val::Float32(0.0),
            Type::Float64 => Val::Float64(0.0),
            Type::Char => Val::Char('\0'),
            Type::String => Val::String(String::new()),
            Type::List(_) => Val::List(Vec::new()),
            Type::Record(record) => Val::Record(
                record
                    .fields()
                    .map(|field| (field.name.to_owned(), zero(&field.ty)))
                    .collect(),
            ),
            Type::Tuple(tuple) => Val::Tuple(tuple.types().map(|ty| zero(&ty)).collect()),
            Type::Variant(variant) => {
                let case = variant.cases().next().expect("a variant has a case");
                Val::Variant(case.name.to_owned(), case.ty.map(|ty| Box::new(zero(&ty))))
            }
            Type::Enum(en) => Val::Enum(en.names().next().expect("an enum has a case").to_owned()),
            Type::Option(_) => Val::Option(None),
            Type::Result(result) => Val::Result(Ok(result.ok().map(|ty| Box::new(zero(&ty))))),
            Type::Flags(_) => Val::Flags(Vec::new()),
            other => panic!("no zero value for {other:?}"),
        }
    }

    fn string_field<'a>(fields: &'a [(String, Val)], name: &str) -> &'a str {
        match fields.iter().find(|(field, _)| field == name) {
            Some((_, Val::String(value))) => value,
            other => panic!("field {name}: {other:?}"),
        }
    }

    fn list_field<'a>(fields: &'a [(String, Val)], name: &str) -> &'a [Val] {
        match fields.iter().find(|(field, _)| field == name) {
            Some((_, Val::List(values))) => values,
            other => panic!("field {name}: {other:?}"),
        }
    }

    fn trap_of(error: &wasmtime::Error) -> Option<Trap> {
        error.downcast_ref::<Trap>().copied()
    }

    #[test]
    fn every_fixture_is_a_valid_component_that_imports_only_types() {
        for behaviour in Behaviour::ALL {
            let bytes = component(behaviour).unwrap_or_else(|e| panic!("{behaviour}: {e}"));
            let mut validator =
                wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::default());
            validator
                .validate_all(&bytes)
                .unwrap_or_else(|e| panic!("{behaviour}: {e}"));
            // `wit-component` imports the `types` interface, because the
            // exported `rule` interface uses its types; that instance holds
            // types only. Nothing else is imported: the core module imports
            // nothing.
            // The log flood alone also imports `log`, to flood it.
            let mut imports = component_imports(&bytes);
            imports.sort();
            if behaviour == Behaviour::LogFlood {
                assert_eq!(imports, [LOG_INTERFACE, TYPES_INTERFACE], "{behaviour}");
                continue;
            }
            assert_eq!(imports, [TYPES_INTERFACE], "{behaviour}");
            let engine = engine();
            let component = Component::new(&engine, &bytes).expect("compiles");
            for (name, item) in component.component_type().imports(&engine) {
                let ComponentItem::ComponentInstance(instance) = item.ty else {
                    panic!("{behaviour}: import {name} is not an instance")
                };
                for (export, item) in instance.exports(&engine) {
                    assert!(
                        matches!(item.ty, ComponentItem::Type(_)),
                        "{behaviour}: {name} exports {export}, which is not a type"
                    );
                }
            }
        }
    }

    /// The names of a component's top-level imports.
    fn component_imports(bytes: &[u8]) -> Vec<String> {
        let mut depth = 0usize;
        let mut names = Vec::new();
        for payload in wasmparser::Parser::new(0).parse_all(bytes) {
            match payload.expect("parses") {
                wasmparser::Payload::ModuleSection { .. }
                | wasmparser::Payload::ComponentSection { .. } => depth += 1,
                wasmparser::Payload::End(_) => depth = depth.saturating_sub(1),
                wasmparser::Payload::ComponentImportSection(reader) if depth == 0 => {
                    for import in reader {
                        names.push(import.expect("import").name.name.to_owned());
                    }
                }
                _ => {}
            }
        }
        names
    }

    #[test]
    fn metadata_and_configure_are_well_formed() {
        for behaviour in Behaviour::ALL {
            let mut plugin = instantiate(&component(behaviour).expect("builds"), true);
            let fields = plugin.metadata();
            assert_eq!(string_field(&fields, "id"), behaviour.rule_id());
            assert_eq!(string_field(&fields, "version"), VERSION);
            assert_eq!(
                string_field(&fields, "description"),
                behaviour.description()
            );
            assert!(list_field(&fields, "parameters").is_empty());
            assert!(list_field(&fields, "lists").is_empty());
            let codes = list_field(&fields, "codes");
            assert_eq!(codes.len(), 1, "{behaviour}");
            let Val::Record(code) = &codes[0] else {
                panic!("code-spec is a record")
            };
            assert_eq!(string_field(code, "code"), DECLARED_CODE);
            assert!(code.contains(&("action".to_owned(), Val::Enum("review".to_owned()))));
            assert_eq!(plugin.configure(), Val::Result(Ok(None)));
        }
    }

    #[test]
    fn allow_returns_one_empty_verdict_per_transaction() {
        let mut plugin = instantiate(&component(Behaviour::Allow).expect("builds"), true);
        assert_eq!(plugin.metadata()[0].1, Val::String("hostile-allow".into()));
        for n in [2, 0, 1, 3000] {
            let verdicts = plugin.evaluate(n).expect("evaluate returns");
            assert_eq!(verdicts.len(), n);
            for verdict in verdicts {
                assert_eq!(
                    verdict,
                    Val::Record(vec![("findings".to_owned(), Val::List(Vec::new()))])
                );
            }
        }
    }

    #[test]
    fn trap_traps() {
        let mut plugin = instantiate(&component(Behaviour::Trap).expect("builds"), true);
        let error = plugin.evaluate(2).expect_err("traps");
        assert_eq!(
            trap_of(&error),
            Some(Trap::UnreachableCodeReached),
            "{error:?}"
        );
    }

    #[test]
    fn endless_loop_is_interrupted_by_the_epoch_deadline() {
        let mut plugin = instantiate(&component(Behaviour::EndlessLoop).expect("builds"), true);
        let engine = plugin.store.engine().clone();
        let ticker = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            engine.increment_epoch();
        });
        let error = plugin.evaluate(2).expect_err("interrupted");
        ticker.join().expect("ticker");
        assert_eq!(trap_of(&error), Some(Trap::Interrupt), "{error:?}");
    }

    #[test]
    fn memory_bomb_traps_at_the_cap() {
        let mut plugin = instantiate(&component(Behaviour::MemoryBomb).expect("builds"), true);
        let error = plugin.evaluate(2).expect_err("traps");
        let text = format!("{error:?}");
        assert!(text.contains("forcing trap when growing memory"), "{text}");
        assert_ne!(trap_of(&error), Some(Trap::UnreachableCodeReached));
    }

    #[test]
    fn memory_bomb_traps_itself_when_growth_just_fails() {
        let mut plugin = instantiate(&component(Behaviour::MemoryBomb).expect("builds"), false);
        let error = plugin.evaluate(2).expect_err("traps");
        assert_eq!(
            trap_of(&error),
            Some(Trap::UnreachableCodeReached),
            "{error:?}"
        );
    }

    #[test]
    fn deep_recursion_overflows_the_stack() {
        let mut plugin = instantiate(&component(Behaviour::DeepRecursion).expect("builds"), true);
        let error = plugin.evaluate(2).expect_err("overflows");
        assert_eq!(trap_of(&error), Some(Trap::StackOverflow), "{error:?}");
    }

    #[test]
    fn emits_undeclared_code_returns_one_undeclared_finding_per_transaction() {
        let mut plugin = instantiate(
            &component(Behaviour::EmitsUndeclaredCode).expect("builds"),
            true,
        );
        let verdicts = plugin.evaluate(2).expect("evaluate returns");
        assert_eq!(verdicts.len(), 2);
        for verdict in &verdicts {
            let Val::Record(fields) = verdict else {
                panic!("verdict is a record")
            };
            let findings = list_field(fields, "findings");
            assert_eq!(findings.len(), 1);
            let Val::Record(finding) = &findings[0] else {
                panic!("finding is a record")
            };
            assert_eq!(string_field(finding, "code"), UNDECLARED_CODE);
            assert!(finding.contains(&("score".to_owned(), Val::U8(50))));
        }
    }

    #[test]
    fn wrong_verdict_count_returns_no_verdicts() {
        let mut plugin = instantiate(
            &component(Behaviour::WrongVerdictCount).expect("builds"),
            true,
        );
        assert!(plugin.evaluate(2).expect("evaluate returns").is_empty());
    }

    #[test]
    fn filesystem_fixture_imports_wasi_preopens_and_is_otherwise_a_rule_plugin() {
        let bytes = filesystem_importing_component().expect("builds");
        wasmparser::Validator::new()
            .validate_all(&bytes)
            .expect("valid");
        let imports = component_imports(&bytes);
        assert_eq!(
            imports,
            [
                "wasi:filesystem/types@0.2.0",
                FORBIDDEN_IMPORT,
                TYPES_INTERFACE,
            ],
        );
        let mut plugin = instantiate(&bytes, true);
        let fields = plugin.metadata();
        assert_eq!(string_field(&fields, "id"), FILESYSTEM_RULE_ID);
        // The stubbed `get-directories` traps: proof that evaluate calls it.
        let error = plugin.evaluate(1).expect_err("stub traps");
        assert!(
            format!("{error:?}").contains("get-directories"),
            "{error:?}"
        );
    }

    #[test]
    fn write_component_writes_the_named_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write_component(dir.path(), Behaviour::Trap).expect("writes");
        assert_eq!(path.file_name().unwrap(), "hostile-trap.wasm");
        assert_eq!(
            std::fs::read(path).expect("reads"),
            component(Behaviour::Trap).expect("builds")
        );
    }
}
