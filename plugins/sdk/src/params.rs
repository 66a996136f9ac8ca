//! The parameter values a rule is configured with.

use core::fmt;

use crate::{Money, ParamType, wit};

/// The pack's parameter values, as handed to
/// [`Rule::configure`](crate::Rule::configure): every declared parameter, with
/// the pack's value or the declared default.
///
/// Read them with the typed accessors; each returns a [`ConfigError`] naming
/// the parameter when it is missing or its value is not of the right type, so
/// `configure` can use `?` throughout:
///
/// ```
/// use qorgan_sdk::{ConfigError, Money, Params};
///
/// let params = Params::from_pairs([("topup-threshold", "500000.00"), ("topup-score", "35")]);
/// assert_eq!(params.money("topup-threshold")?, Money::from_tiyn(50_000_000));
/// assert_eq!(params.score("topup-score")?, 35);
/// let missing = params.boolean("topup-confirmation").map_err(|error| error.to_string());
/// assert_eq!(
///     missing,
///     Err("parameter `topup-confirmation` was not given; is it declared in the rule's metadata?".into())
/// );
/// # Ok::<(), ConfigError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Params {
    entries: Vec<(String, String)>,
}

impl Params {
    /// No parameters.
    #[must_use]
    pub fn new() -> Params {
        Params::default()
    }

    /// Parameters from `(name, value)` pairs; a later pair replaces an
    /// earlier one with the same name.
    #[must_use]
    pub fn from_pairs<N, V>(pairs: impl IntoIterator<Item = (N, V)>) -> Params
    where
        N: Into<String>,
        V: Into<String>,
    {
        let mut params = Params::new();
        for (name, value) in pairs {
            params.set(name, value);
        }
        params
    }

    /// The parameters of a `configure` call.
    #[must_use]
    pub fn from_wit(raw: Vec<wit::Param>) -> Params {
        Params::from_pairs(raw.into_iter().map(|param| (param.name, param.value)))
    }

    /// Sets `name` to `value`, replacing any earlier value.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let name = name.into();
        let value = value.into();
        match self
            .entries
            .iter_mut()
            .find(|(existing, _)| *existing == name)
        {
            Some(entry) => entry.1 = value,
            None => self.entries.push((name, value)),
        }
    }

    /// The raw value of `name`, if given.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(existing, _)| existing == name)
            .map(|(_, value)| value.as_str())
    }

    /// Every `(name, value)` pair, in the order given.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }

    fn require(&self, name: &str) -> Result<&str, ConfigError> {
        self.get(name).ok_or_else(|| ConfigError::Missing {
            name: name.to_owned(),
        })
    }

    fn typed<T>(
        &self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<T, ConfigError> {
        let value = self.require(name)?;
        parse(value).map_err(|reason| ConfigError::invalid(name, value, reason))
    }

    /// A [`money`](ParamType::Money) parameter: an exact amount of tenge.
    pub fn money(&self, name: &str) -> Result<Money, ConfigError> {
        self.typed(name, parse_money)
    }

    /// An [`integer`](ParamType::Integer) parameter: a whole number.
    pub fn integer(&self, name: &str) -> Result<i64, ConfigError> {
        self.typed(name, parse_integer)
    }

    /// A [`decimal`](ParamType::Decimal) parameter, e.g. a ratio such as
    /// `0.9`, as a finite `f64`. Decimals are for ratios and factors; never
    /// use them for amounts of money (see [`Params::money`]).
    pub fn decimal(&self, name: &str) -> Result<f64, ConfigError> {
        self.typed(name, parse_decimal)
    }

    /// A [`boolean`](ParamType::Boolean) parameter: exactly `true` or `false`.
    pub fn boolean(&self, name: &str) -> Result<bool, ConfigError> {
        self.typed(name, parse_boolean)
    }

    /// A [`text`](ParamType::Text) parameter, as given.
    pub fn text(&self, name: &str) -> Result<&str, ConfigError> {
        self.require(name)
    }

    /// An [`integer`](ParamType::Integer) parameter that is a finding's risk
    /// score, which the contract bounds to 0–100.
    pub fn score(&self, name: &str) -> Result<u8, ConfigError> {
        self.typed(name, |value| {
            let number = parse_integer(value)?;
            u8::try_from(number)
                .ok()
                .filter(|score| *score <= 100)
                .ok_or_else(|| "a score must be between 0 and 100".to_owned())
        })
    }
}

