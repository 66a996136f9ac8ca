//! Planning the patterns across accounts: who takes part in each of the six
//! network typologies, and on which day each pattern starts (what happens
//! then is `scheme.rs`); and which families pass a sum round.
//!
//! Every home account of a pattern is a new account carrying the
//! pattern's role, made after everyone else so that no existing account
//! moves. About a third of them have a light everyday life (a few card
//! payments, the odd cash withdrawal), as AMLSim's accounts do; the rest
//! are quiet but for the pattern. Numbers scale with the stream's size,
//! with floors so that a small stream still has a few of each; at 200,000
//! transactions each typology has some 40 to 70 labelled accounts.

use super::super::calendar::DAY;
use super::super::event::PartyRef;
use super::super::rng::Rng;
use super::super::scheme::{Exit, Scheme, SchemeKind};
use super::{Builder, Employer, Life, Role, scaled, tags};

/// Days between two chains of one mule, at least: they are weeks apart.
const CHAIN_GAP: u32 = 14;

/// How many of each pattern (or, for chains, mule accounts) and look-alike
/// a stream gets.
#[derive(Debug, Clone, Copy)]
pub(in crate::generator) struct Sizes {
    pub(in crate::generator) chain_mules: u64,
    pub(in crate::generator) fan_in: u64,
    pub(in crate::generator) fan_out: u64,
    pub(in crate::generator) rings: u64,
    pub(in crate::generator) scatter_gather: u64,
    pub(in crate::generator) gather_scatter: u64,
    pub(in crate::generator) marketplaces: u64,
    pub(in crate::generator) landlords: u64,
    pub(in crate::generator) savers: u64,
    pub(in crate::generator) payroll_agents: u64,
}

impl Sizes {
    /// The sizes for a stream of `n` transactions.
    pub(in crate::generator) fn new(n: u64) -> Sizes {
        Sizes {
            chain_mules: scaled(n, 1.0 / 4_000.0, 12),
            fan_in: scaled(n, 1.0 / 30_000.0, 3),
            fan_out: scaled(n, 1.0 / 30_000.0, 3),
            rings: scaled(n, 1.0 / 16_000.0, 4),
            scatter_gather: scaled(n, 1.0 / 30_000.0, 3),
            gather_scatter: scaled(n, 1.0 / 30_000.0, 3),
            marketplaces: scaled(n, 1.0 / 70_000.0, 1),
            landlords: scaled(n, 1.0 / 8_000.0, 4),
            savers: scaled(n, 1.0 / 10_000.0, 4),
            payroll_agents: scaled(n, 1.0 / 8_000.0, 3),
        }
    }
}

/// A light everyday life's expected transactions a day (see
/// [`Builder::light_life`]).
const LIGHT_RATE: f64 = 0.13;

