//! Legitimate behaviour: ordinary customers' days, and the look-alikes
//! that a careless rule mistakes for crime.
//!
//! - a payroll account is funded from another bank up to a day before each
//!   run (by the company itself, or by the client company when it is a
//!   payroll agent's) and pays the same 20–200 people within the hour,
//!   every month: fan-out, gather-scatter and pass-through, like a mule's
//!   cash-out or a distributor;
//! - a merchant takes 20–150 payments a day from strangers: fan-in, like a
//!   mule's victims, but it settles weekly, not within minutes;
//! - a family moves money back and forth among 3–5 accounts, some from a
//!   shared tablet: shared devices, like a device farm; some families now
//!   and then pass a larger sum along (see `scheme.rs`): a chain or a
//!   cycle;
//! - a student gets 10–30 small gifts from different people on a birthday:
//!   many distinct senders in a day, often on a recently opened account;
//! - a trader reselling goods through a personal card is paid by 10–40
//!   customers and pays 5–25 suppliers on the same day, keeping 8–35% of
//!   the takings: the two-sided flow and low residual of a shadow exchanger,
//!   but in business hours, at shop prices rather than USDT lots.

use super::calendar::{self, DAY};
use super::day::{
    self, DayInfo, PEOPLE_HOURS, counterparty, device_of, device_of_party, human_amount, price,
    tenge, tenge_step, time_from,
};
use super::event::{Event, OWN_BASE, PartyRef, Remit, Sink};
use super::population::{
    Account, Employer, Life, PENSION_CONTRIBUTIONS, PENSION_FUND, Plan, Population, tags,
};
use super::rng::Rng;
use super::texts;
use qorgan::transaction::{Channel, Check, TxKind};

/// Shared state of one actor's day.
pub(crate) struct Actor<'a> {
    pub(crate) pop: &'a Population,
    pub(crate) day: &'a DayInfo,
    /// The account's index.
    pub(crate) index: u32,
    pub(crate) account: &'a Account,
}

impl Actor<'_> {
    fn me(&self) -> PartyRef {
        PartyRef::Home(self.index)
    }

    /// The holder's own account at another bank.
    fn own_elsewhere(&self) -> PartyRef {
        if self.account.business {
            PartyRef::Business(OWN_BASE + self.index)
        } else {
            PartyRef::Person(OWN_BASE + self.index)
        }
    }
}

