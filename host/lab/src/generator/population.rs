//! The bank's customers, who they are and what each is going to do.
//!
//! The population is built once, before the first day, from the seed and
//! the size of the stream: the planted typologies (mules, exchangers,
//! structurers), the legitimate look-alikes that resemble them (payroll
//! accounts, merchants, families, students, traders) and, filling the rest
//! of the volume, ordinary customers; then, after all of them so that none
//! of them moves, the patterns across accounts and their look-alikes
//! (`schemes.rs`, `lookalikes.rs`). Sizes scale with the number of
//! transactions asked for; the typologies have floors so that a
//! 100,000-transaction stream has enough of each to measure a rule's
//! precision and recall.
//!
//! Only what the home bank knows about its own customers is stored here.
//! People and firms at other banks, ATMs and crypto platforms are pure
//! functions of an index (see `output.rs`), so memory grows with the
//! customers, not with the transactions.

mod lookalikes;
mod schemes;

use std::collections::HashMap;

use super::GeneratorConfig;
use super::calendar::{self, DAY, MINUTE};
use super::event::{LICENSED_PLATFORMS, OWN_BASE, PartyRef};
use super::ids::{self, AccountClass, HOME_BANK};
use super::rng::{Rng, hash};
use super::scheme::Scheme;

/// The part an account plays in the generated stream: the label written to
/// `truth`. Nine are planted typologies (three on one account, six across
/// accounts and days), nine are legitimate, `unlicensed-platform` is a
/// crypto platform off the AFSA register (operating illegally in
/// Kazakhstan, so paying it is dealing with an illegal operator, not
/// honest activity), and `external` is anyone else who is not a customer
/// of the bank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// A money mule ("dropper"): receives victims' money and moves it on.
    Mule,
    /// A personal card used as a shadow crypto exchange office.
    Exchanger,
    /// Splits amounts just under the 500,000 KZT threshold.
    Structurer,
    /// A link of a layering chain: passes on nearly all it receives within
    /// minutes to the next account, the last one to cash, crypto or
    /// another bank.
    ChainMule,
    /// A collector receiving from many payers over weeks, or one of its
    /// payers at this bank.
    FanIn,
    /// A distributor paying many payees over days, or one of its payees
    /// (or its funder) at this bank.
    FanOut,
    /// An account of a ring that passes money round and back to where it
    /// started.
    Cycle,
    /// The source, an intermediary or the sink of money split across
    /// intermediaries and gathered again.
    ScatterGather,
    /// The hub, a payer or a payee of money gathered from many and
    /// scattered to many.
    GatherScatter,
    /// An ordinary retail customer.
    Customer,
    /// A company's payroll account.
    Payroll,
    /// A shop's or individual entrepreneur's account taking many payments.
    Merchant,
    /// A member of a family that moves money among itself.
    Family,
    /// A student (with a birthday full of small gifts).
    Student,
    /// An individual entrepreneur reselling goods through a personal card:
    /// many customers pay in and many suppliers are paid out every trading
    /// day.
    Trader,
    /// An online marketplace's settlement account, paid by many buyers a
    /// day and paying the same sellers every week; or one of its sellers
    /// at this bank.
    Marketplace,
    /// A landlord paid rent by a few tenants early in the month, who moves
    /// it on to savings or a mortgage; both of the landlord's accounts.
    Landlord,
    /// A person moving salary between their own current and savings
    /// accounts; both accounts.
    Saver,
    /// A crypto platform that is not on the AFSA register of licensed
    /// providers (OKX, HTX, MEXC, Bitget): not a customer of the bank, and
    /// illegal in Kazakhstan.
    UnlicensedPlatform,
    /// Not a customer of the bank: other banks' accounts, ATMs, acquirers,
    /// licensed crypto platforms.
    External,
}

impl Role {
    /// Every role, planted typologies first.
    pub const ALL: [Role; 20] = [
        Role::Mule,
        Role::Exchanger,
        Role::Structurer,
        Role::ChainMule,
        Role::FanIn,
        Role::FanOut,
        Role::Cycle,
        Role::ScatterGather,
        Role::GatherScatter,
        Role::Customer,
        Role::Payroll,
        Role::Merchant,
        Role::Family,
        Role::Student,
        Role::Trader,
        Role::Marketplace,
        Role::Landlord,
        Role::Saver,
        Role::UnlicensedPlatform,
        Role::External,
    ];

    /// The legitimate roles of customers.
    pub const LEGITIMATE: [Role; 9] = [
        Role::Customer,
        Role::Payroll,
        Role::Merchant,
        Role::Family,
        Role::Student,
        Role::Trader,
        Role::Marketplace,
        Role::Landlord,
        Role::Saver,
    ];

    /// Whether the role is a planted typology: mule, exchanger,
    /// structurer, or one of the six across accounts (chain, fan-in,
    /// fan-out, cycle, scatter-gather, gather-scatter); or an unlicensed
    /// crypto platform, an illegal operator.
    pub fn is_typology(self) -> bool {
        matches!(
            self,
            Role::Mule
                | Role::UnlicensedPlatform
                | Role::Exchanger
                | Role::Structurer
                | Role::ChainMule
                | Role::FanIn
                | Role::FanOut
                | Role::Cycle
                | Role::ScatterGather
                | Role::GatherScatter
        )
    }

    /// The role's name in `truth`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Mule => "mule",
            Role::Exchanger => "exchanger",
            Role::Structurer => "structurer",
            Role::ChainMule => "chain-mule",
            Role::FanIn => "fan-in",
            Role::FanOut => "fan-out",
            Role::Cycle => "cycle",
            Role::ScatterGather => "scatter-gather",
            Role::GatherScatter => "gather-scatter",
            Role::Customer => "customer",
            Role::Payroll => "payroll",
            Role::Merchant => "merchant",
            Role::Family => "family",
            Role::Student => "student",
            Role::Trader => "trader",
            Role::Marketplace => "marketplace",
            Role::Landlord => "landlord",
            Role::Saver => "saver",
            Role::UnlicensedPlatform => "unlicensed-platform",
            Role::External => "external",
        }
    }

    /// Parses a role's name.
    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// Whether the role is a customer's legitimate one.
    pub fn is_legitimate(self) -> bool {
        Role::LEGITIMATE.contains(&self)
    }
}

impl serde::Serialize for Role {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who pays a person's salary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Employer {
    /// Nobody (self-employed, between jobs).
    None,
    /// A payroll account of the home bank (which schedules the payment).
    Payroll(u32),
    /// A company banking elsewhere.
    External(u32),
    /// The state pension centre.
    Pension,
}

/// An individual's everyday money habits. Rates are expected events per
/// day.
#[derive(Debug, Clone)]
pub(crate) struct Life {
    pub(crate) employer: Employer,
    /// Net monthly pay, tiyn.
    pub(crate) salary: i64,
    /// Local day of the month of the final pay (external employers, pension).
    pub(crate) pay_day: u32,
    /// Local day of the month of the advance; 0 for none.
    pub(crate) advance_day: u32,
    pub(crate) cards: f64,
    pub(crate) transfers: f64,
    pub(crate) inbound: f64,
    pub(crate) atm: f64,
    pub(crate) topups: f64,
    pub(crate) crypto: f64,
    /// People this person sends money to and gets money from.
    pub(crate) friends: Vec<PartyRef>,
    /// Monthly rent or bills: local day of month, amount, payee.
    pub(crate) rent: Option<(u32, i64, PartyRef)>,
    /// The day of one card top-up above 500,000 KZT.
    pub(crate) big_topup: Option<u32>,
    /// The day of one or two large payments just under 500,000 KZT (a car,
    /// a repair), never three.
    pub(crate) near_threshold: Option<(u32, u32)>,
    /// A trip abroad: first day, length in days, foreign merchant index.
    pub(crate) trip: Option<(u32, u32, u16)>,
    /// The first day the person is active (accounts opened in the period).
    pub(crate) from_day: u32,
    /// Favourite merchants (indices into the merchant names).
    pub(crate) shops: [u32; 4],
}

