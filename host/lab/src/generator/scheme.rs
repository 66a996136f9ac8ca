//! Patterns across accounts and days: the six network typologies of
//! docs/domain.md ("Typologies across accounts and time") and their
//! closest legitimate look-alike, a family passing a sum round.
//!
//! # Why
//!
//! A rule that judges one account in one day cannot see money hop through
//! a chain of droppers, a collector gathering from twenty payers over three
//! weeks, or a ring of companies lending the same money round. To measure
//! rules that follow money across accounts, the stream must hold such
//! patterns, drawn from the typologies as FATF, Egmont and AMLSim describe
//! them, with every number varied per pattern so that no single threshold
//! separates them from honest traffic.
//!
//! # How
//!
//! A pattern is planned with the population (who takes part, and the day
//! it starts: see `population/schemes.rs`) and carried out on its start
//! day in one go: every transfer of the pattern, over days or weeks, is
//! made then, and those dated after the day wait in the generator's
//! pending events until their day. So the amounts can follow the money
//! exactly (each link forwards what it received, less its cut), and
//! memory is what the patterns in flight hold. Each pattern draws its
//! numbers from its own stream (`tags::SCHEME` and its index), so it
//! shifts nobody else's random numbers.

use super::calendar::{DAY, HOUR, MINUTE};
use super::day::{self, DayInfo, PEOPLE_HOURS, device_of_party, minute_from, tenge, tenge_step};
use super::event::{Event, PartyRef, Sink};
use super::population::Population;
use super::rng::Rng;
use super::texts;
use qorgan::transaction::{Channel, Check, TxKind};

/// Where money leaves a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// Taken out in cash (at ATMs, or at a branch for large sums).
    Cash,
    /// Spent on crypto at a platform.
    Crypto,
    /// Sent to an account at another bank.
    Account(PartyRef),
}

/// A pattern across accounts and days, and the day it starts.
#[derive(Debug, Clone)]
pub(crate) struct Scheme {
    /// The day (since the start) it starts on; everything is scheduled then.
    pub(crate) day: u32,
    pub(crate) kind: SchemeKind,
}

/// The shapes of the patterns. Home accounts are indices into the
/// population's accounts; every home account named here carries the
/// pattern's role (except a chain's origin, a fraud victim, and a family).
#[derive(Debug, Clone)]
pub(crate) enum SchemeKind {
    /// A layering chain: the origin pays the first mule, each mule passes
    /// the money to the next within 10–90 minutes keeping 0–5%, the last
    /// one takes it out.
    Chain {
        /// Who puts the money in: a person at another bank, or a fraud
        /// victim who banks here.
        origin: PartyRef,
        /// In how many payments (1–2) the origin pays.
        parts: u32,
        /// The mules in order (3–6).
        mules: Vec<u32>,
        exit: Exit,
    },
    /// A collector: many payers, a few payments a day over 5–20 days, then
    /// most of it out in 1–3 payments.
    FanIn {
        hub: u32,
        /// Each payer and how many times (1–3) it pays.
        feeders: Vec<(PartyRef, u32)>,
        /// Days over which they pay.
        span: u32,
        /// The most payments the hub receives in a day (2–3).
        per_day: u32,
        /// Where the money goes (1–2 destinations).
        outs: Vec<Exit>,
        /// In how many payments (1–3) it goes.
        transfers_out: u32,
    },
    /// A distributor: funded once or twice, then pays many payees a few a
    /// day over 3–15 days.
    FanOut {
        hub: u32,
        /// Who funds it: another bank's account, or a home account of the
        /// pattern (itself funded from another bank first).
        source: PartyRef,
        /// In how many payments (1–2) it is funded.
        parts: u32,
        payees: Vec<PartyRef>,
        /// Days over which they are paid.
        span: u32,
        /// The most payments made in a day (1–4).
        per_day: u32,
    },
    /// One round of a ring: money goes from member to member and back to
    /// where it started.
    Cycle {
        /// The members in the order money moves (3–6).
        ring: Vec<u32>,
        /// The member that starts and ends this round.
        first: usize,
        /// The first member is paid from another bank before the round.
        funded: bool,
    },
    /// A source splits money across intermediaries, each of which forwards
    /// it to one sink.
    ScatterGather {
        source: u32,
        /// Home accounts of the pattern, and some at other banks.
        middle: Vec<PartyRef>,
        sink: u32,
        /// Days (0–2) over which the source pays the intermediaries.
        span: u32,
        /// The source is paid from another bank first.
        funded: bool,
        /// Where the sink sends the money on, if it does.
        exit: Option<PartyRef>,
    },
    /// A hub gathers from many payers over 1–7 days and scatters most of it
    /// to many payees over 1–7 days.
    GatherScatter {
        hub: u32,
        payers: Vec<PartyRef>,
        payees: Vec<PartyRef>,
        /// Days of gathering.
        gather: u32,
        /// Days of scattering.
        scatter: u32,
    },
    /// A family passing a sum along (A→B→C, sometimes back to A), after
    /// ordinary transfers between the same members in the days before.
    FamilyRing {
        /// The members in the order the money moves; the first again at
        /// the end when it comes back.
        path: Vec<u32>,
        /// Days from the start of the scheme to the sum.
        lead: u32,
    },
}

