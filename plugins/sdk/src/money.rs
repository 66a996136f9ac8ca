//! Exact amounts of tenge.
//!
//! [`Money`] counts **tiyn** (hundredths of a tenge) in an `i64`, the same unit
//! the host uses for every amount it hands a rule. There are no floats
//! anywhere: amounts are parsed from decimal strings digit by digit, compared
//! as integers and printed back with exactly two fraction digits.

use core::fmt;
use core::str::FromStr;

/// Tiyn in one tenge.
const TIYN_PER_TENGE: i64 = 100;

/// An exact amount of tenge, stored as a whole number of tiyn.
///
/// Parse it from a decimal string, compare it, add and subtract it with
/// overflow checks, and print it back:
///
/// ```
/// use qorgan_sdk::Money;
///
/// let threshold: Money = "500000.00".parse()?;
/// let amount = Money::from_tiyn(60_000_000);
/// assert!(amount > threshold);
/// assert_eq!(amount.to_string(), "600000.00");
/// assert_eq!(Money::parse("0.5")?, Money::from_tiyn(50));
/// assert!(Money::parse("1.005").is_err());
/// # Ok::<(), qorgan_sdk::MoneyError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(i64);

impl Money {
    /// Nothing: 0.00 tenge.
    pub const ZERO: Money = Money(0);

    /// The largest amount that can be represented (about 92 quadrillion tenge).
    pub const MAX: Money = Money(i64::MAX);

    /// The amount of `tiyn` hundredths of a tenge.
    #[must_use]
    pub const fn from_tiyn(tiyn: i64) -> Money {
        Money(tiyn)
    }

    /// The amount of `tenge` whole tenge, or `None` if it does not fit.
    #[must_use]
    pub const fn from_tenge(tenge: i64) -> Option<Money> {
        match tenge.checked_mul(TIYN_PER_TENGE) {
            Some(tiyn) => Some(Money(tiyn)),
            None => None,
        }
    }

    /// The amount in tiyn.
    #[must_use]
    pub const fn tiyn(self) -> i64 {
        self.0
    }

    /// Parses a decimal amount of tenge: an optional leading `-`, at least one
    /// digit, then optionally a `.` and one or two fraction digits
    /// (`"500000.00"`, `"500000"`, `"0.5"`, `"-12.30"`).
    ///
    /// Anything else is refused with a [`MoneyError`] that says why: an empty
    /// string, a `+` or a sign anywhere but first, a missing digit (`"."`,
    /// `"5."`, `".5"`), more than two fraction digits (`"1.005"`), any other
    /// character (spaces, `,`, `_`, exponents), or an amount too large for
    /// an `i64` of tiyn.
    pub fn parse(text: &str) -> Result<Money, MoneyError> {
        let fail = |kind| Err(MoneyError::new(text, kind));
        if text.is_empty() {
            return fail(MoneyErrorKind::Empty);
        }
        let (negative, unsigned) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (whole, fraction) = match unsigned.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (unsigned, None),
        };
        // Find the first character that is not a digit (and not the one
        // decimal point), reporting its position in the original text.
        let offset = text.len() - unsigned.len();
        for (index, ch) in unsigned.char_indices() {
            let is_point = Some(index) == fraction.map(|_| whole.len());
            if !ch.is_ascii_digit() && !is_point {
                let kind = if ch == '-' || ch == '+' {
                    MoneyErrorKind::MisplacedSign
                } else {
                    MoneyErrorKind::InvalidCharacter {
                        found: ch,
                        position: offset + index,
                    }
                };
                return fail(kind);
            }
        }
        if whole.is_empty() {
            return fail(MoneyErrorKind::MissingDigits);
        }
        let fraction_tiyn = match fraction {
            None => 0,
            Some("") => return fail(MoneyErrorKind::MissingDigits),
            Some(digits) if digits.len() > 2 => {
                return fail(MoneyErrorKind::TooManyFractionDigits {
                    digits: digits.len(),
                });
            }
            Some(digits) => {
                let value = digits_value(digits).ok_or_else(|| overflow(text))?;
                if digits.len() == 1 { value * 10 } else { value }
            }
        };
        let whole_tenge = digits_value(whole).ok_or_else(|| overflow(text))?;
        let magnitude = whole_tenge
            .checked_mul(TIYN_PER_TENGE)
            .and_then(|tiyn| tiyn.checked_add(fraction_tiyn))
            .ok_or_else(|| overflow(text))?;
        Ok(Money(if negative { -magnitude } else { magnitude }))
    }

    /// `self + other`, or `None` on overflow.
    #[must_use]
    pub const fn checked_add(self, other: Money) -> Option<Money> {
        match self.0.checked_add(other.0) {
            Some(tiyn) => Some(Money(tiyn)),
            None => None,
        }
    }

    /// `self - other`, or `None` on overflow.
    #[must_use]
    pub const fn checked_sub(self, other: Money) -> Option<Money> {
        match self.0.checked_sub(other.0) {
            Some(tiyn) => Some(Money(tiyn)),
            None => None,
        }
    }

    /// `self * factor`, or `None` on overflow.
    #[must_use]
    pub const fn checked_mul(self, factor: i64) -> Option<Money> {
        match self.0.checked_mul(factor) {
            Some(tiyn) => Some(Money(tiyn)),
            None => None,
        }
    }

    /// `self + other`, stopping at the largest or smallest representable
    /// amount instead of overflowing.
    #[must_use]
    pub const fn saturating_add(self, other: Money) -> Money {
        Money(self.0.saturating_add(other.0))
    }

    /// `self - other`, stopping at the largest or smallest representable
    /// amount instead of overflowing.
    #[must_use]
    pub const fn saturating_sub(self, other: Money) -> Money {
        Money(self.0.saturating_sub(other.0))
    }

    /// Whether the amount is below zero.
    #[must_use]
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// Whether the amount is exactly zero.
    #[must_use]
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }
}