/// A mule's episode: victims pay in over a few hours, and the money leaves
/// within minutes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Episode {
    pub(crate) day: u32,
    /// Local minute of the day the first victim pays.
    pub(crate) start_min: u32,
    /// How many distinct victims pay.
    pub(crate) senders: u32,
    /// Minutes over which they pay.
    pub(crate) span_min: u32,
    /// In how many portions the money is moved out.
    pub(crate) tranches: u32,
}

/// A day on which an exchanger trades.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ActiveDay {
    pub(crate) day: u32,
    /// Distinct clients buying USDT (paying tenge in).
    pub(crate) payers: u32,
    /// Distinct clients selling USDT (paid tenge out).
    pub(crate) payees: u32,
}

/// How a structurer moves a burst of money.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BurstKind {
    /// Card top-ups onto other cards.
    Topup,
    /// Transfers to other accounts.
    Transfer,
    /// Cash paid in at a branch or cash-in ATM.
    CashDeposit,
}

/// A structurer's day of amounts just under the threshold.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Burst {
    pub(crate) day: u32,
    pub(crate) count: u32,
    pub(crate) kind: BurstKind,
    /// Local minute of the first one.
    pub(crate) start_min: u32,
}

/// What an account does beyond (or instead of) an everyday life.
#[derive(Debug, Clone)]
pub(crate) enum Plan {
    /// Nothing beyond its life.
    None,
    /// A company's payroll account.
    Payroll {
        /// Home accounts paid.
        employees: Vec<u32>,
        /// People paid at other banks (external person indices).
        outside: Vec<u32>,
        /// Local day of the month of the final pay.
        pay_day: u32,
        /// Local day of the month of the advance; 0 for none.
        advance_day: u32,
        /// Local hour the run starts.
        hour: u32,
        /// Wording of the salary text.
        style: u8,
        /// Who funds each run from another bank, up to a day before it:
        /// the company's own account there (same BIN), or, when this
        /// account is a payroll agent's, the client company's.
        funder: PartyRef,
    },
    /// A shop taking many payments, settling weekly.
    Merchant {
        /// Expected payments per day.
        daily: f64,
        /// Range of a payment, tiyn.
        ticket: (i64, i64),
        /// Takes phone/QR transfers (an entrepreneur's card) rather than
        /// card payments.
        qr: bool,
        /// Local weekday (0 = Monday) it moves the week's takings out.
        settle_weekday: u32,
        /// Moves them to its owner's account elsewhere (else to suppliers).
        own_payout: bool,
        /// Its main supplier (external firm index).
        supplier: u32,
        /// Opening and closing local hours.
        hours: (u32, u32),
        /// Open on Sundays.
        sunday: bool,
    },
    /// A member of a family (index into the families).
    Family { group: u32 },
    /// A student.
    Student {
        /// The day of the birthday, if it falls in the period.
        birthday: Option<u32>,
        /// Who sends the weekly allowance.
        parent: PartyRef,
        /// Weekly allowance, tiyn.
        allowance: i64,
        /// Local weekday it comes.
        allowance_weekday: u32,
    },
    /// An individual entrepreneur reselling goods through a personal card.
    Trader {
        /// Local weekdays without trading (bit 0 = Monday): one or two.
        days_off: u8,
        /// Opening and closing local hours.
        hours: (u32, u32),
        /// Distinct customers on an ordinary day.
        customers: u32,
        /// The most distinct customers in a day (less in a tiny stream).
        max_customers: u32,
        /// The most distinct suppliers paid in a day.
        max_suppliers: u32,
        /// Suppliers paid per customer who paid, roughly.
        supplier_share: f64,
        /// Range of a customer's payment, tiyn.
        ticket: (i64, i64),
        /// Share of the day's takings that stays on the card, basis points
        /// (800 to 3,500): the rest buys stock.
        margin_bp: u32,
        /// The suppliers the trader buys from (firms and wholesalers'
        /// personal cards at other banks).
        suppliers: Vec<PartyRef>,
        /// Moves savings to a deposit (else takes them out in cash).
        saver: bool,
    },
    /// A money mule account.
    Mule {
        /// Index into the mule groups.
        group: u32,
        episodes: Vec<Episode>,
        /// A small "does the card work" payment before first use.
        test_day: Option<u32>,
    },
    /// A shadow exchanger's card.
    Exchanger {
        days: Vec<ActiveDay>,
        /// The spread between buying and selling, basis points.
        spread_bp: u32,
        /// Works like a bot: evenly spaced through the day and night.
        regular: bool,
        /// Share of clients who name crypto in the remittance text.
        crypto_words: f64,
        /// Regular clients, who come back on several days.
        regulars: Vec<PartyRef>,
    },
    /// A structurer.
    Structurer {
        bursts: Vec<Burst>,
        /// 0 round amounts, 1 just under the threshold, 2 arbitrary.
        style: u8,
    },
    /// An online marketplace's settlement account.
    Marketplace {
        /// Expected buyers' payments per day.
        daily: f64,
        /// Range of an order, tiyn.
        ticket: (i64, i64),
        /// Buyers who come back again and again.
        regulars: Vec<PartyRef>,
        /// The sellers paid every week, with each one's usual share of the
        /// sales.
        sellers: Vec<(PartyRef, f64)>,
        /// Local weekday (0 = Monday) the sellers are paid.
        settle_weekday: u32,
        /// The marketplace's commission, basis points of the sales.
        commission_bp: u32,
    },
    /// A landlord's main account.
    Landlord {
        /// The landlord's savings account at this bank, if any.
        savings: Option<u32>,
        /// Each tenant, the monthly rent (tiyn) and the local day of the
        /// month (1–5) it is paid.
        tenants: Vec<(PartyRef, i64, u32)>,
        /// A mortgage: the lending bank's account and the monthly payment.
        mortgage: Option<(PartyRef, i64)>,
        /// Days after the last rent the money is moved on (1–3).
        delay: u32,
        /// Share of the rent moved to savings.
        share: f64,
    },
    /// A saver's current account, where the salary comes.
    Saver {
        /// The saver's savings account (same IIN).
        savings: u32,
        /// The employer (external firm index).
        employer: u32,
        /// Net monthly pay, tiyn.
        salary: i64,
        /// Local day of the month of the final pay.
        pay_day: u32,
        /// Local day of the month of the advance; 0 for none.
        advance_day: u32,
        /// Share of the pay moved to savings: the lowest and highest.
        share: (f64, f64),
        /// Chance some of it is moved back about a week later.
        back: f64,
    },
}

