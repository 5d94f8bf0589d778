"""Buttons are DynamicItems whose custom ids carry what they need: they outlive a restart."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.adapters.discord.client import MEMBERS
from tests.dbtools import sync_tx
from tests.discord.conftest import DiscordWorld, discord_app, embed_text
from tests.discord.fake_discord import FakeDiscord
from tests.discord.test_discord_day import BOB
from tests.fakes import FakeClock


async def test_a_quiz_started_before_a_restart_finishes_after_it(
    tmp_path: Path, fake_discord: FakeDiscord
) -> None:
    clock = FakeClock(datetime(2025, 3, 3, 8, 0, tzinfo=UTC))
    async with discord_app(tmp_path, fake_discord, clock) as first:
        _, question = await DiscordWorld(fake_discord, first, clock).slash(
            "quiz", count=2, opts={"topic": "alpha", "count": 1}, user_id=BOB, name="bob"
        )
    # A new client on the same database: no view or quiz of the first one is in memory.
    async with discord_app(tmp_path, fake_discord, clock) as second:
        world = DiscordWorld(fake_discord, second, clock)
        (answer,) = await world.press(question, "Show answer", user_id=BOB, name="bob")
        (summary,) = await world.press(answer, "Easy", user_id=BOB, name="bob")
        assert "recalled 1 of 1" in embed_text(summary)
        with sync_tx(second.store) as tx:
            member = tx.members.find("discord", MEMBERS, BOB)
            assert member is not None
            assert len(tx.reviews.states_for(member.id)) == 1  # the grade reached FSRS
