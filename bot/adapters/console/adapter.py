"""The console adapter: read lines, translate each into one service call, print the reply.

Conventions (DEVELOPERS and the e2e test rely on them):
``/quiz`` and ``/study ...`` are commands; a plain line answers in the thread of the latest
daily post; ``+:name:`` / ``-:name:`` add or remove a reaction on the latest reveal (or the
latest bot message); a number presses that button (a number no button has is refused:
``/study answer 7`` answers with a number); ``/as NAME`` switches the member speaking;
``/edit TEXT`` and ``/delete`` change or remove your last answer. Each line is handled to
completion before the next is read. With a fast clock (``--clock-speed``) a line such as
``[demo Tue 3 Mar 09:00 UTC]`` shows the bot's time before each bot message.

The member who speaks first in a session is its admin: the person at the keyboard, who
then plays the others with ``/as``. The rights stay with that name for the session (a
forget-me does not pass them to whoever speaks next); ``STUDYBOT_ADMINS`` adds others.
``/study export`` writes the JSON to a file (owner-only) and prints its path: in
``export_dir``, or else in a private temporary folder made for the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TextIO

import structlog

from bot.adapters.base import APOLOGY, record_interaction
from bot.adapters.console.chat import ConsoleChat
from bot.adapters.console.render import CHANNEL, Printer
from bot.core import emoji
from bot.core.commands import parse_line
from bot.core.errors import UserError
from bot.core.models import Actor, Place, Target
from bot.core.replies import Reply, Visibility
from bot.core.schedule import zone
from bot.ports.clock import ScaledClock
from bot.services.inflight import tracked
from bot.services.study import StudyBot

log = structlog.get_logger("studybot.console")
WORKSPACE = "local"
CHANNEL_REF = "study"
_REACTION = re.compile(r"^([+-]):([a-z0-9_+-]+):$")
_NAME = re.compile(r"^[A-Za-z][\w.-]{0,31}$")
NOT_SET_UP = (
    "  (not an answer: #study does not study with me yet, so there is no question here;"
    " an admin runs /study setup, then /study post-now)"
)


class ConsoleAdapter:
    name = "console"

    def __init__(
        self,
        study: StudyBot,
        *,
        stdin: TextIO | None = None,
        printer: Printer | None = None,
        first_member: str = "you",
        export_dir: Path | None = None,
        demo_clock: bool | None = None,
    ) -> None:
        self.study = study
        self.printer = printer or Printer()
        if self.printer.now is None:
            self.printer.now = study.now
        self.chat = ConsoleChat(self.printer)
        self._stdin = stdin or sys.stdin
        self.member = first_member
        self.admin: str | None = None
        """The user id of the session's admin: whoever speaks first."""
        self.export_dir = export_dir
        self._last_answer: dict[str, tuple[str, str | None]] = {}
        if demo_clock is None:
            demo_clock = isinstance(study.deps.clock, ScaledClock)
        self.demo_clock = demo_clock
        """Show the bot's time before each bot message (``--clock-speed`` runs it fast)."""
        if demo_clock:
            self.chat.before_bot = self.clock_line
        self.finished = asyncio.Event()
        self.ready: asyncio.Event | None = None
        """Set once the start-up catch-up is done: typed lines wait for it, so what fell
        due while the bot was away is dealt with before anyone's first command."""

    def connected(self) -> bool:
        return True

    def actor(self) -> Actor:
        user = self.member.lower()
        return Actor("console", WORKSPACE, user, self.member, is_admin=user == self.admin)

    def place(self, thread: str | None = None) -> Place:
        return Place("console", WORKSPACE, CHANNEL_REF, thread)

    # ---- input --------------------------------------------------------------------------

    def _reader(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None]) -> None:
        try:
            for line in self._stdin:
                loop.call_soon_threadsafe(queue.put_nowait, line)
        except (OSError, ValueError):
            pass
        finally:
            with contextlib.suppress(RuntimeError):  # the loop may be closed already
                loop.call_soon_threadsafe(queue.put_nowait, None)

    async def run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        threading.Thread(target=self._reader, args=(loop, queue), daemon=True).start()
        self.printer.write(
            f"studybot console: you are {self.member} in {CHANNEL}. "
            "Type /study help; /as NAME switches member; Ctrl-D quits."
        )
        stopper = asyncio.ensure_future(stop.wait())
        try:
            if self.ready is not None:
                ready = asyncio.ensure_future(self.ready.wait())
                await asyncio.wait({ready, stopper}, return_when=asyncio.FIRST_COMPLETED)
                ready.cancel()
            while not stop.is_set():
                getter = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait({getter, stopper}, return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:
                    getter.cancel()
                    break
                line = getter.result()
                if line is None:
                    break
                await self.handle(line.rstrip("\n"))
        finally:
            stopper.cancel()
            self.finished.set()

    # ---- one line -------------------------------------------------------------------------

    @tracked
    async def handle(self, line: str) -> None:
        started = time.perf_counter()
        text = line.strip()
        if not text or text.startswith("#"):
            return
        action = "message"
        try:
            action = await self._dispatch(text)
            outcome = "ok"
        except UserError as exc:
            self.printer.write(f"  (error) {exc.message}")
            outcome = "rejected"
        except Exception:
            log.exception("console_line_failed")
            self.printer.write(f"  (error) {APOLOGY}")
            outcome = "error"
        record_interaction(
            "console",
            kind="line",
            member=self.member,
            channel=CHANNEL_REF,
            action=action,
            outcome=outcome,
            started=started,
            metrics=None,
        )

    async def _dispatch(self, text: str) -> str:
        if text.startswith("/as"):
            name = text[3:].strip()
            if not _NAME.match(name):
                raise UserError("Usage: /as NAME (letters, digits, . _ -; up to 32)")
            self.member = name
            self.printer.write(f"  (now speaking as {name})")
            return "switch_member"
        if self.admin is None:
            self.admin = self.member.lower()
        command = parse_line(text)
        if command is not None:
            reply = await self.study.command(
                self.actor(), self.place(self.chat.latest_thread), command
            )
            self.show(reply)
            return f"{command.name}:{command.sub or ''}".rstrip(":")
        if text.isascii() and text.isdigit() and len(text) < 10:  # a button, never an answer
            reply = await self.study.button(self.actor(), self._button(int(text)))
            self.show(reply)
            return "button"
        reaction = _REACTION.match(text)
        if reaction:
            return await self._react(reaction.group(1) == "+", reaction.group(2))
        if text.split(maxsplit=1)[0] in ("/edit", "/delete"):
            return await self._change_last(text)
        if text.startswith("/"):
            raise UserError(f"Unknown command {text.split()[0]}. Try /study help.")
        return await self._answer(text)

    def _button(self, number: int) -> str:
        """The action of button ``number``, or an error naming the numbers shown."""
        buttons = self.printer.buttons
        if number in buttons:
            return buttons[number]
        if not buttons:
            there = "no buttons are shown yet"
        elif len(buttons) == 1:
            there = f"the only button is {min(buttons)}"
        else:
            there = f"buttons are {min(buttons)}-{max(buttons)}"
        raise UserError(
            f"No button {number} here; {there}."
            f" To answer with a number, type /study answer {number}."
        )

    async def _answer(self, text: str) -> str:
        thread = self.chat.latest_thread
        ref = self.chat.new_ref()
        self.printer.header(self.chat.where(thread), self.chat.short(ref), self.member)
        self.printer.write(f"  {text}")
        reply = await self.study.message(self.actor(), self.place(thread), ref, text)
        if thread is None and reply.empty:  # no daily post to answer: the channel is not set up
            self.printer.write(NOT_SET_UP)
        if reply.react:
            await self.chat.react(self.chat_target(thread), ref, reply.react)
            self._last_answer[self.member] = (ref, thread)
        self.show(reply)
        return "answer"

    def chat_target(self, thread: str | None) -> Target:
        return Target("console", WORKSPACE, CHANNEL_REF, thread)

    async def _react(self, added: bool, name: str) -> str:
        target = self.chat.latest_reveal or self.chat.latest_bot_message
        if target is None:
            raise UserError("There is no bot message to react to yet.")
        ref, thread = target
        verb = "reacted" if added else "removed"
        self.printer.write(f"  {self.member} {verb} {emoji.show(name)} on {self.chat.short(ref)}")
        reply = await self.study.reaction(
            self.actor(), self.place(thread), ref, name, added=added, on_bot_message=True
        )
        self.show(reply)
        return "reaction_added" if added else "reaction_removed"

    async def _change_last(self, text: str) -> str:
        verb, *more = text.split(maxsplit=1)
        new_text = more[0].strip() if more else ""
        if verb == "/edit" and not new_text:
            raise UserError("Usage: /edit NEW TEXT (replaces your last answer with NEW TEXT).")
        if verb == "/delete" and new_text:
            raise UserError("Usage: /delete (removes your last answer; it takes no text).")
        last = self._last_answer.get(self.member)
        if last is None:
            raise UserError("You have no answer in this session to change.")
        ref, thread = last
        if verb == "/delete":
            done = await self.study.message_deleted(self.place(thread), ref)
            self.printer.write(f"  ({self.member} deleted {self.chat.short(ref)})")
            if done:
                del self._last_answer[self.member]
            return "answer_deleted"
        await self.study.message_edited(self.place(thread), ref, new_text)
        self.printer.write(f"  ({self.member} edited {self.chat.short(ref)}: {new_text})")
        return "answer_edited"

    def clock_line(self) -> None:
        """``[demo Tue 3 Mar 09:00 UTC]``: the bot's time, in the default timezone."""
        local = self.study.now().astimezone(zone(self.study.policy.defaults.tz))
        self.printer.write(f"[demo {local:%a} {local.day} {local:%b %H:%M} {local.tzname()}]")

    def show(self, reply: Reply) -> None:
        if self.demo_clock and reply.messages:
            self.clock_line()
        for message in reply.messages:
            if reply.visibility == Visibility.CHANNEL:
                self.printer.header(CHANNEL, self.chat.short(self.chat.new_ref()), "studybot")
                self.printer.message(message)
            else:
                self.printer.private(self.member, message)
        export = reply.data.get("export")
        if isinstance(export, str):
            path = self._write_export(export, str(reply.data.get("filename") or "export.json"))
            self.printer.write(f"  (your data, as JSON, is in {path})")

    def _write_export(self, text: str, filename: str) -> Path:
        """The export in a file of its own, readable by its owner only."""
        try:
            if self.export_dir is None:
                self.export_dir = Path(tempfile.mkdtemp(prefix="studybot-export-"))
            self.export_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            who = re.sub(r"[^a-z0-9_-]+", "_", self.member.lower())[:40]  # a file name only
            path = (self.export_dir / f"{who}-{Path(filename).name}").resolve()
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            where = exc.filename or self.export_dir
            raise UserError(f"Could not write your export to {where}: {exc.strerror}") from None
        return path
