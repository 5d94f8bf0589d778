"""Answers and whispers in a daily post's thread, the way Slack members really reply.

"Also send to channel" (subtype ``thread_broadcast``) and a reply with a file (subtype
``file_share``) are answers; an ephemeral about a thread goes into that thread
(chat.postEphemeral ``thread_ts``), and one about the channel stays in the channel.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.dbtools import sync_tx
from tests.slack.conftest import SlackWorld, eventually
from tests.slack.fake_slack import BOT_USER


async def daily_post(slack: SlackWorld) -> str:
    await slack.command("setup")
    await slack.command("post-now")
    return str(slack.fake.messages["C1"][0]["ts"])


def reply(thread: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": "message",
        "channel": "C1",
        "channel_type": "channel",
        "user": "U1",
        "text": "GIL serialises bytecode",
        "ts": "1700000100.000001",
        "thread_ts": thread,
        **fields,
    }


def reaction(ts: str, name: str = "white_check_mark") -> dict[str, Any]:
    return {
        "type": "reaction_added",
        "user": "U1",
        "reaction": name,
        "item_user": BOT_USER,
        "item": {"type": "message", "channel": "C1", "ts": ts},
        "event_ts": "1.1",
    }


@pytest.mark.parametrize(
    "fields",
    [
        {"subtype": "thread_broadcast", "root": {"ts": "root"}},
        {"subtype": "file_share", "files": [{"id": "F1", "name": "gil.png", "title": "GIL"}]},
        {"subtype": "file_share", "text": "", "files": [{"id": "F1", "name": "notes.pdf"}]},
    ],
)
async def test_broadcast_and_file_replies_are_answers(
    slack: SlackWorld, fields: dict[str, Any]
) -> None:
    thread = await daily_post(slack)
    if "root" in fields:
        fields["root"] = {"ts": thread}
    assert await slack.event(reply(thread, **fields), "EvA") == 200
    await eventually(lambda: slack.fake.reactions)
    with sync_tx(slack.app.store) as tx:
        (answer,) = tx.answers.for_post(1)
    names = [f.get("title") or f["name"] for f in fields.get("files", [])]
    assert all(f"[file: {name}]" in answer.text for name in names)


async def test_an_answer_error_is_whispered_in_its_thread(slack: SlackWorld) -> None:
    thread = await daily_post(slack)
    await slack.event(reply(thread, text="   "), "EvEmpty")
    (whisper,) = await eventually(lambda: slack.fake.ephemerals)
    assert "empty answer" in whisper["text"]
    assert whisper["thread_ts"] == thread


async def test_a_grade_is_confirmed_in_the_reveal_thread(slack: SlackWorld) -> None:
    thread = await daily_post(slack)
    await slack.command("reveal-now")
    reveal = slack.fake.messages["C1"][-1]["ts"]
    await slack.event(reaction(reveal), "EvGrade")
    (whisper,) = await eventually(lambda: slack.fake.ephemerals)
    assert "Graded Good" in whisper["text"]
    assert whisper["thread_ts"] == thread


async def test_a_grade_confirmed_after_a_restart_finds_the_thread(slack: SlackWorld) -> None:
    thread = await daily_post(slack)
    await slack.command("reveal-now")
    reveal = slack.fake.messages["C1"][-1]["ts"]
    slack.app.adapters[0].chat._threads.clear()  # type: ignore[attr-defined]
    await slack.event(reaction(reveal), "EvGrade")
    (whisper,) = await eventually(lambda: slack.fake.ephemerals)
    assert whisper["thread_ts"] == thread
    assert slack.fake.called("conversations.replies")[-1]["ts"] == reveal


async def test_a_hint_about_the_daily_post_stays_in_the_channel(slack: SlackWorld) -> None:
    post = await daily_post(slack)
    await slack.event(reaction(post), "EvHint")
    (whisper,) = await eventually(lambda: slack.fake.ephemerals)
    assert "only on the reveal" in whisper["text"]
    assert "thread_ts" not in whisper


async def test_setup_joins_a_public_channel_and_names_what_a_private_one_needs(
    slack: SlackWorld,
) -> None:
    (joined,) = await slack.command("setup", channel="C7")  # public, not joined yet
    assert "This channel studies together now" in joined["text"]
    assert [c["channel"] for c in slack.fake.called("conversations.join")] == ["C7"]
    slack.fake.private.add("G8")
    (refused,) = await slack.command("setup", channel="G8")
    assert "cannot post here yet" in refused["text"] and "/invite" in refused["text"]
    with sync_tx(slack.app.store) as tx:
        assert tx.channels.find("slack", "T1", "G8") is None


async def test_a_mention_is_answered_with_help_privately(slack: SlackWorld) -> None:
    mention = {
        "type": "app_mention",
        "channel": "C1",
        "user": "U5",
        "text": f"<@{BOT_USER}> what do you do?",
        "ts": "1700000500.000001",
    }
    assert await slack.event(mention, "EvM1") == 200
    (help_,) = await eventually(lambda: slack.fake.ephemerals)
    assert help_["user"] == "U5" and help_["channel"] == "C1"
    assert "/study" in str(help_.get("text", ""))
