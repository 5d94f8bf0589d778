"""Buttons keep working after a restart: their state is in the store, not in memory."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot import app as application
from tests.dbtools import sync_tx
from tests.fakes import FakeClock
from tests.slack.conftest import SlackWorld, button, fake_slack, running_app
from tests.slack.fake_slack import FakeSlack
from tests.slack.test_slack_day import texts


def world(fake: FakeSlack, app: application.App, clock: FakeClock, http: Any) -> SlackWorld:
    assert app.http is not None
    return SlackWorld(fake, app, clock, http, f"http://127.0.0.1:{app.http.port}/slack/events")


async def test_a_quiz_started_before_a_restart_finishes_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "DISCORD_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    fake = fake_slack()
    await fake.start()
    clock = FakeClock(datetime(2025, 3, 3, 8, 0, tzinfo=UTC))
    try:
        async with aiohttp.ClientSession() as http:
            async with running_app(tmp_path, fake, clock) as first:
                quiz = await world(fake, first, clock, http).command(
                    "alpha 1", user="U2", command="/quiz", count=2
                )
                show = button(quiz)
            # A new process on the same database: nothing of the quiz is left in memory.
            async with running_app(tmp_path, fake, clock) as second:
                slack = world(fake, second, clock, http)
                answer = await slack.press(show, "U2", "C1")
                summary = await slack.press(button(answer, "Easy"), "U2", "C1")
                assert "recalled 1 of 1" in texts(summary)
                with sync_tx(second.store) as tx:
                    member = tx.members.find("slack", "T1", "U2")
                    assert member is not None
                    assert len(tx.reviews.states_for(member.id)) == 1  # the grade reached FSRS
    finally:
        await fake.stop()
