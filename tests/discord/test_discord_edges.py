"""Platform failures, replays and hostile text on Discord: each with its harmless outcome."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from bot.store.tables import activity, channels, reviews
from tests.dbtools import count, rows, sync_tx
from tests.discord.conftest import DiscordWorld, discord_app, embed_text, posts
from tests.discord.fake_discord import CHANNEL, FakeDiscord
from tests.discord.fake_rules import PlatformClock
from tests.discord.test_discord_day import ALICE, alice_gets_it_wrong, reaction, thread_message
from tests.fakes import FakeClock
from tests.slack.conftest import eventually


async def post_today(world: DiscordWorld) -> str:
    await world.slash("study-admin", "setup", count=2)
    await world.slash("study-admin", "post-now")
    return str(posts(world.fake, CHANNEL)[0]["id"])


async def test_closed_dms_pause_followups_with_a_back_off(world: DiscordWorld) -> None:
    thread = await post_today(world)
    await alice_gets_it_wrong(world, thread)
    world.fake.forbidden[ALICE] = 50007
    world.clock.advance(days=1, hours=1)
    assert await world.app.study.followups.send_due() == 0
    with sync_tx(world.app.store) as tx:
        alice = tx.members.find("discord", "users", ALICE)
        assert alice is not None and alice.dm_block_reason == "dms_closed"
    del world.fake.forbidden[ALICE]
    assert await world.app.study.followups.send_due() == 0  # backing off, not retrying
    world.clock.advance(days=1)
    assert await world.app.study.followups.send_due() == 1


async def test_missing_permissions_pause_the_channel(world: DiscordWorld) -> None:
    await world.slash("study-admin", "setup", count=2)
    world.fake.forbidden[CHANNEL] = 50013
    (reply,) = await world.slash("study-admin", "post-now")
    assert "could not be sent" in embed_text(reply)
    (status,) = await world.slash("study", "status")
    assert "paused (missing_permissions)" in embed_text(status)
    attempts = len(world.fake.called("POST", rf"/channels/{CHANNEL}/messages"))
    world.clock.advance(days=1, hours=1)
    await world.app.study.posting.post_due()
    assert len(world.fake.called("POST", rf"/channels/{CHANNEL}/messages")) == attempts


async def test_a_429_with_retry_after_is_waited_out(world: DiscordWorld) -> None:
    await world.slash("study-admin", "setup", count=2)
    world.fake.rate_limited[f"/channels/{CHANNEL}/messages"] = 2
    await world.slash("study-admin", "post-now")
    assert len(world.fake.called("POST", rf"/channels/{CHANNEL}/messages")) == 3
    assert len(posts(world.fake, CHANNEL)) == 1


async def test_replayed_gateway_events_change_nothing_twice(world: DiscordWorld) -> None:
    thread = await post_today(world)
    await world.fake.dispatch(
        "MESSAGE_CREATE", thread_message(world, thread, ALICE, "alice", "answer")
    )
    await world.slash("study-admin", "reveal-now")
    reveal = posts(world.fake, thread)[-1]
    await world.fake.dispatch(
        "MESSAGE_REACTION_ADD",
        reaction("MESSAGE_REACTION_ADD", thread, reveal["id"], ALICE, "alice", "✅"),
    )
    await eventually(lambda: len(world.fake.called("PUT", r".*/reactions/.*")) == 1)
    world.fake.replay_overlap = 6  # the answer, the reveal and the grade come again
    await world.fake.drop_connection()
    await eventually(lambda: world.fake.resumes == 1, 10)
    await asyncio.sleep(0.5)
    with sync_tx(world.app.store) as tx:
        alice = tx.members.find("discord", "users", ALICE)
        assert alice is not None
        assert len(tx.answers.for_post(1)) == 1
        kinds = sorted(a["kind"] for a in rows(tx, activity, member_id=alice.id))
        assert kinds == ["answer", "early_answer", "grade"]
        assert count(tx, reviews, member_id=alice.id) == 1
    assert len(world.fake.called("PUT", r".*/reactions/.*")) == 1  # acknowledged once


async def test_everyone_in_names_and_answers_pings_nobody(world: DiscordWorld) -> None:
    thread = await post_today(world)
    await world.fake.dispatch(
        "MESSAGE_CREATE", thread_message(world, thread, ALICE, "@everyone", "@everyone look")
    )
    await eventually(lambda: world.fake.called("PUT", r".*/reactions/.*"))
    (board,) = await world.slash("study", "leaderboard")
    text = embed_text(board)
    assert "@everyone" not in text
    assert "@\u200beveryone" in text
    for call in world.fake.called("POST", r"/channels/\d+/messages"):
        assert call.body["allowed_mentions"] == {"parse": []}


async def test_a_member_without_manage_server_cannot_set_up(world: DiscordWorld) -> None:
    (reply,) = await world.slash("study-admin", "setup", user_id=ALICE, name="alice")
    assert "Only workspace admins" in embed_text(reply)
    with sync_tx(world.app.store) as tx:
        assert count(tx, channels) == 0


async def test_without_the_message_content_intent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> None:
    for name in ("SLACK_BOT_TOKEN", "DISCORD_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    fake = FakeDiscord(clock=PlatformClock(base=clock.now), deny_message_content=True)
    await fake.start()
    try:
        with capture_logs() as logs:
            async with discord_app(tmp_path, fake, clock) as built:
                world = DiscordWorld(fake, built, clock)
                assert [i["intents"] & (1 << 15) for i in fake.identifies] == [1 << 15, 0]
                thread = await post_today(world)
                for _ in range(2):
                    await fake.dispatch(
                        "MESSAGE_CREATE", thread_message(world, thread, ALICE, "alice", "")
                    )
                hints = await eventually(
                    lambda: [
                        m for m in fake.messages.get(thread, []) if "/study answer" in m["content"]
                    ]
                )
                await asyncio.sleep(0.3)
                assert len(hints) == 1  # one hint per thread, not one per message
                (reply,) = await world.slash(
                    "study", "answer", opts={"text": "via the command"}, user_id=ALICE, name="alice"
                )
                assert "Answer recorded" in embed_text(reply)
    finally:
        await fake.stop()
    warnings = [e for e in logs if e["event"] == "discord_message_content_missing"]
    assert len(warnings) == 1


async def test_a_lost_response_is_retried_into_the_same_message(world: DiscordWorld) -> None:
    await world.slash("study-admin", "setup", count=2)
    world.fake.lose_next_post = True
    await world.slash("study-admin", "post-now")
    sent = world.fake.called("POST", rf"/channels/{CHANNEL}/messages")
    assert len(sent) == 2  # discord.py retried the 502 ...
    assert sent[0].body["nonce"] == sent[1].body["nonce"]
    assert len(posts(world.fake, CHANNEL)) == 1  # ... and the nonce kept it one message


async def test_a_restart_finds_the_post_by_its_look(world: DiscordWorld) -> None:
    from bot.core.models import Target
    from bot.core.replies import Message

    await world.slash("study-admin", "setup", count=2)
    await world.slash("study-admin", "post-now")
    chat = world.adapter.chat
    (post,) = posts(world.fake, CHANNEL)
    assert "footer" not in post["embeds"][0]  # no key drawn: it is found by its title
    today = Message(title="📚 Question of the day · Mon 3 Mar")
    found = await chat.find_post(
        Target("discord", "g", CHANNEL), "studybot:post:1:2025-03-03", today
    )
    assert found is not None
    assert found.message_ref == post["id"]
    assert found.thread_ref == found.message_ref  # the thread started on the post
    tomorrow = Message(title="📚 Question of the day · Tue 4 Mar")
    assert (
        await chat.find_post(
            Target("discord", "g", CHANNEL), "studybot:post:1:2025-03-04", tomorrow
        )
        is None
    )
