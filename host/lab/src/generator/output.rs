//! Writing an event as one line of transaction JSON (docs/contracts.md,
//! "Transaction JSON"), with its `truth` labels.
//!
//! The line is built by hand into a reused buffer: at ten million lines a
//! generic serialiser's allocations would dominate the run. Every string
//! goes through [`push_str`], which escapes it as JSON requires, so a text
//! table edited later cannot break a line.

use std::fmt::Write;

use super::calendar;
use super::event::{Event, OWN_BASE, PLATFORMS, PartyRef, Remit};
use super::ids::{self, AccountClass, HOME_BANK};
use super::population::{PENSION_CONTRIBUTIONS, PENSION_FUND, Population, tags};
use super::rng::hash;
use super::texts;
use qorgan::transaction::Check;

/// A line's id: its number in the period (`tx-0000001`) or in the
/// look-back before it (`lb-0000001`).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Id {
    Period(u64),
    LookBack(u64),
}

/// Appends one transaction line (without the newline) for `event` with id
/// `id`.
pub(crate) fn render(out: &mut String, pop: &Population, id: Id, event: &Event) {
    let (prefix, number) = match id {
        Id::Period(n) => ("tx", n),
        Id::LookBack(n) => ("lb", n),
    };
    out.push_str("{\"id\":\"");
    out.push_str(prefix);
    let _ = write!(out, "-{number:07}");
    out.push_str("\",\"timestamp\":\"");
    calendar::write_rfc3339(out, event.time);
    out.push_str("\",\"kind\":\"");
    out.push_str(event.kind.as_str());
    out.push_str("\",\"channel\":\"");
    out.push_str(event.channel.as_str());
    out.push_str("\",\"amount\":\"");
    let _ = write!(out, "{}.{:02}", event.amount / 100, event.amount % 100);
    out.push_str("\",\"currency\":\"");
    out.push_str(if event.usd { "USD" } else { "KZT" });
    out.push_str("\",\"sender\":");
    party(out, pop, event.sender);
    out.push_str(",\"recipient\":");
    party(out, pop, event.recipient);
    remittance(out, event.remit);
    if !event.verified.is_empty() {
        out.push_str(",\"verified\":[");
        let mut first = true;
        for check in Check::ALL.iter().filter(|c| event.verified.contains(**c)) {
            if !first {
                out.push(',');
            }
            first = false;
            out.push('"');
            out.push_str(check.as_str());
            out.push('"');
        }
        out.push(']');
    }
    if let Some((device, variant)) = event.device
        && let Some(d) = pop.devices.get(device as usize)
    {
        out.push_str(",\"device\":{\"id\":");
        push_str(out, &d.id);
        out.push_str(",\"ip\":\"");
        let ip = d.ips.get(usize::from(variant)).copied().unwrap_or(d.ips[0]);
        out.push_str(&ids::ip_text(ip));
        out.push_str("\"}");
    }
    out.push_str(",\"truth\":{\"sender\":\"");
    out.push_str(pop.role(event.sender).as_str());
    out.push_str("\",\"recipient\":\"");
    out.push_str(pop.role(event.recipient).as_str());
    out.push_str("\"}}");
}

fn remittance(out: &mut String, remit: Remit) {
    let text: std::borrow::Cow<'static, str> = match remit {
        Remit::None => return,
        Remit::Text(t) => t.into(),
        Remit::Salary {
            style,
            advance,
            month,
            year,
        } => texts::salary(style, advance, usize::from(month), i64::from(year)).into(),
        Remit::Merchant(i) => texts::MERCHANTS
            .get(usize::from(i))
            .copied()
            .unwrap_or("")
            .into(),
        Remit::Foreign(i) => texts::FOREIGN_MERCHANTS
            .get(usize::from(i))
            .map_or("", |(_, name)| name)
            .into(),
    };
    if text.is_empty() {
        return;
    }
    out.push_str(",\"remittance\":");
    push_str(out, &text);
}

