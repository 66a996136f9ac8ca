"""Typed views of the transactions a rule is asked about.

The contract hands a batch over as records of numbers plus one shared
``text`` buffer; text fields (an IIN, a VASP name, the remittance text) are
spans into it. :class:`Tx` turns them back into ``str``, amounts into
:class:`~qorgan_rule.money.Money`, times into UTC :class:`datetime`, and
enums and flags into the kebab-case names the WIT contract uses
(``"card-topup"``, ``"sender-iin"``), so a rule reads like the contract.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import FrozenSet, Optional

from .money import Money

#: Transaction kinds, in the contract's order.
KINDS = (
    "card-topup",
    "transfer",
    "cash-withdrawal",
    "cash-deposit",
    "card-payment",
    "crypto-purchase",
    "crypto-sale",
    "other",
)
#: Channels, in the contract's order.
CHANNELS = ("mobile-app", "internet-banking", "branch", "atm", "pos", "api", "other")
#: Kinds of party, in the contract's order.
PARTY_KINDS = ("individual", "business", "vasp", "unknown")
#: Identity and confirmation checks, in the contract's order.
CHECKS = ("sender-iin", "recipient-iin", "app-confirmation", "sms-confirmation", "biometric")


def utc(timestamp: int) -> datetime:
    """Seconds since 1970-01-01T00:00:00Z as an aware UTC datetime."""
    return datetime.fromtimestamp(timestamp, tz=timezone.utc)


@dataclass(frozen=True)
class Cursor:
    """Where a transaction stands in the host's history: pass it back to
    history questions (:meth:`Tx.cursor`). Only the cursor the host handed
    over in the current call may be asked at."""

    seq: int
    time: int


@dataclass(frozen=True)
class Party:
    """A sender or recipient. Empty text means absent."""

    account: int
    iin: str = ""
    kind: str = "individual"
    vasp: str = ""
    country: str = ""
    #: When the account was opened (seconds since the epoch), if known.
    opened: Optional[int] = None
    #: A handle for the holder (the same person's accounts share it).
    holder: Optional[int] = None
    #: The declared monthly income, if known.
    income: Optional[Money] = None

    @property
    def opened_at(self) -> Optional[datetime]:
        """:attr:`opened` as a UTC datetime."""
        return None if self.opened is None else utc(self.opened)


@dataclass(frozen=True)
class Tx:
    """One transaction, typed."""

    cursor: Cursor
    kind: str
    channel: str
    amount: Money
    currency: str
    sender: Party
    recipient: Party
    remittance: str = ""
    verified: FrozenSet[str] = field(default_factory=frozenset)
    device: Optional[int] = None

    @property
    def time(self) -> int:
        """When it happened, in seconds since the epoch."""
        return self.cursor.time

    @property
    def at(self) -> datetime:
        """When it happened, as a UTC datetime."""
        return utc(self.cursor.time)

    def is_verified(self, check: str) -> bool:
        """Whether the bank has already done ``check`` (e.g. ``"sender-iin"``)."""
        if check not in CHECKS:
            raise ValueError(f"unknown check `{check}`; the contract's checks are {CHECKS}")
        return check in self.verified
