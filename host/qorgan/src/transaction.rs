//! The transaction input contract: one JSON object per payment.
//!
//! Banks send transactions in the engine's own JSON format (docs/contracts.md,
//! "Transaction JSON"). This module turns one such object into a typed
//! [`Transaction`], checking every field a rule may read. Amounts are decimal
//! strings parsed exactly into [`Amount`]s; nothing on the way is a float.
//! Unknown fields are kept out of the way and ignored. A missing required
//! field or a malformed value is an error for that transaction only, and the
//! error names the field, so a bank engineer can find the bad record.

use std::fmt;

use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Why a transaction was rejected. The message names the offending field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransactionError {
    /// The input is not a JSON object.
    #[error("not a JSON object: {0}")]
    NotJson(String),
    /// A required field is absent (or `null`).
    #[error("missing field `{0}`")]
    Missing(String),
    /// A key appears twice in one object. JSON parsers disagree on which
    /// value wins, so a transaction could be decided on another amount
    /// than the one a bank's other systems read: it is refused instead.
    #[error("duplicate key `{0}`: a key may appear once in an object")]
    DuplicateKey(String),
    /// A field is present but its value is malformed.
    #[error("field `{field}`: {problem}")]
    Invalid {
        /// The dotted path of the field, e.g. `sender.opened`.
        field: String,
        /// What is wrong with it.
        problem: String,
    },
}

impl TransactionError {
    fn invalid(field: &str, problem: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.to_owned(),
            problem: problem.into(),
        }
    }
}

macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The value's name in the JSON contract.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire),+
                }
            }

            /// Parses the value's name in the JSON contract.
            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($wire => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use wire_enum;

wire_enum! {
    /// The kind of a transaction.
    TxKind {
        /// Money loaded onto a bank card.
        CardTopup = "card-topup",
        /// A transfer between accounts.
        Transfer = "transfer",
        /// Cash taken out.
        CashWithdrawal = "cash-withdrawal",
        /// Cash paid in.
        CashDeposit = "cash-deposit",
        /// A card payment to a merchant.
        CardPayment = "card-payment",
        /// Tenge exchanged for a digital asset.
        CryptoPurchase = "crypto-purchase",
        /// A digital asset exchanged for tenge.
        CryptoSale = "crypto-sale",
        /// Anything else.
        Other = "other",
    }
}

wire_enum! {
    /// The channel a transaction came through. Unrecognised channels read as
    /// [`Channel::Other`].
    Channel {
        /// The bank's mobile app.
        MobileApp = "mobile-app",
        /// Internet banking.
        InternetBanking = "internet-banking",
        /// A teller at a branch.
        Branch = "branch",
        /// An ATM or cash-in terminal.
        Atm = "atm",
        /// A card terminal at a merchant.
        Pos = "pos",
        /// A machine-to-machine interface.
        Api = "api",
        /// Any other channel.
        Other = "other",
    }
}

wire_enum! {
    /// Who a party is.
    PartyKind {
        /// A natural person.
        Individual = "individual",
        /// A legal entity.
        Business = "business",
        /// A virtual-asset service provider.
        Vasp = "vasp",
        /// Not stated.
        Unknown = "unknown",
    }
}

/// The words a bank may send for a party kind besides the contract's own,
/// and the kind each reads as (docs/contracts.md, "Party kinds"). Words are
/// compared after [`vocabulary_word`]: case, surrounding spaces, `_` and
/// inner spaces do not matter. An individual entrepreneur (ИП) is a natural
/// person numbered by an IIN, so an `individual`; government bodies and
/// non-profits are legal entities numbered by BINs, so `business`.
pub const PARTY_KIND_SYNONYMS: &[(&str, PartyKind)] = &[
    ("natural-person", PartyKind::Individual),
    ("person", PartyKind::Individual),
    ("private-person", PartyKind::Individual),
    ("physical-person", PartyKind::Individual),
    ("individual-entrepreneur", PartyKind::Individual),
    ("entrepreneur", PartyKind::Individual),
    ("sole-proprietor", PartyKind::Individual),
    ("ip", PartyKind::Individual),
    ("legal-entity", PartyKind::Business),
    ("legal-person", PartyKind::Business),
    ("organisation", PartyKind::Business),
    ("organization", PartyKind::Business),
    ("company", PartyKind::Business),
    ("corporate", PartyKind::Business),
    ("merchant", PartyKind::Business),
    ("government-body", PartyKind::Business),
    ("government", PartyKind::Business),
    ("state-body", PartyKind::Business),
    ("non-profit", PartyKind::Business),
    ("nonprofit", PartyKind::Business),
    ("ngo", PartyKind::Business),
    ("crypto-platform", PartyKind::Vasp),
    ("crypto-exchange", PartyKind::Vasp),
    ("not-stated", PartyKind::Unknown),
];

/// The words a bank may send for a channel besides the contract's own, and
/// the channel each reads as (compared as for [`PARTY_KIND_SYNONYMS`]).
pub const CHANNEL_SYNONYMS: &[(&str, Channel)] = &[
    ("mobile", Channel::MobileApp),
    ("app", Channel::MobileApp),
    ("internet", Channel::InternetBanking),
    ("online", Channel::InternetBanking),
    ("web", Channel::InternetBanking),
    ("teller", Channel::Branch),
    ("cash-in-terminal", Channel::Atm),
    ("terminal", Channel::Pos),
    ("host-to-host", Channel::Api),
];

/// A vocabulary word as compared: trimmed, lower-cased, with `_` and runs
/// of spaces read as `-` (`Legal_Entity` and `legal entity` are
/// `legal-entity`).
#[must_use]
pub fn vocabulary_word(word: &str) -> String {
    word.trim()
        .split(|c: char| c == '_' || c.is_whitespace())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("-")
        .to_lowercase()
}

impl PartyKind {
    /// Reads a party kind as a bank sends it: a contract word or one of
    /// [`PARTY_KIND_SYNONYMS`], compared as [`vocabulary_word`] says.
    #[must_use]
    pub fn from_word(word: &str) -> Option<PartyKind> {
        let word = vocabulary_word(word);
        PartyKind::parse(&word).or_else(|| synonym(PARTY_KIND_SYNONYMS, &word))
    }
}

impl TxKind {
    /// Reads a transaction kind as a bank sends it, compared as
    /// [`vocabulary_word`] says.
    #[must_use]
    pub fn from_word(word: &str) -> Option<TxKind> {
        TxKind::parse(&vocabulary_word(word))
    }
}

impl Channel {
    /// Reads a channel as a bank sends it: a contract word or one of
    /// [`CHANNEL_SYNONYMS`], compared as [`vocabulary_word`] says.
    #[must_use]
    pub fn from_word(word: &str) -> Option<Channel> {
        let word = vocabulary_word(word);
        Channel::parse(&word).or_else(|| synonym(CHANNEL_SYNONYMS, &word))
    }
}

fn synonym<T: Copy>(table: &[(&str, T)], word: &str) -> Option<T> {
    table.iter().find(|(w, _)| *w == word).map(|(_, v)| *v)
}

/// A word of one of the contract's vocabularies (a transaction or party
/// kind, a channel, a check) that this host does not know. The transaction
/// is still decided: the field reads as [`UnknownWord::read_as`] and the
/// decision gets an `UNKNOWN_VOCABULARY` finding naming the word, so a bank's
/// new word can never leave a payment undecided nor pass unseen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownWord {
    /// The dotted path of the field, e.g. `recipient.kind` or `verified[1]`.
    pub field: String,
    /// The word as sent.
    pub word: String,
    /// What the host read it as: `other`, `unknown`, or `not-credited` for
    /// a check.
    pub read_as: &'static str,
}

wire_enum! {
    /// An identity or confirmation check, done (on a transaction) or required
    /// (on a decision).
    Check {
        /// The sender's IIN/BIN was verified.
        SenderIin = "sender-iin",
        /// The recipient's IIN/BIN was verified.
        RecipientIin = "recipient-iin",
        /// Confirmed in the mobile app.
        AppConfirmation = "app-confirmation",
        /// Confirmed by SMS code.
        SmsConfirmation = "sms-confirmation",
        /// Biometric verification.
        Biometric = "biometric",
    }
}

/// A set of [`Check`]s.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Checks(u8);

impl Checks {
    /// The empty set.
    pub const NONE: Checks = Checks(0);

