"""Words that depend on a number: "1 day", "2 days"."""

from __future__ import annotations


def count(n: int, one: str, many: str | None = None) -> str:
    """``n`` and the noun in the right number (``many`` defaults to ``one`` + "s")."""
    return f"{n} {one if n == 1 else (many or one + 's')}"
