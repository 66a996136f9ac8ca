//! The trait a rule implements.

use crate::{ConfigError, Findings, Host, Metadata, Params, Tx};

/// A rule: a plain Rust type holding its configuration, plus the three things
/// the host asks of it. Export it from a plugin crate with
/// [`export_rule!`](crate::export_rule).
///
/// The host calls [`metadata`](Rule::metadata) when it loads the plugin,
/// [`configure`](Rule::configure) once per instance with the pack's
/// parameters, then [`evaluate`](Rule::evaluate) for every transaction of
/// every batch. Instances are thrown away and rebuilt at any time, so a rule
/// keeps no state between calls apart from what `configure` built: everything
/// it needs to know about the past it asks the [`Host`].
///
/// A rule must be deterministic: the same transaction, configuration and
/// answers from the host must give the same findings. There is no clock, no
/// randomness, no file or network access inside a plugin anyway.
///
/// A panic inside any of these methods traps the plugin; the host then records
/// a `PLUGIN_FAILED` finding with the pack's failure action (by default
/// `review`) for the transactions of the batch. Prefer explicit handling
/// (`checked_add`, `get`, `match`) over anything that can panic.
pub trait Rule: Sized + 'static {
    /// Describes the rule: id, version, parameters with their defaults, finding
    /// codes and the reference lists it reads. Called rarely; it may allocate
    /// freely.
    fn metadata() -> Metadata;

    /// Builds the configured rule from the pack's parameters: every declared
    /// parameter, with the pack's value or the declared default, already
    /// checked against its declared type by the host. Read them with the typed
    /// accessors of [`Params`] and return a [`ConfigError`] naming the
    /// parameter when a value makes no sense for the rule (a negative
    /// threshold, say); the host then refuses the pack.
    fn configure(params: &Params) -> Result<Self, ConfigError>;

    /// Looks at one transaction and adds what it finds to `out` (nothing, if
    /// the transaction is fine). `host` answers history and list questions.
    fn evaluate<H: Host>(&self, tx: &Tx<'_>, host: &H, out: &mut Findings);
}