/// An account of the home bank.
#[derive(Debug, Clone)]
pub(crate) struct Account {
    /// The IBAN.
    pub(crate) id: String,
    /// The holder's IIN (individuals) or BIN (businesses).
    pub(crate) iin: String,
    pub(crate) business: bool,
    pub(crate) role: Role,
    /// When the account was opened, seconds since the epoch.
    pub(crate) opened: i64,
    /// Declared monthly income, tiyn (individuals).
    pub(crate) income: Option<i64>,
    /// City index (see `ids::CITIES`).
    pub(crate) city: u8,
    /// The holder's devices (indices), own phone first.
    pub(crate) devices: Vec<u32>,
    /// Everyday habits, for people who have them.
    pub(crate) life: Option<Life>,
    pub(crate) plan: Plan,
}

/// A phone or tablet with a banking app.
#[derive(Debug, Clone)]
pub(crate) struct Device {
    pub(crate) id: String,
    /// Home network and mobile network addresses.
    pub(crate) ips: [u32; 2],
}

/// A family's accounts, and the tablet they share, if any.
#[derive(Debug, Clone, Default)]
pub(crate) struct FamilyGroup {
    pub(crate) members: Vec<u32>,
    pub(crate) tablet: Option<u32>,
}

/// Mule accounts run by one group, and the device farm they share, if any.
#[derive(Debug, Clone, Default)]
pub(crate) struct MuleGroup {
    pub(crate) members: Vec<u32>,
    pub(crate) farm: Option<u32>,
}

/// How many accounts of each kind the population has.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PopulationSummary {
    /// Accounts per role (customers of the bank only).
    pub accounts: Vec<(Role, u64)>,
    /// Family groups.
    pub families: u64,
    /// Mule groups, those sharing one device (a device farm), and holders
    /// of five or more mule accounts under one IIN.
    pub mule_groups: u64,
    /// Mule groups working from one shared device.
    pub device_farms: u64,
    /// People holding five or more mule accounts.
    pub multi_card_droppers: u64,
    /// Patterns across accounts planted (chains, fan-ins, fan-outs, rounds
    /// of cycles, scatter-gathers, gather-scatters).
    pub patterns: u64,
    /// Sums passed round a family (the look-alike of a chain or a cycle).
    pub family_rings: u64,
    /// The transactions the population is expected to make over the period.
    pub expected_transactions: u64,
}

impl PopulationSummary {
    /// The number of accounts with `role`.
    pub fn count(&self, role: Role) -> u64 {
        self.accounts
            .iter()
            .find(|(r, _)| *r == role)
            .map_or(0, |(_, n)| *n)
    }
}

impl std::fmt::Display for PopulationSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let roles: Vec<String> = self
            .accounts
            .iter()
            .map(|(role, n)| format!("{n} {role}"))
            .collect();
        write!(
            f,
            "{} accounts: {} ({} families; {} mule groups, {} device farms, {} droppers with 5+ cards; {} patterns across accounts, {} family rings)",
            self.accounts.iter().map(|(_, n)| n).sum::<u64>(),
            roles.join(", "),
            self.families,
            self.mule_groups,
            self.device_farms,
            self.multi_card_droppers,
            self.patterns,
            self.family_rings
        )
    }
}

/// The bank's customers and their plans.
#[derive(Debug)]
pub(crate) struct Population {
    pub(crate) seed: u64,
    pub(crate) days: u32,
    pub(crate) accounts: Vec<Account>,
    pub(crate) devices: Vec<Device>,
    pub(crate) families: Vec<FamilyGroup>,
    pub(crate) mule_groups: Vec<MuleGroup>,
    /// Patterns across accounts and days (the six network typologies and
    /// families passing a sum round), by the day they start.
    pub(crate) schemes: Vec<Scheme>,
    /// Legitimate individuals who can be counterparties (victims, payers,
    /// friends).
    pub(crate) pool: Vec<u32>,
    /// How many people at other banks there are to choose from.
    pub(crate) people: u32,
    /// How many companies at other banks there are to choose from.
    pub(crate) firms: u32,
    pub(crate) summary: PopulationSummary,
}

/// Ordinary customers' expected transactions per day (the means of the
/// distributions in `ordinary_life`, salary and rent included).
const ORDINARY_RATE: f64 = 0.86;

/// Purposes of derived random streams.
pub(crate) mod tags {
    pub(crate) const PLAN: u64 = 3;
    pub(crate) const LIFE: u64 = 4;
    pub(crate) const GROUPS: u64 = 5;
    pub(crate) const SERIAL: u64 = 6;
    pub(crate) const DAY: u64 = 7;
    pub(crate) const MARKET: u64 = 8;
    pub(crate) const EXTERNAL: u64 = 9;
    /// Planning the patterns across accounts and their accounts.
    pub(crate) const NETWORK: u64 = 10;
    /// Carrying out one pattern across accounts (with its index).
    pub(crate) const SCHEME: u64 = 11;
    /// Planning the look-alikes of the patterns across accounts.
    pub(crate) const LOOKALIKE: u64 = 12;
    /// When a payroll run is funded (with the account and the day).
    pub(crate) const PAYROLL: u64 = 13;
    /// A day of the look-back (with the account and how many days before
    /// the period).
    pub(crate) const LOOK_BACK: u64 = 14;
}

/// The external firm index of the state pension centre.
pub(crate) const PENSION_FUND: u32 = 0;
/// The external firm index of the unified pension fund (payroll
/// contributions).
pub(crate) const PENSION_CONTRIBUTIONS: u32 = 1;

struct Builder<'c> {
    config: &'c GeneratorConfig,
    seed: u64,
    start_day: i64,
    accounts: Vec<Account>,
    devices: Vec<Device>,
    families: Vec<FamilyGroup>,
    mule_groups: Vec<MuleGroup>,
    schemes: Vec<Scheme>,
    iin_serials: HashMap<(i64, bool), u32>,
    bin_serials: HashMap<(i64, u32), u32>,
    people: u32,
    firms: u32,
    /// Transactions per day the stream has room for.
    per_day: f64,
}

fn scaled(count: u64, per: f64, floor: u64) -> u64 {
    ((count as f64 * per).round() as u64).max(floor)
}

impl Population {
    /// Builds the population for a stream of `config.count` transactions.
    pub(crate) fn build(config: &GeneratorConfig) -> Population {
        let days = config.days.max(1);
        let per_day = config.count as f64 / f64::from(days);
        // People and firms elsewhere: enough that counterparties rarely repeat.
        let people = u32::try_from((config.count / 8).clamp(5_000, 50_000_000)).unwrap_or(u32::MAX);
        let firms = u32::try_from((config.count / 200).clamp(500, 5_000_000)).unwrap_or(u32::MAX);
        let mut b = Builder {
            config,
            seed: config.seed,
            start_day: config.start.div_euclid(DAY),
            accounts: Vec::new(),
            devices: Vec::new(),
            families: Vec::new(),
            mule_groups: Vec::new(),
            schemes: Vec::new(),
            iin_serials: HashMap::new(),
            bin_serials: HashMap::new(),
            people,
            firms,
            per_day,
        };
        let n = config.count;
        let mules = scaled(n, 0.000_63, 4);
        let exchangers = scaled(n, 1.0 / 4000.0, 2);
        let structurers = scaled(n, 0.000_3, 2);
        let merchants = scaled(n, 1.0 / 16_000.0, 1);
        let families = scaled(n, 1.0 / 2000.0, 2);
        let students = scaled(n, 1.0 / 1000.0, 5);
        let traders = scaled(n, 1.0 / 8000.0, 1);

        let mut expected = 0.0;
        expected += b.mules(mules);
        expected += b.exchangers(exchangers);
        expected += b.structurers(structurers);
        expected += b.merchants(merchants);
        expected += b.families(families);
        expected += b.students(students);
        expected += b.traders(traders);
        // The patterns across accounts and their look-alikes come after
        // everyone else (so that nobody else's account or random numbers
        // move), but their volume is reserved here.
        let network = schemes::Sizes::new(n);
        expected += b.network_expected(&network);
        let room = (n as f64 - expected).max(0.0);
        let ordinary = ((room / (f64::from(days) * ORDINARY_RATE)).round() as u64).max(10);
        b.ordinary(ordinary);
        b.payrolls();
        b.network(&network);
        b.friends_and_parents();
        let expected_total = b.expected_total();
        b.finish(expected_total)
    }

