//! The planted typologies: money mules, shadow crypto exchangers and
//! structurers, each as docs/domain.md describes them, with every number varied
//! per actor and per day so that no single threshold separates them from
//! the legitimate look-alikes.

use super::day::{
    self, DayInfo, TRADING_HOURS, counterparty, device_of, device_of_party,
    distinct_counterparties, minute_from, tenge_step,
};
use super::event::{Event, OWN_BASE, PartyRef, Sink};
use super::legit::Actor;
use super::population::{BurstKind, Episode, Plan};
use super::rng::Rng;
use super::texts;
use qorgan::transaction::{Channel, Check, TxKind};

/// A mule's day: on an episode day, victims pay in over a few hours and the
/// money leaves within minutes, to cash, crypto, another mule or another
/// bank.
pub(crate) fn mule_day(a: &Actor<'_>, plan: &Plan, rng: &mut Rng, out: &mut Sink<'_>) {
    let Plan::Mule {
        group,
        episodes,
        test_day,
    } = plan
    else {
        return;
    };
    let day = a.day;
    if *test_day == Some(day.index) {
        let time = day.at_local(rng.range(10 * 60, 22 * 60)) + rng.range(0, 59);
        let amount = tenge_step(rng.uniform(100.0, 2_000.0), 100);
        out.push(
            Event::new(
                time,
                TxKind::Transfer,
                Channel::Api,
                amount,
                day::person(rng, a.pop),
                PartyRef::Home(a.index),
            )
            .text(day::text(rng, &["", "проверка", "тест", "1"])),
        );
    }
    for episode in episodes.iter().filter(|e| e.day == day.index) {
        run_episode(a, *group, episode, rng, out);
    }
}

fn run_episode(a: &Actor<'_>, group: u32, episode: &Episode, rng: &mut Rng, out: &mut Sink<'_>) {
    let day = a.day;
    let me = PartyRef::Home(a.index);
    let start = day.at_local(i64::from(episode.start_min));
    let victims =
        distinct_counterparties(rng, a.pop, episode.senders as usize, 0.35, start, a.index);
    let mut times: Vec<i64> = victims
        .iter()
        .map(|_| start + rng.range(0, i64::from(episode.span_min) * 60))
        .collect();
    times.sort_unstable();
    let mut inflows: Vec<(i64, i64)> = Vec::with_capacity(victims.len());
    for (victim, time) in victims.iter().zip(&times) {
        let x = rng.log_uniform(10_000.0, 300_000.0);
        let amount = match rng.below(10) {
            0..=6 => tenge_step(x, 1000),
            7 | 8 => tenge_step(x, 100),
            _ => tenge_step(x, 1),
        };
        let (channel, device) = match victim {
            PartyRef::Home(_) => (Channel::MobileApp, device_of_party(rng, a.pop, *victim)),
            _ => (Channel::Api, None),
        };
        out.push(
            Event::new(*time, TxKind::Transfer, channel, amount, *victim, me)
                .text(day::text(rng, texts::VICTIMS))
                .device(device)
                .check_if(
                    channel == Channel::MobileApp && amount > 10_000_000 && rng.chance(0.5),
                    Check::AppConfirmation,
                ),
        );
        inflows.push((*time, amount));
    }
    // The money leaves in portions, each within minutes of its last inflow.
    let tranches = (episode.tranches.max(1) as usize).min(inflows.len().max(1));
    let per = inflows.len().div_ceil(tranches).max(1);
    let partners: Vec<u32> = a
        .pop
        .mule_groups
        .get(group as usize)
        .map(|g| {
            g.members
                .iter()
                .copied()
                .filter(|m| *m != a.index)
                .collect()
        })
        .unwrap_or_default();
    for chunk in inflows.chunks(per) {
        let Some(&(last, _)) = chunk.last() else {
            continue;
        };
        let received: i64 = chunk.iter().map(|(_, x)| x).sum();
        let total = (received as f64 * rng.uniform(0.90, 1.0)) as i64;
        let when = last + rng.range(5 * 60, 60 * 60);
        let method = *rng
            .weighted(&[(40, 0u8), (25, 1), (20, 2), (15, 3)])
            .unwrap_or(&0);
        match (method, rng.pick(&partners)) {
            (2, Some(&partner)) => {
                // Layering: on to another mule of the group, who cashes out.
                let partner_ref = PartyRef::Home(partner);
                out.push(
                    Event::new(
                        when,
                        TxKind::Transfer,
                        Channel::MobileApp,
                        total,
                        me,
                        partner_ref,
                    )
                    .text(day::text(rng, &["", "", "перевод", "долг"]))
                    .device(device_of(rng, a.account)),
                );
                let onward = (total as f64 * rng.uniform(0.95, 1.0)) as i64;
                let later = when + rng.range(5 * 60, 40 * 60);
                if rng.chance(0.6) {
                    let city = a.pop.account(partner).map_or(a.account.city, |p| p.city);
                    withdraw(rng, partner_ref, city, onward, later, out);
                } else {
                    buy_crypto(rng, a, partner_ref, onward, later, out);
                }
            }
            (0, _) | (2, None) => withdraw(rng, me, a.account.city, total, when, out),
            (1, _) => buy_crypto(rng, a, me, total, when, out),
            _ => {
                out.push(
                    Event::new(
                        when,
                        TxKind::Transfer,
                        Channel::MobileApp,
                        total,
                        me,
                        day::person(rng, a.pop),
                    )
                    .text(day::text(rng, &["", "", "", "перевод"]))
                    .device(device_of(rng, a.account))
                    .check_if(rng.chance(0.3), Check::AppConfirmation),
                );
            }
        }
    }
}

