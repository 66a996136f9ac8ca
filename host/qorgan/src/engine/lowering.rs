//! Transactions lowered into the WIT batch record, written once for every
//! family of types generated from the contract.
//!
//! The one WIT contract yields two sets of Rust types: the host's
//! (wasmtime's `bindgen!`, in `bindings.rs`) and the guest's (the plugin
//! SDK's `wit-bindgen`). The engine lowers each batch into the first; `qorgan
//! bench` lowers the same batch into the second to call the reference rules
//! natively on exactly what a component receives. The types differ only in
//! name, so one macro writes the lowering for both and the two cannot drift
//! apart.

/// Defines a module `$name` whose `build_batch` lowers stamped
/// transactions into the batch record of the WIT types at `$wit` (a module
/// with `Batch`, `Transaction`, `Party`, `PartyKind`, `Span`, `Cursor`,
/// `TxKind`, `Channel` and `Checks`).
///
/// Records of scalars are built in `records` and the transactions' text
/// gathered into `text`, both emptied first so that a caller deciding many
/// batches reuses their capacity.
#[doc(hidden)]
#[macro_export]
macro_rules! lower_batch_into {
    ($vis:vis mod $name:ident for $($wit:tt)+) => {
        $vis mod $name {
            use $($wit)+ as wit;
            use $crate::history::Stamp;
            use $crate::transaction::{Channel, Check, Checks, Party, PartyKind, Transaction, TxKind};

            /// Lowers `txs` (each with its amount in tiyn) at their
            /// `stamps` into one batch.
            pub fn build_batch(
                txs: &[(&Transaction, i64)],
                stamps: &[Stamp],
                mut records: Vec<wit::Transaction>,
                mut text: Vec<u8>,
            ) -> wit::Batch {
                records.clear();
                text.clear();
                records.extend(txs.iter().zip(stamps).map(|((tx, amount), stamp)| {
                    wit::Transaction {
                        at: wit::Cursor {
                            seq: stamp.at.seq,
                            time: stamp.at.time,
                        },
                        kind: match tx.kind {
                            TxKind::CardTopup => wit::TxKind::CardTopup,
                            TxKind::Transfer => wit::TxKind::Transfer,
                            TxKind::CashWithdrawal => wit::TxKind::CashWithdrawal,
                            TxKind::CashDeposit => wit::TxKind::CashDeposit,
                            TxKind::CardPayment => wit::TxKind::CardPayment,
                            TxKind::CryptoPurchase => wit::TxKind::CryptoPurchase,
                            TxKind::CryptoSale => wit::TxKind::CryptoSale,
                            TxKind::Other => wit::TxKind::Other,
                        },
                        channel: match tx.channel {
                            Channel::MobileApp => wit::Channel::MobileApp,
                            Channel::InternetBanking => wit::Channel::InternetBanking,
                            Channel::Branch => wit::Channel::Branch,
                            Channel::Atm => wit::Channel::Atm,
                            Channel::Pos => wit::Channel::Pos,
                            Channel::Api => wit::Channel::Api,
                            Channel::Other => wit::Channel::Other,
                        },
                        amount: *amount,
                        currency: span(&mut text, Some(&tx.amount.currency)),
                        sender: party(&mut text, &tx.sender, stamp.sender, stamp.sender_holder),
                        recipient: party(
                            &mut text,
                            &tx.recipient,
                            stamp.recipient,
                            stamp.recipient_holder,
                        ),
                        remittance: span(&mut text, Some(&tx.remittance)),
                        verified: checks(tx.verified),
                        device: stamp.device,
                    }
                }));
                wit::Batch {
                    transactions: records,
                    text,
                }
            }

            /// The checks as the contract's flags.
            pub fn checks(checks: Checks) -> wit::Checks {
                checks.iter().fold(wit::Checks::empty(), |acc, check| {
                    acc | match check {
                        Check::SenderIin => wit::Checks::SENDER_IIN,
                        Check::RecipientIin => wit::Checks::RECIPIENT_IIN,
                        Check::AppConfirmation => wit::Checks::APP_CONFIRMATION,
                        Check::SmsConfirmation => wit::Checks::SMS_CONFIRMATION,
                        Check::Biometric => wit::Checks::BIOMETRIC,
                    }
                })
            }

            fn span(text: &mut Vec<u8>, value: Option<&str>) -> wit::Span {
                let Some(value) = value else {
                    return wit::Span { start: 0, len: 0 };
                };
                let start = u32::try_from(text.len()).unwrap_or(u32::MAX);
                text.extend_from_slice(value.as_bytes());
                wit::Span {
                    start,
                    len: u32::try_from(value.len()).unwrap_or(0),
                }
            }

            fn party(text: &mut Vec<u8>, p: &Party, account: u64, holder: Option<u64>) -> wit::Party {
                wit::Party {
                    account,
                    holder,
                    income: p.income,
                    iin: span(text, p.iin.as_deref()),
                    kind: match p.kind {
                        PartyKind::Individual => wit::PartyKind::Individual,
                        PartyKind::Business => wit::PartyKind::Business,
                        PartyKind::Vasp => wit::PartyKind::Vasp,
                        PartyKind::Unknown => wit::PartyKind::Unknown,
                    },
                    vasp: span(text, p.vasp.as_deref()),
                    country: span(text, p.country.as_deref()),
                    opened: p.opened,
                }
            }
        }
    };
}