    fn bit(check: Check) -> u8 {
        1 << (check as u8)
    }

    /// Whether `check` is in the set.
    pub fn contains(self, check: Check) -> bool {
        self.0 & Self::bit(check) != 0
    }

    /// Adds `check` to the set.
    pub fn insert(&mut self, check: Check) {
        self.0 |= Self::bit(check);
    }

    /// The union of two sets.
    pub fn union(self, other: Checks) -> Checks {
        Checks(self.0 | other.0)
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    /// The checks in the set, in the contract's order.
    pub fn iter(self) -> impl Iterator<Item = Check> {
        Check::ALL
            .iter()
            .copied()
            .filter(move |c| self.contains(*c))
    }
}

impl FromIterator<Check> for Checks {
    fn from_iter<I: IntoIterator<Item = Check>>(iter: I) -> Self {
        let mut set = Checks::NONE;
        for check in iter {
            set.insert(check);
        }
        set
    }
}

impl serde::Serialize for Checks {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter().map(Check::as_str))
    }
}

/// An exact decimal amount in a currency, as written in the input.
///
/// Stored as an integer `units` scaled by `10^scale`, so `"600000.00"` is
/// `units = 60_000_000, scale = 2`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Amount {
    /// The digits, without the decimal point.
    pub units: i128,
    /// How many of those digits are fraction digits.
    pub scale: u32,
    /// ISO 4217 alpha code (or a digital asset's ticker), upper-case.
    pub currency: String,
}

/// The most fraction digits an amount may have.
pub const MAX_SCALE: u32 = 8;

impl Amount {
    /// Parses a decimal string such as `"600000.00"`, `"12"` or `"0.5"`.
    pub fn parse_decimal(text: &str) -> Result<(i128, u32), String> {
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (whole, fraction) = match digits.split_once('.') {
            Some((w, f)) => (w, f),
            None => (digits, ""),
        };
        if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("`{text}` is not a decimal number"));
        }
        if digits.contains('.') && fraction.is_empty() {
            return Err(format!(
                "`{text}` has a decimal point but no fraction digits"
            ));
        }
        if !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("`{text}` is not a decimal number"));
        }
        let scale = u32::try_from(fraction.len()).unwrap_or(u32::MAX);
        if scale > MAX_SCALE {
            return Err(format!(
                "`{text}` has {scale} fraction digits; at most {MAX_SCALE} are accepted"
            ));
        }
        let mut units: i128 = 0;
        for b in whole.bytes().chain(fraction.bytes()) {
            units = units
                .checked_mul(10)
                .and_then(|u| u.checked_add(i128::from(b - b'0')))
                .ok_or_else(|| format!("`{text}` is too large"))?;
        }
        if units > i128::from(i64::MAX) {
            return Err(format!("`{text}` is too large"));
        }
        Ok((if negative { -units } else { units }, scale))
    }

    /// Converts the amount to tiyn (hundredths of a tenge) at `rate` tenge
    /// per unit of the amount's currency, where `rate` is `(units, scale)` as
    /// from [`Amount::parse_decimal`]. Rounds half away from zero.
    pub fn to_tiyn(&self, rate: (i128, u32)) -> Option<i64> {
        let (rate_units, rate_scale) = rate;
        let product = self.units.checked_mul(rate_units)?;
        // product has scale self.scale + rate_scale; tiyn have scale 2.
        let scale = self.scale + rate_scale;
        let tiyn = if scale >= 2 {
            let divisor = 10i128.checked_pow(scale - 2)?;
            let quotient = product / divisor;
            let remainder = product % divisor;
            if remainder.abs() * 2 >= divisor && divisor > 1 {
                quotient + product.signum()
            } else {
                quotient
            }
        } else {
            product.checked_mul(10i128.checked_pow(2 - scale)?)?
        };
        i64::try_from(tiyn).ok()
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.units < 0 { "-" } else { "" };
        let abs = self.units.unsigned_abs();
        if self.scale == 0 {
            return write!(f, "{sign}{abs} {}", self.currency);
        }
        let divisor = 10u128.pow(self.scale);
        write!(
            f,
            "{sign}{}.{:0width$} {}",
            abs / divisor,
            abs % divisor,
            self.currency,
            width = self.scale as usize
        )
    }
}

