//! Planning the legitimate look-alikes of the patterns across accounts:
//! marketplaces (many buyers in, the same sellers paid every week: fan-in,
//! fan-out, gather-scatter), landlords (a few tenants' rent moved on to
//! savings or a mortgage: fan-in), savers (salary moved to one's own
//! savings account within hours and sometimes back: a chain, a cycle) and
//! payroll agents (funded by a client company up to a day before each run,
//! paying the same people every month: fan-out, gather-scatter). Families
//! passing a sum round are planned with the patterns.
//!
//! A marketplace's home sellers, a landlord's and a saver's savings account
//! carry the look-alike's role too: a rule that flags them is flagging an
//! honest account.

use super::super::event::PartyRef;
use super::super::rng::Rng;
use super::schemes::Sizes;
use super::{Account, Builder, Employer, ORDINARY_RATE, Plan, Role, round_to, tags};

/// What a marketplace's buyers pay, tenge.
const ORDERS: [(i64, i64); 5] = [
    (1_500, 40_000),  // clothes and cosmetics
    (3_000, 250_000), // electronics
    (2_000, 60_000),  // household goods
    (1_000, 25_000),  // books and toys
    (5_000, 150_000), // furniture and building materials
];

impl Builder<'_> {
    /// A marketplace's stream and its buyers a day and sellers, drawn first
    /// from its own stream so that the volume can be reserved before it is
    /// made.
    fn marketplace_shape(&self, k: u64) -> (Rng, f64, u32) {
        let mut rng = self.rng(tags::LOOKALIKE, &[2, k]);
        // 20 to 200 buyers a day, but never much of a small stream.
        let cap = (self.per_day * 0.012).max(3.0);
        let daily = rng.log_uniform(20.0, 200.0).min(cap);
        let sellers = rng.range_u32(5, 30);
        (rng, daily, sellers)
    }

    /// The transactions the look-alikes are expected to make.
    pub(super) fn lookalikes_expected(&self, sizes: &Sizes) -> f64 {
        let days = f64::from(self.days());
        let months = days / 30.0;
        let mut total = 0.0;
        for k in 0..sizes.marketplaces {
            let (_, daily, sellers) = self.marketplace_shape(k);
            let sellers = f64::from(sellers);
            // Three sellers in five bank here and live ordinary lives.
            total +=
                daily * days + days / 7.0 * (sellers + 1.0) + sellers * 0.6 * ORDINARY_RATE * days;
        }
        // Landlords pay no rent; savers' salaries come with their plan.
        total += sizes.landlords as f64 * (ORDINARY_RATE * 0.9 * days + months * 6.5);
        total += sizes.savers as f64 * (ORDINARY_RATE * 0.9 * days + months * 2.2);
        // Runs a month (1.4), each funded, paying 22 people and the pension
        // fund.
        total += sizes.payroll_agents as f64 * months * 1.4 * 24.0;
        total
    }

    /// Makes the marketplaces, landlords and savers.
    pub(super) fn lookalikes(&mut self, sizes: &Sizes) {
        let start = self.config.start;
        let buyers: Vec<u32> = self
            .pool()
            .into_iter()
            .filter(|i| {
                self.accounts
                    .get(*i as usize)
                    .is_some_and(|a| a.opened < start)
            })
            .collect();
        for k in 0..sizes.marketplaces {
            self.marketplace(k, &buyers);
        }
        // Tenants who bank here: ordinary customers who pay no other rent.
        let mut tenants: Vec<u32> = self
            .accounts
            .iter()
            .enumerate()
            .filter(|(_, a)| {
                a.role == Role::Customer
                    && a.opened < start
                    && a.life
                        .as_ref()
                        .is_some_and(|l| l.rent.is_none() && l.from_day == 0)
            })
            .map(|(i, _)| i as u32)
            .collect();
        let mut trng = self.rng(tags::LOOKALIKE, &[6]);
        trng.shuffle(&mut tenants);
        for k in 0..sizes.landlords {
            self.landlord(k, &mut tenants);
        }
        for k in 0..sizes.savers {
            self.saver(k);
        }
        // Staff of agents' clients who bank here: customers paid by a
        // company elsewhere, now paid through the agent.
        let mut staff: Vec<u32> = self
            .accounts
            .iter()
            .enumerate()
            .filter(|(_, a)| {
                a.role == Role::Customer
                    && a.life
                        .as_ref()
                        .is_some_and(|l| matches!(l.employer, Employer::External(_)))
            })
            .map(|(i, _)| i as u32)
            .collect();
        let mut srng = self.rng(tags::LOOKALIKE, &[8]);
        srng.shuffle(&mut staff);
        for k in 0..sizes.payroll_agents {
            self.payroll_agent(k, &mut staff);
        }
    }

    /// A payroll agent's account: each month a client company funds it up
    /// to a day before the run, and it pays the client's 5–40 people (a
    /// few of them at this bank, most elsewhere), the same people every
    /// month.
    fn payroll_agent(&mut self, k: u64, staff: &mut Vec<u32>) {
        let mut rng = self.rng(tags::LOOKALIKE, &[9, k]);
        let opened = self.opened_within(&mut rng, 2 * 365, 12 * 365);
        let mut account = self.business(&mut rng, Role::Payroll, opened);
        let people = rng.range(5, 40) as usize;
        let home = rng.range(0, 6).min(people as i64) as usize;
        let employees: Vec<u32> = (0..home).filter_map(|_| staff.pop()).collect();
        let outside: Vec<u32> = (employees.len()..people)
            .map(|_| rng.below(u64::from(self.people)) as u32)
            .collect();
        let semi = rng.chance(0.4);
        account.plan = Plan::Payroll {
            employees: employees.clone(),
            outside,
            pay_day: rng.range_u32(5, 10),
            advance_day: if semi { rng.range_u32(20, 25) } else { 0 },
            hour: rng.range_u32(10, 15),
            style: rng.below(3) as u8,
            funder: PartyRef::Business(
                rng.below(u64::from(self.firms.saturating_sub(2)).max(1)) as u32 + 2,
            ),
        };
        let agent = self.push(account);
        for e in employees {
            if let Some(life) = self
                .accounts
                .get_mut(e as usize)
                .and_then(|a| a.life.as_mut())
            {
                life.employer = Employer::Payroll(agent);
            }
        }
    }

    /// A marketplace's settlement account (a company), paid by 20–200
    /// buyers a day, many of them regulars, and paying 5–30 sellers (three
    /// in five of them at this bank) every week.
    fn marketplace(&mut self, k: u64, buyers: &[u32]) {
        let (mut rng, daily, n_sellers) = self.marketplace_shape(k);
        let mut sellers: Vec<(PartyRef, f64)> = Vec::with_capacity(n_sellers as usize);
        for _ in 0..n_sellers {
            let seller = if rng.chance(0.6) {
                let index = self.accounts.len() as u64;
                let mut srng = self.rng(tags::LOOKALIKE, &[7, index]);
                let income = srng.log_uniform(200_000.0, 1_500_000.0) as i64 * 100;
                let opened = self.opened_within(&mut srng, 200, 8 * 365);
                let mut account =
                    self.individual(&mut srng, Role::Marketplace, (22, 55), income, opened);
                account.life = Some(self.ordinary_life(&mut srng, income, false));
                PartyRef::Home(self.push(account))
            } else {
                self.outsider(&mut rng, 0.4)
            };
            sellers.push((seller, rng.log_uniform(1.0, 10.0)));
        }
        let regulars: Vec<PartyRef> = (0..((daily * rng.uniform(3.0, 8.0)) as usize)
            .clamp(10, 2_000))
            .map(|_| match rng.pick(buyers) {
                Some(&b) if rng.chance(0.4) => PartyRef::Home(b),
                _ => PartyRef::Person(rng.below(u64::from(self.people)) as u32),
            })
            .collect();
        let (lo, hi) = *rng.pick(&ORDERS).unwrap_or(&(2_000, 60_000));
        let opened = self.opened_within(&mut rng, 365, 8 * 365);
        let mut account = self.business(&mut rng, Role::Marketplace, opened);
        account.plan = Plan::Marketplace {
            daily,
            ticket: (lo * 100, hi * 100),
            regulars,
            sellers,
            settle_weekday: rng.range_u32(0, 4),
            commission_bp: rng.range_u32(500, 1_500),
        };
        self.push(account);
    }

    /// A second account of the holder of account `main`, for savings: same
    /// IIN, devices, income and city.
    fn savings_account(&mut self, main: u32, rng: &mut Rng) -> u32 {
        let index = self.accounts.len() as u64;
        let opened = self.opened_within(rng, 30, 5 * 365);
        let Some(holder) = self.accounts.get(main as usize) else {
            return main;
        };
        let account = Account {
            id: super::ids::iban(
                self.seed,
                super::HOME_BANK,
                super::AccountClass::Home,
                index,
            ),
            opened: opened.max(holder.opened),
            life: None,
            plan: Plan::None,
            ..holder.clone()
        };
        self.push(account)
    }

    /// Gives account `index` its plan.
    fn set_plan(&mut self, index: u32, plan: Plan) {
        if let Some(a) = self.accounts.get_mut(index as usize) {
            a.plan = plan;
        }
    }

    /// A landlord: 2–8 tenants paying a fixed rent in the first five days
    /// of the month, moved on 1–3 days after the last to the landlord's
    /// savings account (same IIN) or a mortgage.
    fn landlord(&mut self, k: u64, tenants: &mut Vec<u32>) {
        let mut rng = self.rng(tags::LOOKALIKE, &[3, k]);
        let income = rng.log_uniform(300_000.0, 2_000_000.0) as i64 * 100;
        let opened = self.opened_within(&mut rng, 365, 15 * 365);
        let mut account = self.individual(&mut rng, Role::Landlord, (35, 70), income, opened);
        let employed = rng.chance(0.6);
        let mut life = self.ordinary_life(&mut rng, income, employed);
        life.rent = None;
        account.life = Some(life);
        let main = self.push(account);
        let savings = if rng.chance(0.7) {
            Some(self.savings_account(main, &mut rng))
        } else {
            None
        };
        let n = rng.range(2, 8);
        let mut rents: Vec<(PartyRef, i64, u32)> = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let tenant = match tenants.pop() {
                Some(t) if rng.chance(0.4) => PartyRef::Home(t),
                Some(t) => {
                    tenants.push(t);
                    PartyRef::Person(rng.below(u64::from(self.people)) as u32)
                }
                None => PartyRef::Person(rng.below(u64::from(self.people)) as u32),
            };
            let rent = round_to(rng.log_uniform(80_000.0, 450_000.0) as i64 * 100, 500_000);
            rents.push((tenant, rent, rng.range_u32(1, 5)));
        }
        let monthly: i64 = rents.iter().map(|(_, r, _)| r).sum();
        let mortgage = (savings.is_none() || rng.chance(0.35)).then(|| {
            let bank = PartyRef::Business(
                rng.below(u64::from(self.firms.saturating_sub(2)).max(1)) as u32 + 2,
            );
            (
                bank,
                round_to((monthly as f64 * rng.uniform(0.3, 0.8)) as i64, 100_000),
            )
        });
        let plan = Plan::Landlord {
            savings,
            tenants: rents,
            mortgage,
            delay: rng.range_u32(1, 3),
            share: rng.uniform(0.75, 0.95),
        };
        self.set_plan(main, plan);
    }

    /// A saver: salary from a company elsewhere on the current account,
    /// 60–100% of it moved to the savings account (same IIN) within hours,
    /// sometimes some of it back a week later.
    fn saver(&mut self, k: u64) {
        let mut rng = self.rng(tags::LOOKALIKE, &[4, k]);
        let income = rng.log_uniform(250_000.0, 1_500_000.0) as i64 * 100;
        let opened = self.opened_within(&mut rng, 365, 12 * 365);
        let mut account = self.individual(&mut rng, Role::Saver, (23, 60), income, opened);
        let mut life = self.ordinary_life(&mut rng, income, false);
        // The plan pays the salary, so that the saving follows it.
        life.employer = Employer::None;
        life.advance_day = 0;
        account.life = Some(life);
        let main = self.push(account);
        let savings = self.savings_account(main, &mut rng);
        let lo = rng.uniform(0.6, 0.9);
        let plan = Plan::Saver {
            savings,
            employer: rng.below(u64::from(self.firms.saturating_sub(2)).max(1)) as u32 + 2,
            salary: round_to((income as f64 * rng.uniform(0.78, 0.81)) as i64, 100),
            pay_day: rng.range_u32(3, 12),
            advance_day: if rng.chance(0.4) {
                rng.range_u32(18, 26)
            } else {
                0
            },
            share: (lo, (lo + rng.uniform(0.05, 0.3)).min(1.0)),
            back: rng.uniform(0.2, 0.6),
        };
        self.set_plan(main, plan);
    }
}
