//! A transaction as a rule reads it.

use crate::{Account, Channel, Checks, Cursor, Money, PartyKind, Timestamp, TxKind, wit};

/// A read-only view of one transaction of a batch.
///
/// On the wire a transaction is a record of numbers, enums and flags whose
/// text (IINs, the remittance line, the currency code) lives in one byte
/// buffer per batch; `Tx` pairs the record with that buffer and hands out
/// `&str`s. A span that points outside the buffer or at bytes that are not
/// UTF-8 reads as empty (the same as an absent value): a malformed batch can
/// make a rule see less, never make it panic.
///
/// Rules receive a `Tx` in [`Rule::evaluate`](crate::Rule::evaluate); tests
/// build one with [`testing::TxBuilder`](crate::testing::TxBuilder).
#[derive(Clone, Copy, Debug)]
pub struct Tx<'a> {
    raw: &'a wit::Transaction,
    text: &'a [u8],
}

impl<'a> Tx<'a> {
    /// A view of `raw`, whose spans point into `text` (the batch's buffer).
    #[must_use]
    pub fn new(raw: &'a wit::Transaction, text: &'a [u8]) -> Tx<'a> {
        Tx { raw, text }
    }

    /// Where the transaction stands in the host's stream; pass it to the
    /// [`Host`](crate::Host)'s history questions.
    #[must_use]
    pub fn at(&self) -> Cursor {
        self.raw.at
    }

    /// The transaction's own time, in seconds since the Unix epoch.
    #[must_use]
    pub fn time(&self) -> Timestamp {
        self.raw.at.time
    }

    /// What kind of transaction it is.
    #[must_use]
    pub fn kind(&self) -> TxKind {
        self.raw.kind
    }

    /// The channel it came through.
    #[must_use]
    pub fn channel(&self) -> Channel {
        self.raw.channel
    }

    /// The amount, converted to tenge by the host.
    #[must_use]
    pub fn amount(&self) -> Money {
        Money::from_tiyn(self.raw.amount)
    }

    /// The currency the transaction was made in (ISO 4217 alpha code such
    /// as `KZT`); empty when not given.
    #[must_use]
    pub fn currency(&self) -> &'a str {
        span_text(self.text, self.raw.currency)
    }

    /// The payer.
    #[must_use]
    pub fn sender(&self) -> Party<'a> {
        Party {
            raw: &self.raw.sender,
            text: self.text,
        }
    }

    /// The payee.
    #[must_use]
    pub fn recipient(&self) -> Party<'a> {
        Party {
            raw: &self.raw.recipient,
            text: self.text,
        }
    }

    /// The remittance (purpose-of-payment) text; empty when there is none.
    #[must_use]
    pub fn remittance(&self) -> &'a str {
        span_text(self.text, self.raw.remittance)
    }

    /// The checks the bank has already done for this transaction.
    #[must_use]
    pub fn verified(&self) -> Checks {
        Checks::from(self.raw.verified)
    }

    /// The device the transaction was made from, as a host handle.
    #[must_use]
    pub fn device(&self) -> Option<u64> {
        self.raw.device
    }

    /// The underlying WIT record.
    #[must_use]
    pub fn raw(&self) -> &'a wit::Transaction {
        self.raw
    }
}

/// A read-only view of one side of a transaction; see [`Tx::sender`] and
/// [`Tx::recipient`].
#[derive(Clone, Copy, Debug)]
pub struct Party<'a> {
    raw: &'a wit::Party,
    text: &'a [u8],
}

impl<'a> Party<'a> {
    /// The account (IBAN or card reference) as a host handle; pass it to
    /// history and list questions.
    #[must_use]
    pub fn account(&self) -> Account {
        self.raw.account
    }

    /// The IIN (individual) or BIN (business) exactly as the bank gave it,
    /// or `None` when absent. It is *not* validated: see [`crate::iin`].
    #[must_use]
    pub fn iin(&self) -> Option<&'a str> {
        non_empty(span_text(self.text, self.raw.iin))
    }

    /// Who the party is.
    #[must_use]
    pub fn kind(&self) -> PartyKind {
        self.raw.kind
    }

    /// The VASP's identifier (e.g. `okx`, `bybit`), lower-case, when the party
    /// is a crypto platform.
    #[must_use]
    pub fn vasp(&self) -> Option<&'a str> {
        non_empty(span_text(self.text, self.raw.vasp))
    }

    /// The ISO 3166 alpha-2 country code, when given.
    #[must_use]
    pub fn country(&self) -> Option<&'a str> {
        non_empty(span_text(self.text, self.raw.country))
    }

    /// When the account was opened, if the bank said.
    #[must_use]
    pub fn opened(&self) -> Option<Timestamp> {
        self.raw.opened
    }

    /// The holder (the IIN/BIN) as a host handle, when one is given; pass
    /// it to [`Host::accounts_of_holder`](crate::Host::accounts_of_holder).
    #[must_use]
    pub fn holder(&self) -> Option<u64> {
        self.raw.holder
    }

    /// The holder's declared monthly income, when the bank gave it.
    #[must_use]
    pub fn income(&self) -> Option<Money> {
        self.raw.income.map(Money::from_tiyn)
    }

    /// The underlying WIT record.
    #[must_use]
    pub fn raw(&self) -> &'a wit::Party {
        self.raw
    }
}

