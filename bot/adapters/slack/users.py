"""Members as Slack knows them (``users.info``, Tier 4), cached for hours.

Names, time zones and admin flags change rarely, and every answer, grade and button
needs them: one call per member every few hours, not one per interaction. A member Slack
does not know (``user_not_found``) is remembered as unknown for an hour, so a stream of
events from such an id does not mean a stream of calls. Other failures are not cached:
the next interaction asks again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.adapters.slack.chat import SlackChat
from bot.adapters.slack.payloads import UserInfo
from bot.core.errors import ChatError, TargetUnavailable
from bot.core.models import Actor

TTL = 6 * 3600.0
UNKNOWN_TTL = 3600.0


@dataclass(frozen=True)
class SlackUser:
    name: str
    tz: str | None
    is_admin: bool


class Users:
    def __init__(
        self,
        chat: SlackChat,
        admins: frozenset[str],
        *,
        ttl: float = TTL,
        unknown_ttl: float = UNKNOWN_TTL,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._chat = chat
        self._admins = admins
        self._ttl = ttl
        self._unknown_ttl = unknown_ttl
        self._now = now
        self._cache: dict[str, tuple[float, SlackUser | None]] = {}
        """user id -> (expiry, the user; None for one Slack says does not exist)."""

    async def get(self, user_id: str, fallback_name: str | None = None) -> SlackUser:
        fallback = SlackUser(fallback_name or user_id, None, False)
        cached = self._cache.get(user_id)
        if cached is not None and self._now() < cached[0]:
            return cached[1] or fallback
        try:
            data = await self._chat.call("users.info", user=user_id)
        except TargetUnavailable:
            self._cache[user_id] = (self._now() + self._unknown_ttl, None)
            return fallback
        except ChatError:
            return fallback
        user = _parse(data.get("user") or UserInfo(), fallback.name)
        self._cache[user_id] = (self._now() + self._ttl, user)
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


def _parse(info: UserInfo, fallback_name: str) -> SlackUser:
    profile = info.get("profile") or {}
    name = (
        profile.get("display_name")
        or profile.get("real_name")
        or info.get("real_name")
        or info.get("name")
        or fallback_name
    )
    return SlackUser(
        name=name,
        tz=info.get("tz") or None,
        is_admin=bool(info.get("is_admin") or info.get("is_owner")),
    )
