"""The bot against a Discord as strict as the real one (issue 11's Discord problems)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from bot import app as application
from bot.adapters.discord.client import Timeouts
from bot.config import load_settings
from bot.core.errors import ChatError, TargetUnavailable
from bot.core.models import Place, Target
from bot.core.replies import Button, Message
from bot.services import messages
from bot.services.posting import reveal_key
from bot.store.tables import channels
from tests.conftest import TEST_CONTENT
from tests.dbtools import count, sync_tx
from tests.discord.conftest import (
    DiscordWorld,
    discord_app,
    embed_text,
    ephemeral,
    point_at_fake,
    posts,
)
from tests.discord.fake_discord import CHANNEL, FakeDiscord
from tests.discord.test_discord_day import ALICE, reaction, thread_message
from tests.fakes import FakeClock
from tests.slack.conftest import eventually

FRIDAY_0800 = datetime(2025, 3, 7, 7, 0, tzinfo=UTC)  # 08:00 in Berlin
LOOK = Message(title="📚 Question of the day · Mon 3 Mar")
"""What a lookup compares (it fails before it gets to compare)."""


async def revealed_post(world: DiscordWorld) -> tuple[str, dict[str, object]]:
    """Today's question posted and revealed: its thread and the reveal."""
    await world.slash("study-admin", "setup", count=2)
    await world.slash("study-admin", "post-now")
    thread = str(posts(world.fake, CHANNEL)[0]["id"])
    await world.slash("study-admin", "reveal-now")
    return thread, posts(world.fake, thread)[-1]


def grade_of(world: DiscordWorld) -> int | None:
    with sync_tx(world.app.store) as tx:
        alice = tx.members.find("discord", "users", ALICE)
        found = tx.reviews.grade_of(1, alice.id) if alice else None
        return int(found.grade) if found else None


async def grade(world: DiscordWorld, thread: str, reveal: dict[str, object]) -> None:
    payload = reaction("MESSAGE_REACTION_ADD", thread, str(reveal["id"]), ALICE, "alice", "✅")
    await world.fake.dispatch("MESSAGE_REACTION_ADD", payload)
    await eventually(lambda: grade_of(world) == 3)


# ---- a. threads stay open while their post can be graded ------------------------------------


async def test_a_friday_question_is_graded_on_monday(world: DiscordWorld) -> None:
    world.clock.set(FRIDAY_0800)
    thread, reveal = await revealed_post(world)
    world.clock.set(FRIDAY_0800 + timedelta(days=3, hours=2))  # Monday, after a quiet weekend
    await world.fake.tick()
    assert not world.fake.archived(thread)
    await grade(world, thread, reveal)


async def test_an_archived_study_thread_is_reopened_while_gradable(world: DiscordWorld) -> None:
    thread, reveal = await revealed_post(world)
    world.clock.advance(days=8)  # a quiet week: Discord archives the thread
    await world.fake.tick()
    await eventually(lambda: not world.fake.archived(thread))  # the bot reopened it
    await grade(world, thread, reveal)
    world.clock.advance(days=8)  # archived again, now past the default grading window
    await world.fake.tick()
    await asyncio.sleep(0.3)
    assert world.fake.archived(thread)
    assert len(world.fake.called("PATCH", rf"/channels/{thread}")) == 1


async def test_the_services_say_which_threads_stay_open(world: DiscordWorld) -> None:
    asked: list[Place] = []

    async def gradable(place: Place) -> bool:
        asked.append(place)
        return False

    world.adapter.threads.gradable = gradable
    thread, _ = await revealed_post(world)
    world.clock.advance(days=8)
    await world.fake.tick()
    await eventually(lambda: asked)
    assert asked == [Place("discord", world.fake.channels[CHANNEL]["guild_id"], CHANNEL, thread)]
    await asyncio.sleep(0.3)
    assert world.fake.archived(thread)


# ---- b. a reveal is looked for in its thread -------------------------------------------------


async def test_a_reveal_is_found_in_its_thread(world: DiscordWorld) -> None:
    thread, reveal = await revealed_post(world)
    for index in range(150):  # a lively discussion after the reveal
        world.fake.messages[thread].append(
            thread_message(world, thread, ALICE, "alice", f"and {index}")
        )
    with sync_tx(world.app.store) as tx:
        post = tx.posts.latest(1)
    assert post is not None
    target = Target("discord", "g", CHANNEL, thread)
    card = world.app.study.decks.card(post.card_key or "")
    assert card is not None
    policy = world.app.study.posting.policy
    # As a retry builds it: its answered count may have moved on since the send.
    again = messages.reveal(card, answered=7, policy=policy, post_id=post.id, day=post.local_date)
    found = await world.adapter.chat.find_post(target, reveal_key(post), again)
    assert found is not None and found.message_ref == reveal["id"]
    assert found.thread_ref == thread
    other = messages.reveal(card, answered=0, policy=policy, post_id=post.id + 1)
    assert await world.adapter.chat.find_post(target, "studybot:reveal:9:2000-01-01", other) is None


