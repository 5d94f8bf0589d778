"""Core values shared across the domain: cards, grades, channel settings."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import time, timedelta

LEVELS: tuple[str, ...] = ("mid", "senior", "lead", "architect")
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Grade(enum.IntEnum):
    """A member's self-grade; the values are FSRS ratings."""

    AGAIN = 1
    HARD = 2
    GOOD = 3
    EASY = 4

    @property
    def label(self) -> str:
        return self.name.capitalize()


@dataclass(frozen=True, slots=True)
class Card:
    """One study card from a deck (content, not a member's schedule)."""

    deck: str
    id: str
    topic: str
    level: str
    question: str
    key_points: tuple[str, ...]
    answer: str
    follow_up: str | None = None
    tags: tuple[str, ...] = ()
    source: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """Stable identity across decks: ``deck/card-id``."""
        return f"{self.deck}/{self.id}"


@dataclass(frozen=True, slots=True)
class Deck:
    id: str
    title: str
    description: str
    topics: dict[str, str]
    cards: tuple[Card, ...]
    levels: tuple[str, ...] = LEVELS


@dataclass(frozen=True, slots=True)
class RevealRule:
    """When the key points of a daily post are revealed: a delay or a local clock time."""

    delay: timedelta | None = None
    at: time | None = None

    def __post_init__(self) -> None:
        if (self.delay is None) == (self.at is None):
            raise ValueError("a reveal rule has exactly one of delay or at")

    def describe(self) -> str:
        if self.at is not None:
            return self.at.strftime("%H:%M")
        assert self.delay is not None
        minutes = int(self.delay.total_seconds() // 60)
        hours, rest = divmod(minutes, 60)
        return f"+{hours}h" if rest == 0 else f"+{hours}h{rest:02d}m"


@dataclass(frozen=True, slots=True)
class ChannelSettings:
    """Everything an admin can set for a channel with ``/study setup``."""

    tz: str
    post_time: time
    days: frozenset[int]
    reveal: RevealRule
    leaderboard_day: int = 0
    leaderboard_time: time = time(9, 0)
    decks: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    catchups: bool = True
    """Missed daily questions reach active members later by DM."""
    share: bool = True
    """The reveal shows in the channel too, not only in the thread, so members who did
    not answer see the key points and can grade."""

    def days_text(self) -> str:
        return format_days(self.days)


@dataclass(frozen=True, slots=True)
class Target:
    """Where a message goes on a platform: a channel, a thread in it, or a DM."""

    platform: str
    workspace: str
    channel: str
    thread: str | None = None


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did something, as the adapter saw them."""

    platform: str
    workspace: str
    user: str
    name: str
    tz: str | None = None
    is_admin: bool = False


@dataclass(frozen=True, slots=True)
class Place:
    """Where an interaction happened: a channel (maybe a thread) or a DM."""

    platform: str
    workspace: str
    channel: str
    thread: str | None = None
    is_dm: bool = False


def format_days(days: frozenset[int]) -> str:
    """``{0..4}`` -> ``mon-fri``; other sets as a comma list."""
    ordered = sorted(days)
    if not ordered:
        return "none"
    if len(ordered) > 2 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{WEEKDAYS[ordered[0]]}-{WEEKDAYS[ordered[-1]]}"
    return ",".join(WEEKDAYS[d] for d in ordered)
