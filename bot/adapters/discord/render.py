"""Neutral messages as Discord embeds and button rows, inside Discord's limits.

Every client is built with ``AllowedMentions.none()``, so nothing we send can ping; on
top of that, text is markdown-escaped, so member text (``@everyone``, ``**``) and card
text (``__init_subclass__``) show as written.

How text is neutralised (``text``):

- Embed titles, descriptions, field names and field values are drawn as Discord
  Markdown; footers are not (they show backslashes literally), so they are only written
  out (``plain``), never escaped.
- The escaping is discord.py's ``escape_markdown`` in its full mode: every ``*``, ``_``,
  ``~``, `````, ``|`` and ``\\`` gets a backslash, as do ``>``/``#``/``-`` that start a
  line (quotes, headings, ``-#`` subtext, lists); URLs are left whole so they still
  link. Not ``as_needed``: that leaves ``* item`` a list, ``a*b*c`` half-escaped ("open
  to clever syntax abuse", its own docs) and escapes inside URLs, breaking them.
- Two holes in ``escape_markdown`` are closed here. It escapes a masked link
  ``[text](url)`` as one match, so Markdown inside it (``[**x**](u)``, or anything
  between two links on a line) stays live: every ``[`` is escaped on its own instead,
  so no masked link forms and the rest is escaped as usual. And it knows neither
  numbered lists (``1. x`` gets ``1\\. x``) nor indented markers (it puts the backslash
  before the spaces, where Discord shows it; here it goes before the marker).
- Identifiers (``__init__``) are escaped like any other text, not set as inline code:
  the escapes do not show, so the name reads (and selects) as written, and inline code
  would mean guessing which words of a card or a member's answer are code (prose with
  an underscore would turn monospace, a backtick in the text could not be drawn). Slack
  sets them as code only because mrkdwn has no escapes.
- Mentions: ``AllowedMentions.none()`` decides; ``escape_mentions`` adds a zero-width
  space to ``@everyone``/``@here``/ids as a second line of defence.
- Moments are ``<t:…:f>`` tokens in descriptions and field values (``rich``): only the
  text around them is escaped, never a token. Titles and field names write them out.
- Limits apply to what is sent, so text is cut after escaping (``_cut``), and only
  between whole pieces: never inside an escape (no dangling backslash), a token or
  a defused mention.
"""

from __future__ import annotations

import re

import discord

from bot.core import emoji
from bot.core.commands import DISCORD_ADMIN_GROUP, STUDY
from bot.core.replies import Message, Style, pieces, plain

TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FIELDS_MAX = 25
FOOTER_MAX = 2048
EMBED_TOTAL_MAX = 6000
CONTENT_MAX = 2000
BUTTON_LABEL_MAX = 80
SHOWN_TO_CHANNEL = "Posted below for everyone in the channel."
COLOURS = {"daily_post": 0x3498DB, "reveal": 0x2ECC71, "leaderboard": 0xF1C40F, "error": 0xE74C3C}

_BRACKET = "\x1f"
"""Stands in for ``[`` while ``escape_markdown`` runs (``plain`` leaves no ``\\x1f``)."""
_NUMBERED = re.compile(r"^([ \t]*\d+)\.(?=\s)", re.MULTILINE)
_INDENTED = re.compile(r"^\\(\s+)-", re.MULTILINE)
"""``escape_markdown`` puts the backslash of an indented ``-`` (even across a blank line)
before the spaces, where Discord shows it: move it to the ``-``."""
_INDENTED_START = re.compile(r"^([ \t]+)([#>])", re.MULTILINE)
_PIECE = re.compile(r"\\.|<t:-?\d+:[tTdDfFR]>|@\u200b|.", re.DOTALL)
"""What a cut may not split: an escape, a timestamp token, a defused mention."""


