from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot import app as application
from bot.adapters.discord.client import DiscordAdapter, Timeouts
from bot.config import load_settings
from tests.conftest import TEST_CONTENT
from tests.discord.fake_discord import BOT_ID, CHANNEL, GUILD, FakeDiscord
from tests.discord.fake_rules import PlatformClock
from tests.fakes import FakeClock
from tests.slack.conftest import eventually

FAST = Timeouts(guild_ready=0.05, login=5.0)
"""discord.py waits 2 s after READY for more servers; the fake has one."""


@dataclass
class DiscordWorld:
    fake: FakeDiscord
    app: application.App
    clock: FakeClock

    @property
    def adapter(self) -> Any:
        return self.app.adapters[0]

    async def slash(
        self, command: str, sub: str | None = None, *, count: int = 1, **options: Any
    ) -> list[dict[str, Any]]:
        """Send a slash command; return the followups it produced."""
        opts = [
            {"name": k, "type": _type(v), "value": v} for k, v in options.pop("opts", {}).items()
        ]
        data: dict[str, Any] = {"id": "1", "name": command, "type": 1, "guild_id": GUILD}
        if sub is None:
            data["options"] = opts
        else:
            data["options"] = [{"name": sub, "type": 1, "options": opts}]
        token, payload = self.fake.interaction(data, **options)
        await self.fake.dispatch("INTERACTION_CREATE", payload)
        return await self._followups(token, count)

    async def press(
        self, message: dict[str, Any], label: str, *, count: int = 1, **options: Any
    ) -> list[dict[str, Any]]:
        """Click the button ``label`` on ``message`` (a bot message or a reply)."""
        custom_id = buttons(message)[label]
        channel = options.get("channel_id", CHANNEL)
        token, payload = self.fake.interaction(
            {"custom_id": custom_id, "component_type": 2},
            component=True,
            message={**message, "channel_id": channel},
            **options,
        )
        await self.fake.dispatch("INTERACTION_CREATE", payload)
        return await self._followups(token, count)

    async def _followups(self, token: str, count: int) -> list[dict[str, Any]]:
        """The messages the member saw (their ``flags`` say if they were ephemeral)."""

        def done() -> list[dict[str, Any]]:
            found = self.fake.responses.shown(token)
            return found if len(found) >= count else []

        await eventually(lambda: self.fake.interactions.get(token))
        callback = self.fake.interactions[token][0]["callback"]
        assert callback["type"] in (5, 6), callback  # deferred: acknowledged at once
        shown: list[dict[str, Any]] = await eventually(done)
        return shown


def _type(value: Any) -> int:
    if isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return 4
    return 3


def embed_text(message: dict[str, Any]) -> str:
    parts = [message.get("content") or ""]
    for embed in message.get("embeds", []):
        parts += [embed.get("title") or "", embed.get("description") or ""]
        parts += [f"{f['name']}: {f['value']}" for f in embed.get("fields", [])]
        parts.append((embed.get("footer") or {}).get("text", ""))
    return re.sub(r"\\(.)", r"\1", "\n".join(parts))  # as Discord renders markdown escapes


def ephemeral(message: dict[str, Any]) -> bool:
    return bool(message.get("flags", 0) & 64)


def posts(fake: FakeDiscord, channel: str) -> list[dict[str, Any]]:
    """The bot's own messages in a channel, without its replies to interactions."""
    return [
        m
        for m in fake.messages.get(channel, [])
        if m["author"]["id"] == BOT_ID and "webhook_id" not in m
    ]


def buttons(message: dict[str, Any]) -> dict[str, str]:
    return {
        c["label"].split(" · ")[0]: c["custom_id"]  # "Good · 3d" is the Good button
        for row in message.get("components", [])
        for c in row.get("components", [])
    }


@contextlib.asynccontextmanager
async def discord_app(
    tmp_path: Path, fake: FakeDiscord, clock: FakeClock, *, wait: bool = True, **env: Any
) -> AsyncIterator[application.App]:
    settings = load_settings(
        db_url=f"sqlite+aiosqlite:///{tmp_path / 'discord.db'}",
        content_dir=TEST_CONTENT,
        discord_token="fake-discord-token",
        discord_dev_guild=int(GUILD),
        http_enabled=False,
        default_tz="Europe/Berlin",
        tick_seconds=3600,
        discord_api_url=fake.rest_url,
        **env,
    )
    async with application.build(settings, console=False, clock=clock) as built:
        point_at_fake(built, fake)
        task = built.runner = asyncio.create_task(application.run(built))
        try:
            if wait:
                await eventually(lambda: built.adapters[0].connected(), 10)
            yield built
        finally:
            built.stop.set()
            await task


def point_at_fake(built: application.App, fake: FakeDiscord) -> DiscordAdapter:
    """The app's Discord adapter, rebuilt as ``build`` makes it but with short timeouts
    (discord.py waits 2 s for more servers after READY; the tests need not)."""
    adapter = DiscordAdapter(
        built.study,
        token="fake-discord-token",
        dev_guild=int(GUILD),
        admins=frozenset(built.settings.admins),
        metrics=built.metrics,
        api_url=built.settings.discord_api_url,
        timeouts=FAST,
    )
    built.adapters[:] = [a for a in built.adapters if a.name != "discord"] + [adapter]
    built.study.deps.chats.add(adapter.chat)
    return adapter


@pytest.fixture
async def fake_discord(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[FakeDiscord]:
    """A started fake Discord whose time is the test's clock plus the real seconds."""
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "DISCORD_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    fake = FakeDiscord(clock=PlatformClock(base=clock.now))
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
async def world(
    tmp_path: Path, fake_discord: FakeDiscord, clock: FakeClock
) -> AsyncIterator[DiscordWorld]:
    async with discord_app(tmp_path, fake_discord, clock) as built:
        yield DiscordWorld(fake_discord, built, clock)
