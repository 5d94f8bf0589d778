"""Bad requests, platform failures and hostile names: each with its harmless outcome."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.store.tables import channels, followups
from tests.dbtools import count, rows, sync_tx
from tests.fakes import FakeClock
from tests.slack.conftest import SECRET, SlackWorld, button, eventually, fake_slack, running_app
from tests.slack.fake_slack import BOT_USER, command_body, signed


async def test_forged_signature_is_refused(slack: SlackWorld) -> None:
    body = command_body("/study", "setup", "UADMIN", slack.fake.response_url("x"))
    headers = {"Content-Type": "application/x-www-form-urlencoded", **signed("wrong-secret", body)}
    async with slack.http.post(slack.url, data=body, headers=headers) as response:
        assert response.status == 401
    await asyncio.sleep(0.2)
    assert slack.fake.responses == []
    with sync_tx(slack.app.store) as tx:
        assert count(tx, channels) == 0


async def test_a_six_minute_old_timestamp_is_refused(slack: SlackWorld) -> None:
    body = command_body("/study", "setup", "UADMIN", slack.fake.response_url("x"))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        **signed(SECRET, body, int(time.time()) - 6 * 60),
    }
    async with slack.http.post(slack.url, data=body, headers=headers) as response:
        assert response.status == 401
    with sync_tx(slack.app.store) as tx:
        assert count(tx, channels) == 0


async def test_a_one_megabyte_body_is_refused(slack: SlackWorld) -> None:
    body = "x" * (1024 * 1024)
    headers = {"Content-Type": "application/json", **signed(SECRET, body)}
    async with slack.http.post(slack.url, data=body, headers=headers) as response:
        assert response.status == 413


async def test_a_non_admin_cannot_set_up(slack: SlackWorld) -> None:
    (reply,) = await slack.command("setup time=10:00", user="U5")
    assert reply["response_type"] == "ephemeral"
    assert "Only workspace admins" in reply["text"]
    with sync_tx(slack.app.store) as tx:
        assert count(tx, channels) == 0


async def test_configured_admins_may(tmp_path: Path) -> None:
    fake = fake_slack()
    await fake.start()
    clock = FakeClock(datetime(2025, 3, 3, 8, 0, tzinfo=UTC))
    try:
        async with running_app(tmp_path, fake, clock, admins=["U5"]) as built:
            import aiohttp

            async with aiohttp.ClientSession() as http:
                assert built.http is not None
                world = SlackWorld(
                    fake, built, clock, http, f"http://127.0.0.1:{built.http.port}/slack/events"
                )
                (reply,) = await world.command("setup", user="U5")
                assert "studies together now" in reply["text"]
    finally:
        await fake.stop()


async def test_a_429_storm_is_waited_out_not_multiplied(slack: SlackWorld) -> None:
    await slack.command("setup")
    slack.fake.rate_limited["chat.postMessage"] = 3
    started = time.monotonic()
    await slack.command("post-now", within=15)
    assert len(slack.fake.posts("C1")) == 4  # three 429s (Retry-After: 1), then the post
    assert time.monotonic() - started >= 2.5
    assert len(slack.fake.messages["C1"]) == 1


async def test_removed_from_the_channel_pauses_it_with_the_reason(slack: SlackWorld) -> None:
    await slack.command("setup")
    slack.fake.errors[("chat.postMessage", "C1")] = "not_in_channel"
    (reply,) = await slack.command("post-now")
    assert "could not be sent" in reply["text"]
    (status,) = await slack.command("status")
    assert "paused (not_in_channel)" in status["text"]
    slack.clock.advance(days=1, hours=1)
    await slack.app.study.posting.post_due()
    await slack.app.study.posting.reconcile()
    assert len(slack.fake.posts("C1")) == 1  # no retry storm


async def test_revoked_token_stops_slack_calls(slack: SlackWorld) -> None:
    await slack.command("setup")
    slack.fake.errors[("chat.postMessage", "*")] = "token_revoked"
    await slack.command("post-now")
    calls = len(slack.fake.posts())
    slack.clock.advance(minutes=5)
    for _ in range(3):
        await slack.app.study.posting.reconcile()
    assert len(slack.fake.posts()) == calls  # no further calls once the token is refused


async def test_a_display_name_with_channel_pings_nobody(slack: SlackWorld) -> None:
    slack.fake.users["U9"] = {"profile": {"display_name": "<!channel> & co"}}
    await slack.command("setup")
    await slack.command("post-now")
    thread = slack.fake.messages["C1"][0]["ts"]
    event = {
        "type": "message",
        "channel": "C1",
        "user": "U9",
        "text": "<!here> read this",
        "ts": "1700000200.000001",
        "thread_ts": thread,
    }
    await slack.event(event, "EvX")
    await eventually(lambda: slack.fake.called("reactions.add"))
    (board,) = await slack.command("leaderboard", user="U9")
    text = board["text"] + str(board["blocks"])
    assert "&lt;!channel&gt; &amp; co" in text
    assert "<!channel>" not in text


@pytest.mark.parametrize(
    "event",
    [
        {"bot_id": "B2", "user": "U3"},  # another bot
        {"user": BOT_USER, "subtype": "bot_message", "bot_id": "BBOT"},  # ourselves
    ],
)
async def test_bot_messages_are_ignored(slack: SlackWorld, event: dict[str, str]) -> None:
    await slack.command("setup")
    await slack.command("post-now")
    thread = slack.fake.messages["C1"][0]["ts"]
    body = {
        "type": "message",
        "channel": "C1",
        "text": "beep",
        "ts": "1700000300.000001",
        "thread_ts": thread,
        **event,
    }
    assert await slack.event(body, "EvBot") == 200
    await asyncio.sleep(0.3)
    with sync_tx(slack.app.store) as tx:
        assert tx.answers.for_post(1) == []
    assert slack.fake.called("reactions.add") == []


async def test_a_grade_on_the_daily_post_gets_a_hint(slack: SlackWorld) -> None:
    await slack.command("setup")
    await slack.command("post-now")
    post_ts = slack.fake.messages["C1"][0]["ts"]
    event = {
        "type": "reaction_added",
        "user": "U1",
        "reaction": "white_check_mark",
        "item_user": BOT_USER,
        "item": {"type": "message", "channel": "C1", "ts": post_ts},
        "event_ts": "1.1",
    }
    await slack.event(event, "EvR")
    (hint,) = await eventually(lambda: slack.fake.called("chat.postEphemeral"))
    assert "only on the reveal" in str(hint["text"])


async def test_a_post_whose_answer_was_lost_is_found_by_its_metadata(slack: SlackWorld) -> None:
    await slack.command("setup")
    slack.fake.lose_next_response.add("chat.postMessage")
    slack.clock.set(datetime(2025, 3, 3, 8, 31, tzinfo=UTC))  # 09:31 Berlin: the post is due
    await slack.app.study.posting.post_due()
    assert len(slack.fake.messages["C1"]) == 1  # it reached Slack; we never heard back
    slack.clock.advance(minutes=3)  # past the claim's lease, as after a restart
    assert await slack.app.study.posting.reconcile() == 1
    history = slack.fake.called("conversations.history")
    assert history and history[0]["include_all_metadata"] in (True, "1", "true")
    assert len(slack.fake.messages["C1"]) == 1  # looked up, not posted again
    with sync_tx(slack.app.store) as tx:
        post = tx.posts.get(1)
        assert post is not None and post.status == "posted"
        assert post.message_ref == slack.fake.messages["C1"][0]["ts"]


async def test_users_info_is_cached(slack: SlackWorld) -> None:
    for _ in range(3):
        await slack.command("help", user="U4")
    assert [c["user"] for c in slack.fake.called("users.info")].count("U4") == 1


async def test_health_readiness_and_metrics(slack: SlackWorld) -> None:
    await slack.command("setup")
    await slack.command("post-now")
    thread = slack.fake.messages["C1"][0]["ts"]
    answer = {
        "type": "message",
        "channel": "C1",
        "user": "U1",
        "text": "an answer",
        "ts": "1700000400.000001",
        "thread_ts": thread,
    }
    await slack.event(answer, "EvM1")
    await slack.event(answer, "EvM1", retry=1)
    await eventually(lambda: slack.fake.called("reactions.add"))
    base = slack.url.removesuffix("/slack/events")
    async with slack.http.get(f"{base}/healthz") as response:
        assert response.status == 200
    async with slack.http.get(f"{base}/readyz") as response:
        body = await response.json()
        assert response.status == 200
        assert body["checks"] == {"database": True, "slack": True}

    async def metrics() -> str:
        async with slack.http.get(f"{base}/metrics") as response:
            assert response.headers["Content-Type"].startswith("text/plain")
            return await response.text()

    text = await eventually_async(metrics, lambda t: 'outcome="duplicate"' in t)
    assert 'studybot_events_total{kind="answer",outcome="ok",platform="slack"} 1.0' in text
    assert 'studybot_duplicate_deliveries_total{platform="slack"} 1.0' in text
    assert 'studybot_command_ack_seconds_count{platform="slack"} 2.0' in text
    assert "studybot_store_write_seconds_count" in text


async def eventually_async(fetch, accept, within: float = 5.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + within
    while True:
        value = await fetch()
        if accept(value) or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.05)


async def test_shutdown_lets_a_running_handler_finish(slack: SlackWorld) -> None:
    slack.fake.latency = 0.5  # every Web API call is slow now
    body_token = "slow"
    from tests.slack.fake_slack import command_body

    body = command_body("/study", "help", "U7", slack.fake.response_url(body_token))
    response = await slack.send(body, "application/x-www-form-urlencoded")
    assert response.status == 200  # acked before any work
    await eventually(lambda: slack.app.study.inflight.count == 1)
    slack.app.stop.set()  # SIGTERM while the handler is still talking to Slack
    assert slack.app.runner is not None
    await asyncio.wait_for(asyncio.shield(slack.app.runner), 10)
    # run() returned only after the handler had answered.
    assert [r for r in slack.fake.responses if r["token"] == body_token]


async def test_a_followup_dm_whose_answer_was_lost_is_found_by_its_key(slack: SlackWorld) -> None:
    quiz = await slack.command("alpha 1", user="U1", command="/quiz", count=2)
    answer_card = await slack.press(button(quiz), "U1", "C1")
    await slack.press(button(answer_card, "Again"), "U1", "C1")  # due tomorrow
    slack.clock.advance(days=1, hours=1)
    slack.fake.lose_next_response.add("chat.postMessage")
    assert await slack.app.study.followups.send_due() == 0  # it reached Slack; no answer
    assert len(slack.fake.posts("DU1")) == 1
    slack.clock.advance(minutes=3)  # past the claim's lease
    await slack.app.study.followups.send_due()
    assert len(slack.fake.posts("DU1")) == 1  # looked up in the DM by its key, not re-sent
    with sync_tx(slack.app.store) as tx:
        member = tx.members.find("slack", "T1", "U1")
        assert member is not None
        (followup,) = rows(tx, followups, member_id=member.id)
        assert followup["status"] == "sent"
        assert followup["message_ref"] == slack.fake.messages["DU1"][0]["ts"]
