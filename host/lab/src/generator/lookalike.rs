//! The days of the look-alikes of the patterns across accounts: honest
//! money that has the shape of a fan-in, a fan-out, a gather-scatter, a
//! chain or a cycle.
//!
//! - a marketplace is paid by 20–200 buyers a day, many of them regulars,
//!   and pays the same 5–30 sellers every week, each a different sum:
//!   fan-in, fan-out and gather-scatter, but weekly, to the same payees;
//! - a landlord is paid a fixed rent by 2–8 tenants in the first days of
//!   the month and moves most of it to savings or a mortgage 1–3 days
//!   later: a small fan-in that empties, but monthly, from the same payers;
//! - a saver's salary goes to their own savings account within hours, and
//!   some of it sometimes comes back a week later: a chain link and a
//!   round trip, but between two accounts of one holder.

use super::calendar::{DAY, HOUR, MINUTE};
use super::day::{
    self, PEOPLE_HOURS, counterparty, device_of, device_of_party, price, tenge_step, time_from,
};
use super::event::{Event, OWN_BASE, PartyRef, Remit, Sink};
use super::legit::{Actor, pay_split};
use super::population::Plan;
use super::rng::Rng;
use super::texts;
use qorgan::transaction::{Channel, TxKind};

/// A marketplace's day: buyers pay for orders around the clock; on its
/// settlement weekday it pays every seller their week's sales less its
/// commission, and moves the commission to its account elsewhere.
pub(crate) fn marketplace_day(
    a: &Actor<'_>,
    plan: &Plan,
    takings: &mut i64,
    rng: &mut Rng,
    out: &mut Sink<'_>,
) {
    let Plan::Marketplace {
        daily,
        ticket,
        regulars,
        sellers,
        settle_weekday,
        commission_bp,
    } = plan
    else {
        return;
    };
    let day = a.day;
    let me = PartyRef::Home(a.index);
    let busy = match day.weekday {
        5 | 6 => 1.15,
        _ => 0.94,
    };
    let (lo, hi) = (ticket.0 as f64 / 100.0, ticket.1 as f64 / 100.0);
    for _ in 0..rng.poisson(daily * busy) {
        let time = time_from(rng, day, &PEOPLE_HOURS);
        let buyer = match rng.pick(regulars) {
            Some(r) if rng.chance(0.6) => *r,
            _ => counterparty(rng, a.pop, 0.35, time, a.index),
        };
        let amount = price(rng, lo, hi);
        let (channel, device) = match buyer {
            PartyRef::Home(_) => (Channel::MobileApp, device_of_party(rng, a.pop, buyer)),
            _ => (Channel::Api, None),
        };
        out.push(
            Event::new(time, TxKind::Transfer, channel, amount, buyer, me)
                .text(day::text(rng, texts::MARKETPLACE_BUYERS))
                .device(device),
        );
        *takings += amount;
    }
    if day.weekday != *settle_weekday || *takings <= 0 || sellers.is_empty() {
        return;
    }
    // Each seller's share of the week varies around its usual one.
    let payable = *takings / 10_000 * (10_000 - i64::from(*commission_bp));
    let weights: Vec<f64> = sellers
        .iter()
        .map(|(_, w)| w * rng.uniform(0.6, 1.4))
        .collect();
    let sum: f64 = weights.iter().sum::<f64>().max(f64::MIN_POSITIVE);
    let mut time = day.at_local(rng.range(10 * 60, 13 * 60));
    for ((seller, _), w) in sellers.iter().zip(&weights) {
        let amount = ((payable as f64 * w / sum) as i64).max(100);
        let channel = if rng.chance(0.7) {
            Channel::Api
        } else {
            Channel::InternetBanking
        };
        out.push(
            Event::new(time, TxKind::Transfer, channel, amount, me, *seller)
                .text(day::text(rng, texts::MARKETPLACE_PAYOUTS)),
        );
        *takings -= amount;
        time += rng.range(2, 30);
    }
    if *takings > 100_000 {
        let commission = *takings / 100_000 * 100_000;
        out.push(
            Event::new(
                time + rng.range(10 * MINUTE, 2 * HOUR),
                TxKind::Transfer,
                Channel::InternetBanking,
                commission,
                me,
                PartyRef::Business(OWN_BASE + a.index),
            )
            .text("перевод собственных средств"),
        );
        *takings -= commission;
    }
}

