"""The console's outbound side: the ``Chat`` port, printing to the transcript."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.adapters.console.render import CHANNEL, Printer
from bot.core import emoji
from bot.core.models import Target
from bot.core.replies import Message
from bot.ports.chat import Posted

BOT_NAME = "studybot"


@dataclass
class ConsoleChat:
    printer: Printer
    platform: str = "console"
    broadcasts: bool = True
    """One stream: a thread reply is in front of everyone anyway."""
    run: str = field(default_factory=lambda: secrets.token_hex(2))
    _count: int = 0
    _by_key: dict[str, Posted] = field(default_factory=dict)
    _short: dict[str, str] = field(default_factory=dict)
    latest_reveal: tuple[str, str] | None = None
    """(message ref, thread ref) of the last reveal shown."""
    latest_bot_message: tuple[str, str | None] | None = None
    latest_thread: str | None = None
    before_bot: Callable[[], None] = lambda: None
    """Runs before each message the bot prints (the demo clock's status line)."""

    def new_ref(self) -> str:
        self._count += 1
        ref = f"{self.run}.{self._count}"
        self._short[ref] = f"m{self._count}"
        return ref

    def thread_link(self, target: Target) -> str:
        return f"thread {self.short(target.thread)}" if target.thread else ""

    def short(self, ref: str | None) -> str:
        return self._short.get(ref or "", ref or "?")

    def where(self, thread: str | None) -> str:
        return f"{CHANNEL} › {self.short(thread)}" if thread else CHANNEL

    async def post(
        self,
        target: Target,
        message: Message,
        *,
        key: str | None = None,
        thread: bool = False,
        broadcast: bool = False,
    ) -> Posted:
        self.before_bot()
        ref = self.new_ref()
        self.printer.header(self.where(target.thread), self.short(ref), BOT_NAME)
        self.printer.message(message)
        thread_ref = target.thread or ref
        if thread:
            self.printer.write(f"  └ thread {self.short(ref)}: type a line to answer in it")
            self.latest_thread = ref
        posted = Posted(ref, thread_ref)
        if key is not None:
            self._by_key[key] = posted
        if message.kind == "reveal":
            self.latest_reveal = (ref, thread_ref)
        self.latest_bot_message = (ref, target.thread)
        return posted

    async def find_post(
        self, target: Target, key: str, message: Message | None = None
    ) -> Posted | None:
        return self._by_key.get(key)

    async def react(self, target: Target, message_ref: str, name: str) -> None:
        self.printer.write(f"  {BOT_NAME} reacted {emoji.show(name)} to {self.short(message_ref)}")

    async def send_dm(
        self, workspace: str, user_ref: str, message: Message, *, key: str | None = None
    ) -> Posted:
        self.before_bot()
        ref = self.new_ref()
        self.printer.header(f"@{user_ref} (DM)", self.short(ref), BOT_NAME)
        self.printer.message(message)
        posted = Posted(ref, ref)
        if key is not None:
            self._by_key[key] = posted
        return posted

    async def find_dm(
        self, workspace: str, user_ref: str, key: str, message: Message | None = None
    ) -> Posted | None:
        return self._by_key.get(key)

    async def edit_dm(
        self, workspace: str, user_ref: str, message_ref: str, message: Message
    ) -> None:
        return None  # the transcript is append-only; the new state shows when pressed

    async def check_post(self, target: Target) -> str | None:
        return None  # the console's one channel is always there
