//! Names for the WIT enums.
//!
//! The enums themselves ([`Action`], [`TxKind`], [`Channel`], [`PartyKind`],
//! [`Direction`], [`Level`], [`ParamType`]) are the ones wit-bindgen generates,
//! re-exported at the crate root; this module gives each an `as_str` that
//! returns its WIT (kebab-case) name and a `Display` that prints it, so a rule
//! can write `format!("{} of {amount} KZT", tx.kind())`.

use core::fmt;

use crate::{Action, Channel, Direction, Level, ParamType, PartyKind, TxKind};

macro_rules! wit_names {
    ($($ty:ty { $($variant:ident => $name:literal,)* })*) => {
        $(
            impl $ty {
                /// The WIT name of this value.
                #[must_use]
                pub const fn as_str(self) -> &'static str {
                    match self {
                        $(<$ty>::$variant => $name,)*
                    }
                }
            }

            /// Prints the WIT name.
            impl fmt::Display for $ty {
                fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str(self.as_str())
                }
            }
        )*
    };
}

wit_names! {
    Action {
        Allow => "allow",
        Verify => "verify",
        Review => "review",
        Hold => "hold",
        Block => "block",
    }
    TxKind {
        CardTopup => "card-topup",
        Transfer => "transfer",
        CashWithdrawal => "cash-withdrawal",
        CashDeposit => "cash-deposit",
        CardPayment => "card-payment",
        CryptoPurchase => "crypto-purchase",
        CryptoSale => "crypto-sale",
        Other => "other",
    }
    Channel {
        MobileApp => "mobile-app",
        InternetBanking => "internet-banking",
        Branch => "branch",
        Atm => "atm",
        Pos => "pos",
        Api => "api",
        Other => "other",
    }
    PartyKind {
        Individual => "individual",
        Business => "business",
        Vasp => "vasp",
        Unknown => "unknown",
    }
    Direction {
        Inbound => "inbound",
        Outbound => "outbound",
        Both => "both",
    }
    Level {
        Trace => "trace",
        Debug => "debug",
        Info => "info",
        Warn => "warn",
        Error => "error",
    }
    ParamType {
        Money => "money",
        Integer => "integer",
        Decimal => "decimal",
        Boolean => "boolean",
        Text => "text",
    }
}

impl TxKind {
    /// Whether money changes hands in cash: a cash withdrawal or deposit.
    #[must_use]
    pub const fn is_cash(self) -> bool {
        matches!(self, TxKind::CashWithdrawal | TxKind::CashDeposit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_print_their_wit_names_and_order_weakest_first() {
        assert_eq!(Action::Verify.to_string(), "verify");
        assert!(Action::Allow < Action::Verify);
        assert!(Action::Verify < Action::Review);
        assert!(Action::Hold < Action::Block);
    }

    #[test]
    fn kinds_and_channels_print_their_wit_names() {
        assert_eq!(TxKind::CardTopup.as_str(), "card-topup");
        assert_eq!(Channel::MobileApp.to_string(), "mobile-app");
        assert!(TxKind::CashDeposit.is_cash());
        assert!(!TxKind::CardTopup.is_cash());
    }
}
