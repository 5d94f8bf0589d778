"""`studybot run` freezes what startup built, so full collections skip it."""

from __future__ import annotations

import gc

from bot.app import settle_heap


def test_settle_heap_freezes_the_startup_objects() -> None:
    startup = [object() for _ in range(1000)]  # stands for the deck, SDKs and tables
    before = gc.get_freeze_count()
    try:
        settle_heap()
        assert gc.get_freeze_count() >= before + len(startup)
    finally:
        gc.unfreeze()
