//! The network questions' types: who an account dealt with, and paths of
//! money from account to account.
//!
//! Ask them through [`Host::counterparties`](crate::Host::counterparties),
//! [`Host::trace_back`](crate::Host::trace_back) and
//! [`Host::find_path`](crate::Host::find_path). Every answer has a bounded
//! size and says whether the host's event budget cut it short
//! (`complete`); the WIT `history` interface states the bounds.

use crate::{Account, Kinds, Money, Timestamp, wit};

/// What an account exchanged with one counterparty in a window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flow {
    /// The other account.
    pub counterparty: Account,
    /// How many transactions.
    pub count: u32,
    /// Their total.
    pub sum: Money,
    /// The earliest one's time.
    pub first: Timestamp,
    /// The latest one's time.
    pub last: Timestamp,
}

/// The answer to [`Host::counterparties`](crate::Host::counterparties).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Flows {
    /// One flow per counterparty, the largest sum first.
    pub flows: Vec<Flow>,
    /// How many distinct counterparties the window holds, listed or not.
    pub total: u32,
    /// False when the host's event budget ran out before the window did.
    pub complete: bool,
}

/// One payment on a path of money.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hop {
    /// The payer.
    pub from: Account,
    /// The payee.
    pub to: Account,
    /// The amount.
    pub amount: Money,
    /// When it was made.
    pub time: Timestamp,
}

/// A path of payments, the earliest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Path {
    /// The hops; empty when none was found.
    pub hops: Vec<Hop>,
    /// False when the host's event budget ran out before the search ended:
    /// an empty path then means "not found in the budget", not "none".
    pub complete: bool,
}

/// How to follow money from account to account, for
/// [`Host::trace_back`](crate::Host::trace_back) and
/// [`Host::find_path`](crate::Host::find_path).
///
/// ```
/// use qorgan_sdk::{Kinds, Money, Trail};
///
/// // Money that rests at most an hour and keeps at least 90% of itself.
/// let quick = Trail::new(3600).keeping_permille(900).hops(4).only(Kinds::TRANSFER);
/// assert_eq!(quick.max_dwell_secs(), 3600);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trail {
    max_dwell_secs: u32,
    min_share_permille: u16,
    max_hops: u8,
    kinds: Kinds,
    min_amount: Money,
}

impl Trail {
    /// Money resting at most `max_dwell_secs` in an account, passed on
    /// whole (80% or more), for up to 4 hops, of every kind and amount.
    #[must_use]
    pub fn new(max_dwell_secs: u32) -> Trail {
        Trail {
            max_dwell_secs,
            min_share_permille: 800,
            max_hops: 4,
            kinds: Kinds::NONE,
            min_amount: Money::ZERO,
        }
    }

    /// The least share passed on, in thousandths (capped at 1000).
    #[must_use]
    pub fn keeping_permille(mut self, permille: u16) -> Trail {
        self.min_share_permille = permille.min(1000);
        self
    }

    /// The most hops followed (the host caps it at 8).
    #[must_use]
    pub fn hops(mut self, max_hops: u8) -> Trail {
        self.max_hops = max_hops;
        self
    }

    /// Follows only payments of these kinds.
    #[must_use]
    pub fn only(mut self, kinds: Kinds) -> Trail {
        self.kinds = kinds;
        self
    }

    /// Ignores payments smaller than `amount`.
    #[must_use]
    pub fn at_least(mut self, amount: Money) -> Trail {
        self.min_amount = amount;
        self
    }

    /// The longest rest, seconds.
    #[must_use]
    pub fn max_dwell_secs(&self) -> u32 {
        self.max_dwell_secs
    }

    /// The least share passed on, in thousandths.
    #[must_use]
    pub fn min_share_permille(&self) -> u16 {
        self.min_share_permille
    }

    /// The most hops.
    #[must_use]
    pub fn max_hops(&self) -> u8 {
        self.max_hops
    }

    /// The kinds followed (empty: all).
    #[must_use]
    pub fn kinds(&self) -> Kinds {
        self.kinds
    }

    /// The smallest payment followed.
    #[must_use]
    pub fn min_amount(&self) -> Money {
        self.min_amount
    }

    /// The WIT record.
    #[must_use]
    pub fn to_wit(&self) -> wit::Trail {
        wit::Trail {
            max_dwell: self.max_dwell_secs,
            min_share: self.min_share_permille,
            max_hops: self.max_hops,
            kinds: self.kinds.into(),
            min_amount: self.min_amount.tiyn(),
        }
    }
}

impl From<wit::Flows> for Flows {
    fn from(raw: wit::Flows) -> Flows {
        Flows {
            flows: raw
                .flows
                .into_iter()
                .map(|f| Flow {
                    counterparty: f.counterparty,
                    count: f.count,
                    sum: Money::from_tiyn(f.sum),
                    first: f.first,
                    last: f.last,
                })
                .collect(),
            total: raw.total,
            complete: raw.complete,
        }
    }
}

impl From<wit::Path> for Path {
    fn from(raw: wit::Path) -> Path {
        Path {
            hops: raw
                .hops
                .into_iter()
                .map(|h| Hop {
                    from: h.from,
                    to: h.to,
                    amount: Money::from_tiyn(h.amount),
                    time: h.time,
                })
                .collect(),
            complete: raw.complete,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trail_caps_its_share_at_the_whole() {
        let trail = Trail::new(60).keeping_permille(5000);
        assert_eq!(trail.min_share_permille(), 1000);
        assert_eq!(trail.to_wit().min_share, 1000);
    }

    #[test]
    fn paths_convert_hop_by_hop() {
        let raw = wit::Path {
            hops: vec![wit::Hop {
                from: 1,
                to: 2,
                amount: 150,
                time: 9,
            }],
            complete: true,
        };
        let path = Path::from(raw);
        assert_eq!(path.hops.len(), 1);
        assert_eq!(
            path.hops.first().map(|h| h.amount),
            Some(Money::from_tiyn(150))
        );
    }
}
