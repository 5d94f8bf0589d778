"""Test doubles that satisfy the ports without inheritance: a clock and a chat."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.core.errors import ChatError, TargetUnavailable
from bot.core.models import Target
from bot.core.replies import Message
from bot.ports.chat import Posted


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2025, 3, 3, 8, 0, tzinfo=UTC)  # a Monday

    def now(self) -> datetime:
        return self.current

    def set(self, instant: datetime) -> None:
        self.current = instant.astimezone(UTC)

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current


@dataclass
class Sent:
    ref: str
    target: Target
    message: Message
    key: str | None
    kind: str


@dataclass
class FakeChat:
    """Records every outbound call; can be told to fail like a real platform."""

    platform: str = "fake"
    broadcasts: bool = True
    broadcast_sends: list[str] = field(default_factory=list)
    """Refs of the posts sent with ``broadcast`` (a thread reply shown in the channel)."""
    sent: list[Sent] = field(default_factory=list)
    dms: list[tuple[str, Message, str]] = field(default_factory=list)
    reactions: list[tuple[str, str]] = field(default_factory=list)
    gone_channels: set[str] = field(default_factory=set)
    closed_dms: set[str] = field(default_factory=set)
    transient_failures: int = 0
    lose_record_of: set[str] = field(default_factory=set)
    """Keys whose post succeeds on the platform but whose result never comes back."""
    dm_keys: dict[str, tuple[str, str]] = field(default_factory=dict)
    lookups_fail: bool = False
    edits: list[tuple[str, str, Message]] = field(default_factory=list)
    """DMs the bot replaced: (user, message ref, the new message)."""
    _count: int = 0

    def _ref(self) -> str:
        self._count += 1
        return f"msg{self._count}"

    async def post(
        self,
        target: Target,
        message: Message,
        *,
        key: str | None = None,
        thread: bool = False,
        broadcast: bool = False,
    ) -> Posted:
        if target.channel in self.gone_channels:
            raise TargetUnavailable("not_in_channel")
        if self.transient_failures:
            self.transient_failures -= 1
            raise ChatError("temporary failure")
        ref = self._ref()
        self.sent.append(Sent(ref, target, message, key, message.kind))
        if broadcast and self.broadcasts and target.thread:
            self.broadcast_sends.append(ref)
        if key is not None and key in self.lose_record_of:
            self.lose_record_of.discard(key)
            raise ChatError("connection lost after sending")
        return Posted(ref, target.thread or ref)

    async def find_post(
        self, target: Target, key: str, message: Message | None = None
    ) -> Posted | None:
        """Like the platforms: a channel's history holds top-level messages only; a
        thread's replies are found only by looking in that thread. ``lookups_fail``: the
        lookup itself errors (which is not "not found")."""
        if self.lookups_fail:
            raise ChatError("lookup failed")
        for sent in self.sent:
            if sent.key != key or sent.target.channel != target.channel:
                continue
            if sent.target.thread == target.thread:
                return Posted(sent.ref, sent.target.thread or sent.ref)
        return None

    def thread_link(self, target: Target) -> str:
        return f"<thread {target.thread}>" if target.thread else ""

    async def react(self, target: Target, message_ref: str, emoji: str) -> None:
        self.reactions.append((message_ref, emoji))

    async def send_dm(
        self, workspace: str, user_ref: str, message: Message, *, key: str | None = None
    ) -> Posted:
        if user_ref in self.closed_dms:
            raise TargetUnavailable("dms_closed")
        if self.transient_failures:
            self.transient_failures -= 1
            raise ChatError("temporary failure")
        ref = self._ref()
        self.dms.append((user_ref, message, ref))
        if key is not None:
            self.dm_keys[key] = (user_ref, ref)
            if key in self.lose_record_of:
                self.lose_record_of.discard(key)
                raise ChatError("connection lost after sending")
        return Posted(ref, ref)

    async def edit_dm(
        self, workspace: str, user_ref: str, message_ref: str, message: Message
    ) -> None:
        self.edits.append((user_ref, message_ref, message))

    async def check_post(self, target: Target) -> str | None:
        if self.lookups_fail:
            raise ChatError("lookup failed")
        return "not_in_channel" if target.channel in self.gone_channels else None

    async def find_dm(
        self, workspace: str, user_ref: str, key: str, message: Message | None = None
    ) -> Posted | None:
        if self.lookups_fail:
            raise ChatError("lookup failed")
        found = self.dm_keys.get(key)
        if found is None or found[0] != user_ref:
            return None
        return Posted(found[1], found[1])

    def posts(self, kind: str = "daily_post", channel: str | None = None) -> list[Sent]:
        return [
            s
            for s in self.sent
            if s.kind == kind and (channel is None or s.target.channel == channel)
        ]