/// An individual's ordinary day: card payments, transfers, cash, top-ups,
/// salary, rent, the odd crypto purchase.
pub(crate) fn life_day(a: &Actor<'_>, life: &Life, rng: &mut Rng, out: &mut Sink<'_>) {
    let day = a.day;
    if day.index < life.from_day {
        return;
    }
    let weekend = match day.weekday {
        5 => 1.2,
        6 => 1.1,
        _ => 0.95,
    };
    let abroad = !day.look_back
        && life
            .trip
            .is_some_and(|(first, len, _)| (first..first + len).contains(&day.index));
    for _ in 0..rng.poisson(life.cards * weekend) {
        out.push(card_payment(a, life, rng, abroad));
    }
    for _ in 0..rng.poisson(life.transfers) {
        let time = time_from(rng, day, &PEOPLE_HOURS);
        let to = match rng.pick(&life.friends) {
            Some(f) if rng.chance(0.7) => *f,
            _ => counterparty(rng, a.pop, 0.3, time, a.index),
        };
        let amount = human_amount(rng, 1_000.0, 150_000.0);
        let channel = if rng.chance(0.85) {
            Channel::MobileApp
        } else {
            Channel::InternetBanking
        };
        out.push(
            Event::new(time, TxKind::Transfer, channel, amount, a.me(), to)
                .text(day::text(rng, texts::FRIENDS))
                .device(device_of(rng, a.account))
                .check_if(
                    amount > 10_000_000 && rng.chance(0.5),
                    Check::AppConfirmation,
                ),
        );
    }
    for _ in 0..rng.poisson(life.inbound) {
        let time = time_from(rng, day, &PEOPLE_HOURS);
        let from = match rng.pick(&life.friends) {
            Some(PartyRef::Person(p)) if rng.chance(0.7) => PartyRef::Person(*p),
            _ => day::person(rng, a.pop),
        };
        let amount = human_amount(rng, 1_000.0, 120_000.0);
        out.push(
            Event::new(time, TxKind::Transfer, Channel::Api, amount, from, a.me())
                .text(day::text(rng, texts::FRIENDS)),
        );
    }
    for _ in 0..rng.poisson(life.atm) {
        out.push(cash(a, rng));
    }
    for _ in 0..rng.poisson(life.topups) {
        let amount = human_amount(rng, 5_000.0, 300_000.0);
        out.push(topup(a, life, rng, amount));
    }
    if !day.look_back && life.big_topup == Some(day.index) {
        let amount = tenge_step(rng.log_uniform(510_000.0, 3_000_000.0), 10_000);
        out.push(topup(a, life, rng, amount));
    }
    if let Some((d, n)) = life.near_threshold
        && d == day.index
        && !day.look_back
    {
        // A car or a renovation paid in one or two large transfers.
        let payee = day::firm(rng, a.pop);
        let mut time = day.at_local(rng.range(10 * 60, 17 * 60));
        for _ in 0..n {
            let amount = tenge_step(rng.uniform(450_000.0, 499_000.0), 1000);
            out.push(
                Event::new(
                    time,
                    TxKind::Transfer,
                    Channel::MobileApp,
                    amount,
                    a.me(),
                    payee,
                )
                .text(day::text(
                    rng,
                    &[
                        "за машину",
                        "ремонт квартиры",
                        "предоплата",
                        "за мебель",
                        "",
                    ],
                ))
                .device(device_of(rng, a.account))
                .check(Check::AppConfirmation),
            );
            time += rng.range(30 * 60, 4 * 3600);
        }
    }
    for _ in 0..rng.poisson(life.crypto) {
        let time = time_from(rng, day, &PEOPLE_HOURS);
        let vasp = day::platform(rng, 0.03);
        let amount = human_amount(rng, 10_000.0, 500_000.0);
        let event = if rng.chance(0.8) {
            Event::new(
                time,
                TxKind::CryptoPurchase,
                Channel::MobileApp,
                amount,
                a.me(),
                vasp,
            )
            .device(device_of(rng, a.account))
        } else {
            Event::new(time, TxKind::CryptoSale, Channel::Api, amount, vasp, a.me())
        };
        out.push(event.text(day::text(rng, texts::CRYPTO)));
    }
    salary(a, life, rng, out);
    if let Some((due, amount, payee)) = life.rent
        && day.is_due(due)
    {
        let time = time_from(rng, day, &PEOPLE_HOURS);
        out.push(
            Event::new(
                time,
                TxKind::Transfer,
                Channel::MobileApp,
                amount,
                a.me(),
                payee,
            )
            .text(day::text(rng, texts::BILLS))
            .device(device_of(rng, a.account)),
        );
    }
}

fn card_payment(a: &Actor<'_>, life: &Life, rng: &mut Rng, abroad: bool) -> Event {
    let time = time_from(rng, a.day, &PEOPLE_HOURS);
    if abroad
        && rng.chance(0.6)
        && let Some((_, _, foreign)) = life.trip
    {
        let cents = (rng.log_uniform(3.0, 400.0) * 100.0).round() as i64;
        let shop =
            foreign.wrapping_add(rng.below(2) as u16) % texts::FOREIGN_MERCHANTS.len() as u16;
        return Event::new(
            time,
            TxKind::CardPayment,
            Channel::Pos,
            cents,
            a.me(),
            PartyRef::Foreign(shop),
        )
        .remit(Remit::Foreign(shop))
        .usd();
    }
    let shop = if rng.chance(0.75) {
        *rng.pick(&life.shops).unwrap_or(&0)
    } else {
        rng.below(texts::MERCHANTS.len() as u64 * 25) as u32
    };
    let amount = if rng.chance(0.03) {
        price(rng, 50_000.0, 400_000.0)
    } else {
        price(rng, 400.0, 40_000.0)
    };
    let online = rng.chance(0.2);
    let channel = if online {
        Channel::MobileApp
    } else {
        Channel::Pos
    };
    Event::new(
        time,
        TxKind::CardPayment,
        channel,
        amount,
        a.me(),
        PartyRef::Merchant(shop),
    )
    .remit(Remit::Merchant(
        (shop as usize % texts::MERCHANTS.len()) as u16,
    ))
    .device(if online {
        device_of(rng, a.account)
    } else {
        None
    })
}