_ADMIN_ONLY = "|".join(re.escape(s.name) for s in STUDY if s.admin_only)
_ADMIN_HINT = re.compile(rf"/study ({_ADMIN_ONLY})\b")
_CONFIRM_HINT = re.compile(r"(/study(?:-admin)? (?:forget-me|post-now)) confirm\b(?!:)")
_SETUP_PAIRS = re.compile(rf"/{DISCORD_ADMIN_GROUP} setup((?: [a-z]+=[^\s;,.]+)+)")


def hints(value: str) -> str:
    """Command hints as Discord takes them. The services write one text form (``/study
    setup time=10:00``, ``/study post-now confirm``); here admin-only subcommands live
    under ``/study-admin`` and options are typed (``time:10:00``, ``confirm:True``)."""
    value = _ADMIN_HINT.sub(rf"/{DISCORD_ADMIN_GROUP} \1", value)
    value = _CONFIRM_HINT.sub(r"\1 confirm:True", value)
    value = _SETUP_PAIRS.sub(
        lambda m: f"/{DISCORD_ADMIN_GROUP} setup" + m.group(1).replace("=", ":"), value
    )
    return value.replace("key=value", "option:value")


def escape(value: str) -> str:
    """Plain text as Discord Markdown that draws exactly that text (see the module)."""
    value = value.replace(_BRACKET, "").replace("[", _BRACKET)
    escaped = discord.utils.escape_markdown(value)
    escaped = _INDENTED.sub(r"\1\\-", escaped)
    escaped = _INDENTED_START.sub(r"\1\\\2", escaped)
    escaped = _NUMBERED.sub(r"\1\\.", escaped)
    return discord.utils.escape_mentions(escaped.replace(_BRACKET, "\\["))


def text(value: str) -> str:
    """Markdown-escaped, with mentions neutralised as a second line of defence; moments
    written out (titles and field names, where Discord draws no timestamps)."""
    return escape(hints(plain(value)))


def rich(value: str) -> str:
    """Description and field text: escaped, each moment as a ``<t:…:f>`` timestamp that
    every reader sees in their own zone."""
    return "".join(
        escape(hints(p)) if isinstance(p, str) else f"<t:{int(p.at.timestamp())}:f>"
        for p in pieces(value)
    )


def _cut(value: str, limit: int) -> str:
    """At most ``limit`` characters, ending in ``…`` when cut, split only between whole
    pieces (``_PIECE``): never a dangling backslash or a torn ``<t:…>`` token."""
    if len(value) <= limit:
        return value
    kept = 0
    for found in _PIECE.finditer(value):
        if found.end() > limit - 1:
            break
        kept = found.end()
    return value[:kept] + "…"


def embed(message: Message) -> discord.Embed:
    """The message as an embed. Nothing internal is drawn: a send key never reaches the
    text (it travels as the message's nonce; ``chat.find_post`` recognises the message
    by its title and buttons)."""
    description = _cut("\n".join(rich(line) for line in message.lines), DESCRIPTION_MAX)
    result = discord.Embed(
        title=_cut(text(message.title), TITLE_MAX) if message.title else None,
        description=description or None,
        colour=COLOURS.get(message.kind, 0x95A5A6),
    )
    budget = EMBED_TOTAL_MAX - len(result.title or "") - len(description)
    for name, value in message.fields[:FIELDS_MAX]:
        name_text = _cut(text(name), FIELD_NAME_MAX)
        value_text = _cut(rich(value), FIELD_VALUE_MAX)
        if len(name_text) + len(value_text) > budget - FOOTER_MAX:
            break
        budget -= len(name_text) + len(value_text)
        result.add_field(name=name_text, value=value_text, inline=len(value_text) < 40)
    if message.footer:
        result.set_footer(text=_cut(plain(message.footer), min(FOOTER_MAX, max(budget, 1))))
    return result


def unicode_for(name: str) -> str:
    """A reaction to add: Unicode for names we know, else the name itself."""
    return emoji.UNICODE.get(name, name)


def button_style(style: Style) -> discord.ButtonStyle:
    return {
        Style.PRIMARY: discord.ButtonStyle.primary,
        Style.DANGER: discord.ButtonStyle.danger,
    }.get(style, discord.ButtonStyle.secondary)
