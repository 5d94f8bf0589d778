"""Members as Slack knows them (``users.info``), cached with a TTL."""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.adapters.slack.chat import SlackChat
from bot.adapters.slack.payloads import UserInfo
from bot.core.errors import ChatError
from bot.core.models import Actor


@dataclass(frozen=True)
class SlackUser:
    name: str
    tz: str | None
    is_admin: bool


class Users:
    def __init__(self, chat: SlackChat, admins: frozenset[str], ttl: float = 600.0) -> None:
        self._chat = chat
        self._admins = admins
        self._ttl = ttl
        self._cache: dict[str, tuple[float, SlackUser]] = {}

    async def get(self, user_id: str, fallback_name: str | None = None) -> SlackUser:
        cached = self._cache.get(user_id)
        if cached is not None and time.monotonic() - cached[0] < self._ttl:
            return cached[1]
        try:
            data = await self._chat.call("users.info", user=user_id)
        except ChatError:
            return SlackUser(fallback_name or user_id, None, False)
        info: UserInfo = data.get("user") or UserInfo()
        profile = info.get("profile") or {}
        name = (
            profile.get("display_name")
            or profile.get("real_name")
            or info.get("real_name")
            or info.get("name")
            or fallback_name
            or user_id
        )
        user = SlackUser(
            name=name,
            tz=info.get("tz") or None,
            is_admin=bool(info.get("is_admin") or info.get("is_owner")),
        )
        self._cache[user_id] = (time.monotonic(), user)
        return user

    async def actor(self, team: str, user_id: str, fallback_name: str | None = None) -> Actor:
        user = await self.get(user_id, fallback_name)
        return Actor(
            "slack",
            team,
            user_id,
            user.name,
            tz=user.tz,
            is_admin=user.is_admin or user_id in self._admins,
        )