/// One side of a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    /// The account: an IBAN or a card reference.
    pub account: String,
    /// The IIN or BIN as given, not yet validated (that is a rule's job).
    pub iin: Option<String>,
    /// The party's name, if given (never shown to rules).
    pub name: Option<String>,
    /// Who the party is.
    pub kind: PartyKind,
    /// The party's bank (BIC), if given.
    pub bank: Option<String>,
    /// ISO 3166 alpha-2 country code, upper-case.
    pub country: Option<String>,
    /// When the account was opened, seconds since the epoch.
    pub opened: Option<i64>,
    /// The VASP identifier, lower-case, for crypto platforms.
    pub vasp: Option<String>,
    /// The holder's declared monthly income in tiyn, from the bank's
    /// know-your-customer file (`"income": "250000.00"`, in tenge).
    pub income: Option<i64>,
}

/// The device a transaction was made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// The bank's device identifier.
    pub id: Option<String>,
    /// The IP address the transaction came from.
    pub ip: Option<String>,
}

/// A transaction, checked and typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// The bank's transaction identifier.
    pub id: String,
    /// When it happened, seconds since the epoch.
    pub timestamp: i64,
    /// What kind of transaction it is.
    pub kind: TxKind,
    /// The channel it came through.
    pub channel: Channel,
    /// How much, in which currency.
    pub amount: Amount,
    /// The payer.
    pub sender: Party,
    /// The payee.
    pub recipient: Party,
    /// The remittance text (empty when absent).
    pub remittance: String,
    /// The checks the bank has already done.
    pub verified: Checks,
    /// The device it was made from.
    pub device: Option<Device>,
    /// Vocabulary words the host did not know, in field order; each makes
    /// an `UNKNOWN_VOCABULARY` finding.
    pub unknown_words: Vec<UnknownWord>,
}

impl Transaction {
    /// Parses one transaction from a JSON text; a key repeated in any
    /// object is refused ([`parse_json`]).
    pub fn from_json(text: &str) -> Result<Transaction, TransactionError> {
        Transaction::from_value(&parse_json(text)?)
    }

    /// Parses one transaction from a JSON value.
    pub fn from_value(value: &Value) -> Result<Transaction, TransactionError> {
        let obj = value
            .as_object()
            .ok_or_else(|| TransactionError::NotJson(format!("expected an object, got {value}")))?;
        let id = required_str(obj, "", "id")?;
        if id.is_empty() {
            return Err(TransactionError::invalid("id", "must not be empty"));
        }
        let timestamp = parse_time("timestamp", &required_str(obj, "", "timestamp")?)?;
        if timestamp < 0 {
            // History's times are seconds since 1970, and not every rule
            // language can pass the host a time before it (StarlingMonkey
            // traps on a negative 64-bit value): a payment is refused
            // rather than decided differently by rules in different
            // languages.
            return Err(TransactionError::invalid(
                "timestamp",
                "must not be before 1970-01-01T00:00:00Z",
            ));
        }
        let mut unknown_words = Vec::new();
        let kind_text = required_str(obj, "", "kind")?;
        let kind = TxKind::from_word(&kind_text).unwrap_or_else(|| {
            unknown_words.push(UnknownWord {
                field: "kind".into(),
                word: kind_text.clone(),
                read_as: TxKind::Other.as_str(),
            });
            TxKind::Other
        });
        let channel = match optional_str(obj, "", "channel")? {
            None => Channel::Other,
            Some(word) => Channel::from_word(&word).unwrap_or_else(|| {
                unknown_words.push(UnknownWord {
                    field: "channel".into(),
                    word,
                    read_as: Channel::Other.as_str(),
                });
                Channel::Other
            }),
        };
        let amount_text = match obj.get("amount") {
            None | Some(Value::Null) => return Err(TransactionError::Missing("amount".into())),
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => {
                return Err(TransactionError::invalid(
                    "amount",
                    format!("must be a decimal string such as \"{n}\", not a JSON number"),
                ));
            }
            Some(other) => {
                return Err(TransactionError::invalid(
                    "amount",
                    format!("must be a decimal string, got {other}"),
                ));
            }
        };
        let (units, scale) = Amount::parse_decimal(&amount_text)
            .map_err(|p| TransactionError::invalid("amount", p))?;
        if units < 0 {
            return Err(TransactionError::invalid(
                "amount",
                format!("`{amount_text}` is negative"),
            ));
        }
        let currency = required_str(obj, "", "currency")?.to_ascii_uppercase();
        if currency.len() < 3
            || currency.len() > 10
            || !currency.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(TransactionError::invalid(
                "currency",
                format!("`{currency}` is not a currency code"),
            ));
        }
        let amount = Amount {
            units,
            scale,
            currency,
        };
        let sender = parse_party(obj, "sender", &mut unknown_words)?;
        let recipient = parse_party(obj, "recipient", &mut unknown_words)?;
        let remittance = optional_str(obj, "", "remittance")?.unwrap_or_default();
        let verified = parse_checks(obj, &mut unknown_words)?;
        let device = match obj.get("device") {
            None | Some(Value::Null) => None,
            Some(Value::Object(d)) => Some(Device {
                id: optional_str(d, "device.", "id")?,
                ip: optional_str(d, "device.", "ip")?,
            }),
            Some(other) => {
                return Err(TransactionError::invalid(
                    "device",
                    format!("expected an object, got {other}"),
                ));
            }
        };
        Ok(Transaction {
            id,
            timestamp,
            kind,
            channel,
            amount,
            sender,
            recipient,
            remittance,
            verified,
            device,
            unknown_words,
        })
    }
}

