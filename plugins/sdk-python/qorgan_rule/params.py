"""Parameters a rule declares, with defaults and bounds, and their values.

A rule lists its parameters as :class:`Param` objects; the host gives every
declared parameter to ``configure`` (the pack's value or the default). The
SDK parses each value into its type (:class:`~qorgan_rule.money.Money`,
``int``, :class:`decimal.Decimal`, ``bool`` or ``str``), checks its bounds,
and refuses the pack with a :class:`ConfigError` naming the parameter when a
value does not fit: the rule's own ``configure`` only sees good values.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Dict, Iterable, Optional

from .money import Money, MoneyError

TYPES = ("money", "integer", "decimal", "boolean", "text")


class ConfigError(Exception):
    """A parameter value the rule cannot work with. Its message reaches the
    pack's author through the host's refusal."""


class Param:
    """A declared parameter. Build with the class methods."""

    __slots__ = ("name", "type", "default", "description", "min", "max")

    def __init__(self, name, type_, default, description, min_=None, max_=None) -> None:
        if type_ not in TYPES:
            raise ValueError(f"parameter `{name}`: unknown type `{type_}`")
        self.name = name
        self.type = type_
        self.default = default
        self.description = description
        self.min = min_
        self.max = max_
        # The default must itself be a good value.
        self.parse(default)

    @classmethod
    def money(cls, name: str, default: str, description: str,
              min: Optional[str] = None, max: Optional[str] = None) -> "Param":
        """Tenge with at most two fraction digits, never negative."""
        return cls(name, "money", default, description,
                   Money.parse(min) if min is not None else Money(0),
                   Money.parse(max) if max is not None else None)

    @classmethod
    def integer(cls, name: str, default: int, description: str,
                min: Optional[int] = None, max: Optional[int] = None) -> "Param":
        """A whole number, optionally within ``min``..``max`` (inclusive)."""
        return cls(name, "integer", str(default), description, min, max)

    @classmethod
    def decimal(cls, name: str, default: str, description: str,
                min: Optional[str] = None, max: Optional[str] = None) -> "Param":
        """An exact decimal number."""
        return cls(name, "decimal", default, description,
                   Decimal(min) if min is not None else None,
                   Decimal(max) if max is not None else None)

    @classmethod
    def boolean(cls, name: str, default: bool, description: str) -> "Param":
        """``true`` or ``false``."""
        return cls(name, "boolean", "true" if default else "false", description)

    @classmethod
    def text(cls, name: str, default: str, description: str) -> "Param":
        """Free text."""
        return cls(name, "text", default, description)

    @property
    def minimum(self) -> Optional[str]:
        """The least value as text of the parameter's type (``"0.00"``,
        ``"1"``, ``"0.5"``), as the component declares it to the host, which
        then refuses a pack value below it too; ``None`` for no bound. A
        money parameter's least value is never below ``"0.00"`` (the host
        refuses negative money anyway)."""
        if self.type == "money" and self.min is not None and self.min < Money(0):
            return _bound_text(Money(0))
        return _bound_text(self.min)

    @property
    def maximum(self) -> Optional[str]:
        """The greatest value as text, as :attr:`minimum`; ``None`` for no
        bound."""
        return _bound_text(self.max)

    def parse(self, value: str) -> Any:
        """The typed value of ``value``, or :class:`ConfigError` naming the
        parameter and what is wrong."""
        def bad(problem: str) -> ConfigError:
            return ConfigError(f"parameter `{self.name}`: `{value}` {problem}")

        if self.type == "money":
            try:
                parsed: Any = Money.parse(value)
            except MoneyError as e:
                raise ConfigError(f"parameter `{self.name}`: {e}") from None
        elif self.type == "integer":
            text = value[1:] if value.startswith("-") else value
            if not (text.isascii() and text.isdigit()):
                raise bad("is not a whole number")
            parsed = int(value)
        elif self.type == "decimal":
            try:
                parsed = Decimal(value)
            except InvalidOperation:
                raise bad("is not a decimal number") from None
            if not parsed.is_finite() or "e" in value.lower():
                raise bad("is not a decimal number")
        elif self.type == "boolean":
            if value not in ("true", "false"):
                raise bad("is not `true` or `false`")
            parsed = value == "true"
        else:
            parsed = value
        if self.min is not None and parsed < self.min:
            raise bad(f"is below the least allowed value, {self.min}")
        if self.max is not None and parsed > self.max:
            raise bad(f"is above the greatest allowed value, {self.max}")
        return parsed


def _bound_text(bound: Any) -> Optional[str]:
    """A bound written as a value of its type: ``str`` of money and whole
    numbers, plain notation (never an exponent) of a decimal."""
    if bound is None:
        return None
    if isinstance(bound, Decimal):
        return format(bound, "f")
    return str(bound)


class Params:
    """The resolved values of a rule's parameters, by name."""

    def __init__(self, values: Dict[str, Any]) -> None:
        self._values = values

    def __getitem__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise KeyError(f"the rule declares no parameter `{name}`") from None

    def __contains__(self, name: str) -> bool:
        return name in self._values

    def items(self):
        """(name, value) pairs, in declaration order."""
        return self._values.items()


def resolve(declared: Iterable[Param], given: Dict[str, str]) -> Params:
    """Parses ``given`` (name to text) against ``declared``: unknown names
    are refused and defaults fill the rest."""
    declared = list(declared)
    names = [p.name for p in declared]
    for name in given:
        if name not in names:
            raise ConfigError(f"no parameter `{name}`; the rule declares: {', '.join(names)}")
    return Params({p.name: p.parse(given.get(p.name, p.default)) for p in declared})
