"""A rule: what it declares about itself and how it evaluates.

Subclass :class:`Rule`, set the class attributes and write ``evaluate``::

    class TopupThreshold(Rule):
        id = "py-threshold"
        version = "1.0.0"
        description = "..."
        params = [Param.money("topup-threshold", "500000.00", "...")]
        codes = [Code("TOPUP_SENDER_IIN_REQUIRED", "verify", "...")]

        def configure(self, params):
            self.threshold = params["topup-threshold"]

        def evaluate(self, tx, host):
            return []

:func:`check_metadata` refuses what the host would refuse at load (ids,
codes, duplicate names), so a native test catches it first.
"""

from __future__ import annotations

import re
from typing import List

from .finding import ACTIONS, Finding
from .host import Host
from .params import ConfigError, Param, Params
from .tx import Tx

_KEBAB = re.compile(r"^[a-z0-9-]+$")
_CODE = re.compile(r"^[A-Z0-9_]+$")
#: The code the host reserves for failed plugins.
RESERVED_CODE = "PLUGIN_FAILED"


class Code:
    """A finding code the rule declares, with its default action."""

    __slots__ = ("code", "action", "description")

    def __init__(self, code: str, action: str, description: str) -> None:
        self.code = code
        self.action = action
        self.description = description


class Rule:
    """The base of every rule. Instances are made once per configuration."""

    id: str = ""
    version: str = ""
    description: str = ""
    params: List[Param] = []
    codes: List[Code] = []
    lists: List[str] = []

    def configure(self, params: Params) -> None:
        """Receives the parameters' typed values; raise
        :class:`~qorgan_rule.params.ConfigError` to refuse them."""

    def evaluate(self, tx: Tx, host: Host) -> List[Finding]:
        """The findings about ``tx`` (empty: nothing to say)."""
        raise NotImplementedError


def check_metadata(rule: type) -> None:
    """Refuses metadata the host would refuse, naming the problem."""
    def bad(problem: str) -> ConfigError:
        return ConfigError(f"rule `{rule.id}`: metadata: {problem}")

    if not _KEBAB.match(rule.id or ""):
        raise bad(f"id `{rule.id}` must be lower-case letters, digits and dashes")
    if not (rule.version or "").strip():
        raise bad("version is empty")
    seen = set()
    for p in rule.params:
        if not _KEBAB.match(p.name):
            raise bad(f"parameter `{p.name}` must be lower-case letters, digits and dashes")
        if p.name in seen:
            raise bad(f"parameter `{p.name}` is declared twice")
        seen.add(p.name)
    seen = set()
    for c in rule.codes:
        if not _CODE.match(c.code):
            raise bad(f"finding code `{c.code}` must be upper-case letters, digits and underscores")
        if c.code == RESERVED_CODE:
            raise bad(f"finding code `{c.code}` is reserved for the host")
        if c.code in seen:
            raise bad(f"finding code `{c.code}` is declared twice")
        if c.action not in ACTIONS:
            raise bad(f"finding code `{c.code}`: unknown action `{c.action}`")
        seen.add(c.code)


def check_findings(rule: type, findings: List[Finding]) -> List[Finding]:
    """Refuses findings with codes the rule did not declare, as the host
    does (there the whole call fails)."""
    declared = {c.code for c in rule.codes}
    for f in findings:
        if not isinstance(f, Finding):
            raise TypeError(f"evaluate returned {f!r}, not a Finding")
        if f.code not in declared:
            raise ValueError(f"finding code `{f.code}` is not declared by rule `{rule.id}`")
    return findings
