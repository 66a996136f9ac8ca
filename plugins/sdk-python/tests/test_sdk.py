"""The Python SDK's own tests: run with plain ``pytest`` from plugins/sdk-python."""

import importlib
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path as FsPath
from types import SimpleNamespace

import pytest

from qorgan_rule import (
    Code, ConfigError, Finding, Flow, Flows, Hop, Money, MoneyError, Param, Path, Rule, Trail, iin,
)
from qorgan_rule.host import Query, Totals
from qorgan_rule.money import MAX, MIN
from qorgan_rule.testing import DEFAULT_TIME, FakeHost, Harness, RECIPIENT_ACCOUNT, SENDER_ACCOUNT, tx


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


def test_params_declare_their_bounds_as_value_text():
    count = Param.integer("n", 3, "d", min=2, max=10)
    assert (count.minimum, count.maximum) == ("2", "10")
    assert (Param.integer("n", 3, "d").minimum, Param.integer("n", 3, "d", min=2).maximum) == (None, None)
    money = Param.money("m", "1.00", "d")
    assert (money.minimum, money.maximum) == ("0.00", None)
    assert Param.money("m", "1.00", "d", min="0.5", max="1000").minimum == "0.50"
    assert Param.money("m", "1.00", "d", min="-5").minimum == "0.00"
    assert Param.money("m", "1.00", "d", max="1000").maximum == "1000.00"
    band = Param.decimal("b", "0.1", "d", min="0", max="1E+1")
    assert (band.minimum, band.maximum) == ("0", "10")
    assert (Param.boolean("f", True, "d").minimum, Param.text("t", "x", "d").maximum) == (None, None)


def test_a_trail_has_the_rust_sdks_defaults_and_caps_its_share():
    trail = Trail(3600)
    assert (trail.max_dwell_secs, trail.min_share_permille, trail.max_hops) == (3600, 800, 4)
    assert (trail.kinds, trail.min_amount) == (frozenset(), Money(0))
    quick = (trail.keeping_permille(5000).hops(2).only("transfer", "card-payment")
             .at_least(Money.tenge(100)))
    assert (quick.min_share_permille, quick.max_hops, quick.kinds, quick.min_amount) == (
        1000, 2, frozenset({"transfer", "card-payment"}), Money(10_000))
    assert trail.only(["cash-deposit"]).kinds == {"cash-deposit"}
    assert trail.max_hops == 4  # the builders return copies
    with pytest.raises(ValueError, match="unknown kinds"):
        trail.only("teleport")
    with pytest.raises(ValueError, match="share"):
        Trail(60, min_share_permille=1001)
    with pytest.raises(ValueError, match="dwell"):
        Trail(-1)


class Network(Rule):
    """A rule asking every network question, for the fake host's tests."""

    id = "sdk-network"
    version = "0.2.0"
    description = "network test rule"
    params = []
    codes = [
        Code("SHARED_DEVICE", "review", "many accounts on the device"),
        Code("MANY_CARDS", "review", "many accounts of the holder"),
        Code("HUB", "review", "many payers"),
        Code("PASS_THROUGH", "hold", "money passed through"),
        Code("CYCLE", "hold", "money came back"),
    ]

    def configure(self, params):
        self.trail = Trail(6 * 3600).only("transfer")

    def evaluate(self, t, host):
        findings = []
        if t.device is not None and host.accounts_on_device(t.cursor, t.device, 86_400) >= 3:
            findings.append(Finding("SHARED_DEVICE", "review", 20, "device"))
        holder = 77
        if host.accounts_of_holder(t.cursor, holder, 86_400) >= 5:
            findings.append(Finding("MANY_CARDS", "review", 20, "cards"))
        flows = host.flows(t, hours=24, account=t.recipient.account, direction="inbound", limit=2)
        if flows.total >= 3:
            top = flows.flows[0]
            name = host.reference(top.counterparty) or str(top.counterparty)
            findings.append(Finding("HUB", "review", 30, f"{flows.total} payers")
                            .evidence("top", name).evidence("sum", top.sum)
                            .evidence("complete", str(flows.complete).lower()))
        trace = host.trace_back(t.cursor, t.sender.account, t.amount, self.trail)
        if len(trace.hops) >= 2:
            findings.append(Finding("PASS_THROUGH", "hold", 50, "chain")
                            .evidence("origin", trace.hops[0].from_)
                            .evidence("amount", trace.hops[0].amount))
        cycle = host.find_path(t.cursor, t.recipient.account, t.sender.account, 7 * 86_400, self.trail)
        if cycle.found or not cycle.complete:
            findings.append(Finding("CYCLE", "hold", 50, "cycle").evidence("hops", len(cycle.hops)))
        return findings


