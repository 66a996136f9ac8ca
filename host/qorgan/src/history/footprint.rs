//! What history keeps of a transaction, and its durable form.
//!
//! History needs a handful of a transaction's fields: its time, amount and
//! kind, and the keys it touches (the two accounts, the device, the two
//! holders). A journal that stores this *footprint* beside each entry lets a
//! restart re-apply a million entries without parsing a million JSON
//! bodies: the footprint is a few dozen bytes read straight from the row.
//!
//! The encoding is versioned by its first byte; a footprint that does not
//! decode is an error, never a guess, so a restore either re-applies an
//! entry exactly or says which one it cannot read.

use crate::transaction::{Transaction, TxKind};

/// The encoding's version, its first byte.
const VERSION: u8 = 1;
/// The length that marks an absent key.
const ABSENT: u32 = u32::MAX;

/// What history records of one transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Footprint<'a> {
    /// The transaction's own time, seconds since the epoch.
    pub time: i64,
    /// Its amount in tiyn, as history counts it.
    pub amount: i64,
    /// Its kind.
    pub kind: TxKind,
    /// The sender's account.
    pub sender: &'a str,
    /// The recipient's account.
    pub recipient: &'a str,
    /// The device it was made from, when it names one.
    pub device: Option<&'a str>,
    /// The sender's IIN or BIN, when given.
    pub sender_holder: Option<&'a str>,
    /// The recipient's IIN or BIN, when given.
    pub recipient_holder: Option<&'a str>,
}

/// Why bytes are not a footprint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FootprintError {
    /// The first byte names an encoding this host does not read.
    #[error("footprint encoding {0} is not one this host reads")]
    Version(u8),
    /// The bytes end early, run long, or hold a key that is not UTF-8.
    #[error("the footprint is malformed at byte {0}")]
    Malformed(usize),
}

impl<'a> Footprint<'a> {
    /// The footprint of `tx`, recorded with `amount` tiyn. Keys are taken
    /// as history has always read them: a device only when its id is not
    /// blank, holders trimmed.
    pub fn of(tx: &'a Transaction, amount: i64) -> Footprint<'a> {
        Footprint {
            time: tx.timestamp,
            amount,
            kind: tx.kind,
            sender: &tx.sender.account,
            recipient: &tx.recipient.account,
            device: tx
                .device
                .as_ref()
                .and_then(|d| d.id.as_deref())
                .filter(|id| !id.trim().is_empty()),
            sender_holder: tx.sender.iin.as_deref().map(str::trim),
            recipient_holder: tx.recipient.iin.as_deref().map(str::trim),
        }
    }

    /// The durable form: a version byte, time and amount (little-endian),
    /// the kind's index, then each key as a length and its bytes.
    pub fn encode(&self) -> Vec<u8> {
        let keys = [
            Some(self.sender),
            Some(self.recipient),
            self.device,
            self.sender_holder,
            self.recipient_holder,
        ];
        let len: usize = keys.iter().flatten().map(|k| k.len()).sum();
        let mut out = Vec::with_capacity(18 + 4 * keys.len() + len);
        out.push(VERSION);
        out.extend_from_slice(&self.time.to_le_bytes());
        out.extend_from_slice(&self.amount.to_le_bytes());
        out.push(kind_index(self.kind));
        for key in keys {
            match key.and_then(|k| u32::try_from(k.len()).ok().filter(|&n| n != ABSENT)) {
                Some(n) => {
                    out.extend_from_slice(&n.to_le_bytes());
                    out.extend_from_slice(key.unwrap_or_default().as_bytes());
                }
                None => out.extend_from_slice(&ABSENT.to_le_bytes()),
            }
        }
        out
    }

    /// Reads a footprint [`Footprint::encode`] wrote; the keys borrow from
    /// `bytes`.
    pub fn decode(bytes: &'a [u8]) -> Result<Footprint<'a>, FootprintError> {
        let mut reader = Reader { bytes, at: 0 };
        let version = reader.take::<1>()?[0];
        if version != VERSION {
            return Err(FootprintError::Version(version));
        }
        let time = i64::from_le_bytes(reader.take()?);
        let amount = i64::from_le_bytes(reader.take()?);
        let at = reader.at;
        let kind = TxKind::ALL
            .get(usize::from(reader.take::<1>()?[0]))
            .copied()
            .ok_or(FootprintError::Malformed(at))?;
        let sender = reader.key()?.ok_or(FootprintError::Malformed(reader.at))?;
        let recipient = reader.key()?.ok_or(FootprintError::Malformed(reader.at))?;
        let device = reader.key()?;
        let sender_holder = reader.key()?;
        let recipient_holder = reader.key()?;
        if reader.at != bytes.len() {
            return Err(FootprintError::Malformed(reader.at));
        }
        Ok(Footprint {
            time,
            amount,
            kind,
            sender,
            recipient,
            device,
            sender_holder,
            recipient_holder,
        })
    }
}

fn kind_index(kind: TxKind) -> u8 {
    TxKind::ALL
        .iter()
        .position(|k| *k == kind)
        .and_then(|i| u8::try_from(i).ok())
        .unwrap_or(u8::MAX)
}

/// Reads the encoding front to back.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], FootprintError> {
        let end = self
            .at
            .checked_add(N)
            .ok_or(FootprintError::Malformed(self.at))?;
        let taken = self
            .bytes
            .get(self.at..end)
            .and_then(|s| <[u8; N]>::try_from(s).ok())
            .ok_or(FootprintError::Malformed(self.at))?;
        self.at = end;
        Ok(taken)
    }

    fn key(&mut self) -> Result<Option<&'a str>, FootprintError> {
        let len = u32::from_le_bytes(self.take()?);
        if len == ABSENT {
            return Ok(None);
        }
        let start = self.at;
        let end = usize::try_from(len)
            .ok()
            .and_then(|n| start.checked_add(n))
            .ok_or(FootprintError::Malformed(start))?;
        let key = self
            .bytes
            .get(start..end)
            .and_then(|s| std::str::from_utf8(s).ok())
            .ok_or(FootprintError::Malformed(start))?;
        self.at = end;
        Ok(Some(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn footprint() -> Footprint<'static> {
        Footprint {
            time: 1_740_787_200,
            amount: -5,
            kind: TxKind::CashWithdrawal,
            sender: "KZ70601A392187831127",
            recipient: "ATM-ALMATY-7",
            device: None,
            sender_holder: Some("930724303242"),
            recipient_holder: Some(""),
        }
    }

    #[test]
    fn a_footprint_comes_back_exactly_from_its_encoding() {
        let fp = footprint();
        assert_eq!(Footprint::decode(&fp.encode()), Ok(fp));
        for kind in TxKind::ALL {
            let fp = Footprint {
                kind: *kind,
                ..footprint()
            };
            assert_eq!(Footprint::decode(&fp.encode()), Ok(fp));
        }
    }

    #[test]
    fn truncated_extended_or_foreign_bytes_are_refused() {
        let bytes = footprint().encode();
        for cut in 0..bytes.len() {
            assert!(Footprint::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut long = bytes.clone();
        long.push(0);
        assert!(matches!(
            Footprint::decode(&long),
            Err(FootprintError::Malformed(_))
        ));
        let mut foreign = bytes;
        foreign[0] = 9;
        assert_eq!(Footprint::decode(&foreign), Err(FootprintError::Version(9)));
    }
}
