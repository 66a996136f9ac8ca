//! Format and checksum of Kazakhstan's IIN (individual identification number)
//! and BIN (business identification number).
//!
//! Both are twelve digits; the twelfth is a check digit over the first eleven
//! (Government decree No. 565 of 2003):
//!
//! 1. `s = Σ d[i]·i mod 11` for `i = 1..=11`;
//! 2. if `s == 10`, recompute with the weights `3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2`;
//! 3. if it is 10 again the number is invalid; otherwise `s` must equal the
//!    twelfth digit.
//!
//! This module checks only that: the length, that every character is a digit,
//! and the check digit. It does not decode birth dates, century or sex, and
//! it cannot tell whether a number was ever issued.
//!
//! ```
//! use qorgan_sdk::iin::{self, IinError};
//!
//! assert_eq!(iin::validate("061211600012"), Ok(()));
//! assert_eq!(iin::validate("061211600013"), Err(IinError::Checksum));
//! assert_eq!(iin::validate("06121160001"), Err(IinError::WrongLength { len: 11 }));
//! ```

use core::fmt;

/// How many characters an IIN or BIN has.
pub const LEN: usize = 12;

const FIRST_WEIGHTS: [u32; 11] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const SECOND_WEIGHTS: [u32; 11] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2];

/// Why a string is not a valid IIN or BIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IinError {
    /// It does not have exactly twelve characters.
    WrongLength {
        /// How many characters (not bytes) it has.
        len: usize,
    },
    /// A character is not an ASCII digit.
    NonDigit {
        /// The character's position, counting from 1 as people do.
        position: usize,
    },
    /// Twelve digits, but the check digit does not match the first eleven (or
    /// no check digit is possible for them).
    Checksum,
}

impl IinError {
    /// A short, stable name for the reason, suitable as evidence:
    /// `wrong-length`, `non-digit` or `checksum`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            IinError::WrongLength { .. } => "wrong-length",
            IinError::NonDigit { .. } => "non-digit",
            IinError::Checksum => "checksum",
        }
    }
}

impl fmt::Display for IinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IinError::WrongLength { len } => {
                write!(f, "has {len} characters, expected {LEN} digits")
            }
            IinError::NonDigit { position } => {
                write!(f, "character {position} is not a digit")
            }
            IinError::Checksum => f.write_str("fails the check-digit test"),
        }
    }
}

impl std::error::Error for IinError {}

/// Checks that `text` is twelve ASCII digits whose last digit is the check
/// digit of the first eleven. Nothing is trimmed: surrounding spaces make the
/// number invalid.
pub fn validate(text: &str) -> Result<(), IinError> {
    let len = text.chars().count();
    if len != LEN {
        return Err(IinError::WrongLength { len });
    }
    let mut digits = [0_u8; LEN];
    for (index, (slot, ch)) in digits.iter_mut().zip(text.chars()).enumerate() {
        *slot = match u8::try_from(ch) {
            Ok(byte) if byte.is_ascii_digit() => byte - b'0',
            _ => {
                return Err(IinError::NonDigit {
                    position: index + 1,
                });
            }
        };
    }
    let [body @ .., last] = digits;
    match check_digit_of(&body) {
        Some(expected) if expected == last => Ok(()),
        _ => Err(IinError::Checksum),
    }
}

/// Whether `text` passes [`validate`].
#[must_use]
pub fn is_valid(text: &str) -> bool {
    validate(text).is_ok()
}

/// The check digit for the first eleven digits of an IIN or BIN, or `None`
/// when `first_eleven` is not eleven ASCII digits or no check digit exists
/// for it (both weighted sums are 10).
///
/// Handy for making valid numbers in tests:
///
/// ```
/// assert_eq!(qorgan_sdk::iin::check_digit("06121160001"), Some(2));
/// ```
#[must_use]
pub fn check_digit(first_eleven: &str) -> Option<u8> {
    let bytes = first_eleven.as_bytes();
    if bytes.len() != LEN - 1 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut body = [0_u8; LEN - 1];
    for (slot, byte) in body.iter_mut().zip(bytes) {
        *slot = byte - b'0';
    }
    check_digit_of(&body)
}