impl Scheme {
    /// The transactions the pattern is expected to make.
    pub(crate) fn expected(&self) -> f64 {
        match &self.kind {
            SchemeKind::Chain {
                parts, mules, exit, ..
            } => {
                let exit = match exit {
                    Exit::Cash => 2.0,
                    Exit::Crypto => 1.3,
                    Exit::Account(_) => 1.0,
                };
                f64::from(*parts) + mules.len() as f64 - 1.0 + exit
            }
            SchemeKind::FanIn {
                feeders,
                transfers_out,
                ..
            } => {
                feeders.iter().map(|(_, n)| f64::from(*n)).sum::<f64>() + f64::from(*transfers_out)
            }
            SchemeKind::FanOut {
                source,
                parts,
                payees,
                ..
            } => {
                let funding = if matches!(source, PartyRef::Home(_)) {
                    1.0
                } else {
                    0.0
                };
                funding + f64::from(*parts) + payees.len() as f64
            }
            SchemeKind::Cycle { ring, funded, .. } => {
                ring.len() as f64 + if *funded { 1.0 } else { 0.0 }
            }
            SchemeKind::ScatterGather {
                middle,
                funded,
                exit,
                ..
            } => {
                2.0 * middle.len() as f64
                    + if *funded { 1.0 } else { 0.0 }
                    + if exit.is_some() { 1.0 } else { 0.0 }
            }
            SchemeKind::GatherScatter { payers, payees, .. } => {
                (payers.len() + payees.len()) as f64
            }
            SchemeKind::FamilyRing { path, .. } => 2.0 * (path.len() as f64 - 1.0),
        }
    }

