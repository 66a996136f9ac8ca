//! Native test helpers: unit-test rule logic with plain `cargo test`, no
//! WebAssembly involved.
//!
//! - [`TxBuilder`] makes transactions (the WIT record plus its text buffer)
//!   with readable defaults;
//! - [`MemoryHost`] answers history and list questions from memory and
//!   records what the rule asked and logged;
//! - [`Harness`] configures a rule the way the host does — the declared
//!   defaults, overridden by the given parameters, each checked against its
//!   declared type — and evaluates transactions with it, checking that every
//!   finding's code is declared.
//!
//! ```
//! # use qorgan_sdk::{Action, CodeSpec, ConfigError, Finding, Findings, Host, Metadata, Money, ParamSpec, Params, Rule, Tx};
//! # struct Large { limit: Money }
//! # impl Rule for Large {
//! #     fn metadata() -> Metadata {
//! #         Metadata::new("large", "1.0.0", "Large amounts.")
//! #             .param(ParamSpec::money("limit", "1000.00", "The limit."))
//! #             .code(CodeSpec::new("LARGE", Action::Review, "A large amount."))
//! #     }
//! #     fn configure(params: &Params) -> Result<Self, ConfigError> {
//! #         Ok(Large { limit: params.money("limit")? })
//! #     }
//! #     fn evaluate<H: Host>(&self, tx: &Tx<'_>, _host: &H, out: &mut Findings) {
//! #         if tx.amount() > self.limit { out.add(Finding::new("LARGE", Action::Review)); }
//! #     }
//! # }
//! use qorgan_sdk::testing::{Harness, TxBuilder};
//!
//! let rule = Harness::<Large>::with_params(&[("limit", "50.00")])?;
//! let findings = rule.evaluate(&TxBuilder::transfer("50.01").build());
//! assert_eq!(findings.len(), 1);
//! assert!(rule.evaluate(&TxBuilder::transfer("50.00").build()).is_empty());
//! # Ok::<(), qorgan_sdk::testing::SetupError>(())
//! ```

use core::cell::RefCell;
use core::fmt;

use crate::params::check_value;
use crate::{
    Account, Channel, Checks, ConfigError, Cursor, Direction, Finding, Findings, Flows, Host,
    Level, Metadata, MetadataError, Money, ParamType, Params, PartyKind, Path, Query, Rule,
    Timestamp, Totals, Trail, Tx, TxKind, wit,
};

/// 2025-03-01T10:00:00Z, the default time of a [`TxBuilder`] transaction.
pub const DEFAULT_TIME: Timestamp = 1_740_823_200;

/// The default account of a [`TxBuilder`] transaction's sender.
pub const DEFAULT_SENDER_ACCOUNT: Account = 1;

/// The default account of a [`TxBuilder`] transaction's recipient.
pub const DEFAULT_RECIPIENT_ACCOUNT: Account = 2;

/// One side of a transaction being built.
#[derive(Clone, Debug)]
struct PartySpec {
    account: Account,
    iin: String,
    kind: PartyKind,
    vasp: String,
    country: String,
    opened: Option<Timestamp>,
    holder: Option<u64>,
    income: Option<Money>,
}

impl PartySpec {
    fn new(account: Account) -> PartySpec {
        PartySpec {
            account,
            iin: String::new(),
            kind: PartyKind::Individual,
            vasp: String::new(),
            country: String::new(),
            opened: None,
            holder: None,
            income: None,
        }
    }
}

/// Builds a test transaction. Every field has a default: sequence number 1
/// at [`DEFAULT_TIME`], channel `other`, currency `KZT`, individual sender and
/// recipient on accounts [`DEFAULT_SENDER_ACCOUNT`] and
/// [`DEFAULT_RECIPIENT_ACCOUNT`] with no IIN, no remittance text, nothing
/// verified, no device.
///
/// ```
/// use qorgan_sdk::{Checks, Money, TxKind};
/// use qorgan_sdk::testing::TxBuilder;
///
/// let built = TxBuilder::card_topup("600000.00")
///     .sender_iin("061211600012")
///     .verified(Checks::SENDER_IIN)
///     .build();
/// let tx = built.tx();
/// assert_eq!(tx.kind(), TxKind::CardTopup);
/// assert_eq!(tx.amount(), Money::from_tiyn(60_000_000));
/// assert_eq!(tx.sender().iin(), Some("061211600012"));
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct TxBuilder {
    seq: u64,
    time: Timestamp,
    kind: TxKind,
    channel: Channel,
    amount: Money,
    currency: String,
    sender: PartySpec,
    recipient: PartySpec,
    remittance: String,
    verified: Checks,
    device: Option<u64>,
}