/// Cash out at one ATM in several withdrawals a few minutes apart, in
/// banknotes (multiples of 5,000 KZT), up to the ATM's limit each.
fn withdraw(rng: &mut Rng, from: PartyRef, city: u8, total: i64, start: i64, out: &mut Sink<'_>) {
    let atm = day::atm(rng, city);
    let limit = tenge_step(rng.uniform(200_000.0, 500_000.0), 5_000);
    let mut left = total / 500_000 * 500_000;
    let mut time = start;
    let biometric = rng.chance(0.7);
    while left >= 500_000 {
        let amount = left.min(limit);
        out.push(
            Event::new(
                time,
                TxKind::CashWithdrawal,
                Channel::Atm,
                amount,
                from,
                atm,
            )
            .check_if(biometric, Check::Biometric),
        );
        left -= amount;
        time += rng.range(40, 240);
    }
}

/// Buy crypto with the money, in one or two purchases.
fn buy_crypto(
    rng: &mut Rng,
    a: &Actor<'_>,
    from: PartyRef,
    total: i64,
    start: i64,
    out: &mut Sink<'_>,
) {
    let vasp = day::platform(rng, 0.15);
    let device = match from {
        PartyRef::Home(_) => device_of_party(rng, a.pop, from),
        _ => None,
    };
    let parts: i64 = if total > 30_000_000 && rng.chance(0.5) {
        2
    } else {
        1
    };
    let mut time = start;
    let mut left = total;
    for k in 0..parts {
        let amount = if k == parts - 1 { left } else { left / 2 };
        out.push(
            Event::new(
                time,
                TxKind::CryptoPurchase,
                Channel::MobileApp,
                amount,
                from,
                vasp,
            )
            .text(day::text(rng, texts::CRYPTO))
            .device(device),
        );
        left -= amount;
        time += rng.range(60, 600);
    }
}

/// USDT amounts clients trade, with how often.
const USDT_LOTS: [(u32, i64); 19] = [
    (3, 10),
    (5, 20),
    (3, 25),
    (4, 30),
    (10, 50),
    (3, 70),
    (14, 100),
    (8, 150),
    (10, 200),
    (5, 250),
    (7, 300),
    (4, 400),
    (8, 500),
    (2, 700),
    (6, 1000),
    (2, 1500),
    (3, 2000),
    (1, 3000),
    (1, 5000),
];

