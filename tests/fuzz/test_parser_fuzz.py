"""The command parser, button ids and timezone names: any text gets a value or a
``UserError`` with a short message, never another exception.

10,000 examples in all (times ``STUDYBOT_FUZZ_EXAMPLES``).
"""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from bot.core.actions import ID_MAX, parse_action
from bot.core.commands import (
    QUIZ_MAX,
    QUIZ_MIN,
    STUDY_NAMES,
    Command,
    int_option,
    parse,
    parse_line,
    parse_quiz,
    subcommand,
)
from bot.core.errors import UserError
from bot.core.models import ChannelSettings
from bot.core.schedule import parse_reveal, zone
from bot.core.setup import apply_setup
from tests.fuzz.grammar import (
    TZ_VALUES,
    button_id,
    command_line,
    fuzz_settings,
    hostile,
    quiz_text,
    study_text,
)

BASE = ChannelSettings("UTC", time(9, 30), frozenset(range(5)), parse_reveal("+6h"))
MESSAGE_MAX = 300
"""However long the input, an error message of the parser stays this short."""


def _checked(command: Command) -> None:
    """What the services do next with a parsed command must not fail either."""
    if command.name == "quiz":
        try:
            request = parse_quiz(command.args)
        except UserError as exc:
            _short(exc)
        else:
            assert QUIZ_MIN <= request.count <= QUIZ_MAX
        return
    assert command.sub in STUDY_NAMES
    if command.sub == "streak" and len(command.args) >= 2:
        streak = subcommand("streak")
        days = streak.option("days")
        try:
            value = int_option(streak, days, command.args[1])
        except UserError as exc:
            _short(exc)
        else:
            assert days.low is not None and days.high is not None
            assert days.low <= value <= days.high
    if command.sub == "setup":
        try:
            apply_setup(BASE, command.args, decks={"testdeck"}, topics={"alpha", "beta"})
        except UserError as exc:  # setup's own messages repeat values in full (cut on Slack)
            _said(exc)


def _said(exc: UserError) -> None:
    assert exc.message.strip()


def _short(exc: UserError) -> None:
    _said(exc)
    assert len(exc.message) <= MESSAGE_MAX, exc.message[:400]


@given(name=st.sampled_from(("study", "/study", "quiz", "/QUIZ")), text=study_text())
@fuzz_settings(3000)
def test_command_text_parses_or_is_refused(name: str, text: str) -> None:
    try:
        command = parse(name, text)
    except UserError as exc:
        _short(exc)
    else:
        _checked(command)


@given(text=quiz_text)
@fuzz_settings(1500)
def test_quiz_text_parses_or_is_refused(text: str) -> None:
    try:
        command = parse("quiz", text)
    except UserError as exc:
        _short(exc)
    else:
        _checked(command)


@given(line=st.one_of(command_line(), st.text(max_size=300), hostile))
@fuzz_settings(2500)
def test_any_line_is_a_command_nothing_or_refused(line: str) -> None:
    try:
        command = parse_line(line)
    except UserError as exc:
        _short(exc)
    else:
        if command is not None:
            _checked(command)


@given(action=button_id)
@fuzz_settings(1500)
def test_button_ids_are_ours_or_none(action: str) -> None:
    parsed = parse_action(action)
    if parsed is not None:
        assert all(0 <= n <= ID_MAX for n in parsed.ids)  # fits the store's integers


@given(name=st.one_of(st.sampled_from(TZ_VALUES), st.text(max_size=80), hostile))
@fuzz_settings(1500)
def test_timezone_names_give_a_zone_or_a_short_refusal(name: str) -> None:
    try:
        found = zone(name)
    except UserError as exc:
        _short(exc)
    else:
        assert isinstance(found, ZoneInfo)