impl TxBuilder {
    /// A transaction of `kind` for `amount` (a decimal string of tenge such
    /// as `"600000.00"`).
    ///
    /// # Panics
    ///
    /// If `amount` is not a valid amount (see [`Money::parse`]): this is a
    /// test helper, and a typo in a test should fail the test loudly. Use
    /// [`TxBuilder::with_amount`] to pass a [`Money`].
    #[track_caller]
    pub fn new(kind: TxKind, amount: &str) -> TxBuilder {
        match Money::parse(amount) {
            Ok(amount) => TxBuilder::with_amount(kind, amount),
            Err(error) => panic!("TxBuilder: {error}"),
        }
    }

    /// A transaction of `kind` for `amount`.
    pub fn with_amount(kind: TxKind, amount: Money) -> TxBuilder {
        TxBuilder {
            seq: 1,
            time: DEFAULT_TIME,
            kind,
            channel: Channel::Other,
            amount,
            currency: "KZT".to_owned(),
            sender: PartySpec::new(DEFAULT_SENDER_ACCOUNT),
            recipient: PartySpec::new(DEFAULT_RECIPIENT_ACCOUNT),
            remittance: String::new(),
            verified: Checks::NONE,
            device: None,
        }
    }

    /// A card top-up; see [`TxBuilder::new`].
    #[track_caller]
    pub fn card_topup(amount: &str) -> TxBuilder {
        TxBuilder::new(TxKind::CardTopup, amount)
    }

    /// A transfer; see [`TxBuilder::new`].
    #[track_caller]
    pub fn transfer(amount: &str) -> TxBuilder {
        TxBuilder::new(TxKind::Transfer, amount)
    }

    /// A cash withdrawal; see [`TxBuilder::new`].
    #[track_caller]
    pub fn cash_withdrawal(amount: &str) -> TxBuilder {
        TxBuilder::new(TxKind::CashWithdrawal, amount)
    }

    /// A cash deposit; see [`TxBuilder::new`].
    #[track_caller]
    pub fn cash_deposit(amount: &str) -> TxBuilder {
        TxBuilder::new(TxKind::CashDeposit, amount)
    }

    /// A card payment; see [`TxBuilder::new`].
    #[track_caller]
    pub fn card_payment(amount: &str) -> TxBuilder {
        TxBuilder::new(TxKind::CardPayment, amount)
    }

    /// A crypto purchase; see [`TxBuilder::new`].
    #[track_caller]
    pub fn crypto_purchase(amount: &str) -> TxBuilder {
        TxBuilder::new(TxKind::CryptoPurchase, amount)
    }

    /// A crypto sale; see [`TxBuilder::new`].
    #[track_caller]
    pub fn crypto_sale(amount: &str) -> TxBuilder {
        TxBuilder::new(TxKind::CryptoSale, amount)
    }

    /// Sets the kind.
    pub fn kind(mut self, kind: TxKind) -> TxBuilder {
        self.kind = kind;
        self
    }

    /// Sets the amount.
    pub fn amount(mut self, amount: Money) -> TxBuilder {
        self.amount = amount;
        self
    }

    /// Sets the position in the stream.
    pub fn seq(mut self, seq: u64) -> TxBuilder {
        self.seq = seq;
        self
    }

    /// Sets the transaction's time (seconds since the Unix epoch).
    pub fn time(mut self, time: Timestamp) -> TxBuilder {
        self.time = time;
        self
    }

    /// Sets the channel.
    pub fn channel(mut self, channel: Channel) -> TxBuilder {
        self.channel = channel;
        self
    }

    /// Sets the currency code (empty for none).
    pub fn currency(mut self, currency: &str) -> TxBuilder {
        currency.clone_into(&mut self.currency);
        self
    }

    /// Sets the remittance text.
    pub fn remittance(mut self, remittance: &str) -> TxBuilder {
        remittance.clone_into(&mut self.remittance);
        self
    }

    /// Adds checks the bank has already done (calls accumulate).
    pub fn verified(mut self, checks: Checks) -> TxBuilder {
        self.verified |= checks;
        self
    }

    /// Sets the device handle.
    pub fn device(mut self, device: u64) -> TxBuilder {
        self.device = Some(device);
        self
    }

    /// Sets the sender's account handle.
    pub fn sender_account(mut self, account: Account) -> TxBuilder {
        self.sender.account = account;
        self
    }

    /// Sets the sender's IIN/BIN, as given by the bank (not validated).
    pub fn sender_iin(mut self, iin: &str) -> TxBuilder {
        iin.clone_into(&mut self.sender.iin);
        self
    }

    /// Sets who the sender is.
    pub fn sender_kind(mut self, kind: PartyKind) -> TxBuilder {
        self.sender.kind = kind;
        self
    }

    /// Sets the sender's VASP identifier.
    pub fn sender_vasp(mut self, vasp: &str) -> TxBuilder {
        vasp.clone_into(&mut self.sender.vasp);
        self
    }

