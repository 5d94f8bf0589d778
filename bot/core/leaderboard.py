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


@dataclass(frozen=True, slots=True)
class Board:
    """One table cut at its size: the rows shown, and how many more tie the last of them."""

    rows: tuple[Ranked, ...]
    more_tied: int = 0

    @property
    def tied_score(self) -> int | None:
        return self.rows[-1].score if self.more_tied else None


def board(entries: Iterable[Entry], size: int) -> Board:
    """The top ``size`` rows; members tied with the last one shown are counted, not listed
    (29 members tied at 1 point make 10 rows and "19 more tied at 1"), and anyone ranked
    below that tie is left out."""
    ranked = rank(entries)
    rows = tuple(ranked[:size])
    more = sum(1 for r in ranked[size:] if rows and r.score == rows[-1].score)
    return Board(rows, more)


def rank(entries: Iterable[Entry]) -> list[Ranked]:
    """Highest score first; equal scores share the rank of the first of them."""
    ordered = sorted(entries, key=lambda e: (-e.score, e.name.casefold(), e.name))
    ranked: list[Ranked] = []
    for position, entry in enumerate(ordered, start=1):
        if ranked and ranked[-1].score == entry.score:
            ranked.append(Ranked(ranked[-1].rank, entry.name, entry.score))
        else:
            ranked.append(Ranked(position, entry.name, entry.score))
    return ranked
