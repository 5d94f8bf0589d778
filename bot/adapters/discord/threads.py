"""Keeping study threads open while their post can still be graded.

Discord archives a thread after its ``auto_archive_duration`` without a message, and
members cannot react or use commands in an archived thread (topics/threads). The bot
starts its threads with the longest duration (a week), and when Discord reports one of
its threads archived (THREAD_UPDATE), it unarchives it if the post is still gradable.
Locked threads are left alone: a moderator closed them.

Whether a post is gradable is the services' call (``Gradable``: ``Threads.gradable``,
which applies ``Policy.grade_window``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import discord
import structlog

from bot.adapters.discord.chat import DiscordChat
from bot.core.errors import ChatError
from bot.core.models import Place

log = structlog.get_logger("studybot.discord")
Gradable = Callable[[Place], Awaitable[bool]]
"""Whether the daily post whose thread is at this place can still be graded."""


class ThreadKeeper:
    def __init__(self, chat: DiscordChat, gradable: Gradable) -> None:
        self.chat = chat
        self.gradable = gradable

    async def on_update(self, payload: discord.RawThreadUpdateEvent, me: int | None) -> bool:
        """Unarchive a thread of ours that Discord archived; True if it was."""
        data: dict[str, Any] = dict(payload.data)
        meta = data.get("thread_metadata") or {}
        if not meta.get("archived") or meta.get("locked"):
            return False
        if me is None or str(data.get("owner_id")) != str(me):
            return False
        place = Place(
            "discord", str(payload.guild_id), str(payload.parent_id), str(payload.thread_id)
        )
        if not await self.gradable(place):
            return False
        try:
            await self.chat.unarchive(str(payload.thread_id))
        except ChatError as exc:
            log.warning("discord_unarchive_failed", thread=payload.thread_id, error=str(exc))
            return False
        log.info("discord_thread_unarchived", thread=payload.thread_id)
        return True
