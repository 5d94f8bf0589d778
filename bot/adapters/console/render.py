"""Drawing neutral messages as console text (colours only on a TTY)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from bot.core.replies import Message, Moment, pieces

CHANNEL = "#study"


@dataclass
class Printer:
    """Writes the transcript and numbers every button it shows."""

    out: TextIO = field(default_factory=lambda: sys.stdout)
    color: bool | None = None
    buttons: dict[int, str] = field(default_factory=dict)
    now: Callable[[], datetime] | None = None
    """The bot's clock: a time is then written relative to it (``today 15:00 CET``)."""
    _next_button: int = 1

    def __post_init__(self) -> None:
        if self.color is None:
            self.color = bool(getattr(self.out, "isatty", lambda: False)())

    def _paint(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text

    def _moment(self, when: Moment) -> str:
        if self.now is None:
            return when.text()
        return when.text(self.now().astimezone(when.local().tzinfo).date())

    def text(self, value: str) -> str:
        """Text with each moment written out in its channel's zone, with the day."""
        return "".join(p if isinstance(p, str) else self._moment(p) for p in pieces(value))

    def write(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def header(self, where: str, ref: str, who: str) -> None:
        self.write(f"{self._paint('36', where)} [{ref}] {self._paint('1', who)}:")

    def message(self, message: Message, indent: str = "  ") -> None:
        if message.title:
            self.write(indent + self._paint("1", self.text(message.title)))
        for line in message.lines:
            for part in self.text(line).split("\n"):
                self.write(indent + part if part else "")
        for name, value in message.fields:  # one short labelled line each
            self.write(f"{indent}{name}: {self.text(value)}")
        if message.footer:
            self.write(indent + self._paint("2", f"({self.text(message.footer)})"))
        if message.buttons:
            shown = []
            for button in message.buttons:
                number = self._next_button
                self._next_button += 1
                self.buttons[number] = button.action
                shown.append(f"[{number}] {button.label}")
            self.write(indent + self._paint("33", "  ".join(shown)))

    def private(self, who: str, message: Message) -> None:
        tag = "error" if message.kind == "error" else f"visible to {who}"
        self.write(self._paint("2", f"  ({tag})"))
        self.message(message, indent="    ")