impl Builder<'_> {
    /// The transactions the patterns across accounts and their look-alikes
    /// are expected to make, before they are planned (to size the ordinary
    /// customers who fill the rest of the stream).
    pub(super) fn network_expected(&self, sizes: &Sizes) -> f64 {
        let days = f64::from(self.days());
        let light = days * LIGHT_RATE / 3.0;
        // Mules take part in two chains on average (fewer in a short
        // stream), 4.5 links a chain, 6.3 transactions a chain.
        let repeats = (days / f64::from(CHAIN_GAP)).clamp(1.0, 2.0);
        let chains = sizes.chain_mules as f64 * repeats / 4.5 * 6.3;
        let fan_in = sizes.fan_in as f64 * (24.5 + 8.0 * light);
        let fan_out = sizes.fan_out as f64 * (17.5 + 8.0 * light);
        let rounds = (days / 20.0).clamp(1.0, 1.5);
        let rings = sizes.rings as f64 * (rounds * 5.0 + 4.5 * light);
        let scatter_gather = sizes.scatter_gather as f64 * (17.5 + 8.5 * light);
        let gather_scatter = sizes.gather_scatter as f64 * (16.0 + 9.0 * light);
        let mules = sizes.chain_mules as f64 * light;
        chains
            + fan_in
            + fan_out
            + rings
            + scatter_gather
            + gather_scatter
            + mules
            + self.family_rings_expected()
            + self.lookalikes_expected(sizes)
    }

    /// Plans the patterns across accounts and the look-alikes, making
    /// their accounts.
    pub(super) fn network(&mut self, sizes: &Sizes) {
        // Fraud victims who start a chain: ordinary customers whose
        // account was open before the period.
        let start = self.config.start;
        let victims: Vec<u32> = self
            .accounts
            .iter()
            .enumerate()
            .filter(|(_, a)| {
                a.role == Role::Customer
                    && !a.business
                    && a.opened < start
                    && a.life.as_ref().is_some_and(|l| l.from_day == 0)
            })
            .map(|(i, _)| i as u32)
            .collect();
        self.chains(sizes.chain_mules, &victims);
        self.fan_ins(sizes.fan_in);
        self.fan_outs(sizes.fan_out);
        self.cycles(sizes.rings);
        self.scatter_gathers(sizes.scatter_gather);
        self.gather_scatters(sizes.gather_scatter);
        self.family_rings();
        self.lookalikes(sizes);
    }

    /// A new account of a pattern, opened `days_before` the start: a
    /// person (a third of them with a light everyday life) or, with
    /// `business`, a company.
    fn launderer(&mut self, role: Role, business: bool, days_before: i64) -> u32 {
        let index = self.accounts.len() as u64;
        let mut rng = self.rng(tags::NETWORK, &[100, index]);
        let opened = self.opened(&mut rng, days_before);
        let mut account = if business {
            self.business(&mut rng, role, opened)
        } else {
            let income = if rng.chance(0.5) {
                super::round_to(rng.range(0, 150_000) * 100, 1_000_000)
            } else {
                rng.range(150_000, 700_000) * 100
            };
            let ages = if rng.chance(0.6) { (19, 35) } else { (36, 62) };
            self.individual(&mut rng, role, ages, income, opened)
        };
        if !business && rng.chance(1.0 / 3.0) {
            let mut life = self.light_life(&mut rng);
            life.from_day = self.first_day_open(opened);
            account.life = Some(life);
        }
        self.push(account)
    }

    /// How long before the start a pattern's account was opened: a third
    /// recently (10 to 120 days), the rest one to eight years.
    fn launderer_age(&self, rng: &mut Rng) -> i64 {
        if rng.chance(0.35) {
            rng.range(10, 120)
        } else {
            rng.range(365, 8 * 365)
        }
    }

    /// The first day (since the start) an account opened at `opened` can
    /// be used on.
    fn first_day_open(&self, opened: i64) -> u32 {
        let day = (opened - self.config.start).div_euclid(DAY) + 1;
        u32::try_from(day.max(0)).unwrap_or(0)
    }

    /// A few card payments and the odd cash withdrawal: no salary, no
    /// transfers.
    fn light_life(&self, rng: &mut Rng) -> Life {
        let mut life = self.ordinary_life(rng, 10_000_000, false);
        life.employer = Employer::None;
        life.advance_day = 0;
        life.cards = rng.log_uniform(0.03, 0.25);
        life.atm = rng.log_uniform(0.005, 0.04);
        life.transfers = 0.0;
        life.inbound = 0.0;
        life.topups = 0.0;
        life.crypto = 0.0;
        life.rent = None;
        life.big_topup = None;
        life.near_threshold = None;
        life.trip = None;
        life
    }

    /// A party at another bank: a company with probability `firm_share`,
    /// else a person.
    pub(super) fn outsider(&self, rng: &mut Rng, firm_share: f64) -> PartyRef {
        if rng.chance(firm_share) {
            PartyRef::Business(rng.below(u64::from(self.firms.saturating_sub(2)).max(1)) as u32 + 2)
        } else {
            PartyRef::Person(rng.below(u64::from(self.people)) as u32)
        }
    }

    /// A home account of a pattern with probability `home_share`, else a
    /// party at another bank.
    fn member_or_outsider(&mut self, rng: &mut Rng, role: Role, home_share: f64) -> PartyRef {
        if rng.chance(home_share) {
            let age = self.launderer_age(rng);
            PartyRef::Home(self.launderer(role, false, age))
        } else {
            self.outsider(rng, 0.3)
        }
    }

    /// Layering chains: every mule takes part in one to three chains,
    /// weeks apart, in different places along them; its account was
    /// opened 1–90 days before its first.
    fn chains(&mut self, total: u64, victims: &[u32]) {
        let mut rng = self.rng(tags::NETWORK, &[1]);
        let mules: Vec<u32> = (0..total)
            .map(|_| self.launderer(Role::ChainMule, false, 0))
            .collect();
        let caps: Vec<u32> = mules
            .iter()
            .map(|_| *rng.weighted(&[(40, 1u32), (35, 2), (25, 3)]).unwrap_or(&1))
            .collect();
        // Each mule's chains so far: the day and its place in the chain.
        let mut taken: Vec<Vec<(u32, usize)>> = vec![Vec::new(); mules.len()];
        let mut chains: Vec<(u32, Vec<usize>)> = Vec::new();
        let mut order: Vec<usize> = (0..mules.len()).collect();
        rng.shuffle(&mut order);
        for group in groups(&mut rng, &order) {
            let day = self.some_day(&mut rng, 1);
            chains.push((day, place(&mut rng, day, group, &mut taken)));
        }
        for wave in 2..=3 {
            let mut again: Vec<usize> = (0..mules.len())
                .filter(|m| caps.get(*m).is_some_and(|c| *c >= wave))
                .collect();
            // Mules whose chains were on nearby days go together, so a
            // day weeks from all of them is easy to find.
            again.sort_by_key(|m| taken.get(*m).and_then(|t| t.last()).map_or(0, |t| t.0));
            for group in groups(&mut rng, &again) {
                let free = |d: u32, taken: &[Vec<(u32, usize)>]| {
                    group.iter().all(|m| {
                        taken
                            .get(*m)
                            .is_none_or(|t| t.iter().all(|(x, _)| x.abs_diff(d) >= CHAIN_GAP))
                    })
                };
                let mut chosen = None;
                for _ in 0..30 {
                    let d = self.some_day(&mut rng, 1);
                    if free(d, &taken) {
                        chosen = Some(d);
                        break;
                    }
                }
                if let Some(day) = chosen {
                    chains.push((day, place(&mut rng, day, group, &mut taken)));
                }
            }
        }
        // Opened 1–90 days before the first chain: often during the
        // period itself.
        for (k, mule) in mules.iter().enumerate() {
            let first = taken
                .get(k)
                .and_then(|t| t.iter().map(|(d, _)| *d).min())
                .unwrap_or(0);
            let before = rng.range(1, 90) - i64::from(first);
            let mut orng = self.rng(tags::NETWORK, &[101, u64::from(*mule)]);
            let opened = self.opened(&mut orng, before);
            let from_day = self.first_day_open(opened);
            if let Some(a) = self.accounts.get_mut(*mule as usize) {
                a.opened = opened;
                if let Some(life) = a.life.as_mut() {
                    life.from_day = from_day;
                }
            }
        }
        for (day, members) in chains {
            let origin = match rng.pick(victims) {
                Some(&v) if rng.chance(0.45) => PartyRef::Home(v),
                _ => PartyRef::Person(rng.below(u64::from(self.people)) as u32),
            };
            let exit = match rng.weighted(&[(40, 0u8), (30, 1), (30, 2)]) {
                Some(0) => Exit::Cash,
                Some(1) => Exit::Crypto,
                _ => Exit::Account(self.outsider(&mut rng, 0.1)),
            };
            self.schemes.push(Scheme {
                day,
                kind: SchemeKind::Chain {
                    origin,
                    parts: if rng.chance(0.2) { 2 } else { 1 },
                    mules: members
                        .iter()
                        .filter_map(|k| mules.get(*k).copied())
                        .collect(),
                    exit,
                },
            });
        }
    }

    /// Collectors: 5–25 payers (about half of them home accounts of the
    /// pattern), 1–3 payments each, 2–3 a day at most, over 5–20 days.
    fn fan_ins(&mut self, total: u64) {
        for k in 0..total {
            let mut rng = self.rng(tags::NETWORK, &[2, k]);
            let per_day = rng.range_u32(2, 3);
            let longest = self.days().saturating_sub(5).clamp(1, 20);
            let mut n = rng.range_u32(5, 25);
            let span = rng.range_u32(5, 20).max(n.div_ceil(per_day)).min(longest);
            n = n.min(per_day * span);
            let age = self.launderer_age(&mut rng);
            let business = rng.chance(0.25);
            let hub = self.launderer(Role::FanIn, business, age);
            let mut feeders: Vec<(PartyRef, u32)> = Vec::with_capacity(n as usize);
            for _ in 0..n {
                let who = self.member_or_outsider(&mut rng, Role::FanIn, 0.5);
                let times = *rng.weighted(&[(60, 1u32), (28, 2), (12, 3)]).unwrap_or(&1);
                feeders.push((who, times));
            }
            // No more payments than the hub takes in the span.
            let cap = per_day * span;
            while feeders.iter().map(|(_, t)| *t).sum::<u32>() > cap {
                match feeders.iter_mut().max_by_key(|(_, t)| *t) {
                    Some((_, t)) if *t > 1 => *t -= 1,
                    _ => break,
                }
            }
            let destinations = if rng.chance(0.6) { 1 } else { 2 };
            let outs: Vec<Exit> = (0..destinations)
                .map(|_| {
                    if rng.chance(0.25) {
                        Exit::Cash
                    } else {
                        Exit::Account(self.outsider(&mut rng, 0.5))
                    }
                })
                .collect();
            let transfers_out = rng.range_u32(destinations, 3);
            let day = self.some_day(&mut rng, span + 4);
            self.schemes.push(Scheme {
                day,
                kind: SchemeKind::FanIn {
                    hub,
                    feeders,
                    span,
                    per_day,
                    outs,
                    transfers_out,
                },
            });
        }
    }

    /// Distributors: funded with 1–20 million tenge, pay 5–25 payees
    /// (about half of them home accounts of the pattern), 1–4 a day, over
    /// 3–15 days.
    fn fan_outs(&mut self, total: u64) {
        for k in 0..total {
            let mut rng = self.rng(tags::NETWORK, &[3, k]);
            let per_day = rng.range_u32(1, 4);
            let longest = self.days().saturating_sub(3).clamp(1, 15);
            let mut n = rng.range_u32(5, 25);
            let span = rng.range_u32(3, 15).max(n.div_ceil(per_day)).min(longest);
            n = n.min(per_day * span);
            let age = self.launderer_age(&mut rng);
            let business = rng.chance(0.25);
            let hub = self.launderer(Role::FanOut, business, age);
            let source = if rng.chance(0.35) {
                let age = self.launderer_age(&mut rng);
                let business = rng.chance(0.4);
                PartyRef::Home(self.launderer(Role::FanOut, business, age))
            } else {
                self.outsider(&mut rng, 0.6)
            };
            let payees: Vec<PartyRef> = (0..n)
                .map(|_| self.member_or_outsider(&mut rng, Role::FanOut, 0.5))
                .collect();
            let parts = if rng.chance(0.35) { 2 } else { 1 };
            let day = self.some_day(&mut rng, span + 2);
            self.schemes.push(Scheme {
                day,
                kind: SchemeKind::FanOut {
                    hub,
                    source,
                    parts,
                    payees,
                    span,
                    per_day,
                },
            });
        }
    }

    /// Rings of 3–6 accounts passing money round 1–3 times over the
    /// period, each round from a member chosen afresh.
    fn cycles(&mut self, total: u64) {
        let days = self.days();
        for k in 0..total {
            let mut rng = self.rng(tags::NETWORK, &[4, k]);
            let size = rng.range(3, 6) as usize;
            let ring: Vec<u32> = (0..size)
                .map(|_| {
                    let age = self.launderer_age(&mut rng);
                    let business = rng.chance(0.3);
                    self.launderer(Role::Cycle, business, age)
                })
                .collect();
            let rounds = *rng.weighted(&[(40, 1u32), (35, 2), (25, 3)]).unwrap_or(&1);
            // A round takes at most three days a hop; rounds do not overlap.
            let longest = size as u32 * 3 + 2;
            let segment = days / rounds;
            for round in 0..rounds {
                let day = if segment > longest + 1 {
                    round * segment + rng.range_u32(0, segment - longest - 1)
                } else if round == 0 {
                    self.some_day(&mut rng, longest)
                } else {
                    break;
                };
                self.schemes.push(Scheme {
                    day,
                    kind: SchemeKind::Cycle {
                        ring: ring.clone(),
                        first: rng.index(size),
                        funded: rng.chance(0.5),
                    },
                });
            }
        }
    }

    /// Scatter-gather: a source, 4–12 intermediaries (most of them home
    /// accounts of the pattern), a sink.
    fn scatter_gathers(&mut self, total: u64) {
        for k in 0..total {
            let mut rng = self.rng(tags::NETWORK, &[5, k]);
            let n = rng.range(4, 12);
            let age = self.launderer_age(&mut rng);
            let business = rng.chance(0.25);
            let source = self.launderer(Role::ScatterGather, business, age);
            let middle: Vec<PartyRef> = (0..n)
                .map(|_| self.member_or_outsider(&mut rng, Role::ScatterGather, 0.8))
                .collect();
            let age = self.launderer_age(&mut rng);
            let business = rng.chance(0.25);
            let sink = self.launderer(Role::ScatterGather, business, age);
            let span = rng.range_u32(0, 2);
            let funded = rng.chance(0.6);
            let exit = rng.chance(0.5).then(|| self.outsider(&mut rng, 0.5));
            let day = self.some_day(&mut rng, span + 9);
            self.schemes.push(Scheme {
                day,
                kind: SchemeKind::ScatterGather {
                    source,
                    middle,
                    sink,
                    span,
                    funded,
                    exit,
                },
            });
        }
    }

    /// Gather-scatter: 4–12 payers into a hub over 1–7 days, then 4–12
    /// payees over 1–7 days; about half of each are home accounts of the
    /// pattern.
    fn gather_scatters(&mut self, total: u64) {
        for k in 0..total {
            let mut rng = self.rng(tags::NETWORK, &[6, k]);
            let age = self.launderer_age(&mut rng);
            let business = rng.chance(0.25);
            let hub = self.launderer(Role::GatherScatter, business, age);
            let payers: Vec<PartyRef> = (0..rng.range(4, 12))
                .map(|_| self.member_or_outsider(&mut rng, Role::GatherScatter, 0.5))
                .collect();
            let payees: Vec<PartyRef> = (0..rng.range(4, 12))
                .map(|_| self.member_or_outsider(&mut rng, Role::GatherScatter, 0.5))
                .collect();
            let gather = rng.range_u32(1, 7);
            let scatter = rng.range_u32(1, 7);
            let day = self.some_day(&mut rng, gather + scatter + 1);
            self.schemes.push(Scheme {
                day,
                kind: SchemeKind::GatherScatter {
                    hub,
                    payers,
                    payees,
                    gather,
                    scatter,
                },
            });
        }
    }

    /// The share of families that pass a sum round, and how.
    fn family_rings_expected(&self) -> f64 {
        // 40% of families, 1.3 sums each, three or four hops, as many
        // ordinary transfers before.
        let families = self.families.len() as f64;
        families * 0.4 * 1.3 * 2.0 * 3.4
    }

    /// Some families (two in five) pass a larger sum along A→B→C (and
    /// sometimes back to A) once or twice, after ordinary transfers along
    /// the same pairs in the days before.
    fn family_rings(&mut self) {
        for g in 0..self.families.len() {
            let mut rng = self.rng(tags::LOOKALIKE, &[1, g as u64]);
            if !rng.chance(0.4) {
                continue;
            }
            let Some(family) = self.families.get(g) else {
                continue;
            };
            let mut members = family.members.clone();
            if members.len() < 3 {
                continue;
            }
            let rings = if rng.chance(0.3) { 2 } else { 1 };
            let mut last: Option<(u32, u32)> = None;
            for _ in 0..rings {
                rng.shuffle(&mut members);
                let distinct = if members.len() >= 4 && rng.chance(0.3) {
                    4
                } else {
                    3
                };
                let mut path: Vec<u32> = members.iter().take(distinct).copied().collect();
                if rng.chance(0.4)
                    && let Some(&first) = path.first()
                {
                    path.push(first);
                }
                let lead = rng.range_u32(7, 12);
                let tail = lead + 2 * path.len() as u32 + 1;
                let day = self.some_day(&mut rng, tail);
                if last.is_some_and(|(d, t)| day.abs_diff(d) < t.max(tail)) {
                    continue;
                }
                last = Some((day, tail));
                self.schemes.push(Scheme {
                    day,
                    kind: SchemeKind::FamilyRing { path, lead },
                });
            }
        }
    }
}

