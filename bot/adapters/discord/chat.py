"""Discord's outbound side: the ``Chat`` port over discord.py's HTTP client.

- Every message carries a nonce with ``enforce_nonce`` (discord.py sets it with the
  nonce): derived from the send key when there is one, else fresh for each send. A
  retry of the same request (discord.py's own, after a 5xx) sends the same nonce, and
  Discord returns the first message instead of making a second.
- No internal key is ever drawn: not in the content, title, description, fields or
  footer. The key travels as data only: as the nonce (above) and, once the send's
  answer arrives, as the message id its caller stores. When a crash lost that answer
  and the nonce window (a few minutes) has passed, ``find_post(target, key, message)``
  is handed the message its caller would send and recognises it by what it looks like:
  a message of the bot's own (its author id, not an interaction reply) whose embed title
  is the rendered title (the description when there is no title) and whose buttons carry
  the same custom ids (invisible data history returns). Titles are unique where we look
  (a daily post names its day, a leaderboard its week; a notice has no title, so its
  text, with its moments, is compared); a reveal (one per thread) and a follow-up DM
  (titles shared by many) are told apart by their buttons, whose ids name the post or
  follow-up. It looks where the message lives: in the thread's own messages for a
  reveal (a channel's history holds no thread messages), in the channel for a daily
  post, a leaderboard or a notice, in the DM for a DM.
- A daily post is sent, then its thread is started: two calls. When the send landed but
  its answer was lost, no thread was started; ``find_post`` then finds a daily post
  without one (history shows a started thread as the message's ``thread``) and starts
  it, so the reveal has a thread to go to. Discord answers 160004 when the message has
  a thread already (a start that landed unheard): then that thread is the one.
- Nothing is sent before discord.py has logged in (``Gate``): a call made earlier
  waits a bounded time, then fails with ``ChatError`` so its caller can release it.
- Permanent errors (DMs closed, missing access or permissions, unknown channel, not a
  text channel) become ``TargetUnavailable`` and are never retried. A failed call is
  always an error, never "not found".
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

import aiohttp
import discord
from discord.http import handle_message_parameters

from bot.adapters.discord import render
from bot.adapters.discord.buttons import view_for
from bot.core.errors import ChatError, PlatformAuthError, TargetUnavailable
from bot.core.models import Target
from bot.core.replies import Message, plain
from bot.ports.chat import Posted

if TYPE_CHECKING:  # discord.types imports itself in a circle at run time
    from discord.types.message import Message as MessagePayload

T = TypeVar("T")
GONE = {
    10003: "unknown_channel",
    10008: "unknown_message",
    40058: "forum_channel",
    50001: "missing_access",
    50007: "dms_closed",
    50008: "not_a_text_channel",
    50013: "missing_permissions",
}
"""Discord error codes that will not change by trying again (opcodes-and-status-codes)."""
THREAD_ARCHIVE_MINUTES: Literal[10080] = 10080
"""The longest auto-archive duration (a week): quiet weekends do not close a thread."""
HISTORY_PAGES = 10
"""How far back ``find_post`` reads: 10 pages of 100 messages."""
THREAD_EXISTS = 160004
""""A thread has already been created for this message" (opcodes-and-status-codes)."""
THREADED = frozenset({"daily_post"})
"""The kinds of message posted with a thread of their own (``post(..., thread=True)``:
the daily post). ``find_post`` has no ``thread`` flag, so it tells them by their kind."""


def thread_name(message: Message) -> str:
    """A thread's name: its message's title without the book (1-100 characters)."""
    return (plain(message.title or "").lstrip("📚 ") or "Study thread")[:100]


def nonce_for(key: str) -> str:
    """Discord nonces are at most 25 characters: a digest of the post key."""
    return hashlib.blake2b(key.encode(), digest_size=12).hexdigest()


def fresh_nonce() -> str:
    """A nonce for a send without a key: one per send, kept by its retries."""
    return secrets.token_hex(12)


def custom_ids(components: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    """The custom ids of a message's buttons, in order (action rows hold the buttons)."""
    found: list[str] = []
    for component in components:
        if "custom_id" in component:
            found.append(str(component["custom_id"]))
        found += custom_ids(component.get("components", ()))
    return tuple(found)


