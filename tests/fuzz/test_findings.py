"""The inputs of issue 12's attack, each with the reply it gets now (it got the apology,
or nothing on Slack), and the proof that it changed nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.adapters.base import APOLOGY
from bot.core.commands import parse
from bot.core.models import Actor, Place
from tests.fuzz.worlds import Console
from tests.slack.conftest import SlackWorld

QUIZ_USAGE = " Usage: /quiz [topic] [count]"
STALE = "That button is not one of mine, or it has expired."
IN_CHANNEL = (
    "Use /study {} in the study channel: it is about a channel, and this is a direct message."
)


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    world = await Console.open(tmp_path)
    yield world
    await world.close()


@pytest.mark.parametrize(
    ("line", "reply"),
    [
        ("/quiz ²", "Count must be a whole number from 1 to 20 (digits 0-9), not '²'."),
        ("/quiz +-5", "Count must be a whole number from 1 to 20 (digits 0-9), not '+-5'."),
        ("/quiz --3", "Count must be a whole number from 1 to 20 (digits 0-9), not '--3'."),
        (
            "/quiz " + "9" * 5000,
            f"Count must be from 1 to 20, not '{'9' * 40}'… (5,000 characters).",
        ),
        (
            "/study setup tz=Europe",
            "Unknown timezone 'Europe': use an IANA name such as Europe/Berlin.",
        ),
        (
            "/study setup tz=" + "A" * 300,
            f"Unknown timezone '{'A' * 40}'… (300 characters): use an IANA name such as"
            " Europe/Berlin.",
        ),
        (
            "/study streak bob ²",
            "Days must be a whole number from 0 to 10000 (digits 0-9), not '²'.",
        ),
        # Not a button number (those are ASCII digits): text in the thread, like any other.
        ("9" * 5000, "Answers are limited to 4000 characters."),
    ],
)
async def test_each_attack_line_gets_its_specific_reply(
    console: Console, line: str, reply: str
) -> None:
    before = console.snapshot.take()
    printed = await console.type(line)
    assert not console.crashed(printed)
    assert reply in printed
    assert console.snapshot.take() == before


async def test_a_unicode_digit_alone_is_text_in_the_thread_not_a_button(console: Console) -> None:
    printed = await console.type("²")
    assert not console.crashed(printed)
    assert "  ²" in printed  # shown as said in the thread (a second answer is discussion)


@pytest.mark.parametrize(
    "action",
    [f"fu:show:{2**63}", f"fu:grade:{2**64}:3", f"qz:show:{2**63}:0", f"rv:grade:{2**63}:3"],
)
async def test_button_ids_past_the_stores_integers_are_stale_buttons(
    console: Console, action: str
) -> None:
    before = console.snapshot.take()
    reply = await console.adapter.study.button(Actor("console", "local", "you", "you"), action)
    assert [(m.kind, m.lines) for m in reply.messages] == [("error", (STALE,))]
    assert console.snapshot.take() == before


@pytest.mark.parametrize(
    "text",
    ["answer my answer", "status", "leaderboard", "streak", "post-now", "pause", "setup"],
)
async def test_channel_commands_in_a_dm_point_to_the_study_channel(
    console: Console, text: str
) -> None:
    dm = Place("slack", "T1", "D1", is_dm=True)
    before = console.snapshot.take()
    reply = await console.adapter.study.command(
        Actor("slack", "T1", "U1", "Alice"), dm, parse("study", text)
    )
    sub = text.split()[0]
    assert [(m.kind, m.lines) for m in reply.messages] == [("error", (IN_CHANNEL.format(sub),))]
    assert console.snapshot.take() == before


async def test_member_forms_still_work_in_a_dm(console: Console) -> None:
    dm = Place("slack", "T1", "D1", is_dm=True)
    reply = await console.adapter.study.command(
        Actor("slack", "T1", "U1", "Alice"), dm, parse("study", "pause followups")
    )
    assert all(m.kind != "error" for m in reply.messages)


async def test_an_answer_in_a_channel_that_does_not_study_says_so(console: Console) -> None:
    elsewhere = Place("console", "local", "random")
    reply = await console.adapter.study.command(
        Actor("console", "local", "you", "you"), elsewhere, parse("study", "answer hi")
    )
    assert reply.messages[0].kind == "error"
    assert reply.messages[0].lines[0].startswith("This channel does not study with me yet")


# ---- the same on Slack, where these got no reply at all ------------------------------------


@pytest.mark.parametrize(
    ("command", "text", "channel", "reply"),
    [
        ("/quiz", "²", "C1", "Count must be a whole number from 1 to 20 (digits 0-9), not '²'."),
        ("/quiz", "--3", "C1", "(digits 0-9), not '--3'."),
        ("/study", "setup tz=Europe", "C1", "Unknown timezone 'Europe'"),
        ("/study", "streak U1 ²", "C1", "Days must be a whole number from 0 to 10000"),
        ("/study", "answer my answer", "D1", IN_CHANNEL.format("answer")),
    ],
)
async def test_on_slack_each_attack_gets_its_reply_and_no_error_is_counted(
    slack: SlackWorld, command: str, text: str, channel: str, reply: str
) -> None:
    (got,) = await slack.command(text, command=command, channel=channel)
    assert reply in got["text"]
    assert APOLOGY not in got["text"]
    assert slack.app.metrics.errors.labels("slack", "command")._value.get() == 0


async def test_on_slack_a_button_past_the_stores_integers_is_stale(slack: SlackWorld) -> None:
    (got,) = await slack.press(f"fu:show:{2**63}", "U1", "D1")
    assert STALE in got["text"]
    assert slack.app.metrics.errors.labels("slack", "button")._value.get() == 0
