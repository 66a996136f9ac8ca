//! The glue between a [`Rule`] and the WIT exports.
//!
//! [`export_rule!`](crate::export_rule) wires these functions to the
//! `metadata`, `configure` and `evaluate` exports of the `rule` interface.
//! They are public so that the exact path a plugin takes can also be run
//! natively, for example to compare the speed of a rule compiled to
//! WebAssembly with the same rule compiled for the host.

use crate::{Findings, Host, Params, Rule, Tx, wit};

/// What the `metadata` export returns for `R`.
#[must_use]
pub fn metadata<R: Rule>() -> wit::RuleMetadata {
    R::metadata().to_wit()
}

/// What the `configure` export does for `R`: builds the configured rule, or
/// the error message naming the bad parameter.
pub fn configure<R: Rule>(params: Vec<wit::Param>) -> Result<R, String> {
    R::configure(&Params::from_wit(params)).map_err(|error| error.to_string())
}

/// What the `evaluate` export does with a configured rule: exactly one
/// verdict per transaction of the batch, in the same order.
#[must_use]
pub fn evaluate_batch<R: Rule, H: Host>(
    rule: &R,
    batch: &wit::Batch,
    host: &H,
) -> Vec<wit::Verdict> {
    batch
        .transactions
        .iter()
        .map(|raw| {
            let mut out = Findings::new();
            rule.evaluate(&Tx::new(raw, &batch.text), host, &mut out);
            out.into_verdict()
        })
        .collect()
}

#[cfg(target_arch = "wasm32")]
pub(crate) mod wasm {
    //! The component's exports. One plugin exports one rule, so the
    //! configured rule lives in a single per-instance slot; the type-erased
    //! `Box<dyn Any>` lets the slot be a plain (non-generic) static while
    //! `Adapter<R>` stays generic.

    use core::any::Any;
    use core::cell::RefCell;
    use core::marker::PhantomData;
    use std::sync::Once;

    use crate::bindings::exports::qorgan::rule::rule::Guest;
    use crate::{Host, Level, Rule, WasmHost, wit};

    /// Says why the instance is about to trap when `evaluate` comes first.
    const NOT_CONFIGURED: &str = "qorgan-sdk: `evaluate` was called before a successful `configure`; refusing to return empty verdicts";

    std::thread_local! {
        /// The rule `configure` built for this instance, if it succeeded.
        static CONFIGURED: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
    }

    /// Implements the WIT `rule` interface for `R`. Named by
    /// [`export_rule!`](crate::export_rule) through a type alias.
    pub struct Adapter<R>(PhantomData<fn() -> R>);

    impl<R: Rule> Guest for Adapter<R> {
        fn metadata() -> wit::RuleMetadata {
            super::metadata::<R>()
        }

        fn configure(params: Vec<wit::Param>) -> Result<(), String> {
            install_panic_hook();
            let built = super::configure::<R>(params);
            CONFIGURED.with(|slot| match built {
                Ok(rule) => {
                    *slot.borrow_mut() = Some(Box::new(rule));
                    Ok(())
                }
                Err(message) => {
                    *slot.borrow_mut() = None;
                    Err(message)
                }
            })
        }

        fn evaluate(batch: wit::Batch) -> Vec<wit::Verdict> {
            CONFIGURED.with(|slot| {
                let slot = slot.borrow();
                match slot.as_ref().and_then(|rule| rule.downcast_ref::<R>()) {
                    Some(rule) => super::evaluate_batch(rule, &batch, &WasmHost),
                    None => {
                        // A panic is an `unreachable` trap in a plugin: the
                        // host records PLUGIN_FAILED instead of an allow.
                        // The hook logs the message first.
                        install_panic_hook();
                        panic!("{NOT_CONFIGURED}");
                    }
                }
            })
        }
    }

    /// Sends panic messages to the host's log before the trap, so an
    /// operator sees why a plugin failed.
    fn install_panic_hook() {
        static ONCE: Once = Once::new();
        ONCE.call_once(|| {
            std::panic::set_hook(Box::new(|info| {
                WasmHost.log(Level::Error, &format!("rule {info}"));
            }));
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{MemoryHost, TxBuilder, batch};
    use crate::{Action, CodeSpec, ConfigError, Finding, Metadata, Money, ParamSpec};

    /// Flags every transaction above a limit.
    struct Above {
        limit: Money,
    }

    impl Rule for Above {
        fn metadata() -> Metadata {
            Metadata::new("above", "0.1.0", "Flags amounts above a limit.")
                .param(ParamSpec::money("limit", "100.00", "The limit."))
                .code(CodeSpec::new("ABOVE", Action::Review, "Above the limit."))
        }

        fn configure(params: &Params) -> Result<Above, ConfigError> {
            Ok(Above {
                limit: params.money("limit")?,
            })
        }

        fn evaluate<H: Host>(&self, tx: &Tx<'_>, _host: &H, out: &mut Findings) {
            if tx.amount() > self.limit {
                out.add(Finding::new("ABOVE", Action::Review).evidence("amount", tx.amount()));
            }
        }
    }

    #[test]
    fn evaluate_batch_returns_one_verdict_per_transaction_in_order() {
        let rule = Above {
            limit: Money::from_tiyn(10_000),
        };
        let txs = [
            TxBuilder::transfer("5.00").build(),
            TxBuilder::transfer("500.00").remittance("first").build(),
            TxBuilder::transfer("100.00").build(),
            TxBuilder::transfer("100.01").remittance("second").build(),
        ];
        let verdicts = evaluate_batch(&rule, &batch(&txs), &MemoryHost::new());
        let counts: Vec<usize> = verdicts.iter().map(|v| v.findings.len()).collect();
        assert_eq!(counts, [0, 1, 0, 1]);
        let amounts: Vec<String> = verdicts
            .iter()
            .flat_map(|v| &v.findings)
            .flat_map(|f| &f.evidence)
            .map(|e| e.value.clone())
            .collect();
        assert_eq!(amounts, ["500.00", "100.01"]);
    }

    #[test]
    fn an_empty_batch_gives_no_verdicts() {
        let rule = Above { limit: Money::ZERO };
        assert!(evaluate_batch(&rule, &batch(&[]), &MemoryHost::new()).is_empty());
    }

    #[test]
    fn configure_reports_the_bad_parameter_by_name() {
        let params = vec![wit::Param {
            name: "limit".to_owned(),
            value: "lots".to_owned(),
        }];
        let error = configure::<Above>(params).err().unwrap_or_default();
        assert!(error.starts_with("parameter `limit` = `lots`"), "{error}");
        assert!(configure::<Above>(Vec::new()).is_err());
    }

    #[test]
    fn metadata_is_the_rules_declaration() {
        let raw = metadata::<Above>();
        assert_eq!(raw.id, "above");
        assert_eq!(raw.codes.first().map(|c| c.code.as_str()), Some("ABOVE"));
    }
}
