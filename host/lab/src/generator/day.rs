//! What every actor's schedule for a day needs: the date, the market rate,
//! local times, human-looking amounts, devices and counterparties.

use super::calendar::{self, DAY, LOCAL_OFFSET, MINUTE};
use super::event::{LICENSED_PLATFORMS, PLATFORMS, PartyRef};
use super::population::{Account, Population};
use super::rng::Rng;

/// One day of the stream.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DayInfo {
    /// Days since the start.
    pub(crate) index: u32,
    /// The day's first second, UTC.
    pub(crate) start: i64,
    /// The local day of the month, month (1–12) and year at midday.
    pub(crate) dom: u32,
    pub(crate) month: u32,
    pub(crate) year: i64,
    /// The local weekday at midday, 0 = Monday.
    pub(crate) weekday: u32,
    /// The market rate of USDT, tiyn per USDT.
    pub(crate) usdt: i64,
    /// A day of the look-back before the period (see
    /// [`super::Generator`]): `index` is 0 and means nothing, so the
    /// events planned for a day of the period (a trip, a birthday, a big
    /// top-up) do not happen on it.
    pub(crate) look_back: bool,
}

impl DayInfo {
    /// The day `index` of a stream starting at `start`.
    pub(crate) fn new(start: i64, index: u32, usdt: i64) -> DayInfo {
        let day_start = start + i64::from(index) * DAY;
        let midday = day_start + DAY / 2;
        let (year, month, dom) = calendar::local_date(midday);
        DayInfo {
            index,
            start: day_start,
            dom,
            month,
            year,
            weekday: calendar::local_weekday(midday),
            usdt,
            look_back: false,
        }
    }

    /// The instant in this day whose local time is `minute` minutes after
    /// midnight.
    pub(crate) fn at_local(&self, minute: i64) -> i64 {
        let offset = (minute * MINUTE - (self.start + LOCAL_OFFSET)).rem_euclid(DAY);
        self.start + offset
    }

    /// Whether a monthly payment due on `day_of_month` is made today:
    /// on the day itself on weekdays, on the Friday before when it falls on
    /// a weekend.
    pub(crate) fn is_due(&self, day_of_month: u32) -> bool {
        if day_of_month == 0 {
            return false;
        }
        match self.weekday {
            0..=3 => self.dom == day_of_month,
            4 => (self.dom..=self.dom + 2).contains(&day_of_month),
            _ => false,
        }
    }

    /// The month before this one, 0-based, and its year.
    pub(crate) fn previous_month(&self) -> (u8, i16) {
        if self.month <= 1 {
            (11, (self.year - 1) as i16)
        } else {
            ((self.month - 2) as u8, self.year as i16)
        }
    }

    /// This month, 0-based, and its year.
    pub(crate) fn this_month(&self) -> (u8, i16) {
        (self.month.saturating_sub(1) as u8, self.year as i16)
    }
}

/// When people use their bank: weights of the local hours 0–23.
pub(crate) const PEOPLE_HOURS: [u32; 24] = [
    3, 2, 1, 1, 1, 2, 4, 8, 12, 14, 15, 16, 18, 18, 16, 15, 15, 17, 19, 20, 18, 14, 9, 5,
];

/// When a shadow exchanger's clients trade: day and night, busier in the
/// evening.
pub(crate) const TRADING_HOURS: [u32; 24] = [
    8, 7, 6, 5, 5, 5, 6, 7, 9, 10, 11, 12, 12, 12, 12, 12, 13, 14, 15, 16, 16, 15, 13, 10,
];

/// A local minute of the day drawn from hour weights.
pub(crate) fn minute_from(rng: &mut Rng, hours: &[u32; 24]) -> i64 {
    rng.weighted_index(hours) as i64 * 60 + rng.range(0, 59)
}

/// An instant today drawn from hour weights, with random seconds.
pub(crate) fn time_from(rng: &mut Rng, day: &DayInfo, hours: &[u32; 24]) -> i64 {
    day.at_local(minute_from(rng, hours)) + rng.range(0, 59)
}

/// Tenge (a float) as whole tenge in tiyn.
pub(crate) fn tenge(x: f64) -> i64 {
    (x.round() as i64).max(1) * 100
}

/// Tenge rounded to a multiple of `step` tenge, in tiyn (at least one step).
pub(crate) fn tenge_step(x: f64, step: i64) -> i64 {
    let step = step.max(1);
    (((x / step as f64).round() as i64).max(1)) * step * 100
}

/// An amount people choose themselves: between `lo` and `hi` tenge, mostly
/// round.
pub(crate) fn human_amount(rng: &mut Rng, lo: f64, hi: f64) -> i64 {
    let x = rng.log_uniform(lo, hi);
    match rng.below(20) {
        0..=10 if x >= 5_000.0 => tenge_step(x, 1000),
        0..=15 => tenge_step(x, 100),
        _ => tenge(x),
    }
}

