//! What a rule may ask the host.

use crate::{Account, Cursor, Direction, Flows, Kinds, Level, Money, Path, Timestamp, Trail, wit};

/// The questions a rule may ask while it evaluates a transaction: windowed
/// history aggregates, reference-list membership, and logging.
///
/// Inside a plugin the SDK passes `WasmHost` (compiled for `wasm32` only),
/// which calls the host through the WIT imports; in unit tests,
/// [`testing::MemoryHost`](crate::testing::MemoryHost) answers from memory.
/// Write rules against this trait (`fn evaluate<H: Host>`) and they run
/// unchanged in both.
pub trait Host {
    /// Aggregates the transactions of `query.account` that match `query`, as
    /// of `at` (normally [`Tx::at`](crate::Tx::at)): only transactions before
    /// `at` in the stream, within the query's window ending at `at`'s time.
    fn aggregate(&self, at: Cursor, query: &Query) -> Totals;

    /// When the host first saw `account` in any transaction before `at`
    /// (within its retention), or `None` if it has not seen it.
    fn first_seen(&self, at: Cursor, account: Account) -> Option<Timestamp>;

    /// How many distinct accounts sent money from `device` ([`Tx::device`])
    /// in the `window_secs` before `at`.
    ///
    /// [`Tx::device`]: crate::Tx::device
    fn accounts_on_device(&self, at: Cursor, device: u64, window_secs: u32) -> u32;

    /// How many distinct accounts appeared under `holder` (an IIN/BIN,
    /// [`Party::holder`]) in the `window_secs` before `at`.
    ///
    /// [`Party::holder`]: crate::Party::holder
    fn accounts_of_holder(&self, at: Cursor, holder: u64, window_secs: u32) -> u32;

    /// The account's reference as the bank sent it (IBAN or card
    /// reference), to name it in evidence; `None` once forgotten.
    fn reference(&self, account: Account) -> Option<String>;

    /// The accounts `query.account` dealt with in the query's window, the
    /// largest total first, at most `limit` (the host caps it at 64).
    fn counterparties(&self, at: Cursor, query: &Query, limit: u32) -> Flows;

    /// Follows `amount`, leaving `account` at `at`'s time, back through the
    /// accounts it passed through quickly: empty when it did not pass
    /// through `account`, two hops or more for a chain. See the WIT
    /// `history.trace-back`.
    fn trace_back(&self, at: Cursor, account: Account, amount: Money, trail: &Trail) -> Path;

    /// A path of payments from `source` to `target` in the `window_secs`
    /// before `at` along `trail`: with the recipient as `source` and the
    /// sender as `target`, whether the transaction closes a cycle. See the
    /// WIT `history.find-path`.
    fn find_path(
        &self,
        at: Cursor,
        source: Account,
        target: Account,
        window_secs: u32,
        trail: &Trail,
    ) -> Path;

    /// Whether `key` is an entry of the pack's reference list `name`, compared
    /// without regard to case and surrounding spaces. The list must be
    /// declared in the rule's [`Metadata`](crate::Metadata); asking about
    /// another one fails the whole call.
    fn list_contains(&self, name: &str, key: &str) -> bool;

    /// Whether `account` (its IBAN or card reference) is an entry of the
    /// reference list `name`; the same rules as [`Host::list_contains`].
    fn list_contains_account(&self, name: &str, account: Account) -> bool;

    /// Writes `message` to the host's log at `level`, tagged with the rule's
    /// id. Logging never changes a decision; the host may drop messages
    /// under load.
    fn log(&self, level: Level, message: &str);
}

/// A question about one account's recent activity, for [`Host::aggregate`].
///
/// ```
/// use qorgan_sdk::{Direction, Kinds, Money, Query};
///
/// let cash_out_today = Query::new(42, Direction::Outbound, 24 * 60 * 60)
///     .only(Kinds::CASH_WITHDRAWAL)
///     .at_least(Money::from_tiyn(100_000));
/// assert_eq!(cash_out_today.window_secs(), 86_400);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Query {
    account: Account,
    window_secs: u32,
    direction: Direction,
    kinds: Kinds,
    min_amount: Money,
    max_amount: Money,
}

impl Query {
    /// Transactions of `account` in `direction` during the `window_secs`
    /// seconds up to the transaction being evaluated, of every kind and
    /// amount.
    #[must_use]
    pub fn new(account: Account, direction: Direction, window_secs: u32) -> Query {
        Query {
            account,
            window_secs,
            direction,
            kinds: Kinds::NONE,
            min_amount: Money::from_tiyn(i64::MIN),
            max_amount: Money::MAX,
        }
    }

    /// Counts only transactions of these kinds (the empty set, the default,
    /// counts every kind).
    #[must_use]
    pub fn only(mut self, kinds: Kinds) -> Query {
        self.kinds = kinds;
        self
    }

    /// Counts only amounts of at least `amount`.
    #[must_use]
    pub fn at_least(mut self, amount: Money) -> Query {
        self.min_amount = amount;
        self
    }

    /// Counts only amounts of at most `amount`.
    #[must_use]
    pub fn at_most(mut self, amount: Money) -> Query {
        self.max_amount = amount;
        self
    }

    /// The account asked about.
    #[must_use]
    pub fn account(&self) -> Account {
        self.account
    }

    /// The window's length in seconds.
    #[must_use]
    pub fn window_secs(&self) -> u32 {
        self.window_secs
    }

