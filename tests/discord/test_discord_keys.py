"""No internal keys in text: a send key travels as data (the nonce, the stored message id).

Whatever the bot posts on Discord shows no ``studybot:`` key anywhere (content, title,
description, fields, footer). A send whose answer is lost is found again after Discord
has forgotten its nonce (two minutes), by what the message looks like, and is not
posted twice.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot import app as application
from bot.adapters.discord import render
from bot.core.models import Target
from bot.core.replies import Message
from bot.services import messages
from bot.services.leaderboards import leaderboard_key
from bot.services.posting import post_key
from bot.store.tables import followups
from tests.dbtools import rows, sync_tx
from tests.discord.conftest import DiscordWorld, discord_app, embed_text, posts
from tests.discord.fake_discord import BOT_ID, CHANNEL, FakeDiscord
from tests.discord.test_discord_day import ALICE, alice_gets_it_wrong
from tests.fakes import FakeClock

NEXT_MONDAY = datetime(2025, 3, 10, 8, 5, tzinfo=UTC)  # 09:05 Berlin: last week's board
TUESDAY = datetime(2025, 3, 4, 11, 0, tzinfo=UTC)  # Monday's 09:30 missed, Tuesday's not
DM = str(int(ALICE) + 1)


@pytest.fixture
async def world(
    tmp_path: Path, fake_discord: FakeDiscord, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[DiscordWorld]:
    """The bot on the fake, without its start-up catch-up: each test runs the jobs
    itself, so none races a test's own run (the hourly ticks do not come in a test)."""

    async def no_catch_up(app: application.App) -> None:
        return None

    monkeypatch.setattr(application, "_catch_up", no_catch_up)
    async with discord_app(tmp_path, fake_discord, clock) as built:
        yield DiscordWorld(fake_discord, built, clock)


