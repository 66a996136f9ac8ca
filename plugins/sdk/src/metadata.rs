//! What a rule declares about itself: identity, parameters, finding codes and
//! reference lists.

use core::fmt;

use crate::params::check_value;
use crate::{Action, ParamType, wit};

/// A rule's description of itself, returned by
/// [`Rule::metadata`](crate::Rule::metadata). The host reads it when it loads
/// the plugin: it checks the pack's parameters against the declared ones,
/// fills in the defaults, refuses undeclared finding codes, and makes sure the
/// pack ships every list the rule reads.
///
/// ```
/// use qorgan_sdk::{Action, CodeSpec, Metadata, ParamSpec};
///
/// let metadata = Metadata::new("kz-example", "1.0.0", "Flags large transfers.")
///     .param(ParamSpec::money("limit", "1000000.00", "Transfers above this amount are flagged."))
///     .param(ParamSpec::integer("score", 20, "Risk score of the finding, 0 to 100."))
///     .code(CodeSpec::new("LARGE_TRANSFER", Action::Review, "A transfer above the limit."))
///     .list("afsa-register");
/// assert_eq!(metadata.validate(), Ok(()));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metadata {
    id: String,
    version: String,
    description: String,
    params: Vec<ParamSpec>,
    codes: Vec<CodeSpec>,
    lists: Vec<String>,
}

impl Metadata {
    /// A rule with this `id` (kebab-case, e.g. `kz-threshold`), `version`
    /// (semver; `env!("CARGO_PKG_VERSION")` keeps it in step with the crate)
    /// and one- or two-sentence `description`, with no parameters, codes or
    /// lists yet.
    #[must_use]
    pub fn new(
        id: impl Into<String>,
        version: impl Into<String>,
        description: impl Into<String>,
    ) -> Metadata {
        Metadata {
            id: id.into(),
            version: version.into(),
            description: description.into(),
            params: Vec::new(),
            codes: Vec::new(),
            lists: Vec::new(),
        }
    }

    /// Declares a parameter.
    #[must_use]
    pub fn param(mut self, param: ParamSpec) -> Metadata {
        self.params.push(param);
        self
    }

    /// Declares a finding code.
    #[must_use]
    pub fn code(mut self, code: CodeSpec) -> Metadata {
        self.codes.push(code);
        self
    }

    /// Declares a reference list of the pack that the rule reads.
    #[must_use]
    pub fn list(mut self, name: impl Into<String>) -> Metadata {
        self.lists.push(name.into());
        self
    }

    /// The rule's id.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The rule's version.
    #[must_use]
    pub fn version(&self) -> &str {
        &self.version
    }

    /// What the rule checks.
    #[must_use]
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The declared parameters, in declaration order.
    #[must_use]
    pub fn params(&self) -> &[ParamSpec] {
        &self.params
    }

    /// The declared finding codes, in declaration order.
    #[must_use]
    pub fn codes(&self) -> &[CodeSpec] {
        &self.codes
    }

    /// The declared reference lists.
    #[must_use]
    pub fn lists(&self) -> &[String] {
        &self.lists
    }

    /// The parameter called `name`, if declared.
    #[must_use]
    pub fn find_param(&self, name: &str) -> Option<&ParamSpec> {
        self.params.iter().find(|param| param.name == name)
    }

    /// The finding code `code`, if declared.
    #[must_use]
    pub fn find_code(&self, code: &str) -> Option<&CodeSpec> {
        self.codes.iter().find(|spec| spec.code == code)
    }

    /// Checks what the host will check when it loads the rule, so mistakes
    /// show up in `cargo test` rather than at pack build time: the id and
    /// parameter names are kebab-case, codes are SCREAMING_SNAKE_CASE, nothing
    /// is declared twice, descriptions are not empty, and every default is a
    /// valid value of its parameter's type. Returns the first problem found.
    pub fn validate(&self) -> Result<(), MetadataError> {
        let fail = |message: String| Err(MetadataError { message });
        if !is_kebab_case(&self.id) {
            return fail(format!("rule id `{}` is not kebab-case", self.id));
        }
        if self.version.trim().is_empty() {
            return fail("the version is empty".to_owned());
        }
        if self.description.trim().is_empty() {
            return fail("the description is empty".to_owned());
        }
        for (index, param) in self.params.iter().enumerate() {
            let name = &param.name;
            if !is_kebab_case(name) {
                return fail(format!("parameter name `{name}` is not kebab-case"));
            }
            if self
                .params
                .iter()
                .take(index)
                .any(|other| &other.name == name)
            {
                return fail(format!("parameter `{name}` is declared twice"));
            }
            if param.description.trim().is_empty() {
                return fail(format!("parameter `{name}` has no description"));
            }
            if let Err(reason) = check_value(param.kind, &param.default) {
                return fail(format!(
                    "the default `{}` of parameter `{name}` is not a valid {}: {reason}",
                    param.default, param.kind
                ));
            }
        }
        for (index, spec) in self.codes.iter().enumerate() {
            let code = &spec.code;
            if !is_screaming_snake_case(code) {
                return fail(format!("finding code `{code}` is not SCREAMING_SNAKE_CASE"));
            }
            if self
                .codes
                .iter()
                .take(index)
                .any(|other| &other.code == code)
            {
                return fail(format!("finding code `{code}` is declared twice"));
            }
            if spec.description.trim().is_empty() {
                return fail(format!("finding code `{code}` has no description"));
            }
        }
        for (index, list) in self.lists.iter().enumerate() {
            if list.trim().is_empty() {
                return fail("a list name is empty".to_owned());
            }
            if self.lists.iter().take(index).any(|other| other == list) {
                return fail(format!("list `{list}` is declared twice"));
            }
        }
        Ok(())
    }

