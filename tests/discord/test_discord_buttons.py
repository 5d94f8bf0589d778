"""Buttons on Discord: replies update the pressed message, reveals grade privately, and an
unexpected error ends in an apology, not an endless "thinking"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.adapters.base import APOLOGY
from bot.adapters.discord.client import MEMBERS
from bot.core.replies import Reply
from bot.store.tables import channels
from tests.dbtools import count, sync_tx
from tests.discord.conftest import (
    DiscordWorld,
    buttons,
    discord_app,
    embed_text,
    ephemeral,
    posts,
)
from tests.discord.fake_discord import CHANNEL, FakeDiscord
from tests.discord.fake_payloads import BOT_ROLE, FORUM, text_channel
from tests.discord.test_discord_day import ALICE
from tests.fakes import FakeClock
from tests.slack.conftest import eventually

BOB = "700000000000000003"


async def press(world: DiscordWorld, message: dict[str, Any], label: str, **options: Any) -> str:
    """Click ``label``; the interaction's token (the fake keeps what it did)."""
    custom_id = buttons(message)[label]
    token, payload = world.fake.interaction(
        {"custom_id": custom_id, "component_type": 2},
        component=True,
        message={**message, "channel_id": options.get("channel_id", CHANNEL)},
        **options,
    )
    await world.fake.dispatch("INTERACTION_CREATE", payload)
    await eventually(lambda: world.fake.responses.log.get(token))
    return token


async def test_a_quiz_advances_in_one_message(world: DiscordWorld) -> None:
    _, question = await world.slash(
        "quiz", count=2, opts={"topic": "alpha", "count": 2}, user_id=BOB, name="bob"
    )
    token = await press(world, question, "Show answer", user_id=BOB, name="bob")
    (answer,) = await eventually(lambda: world.fake.responses.updated(token))
    assert "Key points" in embed_text(answer)  # the question's message became its answer
    assert world.fake.responses.log[token][0]["callback"]["type"] == 6  # no new message
    token = await press(world, answer, "Good", user_id=BOB, name="bob")
    (card,) = await eventually(lambda: world.fake.responses.updated(token))
    assert "card 2 of 2" in embed_text(card)
    token = await press(world, card, "Show answer", user_id=BOB, name="bob")
    (answer,) = await eventually(lambda: world.fake.responses.updated(token))
    token = await press(world, answer, "Easy", user_id=BOB, name="bob")
    (done,) = await eventually(lambda: world.fake.responses.updated(token))
    assert "recalled 2 of 2" in embed_text(done)
    assert not done.get("components")  # nothing left to press


async def test_a_reveal_grade_button_is_private_and_grades_once(world: DiscordWorld) -> None:
    await world.slash("study-admin", "setup", count=2)
    await world.slash("study-admin", "post-now")
    await world.slash("study-admin", "reveal-now")
    store = world.app.store
    with sync_tx(store) as tx:
        post = tx.posts.latest(1)
        assert post is not None and post.thread_ref is not None
    reveal = posts(world.fake, post.thread_ref)[-1]
    assert list(buttons(reveal)) == ["Again", "Hard", "Good", "Easy"]
    (shown,) = await world.press(
        reveal, "Hard", user_id=ALICE, name="alice", channel_id=post.thread_ref
    )
    assert ephemeral(shown) and "Graded Hard" in embed_text(shown)
    with sync_tx(store) as tx:
        alice = tx.members.find("discord", MEMBERS, ALICE)
        assert alice is not None
        grade = tx.reviews.grade_of(post.id, alice.id)
        assert grade is not None and grade.grade.label == "Hard"


async def test_an_unexpected_error_gets_an_apology(world: DiscordWorld) -> None:
    async def raising(*_args: object) -> Reply:
        raise RuntimeError("boom")

    world.app.study.routes["stats"] = raising
    (reply,) = await world.slash("study", "stats", user_id=BOB, name="bob")
    assert APOLOGY in embed_text(reply) and "boom" not in embed_text(reply)
    assert ephemeral(reply)
    assert world.app.metrics.errors.labels("discord", "command")._value.get() == 1


async def test_setup_names_what_the_bot_is_missing(
    tmp_path: Path, fake_discord: FakeDiscord, clock: FakeClock
) -> None:
    forum, locked = "800000000000000020", "800000000000000021"
    fake_discord.channels[forum] = text_channel(forum, "ideas", kind=FORUM)
    no_threads = text_channel(locked, "quiet")
    no_threads["permission_overwrites"] = [  # the bot's role may not start threads here
        {"id": BOT_ROLE, "type": 0, "allow": "0", "deny": str(1 << 35)}
    ]
    fake_discord.channels[locked] = no_threads
    async with discord_app(tmp_path, fake_discord, clock) as built:
        world = DiscordWorld(fake_discord, built, clock)
        (refused,) = await world.slash("study-admin", "setup", channel_id=forum)
        assert "forum channel" in embed_text(refused) and ephemeral(refused)
        (refused,) = await world.slash("study-admin", "setup", channel_id=locked)
        assert "Create Public Threads" in embed_text(refused)
        with sync_tx(built.store) as tx:
            assert count(tx, channels) == 0