    /// Sets the sender's country code.
    pub fn sender_country(mut self, country: &str) -> TxBuilder {
        country.clone_into(&mut self.sender.country);
        self
    }

    /// Sets when the sender's account was opened.
    pub fn sender_opened(mut self, opened: Timestamp) -> TxBuilder {
        self.sender.opened = Some(opened);
        self
    }

    /// Sets the handle of the sender's holder (its IIN/BIN).
    pub fn sender_holder(mut self, holder: u64) -> TxBuilder {
        self.sender.holder = Some(holder);
        self
    }

    /// Sets the sender's declared monthly income.
    pub fn sender_income(mut self, income: Money) -> TxBuilder {
        self.sender.income = Some(income);
        self
    }

    /// Sets the recipient's account handle.
    pub fn recipient_account(mut self, account: Account) -> TxBuilder {
        self.recipient.account = account;
        self
    }

    /// Sets the recipient's IIN/BIN, as given by the bank (not validated).
    pub fn recipient_iin(mut self, iin: &str) -> TxBuilder {
        iin.clone_into(&mut self.recipient.iin);
        self
    }

    /// Sets who the recipient is.
    pub fn recipient_kind(mut self, kind: PartyKind) -> TxBuilder {
        self.recipient.kind = kind;
        self
    }

    /// Sets the recipient's VASP identifier.
    pub fn recipient_vasp(mut self, vasp: &str) -> TxBuilder {
        vasp.clone_into(&mut self.recipient.vasp);
        self
    }

    /// Sets the recipient's country code.
    pub fn recipient_country(mut self, country: &str) -> TxBuilder {
        country.clone_into(&mut self.recipient.country);
        self
    }

    /// Sets when the recipient's account was opened.
    pub fn recipient_opened(mut self, opened: Timestamp) -> TxBuilder {
        self.recipient.opened = Some(opened);
        self
    }

    /// Sets the handle of the recipient's holder (its IIN/BIN).
    pub fn recipient_holder(mut self, holder: u64) -> TxBuilder {
        self.recipient.holder = Some(holder);
        self
    }

    /// Sets the recipient's declared monthly income.
    pub fn recipient_income(mut self, income: Money) -> TxBuilder {
        self.recipient.income = Some(income);
        self
    }

    /// The WIT record and its text buffer.
    #[must_use]
    pub fn build(self) -> TestTx {
        let mut text = Vec::new();
        let currency = push_text(&mut text, &self.currency);
        let sender = build_party(&mut text, &self.sender);
        let recipient = build_party(&mut text, &self.recipient);
        let remittance = push_text(&mut text, &self.remittance);
        TestTx {
            raw: wit::Transaction {
                at: Cursor {
                    seq: self.seq,
                    time: self.time,
                },
                kind: self.kind,
                channel: self.channel,
                amount: self.amount.tiyn(),
                currency,
                sender,
                recipient,
                remittance,
                verified: self.verified.into(),
                device: self.device,
            },
            text,
        }
    }
}

fn build_party(text: &mut Vec<u8>, party: &PartySpec) -> wit::Party {
    wit::Party {
        account: party.account,
        iin: push_text(text, &party.iin),
        kind: party.kind,
        vasp: push_text(text, &party.vasp),
        country: push_text(text, &party.country),
        opened: party.opened,
        holder: party.holder,
        income: party.income.map(Money::tiyn),
    }
}

/// Appends `value` to the buffer and returns its span (the empty span for an
/// empty value).
fn push_text(text: &mut Vec<u8>, value: &str) -> wit::Span {
    if value.is_empty() {
        return wit::Span { start: 0, len: 0 };
    }
    let start = to_u32(text.len());
    text.extend_from_slice(value.as_bytes());
    wit::Span {
        start,
        len: to_u32(value.len()),
    }
}

/// Test buffers are small; an impossible overflow gives a span that reads as
/// empty rather than a panic.
fn to_u32(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// A built test transaction: the WIT record and the text its spans point into.
#[derive(Clone, Debug)]
pub struct TestTx {
    raw: wit::Transaction,
    text: Vec<u8>,
}

impl TestTx {
    /// The view a rule receives.
    #[must_use]
    pub fn tx(&self) -> Tx<'_> {
        Tx::new(&self.raw, &self.text)
    }

    /// The WIT record.
    #[must_use]
    pub fn raw(&self) -> &wit::Transaction {
        &self.raw
    }

    /// The text buffer.
    #[must_use]
    pub fn text(&self) -> &[u8] {
        &self.text
    }
}

