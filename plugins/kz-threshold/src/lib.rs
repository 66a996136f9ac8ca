//! # kz-threshold
//!
//! The AFM/NBK threshold rules of the reference pack `kz-afm`:
//!
//! | Code | When | Action |
//! |---|---|---|
//! | `TOPUP_SENDER_IIN_REQUIRED` | a card top-up strictly above `topup-threshold` (500000.00 KZT) whose sender IIN is not verified | `verify`, requires `sender-iin` (and, with `topup-confirmation`, `app-confirmation` or `sms-confirmation`) |
//! | `IIN_INVALID` | the sender's or recipient's IIN/BIN is present but malformed or fails the checksum | `review` |
//! | `CASH_BIOMETRIC_REQUIRED` | a cash withdrawal or deposit of at least `cash-biometric-min` (0.00 KZT) without biometric verification | `verify`, requires `biometric` |
//!
//! Every threshold and score is a pack parameter (see [`KzThreshold::metadata`]
//! for names, defaults and meanings). The history-based codes of this plugin
//! (`CASH_DAILY_CAP_EXCEEDED`, `STRUCTURING_NEAR_THRESHOLD`) are not
//! implemented yet and not declared.

use qorgan_sdk::{
    Action, Channel, Checks, CodeSpec, ConfigError, Finding, Findings, Host, Metadata, Money,
    ParamSpec, Params, Party, Rule, Tx, TxKind, iin,
};

/// The finding codes this rule declares.
pub mod codes {
    /// A large card top-up without a verified sender IIN.
    pub const TOPUP_SENDER_IIN_REQUIRED: &str = "TOPUP_SENDER_IIN_REQUIRED";
    /// A malformed IIN/BIN, or one failing the checksum.
    pub const IIN_INVALID: &str = "IIN_INVALID";
    /// A cash transaction without biometric verification.
    pub const CASH_BIOMETRIC_REQUIRED: &str = "CASH_BIOMETRIC_REQUIRED";
}

/// The parameter names this rule declares.
pub mod params {
    /// Money: card top-ups strictly above it need the sender's IIN.
    pub const TOPUP_THRESHOLD: &str = "topup-threshold";
    /// Integer 0–100: score of `TOPUP_SENDER_IIN_REQUIRED`.
    pub const TOPUP_SCORE: &str = "topup-score";
    /// Boolean: large top-ups also need an app or SMS confirmation.
    pub const TOPUP_CONFIRMATION: &str = "topup-confirmation";
    /// Integer 0–100: score of `IIN_INVALID`.
    pub const IIN_INVALID_SCORE: &str = "iin-invalid-score";
    /// Money: cash transactions of at least this amount need biometrics.
    pub const CASH_BIOMETRIC_MIN: &str = "cash-biometric-min";
    /// Integer 0–100: score of `CASH_BIOMETRIC_REQUIRED`.
    pub const CASH_BIOMETRIC_SCORE: &str = "cash-biometric-score";
}

/// The configured `kz-threshold` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KzThreshold {
    topup_threshold: Money,
    topup_score: u8,
    topup_confirmation: bool,
    iin_invalid_score: u8,
    cash_biometric_min: Money,
    cash_biometric_score: u8,
}