async def test_a_failed_lookup_is_an_error_not_a_miss(world: DiscordWorld) -> None:
    thread, _ = await revealed_post(world)
    world.fake.forbidden[CHANNEL] = 50001  # the bot lost access: its threads go with it
    with pytest.raises(TargetUnavailable):
        await world.adapter.chat.find_post(Target("discord", "g", CHANNEL, thread), "any", LOOK)
    with pytest.raises(TargetUnavailable, match="unknown_channel"):
        await world.adapter.chat.find_post(Target("discord", "g", "1"), "any", LOOK)


# ---- c. every message carries a nonce, kept by discord.py's retry ---------------------------


@pytest.mark.parametrize("key", [None, "studybot:leaderboard:1:2025-03-03"])
async def test_a_lost_answer_and_a_retry_make_one_message(
    world: DiscordWorld, key: str | None
) -> None:
    world.fake.lose_next_post = True  # stored, then answered 502: discord.py sends it again
    await world.adapter.chat.post(
        Target("discord", "g", CHANNEL), Message(lines=("Last week",)), key=key
    )
    sent = world.fake.called("POST", rf"/channels/{CHANNEL}/messages")
    assert len(sent) == 2
    assert sent[0].body["nonce"] == sent[1].body["nonce"]
    assert sent[0].body["enforce_nonce"] is True
    assert len(posts(world.fake, CHANNEL)) == 1


async def test_a_dm_retried_after_a_lost_answer_is_one_message(world: DiscordWorld) -> None:
    world.fake.lose_next_post = True
    review = Message(title="Review", buttons=(Button("Show answer", "fu:show:1"),))
    await world.adapter.chat.send_dm("g", ALICE, review, key="fu:1")
    dm = str(int(ALICE) + 1)
    assert len(posts(world.fake, dm)) == 1
    found = await world.adapter.chat.find_dm("g", ALICE, "fu:1", review)  # known by its look
    assert found is not None and found.message_ref == posts(world.fake, dm)[0]["id"]
    another = Message(title="Review", buttons=(Button("Show answer", "fu:show:2"),))
    assert await world.adapter.chat.find_dm("g", ALICE, "fu:2", another) is None


# ---- d. refusals and bad values stay private --------------------------------------------------


async def test_a_members_setup_refusal_is_ephemeral(world: DiscordWorld) -> None:
    (reply,) = await world.slash("study-admin", "setup", user_id=ALICE, name="alice")
    assert "Only workspace admins" in embed_text(reply)
    assert ephemeral(reply)
    assert not [m for m in world.fake.messages.get(CHANNEL, []) if "webhook_id" in m]


async def test_a_bad_setup_value_is_ephemeral(world: DiscordWorld) -> None:
    (reply,) = await world.slash("study-admin", "setup", opts={"time": "25:99"})
    assert reply["embeds"] and ephemeral(reply)
    with sync_tx(world.app.store) as tx:
        assert count(tx, channels) == 0


# ---- e. nothing is sent before discord.py has logged in -------------------------------------


@pytest.fixture
async def unstarted(
    tmp_path: Path, fake_discord: FakeDiscord, clock: FakeClock
) -> AsyncIterator[application.App]:
    """The app built, and not started (after ``fake_discord`` cleared the tokens' env)."""
    settings = load_settings(
        db_url=f"sqlite+aiosqlite:///{tmp_path / 'd.db'}",
        content_dir=TEST_CONTENT,
        discord_token="fake-discord-token",
        discord_api_url=fake_discord.rest_url,
        http_enabled=False,
    )
    async with application.build(settings, console=False, clock=clock) as built:
        yield built


async def test_a_send_before_the_adapter_runs_is_a_chat_error(
    unstarted: application.App, fake_discord: FakeDiscord
) -> None:
    chat = point_at_fake(unstarted, fake_discord).chat
    with pytest.raises(ChatError, match="not connected"):
        await chat.post(Target("discord", "g", CHANNEL), Message(lines=("board",)))
    assert not fake_discord.called("POST", r".*")


