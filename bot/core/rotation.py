"""Which card a channel posts next.

A channel never repeats a card until every card its filters allow has been posted in
the current cycle; then a new cycle starts (and the post says so). Topics rotate: the
next card comes from the topic used longest ago. Inside a topic the order is a stable
shuffle seeded by the channel and cycle, so two channels do not march in lockstep and
a restart picks the same card.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.core.errors import NotFound
from bot.core.models import LEVELS, Card, ChannelSettings


@dataclass(frozen=True, slots=True)
class Pick:
    card: Card
    new_cycle: bool


def eligible(cards: Iterable[Card], settings: ChannelSettings) -> list[Card]:
    """Cards the channel's deck/topic/level filters allow (an empty filter allows all)."""
    return [
        c
        for c in cards
        if (not settings.decks or c.deck in settings.decks)
        and (not settings.topics or c.topic in settings.topics)
        and (not settings.levels or c.level in settings.levels)
    ]


def _order(salt: str, text: str) -> bytes:
    return hashlib.blake2b(f"{salt}|{text}".encode(), digest_size=8).digest()


WARM_UP_POSTS = 3
"""A new channel's first questions come from the most approachable level it studies."""


def pick_next(
    cards: Sequence[Card],
    used: set[str],
    recent_topics: Sequence[str],
    salt: str,
    *,
    warm_up: bool = False,
) -> Pick:
    """Choose the next card.

    ``used`` holds the keys already posted in this cycle, ``recent_topics`` the topics
    of recent posts, newest last; ``salt`` identifies the channel and cycle. With
    ``warm_up`` (a channel's first few posts) only cards of the lowest level among those
    left are candidates (``mid`` when the channel studies it), so nobody's first question
    is an architect's essay; the topic rotation applies among them as usual.
    """
    if not cards:
        raise NotFound("No cards match this channel's deck, topic and level filters.")
    remaining = [c for c in cards if c.key not in used]
    new_cycle = not remaining
    if new_cycle:
        remaining = list(cards)
        salt = f"{salt}+next"
    if warm_up:
        easiest = min(_rank(c.level) for c in remaining)
        remaining = [c for c in remaining if _rank(c.level) == easiest]
    last_seen = {topic: i for i, topic in enumerate(recent_topics)}
    topics = {c.topic for c in remaining}
    topic = min(topics, key=lambda t: (last_seen.get(t, -1), _order(salt, t)))
    card = min((c for c in remaining if c.topic == topic), key=lambda c: _order(salt, c.key))
    return Pick(card, new_cycle)


def _rank(level: str) -> int:
    return LEVELS.index(level) if level in LEVELS else len(LEVELS)
