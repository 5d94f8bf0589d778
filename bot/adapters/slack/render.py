"""Neutral messages as Slack Block Kit, inside Slack's limits, with member text escaped.

Slack treats ``<...>`` as links and mentions (``<!channel>``, ``<@U123>``), so every
piece of text we draw has ``&``, ``<`` and ``>`` escaped: a display name such as
``<!channel>`` arrives as text and pings nobody.

mrkdwn (sections, fields, context) has no escape for its markers ``*``, ``_``, ``~`` and
the backtick, and the text we draw mixes member text (names, answers) with card text, which
the neutral ``Message`` does not tell apart. So one rule covers all of it (``literal``):

- a word that is an identifier (``__init__``, ``acks_late``, ``context.time_remaining()``:
  word characters, dots between words, an underscore somewhere) becomes inline code.
  Inside a code span Slack formats nothing, and the identifier stays exactly as written,
  so it can be copied into code; a zero-width character inside it would break that.
- every other marker gets a zero-width space (U+200B) on each side. A marker then has
  no word next to it, whether Slack counts U+200B as a letter (the marker is not at a
  word boundary, so it opens nothing) or as a space (an opener must be followed by, and a
  closer preceded by, a non-space), so ``*Ada*`` shows as ``*Ada*``. Inline code for
  such text is no choice: a backtick cannot be written inside a code span, and a name or
  answer is not code.

The moment tokens (``<!date^…>``) are added after this, so they keep working; the bold
that this module puts round field labels is its own.

Titles are ``header`` blocks (plain text, no mrkdwn, at most 150 characters); fields
take as many sections as they need, 10 to a section.
"""

from __future__ import annotations

import re
from typing import Any

from bot.core.replies import Message, Moment, Style, pieces, plain

SECTION_MAX = 3000
FIELD_MAX = 2000
FIELDS_MAX = 10
HEADER_MAX = 150
BUTTON_TEXT_MAX = 75
FALLBACK_MAX = 3000
BLOCKS_MAX = 50

ZWSP = "\u200b"
_WORD_OR_MARK = re.compile(r"\w+(?:\.\w+)*(?:\(\))?|[*_~`]")
_MARKS = re.compile(r"[*_~`]")
_TORN_END = re.compile(r"&[#\w]*$|<[^>]*$")
"""What a cut can leave unfinished at the end: an entity (``&am``) or a token (``<!date^1``)."""


def escape(text: str) -> str:
    """Plain text made safe for Slack: moments are written out, ``&<>`` escaped (headers,
    fallbacks; mrkdwn also needs ``literal``)."""
    return plain(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _literal_piece(found: re.Match[str]) -> str:
    token = found.group()
    if "_" in token and token.strip("_.()"):
        return f"`{token}`"  # an identifier: code, and exactly as written
    return _MARKS.sub(lambda m: f"{ZWSP}{m.group()}{ZWSP}", token)


def literal(text: str) -> str:
    """Escaped text that mrkdwn shows as it is: identifiers as code, other markers fenced
    by zero-width spaces (see the module docstring)."""
    return _WORD_OR_MARK.sub(_literal_piece, escape(text))


def date_token(when: Moment) -> str:
    """A moment as Slack's date token: each reader sees it in their own zone and locale;
    clients that cannot draw it show the channel-zone text after the ``|``."""
    fallback = escape(when.text()).replace("|", "/")
    return f"<!date^{int(when.at.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def rich(text: str) -> str:
    """Body text: literal (escaped, markers neutralised), with each moment as a date token."""
    return "".join(literal(p) if isinstance(p, str) else date_token(p) for p in pieces(text))


def _cut(text: str, limit: int) -> str:
    """At most ``limit`` characters, ending in "…" when cut, never inside an entity or a
    ``<…>`` token."""
    if len(text) <= limit:
        return text
    return _TORN_END.sub("", text[: limit - 1]) + "…"


def _sections(text: str) -> list[dict[str, Any]]:
    """Split long text into sections at line breaks, each within Slack's limit."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > SECTION_MAX and current:
            chunks.append(current)
            current = _cut(line, SECTION_MAX)
        else:
            current = _cut(candidate, SECTION_MAX)
    if current.strip():
        chunks.append(current)
    return [{"type": "section", "text": {"type": "mrkdwn", "text": c}} for c in chunks]


def header(title: str) -> dict[str, Any]:
    """The title as a header block: plain text (no mrkdwn to neutralise), cut to 150."""
    text = _cut(escape(title), HEADER_MAX)
    return {"type": "header", "text": {"type": "plain_text", "text": text, "emoji": True}}


def field_sections(fields: tuple[tuple[str, str], ...]) -> list[dict[str, Any]]:
    """Every field, 10 to a section (Slack's limit), in order: none is left out."""
    drawn = [
        {"type": "mrkdwn", "text": _cut(f"*{literal(k)}*\n{rich(v)}", FIELD_MAX)} for k, v in fields
    ]
    return [
        {"type": "section", "fields": drawn[n : n + FIELDS_MAX]}
        for n in range(0, len(drawn), FIELDS_MAX)
    ]


def blocks(message: Message) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if message.title and message.title.strip():
        out.append(header(message.title))
    body = "\n".join(rich(line) for line in message.lines).strip("\n")
    if body:
        out += _sections(body)
    out += field_sections(message.fields)
    if message.footer:
        out.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": literal(message.footer)}]}
        )
    if message.buttons:
        elements = []
        for button in message.buttons[:25]:
            element: dict[str, Any] = {
                "type": "button",
                "text": {"type": "plain_text", "text": _cut(button.label, BUTTON_TEXT_MAX)},
                "action_id": button.action,
                "value": button.action,
            }
            if button.style != Style.DEFAULT:
                element["style"] = button.style.value
            elements.append(element)
        out.append({"type": "actions", "elements": elements})
    return out[:BLOCKS_MAX]


def fallback(message: Message) -> str:
    """The notification text (``text``) that goes with the blocks."""
    return _cut(escape(message.plain_text()), FALLBACK_MAX)