    /// The account at `index`.
    pub(crate) fn account(&self, index: u32) -> Option<&Account> {
        self.accounts.get(index as usize)
    }

    /// The role of a party.
    pub(crate) fn role(&self, party: PartyRef) -> Role {
        match party {
            PartyRef::Home(i) => self.account(i).map_or(Role::External, |a| a.role),
            PartyRef::Vasp(p, _) if p >= LICENSED_PLATFORMS => Role::UnlicensedPlatform,
            _ => Role::External,
        }
    }
}

impl Builder<'_> {
    fn rng(&self, tag: u64, parts: &[u64]) -> Rng {
        let mut all = vec![tag];
        all.extend_from_slice(parts);
        Rng::derive(self.seed, &all)
    }

    fn days(&self) -> u32 {
        self.config.days.max(1)
    }

    /// A day in `0..days`, leaving `tail` days after it.
    fn some_day(&self, rng: &mut Rng, tail: u32) -> u32 {
        let last = self.days().saturating_sub(1 + tail);
        rng.range_u32(0, last)
    }

    fn new_device(&mut self) -> u32 {
        let index = u32::try_from(self.devices.len()).unwrap_or(u32::MAX);
        let i = u64::from(index);
        self.devices.push(Device {
            id: ids::device_id(self.seed, i),
            ips: [ids::ip(self.seed, i * 2), ids::ip(self.seed, i * 2 + 1)],
        });
        index
    }

    /// A unique IIN for a person of an age (in years) drawn from `ages`.
    fn new_iin(&mut self, rng: &mut Rng, ages: (i64, i64)) -> String {
        let age = rng.range(ages.0, ages.1);
        let birth = self.start_day - age * 365 - rng.range(0, 364);
        let female = rng.chance(0.5);
        let (y, m, d) = calendar::civil_from_days(birth);
        let first =
            (hash(self.seed, &[tags::SERIAL, birth as u64, u64::from(female)]) % 4000) as u32;
        let next = self.iin_serials.entry((birth, female)).or_insert(0);
        loop {
            let serial = first + *next;
            *next += 1;
            if let Some(iin) = ids::iin(y, m, d, female, serial) {
                return iin;
            }
            if *next > 6000 {
                // Cannot happen with realistic sizes; a valid number anyway.
                return "061211600012".to_owned();
            }
        }
    }

    /// A unique BIN for a company registered `years` ago.
    fn new_bin(&mut self, rng: &mut Rng, years: (i64, i64)) -> String {
        let reg = self.start_day - rng.range(years.0 * 365, years.1 * 365);
        let (y, m, _) = calendar::civil_from_days(reg);
        let first =
            (hash(self.seed, &[tags::SERIAL, y as u64, u64::from(m), 0xB1]) % 50_000) as u32;
        let next = self.bin_serials.entry((y, m)).or_insert(0);
        loop {
            let serial = first + *next;
            *next += 1;
            if let Some(bin) = ids::bin(y, m, serial) {
                return bin;
            }
            if *next > 60_000 {
                return "040340001233".to_owned();
            }
        }
    }

    /// An opening time `days` before the start (negative: after it), at a
    /// branch's working hour.
    fn opened(&self, rng: &mut Rng, days_before: i64) -> i64 {
        let local_minute = rng.range(9 * 60, 18 * 60 + 30);
        (self.start_day - days_before) * DAY + local_minute * MINUTE - calendar::LOCAL_OFFSET
    }

    /// An opening time between `lo` and `hi` days before the start.
    fn opened_within(&self, rng: &mut Rng, lo: i64, hi: i64) -> i64 {
        let days_before = rng.range(lo, hi);
        self.opened(rng, days_before)
    }

    fn push(&mut self, account: Account) -> u32 {
        let index = u32::try_from(self.accounts.len()).unwrap_or(u32::MAX);
        self.accounts.push(account);
        index
    }

    /// A new individual's account with its own devices.
    fn individual(
        &mut self,
        rng: &mut Rng,
        role: Role,
        ages: (i64, i64),
        income: i64,
        opened: i64,
    ) -> Account {
        let iin = self.new_iin(rng, ages);
        let mut devices = vec![self.new_device()];
        if rng.chance(0.35) {
            devices.push(self.new_device());
        }
        let index = self.accounts.len() as u64;
        Account {
            id: ids::iban(self.seed, HOME_BANK, AccountClass::Home, index),
            iin,
            business: false,
            role,
            opened,
            income: Some(round_to(income, 100_000)),
            city: city(rng),
            devices,
            life: None,
            plan: Plan::None,
        }
    }

    fn business(&mut self, rng: &mut Rng, role: Role, opened: i64) -> Account {
        let iin = self.new_bin(rng, (2, 15));
        let index = self.accounts.len() as u64;
        Account {
            id: ids::iban(self.seed, HOME_BANK, AccountClass::Home, index),
            iin,
            business: true,
            role,
            opened,
            income: None,
            city: city(rng),
            devices: Vec::new(),
            life: None,
            plan: Plan::None,
        }
    }

    /// Everyday habits of an adult with an income. `employed` decides
    /// whether someone pays them a salary.
    fn ordinary_life(&self, rng: &mut Rng, income: i64, employed: bool) -> Life {
        let days = self.days();
        let salary = round_to((income as f64 * rng.uniform(0.78, 0.81)) as i64, 100);
        let employer = if !employed {
            Employer::None
        } else if rng.chance(0.35) {
            Employer::External(rng.below(u64::from(self.firms.saturating_sub(2)).max(1)) as u32 + 2)
        } else {
            // Replaced by a payroll account when the payrolls are made.
            Employer::Payroll(u32::MAX)
        };
        let pay_day = rng.range_u32(3, 12);
        let advance_day = if rng.chance(0.4) {
            rng.range_u32(18, 26)
        } else {
            0
        };
        let crypto = if rng.chance(0.08) {
            rng.uniform(0.03, 0.15)
        } else {
            0.0
        };
        let rent = rng.chance(0.5).then(|| {
            let day = rng.range_u32(1, 28);
            let amount = round_to(rng.log_uniform(15_000.0, 350_000.0) as i64 * 100, 100_000);
            let to = if rng.chance(0.5) {
                PartyRef::Person(rng.below(u64::from(self.people)) as u32)
            } else {
                PartyRef::Business(
                    rng.below(u64::from(self.firms.saturating_sub(2)).max(1)) as u32 + 2,
                )
            };
            (day, amount, to)
        });
        // About one customer in 60 makes one top-up above 500,000 KZT in a
        // month; one in 200 pays one or two large amounts just under it.
        let month_share = f64::from(days) / 30.0;
        let big_topup = rng
            .chance(0.017 * month_share)
            .then(|| self.some_day(rng, 0));
        let near_threshold = rng
            .chance(0.005 * month_share)
            .then(|| (self.some_day(rng, 0), rng.range_u32(1, 2)));
        let trip = rng.chance(0.02 * month_share).then(|| {
            (
                self.some_day(rng, 0),
                rng.range_u32(3, 10),
                rng.below(super::texts::FOREIGN_MERCHANTS.len() as u64) as u16,
            )
        });
        let shops = [0; 4].map(|_| rng.below(super::texts::MERCHANTS.len() as u64 * 25) as u32);
        Life {
            employer,
            salary,
            pay_day,
            advance_day,
            cards: rng.log_uniform(0.1, 1.4),
            transfers: rng.log_uniform(0.02, 0.4),
            inbound: rng.log_uniform(0.015, 0.2),
            atm: rng.log_uniform(0.015, 0.2),
            topups: rng.log_uniform(0.005, 0.08),
            crypto,
            friends: Vec::new(),
            rent,
            big_topup,
            near_threshold,
            trip,
            from_day: 0,
            shops,
        }
    }

    /// Mule accounts in groups; some groups share one device, some
    /// droppers hold five or more cards under one IIN.
    fn mules(&mut self, total: u64) -> f64 {
        let mut rng = self.rng(tags::GROUPS, &[1]);
        let mut left = total;
        let mut expected = 0.0;
        let mut made_dropper = false;
        let mut made_farm = false;
        while left > 0 {
            let group_index = self.mule_groups.len() as u32;
            let mut size = rng.range(3, 8) as u64;
            // A dropper with several cards: at least one in any population
            // big enough to have five mule accounts.
            let dropper = left >= 5 && (!made_dropper || rng.chance(0.15));
            if dropper {
                size = size.max(5);
            }
            let size = size.min(left);
            left -= size;
            let farm = if size >= 3 && (!made_farm || rng.chance(0.4)) {
                made_farm = true;
                Some(self.new_device())
            } else {
                None
            };
            let dropper_cards = if dropper {
                made_dropper = true;
                rng.range(5, 7).min(size as i64) as u64
            } else {
                0
            };
            let mut group = MuleGroup {
                members: Vec::new(),
                farm,
            };
            // The first card of a dropper makes the person; the others
            // share the IIN, devices and declared income.
            let mut holder: Option<(String, Vec<u32>, Option<i64>)> = None;
            for k in 0..size {
                let index = self.accounts.len() as u64;
                let mut prng = self.rng(tags::PLAN, &[index]);
                let plan = self.mule_plan(&mut prng, group_index);
                // First use: the test payment, if any, else the first episode.
                let first_day = match &plan {
                    Plan::Mule {
                        episodes, test_day, ..
                    } => test_day.or(episodes.first().map(|e| e.day)).unwrap_or(0),
                    _ => 0,
                };
                expected += mule_expected(&plan);
                let income = if prng.chance(0.5) {
                    round_to(prng.range(0, 60_000) * 100, 1_000_000)
                } else {
                    prng.range(60_000, 180_000) * 100
                };
                // Mostly new accounts opened shortly before first use; some
                // old accounts that lay dormant for months.
                let days_before = if prng.chance(0.7) {
                    prng.range(1, 25) - i64::from(first_day)
                } else {
                    prng.range(2 * 365, 8 * 365)
                };
                let opened = self.opened(&mut prng, days_before);
                let mut account = if k < dropper_cards {
                    let mut a = self.individual(&mut prng, Role::Mule, (19, 45), income, opened);
                    match &holder {
                        Some((iin, devices, income)) => {
                            a.iin = iin.clone();
                            a.devices = devices.clone();
                            a.income = *income;
                        }
                        None => holder = Some((a.iin.clone(), a.devices.clone(), a.income)),
                    }
                    a
                } else {
                    let ages = if prng.chance(0.75) {
                        (18, 32)
                    } else {
                        (33, 62)
                    };
                    self.individual(&mut prng, Role::Mule, ages, income, opened)
                };
                if let Some(farm) = farm {
                    account.devices.insert(0, farm);
                }
                account.plan = plan;
                let i = self.push(account);
                group.members.push(i);
            }
            self.mule_groups.push(group);
        }
        expected
    }

    fn mule_plan(&self, rng: &mut Rng, group: u32) -> Plan {
        let episodes_n = *rng.weighted(&[(50, 1u32), (35, 2), (15, 3)]).unwrap_or(&1);
        let mut day = self.some_day(rng, 1);
        let mut episodes = Vec::new();
        for _ in 0..episodes_n {
            if day >= self.days() {
                break;
            }
            episodes.push(Episode {
                day,
                start_min: rng.range_u32(8 * 60, 21 * 60),
                senders: rng.range_u32(8, 30),
                span_min: rng.range_u32(40, 300),
                tranches: *rng.weighted(&[(45, 1u32), (40, 2), (15, 3)]).unwrap_or(&1),
            });
            day += rng.range_u32(2, 9);
        }
        let test_day = episodes
            .first()
            .filter(|e| e.day >= 2 && rng.chance(0.3))
            .map(|e| e.day - rng.range_u32(1, 2));
        Plan::Mule {
            group,
            episodes,
            test_day,
        }
    }

    /// Shadow exchangers: personal cards trading for several days.
    fn exchangers(&mut self, total: u64) -> f64 {
        let mut expected = 0.0;
        // Clients per side per day: 10 to 60, but never more than a small
        // share of a tiny stream.
        let cap = ((self.per_day * 0.12) as u32).clamp(10, 60);
        for _ in 0..total {
            let index = self.accounts.len() as u64;
            let mut rng = self.rng(tags::PLAN, &[index]);
            let income = rng.range(150_000, 450_000) * 100;
            let opened = self.opened_within(&mut rng, 180, 8 * 365);
            let mut account = self.individual(&mut rng, Role::Exchanger, (22, 45), income, opened);
            let mut days = Vec::new();
            let runs = if rng.chance(0.25) { 2 } else { 1 };
            let mut first = self.some_day(&mut rng, 2);
            for _ in 0..runs {
                let len = rng.range_u32(2, 7);
                for d in first..(first + len).min(self.days()) {
                    if days.iter().any(|a: &ActiveDay| a.day == d) {
                        continue;
                    }
                    days.push(ActiveDay {
                        day: d,
                        payers: rng.range_u32(10, cap),
                        payees: rng.range_u32(10, cap),
                    });
                }
                first = (first + len + rng.range_u32(2, 10)).min(self.days());
            }
            expected += days
                .iter()
                .map(|d| f64::from(d.payers + d.payees) + 0.6)
                .sum::<f64>();
            let regulars = (0..rng.range(15, 40))
                .map(|_| PartyRef::Person(rng.below(u64::from(self.people)) as u32))
                .collect();
            let employed = rng.chance(0.6);
            let life = self.ordinary_life(&mut rng, income, employed);
            expected += ORDINARY_RATE * f64::from(self.days().saturating_sub(days.len() as u32));
            account.life = Some(life);
            account.plan = Plan::Exchanger {
                days,
                spread_bp: rng.range_u32(100, 300),
                regular: rng.chance(0.3),
                crypto_words: rng.uniform(0.03, 0.25),
                regulars,
            };
            self.push(account);
        }
        expected
    }

    /// Structurers: ordinary people who, on some days, split money into
    /// amounts just under 500,000 KZT.
    fn structurers(&mut self, total: u64) -> f64 {
        let mut expected = 0.0;
        for _ in 0..total {
            let index = self.accounts.len() as u64;
            let mut rng = self.rng(tags::PLAN, &[index]);
            let income = rng.log_uniform(250_000.0, 1_200_000.0) as i64 * 100;
            let opened = self.opened_within(&mut rng, 365, 12 * 365);
            let mut account = self.individual(&mut rng, Role::Structurer, (27, 60), income, opened);
            let n = *rng.weighted(&[(45, 1u32), (35, 2), (20, 3)]).unwrap_or(&1);
            let mut bursts: Vec<Burst> = Vec::new();
            for _ in 0..n {
                let day = self.some_day(&mut rng, 1);
                if bursts.iter().any(|b| b.day.abs_diff(day) < 2) {
                    continue;
                }
                let kind = *rng
                    .weighted(&[
                        (40, BurstKind::Topup),
                        (35, BurstKind::Transfer),
                        (25, BurstKind::CashDeposit),
                    ])
                    .unwrap_or(&BurstKind::Topup);
                bursts.push(Burst {
                    day,
                    count: rng.range_u32(3, 5),
                    kind,
                    start_min: rng.range_u32(8 * 60, 15 * 60),
                });
            }
            bursts.sort_by_key(|b| b.day);
            expected += bursts.iter().map(|b| f64::from(b.count)).sum::<f64>();
            expected += ORDINARY_RATE * f64::from(self.days());
            account.life = Some(self.ordinary_life(&mut rng, income, true));
            account.plan = Plan::Structurer {
                bursts,
                style: *rng.weighted(&[(50, 0u8), (30, 1), (20, 2)]).unwrap_or(&0),
            };
            self.push(account);
        }
        expected
    }

    /// Shops and entrepreneurs taking many payments a day, settling weekly.
    fn merchants(&mut self, total: u64) -> f64 {
        const KINDS: [(i64, i64); 7] = [
            (1_500, 9_000),  // a café
            (400, 20_000),   // a grocery
            (4_000, 25_000), // a beauty salon
            (800, 15_000),   // a pharmacy
            (3_000, 90_000), // car parts
            (5_000, 60_000), // clothes
            (3_000, 40_000), // flowers
        ];
        let mut expected = 0.0;
        let cap = (self.per_day * 0.06).max(3.0);
        for _ in 0..total {
            let index = self.accounts.len() as u64;
            let mut rng = self.rng(tags::PLAN, &[index]);
            let qr = rng.chance(0.6);
            let opened = self.opened_within(&mut rng, 365, 10 * 365);
            let mut account = if qr {
                let income = rng.log_uniform(300_000.0, 2_500_000.0) as i64 * 100;
                self.individual(&mut rng, Role::Merchant, (25, 60), income, opened)
            } else {
                self.business(&mut rng, Role::Merchant, opened)
            };
            let (lo, hi) = *rng.pick(&KINDS).unwrap_or(&(1_000, 20_000));
            let daily = rng.log_uniform(20.0, 150.0).min(cap);
            let sunday = rng.chance(0.6);
            expected += daily * f64::from(self.days()) * if sunday { 0.98 } else { 0.86 };
            expected += f64::from(self.days()) / 7.0 * 2.5;
            account.plan = Plan::Merchant {
                daily,
                ticket: (lo * 100, hi * 100),
                qr,
                settle_weekday: rng.range_u32(0, 4),
                own_payout: rng.chance(0.6),
                supplier: rng.below(u64::from(self.firms.saturating_sub(2)).max(1)) as u32 + 2,
                hours: (rng.range_u32(8, 10), rng.range_u32(19, 23)),
                sunday,
            };
            self.push(account);
        }
        expected
    }

    /// Families of 3–5 accounts moving money among themselves; some share
    /// a tablet.
    fn families(&mut self, total: u64) -> f64 {
        let mut expected = 0.0;
        for _ in 0..total {
            let group = self.families.len() as u32;
            let mut rng = self.rng(tags::GROUPS, &[2, u64::from(group)]);
            let size = rng.range(3, 5);
            let tablet = rng.chance(0.4).then(|| self.new_device());
            let mut members = Vec::new();
            for k in 0..size {
                let index = self.accounts.len() as u64;
                let mut prng = self.rng(tags::PLAN, &[index]);
                let (ages, income, employed) = match k {
                    0 | 1 => (
                        (30, 55),
                        prng.log_uniform(150_000.0, 1_200_000.0) as i64 * 100,
                        k == 0 || prng.chance(0.7),
                    ),
                    _ if prng.chance(0.3) => ((60, 78), prng.range(80_000, 160_000) * 100, false),
                    _ => ((18, 26), prng.range(0, 250_000) * 100, prng.chance(0.4)),
                };
                let opened = self.opened_within(&mut prng, 200, 15 * 365);
                let mut account = self.individual(&mut prng, Role::Family, ages, income, opened);
                let mut life = self.ordinary_life(&mut prng, income, employed);
                if ages.0 >= 60 {
                    life.employer = Employer::Pension;
                    life.pay_day = prng.range_u32(18, 25);
                    life.advance_day = 0;
                    life.cards *= 0.6;
                }
                if let Some(t) = tablet {
                    account.devices.push(t);
                }
                account.life = Some(life);
                account.plan = Plan::Family { group };
                members.push(self.push(account));
                expected += f64::from(self.days()) * (ORDINARY_RATE + 0.45);
            }
            self.families.push(FamilyGroup { members, tablet });
        }
        expected
    }

    /// Students: small incomes, allowances, and a birthday.
    fn students(&mut self, total: u64) -> f64 {
        let mut expected = 0.0;
        for _ in 0..total {
            let index = self.accounts.len() as u64;
            let mut rng = self.rng(tags::PLAN, &[index]);
            let income = if rng.chance(0.4) {
                0
            } else {
                rng.range(20_000, 70_000) * 100
            };
            // A quarter opened their first account only weeks ago.
            let opened = if rng.chance(0.25) {
                self.opened_within(&mut rng, 5, 60)
            } else {
                self.opened_within(&mut rng, 120, 4 * 365)
            };
            let mut account = self.individual(&mut rng, Role::Student, (17, 22), income, opened);
            let mut life = self.ordinary_life(&mut rng, income.max(30_000 * 100), false);
            life.salary = income;
            life.employer = if income > 0 {
                Employer::External(
                    rng.below(u64::from(self.firms.saturating_sub(2)).max(1)) as u32 + 2,
                )
            } else {
                Employer::None
            };
            life.advance_day = 0;
            life.cards *= 0.8;
            life.atm *= 0.5;
            life.topups *= 0.5;
            life.rent = None;
            life.big_topup = None;
            life.near_threshold = None;
            life.trip = None;
            let birthday = rng.chance(0.7).then(|| self.some_day(&mut rng, 0));
            expected += f64::from(self.days()) * (ORDINARY_RATE * 0.75 + 1.0 / 7.0);
            if birthday.is_some() {
                expected += 20.0;
            }
            account.life = Some(life);
            account.plan = Plan::Student {
                birthday,
                parent: PartyRef::Person(rng.below(u64::from(self.people)) as u32),
                allowance: round_to(rng.range(5_000, 40_000) * 100, 100_000),
                allowance_weekday: rng.range_u32(0, 6),
            };
            self.push(account);
        }
        expected
    }

    /// Individual entrepreneurs reselling goods through a personal card:
    /// customers pay in, suppliers are paid out, every trading day.
    fn traders(&mut self, total: u64) -> f64 {
        // What a customer pays, tenge, by what the trader sells.
        const KINDS: [(i64, i64); 8] = [
            (3_000, 45_000),   // clothes and shoes
            (3_000, 35_000),   // cosmetics and perfume
            (5_000, 150_000),  // phones and accessories
            (4_000, 120_000),  // household appliances
            (8_000, 150_000),  // building materials
            (5_000, 90_000),   // car parts
            (3_000, 50_000),   // children's goods
            (10_000, 150_000), // furniture and home textiles
        ];
        // Distinct customers and suppliers a day: 10 to 40 and 5 to 25, but
        // never more than a small share of a tiny stream.
        let max_customers = ((self.per_day * 0.15) as u32).clamp(10, 40);
        let max_suppliers = ((self.per_day * 0.08) as u32).clamp(5, 25);
        let mut expected = 0.0;
        for _ in 0..total {
            let index = self.accounts.len() as u64;
            let mut rng = self.rng(tags::PLAN, &[index]);
            let income = rng.range(150_000, 600_000) * 100;
            let opened = self.opened_within(&mut rng, 180, 10 * 365);
            let mut account = self.individual(&mut rng, Role::Trader, (24, 58), income, opened);
            // Six days a week (bazaars close on Monday), or five.
            let days_off = if rng.chance(0.65) {
                1u8 << *rng.weighted(&[(50, 0u8), (35, 6), (15, 2)]).unwrap_or(&0)
            } else {
                *rng.weighted(&[(50, 0b100_0001u8), (35, 0b110_0000), (15, 0b000_0011)])
                    .unwrap_or(&0b100_0001)
            };
            let (lo, hi) = *rng.pick(&KINDS).unwrap_or(&(3_000, 50_000));
            let customers = rng.log_uniform(10.0, f64::from(max_customers)).round() as u32;
            let pool = rng.range_u32(max_suppliers + 3, max_suppliers + 15) as usize;
            let mut suppliers: Vec<PartyRef> = Vec::with_capacity(pool);
            for _ in 0..pool * 4 {
                if suppliers.len() >= pool {
                    break;
                }
                let s = if rng.chance(0.6) {
                    PartyRef::Business(
                        rng.below(u64::from(self.firms.saturating_sub(2)).max(1)) as u32 + 2,
                    )
                } else {
                    PartyRef::Person(rng.below(u64::from(self.people)) as u32)
                };
                if !suppliers.contains(&s) {
                    suppliers.push(s);
                }
            }
            let plan = Plan::Trader {
                days_off,
                hours: (rng.range_u32(9, 10), rng.range_u32(19, 21)),
                customers: customers.clamp(10, max_customers),
                max_customers,
                max_suppliers,
                supplier_share: rng.uniform(0.35, 0.75),
                ticket: (lo * 100, hi * 100),
                margin_bp: rng.range_u32(800, 3_500),
                suppliers,
                saver: rng.chance(0.6),
            };
            expected += trader_expected(&plan, self.days());
            account.plan = plan;
            self.push(account);
        }
        expected
    }

    /// Ordinary customers; a few opened their account during the period.
    fn ordinary(&mut self, total: u64) {
        for _ in 0..total {
            let index = self.accounts.len() as u64;
            let mut rng = self.rng(tags::PLAN, &[index]);
            let income = rng.log_uniform(110_000.0, 1_500_000.0) as i64 * 100;
            let new_in_period = rng.chance(0.03) && self.days() > 4;
            let from_day = if new_in_period {
                self.some_day(&mut rng, 3)
            } else {
                0
            };
            let opened = if new_in_period {
                self.opened(&mut rng, -i64::from(from_day))
            } else {
                self.opened_within(&mut rng, 100, 15 * 365)
            };
            let ages = if rng.chance(0.8) { (21, 50) } else { (51, 72) };
            let mut account = self.individual(&mut rng, Role::Customer, ages, income, opened);
            let employed = rng.chance(0.87);
            let mut life = self.ordinary_life(&mut rng, income, employed);
            if new_in_period {
                life.from_day = from_day + 1;
            }
            account.life = Some(life);
            self.push(account);
        }
    }

    /// Payroll accounts for the people whose employer banks here: 20 to
    /// 200 employees each.
    fn payrolls(&mut self) {
        let mut rng = self.rng(tags::GROUPS, &[3]);
        let mut employees: Vec<u32> = self
            .accounts
            .iter()
            .enumerate()
            .filter(|(_, a)| {
                a.life
                    .as_ref()
                    .is_some_and(|l| l.employer == Employer::Payroll(u32::MAX))
            })
            .map(|(i, _)| i as u32)
            .collect();
        rng.shuffle(&mut employees);
        let mut rest = employees.as_slice();
        while !rest.is_empty() {
            let size = (rng.log_uniform(20.0, 200.0) as usize).max(1);
            // A remainder too small for a payroll of its own joins this one.
            let take = if rest.len() < size + 20 {
                rest.len()
            } else {
                size
            };
            let (chunk, tail) = rest.split_at(take.min(rest.len()));
            rest = tail;
            let index = self.accounts.len() as u64;
            let mut prng = self.rng(tags::PLAN, &[index]);
            let opened = self.opened_within(&mut prng, 2 * 365, 15 * 365);
            let mut account = self.business(&mut prng, Role::Payroll, opened);
            let outside = (0..prng.range(0, (chunk.len() / 4) as i64))
                .map(|_| prng.below(u64::from(self.people)) as u32)
                .collect();
            let semi = prng.chance(0.4);
            // A company funds its payroll from its own account elsewhere;
            // a payroll agent is funded by the client company.
            let mut frng = self.rng(tags::LOOKALIKE, &[5, index]);
            let funder = if frng.chance(0.5) {
                PartyRef::Business(OWN_BASE + index as u32)
            } else {
                PartyRef::Business(
                    frng.below(u64::from(self.firms.saturating_sub(2)).max(1)) as u32 + 2,
                )
            };
            account.plan = Plan::Payroll {
                employees: chunk.to_vec(),
                outside,
                pay_day: prng.range_u32(5, 10),
                advance_day: if semi { prng.range_u32(20, 25) } else { 0 },
                hour: prng.range_u32(10, 15),
                style: prng.below(3) as u8,
                funder,
            };
            let payroll = self.push(account);
            for e in chunk {
                if let Some(life) = self
                    .accounts
                    .get_mut(*e as usize)
                    .and_then(|a| a.life.as_mut())
                {
                    life.employer = Employer::Payroll(payroll);
                }
            }
        }
    }

    /// Friends among the bank's customers and elsewhere; parents of
    /// students who bank here.
    fn friends_and_parents(&mut self) {
        let pool: Vec<u32> = self.pool();
        let people = u64::from(self.people);
        for i in 0..self.accounts.len() {
            let mut rng = self.rng(tags::LIFE, &[i as u64]);
            let Some(account) = self.accounts.get_mut(i) else {
                continue;
            };
            if let Some(life) = account.life.as_mut() {
                let n = rng.range(2, 7);
                life.friends = (0..n)
                    .map(|_| match rng.pick(&pool) {
                        Some(&p) if rng.chance(0.45) && p as usize != i => PartyRef::Home(p),
                        _ => PartyRef::Person(rng.below(people) as u32),
                    })
                    .collect();
            }
            if let Plan::Student { parent, .. } = &mut account.plan
                && rng.chance(0.4)
                && let Some(&p) = rng.pick(&pool)
                && p as usize != i
            {
                *parent = PartyRef::Home(p);
            }
        }
    }

    fn pool(&self) -> Vec<u32> {
        self.accounts
            .iter()
            .enumerate()
            .filter(|(_, a)| {
                matches!(a.role, Role::Customer | Role::Family | Role::Student) && !a.business
            })
            .map(|(i, _)| i as u32)
            .collect()
    }

    fn expected_total(&self) -> f64 {
        let days = f64::from(self.days());
        let months = days / 30.0;
        let mut total = 0.0;
        for a in &self.accounts {
            if let Some(l) = &a.life {
                let active = (days - f64::from(l.from_day)).max(0.0);
                let mut rate = l.cards + l.transfers + l.inbound + l.atm + l.topups + l.crypto;
                if a.role == Role::Student {
                    rate *= 0.75;
                }
                total += active * rate;
                if l.employer != Employer::None {
                    total += months * if l.advance_day > 0 { 2.0 } else { 1.0 };
                }
                if l.rent.is_some() {
                    total += months;
                }
            }
            match &a.plan {
                Plan::Mule { .. } => total += mule_expected(&a.plan),
                Plan::Exchanger { days: active, .. } => {
                    total += active
                        .iter()
                        .map(|d| f64::from(d.payers + d.payees) + 0.6)
                        .sum::<f64>();
                }
                Plan::Structurer { bursts, .. } => {
                    total += bursts.iter().map(|b| f64::from(b.count)).sum::<f64>();
                }
                Plan::Merchant { daily, sunday, .. } => {
                    total += daily * days * if *sunday { 0.98 } else { 0.86 } + days / 7.0 * 2.5;
                }
                Plan::Family { .. } => total += days * 0.45,
                plan @ Plan::Trader { .. } => total += trader_expected(plan, self.days()),
                Plan::Student { birthday, .. } => {
                    total += days / 7.0 + if birthday.is_some() { 20.0 } else { 0.0 };
                }
                Plan::Payroll {
                    outside,
                    advance_day,
                    ..
                } => {
                    let runs = if *advance_day > 0 { 2.0 } else { 1.0 };
                    total += months * runs * (2.0 + outside.len() as f64);
                }
                Plan::Marketplace { daily, sellers, .. } => {
                    total += daily * days + days / 7.0 * (sellers.len() as f64 + 1.0);
                }
                Plan::Landlord {
                    tenants,
                    mortgage,
                    savings,
                    ..
                } => {
                    let moves = usize::from(mortgage.is_some()) + usize::from(savings.is_some());
                    total += months * (tenants.len() + moves) as f64;
                }
                Plan::Saver {
                    advance_day, back, ..
                } => {
                    let advance = if *advance_day > 0 { 1.0 } else { 0.0 };
                    total += months * (2.0 + back + advance);
                }
                Plan::None => {}
            }
        }
        total + self.schemes.iter().map(Scheme::expected).sum::<f64>()
    }

    fn finish(self, expected: f64) -> Population {
        let mut accounts: Vec<(Role, u64)> = Role::ALL
            .iter()
            .filter(|r| **r != Role::External)
            .map(|r| (*r, 0))
            .collect();
        for a in &self.accounts {
            if let Some(slot) = accounts.iter_mut().find(|(r, _)| *r == a.role) {
                slot.1 += 1;
            }
        }
        let mut droppers = 0;
        for g in &self.mule_groups {
            let mut per_iin: HashMap<&str, u32> = HashMap::new();
            for m in &g.members {
                if let Some(a) = self.accounts.get(*m as usize) {
                    *per_iin.entry(a.iin.as_str()).or_insert(0) += 1;
                }
            }
            droppers += per_iin.values().filter(|n| **n >= 5).count() as u64;
        }
        let family_rings = self
            .schemes
            .iter()
            .filter(|s| matches!(s.kind, super::scheme::SchemeKind::FamilyRing { .. }))
            .count() as u64;
        let summary = PopulationSummary {
            patterns: self.schemes.len() as u64 - family_rings,
            family_rings,
            accounts,
            families: self.families.len() as u64,
            mule_groups: self.mule_groups.len() as u64,
            device_farms: self.mule_groups.iter().filter(|g| g.farm.is_some()).count() as u64,
            multi_card_droppers: droppers,
            expected_transactions: expected.round() as u64,
        };
        let pool = self.pool();
        let days = self.days();
        let mut schemes = self.schemes;
        // By the day they start (stable: the order planned breaks ties).
        schemes.sort_by_key(|s| s.day);
        Population {
            seed: self.seed,
            days,
            accounts: self.accounts,
            devices: self.devices,
            families: self.families,
            mule_groups: self.mule_groups,
            schemes,
            pool,
            people: self.people,
            firms: self.firms,
            summary,
        }
    }
}

