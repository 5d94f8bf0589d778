"""Neutral replies: what a service wants shown, before any platform draws it.

All text here is plain text. Each adapter's ``render.py`` escapes it for its platform
and adds its own emphasis, so member-written text can never turn into markup or a
mention on the way out.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Visibility(enum.StrEnum):
    PRIVATE = "private"
    """Only the member who asked sees it (ephemeral, or a DM where that is all there is)."""
    CHANNEL = "channel"
    """Everyone in the channel (or thread) sees it."""


class Style(enum.StrEnum):
    DEFAULT = "default"
    PRIMARY = "primary"
    DANGER = "danger"


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    action: str
    """An opaque action id (``fu:show:42``); everything the click needs is in it."""
    style: Style = Style.DEFAULT


@dataclass(frozen=True, slots=True)
class Message:
    """One message: a title line, paragraphs, name/value fields, a footer, buttons."""

    title: str | None = None
    lines: tuple[str, ...] = ()
    fields: tuple[tuple[str, str], ...] = ()
    footer: str | None = None
    buttons: tuple[Button, ...] = ()
    kind: str = "info"
    """What it is (daily_post, reveal, followup, quiz, leaderboard, info, error)."""

    def plain_text(self) -> str:
        """A plain-text rendering for notifications and fallbacks."""
        parts = [self.title] if self.title else []
        parts += list(self.lines)
        parts += [f"{name}: {value}" for name, value in self.fields]
        if self.footer:
            parts.append(self.footer)
        return "\n".join(parts)


@dataclass(frozen=True, slots=True)
class Reply:
    """What an interaction gets back."""

    messages: tuple[Message, ...] = ()
    visibility: Visibility = Visibility.PRIVATE
    react: str | None = None
    """A reaction name to add to the member's own message (answers are acknowledged so)."""
    data: dict[str, object] = field(default_factory=dict)
    """Machine-readable extras, such as an export's JSON document."""
    replace: bool = False
    """For a button press: the first message takes the place of the message the button
    was on (its old buttons go with it); any others follow as new messages. A quiz thus
    advances in one message, and a pressed button cannot be pressed again."""

    @property
    def empty(self) -> bool:
        return not self.messages and self.react is None


def private(*messages: Message) -> Reply:
    return Reply(messages=messages, visibility=Visibility.PRIVATE)


def in_place(*messages: Message) -> Reply:
    """A private reply to a button that updates the button's own message."""
    return Reply(messages=messages, visibility=Visibility.PRIVATE, replace=True)


def public(*messages: Message) -> Reply:
    return Reply(messages=messages, visibility=Visibility.CHANNEL)


def note(text: str, *, title: str | None = None) -> Reply:
    return private(Message(title=title, lines=(text,)))


def error(text: str) -> Reply:
    return private(Message(lines=(text,), kind="error"))
