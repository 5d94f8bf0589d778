"""Neutral messages as Slack Block Kit, inside Slack's limits, with member text escaped.

Slack treats ``<...>`` as links and mentions (``<!channel>``, ``<@U123>``), so every
piece of text we draw has ``&``, ``<`` and ``>`` escaped: a display name such as
``<!channel>`` arrives as text and pings nobody.
"""

from __future__ import annotations

from typing import Any

from bot.core.replies import Message, Moment, Style, pieces, plain

SECTION_MAX = 3000
FIELD_MAX = 2000
FIELDS_MAX = 10
BUTTON_TEXT_MAX = 75
FALLBACK_MAX = 3000
BLOCKS_MAX = 50


def escape(text: str) -> str:
    """Plain text made safe for mrkdwn; moments are written out (titles, fallbacks)."""
    return plain(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def date_token(when: Moment) -> str:
    """A moment as Slack's date token: each reader sees it in their own zone and locale;
    clients that cannot draw it show the channel-zone text after the ``|``."""
    fallback = escape(when.text()).replace("|", "/")
    return f"<!date^{int(when.at.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def rich(text: str) -> str:
    """Body text: escaped, with each moment as a date token."""
    return "".join(escape(p) if isinstance(p, str) else date_token(p) for p in pieces(text))


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


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


def blocks(message: Message) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if message.title:
        out += _sections(f"*{escape(message.title)}*")
    body = "\n".join(rich(line) for line in message.lines).strip("\n")
    if body:
        out += _sections(body)
    if message.fields:
        fields = [
            {"type": "mrkdwn", "text": _cut(f"*{escape(k)}*\n{rich(v)}", FIELD_MAX)}
            for k, v in message.fields[:FIELDS_MAX]
        ]
        out.append({"type": "section", "fields": fields})
    if message.footer:
        out.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": escape(message.footer)}]}
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
