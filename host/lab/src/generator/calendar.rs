//! Dates and times for the generator: RFC 3339 text, days of the week and
//! month, and Kazakhstan's local time.
//!
//! The stream's timestamps are UTC, as the input contract asks; people live
//! by the clock on the wall, which in Kazakhstan has been UTC+5 everywhere
//! since March 2024. Actors choose local hours and the generator converts.
//! Formatting is done here by hand (the civil-from-days algorithm of Howard
//! Hinnant) because it runs for every timestamp of every line and needs no
//! allocation or fallible API.

use std::fmt::Write;

/// Seconds in a day.
pub(crate) const DAY: i64 = 86_400;
/// Seconds in an hour.
pub(crate) const HOUR: i64 = 3_600;
/// Seconds in a minute.
pub(crate) const MINUTE: i64 = 60;
/// Kazakhstan's offset from UTC (UTC+5, one time zone since 2024-03-01).
pub(crate) const LOCAL_OFFSET: i64 = 5 * HOUR;

/// Days since 1970-01-01 of the given civil date.
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date (year, month 1–12, day 1–31) of a day since 1970-01-01.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Appends `secs` (seconds since the epoch) as RFC 3339 UTC text, e.g.
/// `2025-03-01T10:15:00Z`.
pub(crate) fn write_rfc3339(out: &mut String, secs: i64) {
    let days = secs.div_euclid(DAY);
    let rem = secs.rem_euclid(DAY);
    let (y, m, d) = civil_from_days(days);
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / HOUR,
        rem % HOUR / MINUTE,
        rem % MINUTE
    );
}

/// `secs` as RFC 3339 UTC text.
#[cfg(test)]
pub(crate) fn rfc3339(secs: i64) -> String {
    let mut out = String::with_capacity(20);
    write_rfc3339(&mut out, secs);
    out
}

/// The local civil date of an instant: (year, month, day of month).
pub(crate) fn local_date(secs: i64) -> (i64, u32, u32) {
    civil_from_days((secs + LOCAL_OFFSET).div_euclid(DAY))
}

/// The local day of the week of an instant: 0 = Monday ... 6 = Sunday.
pub(crate) fn local_weekday(secs: i64) -> u32 {
    // 1970-01-01 was a Thursday (3).
    ((secs + LOCAL_OFFSET).div_euclid(DAY) + 3).rem_euclid(7) as u32
}

/// Month names for remittance texts ("salary for March"), Russian, as
/// written after "за".
pub(crate) const MONTHS_RU: [&str; 12] = [
    "январь",
    "февраль",
    "март",
    "апрель",
    "май",
    "июнь",
    "июль",
    "август",
    "сентябрь",
    "октябрь",
    "ноябрь",
    "декабрь",
];

/// Month names in Kazakh.
pub(crate) const MONTHS_KK: [&str; 12] = [
    "қаңтар",
    "ақпан",
    "наурыз",
    "сәуір",
    "мамыр",
    "маусым",
    "шілде",
    "тамыз",
    "қыркүйек",
    "қазан",
    "қараша",
    "желтоқсан",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_the_contract() {
        assert_eq!(rfc3339(1_740_824_100), "2025-03-01T10:15:00Z");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn civil_dates_round_trip() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(2025, 3, 1), 20_148);
    }

    #[test]
    fn weekdays_and_local_dates_use_utc_plus_five() {
        // 2025-03-01 was a Saturday; 20:00 UTC is already Sunday in Almaty.
        let saturday_noon = 1_740_830_400;
        assert_eq!(local_weekday(saturday_noon), 5);
        assert_eq!(local_weekday(saturday_noon + 8 * HOUR), 6);
        assert_eq!(local_date(saturday_noon + 8 * HOUR), (2025, 3, 2));
    }
}
