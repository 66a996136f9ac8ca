//! One generated transaction before it becomes text: compact, cheap to
//! sort, and referring to parties by index rather than by copy.
//!
//! A day of the busiest streams holds hundreds of thousands of these, so
//! parties are [`PartyRef`]s into the population (or pure functions of an
//! index for people and firms outside the bank) and texts are `'static`
//! where they can be. Rendering to JSON happens once, when the event is
//! written (see `output.rs`).

use qorgan::transaction::{Channel, Check, Checks, TxKind};

/// A party to a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum PartyRef {
    /// An account of the home bank (index into the population's accounts).
    Home(u32),
    /// A person's account at another bank (index; see [`OWN_BASE`]).
    Person(u32),
    /// A company's account at another bank (index; see [`OWN_BASE`]).
    Business(u32),
    /// A merchant's account at its acquiring bank (index into the merchant
    /// names).
    Merchant(u32),
    /// A foreign merchant, paid in dollars (index into the foreign merchants).
    Foreign(u16),
    /// An ATM of the home bank: city index and ATM number.
    Atm(u8, u16),
    /// A crypto platform's deposit account: platform index and account number.
    Vasp(u8, u8),
}

/// Indices from here on are the home bank's own customers' accounts at
/// other banks: `Person(OWN_BASE + i)` (or `Business(OWN_BASE + i)`) is
/// the holder of home account `i`, with the same IIN or BIN.
pub(crate) const OWN_BASE: u32 = 1 << 30;

/// A remittance text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Remit {
    /// No text.
    None,
    /// A fixed text (empty means none).
    Text(&'static str),
    /// A salary or advance for a month (0–11) of a year, in a company's style.
    Salary {
        /// The company's wording (see `texts::salary`).
        style: u8,
        /// The advance rather than the final payment.
        advance: bool,
        /// The month paid for, 0 = January.
        month: u8,
        /// The year paid for.
        year: i16,
    },
    /// The name of a merchant (index into `texts::MERCHANTS`).
    Merchant(u16),
    /// The name of a foreign merchant (index into `texts::FOREIGN_MERCHANTS`).
    Foreign(u16),
}

/// Crypto platforms: the licensed ones of the AFSA register first, then
/// those AFSA named as unlicensed, with the country each is registered in.
pub(crate) const PLATFORMS: [(&str, &str); 7] = [
    ("bybit", "KZ"),
    ("binance", "KZ"),
    ("whitebit", "KZ"),
    ("okx", "SC"),
    ("htx", "SC"),
    ("mexc", "SC"),
    ("bitget", "SC"),
];

/// How many of [`PLATFORMS`] are licensed (the first ones).
pub(crate) const LICENSED_PLATFORMS: u8 = 3;

/// A transaction as scheduled by an actor.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    /// Seconds since the epoch, UTC.
    pub(crate) time: i64,
    /// The day whose schedule made it: the first tie-break.
    pub(crate) day: u32,
    /// The account whose schedule made it: the second tie-break.
    pub(crate) actor: u32,
    /// Its place in that schedule: the third tie-break.
    pub(crate) seq: u32,
    pub(crate) kind: TxKind,
    pub(crate) channel: Channel,
    /// In minor units (tiyn or cents).
    pub(crate) amount: i64,
    /// In dollars rather than tenge.
    pub(crate) usd: bool,
    pub(crate) sender: PartyRef,
    pub(crate) recipient: PartyRef,
    pub(crate) remit: Remit,
    pub(crate) verified: Checks,
    /// The device (index) and which of its two addresses it used.
    pub(crate) device: Option<(u32, u8)>,
}

impl Event {
    /// A transaction with no text, checks or device yet.
    pub(crate) fn new(
        time: i64,
        kind: TxKind,
        channel: Channel,
        amount: i64,
        sender: PartyRef,
        recipient: PartyRef,
    ) -> Event {
        Event {
            time,
            day: 0,
            actor: 0,
            seq: 0,
            kind,
            channel,
            amount: amount.max(1),
            usd: false,
            sender,
            recipient,
            remit: Remit::None,
            verified: Checks::NONE,
            device: None,
        }
    }

    /// With a fixed remittance text.
    pub(crate) fn text(mut self, text: &'static str) -> Event {
        self.remit = Remit::Text(text);
        self
    }

    /// With a remittance.
    pub(crate) fn remit(mut self, remit: Remit) -> Event {
        self.remit = remit;
        self
    }

    /// With a check done.
    pub(crate) fn check(mut self, check: Check) -> Event {
        self.verified.insert(check);
        self
    }

    /// With a check done when `yes`.
    pub(crate) fn check_if(self, yes: bool, check: Check) -> Event {
        if yes { self.check(check) } else { self }
    }

    /// Made from a device.
    pub(crate) fn device(mut self, device: Option<(u32, u8)>) -> Event {
        self.device = device;
        self
    }

    /// In dollars.
    pub(crate) fn usd(mut self) -> Event {
        self.usd = true;
        self
    }

    /// The order of the stream: time, then the day, the actor and the place
    /// in the actor's schedule that made it. Unique, so sorting is
    /// deterministic whatever the sort algorithm.
    pub(crate) fn order(&self) -> (i64, u32, u32, u32) {
        (self.time, self.day, self.actor, self.seq)
    }
}

/// Collects one actor's events of one day, numbering them in the order
/// made.
pub(crate) struct Sink<'a> {
    out: &'a mut Vec<Event>,
    day: u32,
    actor: u32,
    seq: u32,
}

impl<'a> Sink<'a> {
    /// A sink for `actor`'s events of `day` into `out`.
    pub(crate) fn new(out: &'a mut Vec<Event>, actor: u32, day: u32) -> Sink<'a> {
        Sink {
            out,
            day,
            actor,
            seq: 0,
        }
    }

    /// Adds an event.
    pub(crate) fn push(&mut self, mut event: Event) {
        event.day = self.day;
        event.actor = self.actor;
        event.seq = self.seq;
        self.seq = self.seq.wrapping_add(1);
        self.out.push(event);
    }
}