/// The value of a string of ASCII digits (already checked), or `None` if it
/// does not fit an `i64`.
fn digits_value(digits: &str) -> Option<i64> {
    digits.bytes().try_fold(0_i64, |value, byte| {
        value
            .checked_mul(10)?
            .checked_add(i64::from(byte.wrapping_sub(b'0')))
    })
}

fn overflow(text: &str) -> MoneyError {
    MoneyError::new(text, MoneyErrorKind::Overflow)
}

impl FromStr for Money {
    type Err = MoneyError;

    fn from_str(text: &str) -> Result<Money, MoneyError> {
        Money::parse(text)
    }
}

/// Prints the amount in tenge with exactly two fraction digits and no
/// grouping: `600000.00`, `0.50`, `-12.30`.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let magnitude = self.0.unsigned_abs();
        let per_tenge = TIYN_PER_TENGE.unsigned_abs();
        write!(
            f,
            "{sign}{}.{:02}",
            magnitude / per_tenge,
            magnitude % per_tenge
        )
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Money({self})")
    }
}

/// Why a string is not an amount of money.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoneyError {
    input: String,
    kind: MoneyErrorKind,
}

impl MoneyError {
    fn new(input: &str, kind: MoneyErrorKind) -> MoneyError {
        MoneyError {
            input: input.to_owned(),
            kind,
        }
    }

    /// What exactly is wrong.
    #[must_use]
    pub fn kind(&self) -> &MoneyErrorKind {
        &self.kind
    }

    /// The text that was refused.
    #[must_use]
    pub fn input(&self) -> &str {
        &self.input
    }
}

/// The reasons an amount can be refused; see [`Money::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MoneyErrorKind {
    /// The text is empty.
    Empty,
    /// A `+`, or a `-` anywhere but at the very start.
    MisplacedSign,
    /// No digit before the decimal point, or none after it.
    MissingDigits,
    /// More than two digits after the decimal point: tenge have 100 tiyn.
    TooManyFractionDigits {
        /// How many fraction digits were given.
        digits: usize,
    },
    /// A character that has no place in an amount.
    InvalidCharacter {
        /// The character.
        found: char,
        /// Its byte offset in the text.
        position: usize,
    },
    /// The amount does not fit a signed 64-bit count of tiyn.
    Overflow,
}