/// Cash out at an ATM (or a branch), sometimes cash in.
fn cash(a: &Actor<'_>, rng: &mut Rng) -> Event {
    let time = time_from(rng, a.day, &PEOPLE_HOURS);
    let x = rng.log_uniform(5_000.0, 200_000.0);
    let amount = if x > 20_000.0 {
        tenge_step(x, 5_000)
    } else {
        tenge_step(x, 1_000)
    };
    let branch = rng.chance(0.1);
    let channel = if branch {
        Channel::Branch
    } else {
        Channel::Atm
    };
    let event = if rng.chance(0.15) {
        Event::new(time, TxKind::CashDeposit, channel, amount, a.me(), a.me())
    } else {
        Event::new(
            time,
            TxKind::CashWithdrawal,
            channel,
            amount,
            a.me(),
            day::atm(rng, a.account.city),
        )
    };
    event.check_if(branch || rng.chance(0.85), Check::Biometric)
}

/// A card top-up: onto one's card elsewhere or a relative's, or onto this
/// account from one's card elsewhere.
fn topup(a: &Actor<'_>, life: &Life, rng: &mut Rng, amount: i64) -> Event {
    let time = time_from(rng, a.day, &PEOPLE_HOURS);
    let large = amount > 50_000_000;
    let outbound = rng.chance(0.5);
    let event = if outbound {
        let to = match rng.pick(&life.friends) {
            Some(f) if rng.chance(0.3) => *f,
            _ => a.own_elsewhere(),
        };
        Event::new(
            time,
            TxKind::CardTopup,
            Channel::MobileApp,
            amount,
            a.me(),
            to,
        )
        .device(device_of(rng, a.account))
    } else {
        Event::new(
            time,
            TxKind::CardTopup,
            Channel::Api,
            amount,
            a.own_elsewhere(),
            a.me(),
        )
    };
    event
        .text(day::text(rng, texts::TOPUP))
        .check_if(large && rng.chance(0.85), Check::SenderIin)
        .check_if(rng.chance(0.5), Check::RecipientIin)
}

/// Salary from a company banking elsewhere, or a pension.
fn salary(a: &Actor<'_>, life: &Life, rng: &mut Rng, out: &mut Sink<'_>) {
    let day = a.day;
    let (from, style) = match life.employer {
        Employer::External(firm) => (PartyRef::Business(firm), (firm % 3) as u8),
        Employer::Pension => (PartyRef::Business(PENSION_FUND), 0),
        Employer::None | Employer::Payroll(_) => return,
    };
    let time = day.at_local(rng.range(9 * 60, 13 * 60)) + rng.range(0, 59);
    let advance = pay_split(life.salary, life.advance_day);
    if day.is_due(life.pay_day) {
        let (month, year) = day.previous_month();
        let remit = if life.employer == Employer::Pension {
            Remit::Text("пенсионные выплаты")
        } else {
            Remit::Salary {
                style,
                advance: false,
                month,
                year,
            }
        };
        out.push(
            Event::new(
                time,
                TxKind::Transfer,
                Channel::Api,
                life.salary - advance,
                from,
                a.me(),
            )
            .remit(remit),
        );
    }
    if advance > 0 && day.is_due(life.advance_day) {
        let (month, year) = day.this_month();
        out.push(
            Event::new(time, TxKind::Transfer, Channel::Api, advance, from, a.me()).remit(
                Remit::Salary {
                    style,
                    advance: true,
                    month,
                    year,
                },
            ),
        );
    }
}

