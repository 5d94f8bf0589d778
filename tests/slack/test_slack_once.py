"""Every Slack message exactly once: no blind re-send, and a look where the message lives.

Against the strict fake: a call can take effect and lose its answer (the connection
closes unanswered), history holds no thread replies, a response_url takes 5 posts.
"""

from __future__ import annotations

import json

import pytest

from bot.adapters.slack.lookup import carries
from bot.core.errors import ChatError, TargetUnavailable
from bot.core.models import Target
from bot.core.replies import Message, Reply
from tests.dbtools import sync_tx
from tests.slack.conftest import Direct, SlackWorld, eventually
from tests.slack.fake_slack import RESPONSE_URL

C1 = Target("slack", "T1", "C1")


# ---- no blind SDK retry of a posting call (fix b) -------------------------------------------


async def test_a_post_whose_connection_dropped_is_not_sent_again(direct: Direct) -> None:
    direct.fake.lose_next_response.add("chat.postMessage")
    with pytest.raises(ChatError):
        await direct.chat.post(C1, Message("today's question"), key="k1")
    assert len(direct.fake.messages["C1"]) == 1  # Slack has it once; nobody re-sent it
    assert await direct.chat.find_post(C1, "k1") is not None


async def test_an_ephemeral_whose_connection_dropped_is_not_sent_again(direct: Direct) -> None:
    direct.fake.lose_next_response.add("chat.postEphemeral")
    with pytest.raises(ChatError):
        await direct.chat.ephemeral("C1", "U1", Message("only for you"))
    assert len(direct.fake.ephemerals) == 1


async def test_a_read_whose_connection_dropped_is_asked_again(direct: Direct) -> None:
    await direct.chat.post(C1, Message("today's question"), key="k1")
    direct.fake.lose_next_response.add("conversations.history")
    assert await direct.chat.find_post(C1, "k1") is not None  # reads are safe to repeat
    assert len(direct.fake.called("conversations.history")) == 2


# ---- lookups where the message lives (fix a) ------------------------------------------------


async def test_a_reveal_whose_answer_was_lost_is_found_in_its_thread(slack: SlackWorld) -> None:
    fake = slack.fake
    await slack.command("setup")
    await slack.command("post-now")
    thread = fake.messages["C1"][0]["ts"]
    fake.lose_next_response.add("chat.postMessage")
    await slack.command("reveal-now")  # the reveal reaches Slack; its answer does not
    slack.clock.advance(minutes=3)  # past the claim's lease, as after a restart
    await slack.app.study.posting.reconcile()
    reveals = fake.conversations.thread("C1", thread)[1:]
    assert len(reveals) == 1  # looked up in the thread, not posted again
    with sync_tx(slack.app.store) as tx:
        post = tx.posts.get(1)
        assert post is not None and post.reveal_status == "posted"
        assert post.reveal_ref == reveals[0]["ts"]


async def test_a_long_thread_is_read_to_its_end(direct: Direct) -> None:
    parent = await direct.chat.post(C1, Message("question"), key="post")
    for n in range(250):  # a busy thread: the reveal comes after the answers
        direct.fake.add_message("C1", f"U{n}", f"answer {n}", thread_ts=parent.message_ref)
    in_thread = Target("slack", "T1", "C1", parent.thread_ref)
    reveal = await direct.chat.post(in_thread, Message("key points"), key="reveal")
    assert await direct.chat.find_post(in_thread, "reveal") == reveal
    assert await direct.chat.find_post(in_thread, "missing") is None


@pytest.mark.parametrize(
    ("error", "raised"), [("internal_error", ChatError), ("not_in_channel", TargetUnavailable)]
)
async def test_a_lookup_that_fails_is_an_error_not_a_miss(
    direct: Direct, error: str, raised: type[ChatError]
) -> None:
    parent = await direct.chat.post(C1, Message("question"), key="post")
    direct.fake.errors[("conversations.replies", "C1")] = error
    with pytest.raises(raised):
        await direct.chat.find_post(Target("slack", "T1", "C1", parent.thread_ref), "reveal")


# ---- response_url: each reply once, within its 5 posts (fix f) ------------------------------


async def test_a_command_reply_whose_connection_dropped_is_shown_once(slack: SlackWorld) -> None:
    slack.fake.lose_next_response.add(RESPONSE_URL)
    await slack.command("help", user="U4")
    await eventually(lambda: slack.app.study.inflight.count == 0)
    assert len(slack.fake.responses) == 1  # Bolt's respond would have posted it again


async def test_a_reply_of_many_messages_fits_in_five_posts(slack: SlackWorld) -> None:
    adapter = slack.app.adapters[0]
    lines = [f"part {n} " + "x" * 2500 for n in range(12)]
    reply = Reply(messages=tuple(Message(lines=(line,)) for line in lines))
    await adapter._respond(slack.fake.response_url("many"), reply)  # type: ignore[attr-defined]
    posts = [r for r in slack.fake.responses if r["token"] == "many"]
    assert slack.fake.refused_responses == []
    assert len(posts) <= 5
    shown = json.dumps([b for p in posts for b in p["blocks"]])
    assert all(f"part {n} " in shown for n in range(12))


def test_keys_are_found_only_in_our_metadata() -> None:
    ours = {"metadata": {"event_type": "studybot_post", "event_payload": {"key": "k"}}}
    assert carries(ours, "k")
    assert not carries(ours, "other")
    assert not carries({"metadata": {"event_type": "theirs", "event_payload": {"key": "k"}}}, "k")


async def test_a_dm_is_replaced_in_place_without_its_buttons(direct: Direct) -> None:
    from bot.core.replies import Button

    card = Message("Q?", buttons=(Button("Show answer", "fu:show:1"),), kind="followup")
    sent = await direct.chat.send_dm("T1", "U1", card, key="followup:1")
    await direct.chat.edit_dm("T1", "U1", sent.message_ref, Message("Graded Good."))
    (stored,) = direct.fake.messages["DU1"]
    assert "Graded Good." in stored["text"]
    assert not [b for b in stored["blocks"] if b["type"] == "actions"]
    assert len(direct.fake.called("chat.postMessage")) == 1  # updated, not posted again
