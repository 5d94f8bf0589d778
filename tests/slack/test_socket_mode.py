"""Socket Mode smoke test: apps.connections.open, a websocket, one slash command."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import app as application
from bot.config import load_settings
from tests.conftest import TEST_CONTENT
from tests.fakes import FakeClock
from tests.slack.conftest import eventually, fake_slack
from tests.slack.fake_slack import TEAM


async def test_socket_mode_connects_and_handles_a_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    fake = fake_slack()
    await fake.start()
    fake.socket_envelopes.append(
        {
            "envelope_id": "env-1",
            "type": "slash_commands",
            "accepts_response_payload": True,
            "payload": {
                "team_id": TEAM,
                "channel_id": "C1",
                "user_id": "U1",
                "user_name": "u1",
                "command": "/study",
                "text": "help",
                "api_app_id": "A1",
                "response_url": fake.response_url("socket"),
                "trigger_id": "1.2.3",
            },
        }
    )
    settings = load_settings(
        db_url=f"sqlite+aiosqlite:///{tmp_path / 'socket.db'}",
        content_dir=TEST_CONTENT,
        slack_bot_token="xoxb-test-token",
        slack_app_token="xapp-test-token",
        slack_api_url=fake.api_url,
        http_enabled=False,
        tick_seconds=3600,
    )
    try:
        async with application.build(
            settings, console=False, clock=FakeClock(datetime(2025, 3, 3, 8, tzinfo=UTC))
        ) as built:
            import asyncio

            task = asyncio.create_task(application.run(built))
            try:
                (reply,) = await eventually(
                    lambda: [r for r in fake.responses if r["token"] == "socket"], 10
                )
                assert "studybot help" in reply["text"]
                acks = await eventually(
                    lambda: [a for a in fake.socket_acks if a.get("envelope_id") == "env-1"]
                )
                assert len(acks) == 1
                assert fake.called("apps.connections.open")
                assert built.adapters[0].connected()
            finally:
                built.stop.set()
                await task
    finally:
        await fake.stop()