impl Rule for KzThreshold {
    fn metadata() -> Metadata {
        Metadata::new(
            "kz-threshold",
            env!("CARGO_PKG_VERSION"),
            "AFM/NBK threshold rules: the sender's IIN on large card top-ups (optionally \
             with an app or SMS confirmation), IIN/BIN checksums, and biometric \
             verification for cash.",
        )
        .param(ParamSpec::money(
            params::TOPUP_THRESHOLD,
            "500000.00",
            "Card top-ups strictly above this amount (KZT) need the sender's IIN verified \
             (AFM/NBK rule).",
        ))
        .param(ParamSpec::integer(
            params::TOPUP_SCORE,
            35,
            "Risk score (0-100) of TOPUP_SENDER_IIN_REQUIRED.",
        ))
        .param(ParamSpec::boolean(
            params::TOPUP_CONFIRMATION,
            false,
            "When true, a card top-up flagged by TOPUP_SENDER_IIN_REQUIRED also needs a \
             confirmation: in the mobile app if it came through the mobile app, by SMS \
             otherwise, unless either confirmation is already done.",
        ))
        .param(ParamSpec::integer(
            params::IIN_INVALID_SCORE,
            40,
            "Risk score (0-100) of IIN_INVALID.",
        ))
        .param(ParamSpec::money(
            params::CASH_BIOMETRIC_MIN,
            "0.00",
            "Cash withdrawals and deposits of at least this amount (KZT) need biometric \
             verification; 0.00 means all of them.",
        ))
        .param(ParamSpec::integer(
            params::CASH_BIOMETRIC_SCORE,
            10,
            "Risk score (0-100) of CASH_BIOMETRIC_REQUIRED.",
        ))
        .code(CodeSpec::new(
            codes::TOPUP_SENDER_IIN_REQUIRED,
            Action::Verify,
            "A card top-up above the threshold whose sender IIN has not been verified; \
             the requirements list the checks to do before it goes through.",
        ))
        .code(CodeSpec::new(
            codes::IIN_INVALID,
            Action::Review,
            "The sender's or recipient's IIN/BIN is present but malformed or fails the \
             checksum: a data-quality problem or a sign of identity fraud.",
        ))
        .code(CodeSpec::new(
            codes::CASH_BIOMETRIC_REQUIRED,
            Action::Verify,
            "A cash withdrawal or deposit without biometric (face or fingerprint) \
             verification of the customer.",
        ))
    }

    fn configure(params: &Params) -> Result<Self, ConfigError> {
        Ok(KzThreshold {
            topup_threshold: non_negative_money(params, params::TOPUP_THRESHOLD)?,
            topup_score: params.score(params::TOPUP_SCORE)?,
            topup_confirmation: params.boolean(params::TOPUP_CONFIRMATION)?,
            iin_invalid_score: params.score(params::IIN_INVALID_SCORE)?,
            cash_biometric_min: non_negative_money(params, params::CASH_BIOMETRIC_MIN)?,
            cash_biometric_score: params.score(params::CASH_BIOMETRIC_SCORE)?,
        })
    }

    fn evaluate<H: Host>(&self, tx: &Tx<'_>, _host: &H, out: &mut Findings) {
        self.check_topup(tx, out);
        self.check_iin(tx.sender(), "sender", out);
        self.check_iin(tx.recipient(), "recipient", out);
        self.check_cash(tx, out);
    }
}

qorgan_sdk::export_rule!(KzThreshold);

impl KzThreshold {
    /// `TOPUP_SENDER_IIN_REQUIRED`.
    fn check_topup(&self, tx: &Tx<'_>, out: &mut Findings) {
        let amount = tx.amount();
        let verified = tx.verified();
        if tx.kind() != TxKind::CardTopup
            || amount <= self.topup_threshold
            || verified.contains(Checks::SENDER_IIN)
        {
            return;
        }
        let confirmation = self.missing_confirmation(tx);
        let needs = match confirmation {
            Some(Checks::APP_CONFIRMATION) => "the sender's IIN and app confirmation",
            Some(_) => "the sender's IIN and SMS confirmation",
            None => "the sender's IIN",
        };
        let mut finding = Finding::new(codes::TOPUP_SENDER_IIN_REQUIRED, Action::Verify)
            .score(self.topup_score)
            .require(Checks::SENDER_IIN)
            .message(format!(
                "card top-up of {amount} KZT above {} KZT needs {needs}",
                self.topup_threshold
            ))
            .evidence("amount", amount)
            .evidence("threshold", self.topup_threshold);
        if let Some(confirmation) = confirmation {
            finding = finding
                .require(confirmation)
                .evidence("confirmation", confirmation);
        }
        out.add(finding);
    }