impl fmt::Display for MoneyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid amount `{}`: ", self.input)?;
        match &self.kind {
            MoneyErrorKind::Empty => f.write_str("it is empty"),
            MoneyErrorKind::MisplacedSign => {
                f.write_str("only a single leading `-` is allowed as a sign")
            }
            MoneyErrorKind::MissingDigits => {
                f.write_str("expected digits before and after the decimal point")
            }
            MoneyErrorKind::TooManyFractionDigits { digits } => write!(
                f,
                "{digits} digits after the decimal point, at most 2 (tiyn) are allowed"
            ),
            MoneyErrorKind::InvalidCharacter { found, position } => write!(
                f,
                "unexpected character {found:?} at byte {position}; use digits and one `.`, e.g. 500000.00"
            ),
            MoneyErrorKind::Overflow => f.write_str("too large"),
        }
    }
}

impl std::error::Error for MoneyError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind_of(text: &str) -> Option<MoneyErrorKind> {
        Money::parse(text).err().map(|error| error.kind().clone())
    }

    #[test]
    fn parses_two_fraction_digits_exactly() {
        assert_eq!(Money::parse("500000.00"), Ok(Money::from_tiyn(50_000_000)));
        assert_eq!(Money::parse("0.01"), Ok(Money::from_tiyn(1)));
        assert_eq!(Money::parse("123.45"), Ok(Money::from_tiyn(12_345)));
    }

    #[test]
    fn parses_whole_tenge_without_a_fraction() {
        assert_eq!(Money::parse("500000"), Ok(Money::from_tiyn(50_000_000)));
        assert_eq!(Money::parse("0"), Ok(Money::ZERO));
        assert_eq!(Money::parse("007"), Ok(Money::from_tiyn(700)));
    }

    #[test]
    fn one_fraction_digit_means_tens_of_tiyn() {
        assert_eq!(Money::parse("0.5"), Ok(Money::from_tiyn(50)));
        assert_eq!(Money::parse("10.1"), Ok(Money::from_tiyn(1010)));
    }

    #[test]
    fn leading_minus_makes_a_negative_amount() {
        assert_eq!(Money::parse("-12.30"), Ok(Money::from_tiyn(-1230)));
        assert_eq!(Money::parse("-0"), Ok(Money::ZERO));
        assert!(Money::from_tiyn(-1).is_negative());
    }

    #[test]
    fn refuses_more_than_two_fraction_digits() {
        assert_eq!(
            kind_of("1.005"),
            Some(MoneyErrorKind::TooManyFractionDigits { digits: 3 })
        );
        assert_eq!(
            kind_of("500000.000"),
            Some(MoneyErrorKind::TooManyFractionDigits { digits: 3 })
        );
    }

    #[test]
    fn refuses_plus_and_misplaced_minus() {
        assert_eq!(kind_of("+5"), Some(MoneyErrorKind::MisplacedSign));
        assert_eq!(kind_of("--5"), Some(MoneyErrorKind::MisplacedSign));
        assert_eq!(kind_of("5-"), Some(MoneyErrorKind::MisplacedSign));
        assert_eq!(kind_of("1.-5"), Some(MoneyErrorKind::MisplacedSign));
    }

    #[test]
    fn refuses_missing_digits_around_the_point() {
        assert_eq!(kind_of(""), Some(MoneyErrorKind::Empty));
        assert_eq!(kind_of("-"), Some(MoneyErrorKind::MissingDigits));
        assert_eq!(kind_of("."), Some(MoneyErrorKind::MissingDigits));
        assert_eq!(kind_of(".5"), Some(MoneyErrorKind::MissingDigits));
        assert_eq!(kind_of("5."), Some(MoneyErrorKind::MissingDigits));
    }

    #[test]
    fn refuses_garbage_naming_the_character_and_position() {
        assert_eq!(
            kind_of("1,000.00"),
            Some(MoneyErrorKind::InvalidCharacter {
                found: ',',
                position: 1
            })
        );
        assert_eq!(
            kind_of(" 5"),
            Some(MoneyErrorKind::InvalidCharacter {
                found: ' ',
                position: 0
            })
        );
        assert_eq!(
            kind_of("-1e5"),
            Some(MoneyErrorKind::InvalidCharacter {
                found: 'e',
                position: 2
            })
        );
        assert_eq!(
            kind_of("1.2.3"),
            Some(MoneyErrorKind::InvalidCharacter {
                found: '.',
                position: 3
            })
        );
        assert!(matches!(
            kind_of("٥"),
            Some(MoneyErrorKind::InvalidCharacter { .. })
        ));
        assert!(matches!(
            kind_of("NaN"),
            Some(MoneyErrorKind::InvalidCharacter { .. })
        ));
    }

    #[test]
    fn refuses_amounts_that_overflow_i64_tiyn() {
        assert_eq!(
            kind_of("92233720368547758.08"),
            Some(MoneyErrorKind::Overflow)
        );
        assert_eq!(
            kind_of("99999999999999999999"),
            Some(MoneyErrorKind::Overflow)
        );
        assert_eq!(Money::parse("92233720368547758.07"), Ok(Money::MAX));
    }

    #[test]
    fn error_message_quotes_the_input_and_says_why() {
        let message = Money::parse("1.005").err().map(|e| e.to_string());
        assert_eq!(
            message.as_deref(),
            Some(
                "invalid amount `1.005`: 3 digits after the decimal point, at most 2 (tiyn) are allowed"
            )
        );
    }

    #[test]
    fn displays_two_fraction_digits() {
        assert_eq!(Money::from_tiyn(60_000_000).to_string(), "600000.00");
        assert_eq!(Money::from_tiyn(50).to_string(), "0.50");
        assert_eq!(Money::from_tiyn(1).to_string(), "0.01");
        assert_eq!(Money::from_tiyn(-1230).to_string(), "-12.30");
        assert_eq!(Money::from_tiyn(-5).to_string(), "-0.05");
        assert_eq!(Money::ZERO.to_string(), "0.00");
        assert_eq!(
            Money::from_tiyn(i64::MIN).to_string(),
            "-92233720368547758.08"
        );
    }

    #[test]
    fn display_and_parse_round_trip() {
        for tiyn in [
            0,
            1,
            99,
            100,
            12_345,
            -7,
            50_000_000,
            i64::MAX,
            i64::MIN + 1,
        ] {
            let money = Money::from_tiyn(tiyn);
            assert_eq!(Money::parse(&money.to_string()), Ok(money));
        }
    }

    #[test]
    fn orders_by_amount() {
        let threshold = Money::from_tiyn(50_000_000);
        assert!(Money::from_tiyn(50_000_001) > threshold);
        assert!(Money::from_tiyn(49_999_999) < threshold);
        assert_eq!(
            [Money::from_tiyn(3), Money::from_tiyn(-1), Money::ZERO]
                .iter()
                .max(),
            Some(&Money::from_tiyn(3))
        );
    }

    #[test]
    fn checked_arithmetic_reports_overflow() {
        let one = Money::from_tiyn(100);
        assert_eq!(one.checked_add(one), Some(Money::from_tiyn(200)));
        assert_eq!(one.checked_sub(one), Some(Money::ZERO));
        assert_eq!(Money::MAX.checked_add(Money::from_tiyn(1)), None);
        assert_eq!(Money::from_tiyn(i64::MIN).checked_sub(one), None);
        assert_eq!(one.checked_mul(3), Some(Money::from_tiyn(300)));
        assert_eq!(Money::MAX.checked_mul(2), None);
        assert_eq!(Money::MAX.saturating_add(one), Money::MAX);
    }

    #[test]
    fn from_tenge_scales_by_one_hundred() {
        assert_eq!(
            Money::from_tenge(500_000),
            Some(Money::from_tiyn(50_000_000))
        );
        assert_eq!(Money::from_tenge(i64::MAX), None);
    }
}