def test_an_empty_fake_host_knows_nobody_and_says_its_searches_ended():
    host = FakeHost()
    harness = Harness(Network, host=host)
    assert harness.codes(tx("transfer", device=9)) == []
    at = tx().cursor
    assert host.reference(SENDER_ACCOUNT) is None
    assert host.counterparties(at, Query(SENDER_ACCOUNT, 60)) == Flows((), 0, True)
    assert host.trace_back(at, SENDER_ACCOUNT, Money(1), Trail(60)) == Path((), True)
    assert host.find_path(at, 1, 2, 60, Trail(60)) == Path()
    with pytest.raises(ValueError, match="window of 0 s"):
        host.accounts_on_device(at, 9, 0)
    with pytest.raises(TypeError, match="Money"):
        host.trace_back(at, SENDER_ACCOUNT, 100, Trail(60))
    with pytest.raises(ValueError, match="limit"):
        host.counterparties(at, Query(SENDER_ACCOUNT, 60), -1)


def test_the_fake_host_answers_network_questions_from_canned_answers():
    payers = Flows(
        [Flow(10 + i, 1, Money.tenge(100 - i), DEFAULT_TIME - 60, DEFAULT_TIME - 60) for i in range(5)],
        total=5, complete=False,
    )
    chain = Path([Hop(30, 31, Money.tenge(990), DEFAULT_TIME - 600),
                  Hop(31, SENDER_ACCOUNT, Money.tenge(980), DEFAULT_TIME - 300)])
    loop = Path([Hop(RECIPIENT_ACCOUNT, SENDER_ACCOUNT, Money.tenge(970), DEFAULT_TIME - 100)])
    host = (
        FakeHost(devices={9: 3}, holders={77: 5})
        .with_reference(10, "KZ86125KZT5004100100")
        .with_flows(RECIPIENT_ACCOUNT, payers)
        .with_trace(SENDER_ACCOUNT, chain)
        .with_path(RECIPIENT_ACCOUNT, SENDER_ACCOUNT, loop)
    )
    harness = Harness(Network, host=host)
    findings = {f.code: f for f in harness.evaluate(tx("transfer", "975.00", device=9))}
    assert sorted(findings) == ["CYCLE", "HUB", "MANY_CARDS", "PASS_THROUGH", "SHARED_DEVICE"]
    assert findings["HUB"].evidence_items == [
        ("top", "KZ86125KZT5004100100"), ("sum", "100.00"), ("complete", "false")]
    assert findings["PASS_THROUGH"].evidence_items == [("origin", "30"), ("amount", "990.00")]
    assert findings["CYCLE"].evidence_value("hops") == "1"
    [counterparties, trace, cycle] = host.questions
    assert counterparties[0] == "counterparties" and counterparties[3] == 2
    assert counterparties[2] == Query(RECIPIENT_ACCOUNT, 86_400, "inbound")
    assert trace == (
        "trace-back", tx().cursor, SENDER_ACCOUNT, Money.tenge(975), Trail(21_600).only("transfer"))
    assert cycle[:5] == ("find-path", tx().cursor, RECIPIENT_ACCOUNT, SENDER_ACCOUNT, 7 * 86_400)
    # The limit asked cuts the canned flows, as the host's does.
    asked = Query(RECIPIENT_ACCOUNT, 60)
    assert len(host.counterparties(tx().cursor, asked, 100).flows) == 5
    assert [f.counterparty for f in host.counterparties(tx().cursor, asked, 2).flows] == [10, 11]


# The glue, against the bindings componentize-py generates from wit/ (plain
# Python stubs, importable natively) with the host's functions replaced.