@dataclass(frozen=True, slots=True)
class Look:
    """What a message the bot sends looks like, for ``find_post`` to know it again."""

    title: str
    description: str
    buttons: tuple[str, ...]

    @classmethod
    def of(cls, message: Message) -> Look:
        drawn = render.embed(message)
        view = view_for(message)
        buttons = custom_ids(view.to_components()) if view else ()
        return cls(*_heading(drawn.title, drawn.description), buttons)

    def matches(self, item: MessagePayload, own_id: str) -> bool:
        if item["author"]["id"] != own_id or item.get("type", 0) != 0:
            return False
        if "webhook_id" in item or "interaction_metadata" in item or "interaction" in item:
            return False  # a reply to a member's command, not a message we posted
        embeds = item.get("embeds") or [{}]
        heading = _heading(embeds[0].get("title"), embeds[0].get("description"))
        buttons = custom_ids(cast("list[Mapping[str, Any]]", item.get("components", [])))
        return heading == (self.title, self.description) and buttons == self.buttons


def _heading(title: str | None, description: str | None) -> tuple[str, str]:
    """The title; the description only when there is no title (Discord trims both)."""
    if title and title.strip():
        return title.strip(), ""
    return "", (description or "").strip()


class Gate:
    """Open once discord.py has logged in; closed before that and after it stops."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.started = False
        self._open = asyncio.Event()

    def open(self) -> None:
        self._open.set()

    def close(self) -> None:
        self._open.clear()

    async def wait(self) -> None:
        if self._open.is_set():
            return
        if not self.started:  # nothing will open it: say so at once
            raise ChatError("discord: not connected yet")
        try:
            await asyncio.wait_for(self._open.wait(), self.timeout)
        except TimeoutError:
            raise ChatError("discord: not connected yet") from None


TEXT_TYPES = (discord.ChannelType.text.value, discord.ChannelType.news.value)
NEEDED = {
    "view_channel": "View Channel",
    "send_messages": "Send Messages",
    "send_messages_in_threads": "Send Messages in Threads",
    "create_public_threads": "Create Public Threads",
    "embed_links": "Embed Links",
    "add_reactions": "Add Reactions",
    "read_message_history": "Read Message History",
}
"""What a daily post needs (the README's invite link asks for exactly these)."""


class DiscordChat:
    platform = "discord"
    broadcasts = False
    """Discord cannot show a thread message in its channel too: services post a pointer
    (``thread_link``) instead."""

    def __init__(self, client: discord.Client, gate: Gate | None = None) -> None:
        self.client = client
        self.gate = gate or Gate(timeout=30.0)
        self._dms: dict[str, str] = {}

    async def _call(self, call: Callable[[], Awaitable[T]]) -> T:
        """Run one discord.py call once the gate is open, with its errors translated."""
        try:
            await self.gate.wait()
            return await call()
        except discord.HTTPException as exc:
            if exc.code in GONE:
                raise TargetUnavailable(GONE[exc.code]) from None
            if exc.status == 401:
                raise PlatformAuthError("discord_unauthorized") from None
            raise ChatError(f"discord {exc.status} ({exc.code}): {exc.text}") from None
        except (OSError, TimeoutError, aiohttp.ClientError) as exc:
            raise ChatError(f"discord: {exc!r}") from None

    async def _send(self, channel_id: str, message: Message, key: str | None) -> MessagePayload:
        params = handle_message_parameters(
            embed=render.embed(message),
            view=view_for(message) or discord.utils.MISSING,
            nonce=nonce_for(key) if key else fresh_nonce(),
            allowed_mentions=discord.AllowedMentions.none(),
        )
        return await self._call(
            lambda: self.client.http.send_message(int(channel_id), params=params)
        )

    async def post(
        self,
        target: Target,
        message: Message,
        *,
        key: str | None = None,
        thread: bool = False,
        broadcast: bool = False,  # not on Discord (``broadcasts``): the pointer is separate
    ) -> Posted:
        data = await self._send(target.thread or target.channel, message, key)
        message_id = str(data["id"])
        if not thread:
            return Posted(message_id, target.thread or message_id)
        return Posted(message_id, await self._open_thread(target.channel, message_id, message))

    async def _open_thread(self, channel_id: str, message_id: str, message: Message) -> str:
        """The id of the thread on a message of ours, started now (named after the
        message's title) or, when Discord answers that the message has one already
        (160004: a retry of a start whose answer was lost), the one it has."""

        async def start() -> str:
            try:
                created = await self.client.http.start_thread_with_message(
                    int(channel_id),
                    int(message_id),
                    name=thread_name(message),
                    auto_archive_duration=THREAD_ARCHIVE_MINUTES,
                    rate_limit_per_user=None,
                )
            except discord.HTTPException as exc:
                if exc.code != THREAD_EXISTS:
                    raise
                # A thread started on a message shares its id (resources/channel).
                return str((await self.client.http.get_channel(int(message_id)))["id"])
            return str(created["id"])

        return await self._call(start)

    async def say(self, channel_id: str, text: str) -> None:
        """A plain line of the bot's own (no key: nothing looks for it again)."""
        params = handle_message_parameters(
            content=text, nonce=fresh_nonce(), allowed_mentions=discord.AllowedMentions.none()
        )
        await self._call(lambda: self.client.http.send_message(int(channel_id), params=params))

    async def find_post(self, target: Target, key: str, message: Message) -> Posted | None:
        """The message sent with ``key`` where it lives (the thread when there is one),
        known by its look: ``message`` is what the caller sent (or would send) with it.

        No message carries ``key`` where history shows it: only as the send's nonce,
        which Discord forgets after minutes (and history need not return), so the look
        is what tells, within the nonce window and after it."""
        item = await self._find(target.thread or target.channel, message)
        if item is None:
            return None
        if target.thread is None and message.kind in THREADED and "thread" not in item:
            # Sent, but its answer was lost before ``post`` opened the thread: open it
            # now, so replies and the reveal have the thread the post should have.
            thread_id = await self._open_thread(target.channel, str(item["id"]), message)
            return Posted(str(item["id"]), thread_id)
        return self._posted(item, target)

    async def _find(self, where: str, message: Message) -> MessagePayload | None:
        """The newest message of ours in ``where`` that looks like ``message``."""
        look = Look.of(message)
        before: int | None = None
        for _ in range(HISTORY_PAGES):
            page = await self._page(int(where), before)
            own_id = self._own_id()
            for item in page:
                if look.matches(item, own_id):
                    return item
            if len(page) < 100:
                return None
            before = int(page[-1]["id"])
        return None

    def _own_id(self) -> str:
        if self.client.user is None:  # logged out between the page and now
            raise ChatError("discord: not connected")
        return str(self.client.user.id)

    async def _page(self, channel_id: int, before: int | None) -> list[MessagePayload]:
        """100 messages, newest first, older than ``before`` (or the newest)."""
        return await self._call(lambda: self.client.http.logs_from(channel_id, 100, before=before))

    @staticmethod
    def _posted(item: MessagePayload, target: Target) -> Posted:
        if target.thread is not None:
            return Posted(str(item["id"]), target.thread)
        started = item["thread"]["id"] if "thread" in item else item["id"]
        return Posted(str(item["id"]), str(started))

    def thread_link(self, target: Target) -> str:
        """A channel mention of the thread: drawn as a link to it (it pings nobody)."""
        return f"<#{target.thread}>" if target.thread else ""

    async def react(self, target: Target, message_ref: str, emoji: str) -> None:
        channel = target.thread or target.channel
        await self._call(
            lambda: self.client.http.add_reaction(
                int(channel), int(message_ref), render.unicode_for(emoji)
            )
        )

    async def unarchive(self, thread_id: str) -> None:
        """Reopen a thread the bot started (its creator may: topics/threads)."""
        await self._call(lambda: self.client.http.edit_channel(int(thread_id), archived=False))

    async def _dm_channel(self, user_ref: str) -> str:
        if user_ref not in self._dms:
            dm = await self._call(lambda: self.client.http.start_private_message(int(user_ref)))
            self._dms[user_ref] = str(dm["id"])
        return self._dms[user_ref]

    async def send_dm(
        self, workspace: str, user_ref: str, message: Message, *, key: str | None = None
    ) -> Posted:
        data = await self._send(await self._dm_channel(user_ref), message, key)
        return Posted(str(data["id"]), str(data["id"]))

    async def edit_dm(
        self, workspace: str, user_ref: str, message_ref: str, message: Message
    ) -> None:
        channel = await self._dm_channel(user_ref)
        params = handle_message_parameters(
            embed=render.embed(message),
            view=view_for(message),  # None: the old buttons are removed
            allowed_mentions=discord.AllowedMentions.none(),
        )
        await self._call(
            lambda: self.client.http.edit_message(int(channel), int(message_ref), params=params)
        )

    async def check_post(self, target: Target) -> str | None:
        """A text channel the bot can see and post, thread and react in; else the reason."""
        try:
            data = await self._call(lambda: self.client.http.get_channel(int(target.channel)))
        except TargetUnavailable as exc:
            return exc.reason
        if data.get("type") == discord.ChannelType.forum.value:
            return "forum_channel"
        if data.get("type") not in TEXT_TYPES:
            return "not_a_text_channel"
        channel = self.client.get_channel(int(target.channel))
        if isinstance(channel, discord.TextChannel) and channel.guild.me is not None:
            granted = channel.permissions_for(channel.guild.me)
            missing = [label for name, label in NEEDED.items() if not getattr(granted, name)]
            if missing:
                return "missing_permissions: " + ", ".join(missing)
        return None

    async def find_dm(
        self, workspace: str, user_ref: str, key: str, message: Message
    ) -> Posted | None:
        found = await self._find(await self._dm_channel(user_ref), message)
        return Posted(str(found["id"]), str(found["id"])) if found else None