/// The advance out of a monthly salary: 40%, to the thousand tenge; 0
/// when there is no advance day.
pub(crate) fn pay_split(salary: i64, advance_day: u32) -> i64 {
    if advance_day == 0 {
        return 0;
    }
    let advance = (salary * 2 / 5) / 100_000 * 100_000;
    advance.clamp(0, salary - 100)
}

/// A payroll account's day: every run is funded from another bank up to a
/// day before it (by the company itself, or by the client company when a
/// payroll agent pays), then the same employees are paid within the hour.
pub(crate) fn payroll_day(a: &Actor<'_>, plan: &Plan, rng: &mut Rng, out: &mut Sink<'_>) {
    let Plan::Payroll { style, funder, .. } = plan else {
        return;
    };
    let day = a.day;
    // Funding for today's run and tomorrow's, whichever falls today.
    let tomorrow = DayInfo::new(day.start, 1, day.usdt);
    for (target, when) in [(day, 0u32), (&tomorrow, 1)] {
        if when == 1 && day.index + 1 >= a.pop.days {
            continue;
        }
        let Some(advance_run) = run_today(plan, target) else {
            continue;
        };
        let (start, funded, factor) = run_timing(a, plan, day.index + when);
        let today = funded >= day.start && funded < day.start + DAY;
        // The first day's funding before the stream began is made at once.
        let first = when == 0 && day.index == 0 && !day.look_back && funded < day.start;
        if !(today || first) || funded >= start {
            continue;
        }
        let total: i64 = payouts(a, plan, advance_run).iter().map(|(_, x)| x).sum();
        if total <= 0 {
            continue;
        }
        let funding = (total as f64 * factor) as i64 / 100_000 * 100_000 + 100_000;
        out.push(
            Event::new(
                funded.max(day.start),
                TxKind::Transfer,
                Channel::Api,
                funding,
                *funder,
                a.me(),
            )
            .text(day::text(
                rng,
                &[
                    "перевод собственных средств",
                    "на выплату заработной платы",
                    "пополнение счета",
                    "финансирование зарплатного проекта",
                ],
            )),
        );
    }
    let Some(advance_run) = run_today(plan, day) else {
        return;
    };
    let (month, year) = if advance_run {
        day.this_month()
    } else {
        day.previous_month()
    };
    let payouts = payouts(a, plan, advance_run);
    if payouts.is_empty() {
        return;
    }
    let total: i64 = payouts.iter().map(|(_, x)| x).sum();
    let (start, _, _) = run_timing(a, plan, day.index);
    let mut time = start;
    for (to, amount) in payouts {
        out.push(
            Event::new(time, TxKind::Transfer, Channel::Api, amount, a.me(), to).remit(
                Remit::Salary {
                    style: *style,
                    advance: advance_run,
                    month,
                    year,
                },
            ),
        );
        time += rng.range(2, 16);
    }
    if !advance_run {
        out.push(
            Event::new(
                time + rng.range(60, 900),
                TxKind::Transfer,
                Channel::Api,
                tenge_step(total as f64 / 100.0 * 0.125, 1),
                a.me(),
                PartyRef::Business(PENSION_CONTRIBUTIONS),
            )
            .text("обязательные пенсионные взносы"),
        );
    }
}

/// Whether a payroll runs on `day`: `Some(true)` for the advance,
/// `Some(false)` for the final pay.
fn run_today(plan: &Plan, day: &DayInfo) -> Option<bool> {
    let Plan::Payroll {
        pay_day,
        advance_day,
        ..
    } = plan
    else {
        return None;
    };
    let advance_run = *advance_day > 0 && day.is_due(*advance_day);
    (day.is_due(*pay_day) || advance_run).then_some(advance_run)
}