/// Parses a JSON text into a value, refusing a key repeated in any object
/// ([`TransactionError::DuplicateKey`], naming its dotted path, e.g.
/// `sender.account` or `[2].amount`).
///
/// `serde_json` keeps the last of repeated keys; another parser may keep
/// the first. Input that two systems read differently is refused here, for
/// every reader of transactions (`eval`, `serve`, the journal).
pub fn parse_json(text: &str) -> Result<Value, TransactionError> {
    use serde::de::DeserializeSeed as _;
    let duplicate = std::cell::RefCell::new(None);
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let parsed = Strict {
        path: "",
        duplicate: &duplicate,
    }
    .deserialize(&mut deserializer)
    .and_then(|value| deserializer.end().map(|()| value));
    parsed.map_err(|e| match duplicate.into_inner() {
        Some(key) => TransactionError::DuplicateKey(key),
        None => TransactionError::NotJson(e.to_string()),
    })
}

/// A JSON value deserialised with its path, noting the first repeated key.
#[derive(Clone, Copy)]
struct Strict<'a> {
    path: &'a str,
    duplicate: &'a std::cell::RefCell<Option<String>>,
}

impl<'de> serde::de::DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        loop {
            let path = format!("{}[{}]", self.path, items.len());
            let seed = Strict {
                path: &path,
                duplicate: self.duplicate,
            };
            match seq.next_element_seed(seed)? {
                Some(item) => items.push(item),
                None => return Ok(Value::Array(items)),
            }
        }
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = if self.path.is_empty() {
                key.clone()
            } else {
                format!("{}.{key}", self.path)
            };
            if object.contains_key(&key) {
                *self.duplicate.borrow_mut() = Some(path.clone());
                return Err(serde::de::Error::custom(format!("duplicate key `{path}`")));
            }
            let value = map.next_value_seed(Strict {
                path: &path,
                duplicate: self.duplicate,
            })?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

fn optional_str(
    obj: &Map<String, Value>,
    prefix: &str,
    key: &str,
) -> Result<Option<String>, TransactionError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(TransactionError::invalid(
            &format!("{prefix}{key}"),
            format!("expected a string, got {other}"),
        )),
    }
}

fn required_str(
    obj: &Map<String, Value>,
    prefix: &str,
    key: &str,
) -> Result<String, TransactionError> {
    optional_str(obj, prefix, key)?
        .ok_or_else(|| TransactionError::Missing(format!("{prefix}{key}")))
}

fn parse_time(field: &str, text: &str) -> Result<i64, TransactionError> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|e| {
            TransactionError::invalid(
                field,
                format!("`{text}` is not an RFC 3339 time such as 2025-03-01T10:15:00Z ({e})"),
            )
        })
}