    /// The confirmation a large top-up still needs, if `topup-confirmation`
    /// is on and neither confirmation has been done: in the app for the
    /// mobile-app channel, by SMS for every other channel.
    fn missing_confirmation(&self, tx: &Tx<'_>) -> Option<Checks> {
        let done = Checks::APP_CONFIRMATION | Checks::SMS_CONFIRMATION;
        if !self.topup_confirmation || tx.verified().intersects(done) {
            return None;
        }
        Some(if tx.channel() == Channel::MobileApp {
            Checks::APP_CONFIRMATION
        } else {
            Checks::SMS_CONFIRMATION
        })
    }

    /// `IIN_INVALID` for one party. The number itself is not copied into
    /// the finding: the bank has it, and findings are kept in decision logs.
    fn check_iin(&self, party: Party<'_>, role: &'static str, out: &mut Findings) {
        let Some(number) = party.iin() else {
            return;
        };
        if let Err(reason) = iin::validate(number) {
            out.add(
                Finding::new(codes::IIN_INVALID, Action::Review)
                    .score(self.iin_invalid_score)
                    .message(format!("the {role}'s IIN/BIN {reason}"))
                    .evidence("party", role)
                    .evidence("reason", reason.as_str()),
            );
        }
    }

    /// `CASH_BIOMETRIC_REQUIRED`.
    fn check_cash(&self, tx: &Tx<'_>, out: &mut Findings) {
        let amount = tx.amount();
        let what = match tx.kind() {
            TxKind::CashWithdrawal => "cash withdrawal",
            TxKind::CashDeposit => "cash deposit",
            _ => return,
        };
        if amount < self.cash_biometric_min || tx.verified().contains(Checks::BIOMETRIC) {
            return;
        }
        out.add(
            Finding::new(codes::CASH_BIOMETRIC_REQUIRED, Action::Verify)
                .score(self.cash_biometric_score)
                .require(Checks::BIOMETRIC)
                .message(format!(
                    "{what} of {amount} KZT needs biometric verification (required from {} KZT)",
                    self.cash_biometric_min
                ))
                .evidence("amount", amount)
                .evidence("minimum", self.cash_biometric_min),
        );
    }
}