/// Puts test transactions into one WIT batch, merging their text buffers and
/// moving their spans accordingly.
#[must_use]
pub fn batch(txs: &[TestTx]) -> wit::Batch {
    let mut text = Vec::new();
    let mut transactions = Vec::with_capacity(txs.len());
    for test_tx in txs {
        let offset = to_u32(text.len());
        text.extend_from_slice(&test_tx.text);
        let mut raw = test_tx.raw;
        for span in [
            &mut raw.currency,
            &mut raw.remittance,
            &mut raw.sender.iin,
            &mut raw.sender.vasp,
            &mut raw.sender.country,
            &mut raw.recipient.iin,
            &mut raw.recipient.vasp,
            &mut raw.recipient.country,
        ] {
            if span.len > 0 {
                span.start = span.start.saturating_add(offset);
            }
        }
        transactions.push(raw);
    }
    wit::Batch { transactions, text }
}

/// How [`MemoryHost`] answers [`Host::aggregate`].
type AggregateFn = Box<dyn Fn(Cursor, &Query) -> Totals>;

/// A [`Host`] that answers from memory, for unit tests.
///
/// - History: by default every account has no history
///   (`Totals::default()`, never seen). Set fixed answers per account with
///   [`MemoryHost::with_totals`] / [`MemoryHost::with_totals_in`], or answer
///   every query yourself with [`MemoryHost::with_aggregate`].
/// - Lists: entries compare without regard to case and surrounding spaces,
///   as in the host.
/// - Everything the rule asked ([`MemoryHost::queries`]) and logged
///   ([`MemoryHost::logs`]) is recorded.
///
/// ```
/// use qorgan_sdk::{Direction, Host, Money, Query, Totals};
/// use qorgan_sdk::testing::{MemoryHost, TxBuilder};
///
/// let host = MemoryHost::new()
///     .with_totals(7, Totals { count: 3, sum: Money::from_tiyn(300), ..Totals::default() })
///     .with_list_entry("afsa-register", "bybit");
/// let at = TxBuilder::transfer("1.00").build().tx().at();
/// assert_eq!(host.aggregate(at, &Query::new(7, Direction::Outbound, 3600)).count, 3);
/// assert!(host.list_contains("afsa-register", " ByBit "));
/// ```
#[derive(Default)]
pub struct MemoryHost {
    totals: Vec<(Account, Option<Direction>, Totals)>,
    aggregate: Option<AggregateFn>,
    first_seen: Vec<(Account, Timestamp)>,
    linked: Vec<(u64, u32)>,
    references: Vec<(Account, String)>,
    flows: Vec<(Account, Direction, Flows)>,
    traces: Vec<(Account, Path)>,
    paths: Vec<((Account, Account), Path)>,
    entries: Vec<(String, String)>,
    accounts: Vec<(String, Account)>,
    declared_lists: Option<Vec<String>>,
    queries: RefCell<Vec<(Cursor, Query)>>,
    logs: RefCell<Vec<(Level, String)>>,
}

impl fmt::Debug for MemoryHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryHost")
            .field("totals", &self.totals)
            .field("aggregate", &self.aggregate.as_ref().map(|_| "Fn"))
            .field("first_seen", &self.first_seen)
            .field("linked", &self.linked)
            .field("references", &self.references)
            .field("flows", &self.flows)
            .field("traces", &self.traces)
            .field("paths", &self.paths)
            .field("entries", &self.entries)
            .field("accounts", &self.accounts)
            .field("declared_lists", &self.declared_lists)
            .finish_non_exhaustive()
    }
}

impl MemoryHost {
    /// A host with no history and empty lists.
    #[must_use]
    pub fn new() -> MemoryHost {
        MemoryHost::default()
    }

    /// Answers every query about `account`, in any direction, with `totals`
    /// (unless [`MemoryHost::with_totals_in`] gave a more specific answer).
    #[must_use]
    pub fn with_totals(mut self, account: Account, totals: Totals) -> MemoryHost {
        self.totals.push((account, None, totals));
        self
    }

    /// Answers queries about `account` in `direction` with `totals`.
    #[must_use]
    pub fn with_totals_in(
        mut self,
        account: Account,
        direction: Direction,
        totals: Totals,
    ) -> MemoryHost {
        self.totals.push((account, Some(direction), totals));
        self
    }

    /// Answers every history query with `answer` (taking precedence over
    /// fixed totals), for tests that need windows, kinds or amounts honoured.
    #[must_use]
    pub fn with_aggregate(
        mut self,
        answer: impl Fn(Cursor, &Query) -> Totals + 'static,
    ) -> MemoryHost {
        self.aggregate = Some(Box::new(answer));
        self
    }

    /// Says `account` was first seen at `time`.
    #[must_use]
    pub fn with_first_seen(mut self, account: Account, time: Timestamp) -> MemoryHost {
        self.first_seen.push((account, time));
        self
    }

    /// Says `count` accounts are linked to the device or holder `key`, in
    /// any window.
    #[must_use]
    pub fn with_linked_accounts(mut self, key: u64, count: u32) -> MemoryHost {
        self.linked.push((key, count));
        self
    }

