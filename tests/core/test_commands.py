from datetime import time

import pytest

from bot.core.commands import (
    QUIZ,
    SETUP_KEYS,
    STUDY,
    STUDY_NAMES,
    QuizRequest,
    from_options,
    int_option,
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
            "share=off",
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
        "share": "off",
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
        (
            "streak",
            {"member": "U2", "days": 3, "reason": 'it\'s a "fix"'},
            'streak U2 3 it\'s a "fix"',
        ),
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


# ---- hostile input: a specific refusal, never a crash (issue 12) ---------------------------

COUNT_DIGITS = "Count must be a whole number from 1 to 20 (digits 0-9), not {}."


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("²", COUNT_DIGITS.format("'²'")),
        ("٣", COUNT_DIGITS.format("'٣'")),  # int() would read it as 3
        ("+-5", COUNT_DIGITS.format("'+-5'")),
        ("--3", COUNT_DIGITS.format("'--3'")),
        ("alpha ５", COUNT_DIGITS.format("'５'")),
        ("-3", "Count must be from 1 to 20, not -3."),
        ("21", "Count must be from 1 to 20, not 21."),
        ("9" * 5000, f"Count must be from 1 to 20, not '{'9' * 40}'… (5,000 characters)."),
        (str(2**64), f"Count must be from 1 to 20, not {2**64}."),
    ],
)
def test_a_quiz_count_is_ascii_digits_in_range(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_quiz(parse("quiz", text).args)
    assert refused.value.message == f"{message} Usage: /quiz [topic] [count]"


@pytest.mark.parametrize(("text", "count"), [("+5", 5), ("007", 7), ("0" * 40 + "3", 3)])
def test_a_quiz_count_may_have_a_plus_sign_or_leading_zeros(text: str, count: int) -> None:
    assert parse_quiz(parse("quiz", text).args).count == count


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("²", "Days must be a whole number from 0 to 10000 (digits 0-9), not '²'."),
        ("-1", "Days must be from 0 to 10000, not -1."),
        ("7" * 5000, f"Days must be from 0 to 10000, not '{'7' * 40}'… (5,000 characters)."),
    ],
)
def test_a_streak_repair_needs_a_number_of_days_in_range(text: str, message: str) -> None:
    streak = subcommand("streak")
    with pytest.raises(InvalidInput) as refused:
        int_option(streak, streak.option("days"), text)
    assert refused.value.message == f"{message} Usage: /study streak [MEMBER N [reason]]"


def test_long_unknown_words_are_named_but_cut() -> None:
    with pytest.raises(InvalidInput) as refused:
        parse("study", "x" * 5000)
    assert (
        refused.value.message
        == f"Unknown subcommand '{'x' * 40}'… (5,000 characters). Try /study help."
    )


