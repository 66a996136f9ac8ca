"""A native test mode: run a rule under plain ``pytest``, against a fake
host, without building a component.

:class:`Harness` does what the host does at load (checks the metadata,
resolves the parameters with their defaults, configures the rule) and at
evaluation (refuses undeclared codes). :class:`FakeHost` answers history
questions from a function or fixed totals and the network questions from
canned answers (``with_reference``, ``with_flows``, ``with_trace``,
``with_path``, as the Rust SDK's ``MemoryHost``), holds pack lists, records
every question and log line so a test can assert on them. :func:`tx` builds a
transaction with sensible defaults.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple, Union

from .finding import Finding
from .host import LEVELS, Host, Query, Totals, check_window
from .money import Money
from .network import MAX_FLOWS, Flows, Path, Trail, check_money, flow_limit
from .params import resolve
from .rule import check_findings, check_metadata
from .tx import CHANNELS, CHECKS, KINDS, PARTY_KINDS, Cursor, Party, Tx

#: The account handle of :func:`tx`'s default sender.
SENDER_ACCOUNT = 1
#: The account handle of :func:`tx`'s default recipient.
RECIPIENT_ACCOUNT = 2
#: The time of :func:`tx`'s transactions unless given: 2025-03-01T12:00:00Z.
DEFAULT_TIME = 1_740_830_400
#: A valid IIN for tests.
VALID_IIN = "061211600012"


def tx(
    kind: str = "card-payment",
    amount: Union[str, Money] = "1000.00",
    *,
    channel: str = "mobile-app",
    currency: str = "KZT",
    sender_iin: str = VALID_IIN,
    recipient_iin: str = "",
    sender_kind: str = "individual",
    recipient_kind: str = "individual",
    recipient_vasp: str = "",
    sender_account: int = SENDER_ACCOUNT,
    recipient_account: int = RECIPIENT_ACCOUNT,
    remittance: str = "",
    verified: Iterable[str] = (),
    time: int = DEFAULT_TIME,
    seq: int = 1,
    device: Optional[int] = None,
) -> Tx:
    """A transaction for tests; unknown kinds, channels or checks are refused."""
    for value, allowed, what in (
        (kind, KINDS, "kind"),
        (channel, CHANNELS, "channel"),
        (sender_kind, PARTY_KINDS, "party kind"),
        (recipient_kind, PARTY_KINDS, "party kind"),
    ):
        if value not in allowed:
            raise ValueError(f"unknown {what} `{value}`; one of {allowed}")
    verified = frozenset(verified)
    if not verified <= set(CHECKS):
        raise ValueError(f"unknown checks {sorted(verified - set(CHECKS))}; one of {CHECKS}")
    return Tx(
        cursor=Cursor(seq, time),
        kind=kind,
        channel=channel,
        amount=amount if isinstance(amount, Money) else Money.parse(amount),
        currency=currency,
        sender=Party(sender_account, sender_iin, sender_kind),
        recipient=Party(recipient_account, recipient_iin, recipient_kind, recipient_vasp),
        remittance=remittance,
        verified=verified,
        device=device,
    )


class FakeHost(Host):
    """A host for tests. ``totals`` is fixed :class:`Totals` or a function
    ``(cursor, query) -> Totals``; lists map a name to keys or accounts;
    ``devices`` and ``holders`` map a device or holder handle to how many
    accounts the host saw on it (in any window). The network questions are
    answered from what the ``with_*`` methods give; anything else has no
    reference, no flows and no path, from a search that ended."""

    def __init__(
        self,
        totals: Union[Totals, Callable[[Cursor, Query], Totals], None] = None,
        lists: Optional[Dict[str, Iterable[Union[str, int]]]] = None,
        first_seen: Optional[Dict[int, int]] = None,
        devices: Optional[Dict[int, int]] = None,
        holders: Optional[Dict[int, int]] = None,
    ) -> None:
        self._totals = totals if totals is not None else Totals()
        self._lists = {name: set(keys) for name, keys in (lists or {}).items()}
        self._first_seen = dict(first_seen or {})
        self._devices = dict(devices or {})
        self._holders = dict(holders or {})
        self._references: Dict[int, str] = {}
        self._flows: Dict[int, Flows] = {}
        self._traces: Dict[int, Path] = {}
        self._paths: Dict[Tuple[int, int], Path] = {}
        #: Every aggregate question asked, as (cursor, query).
        self.queries: List[Tuple[Cursor, Query]] = []
        #: Every network question asked, as a tuple of its name and
        #: arguments: ``("counterparties", cursor, query, limit)``,
        #: ``("trace-back", cursor, account, amount, trail)``,
        #: ``("find-path", cursor, source, target, window_secs, trail)``.
        self.questions: List[Tuple[Any, ...]] = []
        #: Every log line, as (level, message).
        self.logs: List[Tuple[str, str]] = []

    def with_reference(self, account: int, reference: str) -> "FakeHost":
        """Names ``account`` by ``reference`` (its IBAN or card reference)."""
        self._references[account] = reference
        return self

    def with_flows(self, account: int, flows: Flows) -> "FakeHost":
        """Answers ``counterparties`` about ``account`` (in any window and
        direction) with ``flows``, cut to the limit asked; other accounts
        have none."""
        self._flows[account] = flows
        return self

    def with_trace(self, account: int, path: Path) -> "FakeHost":
        """Answers ``trace_back`` from ``account`` (for any amount) with
        ``path``; other accounts' money passed through nobody."""
        self._traces[account] = path
        return self

    def with_path(self, source: int, target: int, path: Path) -> "FakeHost":
        """Answers ``find_path`` from ``source`` to ``target`` with
        ``path``; other pairs have none."""
        self._paths[(source, target)] = path
        return self

    def aggregate(self, at: Cursor, query: Query) -> Totals:
        self.queries.append((at, query))
        return self._totals(at, query) if callable(self._totals) else self._totals

    def first_seen(self, at: Cursor, account: int) -> Optional[int]:
        return self._first_seen.get(account)

    def accounts_on_device(self, at: Cursor, device: int, window_secs: int) -> int:
        check_window(window_secs)
        return self._devices.get(device, 0)

    def accounts_of_holder(self, at: Cursor, holder: int, window_secs: int) -> int:
        check_window(window_secs)
        return self._holders.get(holder, 0)

    def reference(self, account: int) -> Optional[str]:
        return self._references.get(account)

    def counterparties(self, at: Cursor, query: Query, limit: int = MAX_FLOWS) -> Flows:
        self.questions.append(("counterparties", at, query, limit))
        found = self._flows.get(query.account, Flows())
        return Flows(found.flows[: flow_limit(limit)], found.total, found.complete)

    def trace_back(self, at: Cursor, account: int, amount: Money, trail: Trail) -> Path:
        check_money(amount, "the amount traced")
        self.questions.append(("trace-back", at, account, amount, trail))
        return self._traces.get(account, Path())

    def find_path(self, at: Cursor, source: int, target: int, window_secs: int,
                  trail: Trail) -> Path:
        check_window(window_secs)
        self.questions.append(("find-path", at, source, target, window_secs, trail))
        return self._paths.get((source, target), Path())

    def contains(self, list_name: str, key: str) -> bool:
        return key in self._lists.get(list_name, ())

    def contains_account(self, list_name: str, account: int) -> bool:
        return account in self._lists.get(list_name, ())

    def log(self, level: str, message: str) -> None:
        if level not in LEVELS:
            raise ValueError(f"unknown log level `{level}`; one of {LEVELS}")
        self.logs.append((level, message))


class Harness:
    """A rule configured as the host would configure it, with a fake host."""

    def __init__(self, rule_cls: type, params: Optional[Dict[str, str]] = None,
                 host: Optional[Host] = None) -> None:
        check_metadata(rule_cls)
        self.rule_cls = rule_cls
        self.rule = rule_cls()
        self.rule.configure(resolve(rule_cls.params, dict(params or {})))
        self.host = host if host is not None else FakeHost()

    def evaluate(self, transaction: Tx) -> List[Finding]:
        """The rule's findings about ``transaction``, checked as the host does."""
        return check_findings(self.rule_cls, list(self.rule.evaluate(transaction, self.host)))

    def codes(self, transaction: Tx) -> List[str]:
        """The codes of the rule's findings about ``transaction``."""
        return [f.code for f in self.evaluate(transaction)]