/// An exchanger's trading day: clients buying USDT pay tenge in, clients
/// selling USDT are paid tenge out, all day and night, at the day's rate
/// plus or minus half the spread; what is left at night is swept away.
pub(crate) fn exchanger_day(a: &Actor<'_>, plan: &Plan, rng: &mut Rng, out: &mut Sink<'_>) {
    let Plan::Exchanger {
        days,
        spread_bp,
        regular,
        crypto_words,
        regulars,
    } = plan
    else {
        return;
    };
    let day = a.day;
    let Some(active) = days.iter().find(|d| d.day == day.index) else {
        return;
    };
    let me = PartyRef::Home(a.index);
    let spread = f64::from(*spread_bp) + rng.uniform(-10.0, 10.0);
    let sell = quote(day, 1.0 + spread / 20_000.0);
    let buy = quote(day, 1.0 - spread / 20_000.0);
    // Clients: some regulars, the rest new; payers and payees distinct.
    let n_in = active.payers as usize;
    let n_out = active.payees as usize;
    let mut clients: Vec<PartyRef> = Vec::with_capacity(n_in + n_out);
    for r in regulars {
        if clients.len() < (n_in + n_out) * 3 / 10 && rng.chance(0.5) {
            clients.push(*r);
        }
    }
    for c in distinct_counterparties(rng, a.pop, n_in + n_out, 0.3, day.start, a.index) {
        if clients.len() >= n_in + n_out {
            break;
        }
        if !clients.contains(&c) {
            clients.push(c);
        }
    }
    rng.shuffle(&mut clients);
    let (payers, payees) = clients.split_at(n_in.min(clients.len()));
    let lots_in: Vec<i64> = payers.iter().map(|_| lot(rng)).collect();
    let usdt_in: i64 = lots_in.iter().sum();
    // Sell about as much USDT as was bought, split among the sellers in
    // lots of 5 USDT.
    let target = (usdt_in as f64 * rng.uniform(0.97, 1.02)) as i64;
    let weights: Vec<f64> = payees.iter().map(|_| rng.log_uniform(1.0, 20.0)).collect();
    let weight_sum: f64 = weights.iter().sum::<f64>().max(1.0);
    let lots_out: Vec<i64> = weights
        .iter()
        .map(|w| ((target as f64 * w / weight_sum / 5.0).round() as i64 * 5).max(10))
        .collect();
    // When: evenly spaced like a bot, or as clients come, day and night.
    let n = payers.len() + payees.len();
    let mut times: Vec<i64> = if *regular {
        let step = 86_400 / n.max(1) as i64;
        let offset = rng.range(0, step.max(1));
        (0..n as i64)
            .map(|k| day.start + offset + k * step + rng.range(-step / 20, step / 20))
            .collect()
    } else {
        (0..n)
            .map(|_| day.at_local(minute_from(rng, &TRADING_HOURS)) + rng.range(0, 59))
            .collect()
    };
    times.sort_unstable();
    // Interleave: a seller is paid only once enough buyers have paid.
    let (mut i, mut o) = (0usize, 0usize);
    let mut balance: i64 = 0;
    let mut paid_in: i64 = 0;
    let mut paid_out: i64 = 0;
    for time in &times {
        let time = (*time).max(day.start);
        let next_out = lots_out.get(o).map(|l| l * buy);
        let take_in = match (payers.get(i), next_out) {
            (Some(_), Some(amount)) => balance < amount || rng.chance(0.5),
            (Some(_), None) => true,
            (None, _) => false,
        };
        if take_in {
            let (Some(payer), Some(lot)) = (payers.get(i), lots_in.get(i)) else {
                break;
            };
            let amount = lot * sell;
            let (channel, device) = match payer {
                PartyRef::Home(_) => (Channel::MobileApp, device_of_party(rng, a.pop, *payer)),
                _ => (Channel::Api, None),
            };
            let kind = if rng.chance(0.92) {
                TxKind::Transfer
            } else {
                TxKind::CardTopup
            };
            let words = if rng.chance(*crypto_words) {
                texts::EXCHANGER_PAYERS_CRYPTO
            } else {
                texts::EXCHANGER_PAYERS_PLAIN
            };
            out.push(
                Event::new(time, kind, channel, amount, *payer, me)
                    .text(day::text(rng, words))
                    .device(device),
            );
            balance += amount;
            paid_in += amount;
            i += 1;
        } else {
            let (Some(payee), Some(lot)) = (payees.get(o), lots_out.get(o)) else {
                break;
            };
            let amount = lot * buy;
            out.push(
                Event::new(
                    time,
                    TxKind::Transfer,
                    Channel::MobileApp,
                    amount,
                    me,
                    *payee,
                )
                .text(day::text(rng, texts::EXCHANGER_PAYEES))
                .device(device_of(rng, a.account)),
            );
            balance -= amount;
            paid_out += amount;
            o += 1;
        }
    }
    // Late at night the margin leaves: to the exchanger's card elsewhere,
    // or in cash.
    let residual = paid_in - paid_out;
    if residual > 2_000_000 && rng.chance(0.6) {
        let time = day
            .at_local(rng.range(23 * 60, 23 * 60 + 55))
            .max(times.last().copied().unwrap_or(day.start) + 60);
        let amount = tenge_step(residual as f64 / 100.0 * rng.uniform(0.8, 1.0), 1000);
        let event = if rng.chance(0.7) {
            Event::new(
                time,
                TxKind::Transfer,
                Channel::MobileApp,
                amount,
                me,
                PartyRef::Person(OWN_BASE + a.index),
            )
            .device(device_of(rng, a.account))
        } else {
            Event::new(
                time,
                TxKind::CashWithdrawal,
                Channel::Atm,
                amount / 500_000 * 500_000,
                me,
                day::atm(rng, a.account.city),
            )
            .check_if(rng.chance(0.7), Check::Biometric)
        };
        out.push(event);
    }
}