/// When a payroll run on day `index` starts, when it is funded (5 minutes
/// to 24 hours before), and by how much more than the run (0–4%): from a
/// stream of the account and the day, so that the day before can fund it.
fn run_timing(a: &Actor<'_>, plan: &Plan, index: u32) -> (i64, i64, f64) {
    let hour = match plan {
        Plan::Payroll { hour, .. } => *hour,
        _ => 10,
    };
    let mut rng = Rng::derive(
        a.pop.seed,
        &[tags::PAYROLL, u64::from(a.index), u64::from(index)],
    );
    let day_start = a.day.start + (i64::from(index) - i64::from(a.day.index)) * DAY;
    let local = i64::from(hour) * 60 + rng.range(0, 20);
    let start = day_start + (local * 60 - (day_start + calendar::LOCAL_OFFSET)).rem_euclid(DAY);
    let lead = if rng.chance(0.5) {
        rng.range(5 * 60, 3 * 3600)
    } else {
        rng.range(3 * 3600, 24 * 3600)
    };
    (start, start - lead, rng.uniform(1.0, 1.04))
}

/// Who a payroll run pays and how much: the same employees every month.
fn payouts(a: &Actor<'_>, plan: &Plan, advance_run: bool) -> Vec<(PartyRef, i64)> {
    let Plan::Payroll {
        employees,
        outside,
        advance_day,
        ..
    } = plan
    else {
        return Vec::new();
    };
    let mut payouts: Vec<(PartyRef, i64)> = Vec::with_capacity(employees.len() + outside.len());
    for e in employees {
        let Some(life) = a.pop.account(*e).and_then(|acc| acc.life.as_ref()) else {
            continue;
        };
        let advance = pay_split(life.salary, *advance_day);
        let amount = if advance_run {
            advance
        } else {
            life.salary - advance
        };
        if amount > 0 {
            payouts.push((PartyRef::Home(*e), amount));
        }
    }
    for p in outside {
        let monthly = tenge_step(
            150_000.0 + (super::rng::hash(a.pop.seed, &[0x5A1, u64::from(*p)]) % 450_000) as f64,
            100,
        );
        let advance = pay_split(monthly, *advance_day);
        let amount = if advance_run {
            advance
        } else {
            monthly - advance
        };
        if amount > 0 {
            payouts.push((PartyRef::Person(*p), amount));
        }
    }
    payouts
}