    /// The home accounts that take part.
    #[cfg(test)]
    pub(crate) fn home_accounts(&self) -> Vec<u32> {
        let home = |p: &PartyRef| match p {
            PartyRef::Home(i) => Some(*i),
            _ => None,
        };
        let mut out: Vec<u32> = match &self.kind {
            SchemeKind::Chain { origin, mules, .. } => home(origin)
                .into_iter()
                .chain(mules.iter().copied())
                .collect(),
            SchemeKind::FanIn { hub, feeders, .. } => std::iter::once(*hub)
                .chain(feeders.iter().filter_map(|(p, _)| home(p)))
                .collect(),
            SchemeKind::FanOut {
                hub,
                source,
                payees,
                ..
            } => std::iter::once(*hub)
                .chain(home(source))
                .chain(payees.iter().filter_map(home))
                .collect(),
            SchemeKind::Cycle { ring, .. } => ring.clone(),
            SchemeKind::ScatterGather {
                source,
                middle,
                sink,
                ..
            } => [*source, *sink]
                .into_iter()
                .chain(middle.iter().filter_map(home))
                .collect(),
            SchemeKind::GatherScatter {
                hub,
                payers,
                payees,
                ..
            } => std::iter::once(*hub)
                .chain(payers.iter().filter_map(home))
                .chain(payees.iter().filter_map(home))
                .collect(),
            SchemeKind::FamilyRing { path, .. } => path.clone(),
        };
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// Carries out a pattern on its start day: all its transactions, dated
/// today and later.
pub(crate) fn run(
    pop: &Population,
    scheme: &Scheme,
    day: &DayInfo,
    rng: &mut Rng,
    out: &mut Sink<'_>,
) {
    let mut run = Run { pop, day, rng, out };
    match &scheme.kind {
        SchemeKind::Chain {
            origin,
            parts,
            mules,
            exit,
        } => run.chain(*origin, *parts, mules, *exit),
        SchemeKind::FanIn {
            hub,
            feeders,
            span,
            per_day,
            outs,
            transfers_out,
        } => run.fan_in(*hub, feeders, *span, *per_day, outs, *transfers_out),
        SchemeKind::FanOut {
            hub,
            source,
            parts,
            payees,
            span,
            per_day,
        } => run.fan_out(*hub, *source, *parts, payees, *span, *per_day),
        SchemeKind::Cycle {
            ring,
            first,
            funded,
        } => run.cycle(ring, *first, *funded),
        SchemeKind::ScatterGather {
            source,
            middle,
            sink,
            span,
            funded,
            exit,
        } => run.scatter_gather(*source, middle, *sink, *span, *funded, *exit),
        SchemeKind::GatherScatter {
            hub,
            payers,
            payees,
            gather,
            scatter,
        } => run.gather_scatter(*hub, payers, payees, *gather, *scatter),
        SchemeKind::FamilyRing { path, lead } => run.family_ring(path, *lead),
    }
}

/// One pattern being carried out.
struct Run<'a, 'o> {
    pop: &'a Population,
    day: &'a DayInfo,
    rng: &'a mut Rng,
    out: &'a mut Sink<'o>,
}

impl Run<'_, '_> {
    /// An instant `offset` days after today at local minute `minute`, with
    /// random seconds.
    fn at(&mut self, offset: u32, minute: i64) -> i64 {
        self.day.at_local(minute) + i64::from(offset) * DAY + self.rng.range(0, 59)
    }

    /// An instant on day `offset` at an hour people use their bank.
    fn people_time(&mut self, offset: u32) -> i64 {
        let minute = minute_from(self.rng, &PEOPLE_HOURS);
        self.at(offset, minute)
    }

    /// An instant on day `offset` between local hours `from` and `to`.
    fn between(&mut self, offset: u32, from: i64, to: i64) -> i64 {
        let minute = self.rng.range(from * 60, to * 60 - 1);
        self.at(offset, minute)
    }

    /// A transfer by the channel its sender would use: a person's app or
    /// internet banking (from their own device), a company's internet
    /// banking or API, another bank's API.
    fn transfer(
        &mut self,
        time: i64,
        from: PartyRef,
        to: PartyRef,
        amount: i64,
        words: &[&'static str],
    ) {
        let (channel, device) = match from {
            PartyRef::Home(i) => match self.pop.account(i) {
                Some(a) if !a.business => {
                    let channel = *self
                        .rng
                        .weighted(&[
                            (75, Channel::MobileApp),
                            (15, Channel::InternetBanking),
                            (10, Channel::Api),
                        ])
                        .unwrap_or(&Channel::MobileApp);
                    let device = if channel == Channel::Api {
                        None
                    } else {
                        day::device_of(self.rng, a)
                    };
                    (channel, device)
                }
                _ if self.rng.chance(0.6) => (Channel::InternetBanking, None),
                _ => (Channel::Api, None),
            },
            _ => (Channel::Api, None),
        };
        let text = day::text(self.rng, words);
        let confirm = channel != Channel::Api && amount > 10_000_000 && self.rng.chance(0.5);
        self.out.push(
            Event::new(time, TxKind::Transfer, channel, amount, from, to)
                .text(text)
                .device(device)
                .check_if(confirm, Check::AppConfirmation),
        );
    }

    /// A person at another bank, or a company there.
    fn outsider(&mut self, firm_share: f64) -> PartyRef {
        if self.rng.chance(firm_share) {
            day::firm(self.rng, self.pop)
        } else {
            day::person(self.rng, self.pop)
        }
    }

    /// Money leaves `from` (a home account) at `time`.
    fn exit(&mut self, time: i64, from: u32, amount: i64, exit: Exit, words: &[&'static str]) {
        let me = PartyRef::Home(from);
        match exit {
            Exit::Account(to) => self.transfer(time, me, to, amount, words),
            Exit::Crypto => {
                let vasp = day::platform(self.rng, 0.2);
                let device = device_of_party(self.rng, self.pop, me);
                let parts: i64 = if amount > 30_000_000 && self.rng.chance(0.5) {
                    2
                } else {
                    1
                };
                let mut left = amount;
                let mut t = time;
                for k in 0..parts {
                    let part = if k == parts - 1 { left } else { left / 2 };
                    self.out.push(
                        Event::new(
                            t,
                            TxKind::CryptoPurchase,
                            Channel::MobileApp,
                            part,
                            me,
                            vasp,
                        )
                        .text(day::text(self.rng, texts::CRYPTO))
                        .device(device),
                    );
                    left -= part;
                    t += self.rng.range(60, 600);
                }
            }
            Exit::Cash => self.cash(time, from, amount),
        }
    }

    /// Cash out: at a branch for large sums (to the thousand tenge), else
    /// at one ATM in banknotes (multiples of 5,000 KZT), a few minutes
    /// apart, up to its limit each.
    fn cash(&mut self, time: i64, from: u32, amount: i64) {
        let me = PartyRef::Home(from);
        let city = self.pop.account(from).map_or(0, |a| a.city);
        let atm = day::atm(self.rng, city);
        if amount > 150_000_000 {
            self.out.push(
                Event::new(
                    time,
                    TxKind::CashWithdrawal,
                    Channel::Branch,
                    amount / 100_000 * 100_000,
                    me,
                    atm,
                )
                .check(Check::Biometric),
            );
            return;
        }
        let limit = tenge_step(self.rng.uniform(200_000.0, 500_000.0), 5_000);
        let biometric = self.rng.chance(0.7);
        let mut left = amount / 500_000 * 500_000;
        let mut t = time;
        while left >= 500_000 {
            let part = left.min(limit);
            self.out.push(
                Event::new(t, TxKind::CashWithdrawal, Channel::Atm, part, me, atm)
                    .check_if(biometric, Check::Biometric),
            );
            left -= part;
            t += self.rng.range(40, 240);
        }
    }

    /// A layering chain (see [`SchemeKind::Chain`]).
    fn chain(&mut self, origin: PartyRef, parts: u32, mules: &[u32], exit: Exit) {
        let Some(&first) = mules.first() else {
            return;
        };
        let mut time = self.between(0, 8, 21);
        let x = self.rng.log_uniform(200_000.0, 8_000_000.0);
        let total = money(self.rng, x);
        let parts = parts.max(1);
        let mut paid = 0;
        for k in 0..parts {
            let amount = if k + 1 == parts {
                total - paid
            } else {
                tenge_step(total as f64 / 100.0 * self.rng.uniform(0.3, 0.7), 1000)
            };
            if amount <= 0 {
                continue;
            }
            self.transfer(time, origin, PartyRef::Home(first), amount, texts::VICTIMS);
            paid += amount;
            if k + 1 < parts {
                time += self.rng.range(3 * MINUTE, 40 * MINUTE);
            }
        }
        let mut held = paid;
        for (k, &mule) in mules.iter().enumerate() {
            // Each link waits 10 to 90 minutes, keeps its cut, passes on
            // the rest.
            time += self.rng.range(10 * MINUTE, 90 * MINUTE);
            let keep = self.rng.uniform(0.0, 0.05);
            let amount = pass_on(self.rng, held, keep);
            match mules.get(k + 1) {
                Some(&next) => self.transfer(
                    time,
                    PartyRef::Home(mule),
                    PartyRef::Home(next),
                    amount,
                    texts::CHAIN,
                ),
                None => self.exit(time, mule, amount, exit, texts::CHAIN),
            }
            held = amount;
        }
    }

    /// A collector (see [`SchemeKind::FanIn`]).
    fn fan_in(
        &mut self,
        hub: u32,
        feeders: &[(PartyRef, u32)],
        span: u32,
        per_day: u32,
        outs: &[Exit],
        transfers_out: u32,
    ) {
        let me = PartyRef::Home(hub);
        let mut payments: Vec<PartyRef> = feeders
            .iter()
            .flat_map(|(p, n)| std::iter::repeat_n(*p, *n as usize))
            .collect();
        self.rng.shuffle(&mut payments);
        let days = spread_days(self.rng, payments.len(), span, per_day);
        let mut inflows: Vec<(i64, i64)> = Vec::with_capacity(payments.len());
        for (payer, offset) in payments.iter().zip(&days) {
            let time = self.people_time(*offset);
            let x = self.rng.log_uniform(50_000.0, 1_500_000.0);
            let amount = money(self.rng, x);
            self.transfer(time, *payer, me, amount, texts::HUB);
            inflows.push((time, amount));
        }
        inflows.sort_unstable();
        let Some(&(last_in, _)) = inflows.last() else {
            return;
        };
        let collected: i64 = inflows.iter().map(|(_, a)| a).sum();
        let target = (collected as f64 * self.rng.uniform(0.82, 0.98)) as i64;
        let n_out = transfers_out.max(1) as usize;
        // All but the last payment out go while the money still comes in,
        // each after a share of the inflows; the last within three days
        // of the last inflow.
        let mut cuts: Vec<usize> = (1..n_out)
            .map(|_| (inflows.len() as f64 * self.rng.uniform(0.4, 0.9)) as usize)
            .collect();
        cuts.sort_unstable();
        let mut sent = 0;
        let mut previous = 0;
        let mut k = 0;
        for cut in cuts {
            let upto = inflows.get(..cut.clamp(1, inflows.len())).unwrap_or(&[]);
            let Some(&(after, _)) = upto.last() else {
                continue;
            };
            let so_far: i64 = upto.iter().map(|(_, a)| a).sum();
            let amount = ((so_far as f64 * self.rng.uniform(0.5, 0.9)) as i64 - sent)
                .min(target - sent)
                / 100_000
                * 100_000;
            if amount < 100_000 {
                continue;
            }
            let time = (after + self.rng.range(20 * MINUTE, 8 * HOUR)).max(previous + 60);
            let exit = outs
                .get(k % outs.len().max(1))
                .copied()
                .unwrap_or(Exit::Cash);
            self.exit(time, hub, amount, exit, texts::HUB);
            sent += amount;
            previous = time;
            k += 1;
        }
        let rest = (target - sent) / 100_000 * 100_000;
        if rest >= 100_000 {
            let time = (last_in + self.rng.range(30 * MINUTE, 3 * DAY)).max(previous + 60);
            let exit = outs
                .get(k % outs.len().max(1))
                .copied()
                .unwrap_or(Exit::Cash);
            self.exit(time, hub, rest, exit, texts::HUB);
        }
    }

    /// A distributor (see [`SchemeKind::FanOut`]).
    fn fan_out(
        &mut self,
        hub: u32,
        source: PartyRef,
        parts: u32,
        payees: &[PartyRef],
        span: u32,
        per_day: u32,
    ) {
        let me = PartyRef::Home(hub);
        let x = self.rng.log_uniform(1_000_000.0, 20_000_000.0);
        let received = tenge_step(x, if self.rng.chance(0.5) { 10_000 } else { 1_000 });
        let mut time = self.between(0, 8, 13);
        if matches!(source, PartyRef::Home(_)) {
            let funder = self.outsider(0.6);
            let funding =
                (received as f64 * self.rng.uniform(1.0, 1.08)) as i64 / 100_000 * 100_000;
            self.transfer(time, funder, source, funding, texts::HUB);
            time += self.rng.range(20 * MINUTE, 4 * HOUR);
        }
        let parts = parts.max(1);
        let mut got = 0;
        for k in 0..parts {
            let amount = if k + 1 == parts {
                received - got
            } else {
                tenge_step(received as f64 / 100.0 * self.rng.uniform(0.3, 0.7), 10_000)
            };
            if amount <= 0 {
                continue;
            }
            self.transfer(time, source, me, amount, texts::HUB);
            got += amount;
            if k + 1 < parts {
                time += self.rng.range(30 * MINUTE, 5 * HOUR);
            }
        }
        let last_in = time;
        let total = (got as f64 * self.rng.uniform(0.82, 0.98)) as i64;
        // Roughly equal shares, each within 30% of the mean.
        let weights: Vec<f64> = payees.iter().map(|_| self.rng.uniform(0.7, 1.3)).collect();
        let amounts = split(self.rng, total, &weights);
        let first_day = self.rng.range_u32(0, 1);
        let days = spread_days(self.rng, payees.len(), span, per_day);
        for ((payee, amount), offset) in payees.iter().zip(amounts).zip(days) {
            let mut t = self.between(first_day + offset, 9, 21);
            if t <= last_in {
                t = last_in + self.rng.range(10 * MINUTE, HOUR);
            }
            self.transfer(t, me, *payee, amount, texts::HUB);
        }
    }

    /// One round of a ring (see [`SchemeKind::Cycle`]).
    fn cycle(&mut self, ring: &[u32], first: usize, funded: bool) {
        let n = ring.len();
        if n < 2 {
            return;
        }
        let x = self.rng.log_uniform(500_000.0, 10_000_000.0);
        let mut amount = if self.rng.chance(0.5) {
            tenge_step(x, 10_000)
        } else {
            money(self.rng, x)
        };
        let member = |k: usize| PartyRef::Home(ring.get((first + k) % n).copied().unwrap_or(0));
        let mut time = self.between(0, 9, 19);
        if funded {
            let funder = self.outsider(0.7);
            let funding = tenge_step(amount as f64 / 100.0 * self.rng.uniform(1.0, 1.1), 1000);
            self.transfer(time, funder, member(0), funding, texts::HUB);
            time += self.rng.range(HOUR, 20 * HOUR);
        }
        for k in 0..n {
            if k > 0 {
                time += self.rng.range(HOUR, 3 * DAY);
                let keep = self.rng.uniform(0.0, 0.05);
                amount = pass_on(self.rng, amount, keep);
            }
            self.transfer(time, member(k), member(k + 1), amount, texts::CYCLE);
        }
    }

    /// Scatter-gather (see [`SchemeKind::ScatterGather`]).
    fn scatter_gather(
        &mut self,
        source: u32,
        middle: &[PartyRef],
        sink: u32,
        span: u32,
        funded: bool,
        exit: Option<PartyRef>,
    ) {
        let (s, t) = (PartyRef::Home(source), PartyRef::Home(sink));
        let x = self.rng.log_uniform(1_000_000.0, 15_000_000.0);
        let total = tenge_step(x, 1000);
        let mut time = self.between(0, 8, 14);
        if funded {
            let funder = self.outsider(0.7);
            let funding = tenge_step(total as f64 / 100.0 * self.rng.uniform(1.0, 1.1), 1000);
            self.transfer(time, funder, s, funding, texts::HUB);
            time += self.rng.range(30 * MINUTE, 6 * HOUR);
        }
        let weights: Vec<f64> = middle.iter().map(|_| self.rng.uniform(0.6, 1.4)).collect();
        let amounts = split(self.rng, total, &weights);
        let window = if span == 0 {
            self.rng.range(HOUR, 8 * HOUR)
        } else {
            i64::from(span) * DAY
        };
        let mut arrivals: Vec<(i64, i64)> = Vec::with_capacity(middle.len());
        for (m, amount) in middle.iter().zip(amounts) {
            let sent = time + self.rng.range(0, window);
            self.transfer(sent, s, *m, amount, texts::HUB);
            // Each intermediary forwards 90–100% an hour to five days later.
            let keep = self.rng.uniform(0.0, 0.10);
            let forward = pass_on(self.rng, amount, keep);
            let at = sent + self.rng.range(HOUR, 5 * DAY);
            self.transfer(at, *m, t, forward, texts::HUB);
            arrivals.push((at, forward));
        }
        if let (Some(to), Some(last)) = (exit, arrivals.iter().map(|(at, _)| *at).max()) {
            let gathered: i64 = arrivals.iter().map(|(_, a)| a).sum();
            let amount = (gathered as f64 * self.rng.uniform(0.8, 0.98)) as i64 / 100_000 * 100_000;
            let at = last + self.rng.range(2 * HOUR, 3 * DAY);
            self.transfer(at, t, to, amount.max(100_000), texts::HUB);
        }
    }

    /// Gather-scatter (see [`SchemeKind::GatherScatter`]).
    fn gather_scatter(
        &mut self,
        hub: u32,
        payers: &[PartyRef],
        payees: &[PartyRef],
        gather: u32,
        scatter: u32,
    ) {
        let me = PartyRef::Home(hub);
        let mut inflows: Vec<(i64, i64)> = Vec::with_capacity(payers.len());
        for payer in payers {
            let offset = self.rng.range_u32(0, gather.max(1) - 1);
            let time = self.people_time(offset);
            let x = self.rng.log_uniform(100_000.0, 2_000_000.0);
            let amount = money(self.rng, x);
            self.transfer(time, *payer, me, amount, texts::HUB);
            inflows.push((time, amount));
        }
        let Some(last_in) = inflows.iter().map(|(t, _)| *t).max() else {
            return;
        };
        let collected: i64 = inflows.iter().map(|(_, a)| a).sum();
        let total = (collected as f64 * self.rng.uniform(0.82, 0.98)) as i64;
        let weights: Vec<f64> = payees.iter().map(|_| self.rng.uniform(0.5, 1.5)).collect();
        let amounts = split(self.rng, total, &weights);
        let window = i64::from(scatter.max(1)) * DAY;
        for (payee, amount) in payees.iter().zip(amounts) {
            let time = last_in + self.rng.range(30 * MINUTE, window);
            self.transfer(time, me, *payee, amount, texts::HUB);
        }
    }

    /// A family passing a sum along (see [`SchemeKind::FamilyRing`]).
    fn family_ring(&mut self, path: &[u32], lead: u32) {
        // The same members send each other ordinary sums in the days
        // before, as families do.
        for pair in path.windows(2) {
            let (Some(&a), Some(&b)) = (pair.first(), pair.get(1)) else {
                continue;
            };
            let offset = self.rng.range_u32(0, lead.saturating_sub(2));
            let time = self.people_time(offset);
            let amount = day::human_amount(self.rng, 2_000.0, 60_000.0);
            self.family_transfer(time, a, b, amount, texts::FAMILY);
        }
        let mut time = self.between(lead, 9, 20);
        let x = self.rng.log_uniform(100_000.0, 2_500_000.0);
        let mut amount = tenge_step(x, if self.rng.chance(0.5) { 10_000 } else { 1_000 });
        for (k, pair) in path.windows(2).enumerate() {
            let (Some(&a), Some(&b)) = (pair.first(), pair.get(1)) else {
                continue;
            };
            if k > 0 {
                time += self.rng.range(HOUR, 2 * DAY);
                if self.rng.chance(0.5) {
                    let keep = self.rng.uniform(0.0, 0.1);
                    amount = pass_on(self.rng, amount, keep);
                }
            }
            self.family_transfer(time, a, b, amount, texts::FAMILY_SUM);
        }
    }

    /// A transfer between family members, from the app.
    fn family_transfer(
        &mut self,
        time: i64,
        from: u32,
        to: u32,
        amount: i64,
        words: &[&'static str],
    ) {
        let device = device_of_party(self.rng, self.pop, PartyRef::Home(from));
        let text = day::text(self.rng, words);
        let confirm = amount > 10_000_000 && self.rng.chance(0.5);
        self.out.push(
            Event::new(
                time,
                TxKind::Transfer,
                Channel::MobileApp,
                amount,
                PartyRef::Home(from),
                PartyRef::Home(to),
            )
            .text(text)
            .device(device)
            .check_if(confirm, Check::AppConfirmation),
        );
    }
}

/// `x` tenge, in tiyn, as people move it: mostly to the thousand,
/// sometimes to the hundred, now and then to the tenge.
fn money(rng: &mut Rng, x: f64) -> i64 {
    match rng.below(20) {
        0..=11 => tenge_step(x, 1000),
        12..=16 => tenge_step(x, 100),
        _ => tenge(x),
    }
}

/// What is passed on of `amount` tiyn after keeping the share `keep`:
/// sometimes rounded down to the thousand tenge.
fn pass_on(rng: &mut Rng, amount: i64, keep: f64) -> i64 {
    let x = (amount as f64 * (1.0 - keep)) as i64;
    let x = if x >= 100_000 && rng.chance(0.4) {
        x / 100_000 * 100_000
    } else {
        x
    };
    x.max(100)
}

/// `total` tiyn split in proportion to `weights`, each share rounded as
/// people round.
fn split(rng: &mut Rng, total: i64, weights: &[f64]) -> Vec<i64> {
    let sum: f64 = weights.iter().sum();
    if sum <= 0.0 {
        return weights.iter().map(|_| 100).collect();
    }
    weights
        .iter()
        .map(|w| money(rng, total as f64 / 100.0 * w / sum))
        .collect()
}

/// Day offsets (sorted) for `n` payments over `span` days, at most
/// `per_day` a day, spread at random. The plan makes `n` fit; should it
/// not, the rest fall on the last day.
fn spread_days(rng: &mut Rng, n: usize, span: u32, per_day: u32) -> Vec<u32> {
    let mut left: Vec<u32> = vec![per_day.max(1); span.max(1) as usize];
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let mut chosen = None;
        for _ in 0..8 {
            let d = rng.index(left.len());
            if left.get(d).is_some_and(|l| *l > 0) {
                chosen = Some(d);
                break;
            }
        }
        let d = chosen
            .or_else(|| left.iter().position(|l| *l > 0))
            .unwrap_or(left.len().saturating_sub(1));
        if let Some(l) = left.get_mut(d) {
            *l = l.saturating_sub(1);
        }
        out.push(d as u32);
    }
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payments_spread_over_days_never_exceed_the_daily_cap() {
        let mut rng = Rng::new(3);
        for (n, span, per_day) in [(25, 13, 2), (7, 5, 3), (40, 10, 4), (5, 15, 1)] {
            let days = spread_days(&mut rng, n, span, per_day);
            assert_eq!(days.len(), n);
            for d in 0..span {
                let on = days.iter().filter(|x| **x == d).count() as u32;
                assert!(on <= per_day, "{n} {span} {per_day}: {on} on day {d}");
            }
            assert!(days.iter().all(|d| *d < span));
        }
    }

    #[test]
    fn a_link_passes_on_at_least_what_it_does_not_keep_less_the_rounding() {
        let mut rng = Rng::new(5);
        for _ in 0..1000 {
            let amount = rng.range(20_000_000, 800_000_000);
            let keep = rng.uniform(0.0, 0.05);
            let passed = pass_on(&mut rng, amount, keep);
            assert!(passed <= amount);
            assert!(passed as f64 >= amount as f64 * (1.0 - keep) - 100_000.0);
        }
    }

    #[test]
    fn shares_add_up_to_about_the_total() {
        let mut rng = Rng::new(7);
        let weights = [0.7, 1.3, 1.0, 0.9, 1.1];
        let total = 500_000_000;
        let parts = split(&mut rng, total, &weights);
        let sum: i64 = parts.iter().sum();
        assert!((sum - total).abs() <= 5 * 50_000, "{sum}");
    }
}
