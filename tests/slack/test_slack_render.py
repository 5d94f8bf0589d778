"""Slack rendering: titles as headers, every field drawn, member and card text shown as
written; and the fake (as strict as Slack on Block Kit limits) takes what we draw."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.adapters.slack import render
from bot.core.models import Target
from bot.core.replies import Message, moment
from tests.slack.conftest import Direct, SlackWorld

C1 = Target("slack", "T1", "C1")
Z = "\u200b"


def twelve_fields() -> Message:
    return Message(title="Channel status", fields=tuple((f"f{i}", f"v{i}") for i in range(12)))


def stored(direct: Direct) -> dict[str, Any]:
    (message,) = direct.fake.messages["C1"]
    return message


def test_twelve_fields_take_two_sections_and_none_is_dropped() -> None:
    blocks = render.blocks(twelve_fields())
    sections = [b["fields"] for b in blocks if "fields" in b]
    assert [len(f) for f in sections] == [10, 2]
    labels = [f["text"] for fields in sections for f in fields]
    assert labels == [f"*f{i}*\nv{i}" for i in range(12)]


async def test_the_fake_takes_a_twelve_field_message(direct: Direct) -> None:
    await direct.chat.post(C1, twelve_fields())
    sections = [b["fields"] for b in stored(direct)["blocks"] if "fields" in b]
    assert sum(len(f) for f in sections) == 12


async def test_study_status_shows_every_field(slack: SlackWorld) -> None:
    await slack.command("setup")
    (status,) = await slack.command("status")
    assert not slack.fake.refused_responses
    fields = [f["text"] for b in status["blocks"] if "fields" in b for f in b["fields"]]
    assert len(fields) > render.FIELDS_MAX  # /study status has more than one section holds
    assert any(f.startswith("*desired retention*") for f in fields)  # the last one
    assert status["blocks"][0]["type"] == "header"


async def test_a_long_title_is_a_header_cut_to_150(direct: Direct) -> None:
    await direct.chat.post(C1, Message(title="x" * 200, lines=("body",)))
    head = stored(direct)["blocks"][0]
    assert head["type"] == "header"
    assert head["text"] == {"type": "plain_text", "text": "x" * 149 + "…", "emoji": True}


def test_a_title_is_cut_outside_an_escape() -> None:
    text = render.header("x" * 147 + "&b")["text"]["text"]  # "&amp;" would straddle 150
    assert text == "x" * 147 + "…"


async def test_member_and_card_text_are_shown_as_written(direct: Direct) -> None:
    """A member named ``*Ada*_x_`` is neither bold nor italic; ``__init__`` on a card is
    code, exactly as written; ``~``, backticks, ``&<>`` stay text."""
    message = Message(
        title="*Ada*_x_ answered",
        lines=("*Ada*_x_ said: call __init__ and ~not~ `this` <!here> & co",),
        fields=(("*Ada*_x_", "3 of 4 in acks_late"),),
        footer="by *Ada*_x_",
    )
    await direct.chat.post(C1, message)
    head, body, fields, footer = stored(direct)["blocks"]
    name = f"{Z}*{Z}Ada{Z}*{Z}`_x_`"
    assert head["text"]["text"] == "*Ada*_x_ answered"  # plain_text: no mrkdwn at all
    assert body["text"]["text"] == (
        f"{name} said: call `__init__` and {Z}~{Z}not{Z}~{Z} {Z}`{Z}this{Z}`{Z}"
        " &lt;!here&gt; &amp; co"
    )
    assert fields["fields"] == [{"type": "mrkdwn", "text": f"*{name}*\n3 of 4 in `acks_late`"}]
    assert footer["elements"][0]["text"] == f"by {name}"


def test_identifiers_are_code_and_moments_stay_tokens() -> None:
    at = datetime(2025, 3, 3, 14, 0, tzinfo=UTC)
    text = render.rich(f"context.time_remaining() at {moment(at, 'Europe/Berlin')} ___ done")
    assert text == (
        "`context.time_remaining()` at "
        f"<!date^{int(at.timestamp())}^{{date_short_pretty}} {{time}}|Mon 3 Mar 15:00 CET>"
        f" {Z}_{Z}{Z}_{Z}{Z}_{Z} done"
    )


async def test_help_on_slack_is_a_field_list_with_no_markdown_table(slack: SlackWorld) -> None:
    (reply,) = await slack.command("help")
    assert not slack.fake.refused_responses
    texts = [b["text"]["text"] for b in reply["blocks"] if b.get("text")]
    fields = [f["text"] for b in reply["blocks"] if "fields" in b for f in b["fields"]]
    assert not any("|---" in t or t.lstrip().startswith("|") for t in texts + fields)
    assert any("/study setup" in f for f in fields) and len(fields) > render.FIELDS_MAX


async def test_a_tied_leaderboard_is_cut_with_the_rest_counted(direct: Direct) -> None:
    from bot.core.leaderboard import Entry, board
    from bot.services import messages

    tied = board([Entry(f"member{n:02}", 1) for n in range(29)], 10)
    await direct.chat.post(C1, messages.leaderboard("Last week", tied, tied, tied))
    body = "\n".join(b["text"]["text"] for b in stored(direct)["blocks"] if b.get("text"))
    assert body.count("1. member") == 30  # 10 rows in each of the three tables
    assert body.count("… and 19 more tied at 1 ") == 3