WIT = FsPath(__file__).resolve().parents[3] / "wit"


@pytest.fixture
def bindings(tmp_path, monkeypatch):
    if shutil.which("componentize-py") is None:
        pytest.skip("componentize-py is not installed")
    subprocess.run(
        ["componentize-py", "-d", str(WIT), "-w", "rule-plugin", "bindings", str(tmp_path)],
        check=True, capture_output=True,
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    try:
        wit_world = importlib.import_module("wit_world")
        for name in ("exports", "imports.types", "imports.history", "imports.lists", "imports.log"):
            importlib.import_module(f"wit_world.{name}")
        err = importlib.import_module("componentize_py_types").Err
        yield SimpleNamespace(imports=wit_world.imports, exports=wit_world.exports, Err=err)
    finally:
        for name in set(sys.modules) - before:
            del sys.modules[name]


def test_the_glue_speaks_contract_0_2(bindings, monkeypatch):
    from qorgan_rule.component import export

    types, history = bindings.imports.types, bindings.imports.history
    asked = []

    def answer(name, value):
        def f(*args):
            asked.append((name, *args))
            return value
        return f

    monkeypatch.setattr(history, "accounts_on_device", answer("device", 3))
    monkeypatch.setattr(history, "accounts_of_holder", answer("holder", 5))
    monkeypatch.setattr(history, "reference", answer("reference", "KZ86125KZT5004100100"))
    monkeypatch.setattr(history, "counterparties", answer("counterparties", history.Flows(
        flows=[history.Flow(counterparty=10, count=2, sum=10_000, first=5, last=6)] * 2,
        total=3, complete=False)))
    monkeypatch.setattr(history, "trace_back", answer("trace-back", history.Path(hops=[
        history.Hop(from_=30, to=31, amount=99_000, time=7),
        history.Hop(from_=31, to=1, amount=98_000, time=8),
    ], complete=True)))
    monkeypatch.setattr(history, "find_path", answer("find-path", history.Path(hops=[], complete=False)))

    class Bounded(Network):
        params = [Param.integer("n", 3, "d", min=1, max=9), Param.text("t", "x", "d")]

    exported = export(Bounded, bindings)()
    specs = exported.metadata().parameters
    assert [(p.minimum, p.maximum) for p in specs] == [("1", "9"), (None, None)]
    exported.configure([])
    span = types.Span(start=0, len=0)

    def party(account):
        return types.Party(account=account, iin=span, kind=types.PartyKind.INDIVIDUAL, vasp=span,
                           country=span, opened=None, holder=None, income=None)

    raw = types.Transaction(
        at=types.Cursor(seq=4, time=DEFAULT_TIME), kind=types.TxKind.TRANSFER,
        channel=types.Channel.MOBILE_APP,
        amount=97_500, currency=span, sender=party(1), recipient=party(2), remittance=span,
        verified=types.Checks(0), device=9,
    )
    [verdict] = exported.evaluate(types.Batch(transactions=[raw], text=b""))
    found = {f.code: {e.name: e.value for e in f.evidence} for f in verdict.findings}
    assert found == {
        "SHARED_DEVICE": {}, "MANY_CARDS": {},
        "HUB": {"top": "KZ86125KZT5004100100", "sum": "100.00", "complete": "false"},
        "PASS_THROUGH": {"origin": "30", "amount": "990.00"},
        "CYCLE": {"hops": "0"},
    }
    cursor = types.Cursor(seq=4, time=DEFAULT_TIME)
    trail = history.Trail(max_dwell=21_600, min_share=800, max_hops=4,
                          kinds=types.TxKinds.TRANSFER, min_amount=0)
    assert asked == [
        ("device", cursor, 9, 86_400),
        ("holder", cursor, 77, 86_400),
        ("counterparties", cursor, history.Query(
            account=2, window=86_400, direction=history.Direction.INBOUND, kinds=types.TxKinds(0),
            min_amount=MIN.tiyn, max_amount=MAX.tiyn), 2),
        ("reference", 10),
        ("trace-back", cursor, 1, 97_500, trail),
        ("find-path", cursor, 2, 1, 7 * 86_400, trail),
    ]