    /// The WIT record the `metadata` export returns.
    #[must_use]
    pub fn to_wit(&self) -> wit::RuleMetadata {
        wit::RuleMetadata {
            id: self.id.clone(),
            version: self.version.clone(),
            description: self.description.clone(),
            parameters: self
                .params
                .iter()
                .map(|param| wit::ParamSpec {
                    name: param.name.clone(),
                    type_: param.kind,
                    default: param.default.clone(),
                    description: param.description.clone(),
                    minimum: param.minimum.clone(),
                    maximum: param.maximum.clone(),
                })
                .collect(),
            codes: self
                .codes
                .iter()
                .map(|spec| wit::CodeSpec {
                    code: spec.code.clone(),
                    action: spec.action,
                    description: spec.description.clone(),
                })
                .collect(),
            lists: self.lists.clone(),
        }
    }
}

/// A parameter a rule accepts from its pack: name, type, default and what it
/// means. Make one with the constructor for its type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamSpec {
    name: String,
    kind: ParamType,
    default: String,
    description: String,
    minimum: Option<String>,
    maximum: Option<String>,
}

impl ParamSpec {
    /// A parameter of type `kind`. The typed constructors below are
    /// shorter; this one exists for generated code.
    #[must_use]
    pub fn new(
        name: impl Into<String>,
        kind: ParamType,
        default: impl fmt::Display,
        description: impl Into<String>,
    ) -> ParamSpec {
        ParamSpec {
            name: name.into(),
            kind,
            default: default.to_string(),
            description: description.into(),
            minimum: None,
            maximum: None,
        }
    }

    /// The smallest value the rule accepts (for a money, integer or decimal
    /// parameter), written like a value, e.g. `"0.50"`. The host refuses a
    /// pack that sets a smaller value, naming the parameter.
    #[must_use]
    pub fn at_least(mut self, minimum: impl fmt::Display) -> ParamSpec {
        self.minimum = Some(minimum.to_string());
        self
    }

    /// The largest value the rule accepts; see [`ParamSpec::at_least`].
    #[must_use]
    pub fn at_most(mut self, maximum: impl fmt::Display) -> ParamSpec {
        self.maximum = Some(maximum.to_string());
        self
    }

    /// The smallest value accepted, if the rule declared one.
    #[must_use]
    pub fn minimum(&self) -> Option<&str> {
        self.minimum.as_deref()
    }

    /// The largest value accepted, if the rule declared one.
    #[must_use]
    pub fn maximum(&self) -> Option<&str> {
        self.maximum.as_deref()
    }

    /// An amount of tenge, e.g. `ParamSpec::money("topup-threshold", "500000.00", "…")`
    /// (a [`Money`](crate::Money) works as the default too). Read it with
    /// [`Params::money`](crate::Params::money).
    #[must_use]
    pub fn money(
        name: impl Into<String>,
        default: impl fmt::Display,
        description: impl Into<String>,
    ) -> ParamSpec {
        ParamSpec::new(name, ParamType::Money, default, description)
    }

    /// A whole number, e.g. `ParamSpec::integer("topup-score", 35, "…")`.
    /// Read it with [`Params::integer`](crate::Params::integer) or, for a
    /// risk score, [`Params::score`](crate::Params::score).
    #[must_use]
    pub fn integer(
        name: impl Into<String>,
        default: impl fmt::Display,
        description: impl Into<String>,
    ) -> ParamSpec {
        ParamSpec::new(name, ParamType::Integer, default, description)
    }

    /// A decimal number such as a ratio, e.g. `0.9`. Read it with
    /// [`Params::decimal`](crate::Params::decimal). Use
    /// [`ParamSpec::money`] for amounts.
    #[must_use]
    pub fn decimal(
        name: impl Into<String>,
        default: impl fmt::Display,
        description: impl Into<String>,
    ) -> ParamSpec {
        ParamSpec::new(name, ParamType::Decimal, default, description)
    }

    /// `true` or `false`. Read it with [`Params::boolean`](crate::Params::boolean).
    #[must_use]
    pub fn boolean(
        name: impl Into<String>,
        default: bool,
        description: impl Into<String>,
    ) -> ParamSpec {
        ParamSpec::new(name, ParamType::Boolean, default, description)
    }

