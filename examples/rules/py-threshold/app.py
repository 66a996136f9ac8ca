"""py-threshold: the top-up threshold rule of the reference pack, in Python.

The same rule as the Rust ``kz-threshold`` for three of its codes, with the
same parameters, messages and evidence, so that the two decide every
transaction identically for these codes:

- ``TOPUP_SENDER_IIN_REQUIRED``: a card top-up strictly above
  ``topup-threshold`` whose sender IIN is not verified (with
  ``topup-confirmation``, also an app or SMS confirmation);
- ``IIN_INVALID``: the sender's or recipient's IIN/BIN is present but
  malformed or fails the checksum;
- ``CASH_BIOMETRIC_REQUIRED``: cash of at least ``cash-biometric-min``
  without biometric verification.
"""

import importlib.util

from qorgan_rule import Code, Finding, Param, Rule, iin


class PyThreshold(Rule):
    id = "py-threshold"
    version = "1.0.0"
    description = (
        "AFM/NBK threshold rules in Python: the sender's IIN on large card top-ups, "
        "IIN/BIN checksums and biometric verification for cash."
    )
    params = [
        Param.money("topup-threshold", "500000.00",
                    "Card top-ups strictly above this amount (KZT) need the sender's IIN verified."),
        Param.integer("topup-score", 35, "Risk score (0-100) of TOPUP_SENDER_IIN_REQUIRED.",
                      min=0, max=100),
        Param.boolean("topup-confirmation", False,
                      "When true, a flagged top-up also needs an app (mobile app) or SMS "
                      "confirmation, unless either is done."),
        Param.integer("iin-invalid-score", 40, "Risk score (0-100) of IIN_INVALID.",
                      min=0, max=100),
        Param.money("cash-biometric-min", "0.00",
                    "Cash withdrawals and deposits of at least this amount (KZT) need "
                    "biometric verification."),
        Param.integer("cash-biometric-score", 10, "Risk score (0-100) of CASH_BIOMETRIC_REQUIRED.",
                      min=0, max=100),
    ]
    codes = [
        Code("TOPUP_SENDER_IIN_REQUIRED", "verify",
             "A card top-up above the threshold whose sender IIN has not been verified."),
        Code("IIN_INVALID", "review",
             "The sender's or recipient's IIN/BIN is malformed or fails the checksum."),
        Code("CASH_BIOMETRIC_REQUIRED", "verify",
             "A cash withdrawal or deposit without biometric verification."),
    ]

    def configure(self, params):
        self.threshold = params["topup-threshold"]
        self.topup_score = params["topup-score"]
        self.confirmation = params["topup-confirmation"]
        self.iin_score = params["iin-invalid-score"]
        self.cash_min = params["cash-biometric-min"]
        self.cash_score = params["cash-biometric-score"]

    def evaluate(self, tx, host):
        findings = []
        self.check_topup(tx, findings)
        self.check_iin(tx.sender.iin, "sender", findings)
        self.check_iin(tx.recipient.iin, "recipient", findings)
        self.check_cash(tx, findings)
        return findings

    def check_topup(self, tx, findings):
        if tx.kind != "card-topup" or tx.amount <= self.threshold or tx.is_verified("sender-iin"):
            return
        confirmation = None
        if self.confirmation and not (
            tx.is_verified("app-confirmation") or tx.is_verified("sms-confirmation")
        ):
            confirmation = "app-confirmation" if tx.channel == "mobile-app" else "sms-confirmation"
        needs = {
            "app-confirmation": "the sender's IIN and app confirmation",
            "sms-confirmation": "the sender's IIN and SMS confirmation",
            None: "the sender's IIN",
        }[confirmation]
        finding = (
            Finding("TOPUP_SENDER_IIN_REQUIRED", "verify", self.topup_score,
                    f"card top-up of {tx.amount} KZT above {self.threshold} KZT needs {needs}")
            .require("sender-iin")
            .evidence("amount", tx.amount)
            .evidence("threshold", self.threshold)
        )
        if confirmation:
            finding.require(confirmation).evidence("confirmation", confirmation)
        findings.append(finding)

    def check_iin(self, number, role, findings):
        if not number:
            return
        reason = iin.problem(number)
        if reason is not None:
            findings.append(
                Finding("IIN_INVALID", "review", self.iin_score,
                        f"the {role}'s IIN/BIN {iin.explain(number)}")
                .evidence("party", role)
                .evidence("reason", reason)
            )

    def check_cash(self, tx, findings):
        what = {"cash-withdrawal": "cash withdrawal", "cash-deposit": "cash deposit"}.get(tx.kind)
        if what is None or tx.amount < self.cash_min or tx.is_verified("biometric"):
            return
        findings.append(
            Finding("CASH_BIOMETRIC_REQUIRED", "verify", self.cash_score,
                    f"{what} of {tx.amount} KZT needs biometric verification "
                    f"(required from {self.cash_min} KZT)")
            .require("biometric")
            .evidence("amount", tx.amount)
            .evidence("minimum", self.cash_min)
        )


# componentize-py generates `wit_world` when it builds the component; a
# native test run (pytest) has no bindings and exports nothing.
if importlib.util.find_spec("wit_world") is not None:
    from qorgan_rule.component import export

    Rule = export(PyThreshold)