/// Writes a party object.
fn party(out: &mut String, pop: &Population, party: PartyRef) {
    let seed = pop.seed;
    match party {
        PartyRef::Home(i) => {
            let Some(a) = pop.account(i) else {
                out.push_str("{\"account\":\"unknown\"}");
                return;
            };
            out.push_str("{\"account\":");
            push_str(out, &a.id);
            out.push_str(",\"iin\":");
            push_str(out, &a.iin);
            out.push_str(if a.business {
                ",\"kind\":\"business\""
            } else {
                ",\"kind\":\"individual\""
            });
            out.push_str(",\"bank\":\"");
            out.push_str(HOME_BANK.bic);
            out.push_str("\",\"country\":\"KZ\",\"opened\":\"");
            calendar::write_rfc3339(out, a.opened);
            out.push('"');
            if let Some(income) = a.income {
                let _ = write!(out, ",\"income\":\"{}.{:02}\"", income / 100, income % 100);
            }
            out.push('}');
        }
        PartyRef::Person(i) => {
            let h = hash(seed, &[tags::EXTERNAL, 1, u64::from(i)]);
            let bank = ids::other_bank(h);
            let account = ids::iban(seed, bank, AccountClass::ExternalPerson, u64::from(i));
            let iin = if i >= OWN_BASE {
                pop.account(i - OWN_BASE).map(|a| a.iin.clone())
            } else {
                external_iin(seed, i)
            };
            let business = i >= OWN_BASE && pop.account(i - OWN_BASE).is_some_and(|a| a.business);
            external(out, &account, iin.as_deref(), business, bank.bic);
        }
        PartyRef::Business(i) => {
            let (bank, bic) = match i {
                PENSION_FUND | PENSION_CONTRIBUTIONS => (HOME_BANK, "NBRKKZKX"),
                _ => {
                    let bank = ids::other_bank(hash(seed, &[tags::EXTERNAL, 2, u64::from(i)]));
                    (bank, bank.bic)
                }
            };
            let account = ids::iban(seed, bank, AccountClass::ExternalBusiness, u64::from(i));
            let bin = if i >= OWN_BASE {
                pop.account(i - OWN_BASE).map(|a| a.iin.clone())
            } else {
                external_bin(seed, i)
            };
            external(out, &account, bin.as_deref(), true, bic);
        }
        PartyRef::Merchant(i) => {
            let bank = ids::other_bank(hash(seed, &[tags::EXTERNAL, 3, u64::from(i)]));
            let account = ids::iban(seed, bank, AccountClass::ExternalMerchant, u64::from(i));
            let bin = external_bin(seed, i ^ 0x4D45_5243);
            external(out, &account, bin.as_deref(), true, bank.bic);
        }
        PartyRef::Foreign(i) => {
            let country = texts::FOREIGN_MERCHANTS
                .get(usize::from(i))
                .map_or("TR", |(c, _)| c);
            let _ = write!(
                out,
                "{{\"account\":\"ACQ-{country}-{:06}\",\"kind\":\"business\",\"country\":\"{country}\"}}",
                hash(seed, &[tags::EXTERNAL, 4, u64::from(i)]) % 1_000_000
            );
        }
        PartyRef::Atm(city, number) => {
            out.push_str("{\"account\":\"");
            out.push_str(&ids::atm_id(usize::from(city), u32::from(number)));
            out.push_str("\",\"kind\":\"business\",\"bank\":\"");
            out.push_str(HOME_BANK.bic);
            out.push_str("\",\"country\":\"KZ\"}");
        }
        PartyRef::Vasp(p, n) => {
            let (id, country) = PLATFORMS
                .get(usize::from(p))
                .copied()
                .unwrap_or(("bybit", "KZ"));
            let _ = write!(
                out,
                "{{\"account\":\"{}-DEPOSIT-{n:02}\",\"kind\":\"vasp\",\"vasp\":\"{id}\",\"country\":\"{country}\"}}",
                id.to_ascii_uppercase()
            );
        }
    }
}

fn external(out: &mut String, account: &str, iin: Option<&str>, business: bool, bic: &str) {
    out.push_str("{\"account\":");
    push_str(out, account);
    if let Some(iin) = iin {
        out.push_str(",\"iin\":");
        push_str(out, iin);
    }
    out.push_str(if business {
        ",\"kind\":\"business\""
    } else {
        ",\"kind\":\"individual\""
    });
    out.push_str(",\"bank\":\"");
    out.push_str(bic);
    out.push_str("\",\"country\":\"KZ\"}");
}

/// The IIN of a person at another bank: born 1950–2007, a serial in the
/// upper half of the range (the home bank's customers use the lower half).
pub(crate) fn external_iin(seed: u64, index: u32) -> Option<String> {
    let h = hash(seed, &[tags::EXTERNAL, 5, u64::from(index)]);
    let birth = calendar::days_from_civil(1950, 1, 1) + (h % (57 * 365)) as i64;
    let (y, m, d) = calendar::civil_from_days(birth);
    let female = (h >> 20) & 1 == 1;
    let serial = 5_000 + ((h >> 24) % 4_990) as u32;
    (0..10).find_map(|k| ids::iin(y, m, d, female, serial + k))
}

/// The BIN of a company at another bank.
fn external_bin(seed: u64, index: u32) -> Option<String> {
    let h = hash(seed, &[tags::EXTERNAL, 6, u64::from(index)]);
    let reg = calendar::days_from_civil(1996, 1, 1) + (h % (27 * 365)) as i64;
    let (y, m, _) = calendar::civil_from_days(reg);
    let serial = 50_000 + ((h >> 24) % 49_990) as u32;
    (0..10).find_map(|k| ids::bin(y, m, serial + k))
}

/// Appends `text` as a JSON string.
pub(crate) fn push_str(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        let mut out = String::new();
        push_str(&mut out, "a\"b\\c\nd\u{1}é");
        assert_eq!(out, r#""a\"b\\c\nd\u0001é""#);
        let parsed: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
        assert_eq!(parsed, "a\"b\\c\nd\u{1}é");
    }

    #[test]
    fn external_iins_pass_the_checksum() {
        for i in 0..2000 {
            if let Some(iin) = external_iin(3, i) {
                assert!(ids::iin_is_valid(&iin), "{iin}");
            }
        }
    }
}