    /// Names `account` by `reference` (its IBAN or card reference).
    #[must_use]
    pub fn with_reference(mut self, account: Account, reference: &str) -> MemoryHost {
        self.references.push((account, reference.to_owned()));
        self
    }

    /// Answers `counterparties` about `account` in `direction` (in any
    /// window; [`Direction::Both`] answers every direction) with `flows`;
    /// other accounts and directions have none.
    #[must_use]
    pub fn with_flows(
        mut self,
        account: Account,
        direction: Direction,
        flows: Flows,
    ) -> MemoryHost {
        self.flows.push((account, direction, flows));
        self
    }

    /// Answers `trace_back` from `account` (for any amount) with `path`;
    /// other accounts' money passed through nobody.
    #[must_use]
    pub fn with_trace(mut self, account: Account, path: Path) -> MemoryHost {
        self.traces.push((account, path));
        self
    }

    /// Answers `find_path` from `source` to `target` with `path`; other
    /// pairs have none.
    #[must_use]
    pub fn with_path(mut self, source: Account, target: Account, path: Path) -> MemoryHost {
        self.paths.push(((source, target), path));
        self
    }

    /// Adds `key` to the reference list `list`.
    #[must_use]
    pub fn with_list_entry(mut self, list: &str, key: &str) -> MemoryHost {
        self.entries.push((list.to_owned(), normalize(key)));
        self
    }

    /// Adds `account` to the reference list `list`.
    #[must_use]
    pub fn with_listed_account(mut self, list: &str, account: Account) -> MemoryHost {
        self.accounts.push((list.to_owned(), account));
        self
    }

    /// Makes list questions about any list other than `lists` fail (panic), as
    /// the host fails a call that asks about an undeclared list.
    /// [`Harness`] sets this from the rule's metadata.
    #[must_use]
    pub fn with_declared_lists(mut self, lists: &[String]) -> MemoryHost {
        self.declared_lists = Some(lists.to_vec());
        self
    }

    /// Every history query asked so far, in order.
    #[must_use]
    pub fn queries(&self) -> Vec<(Cursor, Query)> {
        self.queries.borrow().clone()
    }

    /// Every message logged so far, in order.
    #[must_use]
    pub fn logs(&self) -> Vec<(Level, String)> {
        self.logs.borrow().clone()
    }

    #[track_caller]
    fn check_declared(&self, list: &str) {
        if let Some(declared) = &self.declared_lists
            && !declared.iter().any(|name| name == list)
        {
            panic!(
                "the rule asked about list `{list}`, which its metadata does not declare \
                 (declared: {declared:?}); the host would fail the call"
            );
        }
    }
}

impl MemoryHost {
    fn linked_to(&self, key: u64) -> u32 {
        self.linked
            .iter()
            .find(|(k, _)| *k == key)
            .map_or(0, |(_, count)| *count)
    }
}

fn normalize(key: &str) -> String {
    key.trim().to_lowercase()
}

impl Host for MemoryHost {
    fn aggregate(&self, at: Cursor, query: &Query) -> Totals {
        self.queries.borrow_mut().push((at, *query));
        if let Some(answer) = &self.aggregate {
            return answer(at, query);
        }
        let account = query.account();
        let exact = self
            .totals
            .iter()
            .find(|(a, d, _)| *a == account && *d == Some(query.direction()));
        let any = || {
            self.totals
                .iter()
                .find(|(a, d, _)| *a == account && d.is_none())
        };
        exact
            .or_else(any)
            .map(|(_, _, totals)| *totals)
            .unwrap_or_default()
    }

    fn first_seen(&self, _at: Cursor, account: Account) -> Option<Timestamp> {
        self.first_seen
            .iter()
            .find(|(a, _)| *a == account)
            .map(|(_, time)| *time)
    }

    fn accounts_on_device(&self, _at: Cursor, device: u64, _window_secs: u32) -> u32 {
        self.linked_to(device)
    }

    fn accounts_of_holder(&self, _at: Cursor, holder: u64, _window_secs: u32) -> u32 {
        self.linked_to(holder)
    }

    fn reference(&self, account: Account) -> Option<String> {
        self.references
            .iter()
            .find(|(a, _)| *a == account)
            .map(|(_, r)| r.clone())
    }

    fn counterparties(&self, _at: Cursor, query: &Query, limit: u32) -> Flows {
        let mut found = self
            .flows
            .iter()
            .find(|(a, d, _)| {
                *a == query.account() && (*d == Direction::Both || *d == query.direction())
            })
            .map(|(_, _, f)| f.clone())
            .unwrap_or(Flows {
                complete: true,
                ..Flows::default()
            });
        found
            .flows
            .truncate(usize::try_from(limit.min(64)).unwrap_or(64));
        found
    }