def lose_next_answer(world: DiscordWorld, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The next message the bot sends reaches Discord; its answer never comes back (the
    connection drops), as if the bot crashed before it heard. Returns what was lost."""
    http = world.adapter.chat.client.http
    real: Callable[..., Any] = http.send_message
    lost: list[Any] = []

    async def send(channel_id: int, *, params: Any) -> Any:
        made = await real(channel_id, params=params)
        if lost:
            return made
        lost.append(made)
        raise aiohttp.ServerDisconnectedError()

    monkeypatch.setattr(http, "send_message", send)
    return lost


def shows_no_key(message: dict[str, Any]) -> None:
    """Nothing a member can see carries a key: content and every part of every embed."""
    visible = json.dumps([message.get("content"), message.get("embeds")], ensure_ascii=False)
    assert "studybot:" not in visible
    assert "studybot:" not in embed_text(message)
    assert all("footer" not in embed for embed in message.get("embeds", []))


def past_the_nonce(world: DiscordWorld, made: dict[str, Any]) -> None:
    """Five minutes on: the claim's lease is over and Discord forgot the nonce."""
    world.clock.advance(minutes=5)
    assert world.fake.nonces.recall(BOT_ID, str(made["nonce"])) is None


async def test_a_daily_post_and_its_reveal_show_no_key(world: DiscordWorld) -> None:
    await world.slash("study-admin", "setup", count=2)
    await world.slash("study-admin", "post-now")
    (post,) = posts(world.fake, CHANNEL)
    shows_no_key(post)
    assert post["nonce"]  # the key travels as the nonce, and nowhere visible
    await world.slash("study-admin", "reveal-now")
    for message in posts(world.fake, post["id"]):
        shows_no_key(message)


async def test_a_leaderboard_shows_no_key(world: DiscordWorld) -> None:
    await world.slash("study-admin", "setup", count=2)
    world.clock.set(NEXT_MONDAY)
    assert await world.app.study.leaderboards.post_due() == 1
    (board,) = posts(world.fake, CHANNEL)
    assert "Last week" in embed_text(board)
    shows_no_key(board)


async def missed_monday(world: DiscordWorld) -> None:
    """Set up on Monday, down until Tuesday: Tuesday's post goes out, a notice is due."""
    world.clock.set(datetime(2025, 3, 3, 7, 0, tzinfo=UTC))
    await world.slash("study-admin", "setup", count=2)
    world.clock.set(TUESDAY)
    await world.app.study.posting.post_due()


async def test_a_notice_shows_no_key(world: DiscordWorld) -> None:
    await missed_monday(world)
    assert await world.app.study.notices.send_due() == 1
    (note,) = [m for m in posts(world.fake, CHANNEL) if "I missed" in embed_text(m)]
    shows_no_key(note)


async def test_a_follow_up_dm_shows_no_key(world: DiscordWorld) -> None:
    await due_follow_up(world)
    assert await world.app.study.followups.send_due() == 1
    (dm,) = posts(world.fake, DM)
    shows_no_key(dm)


# ---- a lost answer is found by its look, after the nonce window -----------------------------


async def test_a_lost_daily_post_is_found_not_posted_twice(
    world: DiscordWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    await world.slash("study-admin", "setup", count=2)
    lost = lose_next_answer(world, monkeypatch)
    await world.slash("study-admin", "post-now")  # the post lands; the bot never hears
    assert len(lost) == 1
    (post,) = posts(world.fake, CHANNEL)
    past_the_nonce(world, post)
    assert await world.app.study.posting.reconcile() == 1
    assert posts(world.fake, CHANNEL) == [post]  # found, not sent again
    with sync_tx(world.app.store) as tx:
        row = tx.posts.latest(1)
        assert row is not None and row.status == "posted" and row.message_ref == post["id"]


async def test_a_lost_reveal_is_found_in_its_thread(
    world: DiscordWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    await world.slash("study-admin", "setup", count=2)
    await world.slash("study-admin", "post-now")
    thread = str(posts(world.fake, CHANNEL)[0]["id"])
    lose_next_answer(world, monkeypatch)
    await world.slash("study-admin", "reveal-now")
    (reveal,) = posts(world.fake, thread)
    past_the_nonce(world, reveal)
    assert await world.app.study.posting.reconcile() == 1
    assert posts(world.fake, thread) == [reveal]
    with sync_tx(world.app.store) as tx:
        row = tx.posts.latest(1)
        assert row is not None and row.reveal_status == "posted"


async def test_a_lost_leaderboard_is_found_not_posted_twice(
    world: DiscordWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    await world.slash("study-admin", "setup", count=2)
    world.clock.set(NEXT_MONDAY)
    lose_next_answer(world, monkeypatch)
    assert await world.app.study.leaderboards.post_due() == 0  # it landed, unheard
    (board,) = posts(world.fake, CHANNEL)
    past_the_nonce(world, board)
    assert await world.app.study.leaderboards.reconcile() == 1
    assert posts(world.fake, CHANNEL) == [board]


async def test_a_lost_notice_is_found_not_posted_twice(
    world: DiscordWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    await missed_monday(world)
    before = len(posts(world.fake, CHANNEL))
    lose_next_answer(world, monkeypatch)
    assert await world.app.study.notices.send_due() == 0
    assert len(posts(world.fake, CHANNEL)) == before + 1
    note = posts(world.fake, CHANNEL)[-1]
    past_the_nonce(world, note)
    assert await world.app.study.notices.send_due() == 1  # looked up, recorded
    assert posts(world.fake, CHANNEL)[before:] == [note]


async def due_follow_up(world: DiscordWorld) -> None:
    """Alice got today's question wrong: tomorrow it comes back by DM."""
    await world.slash("study-admin", "setup", count=2)
    await world.slash("study-admin", "post-now")
    thread = str(posts(world.fake, CHANNEL)[0]["id"])
    await alice_gets_it_wrong(world, thread)
    world.clock.advance(days=1, hours=1)


async def test_a_lost_follow_up_dm_is_found_not_sent_twice(
    world: DiscordWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    await due_follow_up(world)
    lose_next_answer(world, monkeypatch)
    assert await world.app.study.followups.send_due() == 0
    (dm,) = posts(world.fake, DM)
    past_the_nonce(world, dm)
    await world.app.study.followups.send_due()  # reconciles first: finds the DM
    assert posts(world.fake, DM) == [dm]
    with sync_tx(world.app.store) as tx:
        (row,) = rows(tx, followups, member_id=2)
        assert row["status"] == "sent" and row["message_ref"] == dm["id"]


# ---- what find_post takes for the message, and what it does not -----------------------------


async def test_a_lookalike_from_someone_else_is_not_the_post(world: DiscordWorld) -> None:
    await world.slash("study-admin", "setup", count=2)
    await world.slash("study-admin", "post-now")
    (post,) = posts(world.fake, CHANNEL)
    copy = {**post, "id": world.fake.snowflake(), "author": {**post["author"], "id": ALICE}}
    world.fake.messages[CHANNEL].append(copy)  # newer, same look, not the bot's
    chat = world.adapter.chat
    target = Target("discord", "g", CHANNEL)
    with sync_tx(world.app.store) as tx:
        row = tx.posts.latest(1)
    assert row is not None
    today = Message(title=f"📚 Question of the day · {messages.day_text(row.local_date)}")
    found = await chat.find_post(target, post_key(row), today)
    assert found is not None and found.message_ref == post["id"]
    other_day = Message(title=f"📚 Question of the day · {messages.day_text(row.local_date)}x")
    assert await chat.find_post(target, post_key(row), other_day) is None
    assert await chat.find_post(target, leaderboard_key(1, row.local_date), Message()) is None


async def test_a_week_is_not_taken_for_another(world: DiscordWorld) -> None:
    await world.slash("study-admin", "setup", count=2)
    world.clock.set(NEXT_MONDAY)
    assert await world.app.study.leaderboards.post_due() == 1
    chat = world.adapter.chat
    target = Target("discord", "g", CHANNEL)
    boards = world.app.study.leaderboards
    channel = await world.app.store.read(lambda tx: tx.channels.get(1))
    assert channel is not None
    week = NEXT_MONDAY.date() - timedelta(days=7)
    title = "Last week's leaderboard"
    this = await boards.weekly_message(channel, week, title=title)
    found = await chat.find_post(target, leaderboard_key(1, week), this)
    assert found is not None and found.message_ref == posts(world.fake, CHANNEL)[0]["id"]
    earlier = await boards.weekly_message(channel, week - timedelta(days=7), title=title)
    assert await chat.find_post(target, leaderboard_key(1, week), earlier) is None


# ---- a daily post whose answer was lost before its thread was started ----------------------


async def test_a_found_daily_post_gets_the_thread_it_never_had(
    world: DiscordWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The send landed, its answer was lost, so ``post`` never started the thread: the
    catch-up's lookup starts it, and the reveal goes into it."""
    await world.slash("study-admin", "setup", count=2)
    lose_next_answer(world, monkeypatch)
    await world.slash("study-admin", "post-now")
    (post,) = posts(world.fake, CHANNEL)
    assert "thread" not in post and not world.fake.threads.all()
    past_the_nonce(world, post)
    assert await world.app.study.posting.reconcile() == 1
    assert posts(world.fake, CHANNEL) == [post]  # one message
    (thread,) = world.fake.threads.all()  # and one thread, on it
    assert thread["id"] == post["id"] and post["thread"] == thread
    assert thread["name"] == post["embeds"][0]["title"].removeprefix("📚 ")
    with sync_tx(world.app.store) as tx:
        row = tx.posts.latest(1)
        assert row is not None and row.thread_ref == thread["id"]

    await world.slash("study-admin", "reveal-now")
    (reveal,) = posts(world.fake, thread["id"])
    assert reveal["embeds"][0]["color"] == render.COLOURS["reveal"]
    assert posts(world.fake, CHANNEL)[0] == post  # the reveal is in the thread, not here
    with sync_tx(world.app.store) as tx:
        row = tx.posts.latest(1)
        assert row is not None and row.reveal_status == "posted"
    assert len(world.fake.called("POST", r"/channels/\d+/messages/\d+/threads")) == 1


async def test_a_thread_started_unheard_is_taken_not_started_twice(
    world: DiscordWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The start landed and its answer was lost; the retry hears 160004 (the message has
    a thread): that thread is the post's."""
    await world.slash("study-admin", "setup", count=2)
    http = world.adapter.chat.client.http
    real: Callable[..., Any] = http.start_thread_with_message

    async def start(*args: Any, **kwargs: Any) -> Any:
        await real(*args, **kwargs)  # lands; the answer never comes back
        return await real(*args, **kwargs)  # the retry: "already been created"

    monkeypatch.setattr(http, "start_thread_with_message", start)
    await world.slash("study-admin", "post-now")
    (post,) = posts(world.fake, CHANNEL)
    (thread,) = world.fake.threads.all()
    assert thread["id"] == post["id"]
    starts = world.fake.called("POST", r"/channels/\d+/messages/\d+/threads")
    assert len(starts) == 2  # the second was answered 160004
    with sync_tx(world.app.store) as tx:
        row = tx.posts.latest(1)
        assert row is not None and row.status == "posted" and row.thread_ref == thread["id"]
    await world.slash("study-admin", "reveal-now")
    assert len(posts(world.fake, thread["id"])) == 1


async def test_a_leaderboard_found_again_gets_no_thread(
    world: DiscordWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    await world.slash("study-admin", "setup", count=2)
    world.clock.set(NEXT_MONDAY)
    lose_next_answer(world, monkeypatch)
    assert await world.app.study.leaderboards.post_due() == 0
    (board,) = posts(world.fake, CHANNEL)
    past_the_nonce(world, board)
    assert await world.app.study.leaderboards.reconcile() == 1
    assert not world.fake.threads.all()  # only daily posts have threads
