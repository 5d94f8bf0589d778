"""A whole study day through the real Bolt app, against a local fake Slack Web API."""

from __future__ import annotations

from datetime import timedelta

from tests.dbtools import sync_tx
from tests.slack.conftest import SlackWorld, button, eventually
from tests.slack.fake_slack import BOT_USER


def texts(responses: list[dict[str, object]]) -> str:
    return "\n".join(str(r.get("text", "")) for r in responses)


async def test_a_whole_day(slack: SlackWorld) -> None:
    fake, store = slack.fake, slack.app.store
    # Setup by a workspace admin (users.info says is_admin), visible in the channel.
    (setup,) = await slack.command("setup")
    assert setup["response_type"] == "in_channel"
    assert "This channel studies together now" in setup["text"]

    # post-now: one daily post, in Block Kit, carrying its key as message metadata.
    await slack.command("post-now")
    (post,) = fake.posts("C1")
    assert post["metadata"]["event_type"] == "studybot_post"
    assert post["metadata"]["event_payload"]["key"].startswith("studybot:post:1:")
    assert any(b["type"] == "section" for b in post["blocks"])
    # The reveal time is a date token each reader sees in their own zone; no key in text.
    drawn = str(post["blocks"])
    assert "<!date^" in drawn and "{date_short_pretty} {time}|" in drawn
    assert "studybot:" not in drawn + str(post["text"]) and "\x1f" not in drawn
    thread = fake.messages["C1"][0]["ts"]

    # Two answers in the thread; one is delivered twice (a retry with the same event_id).
    answer = {
        "type": "message",
        "channel": "C1",
        "user": "U1",
        "text": "GIL serialises bytecode",
        "ts": "1700000100.000001",
        "thread_ts": thread,
        "channel_type": "channel",
    }
    assert await slack.event(answer, "Ev1") == 200
    assert await slack.event(answer, "Ev1", retry=1) == 200
    second = {**answer, "user": "U2", "text": "processes for CPU work", "ts": "1700000101.000001"}
    assert await slack.event(second, "Ev2") == 200
    await eventually(lambda: len(fake.called("reactions.add")) == 2)
    # An edit updates the answer.
    edited = {
        "type": "message",
        "subtype": "message_changed",
        "channel": "C1",
        "hidden": True,
        "ts": "1700000102.000001",
        "message": {**second, "text": "processes, or C code that drops the GIL"},
        "previous_message": second,
    }
    await slack.event(edited, "Ev3")

    def answers() -> list[tuple[str, str]]:
        with sync_tx(store) as tx:
            return sorted((a.message_ref or "", a.text) for a in tx.answers.for_post(1))

    await eventually(
        lambda: (
            answers()
            == [
                ("1700000100.000001", "GIL serialises bytecode"),
                ("1700000101.000001", "processes, or C code that drops the GIL"),
            ]
        )
    )

    # reveal-now posts the key points in the thread.
    await slack.command("reveal-now")
    reveal = fake.posts("C1")[-1]
    assert reveal["thread_ts"] == thread
    reveal_ts = fake.messages["C1"][-1]["ts"]
    # ...and in the channel too (reply_broadcast): members who did not answer see it.
    assert reveal.get("reply_broadcast") in (True, "1", "true")
    assert fake.conversations.top_level("C1")[0]["ts"] == reveal_ts  # newest in the channel
    assert fake.messages["C1"][-1].get("subtype") == "thread_broadcast"

    # Grades: add, change, remove.
    def reaction(kind: str, name: str) -> dict[str, object]:
        return {
            "type": kind,
            "user": "U1",
            "reaction": name,
            "item_user": BOT_USER,
            "item": {"type": "message", "channel": "C1", "ts": reveal_ts},
            "event_ts": "1.1",
        }

    def grade_of_u1() -> int | None:
        with sync_tx(store) as tx:
            member = tx.members.find("slack", "T1", "U1")
            grade = tx.reviews.grade_of(1, member.id) if member else None
            return int(grade.grade) if grade else None

    await slack.event(reaction("reaction_added", "white_check_mark"), "Ev4")
    await eventually(lambda: grade_of_u1() == 3)
    await slack.event(reaction("reaction_added", "rocket"), "Ev5")
    await eventually(lambda: grade_of_u1() == 4)
    await slack.event(reaction("reaction_removed", "rocket"), "Ev6")
    await eventually(lambda: grade_of_u1() is None)
    await slack.event(reaction("reaction_added", "x"), "Ev7")  # Again: due tomorrow
    await eventually(lambda: grade_of_u1() == 1)
    ephemerals = fake.called("chat.postEphemeral")
    assert any("Graded Good" in str(e["text"]) for e in ephemerals)

    # The next day the card comes back by DM; the member answers through the buttons.
    slack.clock.advance(days=1, hours=1)
    assert await slack.app.study.followups.send_due() == 1
    (opened,) = fake.called("conversations.open")
    assert opened["users"] == "U1"
    dm = fake.posts("DU1")[-1]
    show = dm["blocks"][-1]["elements"][0]["action_id"]
    shown = await slack.press(show, "U1", "DU1")
    graded = await slack.press(button(shown, "Good"), "U1", "DU1")
    assert "Graded Good" in texts(graded)

    # A quiz, ephemeral, through its buttons.
    quiz = await slack.command("alpha 1", user="U2", command="/quiz", count=2)
    assert all(r["response_type"] == "ephemeral" for r in quiz)
    answer_card = await slack.press(button(quiz), "U2", "C1")
    summary = await slack.press(button(answer_card, "Easy"), "U2", "C1")
    assert "recalled 1 of 1" in texts(summary)

    # The weekly leaderboard on Monday 09:00.
    slack.clock.set(slack.clock.now().replace(hour=8, minute=5) + timedelta(days=6))
    assert await slack.app.study.leaderboards.post_due() == 1
    board = fake.posts("C1")[-1]
    assert "Last week" in board["text"]
    assert "member-u2" in board["text"]

    # Store: one post, two answers (the retry changed nothing twice), each event once.
    with sync_tx(store) as tx:
        assert tx.posts.count(1) == 1
        assert len(tx.answers.for_post(1)) == 2
    assert len(fake.called("reactions.add")) == 2