def test_any_whitespace_separates_the_subcommand() -> None:
    assert parse("study", "setup\ttime=10:00").args == ("time=10:00",)
    tabbed = parse_line("/study\tstatus")
    assert tabbed is not None and tabbed.sub == "status"
    assert parse_line("/study\u3000status") is not None


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("Europe", "'Europe'"),  # a folder of the tz database
        ("America/Argentina", "'America/Argentina'"),
        ("../etc/passwd", "'../etc/passwd'"),
        ("/etc/localtime", "'/etc/localtime'"),
        ("a\x00b", "'a\\x00b'"),
        ("zone.tab", "'zone.tab'"),  # a file of the tz database that is no zone
        ("A" * 300, f"'{'A' * 40}'… (300 characters)"),
    ],
)
def test_setup_refuses_timezones_that_are_no_zone(value: str, shown: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        apply_setup(BASE, (f"tz={value}",), decks=DECKS, topics=TOPICS)
    assert refused.value.message == (
        f"Unknown timezone {shown}: use an IANA name such as Europe/Berlin."
    )


def test_channel_only_subcommands_are_marked() -> None:
    assert {s.name for s in STUDY if s.in_channel} == {
        "streak",
        "leaderboard",
        "status",
        "answer",
        "setup",
        "post-now",
        "reveal-now",
        "skip",
        "pause",
        "resume",
    }
    assert parse("study", "pause").needs_channel
    assert not parse("study", "pause followups").needs_channel
    assert not parse("study", "resume catchups").needs_channel
    assert not parse("study", "stats").needs_channel
    assert not parse("quiz", "").needs_channel


# ---- free text, and words where a number goes (issue 13) ----------------------------------


@pytest.mark.parametrize(
    ("text", "args"),
    [
        ("streak you 3 it's a fix", ("you", "3", "it's a fix")),
        ('streak bob 2 the "big" outage', ("bob", "2", 'the "big" outage')),
        ('streak "Ann Lee" 3 it\'s   spaced', ("Ann Lee", "3", "it's   spaced")),
        ("streak 'Ann Lee' 3 \"quoted reason\"", ("Ann Lee", "3", "quoted reason")),
        ("streak O'Brien 5", ("O'Brien", "5")),
        ("streak bob", ("bob",)),
        ("streak", ()),
    ],
)
def test_a_streak_reason_is_free_text_taken_verbatim(text: str, args: tuple[str, ...]) -> None:
    assert parse("study", text).args == args


def test_an_unclosed_quote_says_what_to_type() -> None:
    with pytest.raises(InvalidInput) as refused:
        parse("study", 'streak "Ann Lee 3 outage')
    assert refused.value.message == (
        "A quote is not closed in '\"Ann Lee 3 outage': put a value with spaces in a pair of"
        ' quotes, e.g. "Ann Lee", or leave the quotes out.'
    )
    with pytest.raises(InvalidInput, match="A quote is not closed"):
        parse("study", "setup tz='Europe/Berlin")


QUIZ_TOPICS = {"concurrency", "cloud-ops", "data", "data-ml", "leadership"}
NOT_A_COUNT = (
    "Count must be a whole number from 1 to 20 (digits 0-9), not {}. Usage: /quiz [topic] [count]"
)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("concurrency three", NOT_A_COUNT.format("'three'")),
        ("three concurrency", NOT_A_COUNT.format("'three'")),
        ("cloud ops lots", NOT_A_COUNT.format("'lots'")),
        ("three", NOT_A_COUNT.format("'three'")),
        (
            "data leadership",
            "Give one topic at a time: 'data' or 'leadership'? Usage: /quiz [topic] [count]",
        ),
    ],
)
def test_a_word_where_the_count_goes_is_no_count(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_quiz(parse("quiz", text).args, QUIZ_TOPICS)
    assert refused.value.message == message


@pytest.mark.parametrize(
    ("args", "topic", "count"),
    [
        (("cloud", "ops"), "cloud-ops", 5),
        (("Cloud_Ops", "3"), "cloud-ops", 3),
        (("2", "data", "ml"), "data-ml", 2),
        (("cloud ops",), "cloud-ops", 5),  # one typed Discord option
        (("LEADERSHIP",), "leadership", 5),
        (("cooking", "stuff", "3"), "cooking stuff", 3),  # the service names it as unknown
    ],
)
def test_a_topic_may_take_several_words(args: tuple[str, ...], topic: str, count: int) -> None:
    assert parse_quiz(args, QUIZ_TOPICS) == QuizRequest(topic, count)


def test_an_error_quoting_escaped_characters_stays_short() -> None:
    """Found by the parser fuzz: forty characters that repr escapes to ten each made a
    303-character error; the quoted part is bounded after escaping."""
    word = "00" + "\x1f" * 4 + "\U00010d28\U00012544\U0001342f\U00018d09\U00018d09\U0001ed3e"
    with pytest.raises(InvalidInput) as caught:
        parse("quiz", f' {word} 000000{word} "unclosed')
    assert "quote is not closed" in caught.value.message
    assert len(caught.value.message) <= 300
