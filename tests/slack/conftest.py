from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot import app as application
from bot.adapters.slack.chat import SlackChat
from bot.adapters.slack.client import web_client
from bot.config import load_settings
from tests.conftest import TEST_CONTENT
from tests.fakes import FakeClock
from tests.slack.fake_slack import FakeSlack, action_body, command_body, event_body, signed

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
CHANNELS = frozenset({"C1"})
"""The channels the tests use, which the bot has joined (Slack refuses the others)."""


def fake_slack(**options: Any) -> FakeSlack:
    """A fake Slack whose bot is a member of the test channels."""
    return FakeSlack(joined=set(CHANNELS), **options)


async def eventually(check: Callable[[], Any], within: float = 5.0) -> Any:
    """Wait until ``check()`` is truthy (effects happen after the ack)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def button(replies: list[dict[str, Any]], label: str | None = None) -> str:
    """The action id of the first button (or the one labelled ``label``) of the last reply."""
    return str(
        next(
            e["action_id"]
            for b in replies[-1]["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
            if label is None or e["text"]["text"].split(" · ")[0] == label
        )
    )


@dataclass
class SlackWorld:
    fake: FakeSlack
    app: application.App
    clock: FakeClock
    http: aiohttp.ClientSession
    url: str
    counter: int = 0

    async def send(
        self, body: str, content_type: str, headers: dict[str, str] | None = None
    ) -> aiohttp.ClientResponse:
        all_headers = {"Content-Type": content_type, **signed(SECRET, body), **(headers or {})}
        async with self.http.post(self.url, data=body.encode(), headers=all_headers) as response:
            await response.read()
            return response

    async def command(
        self,
        text: str,
        user: str = "UADMIN",
        command: str = "/study",
        channel: str = "C1",
        within: float = 5.0,
        count: int = 1,
    ) -> list[dict[str, Any]]:
        """Run a slash command; return its ``count`` replies (they arrive after the ack)."""
        self.counter += 1
        token = f"c{self.counter}"
        response = await self.send(
            command_body(command, text, user, self.fake.response_url(token), channel),
            "application/x-www-form-urlencoded",
        )
        assert response.status == 200
        return await eventually(lambda: self._replies(token, count), within)

    def _replies(self, token: str, count: int) -> list[dict[str, Any]]:
        replies = [r for r in self.fake.responses if r["token"] == token]
        return replies if len(replies) >= count else []

    async def event(self, event: dict[str, Any], event_id: str, retry: int | None = None) -> int:
        headers = (
            {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
            if retry
            else {}
        )
        response = await self.send(event_body(event, event_id), "application/json", headers)
        return response.status

    async def press(self, action_id: str, user: str, channel: str) -> list[dict[str, Any]]:
        self.counter += 1
        token = f"a{self.counter}"
        body = action_body(action_id, user, self.fake.response_url(token), channel)
        response = await self.send(body, "application/x-www-form-urlencoded")
        assert response.status == 200
        return await eventually(lambda: self._replies(token, 1))


@contextlib.asynccontextmanager
async def running_app(
    tmp_path: Path, fake: FakeSlack, clock: FakeClock, **env: str
) -> AsyncIterator[application.App]:
    settings = load_settings(
        db_url=f"sqlite+aiosqlite:///{tmp_path / 'slack.db'}",
        content_dir=TEST_CONTENT,
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SECRET,
        slack_api_url=fake.api_url,
        http_host="127.0.0.1",
        http_port=0,
        default_tz="Europe/Berlin",
        tick_seconds=3600,
        **env,
    )
    async with application.build(settings, console=False, clock=clock) as built:
        task = built.runner = asyncio.create_task(application.run(built))
        await eventually(lambda: built.http is not None and built.http.port)
        try:
            yield built
        finally:
            built.stop.set()
            await task


@pytest.fixture
async def slack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[SlackWorld]:
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "DISCORD_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    fake = fake_slack()
    await fake.start()
    fake.users["UADMIN"] = {"is_admin": True, "profile": {"display_name": "Ada"}}
    clock = FakeClock(datetime(2025, 3, 3, 8, 0, tzinfo=UTC))  # Monday 09:00 Berlin
    try:
        async with running_app(tmp_path, fake, clock) as built, aiohttp.ClientSession() as http:
            assert built.http is not None
            url = f"http://127.0.0.1:{built.http.port}/slack/events"
            yield SlackWorld(fake, built, clock, http, url)
    finally:
        await fake.stop()


@dataclass
class Direct:
    """The adapter's own client and ``SlackChat`` against a fake Slack, without the app."""

    fake: FakeSlack
    session: aiohttp.ClientSession
    chat: SlackChat

    def chat_with(self, **options: Any) -> SlackChat:
        return SlackChat(self.chat.client, **options)


@pytest.fixture
async def direct() -> AsyncIterator[Direct]:
    fake = fake_slack()
    await fake.start()
    logger = logging.getLogger("studybot.slack_sdk")
    logger.setLevel(logging.INFO)
    try:
        async with aiohttp.ClientSession() as session:
            client = web_client("xoxb-test", api_url=fake.api_url, session=session, logger=logger)
            yield Direct(fake, session, SlackChat(client))
    finally:
        await fake.stop()


Waiter = Callable[[], Awaitable[None]]
