"""Drawing neutral messages as console text (colours only on a TTY)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TextIO

from bot.core.replies import Message

CHANNEL = "#study"


@dataclass
class Printer:
    """Writes the transcript and numbers every button it shows."""

    out: TextIO = field(default_factory=lambda: sys.stdout)
    color: bool | None = None
    buttons: dict[int, str] = field(default_factory=dict)
    _next_button: int = 1

    def __post_init__(self) -> None:
        if self.color is None:
            self.color = bool(getattr(self.out, "isatty", lambda: False)())

    def _paint(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text

    def write(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def header(self, where: str, ref: str, who: str) -> None:
        self.write(f"{self._paint('36', where)} [{ref}] {self._paint('1', who)}:")

    def message(self, message: Message, indent: str = "  ") -> None:
        if message.title:
            self.write(indent + self._paint("1", message.title))
        for line in message.lines:
            for part in line.split("\n"):
                self.write(indent + part if part else "")
        if message.fields:
            self.write(indent + " | ".join(f"{k}: {v}" for k, v in message.fields))
        if message.footer:
            self.write(indent + self._paint("2", f"({message.footer})"))
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