/// `ids` cut into groups of 3 to 6 (none left over, unless fewer than 3).
fn groups(rng: &mut Rng, ids: &[usize]) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    let mut rest = ids;
    while rest.len() >= 3 {
        let left = rest.len();
        let mut size = (rng.range(3, 6) as usize).min(left);
        if left - size > 0 && left - size < 3 {
            size = if left <= 6 { left } else { left - 3 };
        }
        let (group, tail) = rest.split_at(size.min(left));
        out.push(group.to_vec());
        rest = tail;
    }
    out
}

/// Orders a chain's mules so that, as far as a few shuffles can, none
/// stands where it stood in an earlier chain, and records the chain.
fn place(
    rng: &mut Rng,
    day: u32,
    mut group: Vec<usize>,
    taken: &mut [Vec<(u32, usize)>],
) -> Vec<usize> {
    for _ in 0..8 {
        rng.shuffle(&mut group);
        let repeats = group.iter().enumerate().any(|(pos, m)| {
            taken
                .get(*m)
                .is_some_and(|t| t.iter().any(|(_, p)| *p == pos))
        });
        if !repeats {
            break;
        }
    }
    for (pos, m) in group.iter().enumerate() {
        if let Some(t) = taken.get_mut(*m) {
            t.push((day, pos));
        }
    }
    group
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_groups_have_three_to_six_mules_and_leave_none_over() {
        let mut rng = Rng::new(9);
        for n in 3..60 {
            let ids: Vec<usize> = (0..n).collect();
            let groups = groups(&mut rng, &ids);
            assert!(groups.iter().all(|g| (3..=6).contains(&g.len())), "{n}");
            assert_eq!(groups.iter().map(Vec::len).sum::<usize>(), n);
        }
    }

    #[test]
    fn sizes_have_floors_for_small_streams() {
        let s = Sizes::new(1000);
        assert!(s.chain_mules >= 12 && s.fan_in >= 3 && s.rings >= 4);
        let s = Sizes::new(200_000);
        assert_eq!(s.chain_mules, 50);
    }
}
