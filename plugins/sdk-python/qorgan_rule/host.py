"""What a rule may ask the host: history, reference lists, and a log.

:class:`Host` is what ``evaluate`` receives. Its helpers fill in what the
raw contract leaves to the caller: the account defaults to the sender's,
windows are given in hours, and an absent amount bound means "no bound"
(the contract's query always carries both; the SDK sends the widest).
Inside a component the host is the real one; in tests it is
:class:`~qorgan_rule.testing.FakeHost`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

from .money import MAX, MIN, Money
from .tx import KINDS, Cursor, Tx

#: Which of an account's transactions a question counts.
DIRECTIONS = ("inbound", "outbound", "both")
#: The longest window the contract can carry, in seconds.
MAX_WINDOW_SECS = 2**32 - 1
#: Log levels, from least to most severe.
LEVELS = ("trace", "debug", "info", "warn", "error")


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
        if not 0 < self.window_secs <= MAX_WINDOW_SECS:
            raise ValueError(
                f"a window of {self.window_secs} s is outside 1..{MAX_WINDOW_SECS} s"
            )


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
    """The host's services. Subclasses implement the four raw questions;
    rules use the helpers."""

    def aggregate(self, at: Cursor, query: Query) -> Totals:
        """Totals of ``query`` in the window ending at ``at``."""
        raise NotImplementedError

    def first_seen(self, at: Cursor, account: int) -> Optional[int]:
        """When ``account`` first appeared in history before ``at``."""
        raise NotImplementedError

    def linked_accounts(self, at: Cursor, key: int, window_secs: int) -> int:
        """How many accounts used the device or holder handle ``key``."""
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
        if (hours is None) == (seconds is None):
            raise ValueError("give the window as exactly one of hours= or seconds=")
        window = seconds if seconds is not None else hours * 3600
        query = Query(
            account=tx.sender.account if account is None else account,
            window_secs=window,
            direction=direction,
            kinds=frozenset(kinds),
            min_amount=MIN if min_amount is None else min_amount,
            max_amount=MAX if max_amount is None else max_amount,
        )
        return self.aggregate(tx.cursor, query)