/// A merchant's day: payments from many people in opening hours, and on
/// one weekday the week's takings moved out.
pub(crate) fn merchant_day(
    a: &Actor<'_>,
    plan: &Plan,
    takings: &mut i64,
    rng: &mut Rng,
    out: &mut Sink<'_>,
) {
    let Plan::Merchant {
        daily,
        ticket,
        qr,
        settle_weekday,
        own_payout,
        supplier,
        hours,
        sunday,
    } = plan
    else {
        return;
    };
    let day = a.day;
    let open = day.weekday != 6 || *sunday;
    if open {
        let busy = match day.weekday {
            4 => 1.1,
            5 => 1.25,
            6 => 0.9,
            _ => 0.95,
        };
        let (from, to) = (i64::from(hours.0) * 60, i64::from(hours.1) * 60);
        for _ in 0..rng.poisson(daily * busy) {
            let time = day.at_local(rng.range(from, to - 1)) + rng.range(0, 59);
            let payer = counterparty(rng, a.pop, 0.35, time, a.index);
            let transfer = if *qr {
                rng.chance(0.85)
            } else {
                rng.chance(0.15)
            };
            let lo = ticket.0 as f64 / 100.0;
            let hi = ticket.1 as f64 / 100.0;
            let event = if transfer {
                let amount = if rng.chance(0.4) {
                    tenge_step(rng.log_uniform(lo, hi), 100)
                } else {
                    price(rng, lo, hi)
                };
                let (channel, device) = match payer {
                    PartyRef::Home(_) => (Channel::MobileApp, device_of_party(rng, a.pop, payer)),
                    _ => (Channel::Api, None),
                };
                Event::new(time, TxKind::Transfer, channel, amount, payer, a.me())
                    .text(day::text(rng, texts::SHOP_TRANSFERS))
                    .device(device)
            } else {
                Event::new(
                    time,
                    TxKind::CardPayment,
                    Channel::Pos,
                    price(rng, lo, hi),
                    payer,
                    a.me(),
                )
            };
            *takings += event.amount;
            out.push(event);
        }
    }
    if day.weekday == *settle_weekday && *takings > 1_000_000 {
        let share = rng.uniform(0.85, 1.0);
        let mut left = ((*takings as f64 * share) as i64) / 100_000 * 100_000;
        let mut time = day.at_local(rng.range(10 * 60, 12 * 60));
        if !a.account.business && rng.chance(0.3) && left > 20_000_000 {
            let cash = tenge_step(rng.uniform(100_000.0, 300_000.0), 5_000);
            out.push(
                Event::new(
                    time,
                    TxKind::CashWithdrawal,
                    Channel::Atm,
                    cash,
                    a.me(),
                    day::atm(rng, a.account.city),
                )
                .check_if(rng.chance(0.85), Check::Biometric),
            );
            *takings -= cash;
            left -= cash;
            time += rng.range(600, 3600);
        }
        let parts = if *own_payout { 1 } else { rng.range(1, 3) };
        for k in 0..parts {
            let amount = if k == parts - 1 {
                left
            } else {
                left / parts / 100_000 * 100_000
            };
            if amount <= 0 {
                break;
            }
            let (to, text) = if *own_payout {
                (a.own_elsewhere(), "перевод собственных средств")
            } else {
                (
                    PartyRef::Business(supplier + k as u32),
                    day::text(rng, texts::SUPPLIERS),
                )
            };
            out.push(
                Event::new(
                    time,
                    TxKind::Transfer,
                    Channel::InternetBanking,
                    amount,
                    a.me(),
                    to,
                )
                .text(text)
                .device(device_of(rng, a.account)),
            );
            *takings -= amount;
            left -= amount;
            time += rng.range(60, 1800);
        }
    } else if day.weekday == (settle_weekday + 3) % 7 && rng.chance(0.5) && *takings > 10_000_000 {
        let amount = (*takings / 5) / 100_000 * 100_000;
        let time = day.at_local(rng.range(10 * 60, 17 * 60));
        out.push(
            Event::new(
                time,
                TxKind::Transfer,
                Channel::InternetBanking,
                amount,
                a.me(),
                PartyRef::Business(*supplier),
            )
            .text(day::text(rng, texts::SUPPLIERS))
            .device(device_of(rng, a.account)),
        );
        *takings -= amount;
    }
}

/// A family member's transfers to the others, some from the shared tablet.
pub(crate) fn family_day(a: &Actor<'_>, group: u32, rng: &mut Rng, out: &mut Sink<'_>) {
    let Some(family) = a.pop.families.get(group as usize) else {
        return;
    };
    for _ in 0..rng.poisson(0.45) {
        let others: Vec<u32> = family
            .members
            .iter()
            .copied()
            .filter(|m| *m != a.index)
            .collect();
        let Some(&to) = rng.pick(&others) else {
            return;
        };
        let time = time_from(rng, a.day, &PEOPLE_HOURS);
        let device = match family.tablet {
            Some(t) if rng.chance(0.35) => Some((t, 0)),
            _ => device_of(rng, a.account),
        };
        out.push(
            Event::new(
                time,
                TxKind::Transfer,
                Channel::MobileApp,
                human_amount(rng, 2_000.0, 80_000.0),
                a.me(),
                PartyRef::Home(to),
            )
            .text(day::text(rng, texts::FAMILY))
            .device(device),
        );
    }
}

