//! Why the engine could not start, load a plugin, or evaluate.

/// The engine could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// wasmtime refused the configuration.
    #[error("cannot configure the WebAssembly engine: {0}")]
    Config(String),
    /// The on-disk cache of compiled components could not be opened.
    #[error(transparent)]
    CompiledCache(#[from] qorgan_compiled_cache::CacheError),
    /// The epoch ticker thread could not be started.
    #[error("cannot start the epoch ticker: {0}")]
    Ticker(std::io::Error),
}

/// A plugin (or the pack around it) was refused at load time. The active
/// pack, if any, is untouched.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The bytes are not a valid WebAssembly component.
    #[error("plugin `{plugin}`: not a valid component: {message}")]
    Compile {
        /// The plugin's id (or file).
        plugin: String,
        /// wasmtime's message.
        message: String,
    },
    /// The component imports something outside the `qorgan:rule` contract.
    /// Found before compiling it, and every such import is named: a
    /// componentizer's default build imports dozens of WASI interfaces, and
    /// the author must see them all at once to know which flag drops them.
    #[error(
        "plugin `{plugin}` imports {} outside the contract: {}; rule plugins may import only qorgan:rule interfaces (build without WASI)",
        imports.len(),
        imports.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", ")
    )]
    ForbiddenImports {
        /// The plugin's id (or file).
        plugin: String,
        /// Every offending import's name, in the component's order.
        imports: Vec<String>,
    },
    /// The component was built against another version of the contract.
    #[error(
        "plugin `{plugin}` was built against qorgan:rule@{found}; this host speaks qorgan:rule@0.2.0: rebuild it with the 0.2 SDK (docs/writing-rules.md, \"Moving a rule from 0.1 to 0.2\")"
    )]
    ContractVersion {
        /// The plugin's id (or file).
        plugin: String,
        /// The version it imports.
        found: String,
    },
    /// The component does not fit the `rule-plugin` world.
    #[error("plugin `{plugin}` does not implement the qorgan:rule world: {message}")]
    Link {
        /// The plugin's id (or file).
        plugin: String,
        /// wasmtime's message.
        message: String,
    },
    /// The plugin failed while describing or configuring itself.
    #[error("plugin `{plugin}` failed in `{stage}`: {reason}")]
    Call {
        /// The plugin's id (or file).
        plugin: String,
        /// `metadata` or `configure`.
        stage: &'static str,
        /// What happened.
        reason: String,
    },
    /// The plugin's metadata breaks the contract.
    #[error("plugin `{plugin}`: metadata: {problem}")]
    Metadata {
        /// The plugin's id (or file).
        plugin: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The manifest's id for the plugin differs from the plugin's own.
    #[error("pack.toml names plugin `{manifest}`, but its component says it is `{declared}`")]
    IdMismatch {
        /// The id in the manifest.
        manifest: String,
        /// The id in the plugin's metadata.
        declared: String,
    },
    /// The pack sets a parameter the plugin does not declare.
    #[error("plugin `{plugin}` has no parameter `{name}`; it declares: {declared}")]
    UnknownParameter {
        /// The plugin's id.
        plugin: String,
        /// The unknown name.
        name: String,
        /// The declared names.
        declared: String,
    },
    /// A parameter value does not fit its declared type.
    #[error("plugin `{plugin}`, parameter `{name}`: {problem}")]
    BadParameter {
        /// The plugin's id.
        plugin: String,
        /// The parameter.
        name: String,
        /// What is wrong with the value.
        problem: String,
    },
    /// The plugin reads a list the pack does not ship.
    #[error("plugin `{plugin}` reads list `{list}`, which the pack does not ship")]
    MissingList {
        /// The plugin's id.
        plugin: String,
        /// The missing list.
        list: String,
    },
    /// The plugin rejected its parameters.
    #[error("plugin `{plugin}` rejected its parameters: {message}")]
    Configure {
        /// The plugin's id.
        plugin: String,
        /// The plugin's own message.
        message: String,
    },
    /// The pack asks for more memory per plugin than this engine allows.
    #[error("pack asks for {asked} MiB per plugin; this engine allows at most {allowed} MiB")]
    MemoryLimit {
        /// MiB asked for by the pack.
        asked: u64,
        /// MiB the engine allows.
        allowed: u64,
    },
}

/// A transaction the engine could not decide at all. (A rule that fails is
/// not such a case: it yields a `PLUGIN_FAILED` finding instead.)
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EvaluationError {
    /// No pack has been activated yet.
    #[error("no rule pack is active")]
    NoPack,
    /// The transaction's currency has no exchange rate in the pack.
    #[error(
        "field `currency`: `{currency}` has no exchange rate in pack `{pack}` (its [fx] table)"
    )]
    UnknownCurrency {
        /// The currency.
        currency: String,
        /// The active pack's name.
        pack: String,
    },
    /// The amount does not fit after conversion to tiyn.
    #[error("field `amount`: {amount} is too large")]
    AmountTooLarge {
        /// The amount as given.
        amount: String,
    },
    /// The batch holds more transactions than one batch may; none of them
    /// was recorded or decided.
    #[error("a batch of {len} transactions is over the maximum batch of {max}; split it")]
    BatchTooLarge {
        /// The batch's length.
        len: usize,
        /// The limit, [`MAX_BATCH`](super::MAX_BATCH).
        max: usize,
    },
}
