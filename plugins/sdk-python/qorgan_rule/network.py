"""The network questions' types: who an account dealt with, and paths of
money from account to account.

Ask them through :meth:`Host.counterparties
<qorgan_rule.host.Host.counterparties>`, :meth:`Host.trace_back
<qorgan_rule.host.Host.trace_back>` and :meth:`Host.find_path
<qorgan_rule.host.Host.find_path>`. Every answer has a bounded size and
says whether the host's event budget cut it short (``complete``); the WIT
``history`` interface states the bounds. :class:`Trail` says how to follow
money, with the Rust SDK's defaults::

    # Money that rests at most an hour and keeps at least 90% of itself.
    quick = Trail(3600).keeping_permille(900).hops(4).only("transfer")
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Iterable, Tuple

from .money import ZERO, Money
from .tx import KINDS

#: The longest dwell the contract can carry, in seconds.
MAX_DWELL_SECS = 2**32 - 1
#: The whole, in thousandths: the largest share a trail can ask for.
PERMILLE = 1000
#: The default least share passed on, in thousandths (80%).
DEFAULT_SHARE_PERMILLE = 800
#: The default most hops followed.
DEFAULT_HOPS = 4
#: The most hops the host follows, whatever a trail asks.
MAX_HOPS = 8
#: The most flows the host lists in one answer, whatever the limit asked.
MAX_FLOWS = 64


def flow_limit(limit: int) -> int:
    """The number of flows a ``counterparties`` answer may list for
    ``limit``: a whole number, at most :data:`MAX_FLOWS` (the host's cap); a
    :class:`ValueError` names any other."""
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise ValueError(f"a limit of {limit!r} flows is not a whole number")
    return min(limit, MAX_FLOWS)


def check_money(amount: Money, what: str) -> Money:
    """``amount`` if it is :class:`~qorgan_rule.money.Money`, else a
    :class:`TypeError` naming ``what``."""
    if not isinstance(amount, Money):
        raise TypeError(f"{what} is Money, not {amount!r}")
    return amount


@dataclass(frozen=True)
class Flow:
    """What an account exchanged with one counterparty in a window."""

    #: The other account.
    counterparty: int
    #: How many transactions.
    count: int
    #: Their total.
    sum: Money
    #: The earliest one's time (seconds since the epoch).
    first: int
    #: The latest one's time (seconds since the epoch).
    last: int


@dataclass(frozen=True)
class Flows:
    """The answer to :meth:`Host.counterparties
    <qorgan_rule.host.Host.counterparties>`. ``Flows()`` is "none, and the
    whole window was read"."""

    #: One flow per counterparty, the largest sum first.
    flows: Tuple[Flow, ...] = ()
    #: How many distinct counterparties the window holds, listed or not.
    total: int = 0
    #: False when the host's event budget ran out before the window did.
    complete: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "flows", tuple(self.flows))


@dataclass(frozen=True)
class Hop:
    """One payment on a path of money. (``from_``: ``from`` is a Python
    keyword.)"""

    #: The payer.
    from_: int
    #: The payee.
    to: int
    #: The amount.
    amount: Money
    #: When it was made (seconds since the epoch).
    time: int


@dataclass(frozen=True)
class Path:
    """A path of payments, the earliest first. ``Path()`` is "none, and the
    search ended"."""

    #: The hops; empty when none was found.
    hops: Tuple[Hop, ...] = ()
    #: False when the host's event budget ran out before the search ended:
    #: an empty path then means "not found in the budget", not "none".
    complete: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "hops", tuple(self.hops))

    @property
    def found(self) -> bool:
        """Whether the path has any hop."""
        return bool(self.hops)


@dataclass(frozen=True)
class Trail:
    """How to follow money from account to account, for
    :meth:`Host.trace_back <qorgan_rule.host.Host.trace_back>` and
    :meth:`Host.find_path <qorgan_rule.host.Host.find_path>`.

    ``Trail(max_dwell_secs)`` is money resting at most that long in an
    account, passed on whole (80% or more), for up to 4 hops, of every kind
    and amount; the builder methods return changed copies.
    """

    #: The longest time money may rest in an account, in seconds.
    max_dwell_secs: int
    #: The least share of what arrived that must leave, in thousandths.
    min_share_permille: int = DEFAULT_SHARE_PERMILLE
    #: The most hops followed (the host caps it at 8).
    max_hops: int = DEFAULT_HOPS
    #: The kinds of payment followed; empty for all.
    kinds: frozenset = field(default_factory=frozenset)
    #: Payments smaller than this are not followed.
    min_amount: Money = ZERO

    def __post_init__(self) -> None:
        object.__setattr__(self, "kinds", frozenset(self.kinds))
        if not isinstance(self.max_dwell_secs, int) or not 0 <= self.max_dwell_secs <= MAX_DWELL_SECS:
            raise ValueError(
                f"a dwell of {self.max_dwell_secs} s is outside 0..{MAX_DWELL_SECS} s"
            )
        if not isinstance(self.min_share_permille, int) or not 0 <= self.min_share_permille <= PERMILLE:
            raise ValueError(f"a share of {self.min_share_permille}‰ is outside 0..{PERMILLE}‰")
        if not isinstance(self.max_hops, int) or not 0 <= self.max_hops <= 255:
            raise ValueError(f"{self.max_hops} hops is outside 0..255")
        unknown = self.kinds - set(KINDS)
        if unknown:
            raise ValueError(f"unknown kinds {sorted(unknown)}; the contract's are {KINDS}")
        if not isinstance(self.min_amount, Money):
            raise TypeError(f"a trail's least amount is Money, not {self.min_amount!r}")

    def keeping_permille(self, permille: int) -> "Trail":
        """The least share passed on, in thousandths (capped at 1000)."""
        return replace(self, min_share_permille=min(permille, PERMILLE))

    def hops(self, max_hops: int) -> "Trail":
        """The most hops followed (the host caps it at 8)."""
        return replace(self, max_hops=max_hops)

    def only(self, *kinds: str | Iterable[str]) -> "Trail":
        """Follows only payments of these kinds (``only("transfer")`` or
        ``only(["transfer", "card-payment"])``)."""
        names = set()
        for k in kinds:
            names.update([k] if isinstance(k, str) else k)
        return replace(self, kinds=frozenset(names))

    def at_least(self, amount: Money) -> "Trail":
        """Ignores payments smaller than ``amount``."""
        return replace(self, min_amount=amount)
