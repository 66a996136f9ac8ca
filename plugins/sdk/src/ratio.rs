//! Exact non-negative ratios for rule parameters such as `0.1` or `1.1`.
//!
//! Rules compare ratios of amounts (what stayed on an account against what
//! came in, what went out against what came in). Floating point would make
//! `0.1` mean 0.1000000000000000055 and put a tiyn on the wrong side of a
//! threshold, so a [`Ratio`] keeps the decimal exactly as the pack wrote it
//! and compares by cross-multiplying in `i128`.

use crate::{ConfigError, Params};

/// The most fraction digits a ratio may have.
const MAX_SCALE: u32 = 18;

/// A non-negative decimal read exactly from its text: `units / 10^scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ratio {
    units: i64,
    scale: u32,
}

impl Ratio {
    /// `units / 10^scale`, e.g. `Ratio::new(1, 1)` is 0.1.
    #[must_use]
    pub const fn new(units: i64, scale: u32) -> Ratio {
        Ratio { units, scale }
    }

    /// Parses a non-negative decimal such as `0.1` or `2`, with at most 18
    /// fraction digits.
    pub fn parse(text: &str) -> Result<Ratio, &'static str> {
        if text.starts_with('-') {
            return Err("must not be negative");
        }
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let digits_only = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty()
            || !digits_only(whole)
            || !digits_only(fraction)
            || (text.contains('.') && fraction.is_empty())
        {
            return Err("expected a decimal number such as 0.1");
        }
        let scale = u32::try_from(fraction.len()).unwrap_or(u32::MAX);
        if scale > MAX_SCALE {
            return Err("has more than 18 fraction digits");
        }
        let mut units: i64 = 0;
        for digit in whole.bytes().chain(fraction.bytes()) {
            units = units
                .checked_mul(10)
                .and_then(|u| u.checked_add(i64::from(digit - b'0')))
                .ok_or("is too large")?;
        }
        Ok(Ratio { units, scale })
    }

    /// Whether `part / whole <= self`, exactly. `whole` must be positive;
    /// otherwise the answer is `false`.
    #[must_use]
    pub fn admits(self, part: i128, whole: i128) -> bool {
        self.compare(part, whole)
            .is_some_and(|(left, right)| left <= right)
    }

    /// Whether `part / whole >= self`, exactly. `whole` must be positive;
    /// otherwise the answer is `false`.
    #[must_use]
    pub fn reached_by(self, part: i128, whole: i128) -> bool {
        self.compare(part, whole)
            .is_some_and(|(left, right)| left >= right)
    }

    /// `(part × 10^scale, units × whole)`, or `None` when `whole` is not
    /// positive or a product overflows.
    fn compare(self, part: i128, whole: i128) -> Option<(i128, i128)> {
        if whole <= 0 {
            return None;
        }
        let pow = 10_i128.checked_pow(self.scale)?;
        Some((
            part.checked_mul(pow)?,
            i128::from(self.units).checked_mul(whole)?,
        ))
    }

    /// Compares the values of two ratios (`0.10` equals `0.1`).
    #[must_use]
    pub fn cmp_value(self, other: Ratio) -> core::cmp::Ordering {
        let scale = self.scale.max(other.scale);
        let widen = |r: Ratio| {
            10_i128
                .checked_pow(scale - r.scale)
                .and_then(|pow| i128::from(r.units).checked_mul(pow))
                .unwrap_or(i128::MAX)
        };
        widen(self).cmp(&widen(other))
    }

    /// `part / whole` with four decimals, rounded half up, for evidence;
    /// `n/a` when `whole` is not positive.
    #[must_use]
    pub fn text(part: i128, whole: i128) -> String {
        if whole <= 0 {
            return "n/a".to_owned();
        }
        let scaled = part.saturating_mul(20_000).saturating_add(whole) / whole.saturating_mul(2);
        format!("{}.{:04}", scaled / 10_000, scaled % 10_000)
    }
}

impl core::fmt::Display for Ratio {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let pow = 10_i64.checked_pow(self.scale).unwrap_or(i64::MAX);
        if self.scale == 0 {
            return write!(f, "{}", self.units);
        }
        write!(
            f,
            "{}.{:0width$}",
            self.units / pow,
            self.units % pow,
            width = self.scale as usize
        )
    }
}

impl Params {
    /// A [`decimal`](crate::ParamType::Decimal) parameter read exactly as a
    /// non-negative [`Ratio`].
    pub fn ratio(&self, name: &str) -> Result<Ratio, ConfigError> {
        self.decimal(name)?;
        let text = self.text(name)?;
        Ratio::parse(text).map_err(|reason| ConfigError::invalid(name, text, reason))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_parse_exactly() {
        assert_eq!(Ratio::parse("0.1"), Ok(Ratio::new(1, 1)));
        assert_eq!(Ratio::parse("0.025"), Ok(Ratio::new(25, 3)));
        assert_eq!(Ratio::parse("2"), Ok(Ratio::new(2, 0)));
        assert_eq!(Ratio::parse("1.50"), Ok(Ratio::new(150, 2)));
        assert!(Ratio::parse("-0.1").is_err());
        assert!(Ratio::parse("1.").is_err());
        assert!(Ratio::parse(".5").is_err());
        assert!(Ratio::parse("1e-3").is_err());
        assert!(Ratio::parse("0.1234567890123456789").is_err());
    }

    #[test]
    fn comparisons_are_exact_at_the_boundary() {
        // 10% of 100.00 is exactly 10.00; one tiyn more is not.
        let tenth = Ratio::new(1, 1);
        assert!(tenth.admits(1_000, 10_000));
        assert!(!tenth.admits(1_001, 10_000));
        assert!(!tenth.admits(0, 0));
        assert!(tenth.reached_by(1_000, 10_000));
        assert!(!tenth.reached_by(999, 10_000));
        assert!(!tenth.reached_by(5, 0));
        // No overflow at the extremes.
        let huge = Ratio::new(i64::MAX, 18);
        assert!(huge.admits(i128::from(i64::MAX) * 2, i128::from(i64::MAX)));
        assert!(!Ratio::new(0, 0).admits(1, i128::from(i64::MAX)));
    }

    #[test]
    fn ratio_text_shows_four_decimals_rounded_half_up() {
        assert_eq!(Ratio::text(5, 100), "0.0500");
        assert_eq!(Ratio::text(0, 100), "0.0000");
        assert_eq!(Ratio::text(1, 3), "0.3333");
        assert_eq!(Ratio::text(2, 3), "0.6667");
        assert_eq!(Ratio::text(1, 20_000), "0.0001");
        assert_eq!(Ratio::text(1, 20_001), "0.0000");
        assert_eq!(Ratio::text(150, 100), "1.5000");
        assert_eq!(Ratio::text(1, 0), "n/a");
    }

    #[test]
    fn ratios_compare_by_value() {
        assert!(Ratio::new(10, 2).cmp_value(Ratio::new(1, 1)).is_eq());
        assert!(Ratio::new(9, 1).cmp_value(Ratio::new(11, 1)).is_lt());
        assert!(Ratio::new(2, 0).cmp_value(Ratio::new(1999, 3)).is_gt());
    }

    #[test]
    fn ratios_print_as_written() {
        assert_eq!(Ratio::new(11, 1).to_string(), "1.1");
        assert_eq!(Ratio::new(25, 3).to_string(), "0.025");
        assert_eq!(Ratio::new(3, 0).to_string(), "3");
    }
}
