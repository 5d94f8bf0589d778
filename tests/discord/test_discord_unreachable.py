"""A Discord that cannot be reached at start (DNS down, connection refused) is tried
again with back-off: the process stays up, and the bot connects once Discord answers."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from bot import app as application
from tests.discord.conftest import discord_app
from tests.discord.fake_discord import FakeDiscord
from tests.discord.fake_rules import PlatformClock
from tests.fakes import FakeClock
from tests.slack.conftest import eventually


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_discord_unreachable_at_start_is_retried_until_it_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(application, "RETRY_FIRST", 0.05)
    clock = FakeClock(datetime(2025, 3, 3, 8, 0, tzinfo=UTC))
    fake = FakeDiscord(clock=PlatformClock(base=clock.now), port=free_port())  # not started
    with capture_logs() as logs:
        async with discord_app(tmp_path, fake, clock, wait=False) as built:
            failures = lambda: [e for e in logs if e["event"] == "platform_failed"]  # noqa: E731
            await eventually(lambda: len(failures()) >= 3, 10)
            assert built.runner is not None and not built.runner.done()  # still serving
            delays = [e["retry_in_s"] for e in failures()[:3]]
            assert delays == sorted(delays) and delays[0] < delays[-1]  # backing off
            assert all(e["platform"] == "discord" for e in failures())
            await fake.start()  # Discord is back
            try:
                await eventually(lambda: built.adapters[0].connected(), 15)
                assert fake.identifies  # a real gateway session, after the failures
            finally:
                built.stop.set()
                assert await asyncio.wait_for(built.runner, 10) == 0
                await fake.stop()
