"""Slack's outbound side: the ``Chat`` port over the Web API.

One shared ``aiohttp`` session and ``AsyncWebClient`` (with slack_sdk's retry handlers
for 429 + Retry-After and connection errors), a bound on concurrent calls, and local
pacing of about one message per second per channel, so a fan-out never leans on 429s.
Permanent errors become ``TargetUnavailable`` (the channel is paused with the reason)
or ``PlatformAuthError`` (Slack work stops for the workspace); neither is retried.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack import render
from bot.core.errors import ChatError, PlatformAuthError, TargetUnavailable
from bot.core.models import Target
from bot.core.replies import Message
from bot.ports.chat import Posted

GONE = frozenset(
    {"not_in_channel", "channel_not_found", "is_archived", "cannot_dm_bot", "user_not_found"}
)
AUTH = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "tokens_revoked",
        "account_inactive",
        "app_uninstalled",
        "team_access_not_granted",
    }
)
METADATA_TYPE = "studybot_post"
DEFAULT_CONCURRENCY = 50
"""Calls in flight at once. On a 2-core host, 100 made the client CPU-bound during a
10,000-channel fan-out (and delayed acks); 50 keeps it near the ideal (README, Benchmarks)."""
JSON_METHODS = frozenset({"chat.postMessage", "chat.postEphemeral", "chat.update", "reactions.add"})


class Pacer:
    """At most one message per ``interval`` seconds per channel, waiting locally."""

    def __init__(self, interval: float = 1.0) -> None:
        self.interval = interval
        self._next: dict[str, float] = defaultdict(float)

    async def wait(self, channel: str) -> None:
        # Reserve the next slot without awaiting first: the event loop runs this atomically.
        now = time.monotonic()
        slot = max(now, self._next[channel])
        self._next[channel] = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)


class SlackChat:
    platform = "slack"

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        per_channel_interval: float = 1.0,
    ) -> None:
        self.client = client
        self._limit = asyncio.Semaphore(concurrency)
        self._pacer = Pacer(per_channel_interval)
        self.auth_failed: str | None = None

    async def call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        """One Web API call with the error mapping; ``TargetUnavailable`` is permanent."""
        if self.auth_failed is not None:
            raise PlatformAuthError(f"Slack rejected the token earlier ({self.auth_failed})")
        async with self._limit:
            try:
                if method in JSON_METHODS:
                    # Write methods take a JSON body as is: no per-call argument rewriting.
                    response = await self.client.api_call(method, json=kwargs)
                else:
                    # The typed client methods encode each call as Slack expects it.
                    response = await getattr(self.client, method.replace(".", "_"))(**kwargs)
            except SlackApiError as exc:
                data = exc.response.data if isinstance(exc.response.data, dict) else {}
                error = str(data.get("error") or f"http_{exc.response.status_code}")
                if error in GONE:
                    raise TargetUnavailable(error) from None
                if error in AUTH:
                    self.auth_failed = error
                    raise PlatformAuthError(error) from None
                raise ChatError(f"{method}: {error}") from None
            except (TimeoutError, OSError) as exc:
                raise ChatError(f"{method}: {exc}") from None
        return dict(response.data) if isinstance(response.data, dict) else {}

    async def post(
        self, target: Target, message: Message, *, key: str | None = None, thread: bool = False
    ) -> Posted:
        await self._pacer.wait(target.channel)
        payload: dict[str, Any] = {
            "channel": target.channel,
            "text": render.fallback(message),
            "blocks": render.blocks(message),
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if target.thread:
            payload["thread_ts"] = target.thread
        if key is not None:
            payload["metadata"] = {"event_type": METADATA_TYPE, "event_payload": {"key": key}}
        data = await self.call("chat.postMessage", **payload)
        ts = str(data.get("ts", ""))
        return Posted(ts, target.thread or ts)

    async def find_post(self, target: Target, key: str) -> Posted | None:
        """A message of ours carrying ``key`` in its metadata (the last 200 messages)."""
        data = await self.call(
            "conversations.history", channel=target.channel, limit=200, include_all_metadata=True
        )
        for message in data.get("messages", []):
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if metadata.get("event_type") == METADATA_TYPE and payload.get("key") == key:
                ts = str(message["ts"])
                return Posted(ts, target.thread or ts)
        return None

    async def react(self, target: Target, message_ref: str, emoji: str) -> None:
        try:
            await self.call(
                "reactions.add", channel=target.channel, timestamp=message_ref, name=emoji
            )
        except ChatError as exc:
            if "already_reacted" not in str(exc):
                raise

    async def _dm_channel(self, user_ref: str) -> str:
        opened = await self.call("conversations.open", users=user_ref)
        channel = str((opened.get("channel") or {}).get("id", ""))
        if not channel:
            raise TargetUnavailable("dm_not_opened")
        return channel

    async def send_dm(
        self, workspace: str, user_ref: str, message: Message, *, key: str | None = None
    ) -> Posted:
        channel = await self._dm_channel(user_ref)
        return await self.post(Target(self.platform, workspace, channel), message, key=key)

    async def find_dm(self, workspace: str, user_ref: str, key: str) -> Posted | None:
        channel = await self._dm_channel(user_ref)
        return await self.find_post(Target(self.platform, workspace, channel), key)

    async def ephemeral(self, channel: str, user: str, message: Message) -> None:
        await self.call(
            "chat.postEphemeral",
            channel=channel,
            user=user,
            text=render.fallback(message),
            blocks=render.blocks(message),
        )