    fn trace_back(&self, _at: Cursor, account: Account, _amount: Money, _trail: &Trail) -> Path {
        self.traces
            .iter()
            .find(|(a, _)| *a == account)
            .map(|(_, p)| p.clone())
            .unwrap_or(Path {
                hops: Vec::new(),
                complete: true,
            })
    }

    fn find_path(
        &self,
        _at: Cursor,
        source: Account,
        target: Account,
        _window_secs: u32,
        _trail: &Trail,
    ) -> Path {
        self.paths
            .iter()
            .find(|(pair, _)| *pair == (source, target))
            .map(|(_, p)| p.clone())
            .unwrap_or(Path {
                hops: Vec::new(),
                complete: true,
            })
    }

    fn list_contains(&self, name: &str, key: &str) -> bool {
        self.check_declared(name);
        let key = normalize(key);
        self.entries
            .iter()
            .any(|(list, entry)| list == name && *entry == key)
    }

    fn list_contains_account(&self, name: &str, account: Account) -> bool {
        self.check_declared(name);
        self.accounts
            .iter()
            .any(|(list, listed)| list == name && *listed == account)
    }

    fn log(&self, level: Level, message: &str) {
        self.logs.borrow_mut().push((level, message.to_owned()));
    }
}

/// Why a rule could not be set up for a test.
#[derive(Debug, Clone, PartialEq)]
pub enum SetupError {
    /// The rule's metadata would not pass the host's checks.
    Metadata(MetadataError),
    /// A parameter was set that the rule does not declare.
    UnknownParam {
        /// The parameter's name.
        name: String,
    },
    /// A parameter was set to a value that is not of its declared type.
    InvalidValue {
        /// The parameter's name.
        name: String,
        /// The value given.
        value: String,
        /// The declared type.
        kind: ParamType,
        /// What is wrong with it.
        reason: String,
    },
    /// The rule's own `configure` refused the parameters.
    Configure(ConfigError),
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetupError::Metadata(error) => error.fmt(f),
            SetupError::UnknownParam { name } => {
                write!(f, "parameter `{name}` is not declared by the rule")
            }
            SetupError::InvalidValue {
                name,
                value,
                kind,
                reason,
            } => write!(
                f,
                "parameter `{name}` = `{value}` is not a valid {kind}: {reason}"
            ),
            SetupError::Configure(error) => write!(f, "configure refused: {error}"),
        }
    }
}

impl std::error::Error for SetupError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SetupError::Metadata(error) => Some(error),
            SetupError::Configure(error) => Some(error),
            SetupError::UnknownParam { .. } | SetupError::InvalidValue { .. } => None,
        }
    }
}

/// The parameters the host would pass to `configure`: every parameter
/// `metadata` declares, with its default unless `overrides` sets it. Refuses
/// invalid metadata, undeclared overrides and values not of the declared
/// type, as the host refuses such a pack.
pub fn resolve_params(
    metadata: &Metadata,
    overrides: &[(&str, &str)],
) -> Result<Params, SetupError> {
    metadata.validate().map_err(SetupError::Metadata)?;
    let mut params = Params::new();
    for spec in metadata.params() {
        params.set(spec.name(), spec.default_value());
    }
    for (name, value) in overrides {
        let Some(spec) = metadata.find_param(name) else {
            return Err(SetupError::UnknownParam {
                name: (*name).to_owned(),
            });
        };
        check_value(spec.kind(), value).map_err(|reason| SetupError::InvalidValue {
            name: (*name).to_owned(),
            value: (*value).to_owned(),
            kind: spec.kind(),
            reason,
        })?;
        params.set(*name, *value);
    }
    Ok(params)
}

/// Configures `R` the way the host does: declared defaults, then `overrides`.
pub fn configure<R: Rule>(overrides: &[(&str, &str)]) -> Result<R, SetupError> {
    let params = resolve_params(&R::metadata(), overrides)?;
    R::configure(&params).map_err(SetupError::Configure)
}

/// Configures `R` with `overrides` and evaluates one transaction against an
/// empty [`MemoryHost`]; the shortest way to test a rule that needs no
/// history. See [`Harness::evaluate`] for the checks made.
pub fn evaluate<R: Rule>(
    overrides: &[(&str, &str)],
    tx: &TestTx,
) -> Result<Vec<Finding>, SetupError> {
    Ok(Harness::<R>::with_params(overrides)?.evaluate(tx))
}

/// A configured rule with a [`MemoryHost`], ready to evaluate test
/// transactions.
pub struct Harness<R> {
    rule: R,
    metadata: Metadata,
    host: MemoryHost,
}

impl<R: fmt::Debug> fmt::Debug for Harness<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Harness")
            .field("rule", &self.rule)
            .field("metadata", &self.metadata)
            .field("host", &self.host)
            .finish()
    }
}

