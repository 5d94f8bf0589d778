from datetime import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.errors import NotFound
from bot.core.models import Card, ChannelSettings
from bot.core.rotation import eligible, pick_next
from bot.core.schedule import parse_reveal


def card(deck: str, topic: str, n: int, level: str = "mid") -> Card:
    return Card(deck, f"{topic}-{n}", topic, level, "q?", ("a", "b", "c"), "answer")


CARDS = [card("d1", t, n) for t in ("a", "b", "c") for n in range(4)] + [
    card("d2", "x", 1, "senior")
]


def run(cards: list[Card], posts: int, salt: str = "chan") -> list[tuple[Card, bool]]:
    used: set[str] = set()
    topics: list[str] = []
    picks = []
    for _ in range(posts):
        pick = pick_next(cards, used, topics, salt)
        if pick.new_cycle:
            used = set()
        used.add(pick.card.key)
        topics.append(pick.card.topic)
        picks.append((pick.card, pick.new_cycle))
    return picks


def test_no_repeat_until_the_deck_is_used_up_then_a_new_cycle() -> None:
    picks = run(CARDS, len(CARDS) + 3)
    first_cycle = [c.key for c, _ in picks[: len(CARDS)]]
    assert len(set(first_cycle)) == len(CARDS)
    assert not any(new for _, new in picks[: len(CARDS)])
    assert picks[len(CARDS)][1] is True


def test_topics_rotate() -> None:
    picks = run(CARDS, 4)
    assert len({c.topic for c, _ in picks}) == 4


@given(st.integers(1, 40), st.text(max_size=8))
def test_every_card_once_per_cycle(posts: int, salt: str) -> None:
    picks = run(CARDS, posts, salt)
    seen: set[str] = set()
    for c, new in picks:
        if new:
            seen = set()
        assert c.key not in seen
        seen.add(c.key)


def test_filters_by_deck_topic_and_level() -> None:
    base = ChannelSettings("UTC", time(9, 30), frozenset(range(5)), parse_reveal("+6h"))
    from dataclasses import replace

    assert {c.deck for c in eligible(CARDS, replace(base, decks=("d2",)))} == {"d2"}
    assert {c.topic for c in eligible(CARDS, replace(base, topics=("a", "b")))} == {"a", "b"}
    assert {c.level for c in eligible(CARDS, replace(base, levels=("senior",)))} == {"senior"}
    assert len(eligible(CARDS, base)) == len(CARDS)


def test_no_cards_is_a_clear_error() -> None:
    with pytest.raises(NotFound, match="No cards match"):
        pick_next([], set(), [], "s")


def test_the_same_state_picks_the_same_card() -> None:
    assert pick_next(CARDS, set(), [], "s").card == pick_next(CARDS, set(), [], "s").card


def test_a_new_channel_starts_on_the_most_approachable_level_of_the_bundled_deck() -> None:
    from pathlib import Path

    from bot.decks import DeckLibrary

    cards = list(DeckLibrary.load(Path(__file__).parents[2] / "content").cards())
    assert {c.level for c in cards} >= {"mid", "lead", "architect"}
    for salt in ("1:1", "2:1", "7:1", "slack-team:1"):
        used: set[str] = set()
        topics: list[str] = []
        firsts = []
        for _ in range(3):
            pick = pick_next(cards, used, topics, salt, warm_up=True)
            used.add(pick.card.key)
            topics.append(pick.card.topic)
            firsts.append(pick.card)
        assert [c.level for c in firsts] == ["mid"] * 3, salt
        assert len({c.topic for c in firsts}) == 3  # the topics still rotate
    # Without mid cards in the filter, the warm-up takes the lowest level there is.
    only_high = [c for c in cards if c.level in ("lead", "architect")]
    assert pick_next(only_high, set(), [], "1:1", warm_up=True).card.level == "lead"
