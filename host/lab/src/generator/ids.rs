//! Identifiers that look like the real ones: Kazakh IBANs with valid check
//! digits, IINs and BINs that pass the checksum of docs/domain.md, device ids,
//! IP addresses, ATM and crypto-platform account ids.
//!
//! Every identifier is a pure function of the seed and an index, so an
//! account keeps its number for the whole stream without being stored
//! anywhere, and two accounts never share a number: account numbers come
//! from a bijective scramble of the index (an affine map modulo 10^12 whose
//! multiplier is coprime to 10), never from a random draw that could
//! collide.

use super::rng::hash;

/// A bank: its BIC and the three-digit bank code inside its IBANs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bank {
    /// SWIFT BIC.
    pub(crate) bic: &'static str,
    /// The bank code in positions 5–7 of its IBANs.
    pub(crate) code: &'static str,
}

/// The bank whose stream is generated: its customers' accounts are the
/// labelled ones.
pub(crate) const HOME_BANK: Bank = Bank {
    bic: "HSBKKZKX",
    code: "601",
};

/// Other Kazakh banks, with weights roughly like their share of retail
/// accounts: where external counterparties bank.
pub(crate) const OTHER_BANKS: [(u32, Bank); 9] = [
    (
        40,
        Bank {
            bic: "CASPKZKA",
            code: "722",
        },
    ),
    (
        10,
        Bank {
            bic: "KCJBKZKX",
            code: "856",
        },
    ),
    (
        9,
        Bank {
            bic: "IRTYKZKA",
            code: "965",
        },
    ),
    (
        8,
        Bank {
            bic: "TSESKZKA",
            code: "998",
        },
    ),
    (
        6,
        Bank {
            bic: "EURIKZKA",
            code: "948",
        },
    ),
    (
        5,
        Bank {
            bic: "ALFAKZKA",
            code: "914",
        },
    ),
    (
        5,
        Bank {
            bic: "HCSKKZKA",
            code: "886",
        },
    ),
    (
        4,
        Bank {
            bic: "BRKEKZKA",
            code: "821",
        },
    ),
    (
        3,
        Bank {
            bic: "KINCKZKA",
            code: "551",
        },
    ),
];

/// The other bank an external account with this hash banks with.
pub(crate) fn other_bank(h: u64) -> Bank {
    let total: u64 = OTHER_BANKS.iter().map(|(w, _)| u64::from(*w)).sum();
    let mut draw = h % total.max(1);
    for (weight, bank) in OTHER_BANKS {
        let weight = u64::from(weight);
        if draw < weight {
            return bank;
        }
        draw -= weight;
    }
    HOME_BANK
}

/// What kind of account a number is for; each class has its own number
/// space, so numbers of different classes never meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AccountClass {
    /// An account of the home bank.
    Home,
    /// A person's account at another bank.
    ExternalPerson,
    /// A company's account at another bank.
    ExternalBusiness,
    /// A merchant's account at its acquiring bank.
    ExternalMerchant,
}

impl AccountClass {
    fn letter(self) -> char {
        match self {
            AccountClass::Home => 'A',
            AccountClass::ExternalPerson => 'S',
            AccountClass::ExternalBusiness => 'B',
            AccountClass::ExternalMerchant => 'M',
        }
    }

    fn tag(self) -> u64 {
        match self {
            AccountClass::Home => 1,
            AccountClass::ExternalPerson => 2,
            AccountClass::ExternalBusiness => 3,
            AccountClass::ExternalMerchant => 4,
        }
    }
}

const TWELVE_DIGITS: u128 = 1_000_000_000_000;
/// Coprime to 10, so `index × MULTIPLIER + offset (mod 10^12)` is a
/// bijection on twelve-digit numbers.
const MULTIPLIER: u128 = 389_017_736_521;

/// The twelve-digit account number of `index` in `class`: distinct indices
/// give distinct numbers.
fn scramble(seed: u64, class: AccountClass, index: u64) -> u64 {
    let offset = u128::from(hash(seed, &[0x1BA1, class.tag()])) % TWELVE_DIGITS;
    let n = (u128::from(index) * MULTIPLIER + offset) % TWELVE_DIGITS;
    u64::try_from(n).unwrap_or(0)
}