/// The day's rate times `factor`, to the tiyn.
fn quote(day: &DayInfo, factor: f64) -> i64 {
    (day.usdt as f64 * factor).round() as i64
}

fn lot(rng: &mut Rng) -> i64 {
    *rng.weighted(&USDT_LOTS).unwrap_or(&100)
}

/// Round amounts a structurer picks just under 500,000 KZT.
const ROUND_UNDER: [i64; 10] = [
    450_000, 460_000, 470_000, 475_000, 480_000, 485_000, 490_000, 495_000, 498_000, 499_000,
];

/// A structurer's burst: 3–5 top-ups, transfers or cash deposits between
/// 450,000.00 and 499,999.99 KZT within 24 hours.
pub(crate) fn structurer_day(a: &Actor<'_>, plan: &Plan, rng: &mut Rng, out: &mut Sink<'_>) {
    let Plan::Structurer { bursts, style } = plan else {
        return;
    };
    let day = a.day;
    let me = PartyRef::Home(a.index);
    for burst in bursts.iter().filter(|b| b.day == day.index) {
        let start = day.at_local(i64::from(burst.start_min)) + rng.range(0, 59);
        let mut time = start;
        let target = match burst.kind {
            BurstKind::Topup if rng.chance(0.5) => PartyRef::Person(OWN_BASE + a.index),
            _ => counterparty(rng, a.pop, 0.2, start, a.index),
        };
        for k in 0..burst.count {
            let amount = match style {
                0 => rng.pick(&ROUND_UNDER).copied().unwrap_or(490_000) * 100,
                1 => {
                    let tenge = rng.range(495_000, 499_999) * 100;
                    if rng.chance(0.3) {
                        tenge + rng.range(0, 99)
                    } else {
                        tenge
                    }
                }
                _ => rng.range(45_000_000, 49_999_999),
            };
            let to = if k > 0 && rng.chance(0.3) {
                counterparty(rng, a.pop, 0.2, time, a.index)
            } else {
                target
            };
            let event = match burst.kind {
                BurstKind::Topup => {
                    Event::new(time, TxKind::CardTopup, Channel::MobileApp, amount, me, to)
                        .text(day::text(rng, texts::TOPUP))
                        .device(device_of(rng, a.account))
                        .check_if(rng.chance(0.5), Check::RecipientIin)
                }
                BurstKind::Transfer => {
                    let channel = if rng.chance(0.8) {
                        Channel::MobileApp
                    } else {
                        Channel::InternetBanking
                    };
                    Event::new(time, TxKind::Transfer, channel, amount, me, to)
                        .text(day::text(rng, texts::STRUCTURER))
                        .device(device_of(rng, a.account))
                        .check_if(rng.chance(0.6), Check::AppConfirmation)
                }
                BurstKind::CashDeposit => {
                    let channel = if rng.chance(0.5) {
                        Channel::Branch
                    } else {
                        Channel::Atm
                    };
                    Event::new(time, TxKind::CashDeposit, channel, amount, me, me)
                        .check_if(rng.chance(0.85), Check::Biometric)
                }
            };
            out.push(event);
            // The next one later the same day or in the night, always
            // within 24 hours of the first.
            let gap = rng.range(20 * 60, 6 * 3600);
            time = (time + gap).min(start + 23 * 3600 - i64::from(burst.count - k) * 60);
        }
    }
}
