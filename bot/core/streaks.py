"""Streaks: consecutive required days kept, with a bank of freezes.

A streak belongs to a member in a channel. Its *required days* are the channel's posting
weekdays, read as dates in the member's timezone. A required day is *kept* by any study
action that day (answering or grading the daily question, clearing a follow-up,
finishing a quiz). Off-days change nothing; *forgiven* days (the bot failed to post, or
an admin skipped the day) count when kept and cost nothing when not. A missed required
day spends a freeze if one is banked, otherwise the streak resets. Every 7 kept days
earn a freeze, at most 2 banked.

The stored streak is only a cache of ``replay``: the same fold over the same history
always gives the same state, which the daily roll-over and the crash tests rely on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta

MAX_FREEZES = 2
KEPT_DAYS_PER_FREEZE = 7


@dataclass(frozen=True, slots=True)
class StreakState:
    current: int = 0
    best: int = 0
    freezes: int = 0
    progress: int = 0
    """Kept days counted toward the next freeze."""
    evaluated_through: date | None = None
    """The last day folded in; the day after it is the first still open."""


@dataclass(frozen=True, slots=True)
class StreakHistory:
    """What the fold needs to know about one member in one channel."""

    start: date
    required_weekdays: frozenset[int]
    kept: frozenset[date]
    forgiven: frozenset[date] = frozenset()
    repairs: Mapping[date, int] | None = None
    """Admin repairs: after folding day D, the streak is set to the value."""


def step(
    state: StreakState, day: date, *, required: bool, kept: bool, forgiven: bool
) -> StreakState:
    """Fold one day into the state. A forgiven day can still be kept (the question was
    posted late on purpose, or a quiz was taken); it only never costs anything."""
    if not required:
        return replace(state, evaluated_through=day)
    if kept:
        current = state.current + 1
        progress = state.progress + 1
        freezes = state.freezes
        if progress >= KEPT_DAYS_PER_FREEZE:
            progress = 0
            freezes = min(MAX_FREEZES, freezes + 1)
        return StreakState(current, max(state.best, current), freezes, progress, day)
    if forgiven:
        return replace(state, evaluated_through=day)
    if state.freezes > 0:
        return replace(state, freezes=state.freezes - 1, evaluated_through=day)
    return replace(state, current=0, progress=0, evaluated_through=day)


def repaired(state: StreakState, value: int) -> StreakState:
    return replace(state, current=value, best=max(state.best, value))


def advance(state: StreakState, history: StreakHistory, through: date) -> StreakState:
    """Fold every day after ``state.evaluated_through`` up to ``through`` inclusive."""
    first = history.start
    if state.evaluated_through is not None:
        first = max(first, state.evaluated_through + timedelta(days=1))
    repairs = history.repairs or {}
    day = first
    while day <= through:
        state = step(
            state,
            day,
            required=day.weekday() in history.required_weekdays,
            kept=day in history.kept,
            forgiven=day in history.forgiven,
        )
        if day in repairs:
            state = repaired(state, repairs[day])
        day += timedelta(days=1)
    return state


def replay(history: StreakHistory, through: date) -> StreakState:
    """The state recomputed from nothing but history: what the cache must equal."""
    state = StreakState()
    repairs = history.repairs or {}
    before_start = [day for day in repairs if day < history.start]
    if before_start:  # a repair made on a member's first day dates from the day before
        state = repaired(state, repairs[max(before_start)])
    return advance(state, history, through)


def counts_today(state: StreakState, today: date, history: StreakHistory) -> bool:
    """Whether today is kept and will add a day when it is folded (not yet folded, a
    required day): the day shown streaks count before it is over."""
    return (
        today in history.kept
        and today.weekday() in history.required_weekdays
        and (state.evaluated_through is None or state.evaluated_through < today)
    )


def shown(state: StreakState, today: date, history: StreakHistory) -> int:
    """The streak to show today: folded days, plus today once it is kept."""
    return state.current + 1 if counts_today(state, today, history) else state.current
