"""Money in tiyn (hundredths of a tenge), exact: never a float.

The host hands every amount over as a whole number of tiyn, already
converted to tenge with the pack's rates. Rules compare and add those
numbers; text such as ``"500000.00"`` (a pack parameter, an evidence value)
is parsed and written with :meth:`Money.parse` and :func:`str`, exactly as
the Rust SDK does, so a finding's message reads the same in every language.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

TIYN_PER_TENGE = 100
#: The smallest amount the contract can carry (a signed 64-bit tiyn count).
MIN_TIYN = -(2**63)
#: The largest amount the contract can carry.
MAX_TIYN = 2**63 - 1


class MoneyError(ValueError):
    """A text that is not an amount of money, with the reason."""


@dataclass(frozen=True, order=True)
class Money:
    """An amount in tiyn. Compare, add and subtract; ``str`` gives ``"12.34"``."""

    tiyn: int

    def __post_init__(self) -> None:
        if not isinstance(self.tiyn, int) or isinstance(self.tiyn, bool):
            raise TypeError(f"Money holds a whole number of tiyn, not {self.tiyn!r}")
        if not MIN_TIYN <= self.tiyn <= MAX_TIYN:
            raise OverflowError(f"{self.tiyn} tiyn does not fit the contract's 64 bits")

    @staticmethod
    def parse(text: str) -> "Money":
        """Parses ``"500000"``, ``"500000.5"`` or ``"-12.34"``: digits, an
        optional single leading ``-``, at most two fraction digits."""
        if text == "":
            raise MoneyError(f"invalid amount `{text}`: it is empty")
        negative = text.startswith("-")
        unsigned = text[1:] if negative else text
        whole, dot, fraction = unsigned.partition(".")
        if "-" in unsigned or "+" in unsigned:
            raise MoneyError(
                f"invalid amount `{text}`: only a single leading `-` is allowed as a sign"
            )
        if not whole or (dot and not fraction):
            raise MoneyError(
                f"invalid amount `{text}`: expected digits before and after the decimal point"
            )
        if not (whole.isascii() and whole.isdigit()) or (
            fraction and not (fraction.isascii() and fraction.isdigit())
        ):
            raise MoneyError(f"invalid amount `{text}`: only digits 0-9 are allowed")
        if len(fraction) > 2:
            raise MoneyError(
                f"invalid amount `{text}`: {len(fraction)} digits after the decimal point, "
                "at most 2 (tiyn) are allowed"
            )
        tiyn = int(whole) * TIYN_PER_TENGE + int(fraction.ljust(2, "0") or "0")
        tiyn = -tiyn if negative else tiyn
        if not MIN_TIYN <= tiyn <= MAX_TIYN:
            raise MoneyError(f"invalid amount `{text}`: too large")
        return Money(tiyn)

    @staticmethod
    def tenge(whole: int) -> "Money":
        """A whole number of tenge."""
        return Money(whole * TIYN_PER_TENGE)

    @property
    def decimal(self) -> Decimal:
        """The amount in tenge as an exact :class:`decimal.Decimal`."""
        return Decimal(self.tiyn).scaleb(-2)

    def __add__(self, other: "Money") -> "Money":
        return Money(self.tiyn + other.tiyn)

    def __sub__(self, other: "Money") -> "Money":
        return Money(self.tiyn - other.tiyn)

    def __str__(self) -> str:
        sign = "-" if self.tiyn < 0 else ""
        whole, frac = divmod(abs(self.tiyn), TIYN_PER_TENGE)
        return f"{sign}{whole}.{frac:02d}"

    def __repr__(self) -> str:
        return f"Money({self})"


ZERO = Money(0)
#: The smallest amount: a query bound that excludes nothing.
MIN = Money(MIN_TIYN)
#: The largest amount: a query bound that excludes nothing.
MAX = Money(MAX_TIYN)
