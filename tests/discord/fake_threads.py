"""Threads as Discord keeps them (topics/threads; resources/channel: thread metadata).

A thread archives after ``auto_archive_duration`` minutes without activity ("sending a
message, unarchiving a thread, or changing the auto-archive time"); a message unarchives
it unless it is locked; its creator may (un)archive it and change its duration. Every
change is a THREAD_UPDATE on the gateway.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tests.discord.fake_payloads import BOT_ID, PUBLIC_THREAD, Answer, fail, iso, thread
from tests.discord.fake_rules import ARCHIVE_DURATIONS


@dataclass
class Threads:
    channels: dict[str, dict[str, Any]]
    now: Callable[[], datetime]
    dispatch: Callable[[str, dict[str, Any]], Awaitable[None]]
    _activity: dict[str, datetime] = field(default_factory=dict)

    def all(self) -> list[dict[str, Any]]:
        return [c for c in self.channels.values() if c["type"] == PUBLIC_THREAD]

    def _meta(self, channel_id: str) -> dict[str, Any]:
        return dict(self.channels.get(channel_id, {}).get("thread_metadata", {}))

    def archived(self, channel_id: str) -> bool:
        return bool(self._meta(channel_id).get("archived"))

    def locked(self, channel_id: str) -> bool:
        return bool(self._meta(channel_id).get("locked"))

    async def tick(self) -> None:
        now = self.now()
        for found in self.all():
            meta = found["thread_metadata"]
            idle = now - self._activity.get(found["id"], now)
            if not meta["archived"] and idle >= timedelta(minutes=meta["auto_archive_duration"]):
                await self._set_archived(found, True)

    async def _set_archived(self, found: dict[str, Any], archived: bool) -> None:
        now = self.now()
        found["thread_metadata"].update(archived=archived, archive_timestamp=iso(now))
        if not archived:
            self._activity[found["id"]] = now  # unarchiving is activity
        await self.dispatch("THREAD_UPDATE", found)

    async def touch(self, channel_id: str) -> None:
        """A message in a thread: activity, and it unarchives the thread."""
        found = self.channels.get(channel_id)
        if found is None or found["type"] != PUBLIC_THREAD:
            return
        if found["thread_metadata"]["archived"]:
            await self._set_archived(found, False)
        self._activity[channel_id] = self.now()

    async def start(self, parent: str, starter: dict[str, Any], body: dict[str, Any]) -> Answer:
        """Start a thread on a message; the thread takes the message's id."""
        if starter["id"] in self.channels:
            return fail(160004)
        duration = body.get("auto_archive_duration", 4320)
        name = str(body.get("name") or "")
        if duration not in ARCHIVE_DURATIONS or not 1 <= len(name) <= 100:
            return fail(50035)
        made = thread(starter["id"], parent, name, duration, self.now())
        self.channels[made["id"]] = made
        self._activity[made["id"]] = self.now()
        starter["thread"] = made
        await self.dispatch("THREAD_CREATE", {**made, "newly_created": True})
        return 200, made

    async def edit(self, found: dict[str, Any], body: dict[str, Any]) -> Answer:
        """Modify channel on a thread, as its creator (resources/channel: modify channel)."""
        if found["type"] != PUBLIC_THREAD or found["owner_id"] != BOT_ID:
            return fail(50013)
        meta = found["thread_metadata"]
        if meta["archived"] and body.get("archived") is not False:
            return fail(50083)  # an archived thread must be unarchived in the same request
        duration = body.get("auto_archive_duration", meta["auto_archive_duration"])
        if duration not in ARCHIVE_DURATIONS:
            return fail(50035)
        if duration != meta["auto_archive_duration"]:
            meta["auto_archive_duration"] = duration
            self._activity[found["id"]] = self.now()
        if "archived" in body and body["archived"] != meta["archived"]:
            await self._set_archived(found, bool(body["archived"]))
        return 200, found