fn parse_party(
    obj: &Map<String, Value>,
    side: &str,
    unknown_words: &mut Vec<UnknownWord>,
) -> Result<Party, TransactionError> {
    let party = match obj.get(side) {
        None | Some(Value::Null) => return Err(TransactionError::Missing(side.to_owned())),
        Some(Value::Object(p)) => p,
        Some(other) => {
            return Err(TransactionError::invalid(
                side,
                format!("expected an object, got {other}"),
            ));
        }
    };
    let prefix = format!("{side}.");
    let account = required_str(party, &prefix, "account")?;
    if account.trim().is_empty() {
        return Err(TransactionError::invalid(
            &format!("{side}.account"),
            "must not be empty",
        ));
    }
    let kind = match optional_str(party, &prefix, "kind")? {
        None => PartyKind::Unknown,
        Some(word) if word.trim().is_empty() => PartyKind::Unknown,
        Some(word) => PartyKind::from_word(&word).unwrap_or_else(|| {
            unknown_words.push(UnknownWord {
                field: format!("{side}.kind"),
                word,
                read_as: PartyKind::Unknown.as_str(),
            });
            PartyKind::Unknown
        }),
    };
    let opened = match optional_str(party, &prefix, "opened")? {
        None => None,
        Some(t) => Some(parse_time(&format!("{side}.opened"), &t)?),
    };
    let income = match optional_str(party, &prefix, "income")? {
        None => None,
        Some(text) => Some(parse_income(&format!("{side}.income"), &text)?),
    };
    let non_empty = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    Ok(Party {
        account,
        iin: non_empty(optional_str(party, &prefix, "iin")?),
        name: optional_str(party, &prefix, "name")?,
        kind,
        bank: optional_str(party, &prefix, "bank")?,
        country: non_empty(optional_str(party, &prefix, "country")?)
            .map(|c| c.to_ascii_uppercase()),
        opened,
        vasp: non_empty(optional_str(party, &prefix, "vasp")?).map(|v| v.trim().to_lowercase()),
        income,
    })
}

/// A declared income: a non-negative tenge amount with at most two fraction
/// digits, in tiyn.
fn parse_income(field: &str, text: &str) -> Result<i64, TransactionError> {
    let (units, scale) =
        Amount::parse_decimal(text.trim()).map_err(|p| TransactionError::invalid(field, p))?;
    if units < 0 || scale > 2 {
        return Err(TransactionError::invalid(
            field,
            format!("`{text}` must be a non-negative tenge amount with at most 2 decimals"),
        ));
    }
    let tiyn = units * 10i128.pow(2 - scale);
    i64::try_from(tiyn)
        .map_err(|_| TransactionError::invalid(field, format!("`{text}` is too large")))
}

