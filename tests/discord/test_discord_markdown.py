"""Text is drawn as written on Discord: Markdown escaped, timestamps kept, limits kept.

Each test sends through the real ``DiscordChat`` and reads what the fake Discord stored
(exactly what every client would draw), not what ``render`` returned.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from bot.adapters.discord import render
from bot.core.models import Target
from bot.core.replies import Message, moment
from tests.discord.conftest import DiscordWorld, posts
from tests.discord.fake_discord import CHANNEL

AT = datetime(2025, 3, 4, 14, 0, tzinfo=UTC)
TOKEN = f"<t:{int(AT.timestamp())}:f>"


async def stored(world: DiscordWorld, message: Message) -> dict[str, Any]:
    await world.adapter.chat.post(Target("discord", "g", CHANNEL), message)
    drawn: dict[str, Any] = posts(world.fake, CHANNEL)[-1]["embeds"][0]
    return drawn


async def test_member_and_card_text_is_escaped(world: DiscordWorld) -> None:
    drawn = await stored(
        world,
        Message(
            title="*Ada* on __init__",
            lines=("||x|| and ~~y~~", "# big", "> quoted", "- item", "* star", "1. first"),
            fields=(("`name`", "[click](https://example.com) **now**"),),
        ),
    )
    assert drawn["title"] == r"\*Ada\* on \_\_init\_\_"
    assert drawn["description"] == "\n".join(
        [r"\|\|x\|\| and \~\~y\~\~", r"\# big", r"\> quoted", r"\- item", r"\* star", r"1\. first"]
    )
    assert drawn["fields"] == [
        {
            "name": r"\`name\`",
            "value": r"\[click](https://example.com) \*\*now\*\*",
            "inline": False,
        }
    ]


def test_escapes_close_the_holes_of_escape_markdown() -> None:
    # discord.py escapes "[text](url)" as one match and leaves Markdown inside it.
    assert render.escape("[**x**](https://e.com) _y_") == r"\[\*\*x\*\*](https://e.com) \_y\_"
    # Indented list markers get their backslash on the marker, not before the spaces.
    assert render.escape("a\n\n  - b") == "a\n\n  \\- b"
    assert render.escape("  12. twelve") == r"  12\. twelve"
    # URLs stay whole (they must still link); backslashes are escaped too.
    assert render.escape(r"https://e.com/a_b_c a\b") == r"https://e.com/a_b_c a\\b"
    assert render.escape("@everyone") == "@\u200beveryone"


async def test_a_timestamp_token_survives_escaping(world: DiscordWorld) -> None:
    drawn = await stored(
        world,
        Message(
            title=f"Due *soon* {moment(AT, 'Europe/Berlin')}",
            lines=(f"Key points at {moment(AT, 'Europe/Berlin')} for *Ada*_",),
            fields=(("When", f"~{moment(AT, 'Europe/Berlin')}~"),),
        ),
    )
    assert drawn["description"] == rf"Key points at {TOKEN} for \*Ada\*\_"
    assert drawn["fields"][0]["value"] == rf"\~{TOKEN}\~"
    assert drawn["title"] == r"Due \*soon\* Tue 4 Mar 15:00 CET"  # titles draw no tokens


async def test_cuts_come_after_escaping_and_split_nothing(world: DiscordWorld) -> None:
    stars = await stored(world, Message(title="*" * 300, lines=("*" * 3000,)))
    # Each star is two characters once escaped: the cut keeps whole escapes only.
    assert len(stars["title"]) <= render.TITLE_MAX
    assert re.fullmatch(r"(\\\*)+…", stars["title"])
    assert re.fullmatch(r"(\\\*)+…", stars["description"])
    assert len(stars["description"]) <= render.DESCRIPTION_MAX

    padding = "x" * (render.DESCRIPTION_MAX - 6)
    token = await stored(world, Message(lines=(padding + moment(AT, "Europe/Berlin"),)))
    assert token["description"] == padding + "…"  # the token goes whole or not at all

    wide = await stored(
        world, Message(title="t", fields=tuple((f"_{i}_", "|" * 1000) for i in range(25)))
    )
    total = len(wide["title"]) + sum(len(f["name"]) + len(f["value"]) for f in wide["fields"])
    assert total <= render.EMBED_TOTAL_MAX  # the fake refuses more (50035)
    assert all(re.fullmatch(r"(\\\|)+…", f["value"]) for f in wide["fields"])


def test_footers_are_not_escaped() -> None:
    # Discord draws no Markdown in a footer: a backslash there would show.
    drawn = render.embed(Message(title="t", footer="*as is*"))
    assert drawn.footer.text == "*as is*"


def test_command_hints_are_written_as_discord_takes_them() -> None:
    from bot.adapters.discord import render
    from bot.core.replies import Message

    drawn = render.embed(
        Message(
            lines=(
                "This channel is not set up; run /study setup first.",
                "Change with /study setup time=10:00 days=mon,wed,fri",
                "Or /study forget-me confirm; see /study streak.",
            )
        )
    )
    text = drawn.description or ""
    assert "/study-admin setup first" in text  # admin-only: under /study-admin
    assert "/study-admin setup time:10:00 days:mon,wed,fri" in text  # typed options
    assert "/study forget-me confirm:True" in text and "/study streak" in text
    assert "=" not in text