    /// Which direction of money is counted.
    #[must_use]
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// Which kinds are counted (empty for all).
    #[must_use]
    pub fn kinds(&self) -> Kinds {
        self.kinds
    }

    /// The smallest amount counted (no lower bound unless
    /// [`Query::at_least`] set one).
    #[must_use]
    pub fn min_amount(&self) -> Money {
        self.min_amount
    }

    /// The largest amount counted ([`Money::MAX`] unless [`Query::at_most`]
    /// set one).
    #[must_use]
    pub fn max_amount(&self) -> Money {
        self.max_amount
    }

    /// The WIT record for this query.
    #[must_use]
    pub fn to_wit(&self) -> wit::Query {
        wit::Query {
            account: self.account,
            window: self.window_secs,
            direction: self.direction,
            kinds: self.kinds.into(),
            min_amount: self.min_amount.tiyn(),
            max_amount: self.max_amount.tiyn(),
        }
    }

    /// The query a WIT record describes.
    #[must_use]
    pub fn from_wit(raw: &wit::Query) -> Query {
        Query {
            account: raw.account,
            window_secs: raw.window,
            direction: raw.direction,
            kinds: raw.kinds.into(),
            min_amount: Money::from_tiyn(raw.min_amount),
            max_amount: Money::from_tiyn(raw.max_amount),
        }
    }
}

/// The answer to a [`Query`]. `Totals::default()` is the answer for an
/// account with no matching transactions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// How many transactions matched.
    pub count: u32,
    /// Their total amount.
    pub sum: Money,
    /// The largest single amount among them (zero when none).
    pub max: Money,
    /// How many distinct counterparty accounts they involved.
    pub counterparties: u32,
    /// The time of the earliest of them.
    pub first: Option<Timestamp>,
    /// The time of the latest of them.
    pub last: Option<Timestamp>,
}

impl From<wit::Totals> for Totals {
    fn from(raw: wit::Totals) -> Totals {
        Totals {
            count: raw.count,
            sum: Money::from_tiyn(raw.sum),
            max: Money::from_tiyn(raw.max),
            counterparties: raw.counterparties,
            first: raw.first,
            last: raw.last,
        }
    }
}

/// The [`Host`] inside a plugin: every question is a call to the
/// `qorgan:rule` imports. Only compiled for `wasm32` targets; the SDK's export
/// glue passes it to [`Rule::evaluate`](crate::Rule::evaluate), so rules do
/// not normally name it.
#[cfg(target_arch = "wasm32")]
#[derive(Clone, Copy, Debug, Default)]
pub struct WasmHost;

#[cfg(target_arch = "wasm32")]
impl Host for WasmHost {
    fn aggregate(&self, at: Cursor, query: &Query) -> Totals {
        crate::bindings::qorgan::rule::history::aggregate(at, query.to_wit()).into()
    }

    fn first_seen(&self, at: Cursor, account: Account) -> Option<Timestamp> {
        crate::bindings::qorgan::rule::history::first_seen(at, account)
    }

    fn accounts_on_device(&self, at: Cursor, device: u64, window_secs: u32) -> u32 {
        crate::bindings::qorgan::rule::history::accounts_on_device(at, device, window_secs)
    }

    fn accounts_of_holder(&self, at: Cursor, holder: u64, window_secs: u32) -> u32 {
        crate::bindings::qorgan::rule::history::accounts_of_holder(at, holder, window_secs)
    }

    fn reference(&self, account: Account) -> Option<String> {
        crate::bindings::qorgan::rule::history::reference(account)
    }

    fn counterparties(&self, at: Cursor, query: &Query, limit: u32) -> Flows {
        crate::bindings::qorgan::rule::history::counterparties(at, query.to_wit(), limit).into()
    }

    fn trace_back(&self, at: Cursor, account: Account, amount: Money, trail: &Trail) -> Path {
        crate::bindings::qorgan::rule::history::trace_back(
            at,
            account,
            amount.tiyn(),
            trail.to_wit(),
        )
        .into()
    }

    fn find_path(
        &self,
        at: Cursor,
        source: Account,
        target: Account,
        window_secs: u32,
        trail: &Trail,
    ) -> Path {
        crate::bindings::qorgan::rule::history::find_path(
            at,
            source,
            target,
            window_secs,
            trail.to_wit(),
        )
        .into()
    }

    fn list_contains(&self, name: &str, key: &str) -> bool {
        crate::bindings::qorgan::rule::lists::contains(name, key)
    }

    fn list_contains_account(&self, name: &str, account: Account) -> bool {
        crate::bindings::qorgan::rule::lists::contains_account(name, account)
    }

    fn log(&self, level: Level, message: &str) {
        crate::bindings::qorgan::rule::log::log(level, message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_defaults_count_every_kind_and_amount() {
        let query = Query::new(7, Direction::Both, 3600);
        assert_eq!(query.kinds(), Kinds::NONE);
        assert_eq!(query.max_amount(), Money::MAX);
        assert!(query.min_amount() < Money::ZERO);
    }

    #[test]
    fn query_round_trips_through_wit() {
        let query = Query::new(7, Direction::Inbound, 86_400)
            .only(Kinds::TRANSFER | Kinds::CARD_TOPUP)
            .at_least(Money::from_tiyn(100))
            .at_most(Money::from_tiyn(5_000));
        assert_eq!(Query::from_wit(&query.to_wit()), query);
    }
}
