"""py-threshold's native tests: plain ``pytest`` with the SDK on the path."""

from app import PyThreshold
from qorgan_rule.testing import Harness, tx


def test_a_large_topup_without_the_sender_iin_needs_it():
    [f] = Harness(PyThreshold).evaluate(tx("card-topup", "600000.00"))
    assert (f.code, f.action, f.score, f.requirements) == (
        "TOPUP_SENDER_IIN_REQUIRED", "verify", 35, ["sender-iin"])
    assert f.message == "card top-up of 600000.00 KZT above 500000.00 KZT needs the sender's IIN"
    assert f.evidence_items == [("amount", "600000.00"), ("threshold", "500000.00")]


def test_the_threshold_itself_and_verified_senders_pass():
    h = Harness(PyThreshold)
    assert h.codes(tx("card-topup", "500000.00")) == []
    assert h.codes(tx("card-topup", "600000.00", verified=["sender-iin"])) == []
    assert h.codes(tx("transfer", "600000.00")) == []


def test_confirmation_follows_the_channel_unless_one_is_done():
    h = Harness(PyThreshold, {"topup-confirmation": "true"})
    [app] = h.evaluate(tx("card-topup", "600000.00"))
    assert app.requirements == ["sender-iin", "app-confirmation"]
    assert app.message.endswith("needs the sender's IIN and app confirmation")
    [sms] = h.evaluate(tx("card-topup", "600000.00", channel="branch"))
    assert sms.evidence_value("confirmation") == "sms-confirmation"
    assert sms.message.endswith("needs the sender's IIN and SMS confirmation")
    [done] = h.evaluate(tx("card-topup", "600000.00", verified=["sms-confirmation"]))
    assert done.requirements == ["sender-iin"]


def test_bad_iins_are_reported_per_party_without_the_number():
    h = Harness(PyThreshold)
    findings = h.evaluate(tx(sender_iin="061211600013", recipient_iin="12345"))
    assert [(f.code, f.evidence_items) for f in findings] == [
        ("IIN_INVALID", [("party", "sender"), ("reason", "checksum")]),
        ("IIN_INVALID", [("party", "recipient"), ("reason", "wrong-length")]),
    ]
    assert findings[0].message == "the sender's IIN/BIN fails the check-digit test"
    assert h.codes(tx(sender_iin="")) == []


def test_cash_needs_biometrics_from_the_minimum():
    h = Harness(PyThreshold, {"cash-biometric-min": "1000.00"})
    [f] = h.evaluate(tx("cash-deposit", "1000.00"))
    assert f.message == (
        "cash deposit of 1000.00 KZT needs biometric verification (required from 1000.00 KZT)")
    assert h.codes(tx("cash-withdrawal", "999.99")) == []
    assert h.codes(tx("cash-withdrawal", "5000.00", verified=["biometric"])) == []
    assert h.codes(tx("cash-withdrawal", "5000.00")) == ["CASH_BIOMETRIC_REQUIRED"]