/// Why [`Rule::configure`](crate::Rule::configure) refused its parameters.
/// The host shows the message to the regulator and refuses the pack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// A parameter the rule reads was not given (normally because the rule
    /// does not declare it in its metadata).
    Missing {
        /// The parameter's name.
        name: String,
    },
    /// A parameter's value is not valid for the rule.
    Invalid {
        /// The parameter's name.
        name: String,
        /// The value that was given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl ConfigError {
    /// A value that makes no sense for the rule, e.g.
    /// `ConfigError::invalid("topup-threshold", threshold, "must not be negative")`.
    #[must_use]
    pub fn invalid(
        name: impl Into<String>,
        value: impl fmt::Display,
        reason: impl fmt::Display,
    ) -> ConfigError {
        ConfigError::Invalid {
            name: name.into(),
            value: value.to_string(),
            reason: reason.to_string(),
        }
    }

    /// The name of the parameter at fault.
    #[must_use]
    pub fn name(&self) -> &str {
        match self {
            ConfigError::Missing { name } | ConfigError::Invalid { name, .. } => name,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Missing { name } => write!(
                f,
                "parameter `{name}` was not given; is it declared in the rule's metadata?"
            ),
            ConfigError::Invalid {
                name,
                value,
                reason,
            } => write!(f, "parameter `{name}` = `{value}`: {reason}"),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Checks that `value` is a valid value of type `kind`, the way the host does
/// before it calls `configure`.
pub(crate) fn check_value(kind: ParamType, value: &str) -> Result<(), String> {
    match kind {
        ParamType::Money => parse_money(value).map(drop),
        ParamType::Integer => parse_integer(value).map(drop),
        ParamType::Decimal => parse_decimal(value).map(drop),
        ParamType::Boolean => parse_boolean(value).map(drop),
        ParamType::Text => Ok(()),
    }
}

fn parse_money(value: &str) -> Result<Money, String> {
    Money::parse(value).map_err(|error| error.to_string())
}

/// An optional `-` followed by one or more ASCII digits.
fn is_plain_integer(value: &str) -> bool {
    let digits = value.strip_prefix('-').unwrap_or(value);
    !digits.is_empty() && digits.bytes().all(|byte| byte.is_ascii_digit())
}

fn parse_integer(value: &str) -> Result<i64, String> {
    if !is_plain_integer(value) {
        return Err("expected a whole number such as 30".to_owned());
    }
    value
        .parse::<i64>()
        .map_err(|_| "the number is too large".to_owned())
}

fn parse_decimal(value: &str) -> Result<f64, String> {
    let well_formed = match value.split_once('.') {
        Some((whole, fraction)) => {
            is_plain_integer(whole)
                && !fraction.is_empty()
                && fraction.bytes().all(|byte| byte.is_ascii_digit())
        }
        None => is_plain_integer(value),
    };
    if !well_formed {
        return Err("expected a decimal number such as 0.9".to_owned());
    }
    value
        .parse::<f64>()
        .ok()
        .filter(|number| number.is_finite())
        .ok_or_else(|| "the number is out of range".to_owned())
}

fn parse_boolean(value: &str) -> Result<bool, String> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err("expected `true` or `false`".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> Params {
        Params::from_pairs([
            ("limit", "500000.00"),
            ("count", "30"),
            ("ratio", "0.9"),
            ("on", "true"),
            ("label", "AFSA"),
            ("bad", "five"),
            ("big-score", "101"),
        ])
    }

    #[test]
    fn typed_accessors_read_valid_values() {
        let params = params();
        assert_eq!(params.money("limit"), Ok(Money::from_tiyn(50_000_000)));
        assert_eq!(params.integer("count"), Ok(30));
        assert_eq!(params.decimal("ratio"), Ok(0.9));
        assert_eq!(params.boolean("on"), Ok(true));
        assert_eq!(params.text("label"), Ok("AFSA"));
        assert_eq!(params.score("count"), Ok(30));
    }

    #[test]
    fn a_missing_parameter_is_named() {
        let error = params().money("topup-threshold").err();
        assert_eq!(
            error,
            Some(ConfigError::Missing {
                name: "topup-threshold".to_owned()
            })
        );
        assert!(
            error
                .map(|e| e.to_string())
                .unwrap_or_default()
                .contains("`topup-threshold`")
        );
    }

    #[test]
    fn a_malformed_value_is_named_with_its_value_and_reason() {
        let params = params();
        for error in [
            params.money("bad").err(),
            params.integer("bad").err(),
            params.decimal("bad").err(),
            params.boolean("bad").err(),
        ] {
            let message = error.map(|e| e.to_string()).unwrap_or_default();
            assert!(
                message.starts_with("parameter `bad` = `five`: "),
                "{message}"
            );
        }
    }

    #[test]
    fn scores_above_one_hundred_are_refused() {
        let message = params().score("big-score").err().map(|e| e.to_string());
        assert_eq!(
            message.as_deref(),
            Some("parameter `big-score` = `101`: a score must be between 0 and 100")
        );
    }

    #[test]
    fn numbers_are_strict() {
        assert!(parse_integer("+5").is_err());
        assert!(parse_integer("5.0").is_err());
        assert!(parse_integer(" 5").is_err());
        assert_eq!(parse_integer("-5"), Ok(-5));
        assert!(parse_integer("99999999999999999999").is_err());
        assert!(parse_decimal("inf").is_err());
        assert!(parse_decimal("NaN").is_err());
        assert!(parse_decimal("1e3").is_err());
        assert!(parse_decimal(".5").is_err());
        assert!(parse_decimal("5.").is_err());
        assert_eq!(parse_decimal("-1.25"), Ok(-1.25));
        assert_eq!(parse_decimal("3"), Ok(3.0));
        assert!(parse_boolean("True").is_err());
        assert!(parse_boolean("1").is_err());
    }

    #[test]
    fn later_values_replace_earlier_ones() {
        let mut params = Params::from_pairs([("a", "1"), ("a", "2")]);
        assert_eq!(params.get("a"), Some("2"));
        params.set("a", "3");
        assert_eq!(params.iter().collect::<Vec<_>>(), vec![("a", "3")]);
    }
}
