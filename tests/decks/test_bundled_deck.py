"""The bundled deck: loads, covers every seed item, and respects CONTENT.md's shape."""

from collections import Counter
from pathlib import Path

import yaml

from bot.decks import load_decks

CONTENT = Path(__file__).parent.parent.parent / "content"
DECK = CONTENT / "decks" / "python-system-design"


def test_every_deck_under_content_loads() -> None:
    decks = load_decks(CONTENT)
    assert decks, "no decks found"


def test_the_system_design_deck_covers_all_203_seed_items() -> None:
    (loaded,) = [d for d in load_decks(CONTENT) if d.deck.id == "python-system-design"]
    sources = yaml.safe_load((DECK / "sources.yaml").read_text())["items"]
    expected = (
        [f"000#{i}" for i in range(1, 10)]
        + [f"001#{i}" for i in range(1, 15)]
        + [f"002#{i}" for i in range(1, 96)]
        + [f"003#{i}" for i in range(1, 56)]
        + [f"004#{i}" for i in range(1, 31)]
    )
    assert sorted(sources) == sorted(expected)
    covered = {s for card in loaded.deck.cards for s in card.source}
    assert set(expected) <= covered
    assert len(loaded.deck.cards) >= 170


def test_topics_and_levels_are_spread() -> None:
    (loaded,) = [d for d in load_decks(CONTENT) if d.deck.id == "python-system-design"]
    topics = Counter(c.topic for c in loaded.deck.cards)
    levels = Counter(c.level for c in loaded.deck.cards)
    assert set(topics) == set(loaded.deck.topics)
    assert min(topics.values()) >= 4
    assert all(levels[level] >= 20 for level in ("mid", "senior", "lead", "architect"))
