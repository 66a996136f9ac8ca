//! A seeded generator of realistic, labelled transaction streams.
//!
//! # Why
//!
//! A rule pack is only as good as its precision and recall on traffic that
//! looks like a bank's, and real traffic cannot leave a bank. So this
//! module makes it: a population of a bank's customers, most of them
//! ordinary, some of them legitimate *look-alikes* that trip careless rules
//! (payroll accounts funded the day before each run, busy merchants,
//! families, students on their birthday, traders reselling goods through a
//! personal card, marketplaces, landlords, people saving their salary on a
//! second account), and planted *typologies* from docs/domain.md: money
//! mules, shadow crypto exchangers and structurers on one account, and six
//! patterns across accounts and days (layering chains, fan-in and fan-out
//! hubs, cycles, scatter-gather and gather-scatter; see `scheme.rs`). Every
//! transaction carries a `truth` field naming the role of its sender and
//! its recipient, which the engine ignores and `qorgan backtest` scores
//! against. Every home account of a pattern carries the pattern's role.
//!
//! # How
//!
//! - **Seeded and reproducible.** The same seed, count, start and days give
//!   the same bytes on every platform and with every version of every
//!   dependency: the random numbers are our own (SplitMix64, see
//!   `rng.rs`), and only exactly specified float operations are used.
//! - **Streaming.** The population (O(customers)) is built first; then day
//!   by day every account schedules its own events, the day is sorted by
//!   time (ties broken by the scheduling day, account and order, so the sort
//!   is total), and written. Events that spill past midnight wait for their
//!   day. A pattern across accounts is made whole on the day it starts
//!   (a chain's hops, a hub's three weeks of payments), its later events
//!   waiting with the rest. Memory is O(customers + pending events), so
//!   streams of 10^7 work.
//! - **Exactly `count`.** The population is sized so the volume fits the
//!   period; the stream stops after exactly `count` transactions, which is
//!   usually on the last day. Should the population fall short, days go on
//!   past the period (with ordinary life only) until the count is reached.
//!
//! ```no_run
//! use qorgan_lab::generator::{Generator, GeneratorConfig};
//!
//! let mut generator = Generator::new(GeneratorConfig::new(1, 1000))?;
//! eprintln!("{}", generator.summary());
//! generator.write_to(std::io::stdout().lock())?;
//! # Ok::<(), qorgan_lab::generator::GenError>(())
//! ```

mod calendar;
mod day;
mod errors;
mod event;
mod ids;
mod legit;
mod lookalike;
mod output;
mod population;
mod rng;
mod scheme;
mod texts;
mod typology;

use std::io::Write;

pub use errors::GenError;
pub use population::{PopulationSummary, Role};

use self::calendar::DAY;
use self::day::DayInfo;
use self::event::{Event, Sink};
use self::legit::Actor;
use self::population::{Plan, Population, tags};
use self::rng::Rng;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GeneratorConfig {
    /// The seed: the same seed (and settings) gives the same bytes.
    pub seed: u64,
    /// How many transactions to write.
    pub count: u64,
    /// The first instant of the period, seconds since the epoch (UTC).
    pub start: i64,
    /// How many days the period has.
    pub days: u32,
    /// How many days of ordinary life to write before the period: the
    /// history a bank already holds when monitoring starts (see
    /// [`Generator`]). Not counted in `count`.
    pub look_back_days: u32,
}

impl GeneratorConfig {
    /// 2025-03-01T00:00:00Z, the default start.
    pub const DEFAULT_START: i64 = 1_740_787_200;
    /// A month, the default period.
    pub const DEFAULT_DAYS: u32 = 30;
    /// The longest period accepted, in days.
    pub const MAX_DAYS: u32 = 3_660;

    /// `count` transactions from `seed` over the default month.
    pub fn new(seed: u64, count: u64) -> GeneratorConfig {
        GeneratorConfig {
            seed,
            count,
            start: Self::DEFAULT_START,
            days: Self::DEFAULT_DAYS,
            look_back_days: 0,
        }
    }