fn check_digit_of(body: &[u8; LEN - 1]) -> Option<u8> {
    let weighted = |weights: &[u32; 11]| -> u32 {
        body.iter()
            .zip(weights)
            .map(|(digit, weight)| u32::from(*digit) * weight)
            .sum::<u32>()
            % 11
    };
    let first = weighted(&FIRST_WEIGHTS);
    let sum = if first == 10 {
        weighted(&SECOND_WEIGHTS)
    } else {
        first
    };
    // `sum` is below 11, so it fits a digit unless it is the invalid 10.
    u8::try_from(sum).ok().filter(|digit| *digit < 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_example() {
        assert_eq!(validate("061211600012"), Ok(()));
        assert!(is_valid("061211600012"));
    }

    #[test]
    fn accepts_a_number_whose_first_sum_decides() {
        // 9·1 + 1·4 + 1·6 + 1·11 = 30 ≡ 8 (mod 11).
        assert_eq!(check_digit("90010100001"), Some(8));
        assert_eq!(validate("900101000018"), Ok(()));
        // 1·11 = 11 ≡ 0.
        assert_eq!(validate("000000000010"), Ok(()));
    }

    #[test]
    fn example_needs_the_second_weights() {
        // Σ d[i]·i over "06121160001" is 87 ≡ 10 (mod 11), so the second
        // weights decide: 112 ≡ 2, the last digit of the example.
        assert_eq!(check_digit("06121160001"), Some(2));
    }

    #[test]
    fn rejects_a_wrong_check_digit() {
        for last in ['0', '1', '3', '4', '5', '6', '7', '8', '9'] {
            let candidate = format!("06121160001{last}");
            assert_eq!(validate(&candidate), Err(IinError::Checksum), "{candidate}");
        }
    }

    #[test]
    fn rejects_numbers_for_which_both_sums_are_ten() {
        // Search the space of a few bodies for one where both sums are 10
        // and make sure no last digit makes it valid.
        let body = (0..100_000_u32).map(|n| format!("{n:011}")).find(|body| {
            let digits: Vec<u32> = body.chars().filter_map(|c| c.to_digit(10)).collect();
            let sum = |w: &[u32; 11]| digits.iter().zip(w).map(|(d, w)| d * w).sum::<u32>() % 11;
            sum(&FIRST_WEIGHTS) == 10 && sum(&SECOND_WEIGHTS) == 10
        });
        let Some(body) = body else {
            panic!("no body with both sums equal to 10 in the searched range");
        };
        assert_eq!(check_digit(&body), None);
        for last in '0'..='9' {
            assert_eq!(validate(&format!("{body}{last}")), Err(IinError::Checksum));
        }
    }

    #[test]
    fn rejects_the_wrong_length_counting_characters() {
        assert_eq!(validate(""), Err(IinError::WrongLength { len: 0 }));
        assert_eq!(
            validate("06121160001"),
            Err(IinError::WrongLength { len: 11 })
        );
        assert_eq!(
            validate("0612116000120"),
            Err(IinError::WrongLength { len: 13 })
        );
        assert_eq!(
            validate(" 061211600012"),
            Err(IinError::WrongLength { len: 13 })
        );
        // Twelve characters, more than twelve bytes: a length of 12, then a non-digit.
        assert_eq!(
            validate("06121160001٢"),
            Err(IinError::NonDigit { position: 12 })
        );
    }

    #[test]
    fn rejects_non_digits_naming_the_position() {
        assert_eq!(
            validate("0612116000 2"),
            Err(IinError::NonDigit { position: 11 })
        );
        assert_eq!(
            validate("a61211600012"),
            Err(IinError::NonDigit { position: 1 })
        );
        assert_eq!(
            validate("-61211600012"),
            Err(IinError::NonDigit { position: 1 })
        );
    }

    #[test]
    fn reasons_have_stable_names_and_readable_messages() {
        assert_eq!(IinError::Checksum.as_str(), "checksum");
        assert_eq!(IinError::WrongLength { len: 3 }.as_str(), "wrong-length");
        assert_eq!(IinError::NonDigit { position: 2 }.as_str(), "non-digit");
        assert_eq!(
            IinError::WrongLength { len: 11 }.to_string(),
            "has 11 characters, expected 12 digits"
        );
        assert_eq!(
            IinError::NonDigit { position: 5 }.to_string(),
            "character 5 is not a digit"
        );
    }

    #[test]
    fn check_digit_refuses_malformed_bodies() {
        assert_eq!(check_digit("0612116000"), None);
        assert_eq!(check_digit("0612116000a"), None);
        assert_eq!(check_digit("061211600012"), None);
    }
}