fn mule_expected(plan: &Plan) -> f64 {
    match plan {
        Plan::Mule {
            episodes, test_day, ..
        } => {
            episodes
                .iter()
                .map(|e| f64::from(e.senders) + f64::from(e.tranches) * 2.2)
                .sum::<f64>()
                + if test_day.is_some() { 1.0 } else { 0.0 }
        }
        _ => 0.0,
    }
}

/// A trader's expected transactions over `days` days: customers and
/// suppliers on trading days, the odd deposit or withdrawal on days off.
fn trader_expected(plan: &Plan, days: u32) -> f64 {
    let Plan::Trader {
        days_off,
        customers,
        max_customers,
        max_suppliers,
        supplier_share,
        ..
    } = plan
    else {
        return 0.0;
    };
    let off = f64::from(days_off.count_ones()) / 7.0;
    // The mean of the clamped daily counts (see `trader_day`), over a grid
    // of the day's variation; busier at the end of the week.
    let mut per_day = 0.0;
    for k in 0..10 {
        let u = 0.75 + 0.55 * (f64::from(k) + 0.5) / 10.0;
        let n_in = (f64::from(*customers) * u * 1.03).clamp(10.0, f64::from(*max_customers));
        let n_out = (n_in * supplier_share).clamp(5.0, f64::from(*max_suppliers));
        per_day += (n_in + n_out) / 10.0;
    }
    let days = f64::from(days);
    days * (1.0 - off) * per_day + days * off * 0.5
}

fn city(rng: &mut Rng) -> u8 {
    let weights: Vec<u32> = ids::CITIES.iter().map(|(w, _)| *w).collect();
    rng.weighted_index(&weights) as u8
}

/// `value` rounded to the nearest multiple of `step`.
pub(crate) fn round_to(value: i64, step: i64) -> i64 {
    if step <= 0 {
        return value;
    }
    (value + step / 2) / step * step
}
