from datetime import time

import pytest

from bot.core.commands import (
    QUIZ,
    SETUP_KEYS,
    STUDY,
    STUDY_NAMES,
    from_options,
    parse,
    parse_line,
    parse_quiz,
    subcommand,
)
from bot.core.errors import InvalidInput
from bot.core.models import ChannelSettings
from bot.core.schedule import parse_reveal
from bot.core.setup import apply_setup, describe

BASE = ChannelSettings("UTC", time(9, 30), frozenset(range(5)), parse_reveal("+6h"))
DECKS = {"python-system-design"}
TOPICS = {"concurrency", "data"}


def test_required_subcommands_exist() -> None:
    required = "streak leaderboard stats topics help status setup post-now reveal-now skip pause resume answer forget-me export"
    assert set(required.split()) == set(STUDY_NAMES)


def test_parse_study_and_quiz() -> None:
    cmd = parse_line("/study setup time=10:00 days=mon,wed")
    assert cmd is not None
    assert (cmd.sub, cmd.args) == ("setup", ("time=10:00", "days=mon,wed"))
    assert parse_line("/studying") is None
    assert parse_line("hello /study") is None
    answer = parse_line("/study answer  it  depends: on 'quotes'")
    assert answer is not None and answer.rest == "it  depends: on 'quotes'"
    assert parse("study", "").sub == "help"


def test_admin_rules() -> None:
    assert parse("study", "setup").needs_admin
    assert parse("study", "pause").needs_admin
    assert not parse("study", "pause followups").needs_admin
    assert not parse("study", "streak").needs_admin
    assert parse("study", "streak bob 4").needs_admin
    assert not parse("quiz", "").needs_admin


def test_unknown_subcommand() -> None:
    with pytest.raises(InvalidInput, match="Unknown subcommand 'dance'"):
        parse("study", "dance")


@pytest.mark.parametrize(
    ("args", "topic", "count"),
    [((), None, 5), (("asyncio",), "asyncio", 5), (("3",), None, 3), (("7", "data"), "data", 7)],
)
def test_parse_quiz(args: tuple[str, ...], topic: str | None, count: int) -> None:
    request = parse_quiz(args)
    assert (request.topic, request.count) == (topic, count)


@pytest.mark.parametrize("args", [("0",), ("21",), ("-3",), ("a", "b"), ("1", "2")])
def test_parse_quiz_rejects(args: tuple[str, ...]) -> None:
    with pytest.raises(InvalidInput):
        parse_quiz(args)


def test_setup_applies_everything() -> None:
    new = apply_setup(
        BASE,
        (
            "time=10:15",
            "tz=Asia/Kolkata",
            "days=mon,wed,fri",
            "reveal=15:00",
            "topics=data",
            "levels=senior,lead",
            "catchups=off",
        ),
        decks=DECKS,
        topics=TOPICS,
    )
    assert dict(describe(new)) == {
        "time": "10:15",
        "tz": "Asia/Kolkata",
        "days": "mon,wed,fri",
        "reveal": "15:00",
        "decks": "all",
        "topics": "data",
        "levels": "senior,lead",
        "catchups": "off",
    }


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        ("time=25:00", "Invalid time"),
        ("tz=Mars/Base", "Unknown timezone"),
        ("days=funday", "Invalid days"),
        ("catchups=maybe", "Invalid catchups"),
        ("reveal=+99h", "Invalid reveal"),
        ("topics=cooking", "Unknown topics: cooking"),
        ("decks=nope", "Unknown decks"),
        ("levels=guru", "Unknown levels"),
        ("colour=red", "Unknown setting 'colour'"),
        ("time", "Expected key=value"),
    ],
)
def test_setup_rejects_bad_values_all_or_nothing(arg: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        apply_setup(BASE, ("time=11:00", arg), decks=DECKS, topics=TOPICS)


# ---- commands as data: typed options mean what the text form means ----------------------


@pytest.mark.parametrize(
    ("name", "values", "text"),
    [
        (
            "setup",
            {"time": "10:00", "tz": "Europe/Berlin", "catchups": "off"},
            "setup time=10:00 tz=Europe/Berlin catchups=off",
        ),
        ("streak", {"member": "U2", "days": 4, "reason": "outage"}, "streak U2 4 outage"),
        ("resume", {"followups": True, "days": "mon,wed"}, "resume followups days=mon,wed"),
        ("pause", {"catchups": True, "followups": False}, "pause catchups"),
        ("forget-me", {"confirm": True}, "forget-me confirm"),
        ("forget-me", {"confirm": False}, "forget-me"),
        ("stats", {}, "stats"),
    ],
)
def test_typed_options_make_the_command_the_text_makes(
    name: str, values: dict[str, object], text: str
) -> None:
    typed = from_options(subcommand(name), values)
    parsed = parse("study", text)
    assert (typed.name, typed.sub, typed.args) == (parsed.name, parsed.sub, parsed.args)


def test_an_answer_keeps_its_text_verbatim_and_a_quiz_its_order() -> None:
    answer = from_options(subcommand("answer"), {"text": "a  b\n c"})
    assert (answer.sub, answer.args, answer.rest) == ("answer", (), "a  b\n c")
    quiz = from_options(QUIZ, {"topic": "asyncio", "count": 3})
    assert (quiz.name, quiz.args) == ("quiz", ("asyncio", "3"))
    assert parse_quiz(quiz.args) == parse_quiz(parse("quiz", "asyncio 3").args)


def test_every_option_is_described_and_bounded() -> None:
    for spec in (*STUDY, QUIZ):
        for option in spec.options:
            assert option.description, f"{spec.name} {option.name}"
            if option.kind in ("text", "int"):
                assert option.high is not None, f"{spec.name} {option.name} has no bound"


def test_setup_keys_are_the_setup_options() -> None:
    assert "catchups" in SETUP_KEYS
    assert tuple(o.name for o in subcommand("setup").options) == SETUP_KEYS