impl<R: Rule> Harness<R> {
    /// The rule configured with its declared defaults.
    pub fn new() -> Result<Harness<R>, SetupError> {
        Harness::with_params(&[])
    }

    /// The rule configured with its declared defaults, overridden by
    /// `overrides` (`&[("topup-threshold", "1000.00")]`).
    pub fn with_params(overrides: &[(&str, &str)]) -> Result<Harness<R>, SetupError> {
        let metadata = R::metadata();
        let params = resolve_params(&metadata, overrides)?;
        let rule = R::configure(&params).map_err(SetupError::Configure)?;
        let host = MemoryHost::new().with_declared_lists(metadata.lists());
        Ok(Harness {
            rule,
            metadata,
            host,
        })
    }

    /// Uses `host` for history and list questions (list questions are still
    /// limited to the declared lists).
    #[must_use]
    pub fn with_host(mut self, host: MemoryHost) -> Harness<R> {
        self.host = host.with_declared_lists(self.metadata.lists());
        self
    }

    /// The configured rule.
    #[must_use]
    pub fn rule(&self) -> &R {
        &self.rule
    }

    /// The rule's metadata.
    #[must_use]
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// The host, to inspect what the rule asked and logged.
    #[must_use]
    pub fn host(&self) -> &MemoryHost {
        &self.host
    }

    /// Evaluates one transaction and returns the findings.
    ///
    /// # Panics
    ///
    /// When the rule emits a finding whose code its metadata does not declare
    /// (the host would refuse it), or asks about a list it does not declare;
    /// either way the test fails with a message saying so.
    #[track_caller]
    #[must_use]
    pub fn evaluate(&self, tx: &TestTx) -> Vec<Finding> {
        let mut out = Findings::new();
        self.rule.evaluate(&tx.tx(), &self.host, &mut out);
        let findings = out.into_vec();
        for finding in &findings {
            if self.metadata.find_code(finding.code()).is_none() {
                panic!(
                    "rule `{}` emitted finding code `{}`, which its metadata does not declare",
                    self.metadata.id(),
                    finding.code()
                );
            }
        }
        findings
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Action, CodeSpec, ParamSpec};

    /// Flags amounts above a limit and remittances that name a listed word.
    #[derive(Debug)]
    struct Probe {
        limit: Money,
    }

    impl Rule for Probe {
        fn metadata() -> Metadata {
            Metadata::new("probe", "0.1.0", "A rule for testing the harness.")
                .param(ParamSpec::money("limit", "100.00", "The limit."))
                .param(ParamSpec::boolean("strict", false, "Unused."))
                .code(CodeSpec::new("ABOVE", Action::Review, "Above the limit."))
                .code(CodeSpec::new("LISTED", Action::Block, "Listed word."))
                .list("words")
        }

        fn configure(params: &Params) -> Result<Probe, ConfigError> {
            let limit = params.money("limit")?;
            if limit.is_negative() {
                return Err(ConfigError::invalid("limit", limit, "must not be negative"));
            }
            Ok(Probe { limit })
        }

        fn evaluate<H: Host>(&self, tx: &Tx<'_>, host: &H, out: &mut Findings) {
            if tx.amount() > self.limit {
                out.add(Finding::new("ABOVE", Action::Review));
            }
            if host.list_contains("words", tx.remittance()) {
                out.add(Finding::new("LISTED", Action::Block));
            }
            let totals = host.aggregate(
                tx.at(),
                &Query::new(tx.sender().account(), Direction::Outbound, 60),
            );
            if totals.count > 0 {
                host.log(Level::Info, "history seen");
            }
        }
    }

    /// Emits a code it does not declare.
    struct Sloppy;

    impl Rule for Sloppy {
        fn metadata() -> Metadata {
            Metadata::new("sloppy", "0.1.0", "Emits an undeclared code.")
        }
        fn configure(_params: &Params) -> Result<Sloppy, ConfigError> {
            Ok(Sloppy)
        }
        fn evaluate<H: Host>(&self, _tx: &Tx<'_>, _host: &H, out: &mut Findings) {
            out.add(Finding::new("UNDECLARED", Action::Allow));
        }
    }

    #[test]
    fn defaults_come_from_metadata() -> Result<(), SetupError> {
        let harness = Harness::<Probe>::new()?;
        assert_eq!(harness.rule().limit, Money::from_tiyn(10_000));
        Ok(())
    }

    #[test]
    fn overrides_replace_defaults() -> Result<(), SetupError> {
        let probe = configure::<Probe>(&[("limit", "5.00")])?;
        assert_eq!(probe.limit, Money::from_tiyn(500));
        Ok(())
    }

    #[test]
    fn undeclared_overrides_are_refused() {
        let error = configure::<Probe>(&[("limt", "5.00")]).err();
        assert_eq!(
            error,
            Some(SetupError::UnknownParam {
                name: "limt".to_owned()
            })
        );
    }

