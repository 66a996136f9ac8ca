//! Sets of checks and of transaction kinds.
//!
//! These mirror the WIT `flags` types `checks` and `tx-kinds`. The SDK keeps its
//! own copies (converted flag by flag at the boundary, which costs a handful
//! of instructions) so that rule authors get a complete set API — `contains`,
//! `|`, iteration, readable `Debug` and `Display` — whatever features
//! wit-bindgen was built with.

use core::fmt;
use core::ops::{BitAnd, BitOr, BitOrAssign, Sub};

use crate::wit;

macro_rules! flag_set {
    (
        $(#[$meta:meta])*
        $name:ident mirrors $wit:ty {
            $( $(#[$flag_meta:meta])* $flag:ident = $bit:literal, $label:literal; )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $name(u16);

        impl $name {
            $(
                $(#[$flag_meta])*
                pub const $flag: $name = $name(1 << $bit);
            )*

            /// Every member, in declaration order, with its WIT name.
            const MEMBERS: &'static [($name, &'static str)] = &[$(($name::$flag, $label)),*];

            /// The empty set.
            pub const NONE: $name = $name(0);

            /// Every member.
            pub const ALL: $name = $name(0 $(| (1 << $bit))*);

            /// The empty set.
            #[must_use]
            pub const fn empty() -> $name {
                $name::NONE
            }

            /// Whether the set has no member.
            #[must_use]
            pub const fn is_empty(self) -> bool {
                self.0 == 0
            }

            /// Whether every member of `other` is in `self` (true when
            /// `other` is empty).
            #[must_use]
            pub const fn contains(self, other: $name) -> bool {
                self.0 & other.0 == other.0
            }

            /// Whether `self` and `other` have a member in common.
            #[must_use]
            pub const fn intersects(self, other: $name) -> bool {
                self.0 & other.0 != 0
            }

            /// The members of either set.
            #[must_use]
            pub const fn union(self, other: $name) -> $name {
                $name(self.0 | other.0)
            }

            /// The members of `self` that are not in `other`.
            #[must_use]
            pub const fn difference(self, other: $name) -> $name {
                $name(self.0 & !other.0)
            }

            /// The single-member sets of `self`, in declaration order.
            pub fn iter(self) -> impl Iterator<Item = $name> {
                $name::MEMBERS
                    .iter()
                    .map(|(member, _)| *member)
                    .filter(move |member| self.contains(*member))
            }

            /// The WIT names of the members, in declaration order
            /// (`sender-iin`, …).
            pub fn names(self) -> impl Iterator<Item = &'static str> {
                $name::MEMBERS
                    .iter()
                    .filter(move |(member, _)| self.contains(*member))
                    .map(|(_, label)| *label)
            }

            /// The member with the WIT name `name`, if there is one.
            #[must_use]
            pub fn from_name(name: &str) -> Option<$name> {
                $name::MEMBERS
                    .iter()
                    .find(|(_, label)| *label == name)
                    .map(|(member, _)| *member)
            }
        }

        impl From<$wit> for $name {
            fn from(raw: $wit) -> $name {
                let mut set = $name::NONE;
                $(
                    if (raw & <$wit>::$flag).bits() != 0 {
                        set |= $name::$flag;
                    }
                )*
                set
            }
        }

        impl From<$name> for $wit {
            fn from(set: $name) -> $wit {
                let mut raw = <$wit>::empty();
                $(
                    if set.contains($name::$flag) {
                        raw = raw | <$wit>::$flag;
                    }
                )*
                raw
            }
        }

        impl BitOr for $name {
            type Output = $name;
            fn bitor(self, other: $name) -> $name {
                self.union(other)
            }
        }

        impl BitOrAssign for $name {
            fn bitor_assign(&mut self, other: $name) {
                *self = self.union(other);
            }
        }

        impl BitAnd for $name {
            type Output = $name;
            fn bitand(self, other: $name) -> $name {
                $name(self.0 & other.0)
            }
        }

        impl Sub for $name {
            type Output = $name;
            fn sub(self, other: $name) -> $name {
                self.difference(other)
            }
        }

        /// The WIT names of the members separated by `, `, or `none`.
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                if self.is_empty() {
                    return f.write_str("none");
                }
                for (index, name) in self.names().enumerate() {
                    if index > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str(name)?;
                }
                Ok(())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self)
            }
        }
    };
}

flag_set! {
    /// A set of identity and confirmation checks. On a transaction
    /// ([`Tx::verified`](crate::Tx::verified)): the checks the bank has
    /// already done. On a finding ([`Finding::require`](crate::Finding::require)):
    /// the checks the rule requires before the payment may go through.
    ///
    /// ```
    /// use qorgan_sdk::Checks;
    ///
    /// let done = Checks::SENDER_IIN | Checks::SMS_CONFIRMATION;
    /// assert!(done.contains(Checks::SENDER_IIN));
    /// assert!(!done.contains(Checks::SENDER_IIN | Checks::BIOMETRIC));
    /// assert_eq!(done.to_string(), "sender-iin, sms-confirmation");
    /// ```
    Checks mirrors wit::Checks {
        /// The sender's IIN/BIN was (or must be) verified against the state register.
        SENDER_IIN = 0, "sender-iin";
        /// The recipient's IIN/BIN was (or must be) verified against the state register.
        RECIPIENT_IIN = 1, "recipient-iin";
        /// The payer confirmed (or must confirm) the payment in the bank's mobile app.
        APP_CONFIRMATION = 2, "app-confirmation";
        /// The payer confirmed (or must confirm) the payment with a one-time SMS code.
        SMS_CONFIRMATION = 3, "sms-confirmation";
        /// The customer was (or must be) verified biometrically (face or fingerprint).
        BIOMETRIC = 4, "biometric";
    }
}