    /// Free text. Read it with [`Params::text`](crate::Params::text).
    #[must_use]
    pub fn text(
        name: impl Into<String>,
        default: impl fmt::Display,
        description: impl Into<String>,
    ) -> ParamSpec {
        ParamSpec::new(name, ParamType::Text, default, description)
    }

    /// The parameter's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its type.
    #[must_use]
    pub fn kind(&self) -> ParamType {
        self.kind
    }

    /// The value used when the pack does not set one.
    #[must_use]
    pub fn default_value(&self) -> &str {
        &self.default
    }

    /// What it means.
    #[must_use]
    pub fn description(&self) -> &str {
        &self.description
    }
}

/// A finding code a rule can emit, with the action it attaches by default and
/// what it means for the analyst who reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeSpec {
    code: String,
    action: Action,
    description: String,
}

impl CodeSpec {
    /// Declares `code` (SCREAMING_SNAKE_CASE) with its default `action`.
    #[must_use]
    pub fn new(
        code: impl Into<String>,
        action: Action,
        description: impl Into<String>,
    ) -> CodeSpec {
        CodeSpec {
            code: code.into(),
            action,
            description: description.into(),
        }
    }

    /// The code.
    #[must_use]
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The action the rule attaches to it by default.
    #[must_use]
    pub fn action(&self) -> Action {
        self.action
    }

    /// What it means.
    #[must_use]
    pub fn description(&self) -> &str {
        &self.description
    }
}

/// A problem [`Metadata::validate`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetadataError {
    message: String,
}

impl fmt::Display for MetadataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid rule metadata: {}", self.message)
    }
}

impl std::error::Error for MetadataError {}

fn is_kebab_case(text: &str) -> bool {
    !text.is_empty()
        && !text.starts_with('-')
        && !text.ends_with('-')
        && !text.contains("--")
        && text
            .chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')
        && text.starts_with(|ch: char| ch.is_ascii_lowercase())
}

fn is_screaming_snake_case(text: &str) -> bool {
    !text.is_empty()
        && !text.ends_with('_')
        && !text.contains("__")
        && text
            .chars()
            .all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit() || ch == '_')
        && text.starts_with(|ch: char| ch.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Metadata {
        Metadata::new("kz-test", "1.0.0", "A test rule.")
    }

    fn problem(metadata: &Metadata) -> String {
        metadata
            .validate()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn well_formed_metadata_validates() {
        let metadata = base()
            .param(ParamSpec::money("limit", "500000.00", "A limit."))
            .param(ParamSpec::integer("score", 35, "A score."))
            .param(ParamSpec::decimal("ratio", "0.9", "A ratio."))
            .param(ParamSpec::boolean("on", false, "A switch."))
            .param(ParamSpec::text("label", "", "A label."))
            .code(CodeSpec::new("SOME_CODE_2", Action::Review, "A code."))
            .list("afsa-register");
        assert_eq!(metadata.validate(), Ok(()));
    }

    #[test]
    fn a_default_that_is_not_of_its_type_is_reported_with_the_parameter() {
        let metadata = base().param(ParamSpec::money("limit", "5e5", "A limit."));
        assert!(problem(&metadata).contains("parameter `limit`"));
        let metadata = base().param(ParamSpec::integer("score", "high", "A score."));
        assert!(problem(&metadata).contains("`high`"));
        let metadata = base().param(ParamSpec::boolean("on", true, "A switch."));
        assert_eq!(metadata.validate(), Ok(()));
    }

    #[test]
    fn names_must_follow_the_contract_case() {
        assert!(problem(&Metadata::new("Kz_Test", "1", "d")).contains("kebab-case"));
        let metadata = base().param(ParamSpec::integer("topupScore", 1, "d"));
        assert!(problem(&metadata).contains("kebab-case"));
        let metadata = base().code(CodeSpec::new("iin-invalid", Action::Review, "d"));
        assert!(problem(&metadata).contains("SCREAMING_SNAKE_CASE"));
    }

    #[test]
    fn duplicates_and_empty_descriptions_are_reported() {
        let metadata = base()
            .param(ParamSpec::integer("score", 1, "d"))
            .param(ParamSpec::integer("score", 2, "d"));
        assert!(problem(&metadata).contains("declared twice"));
        let metadata = base().code(CodeSpec::new("A_CODE", Action::Review, " "));
        assert!(problem(&metadata).contains("no description"));
    }

    #[test]
    fn converts_to_the_wit_record_in_declaration_order() {
        let metadata = base()
            .param(ParamSpec::money("limit", "1.00", "A limit."))
            .code(CodeSpec::new("A_CODE", Action::Hold, "A code."))
            .list("blocked");
        let raw = metadata.to_wit();
        assert_eq!(raw.id, "kz-test");
        assert_eq!(raw.parameters.len(), 1);
        assert_eq!(
            raw.parameters.first().map(|p| p.type_),
            Some(ParamType::Money)
        );
        assert_eq!(raw.codes.first().map(|c| c.action), Some(Action::Hold));
        assert_eq!(raw.lists, vec!["blocked".to_owned()]);
    }
}
