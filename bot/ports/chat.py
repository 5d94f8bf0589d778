"""The chat port: what services need from a platform to post on their own.

Replies to a member's own interaction do not go through here: services return them
(``Reply``) and the adapter that received the interaction draws them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.core.models import Target
from bot.core.replies import Message


@dataclass(frozen=True, slots=True)
class Posted:
    """Where a message landed: its id, and the thread replies go to."""

    message_ref: str
    thread_ref: str


class Chat(Protocol):
    """One platform's outbound side. Permanent failures raise ``TargetUnavailable``."""

    platform: str
    broadcasts: bool
    """Whether ``post(broadcast=True)`` shows a thread reply in the channel in the same
    send (Slack's ``reply_broadcast``); where it cannot, services post a pointer."""

    async def post(
        self,
        target: Target,
        message: Message,
        *,
        key: str | None = None,
        thread: bool = False,
        broadcast: bool = False,
    ) -> Posted:
        """Post to a channel (or into ``target.thread``); ``thread`` opens one on it;
        ``broadcast`` also shows a thread reply in the channel where ``broadcasts``.

        ``key`` identifies the post for exactly-once delivery: the adapter attaches it as
        data, never as visible text (Slack metadata, a Discord nonce) so ``find_post``
        can find it again.
        """
        ...

    async def find_post(self, target: Target, key: str, message: Message) -> Posted | None:
        """A message posted earlier with ``key``, if the platform has it.

        ``message`` is the message that was sent with ``key`` (or one built the same way):
        a platform that cannot read the key back (Discord keeps it only as a short-lived
        nonce) recognises the bot's message by its look. Others may ignore it."""
        ...

    async def react(self, target: Target, message_ref: str, emoji: str) -> None: ...

    def thread_link(self, target: Target) -> str:
        """Text that links to ``target.thread`` in a message (empty where none exists)."""
        ...

    async def send_dm(
        self, workspace: str, user_ref: str, message: Message, *, key: str | None = None
    ) -> Posted:
        """DM a member; ``key`` lets ``find_dm`` find the message again."""
        ...

    async def find_dm(
        self, workspace: str, user_ref: str, key: str, message: Message
    ) -> Posted | None:
        """A DM sent earlier with ``key``, if the platform has it (``message``: as for
        ``find_post``)."""
        ...

    async def edit_dm(
        self, workspace: str, user_ref: str, message_ref: str, message: Message
    ) -> None:
        """Replace a DM the bot sent (its buttons go with it unless ``message`` has some)."""
        ...

    async def check_post(self, target: Target) -> str | None:
        """Whether the bot can run a daily post here: ``None``, or the reason it cannot
        (``not_in_channel``, ``forum_channel``, ``missing_permissions: ...``). May fix what
        it can first (join a public Slack channel). Raises ``ChatError`` if it cannot tell."""
        ...


class Chats:
    """The chat of every running platform, by platform name."""

    def __init__(self) -> None:
        self._by_platform: dict[str, Chat] = {}

    def add(self, chat: Chat) -> None:
        self._by_platform[chat.platform] = chat

    def get(self, platform: str) -> Chat | None:
        return self._by_platform.get(platform)

    def __contains__(self, platform: str) -> bool:
        return platform in self._by_platform
