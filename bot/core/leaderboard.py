"""Leaderboard ranking: standard competition ranks, so ties share a rank (1, 2, 2, 4)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Entry:
    name: str
    score: int


@dataclass(frozen=True, slots=True)
class Ranked:
    rank: int
    name: str
    score: int


def rank(entries: Iterable[Entry], *, limit: int | None = None) -> list[Ranked]:
    """Highest score first; equal scores share the rank of the first of them."""
    ordered = sorted(entries, key=lambda e: (-e.score, e.name.casefold(), e.name))
    ranked: list[Ranked] = []
    for position, entry in enumerate(ordered, start=1):
        if ranked and ranked[-1].score == entry.score:
            ranked.append(Ranked(ranked[-1].rank, entry.name, entry.score))
        else:
            ranked.append(Ranked(position, entry.name, entry.score))
    if limit is not None:
        # Everyone tied with the last place shown stays in: a cut never splits a tie.
        return [r for r in ranked if r.rank <= limit]
    return ranked
