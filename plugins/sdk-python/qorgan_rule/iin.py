"""Kazakh IIN/BIN checks: twelve digits whose last is a check digit.

The check digit is the sum of the first eleven digits weighted 1..11,
modulo 11; when that is 10, the weights 3..11, 1, 2 are used instead; when
that is 10 again, no check digit exists and the number is invalid.
"""

from __future__ import annotations

from typing import Optional

LEN = 12
_FIRST = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
_SECOND = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)


def problem(iin: str) -> Optional[str]:
    """``None`` for a valid IIN/BIN, else the reason as evidence names it:
    ``"wrong-length"``, ``"non-digit"`` or ``"checksum"``."""
    if len(iin) != LEN:
        return "wrong-length"
    if not all("0" <= c <= "9" for c in iin):
        return "non-digit"
    digits = [ord(c) - ord("0") for c in iin]
    check = sum(w * d for w, d in zip(_FIRST, digits)) % 11
    if check == 10:
        check = sum(w * d for w, d in zip(_SECOND, digits)) % 11
        if check == 10:
            return "checksum"
    return None if check == digits[11] else "checksum"


def explain(iin: str) -> Optional[str]:
    """``None`` for a valid IIN/BIN, else what is wrong in words, as the Rust
    SDK writes it (``"has 11 characters, expected 12 digits"``)."""
    reason = problem(iin)
    if reason == "wrong-length":
        return f"has {len(iin)} characters, expected {LEN} digits"
    if reason == "non-digit":
        position = next(i for i, c in enumerate(iin, 1) if not "0" <= c <= "9")
        return f"character {position} is not a digit"
    if reason == "checksum":
        return "fails the check-digit test"
    return None


def is_valid(iin: str) -> bool:
    """Whether ``iin`` is a well-formed IIN/BIN with a matching check digit."""
    return problem(iin) is None
