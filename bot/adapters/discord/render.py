"""Neutral messages as Discord embeds and button rows, inside Discord's limits.

Every client is built with ``AllowedMentions.none()``, so nothing we send can ping; on
top of that, text is markdown-escaped, so member text (``@everyone``, ``**``) and card
text (``__init_subclass__``) show as written.
"""

from __future__ import annotations

import discord

from bot.core import emoji
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


def text(value: str) -> str:
    """Markdown-escaped, with mentions neutralised as a second line of defence; moments
    written out (titles and footers, where Discord draws no timestamps)."""
    return discord.utils.escape_mentions(discord.utils.escape_markdown(plain(value)))


def rich(value: str) -> str:
    """Description and field text: escaped, each moment as a ``<t:…:f>`` timestamp that
    every reader sees in their own zone."""
    return "".join(
        text(p) if isinstance(p, str) else f"<t:{int(p.at.timestamp())}:f>" for p in pieces(value)
    )


def _cut(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


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
        result.set_footer(text=_cut(message.footer, min(FOOTER_MAX, max(budget, 1))))
    return result


def unicode_for(name: str) -> str:
    """A reaction to add: Unicode for names we know, else the name itself."""
    return emoji.UNICODE.get(name, name)


def button_style(style: Style) -> discord.ButtonStyle:
    return {
        Style.PRIMARY: discord.ButtonStyle.primary,
        Style.DANGER: discord.ButtonStyle.danger,
    }.get(style, discord.ButtonStyle.secondary)