fn parse_checks(
    obj: &Map<String, Value>,
    unknown_words: &mut Vec<UnknownWord>,
) -> Result<Checks, TransactionError> {
    match obj.get("verified") {
        None | Some(Value::Null) => Ok(Checks::NONE),
        Some(Value::Array(items)) => {
            let mut checks = Checks::NONE;
            for (i, item) in items.iter().enumerate() {
                let field = format!("verified[{i}]");
                let name = item.as_str().ok_or_else(|| {
                    TransactionError::invalid(&field, format!("expected a string, got {item}"))
                })?;
                // A check the host does not know is not credited: stricter.
                match Check::parse(&vocabulary_word(name)) {
                    Some(check) => checks.insert(check),
                    None => unknown_words.push(UnknownWord {
                        field,
                        word: name.to_owned(),
                        read_as: "not-credited",
                    }),
                }
            }
            Ok(checks)
        }
        Some(other) => Err(TransactionError::invalid(
            "verified",
            format!("expected a list of checks, got {other}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{"id":"tx-1","timestamp":"2025-03-01T10:15:00Z","kind":"card-topup",
        "channel":"mobile-app","amount":"600000.00","currency":"KZT",
        "sender":{"account":"KZ86125KZT5004100100","iin":"061211600012","kind":"individual",
                  "opened":"2025-02-20T00:00:00Z","vasp":null},
        "recipient":{"account":"KZ1","iin":null,"kind":"vasp","vasp":"OKX"},
        "remittance":"USDT обмен","verified":["recipient-iin"],
        "device":{"id":"d-1","ip":"10.0.0.7"},"extra":{"kept":"and ignored"}}"#;

    #[test]
    fn parses_the_design_sample_with_unknown_fields_ignored() -> Result<(), TransactionError> {
        let tx = Transaction::from_json(SAMPLE)?;
        assert_eq!(tx.id, "tx-1");
        assert_eq!(tx.kind, TxKind::CardTopup);
        assert_eq!(tx.amount.units, 60_000_000);
        assert_eq!(tx.amount.scale, 2);
        assert_eq!(tx.amount.to_string(), "600000.00 KZT");
        assert_eq!(tx.recipient.vasp.as_deref(), Some("okx"));
        assert!(tx.verified.contains(Check::RecipientIin));
        assert!(!tx.verified.contains(Check::SenderIin));
        assert_eq!(tx.timestamp, 1_740_824_100);
        Ok(())
    }

    #[test]
    fn missing_amount_is_named() {
        let text = SAMPLE.replace(r#""amount":"600000.00","#, "");
        assert_eq!(
            Transaction::from_json(&text),
            Err(TransactionError::Missing("amount".into()))
        );
    }

    #[test]
    fn float_amount_is_refused_with_the_field_named() {
        let text = SAMPLE.replace(r#""600000.00""#, "600000.5");
        let err = Transaction::from_json(&text)
            .map(|_| ())
            .unwrap_err_string();
        assert!(err.starts_with("field `amount`"), "{err}");
    }

    #[test]
    fn a_payment_dated_before_1970_is_refused_naming_timestamp() {
        let stamp = SAMPLE
            .split("\"timestamp\":\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_default();
        assert!(!stamp.is_empty());
        let text = SAMPLE.replace(stamp, "1969-12-31T23:59:59Z");
        let err = Transaction::from_json(&text)
            .map(|_| ())
            .unwrap_err_string();
        assert!(err.starts_with("field `timestamp`"), "{err}");
        assert!(err.contains("1970"), "{err}");
        let text = SAMPLE.replace(stamp, "1970-01-01T00:00:00Z");
        assert!(Transaction::from_json(&text).is_ok());
    }

    #[test]
    fn malformed_nested_time_names_the_path() {
        let text = SAMPLE.replace("2025-02-20T00:00:00Z", "yesterday");
        let err = Transaction::from_json(&text)
            .map(|_| ())
            .unwrap_err_string();
        assert!(err.starts_with("field `sender.opened`"), "{err}");
    }

    #[test]
    fn an_unknown_check_is_not_credited_and_named_with_its_position() -> Result<(), TransactionError>
    {
        let text = SAMPLE.replace(r#"["recipient-iin"]"#, r#"["recipient-iin","retina"]"#);
        let tx = Transaction::from_json(&text)?;
        assert_eq!(
            tx.verified.iter().collect::<Vec<_>>(),
            [Check::RecipientIin]
        );
        assert_eq!(
            tx.unknown_words,
            [UnknownWord {
                field: "verified[1]".into(),
                word: "retina".into(),
                read_as: "not-credited",
            }]
        );
        Ok(())
    }

    #[test]
    fn a_bank_s_party_kind_words_read_as_the_contract_s_kinds() -> Result<(), TransactionError> {
        for (word, kind) in [
            ("legal-entity", PartyKind::Business),
            ("Legal_Entity", PartyKind::Business),
            (" legal entity ", PartyKind::Business),
            ("government-body", PartyKind::Business),
            ("non-profit", PartyKind::Business),
            ("individual-entrepreneur", PartyKind::Individual),
            ("IP", PartyKind::Individual),
            ("Individual", PartyKind::Individual),
            ("crypto-exchange", PartyKind::Vasp),
            ("", PartyKind::Unknown),
        ] {
            let text = SAMPLE.replace(r#""kind":"vasp""#, &format!(r#""kind":"{word}""#));
            let tx = Transaction::from_json(&text)?;
            assert_eq!(tx.recipient.kind, kind, "{word}");
            assert!(tx.unknown_words.is_empty(), "{word}");
        }
        for (word, kind) in PARTY_KIND_SYNONYMS {
            assert_eq!(PartyKind::from_word(word), Some(*kind), "{word}");
            assert_eq!(PartyKind::parse(word), None, "{word} is a synonym only");
        }
        for (word, channel) in CHANNEL_SYNONYMS {
            assert_eq!(Channel::from_word(word), Some(*channel), "{word}");
        }
        Ok(())
    }

    #[test]
    fn unknown_words_are_read_as_unknown_or_other_and_named() -> Result<(), TransactionError> {
        let text = SAMPLE
            .replace(r#""kind":"card-topup""#, r#""kind":"sbp-transfer""#)
            .replace(r#""channel":"mobile-app""#, r#""channel":"smart-watch""#)
            .replace(r#""kind":"individual""#, r#""kind":"trust""#)
            .replace(r#""kind":"vasp""#, r#""kind":"dao""#);
        let tx = Transaction::from_json(&text)?;
        assert_eq!(tx.kind, TxKind::Other);
        assert_eq!(tx.channel, Channel::Other);
        assert_eq!(tx.sender.kind, PartyKind::Unknown);
        assert_eq!(tx.recipient.kind, PartyKind::Unknown);
        let named: Vec<(&str, &str, &str)> = tx
            .unknown_words
            .iter()
            .map(|w| (w.field.as_str(), w.word.as_str(), w.read_as))
            .collect();
        assert_eq!(
            named,
            [
                ("kind", "sbp-transfer", "other"),
                ("channel", "smart-watch", "other"),
                ("sender.kind", "trust", "unknown"),
                ("recipient.kind", "dao", "unknown"),
            ]
        );
        Ok(())
    }

    #[test]
    fn a_repeated_key_is_refused_naming_it_wherever_it_is() {
        let text = SAMPLE.replace(
            r#""currency":"KZT","#,
            r#""currency":"KZT","amount":"1.00","#,
        );
        assert_eq!(
            Transaction::from_json(&text),
            Err(TransactionError::DuplicateKey("amount".into()))
        );
        let nested = SAMPLE.replace(r#""account":"KZ1","#, r#""account":"KZ1","account":"KZ2","#);
        assert_eq!(
            Transaction::from_json(&nested),
            Err(TransactionError::DuplicateKey("recipient.account".into()))
        );
        assert_eq!(
            parse_json(r#"[{"a":1},{"b":{"c":1,"c":2}}]"#),
            Err(TransactionError::DuplicateKey("[1].b.c".into()))
        );
        assert!(matches!(
            parse_json(r#"{"a":1} trailing"#),
            Err(TransactionError::NotJson(_))
        ));
        assert_eq!(
            parse_json(r#"{"a":[1,2.5,null,true,"x"]}"#),
            Ok(serde_json::json!({"a":[1,2.5,null,true,"x"]}))
        );
    }

    #[test]
    fn decimals_parse_exactly() {
        assert_eq!(Amount::parse_decimal("500000.00"), Ok((50_000_000, 2)));
        assert_eq!(Amount::parse_decimal("0.5"), Ok((5, 1)));
        assert_eq!(Amount::parse_decimal("12"), Ok((12, 0)));
        assert!(Amount::parse_decimal("1e5").is_err());
        assert!(Amount::parse_decimal("1.").is_err());
        assert!(Amount::parse_decimal(".5").is_err());
        assert!(Amount::parse_decimal("1.123456789").is_err());
        assert!(Amount::parse_decimal("99999999999999999999999").is_err());
    }

    #[test]
    fn conversion_to_tiyn_rounds_half_away_from_zero() {
        let usd = Amount {
            units: 1_005,
            scale: 3,
            currency: "USD".into(),
        };
        // 1.005 USD at 500.5 KZT = 503.0025 KZT → 50300 tiyn.
        assert_eq!(usd.to_tiyn((5005, 1)), Some(50_300));
        let kzt = Amount {
            units: 60_000_000,
            scale: 2,
            currency: "KZT".into(),
        };
        assert_eq!(kzt.to_tiyn((1, 0)), Some(60_000_000));
        let half = Amount {
            units: 5,
            scale: 3,
            currency: "KZT".into(),
        };
        assert_eq!(half.to_tiyn((1, 0)), Some(1));
    }

    trait UnwrapErrString {
        fn unwrap_err_string(self) -> String;
    }
    impl UnwrapErrString for Result<(), TransactionError> {
        fn unwrap_err_string(self) -> String {
            match self {
                Ok(()) => String::from("<no error>"),
                Err(e) => e.to_string(),
            }
        }
    }
}