/// A Kazakh IBAN: `KZ`, two check digits (ISO 7064 MOD 97-10, as for every
/// IBAN), the bank code and a thirteen-character account: 20 characters.
pub(crate) fn iban(seed: u64, bank: Bank, class: AccountClass, index: u64) -> String {
    let account = format!(
        "{}{}{:012}",
        bank.code,
        class.letter(),
        scramble(seed, class, index)
    );
    let check = 98 - mod97(&format!("{account}KZ00"));
    format!("KZ{check:02}{account}")
}

/// The remainder modulo 97 of an IBAN's digits, letters counting as 10–35.
fn mod97(text: &str) -> u32 {
    let mut rem: u32 = 0;
    for c in text.chars() {
        let value = match c.to_digit(36) {
            Some(v) => v,
            None => continue,
        };
        rem = if value >= 10 {
            (rem * 100 + value) % 97
        } else {
            (rem * 10 + value) % 97
        };
    }
    rem
}

/// Whether an IBAN's check digits are right.
#[cfg(test)]
pub(crate) fn iban_is_valid(iban: &str) -> bool {
    iban.len() == 20 && {
        let (head, tail) = iban.split_at(4);
        mod97(&format!("{tail}{head}")) == 1
    }
}

const FIRST_WEIGHTS: [u32; 11] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const SECOND_WEIGHTS: [u32; 11] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2];

/// The IIN/BIN check digit of eleven digits (docs/domain.md), or `None` when
/// both weighted sums are 10 and no check digit exists.
pub(crate) fn check_digit(body: &[u32; 11]) -> Option<u32> {
    let sum = |weights: &[u32; 11]| -> u32 {
        body.iter().zip(weights).map(|(d, w)| d * w).sum::<u32>() % 11
    };
    let first = sum(&FIRST_WEIGHTS);
    let s = if first == 10 {
        sum(&SECOND_WEIGHTS)
    } else {
        first
    };
    (s < 10).then_some(s)
}

/// Whether twelve digits pass the IIN/BIN checksum.
#[cfg(test)]
pub(crate) fn iin_is_valid(text: &str) -> bool {
    let digits: Vec<u32> = text.chars().filter_map(|c| c.to_digit(10)).collect();
    if text.len() != 12 || digits.len() != 12 {
        return false;
    }
    let mut body = [0u32; 11];
    body.copy_from_slice(&digits[..11]);
    check_digit(&body) == digits.get(11).copied()
}

fn with_check_digit(first_eleven: &str) -> Option<String> {
    let digits: Vec<u32> = first_eleven
        .chars()
        .filter_map(|c| c.to_digit(10))
        .collect();
    let body: [u32; 11] = digits.try_into().ok()?;
    check_digit(&body).map(|c| format!("{first_eleven}{c}"))
}

/// An IIN: birth date YYMMDD, the century-and-sex digit (3/4 for the 1900s,
/// 5/6 for the 2000s; odd for men), a four-digit serial and the check
/// digit. `None` when no check digit exists for this serial (try the next).
pub(crate) fn iin(year: i64, month: u32, day: u32, female: bool, serial: u32) -> Option<String> {
    let century = match year {
        ..=1899 => 1,
        1900..=1999 => 3,
        _ => 5,
    } + u32::from(female);
    with_check_digit(&format!(
        "{:02}{month:02}{day:02}{century}{:04}",
        year.rem_euclid(100),
        serial % 10_000
    ))
}

/// A BIN of a resident legal entity: registration YYMM, `4` (resident legal
/// entity), `0` (head office), a five-digit serial and the check digit.
/// `None` when no check digit exists for this serial.
pub(crate) fn bin(year: i64, month: u32, serial: u32) -> Option<String> {
    with_check_digit(&format!(
        "{:02}{month:02}40{:05}",
        year.rem_euclid(100),
        serial % 100_000
    ))
}

/// A device id as banks' apps report them.
pub(crate) fn device_id(seed: u64, index: u64) -> String {
    let h = hash(seed, &[0xDE71CE, index]);
    format!("dev-{:012x}", h >> 16)
}

/// Address blocks of Kazakh internet providers (home and mobile), for
/// plausible client IP addresses.
const IP_BLOCKS: [(u8, u8); 16] = [
    (2, 132),
    (2, 133),
    (2, 134),
    (5, 34),
    (5, 76),
    (37, 99),
    (37, 150),
    (37, 151),
    (82, 200),
    (89, 218),
    (92, 46),
    (95, 56),
    (95, 57),
    (95, 59),
    (178, 89),
    (188, 0),
];

