"""Neutral replies: what a service wants shown, before any platform draws it.

All text here is plain text. Each adapter's ``render.py`` escapes it for its platform
and adds its own emphasis, so member-written text can never turn into markup or a
mention on the way out.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

_MARK = "\x1f"
MOMENT = re.compile(r"\x1f(-?[0-9]{1,12})\x1f([A-Za-z0-9_+\-/]{1,64})\x1f")
"""An instant inside text: ``moment()`` writes it, each renderer draws it for its readers."""


@dataclass(frozen=True, slots=True)
class Moment:
    """An instant, and the zone of the channel it was planned in (for plain-text fallbacks)."""

    at: datetime
    tz: str

    def local(self) -> datetime:
        try:
            return self.at.astimezone(ZoneInfo(self.tz))
        except (KeyError, ValueError):  # a zone name this host does not know
            return self.at

    def text(self, today: date | None = None) -> str:
        """``today 15:00 CET``, ``tomorrow 09:00 CET`` or ``Tue 3 Mar 15:00 CET``.

        ``today`` is the reader's date in the moment's zone; without it the day is written out.
        """
        local = self.local()
        clock = f"{local:%H:%M} {local.tzname() or self.tz}"
        if today is not None:
            gap = (local.date() - today).days
            if gap == 0:
                return f"today {clock}"
            if gap == 1:
                return f"tomorrow {clock}"
        return f"{local:%a} {local.day} {local:%b} {clock}"


def moment(at: datetime, tz: str) -> str:
    """A placeholder for ``at`` to put in any text of a ``Message``.

    Slack draws it as a ``<!date^…>`` token and Discord as a ``<t:…>`` timestamp, so each
    reader sees their own local time; the console and plain-text fallbacks write it out in
    the channel's zone (``tz``), with the day.
    """
    return f"{_MARK}{int(at.timestamp())}{_MARK}{tz}{_MARK}"


def pieces(text: str) -> Iterator[str | Moment]:
    """The text split into plain runs and the moments inside it, in order."""
    last = 0
    for found in MOMENT.finditer(text):
        if found.start() > last:
            yield text[last : found.start()]
        yield Moment(datetime.fromtimestamp(int(found.group(1)), UTC), found.group(2))
        last = found.end()
    if last < len(text):
        yield text[last:]


def plain(text: str, today: date | None = None) -> str:
    """The text with its moments written out (``Moment.text``); stray marks dropped."""
    out = "".join(p if isinstance(p, str) else p.text(today) for p in pieces(text))
    return out.replace(_MARK, "")


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

    def plain_text(self, today: date | None = None) -> str:
        """A plain-text rendering for notifications and fallbacks (moments written out)."""
        parts = [self.title] if self.title else []
        parts += list(self.lines)
        parts += [f"{name}: {value}" for name, value in self.fields]
        if self.footer:
            parts.append(self.footer)
        return plain("\n".join(parts), today)


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