    #[test]
    fn overrides_of_the_wrong_type_are_refused_like_the_host_does() {
        let error = configure::<Probe>(&[("strict", "yes")]).err();
        assert!(matches!(
            error,
            Some(SetupError::InvalidValue {
                kind: ParamType::Boolean,
                ..
            })
        ));
    }

    #[test]
    fn configure_errors_surface_with_the_parameter_name() {
        let error = configure::<Probe>(&[("limit", "-1.00")]).err();
        assert_eq!(
            error.map(|e| e.to_string()).as_deref(),
            Some("configure refused: parameter `limit` = `-1.00`: must not be negative")
        );
    }

    #[test]
    fn evaluate_returns_the_rules_findings() -> Result<(), SetupError> {
        let findings = evaluate::<Probe>(&[], &TxBuilder::transfer("100.01").build())?;
        let codes: Vec<&str> = findings.iter().map(Finding::code).collect();
        assert_eq!(codes, ["ABOVE"]);
        assert!(evaluate::<Probe>(&[], &TxBuilder::transfer("100.00").build())?.is_empty());
        Ok(())
    }

    #[test]
    fn lists_compare_without_case_or_spaces() -> Result<(), SetupError> {
        let harness =
            Harness::<Probe>::new()?.with_host(MemoryHost::new().with_list_entry("words", "USDT"));
        let findings = harness.evaluate(&TxBuilder::transfer("1.00").remittance(" usdt ").build());
        assert_eq!(findings.first().map(Finding::code), Some("LISTED"));
        Ok(())
    }

    #[test]
    fn the_host_records_queries_and_logs() -> Result<(), SetupError> {
        let totals = Totals {
            count: 2,
            ..Totals::default()
        };
        let harness = Harness::<Probe>::new()?.with_host(MemoryHost::new().with_totals_in(
            DEFAULT_SENDER_ACCOUNT,
            Direction::Outbound,
            totals,
        ));
        let _ = harness.evaluate(&TxBuilder::transfer("1.00").seq(9).build());
        let queries = harness.host().queries();
        assert_eq!(queries.len(), 1);
        assert_eq!(queries.first().map(|(at, _)| at.seq), Some(9));
        assert_eq!(
            harness.host().logs(),
            vec![(Level::Info, "history seen".to_owned())]
        );
        Ok(())
    }

    #[test]
    fn aggregate_fn_takes_precedence_over_fixed_totals() {
        let host = MemoryHost::new()
            .with_totals(
                5,
                Totals {
                    count: 1,
                    ..Totals::default()
                },
            )
            .with_aggregate(|_, query| Totals {
                count: query.window_secs(),
                ..Totals::default()
            });
        let at = Cursor { seq: 1, time: 0 };
        assert_eq!(
            host.aggregate(at, &Query::new(5, Direction::Both, 42))
                .count,
            42
        );
        assert_eq!(MemoryHost::new().first_seen(at, 5), None);
        assert_eq!(
            MemoryHost::new().with_first_seen(5, 77).first_seen(at, 5),
            Some(77)
        );
    }

    #[test]
    #[should_panic(expected = "does not declare")]
    fn undeclared_finding_codes_fail_the_test() {
        if let Ok(harness) = Harness::<Sloppy>::new() {
            let _ = harness.evaluate(&TxBuilder::transfer("1.00").build());
        }
    }

    #[test]
    #[should_panic(expected = "list `other`")]
    fn undeclared_lists_fail_the_call() {
        let host = MemoryHost::new().with_declared_lists(&["words".to_owned()]);
        let _ = host.list_contains("other", "x");
    }

    #[test]
    fn batch_moves_spans_into_one_buffer() {
        let txs = [
            TxBuilder::transfer("1.00")
                .sender_iin("061211600012")
                .build(),
            TxBuilder::transfer("2.00")
                .remittance("обмен")
                .recipient_vasp("okx")
                .build(),
        ];
        let raw = batch(&txs);
        let views: Vec<Tx<'_>> = raw
            .transactions
            .iter()
            .map(|t| Tx::new(t, &raw.text))
            .collect();
        assert_eq!(
            views.first().and_then(|t| t.sender().iin()),
            Some("061211600012")
        );
        assert_eq!(views.get(1).map(|t| t.remittance()), Some("обмен"));
        assert_eq!(views.get(1).and_then(|t| t.recipient().vasp()), Some("okx"));
        assert_eq!(views.get(1).map(|t| t.currency()), Some("KZT"));
        assert_eq!(views.get(1).and_then(|t| t.sender().iin()), None);
    }

    #[test]
    #[should_panic(expected = "invalid amount `12,5`")]
    fn a_malformed_amount_in_a_test_fails_loudly() {
        let _ = TxBuilder::cash_deposit("12,5");
    }
}
