"""Discord's outbound side: the ``Chat`` port over discord.py's HTTP client.

Daily posts carry a nonce derived from their key with ``enforce_nonce`` (Discord then
returns the first message instead of creating a second one for the same nonce), and the
key itself in the embed footer, where a restart looks for it in the channel's history.
discord.py keeps its own per-route rate-limit buckets and waits out 429s. Permanent
errors (DMs closed, missing access or permissions, unknown channel) become
``TargetUnavailable`` and are never retried.
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal

import discord
from discord.http import handle_message_parameters

from bot.adapters.discord import render
from bot.adapters.discord.buttons import view_for
from bot.core.errors import ChatError, PlatformAuthError, TargetUnavailable
from bot.core.models import Target
from bot.core.replies import Message
from bot.ports.chat import Posted

GONE = {
    10003: "unknown_channel",
    10008: "unknown_message",
    50001: "missing_access",
    50007: "dms_closed",
    50013: "missing_permissions",
    50083: "thread_archived",
}
THREAD_ARCHIVE_MINUTES: Literal[1440] = 1440  # 24 h


def nonce_for(key: str) -> str:
    """Discord nonces are at most 25 characters: a digest of the post key."""
    return hashlib.blake2b(key.encode(), digest_size=12).hexdigest()[:25]


class DiscordChat:
    platform = "discord"

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    async def _call(self, coro: Any) -> Any:
        try:
            return await coro
        except discord.Forbidden as exc:
            raise TargetUnavailable(GONE.get(exc.code, "forbidden")) from None
        except discord.NotFound as exc:
            raise TargetUnavailable(GONE.get(exc.code, "not_found")) from None
        except discord.HTTPException as exc:
            if exc.status == 401:
                raise PlatformAuthError("discord_unauthorized") from None
            raise ChatError(f"discord {exc.status}: {exc.text}") from None
        except (OSError, TimeoutError) as exc:
            raise ChatError(f"discord: {exc}") from None

    async def _send(self, channel_id: str, message: Message, key: str | None) -> dict[str, Any]:
        params = handle_message_parameters(
            embed=render.embed(message),
            view=view_for(message) or discord.utils.MISSING,
            nonce=nonce_for(key) if key else None,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        if key:
            params.payload["enforce_nonce"] = True  # type: ignore[index]
        data: dict[str, Any] = await self._call(
            self.client.http.send_message(int(channel_id), params=params)
        )
        return data

    async def post(
        self, target: Target, message: Message, *, key: str | None = None, thread: bool = False
    ) -> Posted:
        data = await self._send(target.thread or target.channel, message, key)
        message_id = str(data["id"])
        if not thread:
            return Posted(message_id, target.thread or message_id)
        name = (message.title or "Study thread").lstrip("📚 ")[:100]
        created = await self._call(
            self.client.http.start_thread_with_message(
                int(target.channel),
                int(message_id),
                name=name,
                auto_archive_duration=THREAD_ARCHIVE_MINUTES,
                rate_limit_per_user=None,
            )
        )
        return Posted(message_id, str(created["id"]))

    async def find_post(self, target: Target, key: str) -> Posted | None:
        history = await self._call(self.client.http.logs_from(int(target.channel), 100))
        for item in history:
            footers = [(e.get("footer") or {}).get("text") for e in item.get("embeds", [])]
            if key in footers:
                thread = (item.get("thread") or {}).get("id") or item["id"]
                return Posted(str(item["id"]), str(thread))
        return None

    async def react(self, target: Target, message_ref: str, emoji: str) -> None:
        channel = target.thread or target.channel
        await self._call(
            self.client.http.add_reaction(int(channel), int(message_ref), render.unicode_for(emoji))
        )

    async def send_dm(
        self, workspace: str, user_ref: str, message: Message, *, key: str | None = None
    ) -> Posted:
        dm = await self._call(self.client.http.start_private_message(int(user_ref)))
        data = await self._send(str(dm["id"]), message, key)
        return Posted(str(data["id"]), str(data["id"]))

    async def find_dm(self, workspace: str, user_ref: str, key: str) -> Posted | None:
        dm = await self._call(self.client.http.start_private_message(int(user_ref)))
        return await self.find_post(Target(self.platform, workspace, str(dm["id"])), key)
