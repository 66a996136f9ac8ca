//! # qorgan-sdk: write qorgan rule plugins in plain Rust
//!
//! A *rule* looks at one transaction at a time and reports *findings*: a
//! finding code, the action the bank should take (`verify`, `review`, `hold`,
//! `block`), a risk score, the checks it requires and the evidence behind it.
//! The regulator compiles each rule to a sandboxed WebAssembly component,
//! signs it into a rule pack, and every bank's qorgan host runs it. This crate
//! is everything a rule author needs: the WIT bindings (hidden), typed views
//! of transactions, exact [`Money`], [`iin`] checksums, finding builders, and
//! [`testing`] helpers so the rule is unit-tested with plain `cargo test`.
//!
//! ## Writing a rule
//!
//! **1. A crate.** A plugin is a library crate that depends only on this SDK:
//!
//! ```toml
//! [package]
//! name = "kz-large-transfer"
//! version = "1.0.0"
//! edition = "2024"
//!
//! [lib]
//! crate-type = ["cdylib", "rlib"]   # cdylib: the plugin; rlib: native tests
//!
//! [dependencies]
//! qorgan-sdk = { workspace = true }
//!
//! [lints.rust]
//! unsafe_code = "forbid"            # works: see "Safety" below
//! ```
//!
//! **2. A type implementing [`Rule`]**, holding its configuration:
//! [`Rule::metadata`] declares the id, version, parameters (with types,
//! defaults and descriptions), finding codes and reference lists;
//! [`Rule::configure`] reads the parameters into the type; [`Rule::evaluate`]
//! looks at one [`Tx`] and adds [`Finding`]s to `out`.
//!
//! **3. One line to export it:** [`export_rule!`]`(MyRule);`.
//!
//! ```
//! use qorgan_sdk::{
//!     Action, Checks, CodeSpec, ConfigError, Finding, Findings, Host, Metadata, Money,
//!     ParamSpec, Params, Rule, Tx, TxKind,
//! };
//!
//! /// Large transfers need the recipient's IIN.
//! pub struct LargeTransfer {
//!     limit: Money,
//!     score: u8,
//! }
//!
//! impl Rule for LargeTransfer {
//!     fn metadata() -> Metadata {
//!         Metadata::new(
//!             "kz-large-transfer",
//!             env!("CARGO_PKG_VERSION"),
//!             "Transfers above a limit need the recipient's IIN verified.",
//!         )
//!         .param(ParamSpec::money("limit", "1000000.00", "Transfers strictly above this amount are flagged."))
//!         .param(ParamSpec::integer("score", 30, "Risk score of the finding, 0 to 100."))
//!         .code(CodeSpec::new("TRANSFER_RECIPIENT_IIN_REQUIRED", Action::Verify,
//!             "A transfer above the limit without a verified recipient IIN."))
//!     }
//!
//!     fn configure(params: &Params) -> Result<Self, ConfigError> {
//!         let limit = params.money("limit")?;
//!         if limit.is_negative() {
//!             return Err(ConfigError::invalid("limit", limit, "must not be negative"));
//!         }
//!         Ok(LargeTransfer { limit, score: params.score("score")? })
//!     }
//!
//!     fn evaluate<H: Host>(&self, tx: &Tx<'_>, _host: &H, out: &mut Findings) {
//!         let amount = tx.amount();
//!         if tx.kind() == TxKind::Transfer
//!             && amount > self.limit
//!             && !tx.verified().contains(Checks::RECIPIENT_IIN)
//!         {
//!             out.add(
//!                 Finding::new("TRANSFER_RECIPIENT_IIN_REQUIRED", Action::Verify)
//!                     .score(self.score)
//!                     .require(Checks::RECIPIENT_IIN)
//!                     .message(format!("transfer of {amount} KZT above {} KZT needs the recipient's IIN", self.limit))
//!                     .evidence("amount", amount)
//!                     .evidence("limit", self.limit),
//!             );
//!         }
//!     }
//! }
//!
//! qorgan_sdk::export_rule!(LargeTransfer);
//!
//! // 4. Test it natively (normally in `#[cfg(test)] mod tests`):
//! use qorgan_sdk::testing::{Harness, TxBuilder};
//!
//! let rule = Harness::<LargeTransfer>::new()?;          // declared defaults
//! let findings = rule.evaluate(&TxBuilder::transfer("1000000.01").build());
//! assert_eq!(findings.len(), 1);
//! assert_eq!(findings[0].requirements(), Checks::RECIPIENT_IIN);
//! assert!(rule.evaluate(&TxBuilder::transfer("1000000.00").build()).is_empty());
//!
//! let strict = Harness::<LargeTransfer>::with_params(&[("limit", "10.00")])?;
//! assert_eq!(strict.evaluate(&TxBuilder::transfer("10.01").build()).len(), 1);
//! # Ok::<(), qorgan_sdk::testing::SetupError>(())
//! ```
//!
//! **5. Build it** with `qorgan build <crate-dir>`, which compiles the crate
//! for `wasm32-unknown-unknown` in release mode and wraps the core module into
//! a component (or do the first half yourself:
//! `cargo build --release --target wasm32-unknown-unknown`).
//!
//! ## What a rule can see and ask
//!
//! - [`Tx`]: kind, channel, amount (already converted to tenge), currency,
//!   [`Party`] views of the sender and recipient (account handle, IIN/BIN as
//!   given, party kind, VASP id, country, account opening date), remittance
//!   text, the checks already [`verified`](Tx::verified), the device handle,
//!   and the [`Cursor`] that places it in the host's stream.
//! - [`Host`]: windowed history aggregates per account ([`Query`] →
//!   [`Totals`]), when an account was first seen, membership in the pack's
//!   reference lists (declare each list in the metadata), and a log.
//!
//! A rule has no clock, files, network or randomness, and keeps no state
//! between calls apart from its configuration: instances are rebuilt at any
//! time. Everything about the past comes from the host, answered as of the
//! transaction's cursor, so results do not depend on batching or threads.
//!
//! ## Parameters
//!
//! Every threshold, score and switch is a declared parameter, never a
//! constant: a regulator changes it in a signed pack without shipping new
//! WebAssembly. [`Params`] reads them typed (`money`, `integer`, `decimal`,
//! `boolean`, `text`, and `score` for 0–100 risk scores); each accessor's
//! error names the parameter, so `configure` can use `?` throughout.
//!
//! ## Failures
//!
//! A panic traps the plugin (the message goes to the host log first); the
//! host then records `PLUGIN_FAILED` with the pack's failure action, `review`
//! by default — a broken rule fails closed, never silently allows. The SDK
//! also traps when `evaluate` arrives before a successful `configure`. The
//! SDK's own code does not panic on any input: spans outside the text buffer
//! or not UTF-8 read as empty, and parsers return typed errors.
//!
//! ## Safety
//!
//! The component-model glue that wit-bindgen generates is `unsafe` code. It is
//! confined to this crate's private `bindings` module (the SDK denies
//! `unsafe_code` everywhere else). [`export_rule!`] expands, in the plugin
//! crate, to items that carry `#[unsafe(export_name)]`, `#[unsafe(link_section)]`
//! and `unsafe extern "C" fn`s, but they come from a macro defined in another
//! crate, and rustc does not report the `unsafe_code` lint inside external
//! macros. So plugin crates can and should keep `unsafe_code = "forbid"` (the
//! workspace default); they need no other attribute.

