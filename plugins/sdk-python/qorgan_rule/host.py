"""What a rule may ask the host: history, the network of who paid whom,
reference lists, and a log.

:class:`Host` is what ``evaluate`` receives. Its helpers fill in what the
raw contract leaves to the caller: the account defaults to the sender's,
windows are given in hours, and an absent amount bound means "no bound"
(the contract's query always carries both; the SDK sends the widest).
Amounts are :class:`~qorgan_rule.money.Money` and times seconds since the
epoch, as in :class:`~qorgan_rule.tx.Tx`. Inside a component the host is the
real one; in tests it is :class:`~qorgan_rule.testing.FakeHost`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

from .money import MAX, MIN, Money
from .network import MAX_FLOWS, Flows, Path, Trail
from .tx import KINDS, Cursor, Tx

#: Which of an account's transactions a question counts.
DIRECTIONS = ("inbound", "outbound", "both")
#: The longest window the contract can carry, in seconds.
MAX_WINDOW_SECS = 2**32 - 1
#: Log levels, from least to most severe.
LEVELS = ("trace", "debug", "info", "warn", "error")


def check_window(window_secs: int) -> int:
    """``window_secs`` if the contract can carry it as a window (1 s up to
    :data:`MAX_WINDOW_SECS`), else a :class:`ValueError` naming it."""
    if not isinstance(window_secs, int) or not 0 < window_secs <= MAX_WINDOW_SECS:
        raise ValueError(f"a window of {window_secs} s is outside 1..{MAX_WINDOW_SECS} s")
    return window_secs


@dataclass(frozen=True)
class Query:
    """A question about one account's activity in a window before a cursor."""

    account: int
    window_secs: int
    direction: str = "outbound"
    kinds: frozenset = frozenset()
    min_amount: Money = MIN
    max_amount: Money = MAX

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ValueError(f"unknown direction `{self.direction}`; one of {DIRECTIONS}")
        unknown = set(self.kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown kinds {sorted(unknown)}; the contract's are {KINDS}")
        check_window(self.window_secs)


@dataclass(frozen=True)
class Totals:
    """The answer to a :class:`Query`."""

    count: int = 0
    sum: Money = Money(0)
    max: Money = Money(0)
    counterparties: int = 0
    first: Optional[int] = None
    last: Optional[int] = None


class Host:
    """The host's services. Subclasses implement the raw questions; rules
    use them and the helpers."""

    def aggregate(self, at: Cursor, query: Query) -> Totals:
        """Totals of ``query`` in the window ending at ``at``."""
        raise NotImplementedError

    def first_seen(self, at: Cursor, account: int) -> Optional[int]:
        """When ``account`` first appeared in history before ``at``."""
        raise NotImplementedError

    def accounts_on_device(self, at: Cursor, device: int, window_secs: int) -> int:
        """How many distinct accounts sent money from ``device``
        (:attr:`Tx.device <qorgan_rule.tx.Tx.device>`) in the
        ``window_secs`` before ``at``; 0 for a device the host does not know."""
        raise NotImplementedError

    def accounts_of_holder(self, at: Cursor, holder: int, window_secs: int) -> int:
        """How many distinct accounts appeared under ``holder`` (an IIN/BIN,
        :attr:`Party.holder <qorgan_rule.tx.Party.holder>`) in the
        ``window_secs`` before ``at``; 0 for a holder the host does not know."""
        raise NotImplementedError

    def reference(self, account: int) -> Optional[str]:
        """The account's reference as the bank sent it (IBAN or card
        reference), to name it in evidence; ``None`` once forgotten."""
        raise NotImplementedError

    def counterparties(self, at: Cursor, query: Query, limit: int = MAX_FLOWS) -> Flows:
        """The accounts ``query.account`` dealt with in the query's window,
        counted as :meth:`aggregate` counts, the largest total first, at most
        ``limit`` (the host caps it at 64)."""
        raise NotImplementedError

    def trace_back(self, at: Cursor, account: int, amount: Money, trail: Trail) -> Path:
        """Follows ``amount``, leaving ``account`` at ``at``'s time, back
        through the accounts it passed through quickly: empty when it did
        not pass through ``account``, two hops or more for a chain. See the
        WIT ``history.trace-back``."""
        raise NotImplementedError

    def find_path(self, at: Cursor, source: int, target: int, window_secs: int,
                  trail: Trail) -> Path:
        """A path of payments from ``source`` to ``target`` in the
        ``window_secs`` before ``at`` along ``trail``: with the recipient as
        ``source`` and the sender as ``target``, whether the transaction
        closes a cycle. See the WIT ``history.find-path``."""
        raise NotImplementedError

    def contains(self, list_name: str, key: str) -> bool:
        """Whether the pack list ``list_name`` holds ``key``."""
        raise NotImplementedError

    def contains_account(self, list_name: str, account: int) -> bool:
        """Whether the pack list ``list_name`` holds ``account``."""
        raise NotImplementedError

    def log(self, level: str, message: str) -> None:
        """Writes a line to the host's log, attributed to the rule."""
        raise NotImplementedError

    def query(
        self,
        tx: Tx,
        *,
        hours: Optional[int] = None,
        seconds: Optional[int] = None,
        account: Optional[int] = None,
        direction: str = "outbound",
        kinds: Iterable[str] = (),
        min_amount: Optional[Money] = None,
        max_amount: Optional[Money] = None,
    ) -> Query:
        """The :class:`Query` about ``account`` (default: the sender's) in
        the ``hours`` (or ``seconds``) before ``tx``; bounds left out mean
        no bound."""
        if (hours is None) == (seconds is None):
            raise ValueError("give the window as exactly one of hours= or seconds=")
        window = seconds if seconds is not None else hours * 3600
        return Query(
            account=tx.sender.account if account is None else account,
            window_secs=window,
            direction=direction,
            kinds=frozenset(kinds),
            min_amount=MIN if min_amount is None else min_amount,
            max_amount=MAX if max_amount is None else max_amount,
        )

    def totals(
        self,
        tx: Tx,
        *,
        hours: Optional[int] = None,
        seconds: Optional[int] = None,
        account: Optional[int] = None,
        direction: str = "outbound",
        kinds: Iterable[str] = (),
        min_amount: Optional[Money] = None,
        max_amount: Optional[Money] = None,
    ) -> Totals:
        """The totals of ``account`` (default: the sender's) in the ``hours``
        (or ``seconds``) before ``tx``; bounds left out mean no bound."""
        return self.aggregate(tx.cursor, self.query(
            tx, hours=hours, seconds=seconds, account=account, direction=direction,
            kinds=kinds, min_amount=min_amount, max_amount=max_amount,
        ))

    def flows(
        self,
        tx: Tx,
        *,
        hours: Optional[int] = None,
        seconds: Optional[int] = None,
        account: Optional[int] = None,
        direction: str = "outbound",
        kinds: Iterable[str] = (),
        min_amount: Optional[Money] = None,
        max_amount: Optional[Money] = None,
        limit: int = MAX_FLOWS,
    ) -> Flows:
        """The counterparties of ``account`` (default: the sender's) in the
        ``hours`` (or ``seconds``) before ``tx``, at most ``limit``, the
        largest total first; bounds left out mean no bound."""
        return self.counterparties(tx.cursor, self.query(
            tx, hours=hours, seconds=seconds, account=account, direction=direction,
            kinds=kinds, min_amount=min_amount, max_amount=max_amount,
        ), limit)
