"""What the fuzz suites type: real commands and options mixed with hostile tokens.

Lines come from a grammar of the real command set (``bot.core.commands``), so most of
them reach deep into the services, with tokens that broke the bot before mixed in:
digits of other scripts, numbers past every bound, stray signs, control characters,
very long words, timezone names that are folders or paths; plus fully random text.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from bot.core import actions
from bot.core.commands import SETUP_KEYS, STUDY_NAMES
from bot.core.models import Grade


def _scale() -> int:
    text = os.environ.get("STUDYBOT_FUZZ_EXAMPLES", "1")
    if not (text.isascii() and text.isdigit() and int(text) >= 1):
        raise ValueError(f"STUDYBOT_FUZZ_EXAMPLES must be a whole number from 1, not {text!r}")
    return int(text)


SCALE = _scale()
"""How many times the default number of examples each suite runs."""


def fuzz_settings(examples: int) -> settings:
    """Deterministic settings for ``examples`` inputs (times ``STUDYBOT_FUZZ_EXAMPLES``)."""
    return settings(
        max_examples=examples * SCALE,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


UNICODE_DIGITS = ("²", "٣", "５", "𝟙", "①", "߃", "፩", "३")
HUGE = (
    "9" * 5000,
    "1" * 19,
    str(2**63 - 1),
    str(2**63),
    str(2**64),
    "-" + "9" * 30,
    "0" * 40 + "3",
    "1e9",
    "3.0",
    "0x10",
    "1_000",
)
SIGNS = ("+", "-", "--", "++", "+-5", "--3", "-+2", "-0", "+5", "-3", "- 3")
CONTROL = ("\x00", "\x1b[31m", "\t", "\x7f", "\u200b", "\u2028", "\ufeff", "\x85", "\u202e")
QUOTES = ('"', "'", "\\", '"unclosed', "it's", "\\\\", '""')
MENTIONS = ("<@U1>", "<@U2|bob>", "<!channel>", "@here", "@alice", "<#C1>")
LONG = ("a" * 5000, "x" * 301, "é" * 200, "🔥" * 100)
TZ_VALUES = (
    "Europe",
    "A" * 300,
    "../../etc/passwd",
    "/etc/localtime",
    "Europe/Berlin",
    "UTC",
    "a\x00b",
    "Europe/",
    "zone.tab",
    "right/UTC",
    "America/Argentina",
    "Etc/GMT+5",
    "europe/berlin",
    "",
)
TIMES = ("09:30", "25:00", "9:5", "24:00", "00:00", "+6h", "+99h", "+0m", "+1h30m", "+" + "9" * 40)
DAYS = ("mon-fri", "sun-mon", "mon,,wed", "daily", "monday", "fri-mon", "mon-wed-fri", "")
NAMES = ("alpha", "beta", "gamma", "testdeck", "all", "*", "cooking", "mid", "lead", "guru")
WORDS = ("followups", "catchups", "confirm", "on", "off", "U1", "U2", "you", "bob", "UADMIN")
NUMBERS = ("0", "1", "2", "3", "5", "20", "21", "10000", "10001", "007")

hostile = st.sampled_from(
    UNICODE_DIGITS + HUGE + SIGNS + CONTROL + QUOTES + MENTIONS + LONG + NUMBERS
)
random_word = st.text(min_size=1, max_size=30)


@st.composite
def key_value(draw: st.DrawFn) -> str:
    key = draw(st.sampled_from((*SETUP_KEYS, "colour", "TZ", "", "time ")))
    value = draw(
        st.one_of(
            st.sampled_from(TZ_VALUES + TIMES + DAYS + NAMES),
            st.lists(st.sampled_from(NAMES), max_size=4).map(",".join),
            hostile,
            random_word,
        )
    )
    return f"{key}={value}"


token = st.one_of(
    st.sampled_from(WORDS + NAMES + NUMBERS),
    key_value(),
    hostile,
    random_word,
)
separator = st.sampled_from((" ", " ", " ", "  ", "\t", "\u3000", " \x00 "))


@st.composite
def words(draw: st.DrawFn, max_size: int = 5) -> str:
    parts = draw(st.lists(token, max_size=max_size))
    return "".join(draw(separator) + part for part in parts)


@st.composite
def study_text(draw: st.DrawFn) -> str:
    """The text after ``/study``: a subcommand (or not), then tokens."""
    sub: str = draw(
        st.one_of(
            *[st.sampled_from(STUDY_NAMES)] * 6,  # mostly real ones, to get past the parser
            *[st.sampled_from(("setup", "streak", "pause", "resume"))] * 2,  # with options
            st.sampled_from(STUDY_NAMES).map(str.upper),
            hostile,
            random_word,
            st.just(""),
        )
    )
    return sub + draw(words())


quiz_text = words(max_size=3)


@st.composite
def command_line(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        return "/study " + draw(study_text())
    return "/quiz" + draw(quiz_text)


def _button_ids() -> st.SearchStrategy[str]:
    number = st.one_of(
        st.integers(min_value=0, max_value=50),
        st.integers(min_value=2**63 - 2, max_value=2**64 + 1),
        st.integers(min_value=-5, max_value=10**30),
    ).map(str)
    part = st.one_of(number, hostile, st.sampled_from(("show", "grade", "fu", "qz", "rv")))
    prefix = st.sampled_from(("fu:show", "fu:grade", "qz:show", "qz:grade", "rv:grade", "zz:x"))
    built = st.tuples(prefix, st.lists(part, max_size=4)).map(lambda t: ":".join((t[0], *t[1])))
    real = st.one_of(
        st.integers(1, 40).map(actions.followup_show),
        st.tuples(st.integers(1, 40), st.sampled_from(list(Grade))).map(
            lambda t: f"{actions.followup_grades(t[0])}:{t[1].value}"
        ),
        st.tuples(st.integers(1, 40), st.integers(0, 6)).map(lambda t: actions.quiz_show(*t)),
        st.just(actions.FORGET_CONFIRM),
    )
    return st.one_of(real, built, st.text(max_size=60))


button_id = _button_ids()

speaker = st.sampled_from(("/as you", "/as you", "/as alice", "/as bob"))
"""Who speaks in an example (``you`` runs the channel: the first member seen)."""
console_only = st.one_of(
    st.sampled_from(
        (
            "/as alice",
            "/as you",
            "/delete",
            "+:x:",
            "+:white_check_mark:",
            "-:rocket:",
            "+:grimacing:",
            "+:nope:",
            "# a comment",
            "/study post-now",
            "/study post-now",
            "/study reveal-now",
            "/study setup days=daily",
            "/quiz 2",
            "/quiz alpha 1",
        )
    ),
    st.integers(min_value=0, max_value=40).map(str),
    hostile,
    st.tuples(st.just("/as"), random_word).map(" ".join),
    st.tuples(st.just("/edit"), words()).map("".join),
    random_word,
)
"""Console conventions: switching member, reactions, button numbers, edits."""


def _no_line_breaks(text: str) -> str:
    # The console reads lines: text mode turns \r and \r\n into \n, and \n ends a line.
    return text.replace("\n", " ").replace("\r", " ")


console_line = st.one_of(
    command_line(),
    command_line(),
    console_only,
    st.text(max_size=200),
).map(_no_line_breaks)
"""One line typed at the console."""