#[doc(hidden)]
pub mod bindings;
mod enums;
mod finding;
mod flags;
pub mod glue;
mod host;
pub mod iin;
mod metadata;
mod money;
mod network;
mod params;
mod ratio;
mod rule;
pub mod testing;
pub mod text;
mod tx;

pub mod wit {
    //! The raw WIT types exactly as wit-bindgen generates them (records,
    //! enums, flags of the `qorgan:rule` package). Rules normally use the
    //! SDK's wrappers instead; these are for test tooling and for code that
    //! builds batches, such as [`testing::batch`](crate::testing::batch).
    pub use crate::bindings::qorgan::rule::history::{
        Direction, Flow, Flows, Hop, Path, Query, Totals, Trail,
    };
    pub use crate::bindings::qorgan::rule::log::Level;
    pub use crate::bindings::qorgan::rule::types::*;
}

pub use finding::{Evidence, Finding, Findings, MAX_SCORE};
pub use flags::{Checks, Kinds};
#[cfg(target_arch = "wasm32")]
pub use host::WasmHost;
pub use host::{Host, Query, Totals};
pub use metadata::{CodeSpec, Metadata, MetadataError, ParamSpec};
pub use money::{Money, MoneyError, MoneyErrorKind};
pub use network::{Flow, Flows, Hop, Path, Trail};
pub use params::{ConfigError, Params};
pub use ratio::Ratio;
pub use rule::Rule;
pub use text::Keywords;
pub use tx::{Party, Tx};
pub use wit::{
    Account, Action, Channel, Cursor, Direction, Level, ParamType, PartyKind, Timestamp, TxKind,
};

/// Exports a [`Rule`] as the plugin's implementation of the WIT `rule`
/// interface: `metadata` returns [`Rule::metadata`], `configure` builds the
/// rule with [`Rule::configure`] and keeps it for the instance (or returns the
/// error message), and `evaluate` runs [`Rule::evaluate`] on every transaction
/// of the batch, returning exactly one verdict per transaction, in order.
/// If `evaluate` is called before a successful `configure`, the plugin traps
/// rather than return empty verdicts.
///
/// Invoke it once, at the top level of the plugin crate:
///
/// ```ignore
/// qorgan_sdk::export_rule!(KzThreshold);
/// ```
///
/// On targets other than `wasm32` (native tests, the rlib) it only checks
/// that the type implements [`Rule`] and exports nothing.
#[macro_export]
macro_rules! export_rule {
    ($rule:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            type __QorganRuleExport = $crate::__private::Adapter<$rule>;
    $crate::bindings::export!(__QorganRuleExport with_types_in $crate::bindings);
        };
        #[cfg(not(target_arch = "wasm32"))]
        const _: () = {
            const fn __qorgan_assert_rule<R: $crate::Rule>() {}
            __qorgan_assert_rule::<$rule>();
        };
    };
}

#[doc(hidden)]
pub mod __private {
    //! Used by [`export_rule!`](crate::export_rule); not part of the API.
    #[cfg(target_arch = "wasm32")]
    pub use crate::glue::wasm::Adapter;
}