/// A price in a shop: whole tenge, sometimes with tiyn (fuel, by weight).
pub(crate) fn price(rng: &mut Rng, lo: f64, hi: f64) -> i64 {
    let x = rng.log_uniform(lo, hi);
    if rng.chance(0.08) {
        ((x * 100.0).round() as i64).max(1)
    } else {
        tenge(x)
    }
}

/// The device a customer uses for one app transaction: mostly their own
/// phone (or the farm they are run from), sometimes their other device;
/// and which of its addresses (home or mobile network).
pub(crate) fn device_of(rng: &mut Rng, account: &Account) -> Option<(u32, u8)> {
    let device = match account.devices.as_slice() {
        [] => return None,
        [only] => *only,
        [first, rest @ ..] => {
            if rng.chance(0.75) {
                *first
            } else {
                *rng.pick(rest).unwrap_or(first)
            }
        }
    };
    Some((device, u8::from(rng.chance(0.35))))
}

/// The device of a party, when it is a customer of the bank.
pub(crate) fn device_of_party(
    rng: &mut Rng,
    pop: &Population,
    party: PartyRef,
) -> Option<(u32, u8)> {
    match party {
        PartyRef::Home(i) => pop.account(i).and_then(|a| device_of(rng, a)),
        _ => None,
    }
}

/// A random person at another bank.
pub(crate) fn person(rng: &mut Rng, pop: &Population) -> PartyRef {
    PartyRef::Person(rng.below(u64::from(pop.people)) as u32)
}

/// A random company at another bank (not one of the pension funds).
pub(crate) fn firm(rng: &mut Rng, pop: &Population) -> PartyRef {
    PartyRef::Business(rng.below(u64::from(pop.firms.saturating_sub(2)).max(1)) as u32 + 2)
}

/// A legitimate customer of the bank whose account was open at `time`, or
/// a person elsewhere when `home_share` says so or none is found.
pub(crate) fn counterparty(
    rng: &mut Rng,
    pop: &Population,
    home_share: f64,
    time: i64,
    not: u32,
) -> PartyRef {
    if rng.chance(home_share) {
        for _ in 0..4 {
            if let Some(&i) = rng.pick(&pop.pool)
                && i != not
                && pop.account(i).is_some_and(|a| a.opened < time)
            {
                return PartyRef::Home(i);
            }
        }
    }
    person(rng, pop)
}

/// `n` distinct counterparties (by account), see [`counterparty`].
pub(crate) fn distinct_counterparties(
    rng: &mut Rng,
    pop: &Population,
    n: usize,
    home_share: f64,
    time: i64,
    not: u32,
) -> Vec<PartyRef> {
    let mut out: Vec<PartyRef> = Vec::with_capacity(n);
    let mut tries = 0;
    while out.len() < n && tries < n * 20 {
        tries += 1;
        let c = counterparty(rng, pop, home_share, time, not);
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// A crypto platform: a licensed one, except with probability `unlicensed`.
pub(crate) fn platform(rng: &mut Rng, unlicensed: f64) -> PartyRef {
    let licensed = u64::from(LICENSED_PLATFORMS);
    let p = if rng.chance(unlicensed) {
        licensed + rng.below(PLATFORMS.len() as u64 - licensed)
    } else {
        // Bybit and Binance are the big two; WhiteBIT is smaller.
        *rng.weighted(&[(40, 0u64), (40, 1), (20, 2)]).unwrap_or(&0)
    };
    PartyRef::Vasp(p as u8, rng.range(1, 20) as u8)
}

/// One of the home bank's ATMs in a city.
pub(crate) fn atm(rng: &mut Rng, city: u8) -> PartyRef {
    PartyRef::Atm(
        city,
        rng.range(1, i64::from(super::ids::ATMS_PER_CITY)) as u16,
    )
}

/// A remittance text from a list.
pub(crate) fn text(rng: &mut Rng, texts: &[&'static str]) -> &'static str {
    rng.pick(texts).copied().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_fall_inside_the_day() {
        let day = DayInfo::new(1_740_787_200, 0, 50_000);
        for minute in [0, 59, 300, 600, 1439] {
            let t = day.at_local(minute);
            assert!((day.start..day.start + DAY).contains(&t), "{minute}");
            assert_eq!((t + LOCAL_OFFSET).rem_euclid(DAY), minute * 60);
        }
    }

    #[test]
    fn weekend_payments_move_to_friday() {
        // 2025-03-07 was a Friday.
        let start = calendar::days_from_civil(2025, 3, 7) * DAY;
        let friday = DayInfo::new(start, 0, 50_000);
        let saturday = DayInfo::new(start, 1, 50_000);
        assert_eq!(friday.weekday, 4);
        assert!(friday.is_due(7) && friday.is_due(8) && friday.is_due(9));
        assert!(!saturday.is_due(8));
    }

    #[test]
    fn amounts_are_positive_and_in_tiyn() {
        let mut rng = Rng::new(1);
        for _ in 0..1000 {
            let a = human_amount(&mut rng, 1_000.0, 150_000.0);
            assert!((100_000..=15_000_000).contains(&a), "{a}");
            assert_eq!(a % 100, 0);
        }
        assert_eq!(tenge_step(47_850.4, 1000), 4_800_000);
    }
}