/// The text a span points at, or `""` when it is out of bounds or not UTF-8.
fn span_text(text: &[u8], span: wit::Span) -> &str {
    let (Ok(start), Ok(len)) = (usize::try_from(span.start), usize::try_from(span.len)) else {
        return "";
    };
    start
        .checked_add(len)
        .and_then(|end| text.get(start..end))
        .and_then(|bytes| core::str::from_utf8(bytes).ok())
        .unwrap_or_default()
}

fn non_empty(text: &str) -> Option<&str> {
    if text.is_empty() { None } else { Some(text) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TxBuilder;

    fn with_remittance_span(start: u32, len: u32, text: &[u8]) -> String {
        let built = TxBuilder::transfer("1.00").build();
        let mut raw = *built.raw();
        raw.remittance = wit::Span { start, len };
        Tx::new(&raw, text).remittance().to_owned()
    }

    #[test]
    fn spans_read_their_text() {
        assert_eq!(with_remittance_span(2, 4, b"..USDT.."), "USDT");
        assert_eq!(with_remittance_span(0, 0, b"abc"), "");
    }

    #[test]
    fn out_of_bounds_span_reads_as_empty() {
        assert_eq!(with_remittance_span(2, 4, b"abc"), "");
        assert_eq!(with_remittance_span(u32::MAX, u32::MAX, b"abc"), "");
        assert_eq!(with_remittance_span(4, 0, b"abc"), "");
    }

    #[test]
    fn invalid_utf8_span_reads_as_empty() {
        assert_eq!(with_remittance_span(0, 2, &[0xff, 0xfe]), "");
        // A span that cuts a two-byte character in half.
        assert_eq!(with_remittance_span(0, 1, "ө".as_bytes()), "");
    }

    #[test]
    fn empty_iin_span_means_absent() {
        let tx = TxBuilder::card_topup("10.00").build();
        assert_eq!(tx.tx().sender().iin(), None);
        let tx = TxBuilder::card_topup("10.00")
            .sender_iin("061211600012")
            .build();
        assert_eq!(tx.tx().sender().iin(), Some("061211600012"));
        assert_eq!(tx.tx().recipient().iin(), None);
    }

    #[test]
    fn reads_every_field_the_builder_set() {
        let tx = TxBuilder::transfer("600000.00")
            .channel(Channel::MobileApp)
            .currency("USD")
            .time(1_740_823_200)
            .seq(7)
            .sender_account(11)
            .sender_kind(PartyKind::Individual)
            .sender_country("KZ")
            .sender_opened(1_740_000_000)
            .recipient_account(22)
            .recipient_kind(PartyKind::Vasp)
            .recipient_vasp("okx")
            .recipient_iin("061211600012")
            .remittance("USDT обмен")
            .verified(Checks::RECIPIENT_IIN)
            .device(5)
            .build();
        let view = tx.tx();
        assert_eq!(view.kind(), TxKind::Transfer);
        assert_eq!(view.channel(), Channel::MobileApp);
        assert_eq!(view.amount(), Money::from_tiyn(60_000_000));
        assert_eq!(view.currency(), "USD");
        assert_eq!(view.time(), 1_740_823_200);
        assert_eq!(view.at().seq, 7);
        assert_eq!(view.sender().account(), 11);
        assert_eq!(view.sender().kind(), PartyKind::Individual);
        assert_eq!(view.sender().country(), Some("KZ"));
        assert_eq!(view.sender().opened(), Some(1_740_000_000));
        assert_eq!(view.sender().vasp(), None);
        assert_eq!(view.recipient().account(), 22);
        assert_eq!(view.recipient().kind(), PartyKind::Vasp);
        assert_eq!(view.recipient().vasp(), Some("okx"));
        assert_eq!(view.recipient().iin(), Some("061211600012"));
        assert_eq!(view.remittance(), "USDT обмен");
        assert_eq!(view.verified(), Checks::RECIPIENT_IIN);
        assert_eq!(view.device(), Some(5));
    }
}