async def test_a_send_during_login_waits_for_it(
    unstarted: application.App, fake_discord: FakeDiscord
) -> None:
    adapter = point_at_fake(unstarted, fake_discord)
    fake_discord.hold_login = asyncio.Event()
    stop = asyncio.Event()
    running = asyncio.create_task(adapter.run(stop))
    try:
        await eventually(lambda: fake_discord.called("GET", "/users/@me"))
        send = asyncio.create_task(
            adapter.chat.post(Target("discord", "g", CHANNEL), Message(lines=("board",)))
        )
        await asyncio.sleep(0.1)
        assert not send.done()
        fake_discord.hold_login.set()
        await send
        assert len(posts(fake_discord, CHANNEL)) == 1
    finally:
        stop.set()
        await running


async def test_a_login_that_never_ends_gives_a_chat_error(
    unstarted: application.App, fake_discord: FakeDiscord
) -> None:
    adapter = point_at_fake(unstarted, fake_discord)
    adapter.chat.gate.timeout = Timeouts(login=0.2).login
    fake_discord.hold_login = asyncio.Event()
    stop = asyncio.Event()
    running = asyncio.create_task(adapter.run(stop))
    try:
        await eventually(lambda: fake_discord.called("GET", "/users/@me"))
        with pytest.raises(ChatError, match="not connected"):
            await adapter.chat.post(Target("discord", "g", CHANNEL), Message(lines=("x",)))
    finally:
        fake_discord.hold_login.set()
        stop.set()
        await running


async def test_a_leaderboard_due_at_start_up_waits_for_the_connection(
    tmp_path: Path, fake_discord: FakeDiscord, clock: FakeClock
) -> None:
    """Work due at start-up waits for discord.py's login (issue 11, problem 11): the
    catch-up runs once the platforms are connected, and nothing crashes in discord.py."""
    async with discord_app(tmp_path, fake_discord, clock) as first:
        await DiscordWorld(fake_discord, first, clock).slash("study-admin", "setup", count=2)
    clock.set(datetime(2025, 3, 10, 8, 5, tzinfo=UTC))  # down over the leaderboard's time
    with capture_logs() as logs:
        async with discord_app(tmp_path, fake_discord, clock):
            await eventually(
                lambda: [m for m in posts(fake_discord, CHANNEL) if "Last week" in embed_text(m)]
            )
    assert not [e for e in logs if e["event"] in ("job_failed", "leaderboard_failed")]
    (board,) = [m for m in posts(fake_discord, CHANNEL) if "Last week" in embed_text(m)]
    assert board["nonce"]


async def test_a_rejected_token_stops_discord_with_the_setting_named(
    tmp_path: Path, fake_discord: FakeDiscord, clock: FakeClock
) -> None:
    fake_discord.token = "the-real-one"  # the configured token is not it
    with capture_logs() as logs:
        async with discord_app(tmp_path, fake_discord, clock, wait=False) as built:
            await eventually(lambda: [e for e in logs if e["event"] == "platform_token_rejected"])
            assert built.runner is not None and not built.runner.done()  # the bot runs on
            assert not built.stop.is_set()
    (line,) = [e for e in logs if e["event"] == "platform_token_rejected"]
    assert line["platform"] == "discord" and line["setting"] == "DISCORD_TOKEN"


async def test_the_bot_asks_only_for_the_intents_it_uses(world: DiscordWorld) -> None:
    """Servers (channels, threads, permissions), their messages and reactions; message
    content for answers. No members, presences, typing, voice or DM events."""
    import discord

    (identify,) = world.fake.gateway.identifies[-1:]
    asked = discord.Intents._from_value(identify["intents"])
    assert asked == discord.Intents(
        guilds=True, guild_messages=True, guild_reactions=True, message_content=True
    )


async def test_a_dm_is_replaced_in_place_without_its_buttons(world: DiscordWorld) -> None:
    from bot.core.replies import Button

    chat = world.adapter.chat
    card = Message("Q?", buttons=(Button("Show answer", "fu:show:1"),), kind="followup")
    sent = await chat.send_dm("users", ALICE, card, key="followup:1")
    await chat.edit_dm("users", ALICE, sent.message_ref, Message("Graded Good."))
    dm = str(int(ALICE) + 1)
    (stored,) = posts(world.fake, dm)
    assert "Graded Good." in embed_text(stored)
    assert not stored.get("components")
    assert stored["edited_timestamp"] is not None