flag_set! {
    /// A set of transaction kinds, for a history [`Query`](crate::Query). The
    /// empty set means every kind.
    ///
    /// ```
    /// use qorgan_sdk::{Kinds, TxKind};
    ///
    /// let cash = Kinds::CASH_WITHDRAWAL | Kinds::CASH_DEPOSIT;
    /// assert!(cash.contains(Kinds::of(TxKind::CashDeposit)));
    /// ```
    Kinds mirrors wit::TxKinds {
        /// Card top-ups.
        CARD_TOPUP = 0, "card-topup";
        /// Transfers.
        TRANSFER = 1, "transfer";
        /// Cash withdrawals.
        CASH_WITHDRAWAL = 2, "cash-withdrawal";
        /// Cash deposits.
        CASH_DEPOSIT = 3, "cash-deposit";
        /// Card payments.
        CARD_PAYMENT = 4, "card-payment";
        /// Crypto purchases.
        CRYPTO_PURCHASE = 5, "crypto-purchase";
        /// Crypto sales.
        CRYPTO_SALE = 6, "crypto-sale";
        /// Anything else.
        OTHER = 7, "other";
    }
}

impl Kinds {
    /// The set holding just `kind`.
    #[must_use]
    pub const fn of(kind: crate::TxKind) -> Kinds {
        use crate::TxKind;
        match kind {
            TxKind::CardTopup => Kinds::CARD_TOPUP,
            TxKind::Transfer => Kinds::TRANSFER,
            TxKind::CashWithdrawal => Kinds::CASH_WITHDRAWAL,
            TxKind::CashDeposit => Kinds::CASH_DEPOSIT,
            TxKind::CardPayment => Kinds::CARD_PAYMENT,
            TxKind::CryptoPurchase => Kinds::CRYPTO_PURCHASE,
            TxKind::CryptoSale => Kinds::CRYPTO_SALE,
            TxKind::Other => Kinds::OTHER,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_convert_to_and_from_wit_flag_by_flag() {
        let pairs = [
            (Checks::SENDER_IIN, wit::Checks::SENDER_IIN),
            (Checks::RECIPIENT_IIN, wit::Checks::RECIPIENT_IIN),
            (Checks::APP_CONFIRMATION, wit::Checks::APP_CONFIRMATION),
            (Checks::SMS_CONFIRMATION, wit::Checks::SMS_CONFIRMATION),
            (Checks::BIOMETRIC, wit::Checks::BIOMETRIC),
        ];
        for (ours, theirs) in pairs {
            assert_eq!(Checks::from(theirs), ours);
            assert_eq!(wit::Checks::from(ours), theirs);
        }
        let both = Checks::SENDER_IIN | Checks::BIOMETRIC;
        assert_eq!(Checks::from(wit::Checks::from(both)), both);
        assert_eq!(Checks::from(wit::Checks::empty()), Checks::NONE);
    }

    #[test]
    fn kinds_convert_to_and_from_wit_flag_by_flag() {
        let all = wit::TxKinds::from(Kinds::ALL);
        assert_eq!(Kinds::from(all), Kinds::ALL);
        assert_eq!(
            wit::TxKinds::from(Kinds::CASH_DEPOSIT),
            wit::TxKinds::CASH_DEPOSIT
        );
        assert_eq!(Kinds::from(wit::TxKinds::OTHER), Kinds::OTHER);
    }

    #[test]
    fn contains_needs_every_member() {
        let done = Checks::SENDER_IIN | Checks::APP_CONFIRMATION;
        assert!(done.contains(Checks::SENDER_IIN));
        assert!(done.contains(Checks::NONE));
        assert!(!done.contains(Checks::SENDER_IIN | Checks::BIOMETRIC));
        assert!(done.intersects(Checks::SENDER_IIN | Checks::BIOMETRIC));
        assert!(!done.intersects(Checks::BIOMETRIC));
        assert_eq!(done - Checks::SENDER_IIN, Checks::APP_CONFIRMATION);
    }

    #[test]
    fn display_lists_wit_names_in_order() {
        assert_eq!(Checks::NONE.to_string(), "none");
        assert_eq!(
            (Checks::BIOMETRIC | Checks::SENDER_IIN).to_string(),
            "sender-iin, biometric"
        );
        assert_eq!(format!("{:?}", Checks::BIOMETRIC), "Checks(biometric)");
        assert_eq!(
            Checks::from_name("sms-confirmation"),
            Some(Checks::SMS_CONFIRMATION)
        );
        assert_eq!(Checks::from_name("pin"), None);
        assert_eq!(Checks::ALL.iter().count(), 5);
    }

    #[test]
    fn kinds_of_each_tx_kind_is_a_single_member() {
        use crate::TxKind;
        let kinds = [
            TxKind::CardTopup,
            TxKind::Transfer,
            TxKind::CashWithdrawal,
            TxKind::CashDeposit,
            TxKind::CardPayment,
            TxKind::CryptoPurchase,
            TxKind::CryptoSale,
            TxKind::Other,
        ];
        let mut seen = Kinds::NONE;
        for kind in kinds {
            let set = Kinds::of(kind);
            assert_eq!(set.iter().count(), 1);
            assert_eq!(set.names().next(), Some(kind.as_str()));
            seen |= set;
        }
        assert_eq!(seen, Kinds::ALL);
    }
}