/// A student's allowance and, once, a birthday full of small gifts.
pub(crate) fn student_day(a: &Actor<'_>, plan: &Plan, rng: &mut Rng, out: &mut Sink<'_>) {
    let Plan::Student {
        birthday,
        parent,
        allowance,
        allowance_weekday,
    } = plan
    else {
        return;
    };
    let day = a.day;
    if day.weekday == *allowance_weekday {
        let time = time_from(rng, day, &PEOPLE_HOURS);
        let (channel, device) = match parent {
            PartyRef::Home(_) => (Channel::MobileApp, device_of_party(rng, a.pop, *parent)),
            _ => (Channel::Api, None),
        };
        out.push(
            Event::new(time, TxKind::Transfer, channel, *allowance, *parent, a.me())
                .text(day::text(rng, texts::ALLOWANCE))
                .device(device),
        );
    }
    if *birthday == Some(day.index) && !day.look_back {
        let n = rng.range(10, 30) as usize;
        let now = day.start;
        let mut senders: Vec<PartyRef> = a
            .account
            .life
            .as_ref()
            .map(|l| l.friends.clone())
            .unwrap_or_default();
        senders.truncate(n);
        for s in day::distinct_counterparties(rng, a.pop, n, 0.4, now, a.index) {
            if senders.len() >= n {
                break;
            }
            if !senders.contains(&s) {
                senders.push(s);
            }
        }
        for from in senders {
            let time = day.at_local(rng.range(7 * 60, 23 * 60 + 50)) + rng.range(0, 59);
            let amount = tenge_step(
                rng.log_uniform(1_000.0, 20_000.0),
                if rng.chance(0.5) { 1000 } else { 500 },
            );
            let (channel, device) = match from {
                PartyRef::Home(_) => (Channel::MobileApp, device_of_party(rng, a.pop, from)),
                _ => (Channel::Api, None),
            };
            out.push(
                Event::new(time, TxKind::Transfer, channel, amount, from, a.me())
                    .text(day::text(rng, texts::BIRTHDAY))
                    .device(device),
            );
        }
    }
}

/// A trader's day. On a trading day customers pay for goods through the
/// opening hours, and most of the takings buy stock from several suppliers
/// the same day; what stays on the card (the margin, 8–35%) accumulates.
/// On a day off some of the savings go to a deposit or are taken in cash.
pub(crate) fn trader_day(
    a: &Actor<'_>,
    plan: &Plan,
    savings: &mut i64,
    rng: &mut Rng,
    out: &mut Sink<'_>,
) {
    let Plan::Trader {
        days_off,
        hours,
        customers,
        max_customers,
        max_suppliers,
        supplier_share,
        ticket,
        margin_bp,
        suppliers,
        saver,
    } = plan
    else {
        return;
    };
    let day = a.day;
    if days_off & (1 << day.weekday) != 0 {
        trader_day_off(a, *saver, savings, rng, out);
        return;
    }
    let busy = match day.weekday {
        4 => 1.05,
        5 => 1.15,
        _ => 1.0,
    };
    let n_in = ((f64::from(*customers) * rng.uniform(0.75, 1.3) * busy).round() as u32)
        .clamp(10, (*max_customers).max(10));
    let n_out = ((f64::from(n_in) * supplier_share * rng.uniform(0.8, 1.2)).round() as u32)
        .clamp(5, (*max_suppliers).max(5)) as usize;
    let (open, close) = (i64::from(hours.0) * 60, i64::from(hours.1) * 60);
    let me = a.me();
    let (lo, hi) = (ticket.0 as f64 / 100.0, ticket.1 as f64 / 100.0);
    let mut takings: i64 = 0;
    let payers = day::distinct_counterparties(rng, a.pop, n_in as usize, 0.35, day.start, a.index);
    for payer in payers {
        let time = day.at_local(rng.range(open, close - 1)) + rng.range(0, 59);
        let amount = shop_price(rng, lo, hi);
        let (kind, channel, device) = match payer {
            PartyRef::Home(_) => (
                TxKind::Transfer,
                Channel::MobileApp,
                device_of_party(rng, a.pop, payer),
            ),
            // Card to card from another bank's app now and then.
            _ if rng.chance(0.06) => (TxKind::CardTopup, Channel::Api, None),
            _ => (TxKind::Transfer, Channel::Api, None),
        };
        out.push(
            Event::new(time, kind, channel, amount, payer, me)
                .text(day::text(rng, texts::TRADER_CUSTOMERS))
                .device(device)
                .check_if(
                    channel == Channel::MobileApp && amount > 10_000_000 && rng.chance(0.5),
                    Check::AppConfirmation,
                ),
        );
        takings += amount;
    }
    // Stock for all but today's margin, in whole tenge, from a few of the
    // usual suppliers, in larger payments of varying size.
    let margin = i64::from(*margin_bp) + rng.range(-300, 300);
    let margin = margin.clamp(800, 3_500);
    let stock = takings / 100 * (10_000 - margin) / 10_000;
    let mut chosen = suppliers.clone();
    rng.shuffle(&mut chosen);
    chosen.truncate(n_out);
    let weights: Vec<f64> = chosen.iter().map(|_| rng.log_uniform(1.0, 8.0)).collect();
    let weight_sum: f64 = weights.iter().sum::<f64>().max(1.0);
    let mut left = stock;
    for (k, (supplier, weight)) in chosen.iter().zip(&weights).enumerate() {
        let tenge = if k + 1 == chosen.len() {
            left
        } else {
            ((stock as f64 * weight / weight_sum) as i64).min(left)
        };
        if tenge <= 0 {
            continue;
        }
        left -= tenge;
        let amount = tenge * 100;
        let time = day.at_local(rng.range(open, close - 1)) + rng.range(0, 59);
        let channel = if rng.chance(0.75) {
            Channel::MobileApp
        } else {
            Channel::InternetBanking
        };
        out.push(
            Event::new(time, TxKind::Transfer, channel, amount, me, *supplier)
                .text(day::text(rng, texts::TRADER_SUPPLIERS))
                .device(device_of(rng, a.account))
                .check_if(
                    amount > 10_000_000 && rng.chance(0.5),
                    Check::AppConfirmation,
                ),
        );
        takings -= amount;
    }
    *savings += takings;
}

