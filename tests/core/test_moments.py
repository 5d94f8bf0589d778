"""Instants inside message text: written once, drawn in each reader's own time."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

from bot.adapters.console.render import Printer
from bot.adapters.discord import render as discord_render
from bot.adapters.slack import render as slack_render
from bot.core.replies import Message, moment, plain

AT = datetime(2026, 3, 3, 14, 0, tzinfo=UTC)  # 15:00 in Berlin (CET)
EPOCH = int(AT.timestamp())
LINE = f"Key points at {moment(AT, 'Europe/Berlin')}."


def test_plain_text_writes_the_day_zone_and_time() -> None:
    assert plain(LINE) == "Key points at Tue 3 Mar 15:00 CET."
    assert plain(LINE, date(2026, 3, 3)) == "Key points at today 15:00 CET."
    assert plain(LINE, date(2026, 3, 2)) == "Key points at tomorrow 15:00 CET."


def test_slack_draws_a_date_token_with_a_fallback() -> None:
    message = Message(title=f"Due {moment(AT, 'Europe/Berlin')}", lines=(LINE,))
    blocks = slack_render.blocks(message)
    body = " ".join(str(b) for b in blocks)
    token = f"<!date^{EPOCH}^{{date_short_pretty}} {{time}}|Tue 3 Mar 15:00 CET>"
    assert token in body
    assert "\x1f" not in body
    assert "Due Tue 3 Mar 15:00 CET" in body  # titles cannot hold tokens: written out
    assert (
        slack_render.fallback(message)
        == "Due Tue 3 Mar 15:00 CET\nKey points at Tue 3 Mar 15:00 CET."
    )


def test_discord_draws_a_timestamp_in_the_description_only() -> None:
    message = Message(title=f"Due {moment(AT, 'Europe/Berlin')}", lines=(LINE,))
    drawn = discord_render.embed(message)
    assert drawn.description == f"Key points at <t:{EPOCH}:f>."
    assert drawn.title == "Due Tue 3 Mar 15:00 CET"


def test_member_text_cannot_forge_a_token() -> None:
    forged = "<!date^1^{time}|x> <t:1:f>"
    assert "&lt;!date" in slack_render.blocks(Message(lines=(forged,)))[0]["text"]["text"]


def test_the_console_says_today_or_tomorrow_by_the_bot_clock() -> None:
    out = io.StringIO()
    printer = Printer(out, color=False, now=lambda: datetime(2026, 3, 3, 8, 0, tzinfo=UTC))
    printer.message(Message(lines=(LINE,), fields=(("next post", moment(AT, "UTC")),)))
    assert out.getvalue() == "  Key points at today 15:00 CET.\n  next post: today 14:00 UTC\n"