/// A landlord's day: tenants pay on their day in the first five of the
/// month; 1–3 days after the last, the mortgage is paid and most of the
/// rest goes to the landlord's savings account.
pub(crate) fn landlord_day(a: &Actor<'_>, plan: &Plan, rng: &mut Rng, out: &mut Sink<'_>) {
    let Plan::Landlord {
        savings,
        tenants,
        mortgage,
        delay,
        share,
    } = plan
    else {
        return;
    };
    let day = a.day;
    let me = PartyRef::Home(a.index);
    for (tenant, rent, due) in tenants {
        if *due != day.dom {
            continue;
        }
        let time = day.at_local(rng.range(8 * 60, 22 * 60)) + rng.range(0, 59);
        let (channel, device) = match tenant {
            PartyRef::Home(_) => (Channel::MobileApp, device_of_party(rng, a.pop, *tenant)),
            _ => (Channel::Api, None),
        };
        out.push(
            Event::new(time, TxKind::Transfer, channel, *rent, *tenant, me)
                .text(day::text(rng, texts::RENT))
                .device(device),
        );
    }
    let last = tenants.iter().map(|(_, _, d)| *d).max().unwrap_or(1);
    if day.dom != last + delay {
        return;
    }
    let monthly: i64 = tenants.iter().map(|(_, r, _)| r).sum();
    let mut time = day.at_local(rng.range(9 * 60, 21 * 60));
    let mut left = monthly;
    if let Some((bank, payment)) = mortgage {
        out.push(
            Event::new(
                time,
                TxKind::Transfer,
                Channel::MobileApp,
                *payment,
                me,
                *bank,
            )
            .text(day::text(
                rng,
                &["погашение ипотеки", "ипотека", "платеж по кредиту", ""],
            ))
            .device(device_of(rng, a.account)),
        );
        left -= payment;
        time += rng.range(2 * MINUTE, 3 * HOUR);
    }
    if let Some(savings) = savings
        && left > 0
    {
        let amount = tenge_step(left as f64 / 100.0 * share, 10_000).min(left);
        out.push(
            Event::new(
                time,
                TxKind::Transfer,
                Channel::MobileApp,
                amount,
                me,
                PartyRef::Home(*savings),
            )
            .text(day::text(rng, texts::OWN_ACCOUNTS))
            .device(device_of(rng, a.account)),
        );
    }
}

/// A saver's day: on pay day the salary comes from the employer and
/// 60–100% of it goes to the savings account 10 minutes to 6 hours later;
/// sometimes some of that comes back about a week later.
pub(crate) fn saver_day(a: &Actor<'_>, plan: &Plan, rng: &mut Rng, out: &mut Sink<'_>) {
    let Plan::Saver {
        savings,
        employer,
        salary,
        pay_day,
        advance_day,
        share,
        back,
    } = plan
    else {
        return;
    };
    let day = a.day;
    let me = PartyRef::Home(a.index);
    let from = PartyRef::Business(*employer);
    let style = (employer % 3) as u8;
    let advance = pay_split(*salary, *advance_day);
    let time = day.at_local(rng.range(9 * 60, 13 * 60)) + rng.range(0, 59);
    if advance > 0 && day.is_due(*advance_day) {
        let (month, year) = day.this_month();
        out.push(
            Event::new(time, TxKind::Transfer, Channel::Api, advance, from, me).remit(
                Remit::Salary {
                    style,
                    advance: true,
                    month,
                    year,
                },
            ),
        );
    }
    if !day.is_due(*pay_day) {
        return;
    }
    let pay = salary - advance;
    let (month, year) = day.previous_month();
    out.push(
        Event::new(time, TxKind::Transfer, Channel::Api, pay, from, me).remit(Remit::Salary {
            style,
            advance: false,
            month,
            year,
        }),
    );
    let saved = tenge_step(
        pay as f64 / 100.0 * rng.uniform(share.0, share.1),
        if rng.chance(0.6) { 10_000 } else { 1_000 },
    )
    .min(pay);
    let when = time + rng.range(10 * MINUTE, 6 * HOUR);
    let savings_ref = PartyRef::Home(*savings);
    out.push(
        Event::new(
            when,
            TxKind::Transfer,
            Channel::MobileApp,
            saved,
            me,
            savings_ref,
        )
        .text(day::text(rng, texts::OWN_ACCOUNTS))
        .device(device_of(rng, a.account)),
    );
    if rng.chance(*back) {
        let later = when + rng.range(6 * DAY, 9 * DAY);
        let amount = tenge_step(saved as f64 / 100.0 * rng.uniform(0.2, 1.0), 1_000).min(saved);
        out.push(
            Event::new(
                later,
                TxKind::Transfer,
                Channel::MobileApp,
                amount,
                savings_ref,
                me,
            )
            .text(day::text(
                rng,
                &[
                    "",
                    "",
                    "на карту",
                    "перевод между своими счетами",
                    "обратно",
                ],
            ))
            .device(device_of(rng, a.account)),
        );
    }
}