/// A trader's day off: now and then savings go to a deposit, or are taken
/// out in cash (at an ATM, or at a branch for large sums).
fn trader_day_off(
    a: &Actor<'_>,
    saver: bool,
    savings: &mut i64,
    rng: &mut Rng,
    out: &mut Sink<'_>,
) {
    if *savings <= 30_000_000 || !rng.chance(0.55) {
        return;
    }
    let day = a.day;
    let time = day.at_local(rng.range(11 * 60, 19 * 60)) + rng.range(0, 59);
    let share = rng.uniform(0.5, 0.9);
    let x = *savings as f64 / 100.0 * share;
    let event = if saver && rng.chance(0.85) {
        Event::new(
            time,
            TxKind::Transfer,
            Channel::MobileApp,
            tenge_step(x, 10_000),
            a.me(),
            a.own_elsewhere(),
        )
        .text(day::text(
            rng,
            &[
                "на депозит",
                "пополнение депозита",
                "перевод собственных средств",
                "депозитке",
                "",
            ],
        ))
        .device(device_of(rng, a.account))
    } else {
        let amount = tenge_step(x, 5_000);
        let channel = if amount > 50_000_000 {
            Channel::Branch
        } else {
            Channel::Atm
        };
        Event::new(
            time,
            TxKind::CashWithdrawal,
            channel,
            amount,
            a.me(),
            day::atm(rng, a.account.city),
        )
        .check_if(
            channel == Channel::Branch || rng.chance(0.85),
            Check::Biometric,
        )
    };
    *savings -= event.amount;
    out.push(event);
}

/// A shop price in tenge, as a customer pays it: to the hundred, ending in
/// 990 or 500, or the exact sum of an order.
fn shop_price(rng: &mut Rng, lo: f64, hi: f64) -> i64 {
    let x = rng.log_uniform(lo, hi);
    match rng.below(10) {
        0..=3 => tenge_step(x, 100),
        4..=6 => (tenge_step(x, 1000) - 1_000).max(99_000),
        7 | 8 => tenge_step(x, 500),
        _ => tenge(x),
    }
}