    fn check(&self) -> Result<(), GenError> {
        if self.days == 0 || self.days > Self::MAX_DAYS {
            return Err(GenError::Invalid {
                setting: "--days",
                problem: format!("{} is not between 1 and {}", self.days, Self::MAX_DAYS),
            });
        }
        // Years 1950 to 2999, so every timestamp formats as RFC 3339.
        if !(-631_152_000..=32_503_680_000 - i64::from(Self::MAX_DAYS) * DAY * 2)
            .contains(&self.start)
        {
            return Err(GenError::Invalid {
                setting: "--start",
                problem: "must be between 1950 and 2990".to_owned(),
            });
        }
        if self.look_back_days > Self::MAX_DAYS {
            return Err(GenError::Invalid {
                setting: "--look-back-days",
                problem: format!("{} is more than {}", self.look_back_days, Self::MAX_DAYS),
            });
        }
        if self.count > 2_000_000_000 {
            return Err(GenError::Invalid {
                setting: "--count",
                problem: format!("{} is more than 2000000000", self.count),
            });
        }
        Ok(())
    }
}

/// Parses an RFC 3339 time such as `2025-03-01T00:00:00Z` into seconds
/// since the epoch.
pub fn parse_start(text: &str) -> Result<i64, GenError> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|e| GenError::Invalid {
            setting: "--start",
            problem: format!("`{text}` is not an RFC 3339 time such as 2025-03-01T00:00:00Z ({e})"),
        })
}

/// After this many days in a row without a transaction the stream ends
/// early (only possible with a degenerate population).
const MAX_EMPTY_DAYS: u32 = 366;

/// Transaction lines in stream order: an iterator of JSON texts, one
/// transaction each, without the newline.
///
/// With [`GeneratorConfig::look_back_days`], the stream opens with that
/// many days before the period in which only ordinary life and the
/// legitimate look-alikes act (salaries, shops, rents, savings, families):
/// the history a bank holds on the day it starts monitoring, so that a
/// tenant paying rent in the first week of the period is a regular, not a
/// stranger. Nothing is planted in the look-back; its lines have ids
/// `lb-…`, are labelled like the rest, and are not counted in `count`.
/// `qorgan backtest --score-from` decides them as history without scoring
/// them.
pub struct Generator {
    config: GeneratorConfig,
    population: Population,
    /// The next day of the period to schedule.
    day: u32,
    /// Look-back days still to schedule before the period.
    look_back_left: u32,
    /// Whether the events of `today` are look-back events.
    today_look_back: bool,
    /// Look-back transactions written.
    look_back_emitted: u64,
    /// The market rate of USDT today, tiyn.
    usdt: i64,
    market: Rng,
    today: std::vec::IntoIter<Event>,
    /// Events scheduled for a later day.
    pending: Vec<Event>,
    /// Per-account running state (a merchant's or a marketplace's takings
    /// since it settled, a trader's savings on the card).
    state: Vec<i64>,
    /// The next pattern across accounts to start (index into the
    /// population's schemes, which are in order of their day).
    next_scheme: usize,
    emitted: u64,
    empty_days: u32,
}

impl std::fmt::Debug for Generator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generator")
            .field("config", &self.config)
            .field("day", &self.day)
            .field("emitted", &self.emitted)
            .finish_non_exhaustive()
    }
}

impl Generator {
    /// Builds the population for `config`; nothing is generated yet.
    pub fn new(config: GeneratorConfig) -> Result<Generator, GenError> {
        config.check()?;
        let population = Population::build(&config);
        let mut market = Rng::derive(config.seed, &[tags::MARKET]);
        // USDT in tenge: around 505 at the start of 2025, a little either side.
        let usdt = market.range(49_500, 52_000);
        let accounts = population.accounts.len();
        Ok(Generator {
            config,
            population,
            day: 0,
            look_back_left: config.look_back_days,
            today_look_back: false,
            look_back_emitted: 0,
            usdt,
            market,
            today: Vec::new().into_iter(),
            pending: Vec::new(),
            state: vec![0; accounts],
            next_scheme: 0,
            emitted: 0,
            empty_days: 0,
        })
    }

