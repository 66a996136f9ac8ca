"""The Python SDK's own tests: run with plain ``pytest`` from plugins/sdk-python."""

from decimal import Decimal

import pytest

from qorgan_rule import Code, ConfigError, Finding, Money, MoneyError, Param, Rule, iin
from qorgan_rule.host import Query, Totals
from qorgan_rule.money import MAX, MIN
from qorgan_rule.testing import FakeHost, Harness, SENDER_ACCOUNT, tx


def test_money_parses_and_formats_exactly():
    assert Money.parse("500000.00") == Money(50_000_000)
    assert Money.parse("500000.5").tiyn == 50_000_050
    assert Money.parse("-12.34").tiyn == -1234
    assert str(Money.parse("7")) == "7.00"
    assert str(Money(-5)) == "-0.05"
    assert Money.parse("0.10").decimal == Decimal("0.10")
    assert Money.parse("1.01") + Money.parse("2.02") == Money.parse("3.03")
    assert str(Money.parse("92233720368547758.07")) == "92233720368547758.07"


@pytest.mark.parametrize(
    "text, reason",
    [
        ("", "empty"),
        ("1.234", "at most 2"),
        ("--1", "single leading"),
        ("1.", "before and after"),
        (".5", "before and after"),
        ("1e5", "digits"),
        ("١٢", "digits"),
        ("92233720368547758.08", "too large"),
    ],
)
def test_money_refuses_bad_text_saying_why(text, reason):
    with pytest.raises(MoneyError, match=reason):
        Money.parse(text)


def test_money_refuses_floats_and_overflow():
    with pytest.raises(TypeError):
        Money(1.5)
    with pytest.raises(OverflowError):
        MAX + Money(1)


def test_iin_checksum_matches_the_rust_sdk():
    assert iin.is_valid("061211600012")
    assert iin.is_valid("900101000018")
    assert iin.problem("061211600013") == "checksum"
    assert iin.problem("06121160001") == "wrong-length"
    assert iin.problem("06121160001x") == "non-digit"
    assert iin.explain("06121160001") == "has 11 characters, expected 12 digits"
    assert iin.explain("0612x1600012") == "character 5 is not a digit"
    assert iin.explain("061211600013") == "fails the check-digit test"
    assert iin.explain("061211600012") is None


def test_params_parse_typed_values_with_defaults_and_bounds():
    money = Param.money("threshold", "500000.00", "d")
    count = Param.integer("count", 3, "d", min=2, max=10)
    band = Param.decimal("band", "0.1", "d", min="0", max="1")
    flag = Param.boolean("flag", False, "d")
    assert money.parse("1.50") == Money(150)
    assert count.parse("10") == 10
    assert band.parse("0.25") == Decimal("0.25")
    assert flag.parse("true") is True
    for param, value, reason in [
        (count, "1", "below"),
        (count, "11", "above"),
        (count, "3.5", "whole number"),
        (band, "1.01", "above"),
        (band, "abc", "decimal"),
        (band, "1e-3", "decimal"),
        (flag, "yes", "true"),
        (money, "-1", "below"),
        (money, "0.001", "at most 2"),
    ]:
        with pytest.raises(ConfigError, match=f"parameter `{param.name}`.*{reason}"):
            param.parse(value)


def test_a_default_outside_its_bounds_is_refused_when_declared():
    with pytest.raises(ConfigError, match="parameter `count`"):
        Param.integer("count", 1, "d", min=2)


def test_findings_refuse_unknown_actions_checks_and_scores():
    f = Finding("X", "verify", 35, "m").require("sender-iin").evidence("amount", Money(100))
    assert f.requirements == ["sender-iin"]
    assert f.evidence_value("amount") == "1.00"
    with pytest.raises(ValueError, match="unknown action"):
        Finding("X", "deny", 1, "m")
    with pytest.raises(ValueError, match="score"):
        Finding("X", "review", 101, "m")
    with pytest.raises(ValueError, match="unknown check"):
        Finding("X", "verify", 1, "m").require("passport")


class Structuring(Rule):
    """A small rule using history, lists and logs, for the harness tests."""

    id = "sdk-test"
    version = "0.1.0"
    description = "test rule"
    params = [
        Param.integer("window-hours", 24, "window", min=1, max=1_193_046),
        Param.money("band-from", "450000.00", "lower bound"),
    ]
    codes = [Code("NEAR", "review", "near the threshold"), Code("LISTED", "hold", "on the list")]
    lists = ["watch"]

    def configure(self, params):
        self.hours = params["window-hours"]
        self.band_from = params["band-from"]

    def evaluate(self, t, host):
        findings = []
        totals = host.totals(t, hours=self.hours, kinds=["card-topup"], min_amount=self.band_from)
        if totals.count >= 2:
            host.log("info", f"{totals.count} near the threshold")
            findings.append(Finding("NEAR", "review", 30, "near").evidence("count", totals.count))
        if host.contains_account("watch", t.sender.account):
            findings.append(Finding("LISTED", "hold", 50, "listed"))
        return findings


def test_history_helpers_fill_in_account_window_and_open_bounds():
    host = FakeHost(totals=Totals(count=2))
    harness = Harness(Structuring, {"window-hours": "2"}, host)
    assert harness.codes(tx("card-topup", "490000.00")) == ["NEAR"]
    [(cursor, query)] = host.queries
    assert query == Query(
        account=SENDER_ACCOUNT,
        window_secs=7200,
        direction="outbound",
        kinds=frozenset({"card-topup"}),
        min_amount=Money.parse("450000.00"),
        max_amount=MAX,
    )
    assert cursor.time == tx().time
    assert host.logs == [("info", "2 near the threshold")]
    assert MIN.tiyn == -(2**63)


def test_lists_answer_from_the_fake_host():
    harness = Harness(Structuring, host=FakeHost(lists={"watch": [SENDER_ACCOUNT]}))
    assert harness.codes(tx()) == ["LISTED"]


def test_the_harness_refuses_what_the_host_refuses():
    with pytest.raises(ConfigError, match="no parameter `nope`"):
        Harness(Structuring, {"nope": "1"})
    with pytest.raises(ConfigError, match="parameter `window-hours`"):
        Harness(Structuring, {"window-hours": "0"})

    class Undeclared(Structuring):
        def evaluate(self, t, host):
            return [Finding("SURPRISE", "review", 1, "m")]

    with pytest.raises(ValueError, match="not declared"):
        Harness(Undeclared).evaluate(tx())

    class BadId(Structuring):
        id = "Bad_Id"

    with pytest.raises(ConfigError, match="id `Bad_Id`"):
        Harness(BadId)


def test_views_read_like_the_contract():
    t = tx("card-topup", "600000.00", verified=["recipient-iin"], remittance="USDT обмен")
    assert t.kind == "card-topup"
    assert t.is_verified("recipient-iin") and not t.is_verified("sender-iin")
    assert t.at.isoformat() == "2025-03-01T12:00:00+00:00"
    assert t.remittance == "USDT обмен"
    with pytest.raises(ValueError):
        tx("topup")