/// A money parameter that must not be negative.
fn non_negative_money(params: &Params, name: &str) -> Result<Money, ConfigError> {
    let value = params.money(name)?;
    if value.is_negative() {
        return Err(ConfigError::invalid(name, value, "must not be negative"));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use qorgan_sdk::testing::{Harness, SetupError, TxBuilder};

    type TestResult = Result<(), SetupError>;

    /// The default pack configuration.
    fn rule() -> Result<Harness<KzThreshold>, SetupError> {
        Harness::new()
    }

    fn codes_of(findings: &[Finding]) -> Vec<&str> {
        findings.iter().map(Finding::code).collect()
    }

    fn only(findings: &[Finding], code: &str) -> Option<Finding> {
        match findings {
            [finding] if finding.code() == code => Some(finding.clone()),
            _ => None,
        }
    }

    // --- metadata and configuration -------------------------------------

    #[test]
    fn metadata_declares_id_version_params_and_the_three_codes() {
        let metadata = KzThreshold::metadata();
        assert_eq!(metadata.validate(), Ok(()));
        assert_eq!(metadata.id(), "kz-threshold");
        assert_eq!(metadata.version(), env!("CARGO_PKG_VERSION"));
        let codes: Vec<&str> = metadata.codes().iter().map(CodeSpec::code).collect();
        assert_eq!(
            codes,
            [
                "TOPUP_SENDER_IIN_REQUIRED",
                "IIN_INVALID",
                "CASH_BIOMETRIC_REQUIRED"
            ]
        );
        let defaults: Vec<(&str, &str)> = metadata
            .params()
            .iter()
            .map(|p| (p.name(), p.default_value()))
            .collect();
        assert_eq!(
            defaults,
            [
                ("topup-threshold", "500000.00"),
                ("topup-score", "35"),
                ("topup-confirmation", "false"),
                ("iin-invalid-score", "40"),
                ("cash-biometric-min", "0.00"),
                ("cash-biometric-score", "10"),
            ]
        );
        assert!(
            metadata
                .params()
                .iter()
                .all(|p| !p.description().is_empty())
        );
        assert!(metadata.lists().is_empty());
    }

    #[test]
    fn defaults_configure_the_documented_values() -> TestResult {
        let harness = rule()?;
        assert_eq!(
            harness.rule(),
            &KzThreshold {
                topup_threshold: Money::from_tiyn(50_000_000),
                topup_score: 35,
                topup_confirmation: false,
                iin_invalid_score: 40,
                cash_biometric_min: Money::ZERO,
                cash_biometric_score: 10,
            }
        );
        Ok(())
    }

    #[test]
    fn negative_thresholds_are_refused_naming_the_parameter() {
        for name in ["topup-threshold", "cash-biometric-min"] {
            let error = Harness::<KzThreshold>::with_params(&[(name, "-0.01")]).err();
            let message = error.map(|e| e.to_string()).unwrap_or_default();
            assert!(
                message.contains(&format!("parameter `{name}`")),
                "{message}"
            );
        }
    }

    #[test]
    fn scores_above_one_hundred_are_refused() {
        let error = Harness::<KzThreshold>::with_params(&[("topup-score", "101")]).err();
        assert!(matches!(error, Some(SetupError::Configure(e)) if e.name() == "topup-score"));
    }

    // --- TOPUP_SENDER_IIN_REQUIRED ---------------------------------------

    #[test]
    fn topup_above_threshold_without_verified_sender_iin_needs_it() -> TestResult {
        let findings = rule()?.evaluate(&TxBuilder::card_topup("600000.00").build());
        let finding = only(&findings, "TOPUP_SENDER_IIN_REQUIRED");
        let Some(finding) = finding else {
            panic!(
                "expected one TOPUP_SENDER_IIN_REQUIRED, got {:?}",
                codes_of(&findings)
            );
        };
        assert_eq!(finding.action(), Action::Verify);
        assert_eq!(finding.risk_score(), 35);
        assert_eq!(finding.requirements(), Checks::SENDER_IIN);
        assert_eq!(
            finding.message_text(),
            "card top-up of 600000.00 KZT above 500000.00 KZT needs the sender's IIN"
        );
        assert_eq!(finding.evidence_value("amount"), Some("600000.00"));
        assert_eq!(finding.evidence_value("threshold"), Some("500000.00"));
        Ok(())
    }

    #[test]
    fn topup_exactly_at_threshold_is_not_flagged() -> TestResult {
        assert!(
            rule()?
                .evaluate(&TxBuilder::card_topup("500000.00").build())
                .is_empty()
        );
        Ok(())
    }

    #[test]
    fn topup_one_tiyn_above_threshold_is_flagged() -> TestResult {
        let findings = rule()?.evaluate(&TxBuilder::card_topup("500000.01").build());
        assert_eq!(codes_of(&findings), ["TOPUP_SENDER_IIN_REQUIRED"]);
        Ok(())
    }

    #[test]
    fn topup_with_verified_sender_iin_is_not_flagged() -> TestResult {
        let tx = TxBuilder::card_topup("600000.00")
            .sender_iin("061211600012")
            .verified(Checks::SENDER_IIN)
            .build();
        assert!(rule()?.evaluate(&tx).is_empty());
        Ok(())
    }

    #[test]
    fn only_the_recipient_iin_verified_still_needs_the_sender_iin() -> TestResult {
        let tx = TxBuilder::card_topup("600000.00")
            .verified(Checks::RECIPIENT_IIN)
            .build();
        assert_eq!(
            codes_of(&rule()?.evaluate(&tx)),
            ["TOPUP_SENDER_IIN_REQUIRED"]
        );
        Ok(())
    }

    #[test]
    fn large_transfers_and_payments_are_not_topups() -> TestResult {
        let harness = rule()?;
        assert!(
            harness
                .evaluate(&TxBuilder::transfer("600000.00").build())
                .is_empty()
        );
        assert!(
            harness
                .evaluate(&TxBuilder::card_payment("600000.00").build())
                .is_empty()
        );
        Ok(())
    }

    #[test]
    fn topup_threshold_and_score_come_from_the_pack() -> TestResult {
        let harness = Harness::<KzThreshold>::with_params(&[
            ("topup-threshold", "1000.00"),
            ("topup-score", "70"),
        ])?;
        assert!(
            harness
                .evaluate(&TxBuilder::card_topup("1000.00").build())
                .is_empty()
        );
        let findings = harness.evaluate(&TxBuilder::card_topup("1000.01").build());
        let finding = only(&findings, "TOPUP_SENDER_IIN_REQUIRED");
        assert_eq!(finding.as_ref().map(Finding::risk_score), Some(70));
        assert_eq!(
            finding
                .as_ref()
                .map(|f| f.message_text().to_owned())
                .as_deref(),
            Some("card top-up of 1000.01 KZT above 1000.00 KZT needs the sender's IIN")
        );
        Ok(())
    }

    // --- topup-confirmation ---------------------------------------------

    fn with_confirmation() -> Result<Harness<KzThreshold>, SetupError> {
        Harness::with_params(&[("topup-confirmation", "true")])
    }

    #[test]
    fn confirmation_is_off_by_default() -> TestResult {
        let tx = TxBuilder::card_topup("600000.00")
            .channel(Channel::MobileApp)
            .build();
        let findings = rule()?.evaluate(&tx);
        assert_eq!(
            findings.first().map(Finding::requirements),
            Some(Checks::SENDER_IIN)
        );
        Ok(())
    }

    #[test]
    fn confirmation_in_the_app_for_mobile_app_topups() -> TestResult {
        let tx = TxBuilder::card_topup("600000.00")
            .channel(Channel::MobileApp)
            .build();
        let findings = with_confirmation()?.evaluate(&tx);
        let finding = only(&findings, "TOPUP_SENDER_IIN_REQUIRED");
        assert_eq!(
            finding.as_ref().map(Finding::requirements),
            Some(Checks::SENDER_IIN | Checks::APP_CONFIRMATION)
        );
        assert_eq!(
            finding
                .as_ref()
                .map(|f| f.message_text().to_owned())
                .as_deref(),
            Some(
                "card top-up of 600000.00 KZT above 500000.00 KZT needs the sender's IIN and app confirmation"
            )
        );
        assert_eq!(
            finding
                .as_ref()
                .and_then(|f| f.evidence_value("confirmation").map(str::to_owned))
                .as_deref(),
            Some("app-confirmation")
        );
        Ok(())
    }

    #[test]
    fn confirmation_by_sms_for_every_other_channel() -> TestResult {
        let harness = with_confirmation()?;
        for channel in [
            Channel::InternetBanking,
            Channel::Branch,
            Channel::Atm,
            Channel::Api,
            Channel::Other,
        ] {
            let findings =
                harness.evaluate(&TxBuilder::card_topup("600000.00").channel(channel).build());
            assert_eq!(
                findings.first().map(Finding::requirements),
                Some(Checks::SENDER_IIN | Checks::SMS_CONFIRMATION),
                "{channel}"
            );
        }
        Ok(())
    }

    #[test]
    fn either_confirmation_already_done_is_enough() -> TestResult {
        let harness = with_confirmation()?;
        for done in [Checks::APP_CONFIRMATION, Checks::SMS_CONFIRMATION] {
            let tx = TxBuilder::card_topup("600000.00")
                .channel(Channel::MobileApp)
                .verified(done)
                .build();
            let findings = harness.evaluate(&tx);
            assert_eq!(
                findings.first().map(Finding::requirements),
                Some(Checks::SENDER_IIN)
            );
            assert_eq!(
                findings
                    .first()
                    .map(|f| f.message_text().to_owned())
                    .as_deref(),
                Some("card top-up of 600000.00 KZT above 500000.00 KZT needs the sender's IIN")
            );
        }
        Ok(())
    }

    #[test]
    fn confirmation_is_not_required_below_the_threshold() -> TestResult {
        let tx = TxBuilder::card_topup("500000.00")
            .channel(Channel::MobileApp)
            .build();
        assert!(with_confirmation()?.evaluate(&tx).is_empty());
        Ok(())
    }

    // --- IIN_INVALID ------------------------------------------------------

    #[test]
    fn valid_iins_are_not_flagged() -> TestResult {
        let tx = TxBuilder::transfer("10.00")
            .sender_iin("061211600012")
            .recipient_iin("900101000018")
            .build();
        assert!(rule()?.evaluate(&tx).is_empty());
        Ok(())
    }

    #[test]
    fn absent_iins_are_not_flagged() -> TestResult {
        assert!(
            rule()?
                .evaluate(&TxBuilder::transfer("10.00").build())
                .is_empty()
        );
        Ok(())
    }

    #[test]
    fn sender_iin_failing_the_checksum_is_flagged_for_review() -> TestResult {
        let tx = TxBuilder::transfer("10.00")
            .sender_iin("061211600013")
            .build();
        let findings = rule()?.evaluate(&tx);
        let Some(finding) = only(&findings, "IIN_INVALID") else {
            panic!("expected one IIN_INVALID, got {:?}", codes_of(&findings));
        };
        assert_eq!(finding.action(), Action::Review);
        assert_eq!(finding.risk_score(), 40);
        assert_eq!(finding.requirements(), Checks::NONE);
        assert_eq!(finding.evidence_value("party"), Some("sender"));
        assert_eq!(finding.evidence_value("reason"), Some("checksum"));
        assert_eq!(
            finding.message_text(),
            "the sender's IIN/BIN fails the check-digit test"
        );
        Ok(())
    }

    #[test]
    fn malformed_recipient_iin_is_flagged_with_the_reason() -> TestResult {
        let harness = rule()?;
        let cases = [
            ("06121160001", "wrong-length"),
            ("0612116000123", "wrong-length"),
            ("0612 1160001", "non-digit"),
            ("06121160001X", "non-digit"),
        ];
        for (number, reason) in cases {
            let tx = TxBuilder::transfer("10.00").recipient_iin(number).build();
            let findings = harness.evaluate(&tx);
            let finding = only(&findings, "IIN_INVALID");
            assert_eq!(
                finding
                    .as_ref()
                    .and_then(|f| f.evidence_value("party").map(str::to_owned))
                    .as_deref(),
                Some("recipient"),
                "{number}"
            );
            assert_eq!(
                finding
                    .as_ref()
                    .and_then(|f| f.evidence_value("reason").map(str::to_owned))
                    .as_deref(),
                Some(reason),
                "{number}"
            );
        }
        Ok(())
    }

    #[test]
    fn both_parties_invalid_gives_one_finding_per_party() -> TestResult {
        let tx = TxBuilder::transfer("10.00")
            .sender_iin("123")
            .recipient_iin("061211600013")
            .build();
        let findings = rule()?.evaluate(&tx);
        let parties: Vec<Option<&str>> =
            findings.iter().map(|f| f.evidence_value("party")).collect();
        assert_eq!(codes_of(&findings), ["IIN_INVALID", "IIN_INVALID"]);
        assert_eq!(parties, [Some("sender"), Some("recipient")]);
        Ok(())
    }

    #[test]
    fn iin_invalid_score_comes_from_the_pack() -> TestResult {
        let harness = Harness::<KzThreshold>::with_params(&[("iin-invalid-score", "55")])?;
        let findings = harness.evaluate(&TxBuilder::transfer("1.00").sender_iin("x").build());
        assert_eq!(findings.first().map(Finding::risk_score), Some(55));
        Ok(())
    }

    #[test]
    fn invalid_iin_on_a_large_topup_gives_both_findings() -> TestResult {
        let tx = TxBuilder::card_topup("600000.00")
            .sender_iin("061211600013")
            .build();
        assert_eq!(
            codes_of(&rule()?.evaluate(&tx)),
            ["TOPUP_SENDER_IIN_REQUIRED", "IIN_INVALID"]
        );
        Ok(())
    }

    // --- CASH_BIOMETRIC_REQUIRED ------------------------------------------

    #[test]
    fn cash_without_biometrics_needs_them_from_zero_by_default() -> TestResult {
        let harness = rule()?;
        for builder in [
            TxBuilder::cash_withdrawal("0.00"),
            TxBuilder::cash_deposit("0.01"),
        ] {
            let findings = harness.evaluate(&builder.build());
            let Some(finding) = only(&findings, "CASH_BIOMETRIC_REQUIRED") else {
                panic!(
                    "expected one CASH_BIOMETRIC_REQUIRED, got {:?}",
                    codes_of(&findings)
                );
            };
            assert_eq!(finding.action(), Action::Verify);
            assert_eq!(finding.risk_score(), 10);
            assert_eq!(finding.requirements(), Checks::BIOMETRIC);
            assert_eq!(finding.evidence_value("minimum"), Some("0.00"));
        }
        Ok(())
    }

    #[test]
    fn cash_message_names_the_kind_amount_and_minimum() -> TestResult {
        let findings = rule()?.evaluate(&TxBuilder::cash_withdrawal("20000.00").build());
        assert_eq!(
            findings
                .first()
                .map(|f| f.message_text().to_owned())
                .as_deref(),
            Some(
                "cash withdrawal of 20000.00 KZT needs biometric verification (required from 0.00 KZT)"
            )
        );
        assert_eq!(
            findings
                .first()
                .and_then(|f| f.evidence_value("amount").map(str::to_owned))
                .as_deref(),
            Some("20000.00")
        );
        Ok(())
    }

    #[test]
    fn cash_with_biometrics_done_is_not_flagged() -> TestResult {
        let harness = rule()?;
        for builder in [
            TxBuilder::cash_withdrawal("20000.00"),
            TxBuilder::cash_deposit("20000.00"),
        ] {
            assert!(
                harness
                    .evaluate(&builder.verified(Checks::BIOMETRIC).build())
                    .is_empty()
            );
        }
        Ok(())
    }

    #[test]
    fn cash_exactly_at_the_minimum_is_flagged_one_tiyn_below_is_not() -> TestResult {
        let harness = Harness::<KzThreshold>::with_params(&[("cash-biometric-min", "100000.00")])?;
        let at = harness.evaluate(&TxBuilder::cash_withdrawal("100000.00").build());
        assert_eq!(codes_of(&at), ["CASH_BIOMETRIC_REQUIRED"]);
        let above = harness.evaluate(&TxBuilder::cash_deposit("100000.01").build());
        assert_eq!(codes_of(&above), ["CASH_BIOMETRIC_REQUIRED"]);
        assert!(
            harness
                .evaluate(&TxBuilder::cash_withdrawal("99999.99").build())
                .is_empty()
        );
        Ok(())
    }

    #[test]
    fn cash_biometric_score_comes_from_the_pack() -> TestResult {
        let harness = Harness::<KzThreshold>::with_params(&[("cash-biometric-score", "0")])?;
        let findings = harness.evaluate(&TxBuilder::cash_deposit("5.00").build());
        assert_eq!(findings.first().map(Finding::risk_score), Some(0));
        Ok(())
    }

    #[test]
    fn non_cash_transactions_never_need_biometrics() -> TestResult {
        let harness = rule()?;
        for builder in [
            TxBuilder::transfer("20000.00"),
            TxBuilder::card_payment("20000.00"),
            TxBuilder::card_topup("20000.00"),
            TxBuilder::crypto_purchase("20000.00"),
            TxBuilder::crypto_sale("20000.00"),
        ] {
            assert!(harness.evaluate(&builder.build()).is_empty());
        }
        Ok(())
    }

    // --- the example from DESIGN.md ----------------------------------------

    #[test]
    fn design_example_topup_to_a_vasp_needs_the_sender_iin() -> TestResult {
        let tx = TxBuilder::card_topup("600000.00")
            .channel(Channel::MobileApp)
            .sender_iin("061211600012")
            .recipient_kind(qorgan_sdk::PartyKind::Vasp)
            .recipient_vasp("okx")
            .remittance("USDT обмен")
            .verified(Checks::RECIPIENT_IIN)
            .build();
        let findings = rule()?.evaluate(&tx);
        assert_eq!(codes_of(&findings), ["TOPUP_SENDER_IIN_REQUIRED"]);
        assert_eq!(findings.first().map(Finding::risk_score), Some(35));
        Ok(())
    }
}
