"""Findings: what a rule reports about a transaction.

A finding names a code the rule declared, the action it asks for, a risk
score from 0 to 100, the checks the bank must do first (for ``verify``), a
message for the analyst and evidence (name, value pairs). Mistakes that the
host would refuse (an unknown action or check, a score out of range) are
refused here, when the finding is built, naming what is wrong.
"""

from __future__ import annotations

from typing import List, Tuple

from .tx import CHECKS

#: Actions from weakest to strongest.
ACTIONS = ("allow", "verify", "review", "hold", "block")


class Finding:
    """One finding. Build with the constructor, then :meth:`require` and
    :meth:`evidence`, which return the finding so calls can be chained."""

    __slots__ = ("code", "action", "score", "requirements", "message", "evidence_items")

    def __init__(self, code: str, action: str, score: int, message: str) -> None:
        if action not in ACTIONS:
            raise ValueError(f"finding `{code}`: unknown action `{action}`; one of {ACTIONS}")
        if not isinstance(score, int) or isinstance(score, bool) or not 0 <= score <= 100:
            raise ValueError(f"finding `{code}`: score {score!r} is not a whole number 0-100")
        self.code = code
        self.action = action
        self.score = score
        self.requirements: List[str] = []
        self.message = message
        self.evidence_items: List[Tuple[str, str]] = []

    def require(self, *checks: str) -> "Finding":
        """Adds checks the bank must do before the payment goes through."""
        for check in checks:
            if check not in CHECKS:
                raise ValueError(f"finding `{self.code}`: unknown check `{check}`; one of {CHECKS}")
            if check not in self.requirements:
                self.requirements.append(check)
        return self

    def evidence(self, name: str, value: object) -> "Finding":
        """Adds one piece of evidence; the value is written with ``str``."""
        self.evidence_items.append((name, str(value)))
        return self

    def evidence_value(self, name: str):
        """The first evidence value named ``name``, or ``None``."""
        return next((v for n, v in self.evidence_items if n == name), None)

    def __repr__(self) -> str:
        return f"Finding({self.code}, {self.action}, {self.score}, {self.message!r})"