    /// What the population is made of.
    pub fn summary(&self) -> &PopulationSummary {
        &self.population.summary
    }

    /// The settings.
    pub fn config(&self) -> &GeneratorConfig {
        &self.config
    }

    /// How many days of the period have been scheduled so far.
    pub fn days_generated(&self) -> u32 {
        self.day
    }

    /// How many look-back transactions have been written so far.
    pub fn look_back_written(&self) -> u64 {
        self.look_back_emitted
    }

    /// Writes the remaining transactions as JSON Lines; returns how many
    /// were written.
    pub fn write_to<W: Write>(&mut self, mut out: W) -> Result<u64, GenError> {
        let mut line = String::with_capacity(1024);
        let mut written = 0;
        while self.next_into(&mut line) {
            line.push('\n');
            out.write_all(line.as_bytes())?;
            written += 1;
        }
        out.flush()?;
        Ok(written)
    }

    /// Replaces `line` with the next transaction; `false` at the end.
    pub fn next_into(&mut self, line: &mut String) -> bool {
        if self.emitted >= self.config.count {
            return false;
        }
        loop {
            if let Some(event) = self.today.next() {
                let id = if self.today_look_back {
                    self.look_back_emitted += 1;
                    output::Id::LookBack(self.look_back_emitted)
                } else {
                    self.emitted += 1;
                    output::Id::Period(self.emitted)
                };
                line.clear();
                output::render(line, &self.population, id, &event);
                return true;
            }
            if self.empty_days >= MAX_EMPTY_DAYS {
                return false;
            }
            if self.look_back_left > 0 {
                self.schedule_look_back_day();
            } else {
                self.schedule_day();
            }
        }
    }

    /// Schedules the next look-back day: the ordinary lives and the
    /// legitimate look-alikes of the accounts already open, plus events
    /// left over from earlier look-back days. The period's random numbers
    /// are not touched, so the period is the same with or without a
    /// look-back (but for the state it carries in, such as a shop's
    /// takings).
    fn schedule_look_back_day(&mut self) {
        let back = self.look_back_left;
        self.look_back_left -= 1;
        let day_start = self.config.start - i64::from(back) * DAY;
        let mut info = DayInfo::new(day_start, 0, self.usdt);
        info.look_back = true;
        let end = info.start + DAY;
        let mut events: Vec<Event> = Vec::new();
        let pop = &self.population;
        for (i, account) in pop.accounts.iter().enumerate() {
            if account.opened > info.start || account.role.is_typology() {
                continue;
            }
            let index = i as u32;
            let mut rng = Rng::derive(
                pop.seed,
                &[tags::LOOK_BACK, u64::from(index), u64::from(back)],
            );
            let mut sink = Sink::new(&mut events, index, 0);
            let actor = Actor {
                pop,
                day: &info,
                index,
                account,
            };
            let state = self.state.get_mut(i);
            schedule(&actor, true, state, &mut rng, &mut sink);
        }
        self.finish_day(events, end, info.start, true);
    }

    /// Sorts the day's events (with those left over from earlier days)
    /// into stream order and keeps the later ones for their day.
    fn finish_day(&mut self, events: Vec<Event>, end: i64, start: i64, look_back: bool) {
        let (mut today, later): (Vec<Event>, Vec<Event>) = std::mem::take(&mut self.pending)
            .into_iter()
            .chain(events)
            .partition(|e| e.time < end);
        for e in &mut today {
            // Never before the day already written.
            e.time = e.time.max(start);
        }
        today.sort_unstable_by_key(Event::order);
        self.pending = later;
        self.empty_days = if today.is_empty() {
            self.empty_days + 1
        } else {
            0
        };
        self.today = today.into_iter();
        self.today_look_back = look_back;
    }

