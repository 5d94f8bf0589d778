"""A whole study day through a real discord.Client against the local fake Discord."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from tests.dbtools import sync_tx
from tests.discord.conftest import DiscordWorld, embed_text, ephemeral, posts
from tests.discord.fake_discord import BOT_ID, CHANNEL, GUILD, member
from tests.discord.fake_payloads import member_message
from tests.slack.conftest import eventually

ALICE, BOB = "700000000000000011", "700000000000000012"


def thread_message(
    world: DiscordWorld, thread: str, author: str, name: str, content: str
) -> dict[str, Any]:
    return member_message(world.fake.snowflake(), thread, author, name, content)


def reaction(
    kind: str, thread: str, message_id: str, who: str, name: str, emoji: str
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "user_id": who,
        "channel_id": thread,
        "message_id": message_id,
        "guild_id": GUILD,
        "emoji": {"id": None, "name": emoji},
        "burst": False,
        "type": 0,
    }
    if kind == "MESSAGE_REACTION_ADD":
        payload["member"] = member(who, name)
        payload["message_author_id"] = BOT_ID
    return payload


async def test_a_whole_day(world: DiscordWorld) -> None:
    fake, store = world.fake, world.app.store
    note, setup = await world.slash("study-admin", "setup", count=2)
    assert "This channel studies together now" in embed_text(setup)
    assert not ephemeral(setup)  # visible in the channel
    assert ephemeral(note)  # and the admin is told so, privately

    await world.slash("study-admin", "post-now")
    (post,) = fake.called("POST", rf"/channels/{CHANNEL}/messages")
    assert post.body["nonce"] and post.body["enforce_nonce"] is True
    assert post.body["allowed_mentions"] == {"parse": []}
    drawn = post.body["embeds"][0]
    # The reveal time is a timestamp each reader sees in their own zone.
    assert re.search(r"<t:\d+:f>", drawn["description"]) and "\x1f" not in str(drawn)
    (thread_call,) = fake.called("POST", r"/channels/\d+/messages/\d+/threads")
    assert thread_call.body["auto_archive_duration"] == 10080
    thread = posts(fake, CHANNEL)[0]["id"]

    # Two members answer in the thread; the bot acknowledges each with a reaction.
    first = thread_message(world, thread, ALICE, "alice", "The GIL serialises bytecode.")
    await fake.dispatch("MESSAGE_CREATE", first)
    second = thread_message(world, thread, BOB, "bob", "Use processes for CPU work.")
    await fake.dispatch("MESSAGE_CREATE", second)
    await eventually(
        lambda: len(fake.called("PUT", r"/channels/\d+/messages/\d+/reactions/.+/@me")) == 2
    )
    # Bob edits his answer (a raw update event, which works without the cache).
    await fake.dispatch(
        "MESSAGE_UPDATE", {**second, "content": "Processes, or C code that drops the GIL."}
    )

    def answers() -> list[str]:
        with sync_tx(store) as tx:
            return sorted(a.text for a in tx.answers.for_post(1))

    await eventually(
        lambda: (
            answers()
            == ["Processes, or C code that drops the GIL.", "The GIL serialises bytecode."]
        )
    )

    await world.slash("study-admin", "reveal-now")
    reveal = posts(fake, thread)[-1]
    assert "Key points" in embed_text(reveal)

    def grade() -> int | None:
        with sync_tx(store) as tx:
            alice = tx.members.find("discord", "users", ALICE)
            found = tx.reviews.grade_of(1, alice.id) if alice else None
            return int(found.grade) if found else None

    await fake.dispatch(
        "MESSAGE_REACTION_ADD",
        reaction("MESSAGE_REACTION_ADD", thread, reveal["id"], ALICE, "alice", "✅"),
    )
    await eventually(lambda: grade() == 3)
    await fake.dispatch(
        "MESSAGE_REACTION_ADD",
        reaction("MESSAGE_REACTION_ADD", thread, reveal["id"], ALICE, "alice", "🚀"),
    )
    await eventually(lambda: grade() == 4)
    await fake.dispatch(
        "MESSAGE_REACTION_REMOVE",
        reaction("MESSAGE_REACTION_REMOVE", thread, reveal["id"], ALICE, "alice", "🚀"),
    )
    await eventually(lambda: grade() is None)
    await fake.dispatch(
        "MESSAGE_REACTION_ADD",
        reaction("MESSAGE_REACTION_ADD", thread, reveal["id"], ALICE, "alice", "❌"),
    )
    await eventually(lambda: grade() == 1)

    # Tomorrow the card comes back by DM, answered through buttons.
    world.clock.advance(days=1, hours=1)
    assert await world.app.study.followups.send_due() == 1
    (dm_open,) = fake.called("POST", r"/users/@me/channels")
    dm = str(int(ALICE) + 1)
    dm_message = posts(fake, dm)[-1]
    (shown,) = await world.press(
        dm_message, "Show answer", user_id=ALICE, name="alice", channel_id=dm, dm=True
    )
    (graded,) = await world.press(
        shown, "Good", user_id=ALICE, name="alice", channel_id=dm, dm=True
    )
    assert "Graded Good" in embed_text(graded)

    # A quiz, ephemeral, through its buttons.
    _, question = await world.slash(
        "quiz", count=2, opts={"topic": "alpha", "count": 1}, user_id=BOB, name="bob"
    )
    assert ephemeral(question)
    (answer,) = await world.press(question, "Show answer", user_id=BOB, name="bob")
    (summary,) = await world.press(answer, "Easy", user_id=BOB, name="bob")
    assert "recalled 1 of 1" in embed_text(summary)

    # The weekly leaderboard.
    world.clock.set(world.clock.now().replace(hour=8, minute=5) + timedelta(days=6))
    assert await world.app.study.leaderboards.post_due() == 1
    board = posts(fake, CHANNEL)[-1]
    assert "Last week" in embed_text(board)
    assert "bob" in embed_text(board)
    with sync_tx(store) as tx:
        assert tx.posts.count(1) == 1
        assert len(tx.answers.for_post(1)) == 2
    assert dm_open.body == {"recipient_id": int(ALICE)}


async def alice_gets_it_wrong(world: DiscordWorld, thread: str) -> None:
    """reveal-now, then Alice grades ❌ on the reveal (the card comes back tomorrow)."""
    await world.slash("study-admin", "reveal-now")
    reveal = posts(world.fake, thread)[-1]
    await world.fake.dispatch(
        "MESSAGE_REACTION_ADD",
        reaction("MESSAGE_REACTION_ADD", thread, reveal["id"], ALICE, "alice", "❌"),
    )

    def graded() -> bool:
        with sync_tx(world.app.store) as tx:
            return bool(tx.reviews.grade_of(1, 2))

    await eventually(graded)
