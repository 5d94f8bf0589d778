"""Slack's 3 seconds: events are stored, acked, then handled, whatever the Web API does.

The fake delivers each event as Slack does (tests/slack/fake_delivery.py): an ack later
than 3 s, or none, means the event comes again with X-Slack-Retry-Num.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from bot.adapters.base import APOLOGY
from bot.core.replies import Reply
from tests.dbtools import sync_tx
from tests.fakes import FakeClock
from tests.slack.bodies import event_body
from tests.slack.conftest import SECRET, SlackWorld, button, eventually, fake_slack, running_app
from tests.slack.fake_delivery import Deliverer


async def daily_thread(slack: SlackWorld) -> str:
    await slack.command("setup")
    await slack.command("post-now")
    return str(slack.fake.messages["C1"][0]["ts"])


def answer(thread: str, user: str, n: int) -> dict[str, Any]:
    return {
        "type": "message",
        "channel": "C1",
        "user": user,
        "text": f"answer {n}",
        "ts": f"1700000{n:03d}.000001",
        "thread_ts": thread,
        "channel_type": "channel",
    }


def answers_stored(slack: SlackWorld) -> int:
    with sync_tx(slack.app.store) as tx:
        return len(tx.answers.for_post(1))


async def test_events_are_acked_at_once_at_one_second_api_latency_and_429s(
    slack: SlackWorld,
) -> None:
    thread = await daily_thread(slack)
    slack.fake.latency = 1.0  # every Web API call takes a second
    slack.fake.rate_limited["users.info"] = 3  # and users.info is in a 429 storm
    deliverer = Deliverer(slack.url, SECRET, slack.http)
    for n in range(4):
        await deliverer.deliver(event_body(answer(thread, f"U{n}", n), f"Ev{n}"), f"Ev{n}")
    # Each event was acked on its first delivery: no redelivery was ever needed ...
    assert [d.attempt for d in deliverer.deliveries] == [0, 0, 0, 0]
    assert all(d.acked for d in deliverer.deliveries)
    # ... although handling (users.info, reactions) took seconds, after the acks.
    await eventually(lambda: answers_stored(slack) == 4, within=30)
    await eventually(lambda: len(slack.fake.called("reactions.add")) == 4, within=30)


async def test_a_redelivered_event_changes_nothing_twice(slack: SlackWorld) -> None:
    thread = await daily_thread(slack)
    event = answer(thread, "U1", 1)
    for retry in (None, 1, 2):
        assert await slack.event(event, "Ev1", retry=retry) == 200
    await eventually(lambda: answers_stored(slack) == 1)
    await eventually(lambda: len(slack.fake.called("reactions.add")) == 1)

    def backlog() -> int:
        with sync_tx(slack.app.store) as tx:
            return tx.inbox.backlog("slack")

    # The inbox row is marked handled after the handler's last call (the reaction): on a
    # loaded machine that can come a moment later, so wait for it rather than race it.
    await eventually(lambda: backlog() == 0)
    assert len(slack.fake.called("reactions.add")) == 1 and answers_stored(slack) == 1


async def test_an_event_whose_handling_failed_is_handled_once_after_a_restart(
    tmp_path: Path,
) -> None:
    from datetime import UTC, datetime

    from bot.services.inbox import LEASE

    fake = fake_slack()
    await fake.start()
    fake.users["UADMIN"] = {"is_admin": True}
    clock = FakeClock(datetime(2025, 3, 3, 8, 0, tzinfo=UTC))
    try:
        async with aiohttp.ClientSession() as http:
            async with running_app(tmp_path, fake, clock) as first:
                assert first.http is not None
                world = SlackWorld(fake, first, clock, http, _url(first))
                thread = await daily_thread(world)

                async def broken(*_args: object, **_kwargs: object) -> Reply:
                    raise RuntimeError("the database went away")

                first.study.message = broken  # type: ignore[method-assign]
                assert await world.event(answer(thread, "U1", 1), "Ev1") == 200  # acked
                await eventually(lambda: _backlog(first) == 1)  # stored, not handled
                assert answers_stored(world) == 0
            clock.advance(seconds=LEASE.total_seconds() + 1)
            async with running_app(tmp_path, fake, clock) as second:  # the restart
                assert second.http is not None
                world = SlackWorld(fake, second, clock, http, _url(second))
                await eventually(lambda: answers_stored(world) == 1)
                assert await world.event(answer(thread, "U1", 1), "Ev1", retry=1) == 200
                clock.advance(minutes=5)
                await eventually(lambda: _backlog(second) == 0)
                assert answers_stored(world) == 1
                assert len(fake.called("reactions.add")) == 1
    finally:
        await fake.stop()


def _url(app: Any) -> str:
    return f"http://127.0.0.1:{app.http.port}/slack/events"


def _backlog(app: Any) -> int:
    with sync_tx(app.store) as tx:
        return int(tx.inbox.backlog("slack"))


async def test_an_unexpected_error_gets_the_member_an_apology(slack: SlackWorld) -> None:
    async def raising(*_args: object) -> Reply:
        raise RuntimeError("boom")

    slack.app.study.routes["stats"] = raising
    (reply,) = await slack.command("stats", user="U1")
    assert APOLOGY in reply["text"] and "boom" not in reply["text"]
    assert reply["response_type"] == "ephemeral"
    errors = slack.app.metrics.errors.labels("slack", "command")._value.get()
    assert errors == 1


async def test_a_quiz_advances_in_place(slack: SlackWorld) -> None:
    intro, question = await slack.command("", command="/quiz", user="U1", count=2)
    assert intro["replace_original"] is False and question["replace_original"] is False
    shown = await slack.press(button([question], "Show answer"), "U1", "C1")
    assert shown[-1]["replace_original"] is True
    graded = await slack.press(button(shown, "Good"), "U1", "C1")
    assert graded[-1]["replace_original"] is True


async def test_grade_buttons_on_the_reveal_grade_privately(slack: SlackWorld) -> None:
    await daily_thread(slack)
    await slack.command("reveal-now")
    reveal = slack.fake.posts("C1")[-1]
    labels = [
        e["text"]["text"] for b in reveal["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert labels == ["Again", "Hard", "Good", "Easy"]
    (reply,) = await slack.press(button([reveal], "Hard"), "U2", "C1")
    assert reply["response_type"] == "ephemeral" and "Graded Hard" in reply["text"]
    assert reply["replace_original"] is False  # the reveal stays for everyone else
    with sync_tx(slack.app.store) as tx:
        member = tx.members.find("slack", "T1", "U2")
        assert member is not None
        grade = tx.reviews.grade_of(1, member.id)
        assert grade is not None and grade.grade.label == "Hard"
