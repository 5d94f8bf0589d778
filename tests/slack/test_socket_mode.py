"""Socket Mode smoke test: apps.connections.open, a websocket, one slash command."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

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


def _settings(tmp_path: Path, api_url: str) -> Any:
    return load_settings(
        db_url=f"sqlite+aiosqlite:///{tmp_path / 'socket.db'}",
        content_dir=TEST_CONTENT,
        slack_bot_token="xoxb-test-token",
        slack_app_token="xapp-test-token",
        slack_api_url=api_url,
        http_enabled=False,
        tick_seconds=3600,
    )


@pytest.mark.parametrize(
    ("method", "setting"),
    [("auth.test", "SLACK_BOT_TOKEN"), ("apps.connections.open", "SLACK_APP_TOKEN")],
)
async def test_a_rejected_token_stops_slack_with_the_setting_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, method: str, setting: str
) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    fake = fake_slack()
    await fake.start()
    fake.errors[(method, "*")] = "invalid_auth"
    clock = FakeClock(datetime(2025, 3, 3, 8, tzinfo=UTC))
    try:
        with capture_logs() as logs:
            async with application.build(
                _settings(tmp_path, fake.api_url), console=False, clock=clock
            ) as built:
                task = asyncio.create_task(application.run(built))
                await eventually(
                    lambda: [e for e in logs if e["event"] == "platform_token_rejected"]
                )
                assert not task.done() and not built.stop.is_set()  # the bot runs on
                assert not built.adapters[0].connected()
                built.stop.set()
                await asyncio.wait_for(task, 10)
        (line,) = [e for e in logs if e["event"] == "platform_token_rejected"]
        assert line["setting"] == setting and line["error"] == "invalid_auth"
        assert len(fake.called(method)) == 1  # asked once, not retried forever
    finally:
        await fake.stop()


async def test_sigterm_ends_connection_attempts_while_slack_is_unreachable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    clock = FakeClock(datetime(2025, 3, 3, 8, tzinfo=UTC))
    with capture_logs() as logs:
        async with application.build(
            _settings(tmp_path, f"http://127.0.0.1:{port}/api/"), console=False, clock=clock
        ) as built:
            task = asyncio.create_task(application.run(built))
            await eventually(
                lambda: [e for e in logs if e["event"] == "slack_unreachable"], within=30
            )
            built.stop.set()  # what SIGTERM does
            await asyncio.wait_for(task, 10)
    assert task.result() == 0