    /// Schedules the next day: every account's events, plus those left
    /// over from earlier days, sorted into stream order.
    fn schedule_day(&mut self) {
        let info = DayInfo::new(self.config.start, self.day, self.usdt);
        let end = info.start + DAY;
        let mut events: Vec<Event> = Vec::new();
        let pop = &self.population;
        for (i, account) in pop.accounts.iter().enumerate() {
            let index = i as u32;
            let mut rng = Rng::derive(
                pop.seed,
                &[tags::DAY, u64::from(index), u64::from(self.day)],
            );
            let mut sink = Sink::new(&mut events, index, self.day);
            let actor = Actor {
                pop,
                day: &info,
                index,
                account,
            };
            let in_period = self.day < pop.days;
            let state = self.state.get_mut(i);
            schedule(&actor, in_period, state, &mut rng, &mut sink);
        }
        // Patterns across accounts starting today: all their transactions,
        // today's and later ones, each under an actor number of its own.
        while let Some(s) = pop.schemes.get(self.next_scheme)
            && s.day <= self.day
        {
            let k = self.next_scheme;
            self.next_scheme += 1;
            if self.day >= pop.days {
                continue;
            }
            let actor = u32::try_from(pop.accounts.len() + k).unwrap_or(u32::MAX);
            let mut rng = Rng::derive(pop.seed, &[tags::SCHEME, k as u64]);
            let mut sink = Sink::new(&mut events, actor, self.day);
            scheme::run(pop, s, &info, &mut rng, &mut sink);
        }
        self.finish_day(events, end, info.start, false);
        self.day += 1;
        // The market moves up to 0.6% a day.
        let step = self.market.range(-60, 60);
        self.usdt = (self.usdt + self.usdt * step / 10_000).clamp(30_000, 90_000);
    }
}

/// One account's day. Planted typologies and look-alikes act only inside
/// the period (and look-alikes in the look-back, whose days say so);
/// ordinary life goes on as long as the stream does.
fn schedule(
    a: &Actor<'_>,
    in_period: bool,
    state: Option<&mut i64>,
    rng: &mut Rng,
    out: &mut Sink<'_>,
) {
    if let Some(life) = &a.account.life {
        legit::life_day(a, life, rng, out);
    }
    if !in_period {
        return;
    }
    match &a.account.plan {
        Plan::None => {}
        plan @ Plan::Payroll { .. } => legit::payroll_day(a, plan, rng, out),
        plan @ Plan::Merchant { .. } => {
            let mut scratch = 0;
            legit::merchant_day(a, plan, state.unwrap_or(&mut scratch), rng, out);
        }
        Plan::Family { group } => legit::family_day(a, *group, rng, out),
        plan @ Plan::Student { .. } => legit::student_day(a, plan, rng, out),
        plan @ Plan::Trader { .. } => {
            let mut scratch = 0;
            legit::trader_day(a, plan, state.unwrap_or(&mut scratch), rng, out);
        }
        plan @ Plan::Mule { .. } => typology::mule_day(a, plan, rng, out),
        plan @ Plan::Exchanger { .. } => typology::exchanger_day(a, plan, rng, out),
        plan @ Plan::Structurer { .. } => typology::structurer_day(a, plan, rng, out),
        plan @ Plan::Marketplace { .. } => {
            let mut scratch = 0;
            lookalike::marketplace_day(a, plan, state.unwrap_or(&mut scratch), rng, out);
        }
        plan @ Plan::Landlord { .. } => lookalike::landlord_day(a, plan, rng, out),
        plan @ Plan::Saver { .. } => lookalike::saver_day(a, plan, rng, out),
    }
}

impl Iterator for Generator {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        let mut line = String::new();
        self.next_into(&mut line).then_some(line)
    }
}

#[cfg(test)]
mod tests;