/// An IPv4 address from a Kazakh provider's block, as a `u32`.
pub(crate) fn ip(seed: u64, index: u64) -> u32 {
    let h = hash(seed, &[0x1F, index]);
    let block = IP_BLOCKS
        .get((h % IP_BLOCKS.len() as u64) as usize)
        .copied()
        .unwrap_or((95, 56));
    let low = (h >> 32) as u16;
    u32::from_be_bytes([block.0, block.1, (low >> 8) as u8, (low as u8).max(2)])
}

/// An IPv4 address as dotted text.
pub(crate) fn ip_text(ip: u32) -> String {
    let [a, b, c, d] = ip.to_be_bytes();
    format!("{a}.{b}.{c}.{d}")
}

/// Cities (IATA-style codes, as in ATM ids) with weights like their
/// populations.
pub(crate) const CITIES: [(u32, &str); 14] = [
    (22, "ALA"),
    (14, "AST"),
    (12, "SHY"),
    (6, "KAR"),
    (6, "AKT"),
    (4, "TAR"),
    (4, "PAV"),
    (4, "UKK"),
    (3, "SEM"),
    (3, "GUW"),
    (3, "KSN"),
    (3, "KZO"),
    (2, "URA"),
    (2, "SCO"),
];

/// How many ATMs of the home bank each city has in the generated world.
pub(crate) const ATMS_PER_CITY: u32 = 400;

/// An ATM's account id, e.g. `ATM-ALA-0042`.
pub(crate) fn atm_id(city: usize, number: u32) -> String {
    let code = CITIES.get(city).map_or("ALA", |(_, c)| *c);
    format!("ATM-{code}-{:04}", number % 10_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ibans_have_twenty_characters_and_valid_check_digits() {
        for i in 0..2000 {
            let iban = iban(17, HOME_BANK, AccountClass::Home, i);
            assert_eq!(iban.len(), 20, "{iban}");
            assert!(iban.starts_with("KZ"), "{iban}");
            assert!(iban.chars().all(|c| c.is_ascii_alphanumeric()), "{iban}");
            assert!(iban_is_valid(&iban), "{iban}");
        }
        // A published example of a Kazakh IBAN.
        assert!(iban_is_valid("KZ86125KZT5004100100"));
    }

    #[test]
    fn account_numbers_never_collide() {
        let mut seen = std::collections::HashSet::new();
        for class in [
            AccountClass::Home,
            AccountClass::ExternalPerson,
            AccountClass::ExternalBusiness,
        ] {
            for i in 0..20_000 {
                assert!(seen.insert(iban(5, HOME_BANK, class, i)));
            }
        }
    }

    #[test]
    fn iins_pass_the_checksum_and_match_the_documented_example() {
        assert_eq!(iin(2006, 12, 11, true, 1).as_deref(), Some("061211600012"));
        assert!(iin_is_valid("061211600012"));
        assert!(!iin_is_valid("061211600013"));
        let mut made = 0;
        for serial in 0..500 {
            if let Some(iin) = iin(1987, 4, 12, serial % 2 == 0, serial) {
                assert!(iin_is_valid(&iin), "{iin}");
                assert!(iin.starts_with("870412"), "{iin}");
                made += 1;
            }
        }
        assert!(made > 400);
        let Some(b) = bin(2004, 3, 123) else {
            panic!("no check digit for the sample BIN");
        };
        assert!(b.starts_with("04034000123"), "{b}");
        assert!(iin_is_valid(&b));
    }

    #[test]
    fn century_digit_encodes_century_and_sex() {
        let male_1990 = (0..20)
            .find_map(|s| iin(1990, 1, 2, false, s))
            .unwrap_or_default();
        let female_2004 = (0..20)
            .find_map(|s| iin(2004, 1, 2, true, s))
            .unwrap_or_default();
        assert_eq!(male_1990.chars().nth(6), Some('3'));
        assert_eq!(female_2004.chars().nth(6), Some('6'));
    }

    #[test]
    fn ips_and_devices_are_stable() {
        assert_eq!(ip(1, 2), ip(1, 2));
        assert_eq!(device_id(1, 2), device_id(1, 2));
        assert_ne!(device_id(1, 2), device_id(1, 3));
        assert_eq!(ip_text(u32::from_be_bytes([95, 56, 1, 7])), "95.56.1.7");
        assert_eq!(atm_id(0, 42), "ATM-ALA-0042");
    }
}
