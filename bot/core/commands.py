"""The command set every platform offers, and parsing of its text form.

Slack and the console hand us text (``/study setup time=10:00``); Discord hands typed
options that its adapter joins into the same ``Command``. ``STUDY`` is the single list
of subcommands: help text, platform registration and the parity test all read it.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from bot.core.errors import InvalidInput

QUIZ_MIN, QUIZ_MAX, QUIZ_DEFAULT = 1, 20, 5
MAX_ANSWER_CHARS = 4000


@dataclass(frozen=True, slots=True)
class Subcommand:
    name: str
    usage: str
    summary: str
    admin: bool = False


STUDY: tuple[Subcommand, ...] = (
    Subcommand("help", "/study help", "what the bot does and every command"),
    Subcommand("streak", "/study streak [MEMBER N [reason]]", "your streak; admins can repair one"),
    Subcommand("leaderboard", "/study leaderboard", "this week's points so far"),
    Subcommand("stats", "/study stats", "your streak, points, cards learned, retention, due"),
    Subcommand("topics", "/study topics", "the topics you can study, with card counts"),
    Subcommand("status", "/study status", "this channel's schedule and state"),
    Subcommand("answer", "/study answer TEXT", "answer today's question without the thread"),
    Subcommand("export", "/study export", "all your data as JSON"),
    Subcommand("forget-me", "/study forget-me", "delete all your data"),
    Subcommand("setup", "/study setup [key=value ...]", "enable and configure", admin=True),
    Subcommand("post-now", "/study post-now", "post today's question now", admin=True),
    Subcommand("reveal-now", "/study reveal-now", "reveal the open question now", admin=True),
    Subcommand("skip", "/study skip", "skip today's question", admin=True),
    Subcommand(
        "pause",
        "/study pause [followups|catchups]",
        "pause the channel (or your review DMs, or your missed-question DMs)",
        admin=True,
    ),
    Subcommand(
        "resume",
        "/study resume [followups [days=mon,wed,fri]|catchups]",
        "resume the channel (or your DMs, on your own study days)",
        admin=True,
    ),
)
STUDY_NAMES: tuple[str, ...] = tuple(s.name for s in STUDY)
QUIZ_USAGE = "/quiz [topic] [count]"
SETUP_KEYS = ("time", "tz", "days", "reveal", "decks", "topics", "levels", "catchups")


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    """``study`` or ``quiz``."""
    sub: str | None
    args: tuple[str, ...] = ()
    rest: str = ""
    """The text after the subcommand, verbatim (``/study answer`` keeps its spacing)."""

    @property
    def needs_admin(self) -> bool:
        if self.name != "study" or self.sub is None:
            return False
        if self.sub in ("pause", "resume") and self.args[:1] in (("followups",), ("catchups",)):
            return False
        if self.sub == "streak":
            return bool(self.args)
        return any(s.admin for s in STUDY if s.name == self.sub)


def parse(name: str, text: str) -> Command:
    """Parse the text after ``/study`` or ``/quiz``."""
    name = name.lstrip("/").lower()
    if name not in ("study", "quiz"):
        raise InvalidInput(f"Unknown command /{name}. Try /study help.")
    text = text.strip()
    if name == "quiz":
        return Command("quiz", None, _split(text), text)
    if not text:
        return Command("study", "help")
    head, _, rest = text.partition(" ")
    sub = head.lower()
    if sub not in STUDY_NAMES:
        raise InvalidInput(f"Unknown subcommand {head!r}. Try /study help.")
    rest = rest.strip()
    args = () if sub == "answer" else _split(rest)
    return Command("study", sub, args, rest)


def parse_line(line: str) -> Command | None:
    """A typed line such as ``/quiz asyncio 3``; ``None`` if it is not a command."""
    stripped = line.strip()
    for name in ("study", "quiz"):
        prefix = f"/{name}"
        if stripped == prefix or stripped.startswith(prefix + " "):
            return parse(name, stripped[len(prefix) :])
    return None


def _split(text: str) -> tuple[str, ...]:
    try:
        return tuple(shlex.split(text))
    except ValueError as exc:
        raise InvalidInput(f"Could not read the arguments: {exc}.") from None


@dataclass(frozen=True, slots=True)
class QuizRequest:
    topic: str | None
    count: int


def parse_quiz(args: tuple[str, ...]) -> QuizRequest:
    """``[topic] [count]`` in either order; count 1-20, default 5."""
    topic: str | None = None
    count: int | None = None
    for arg in args:
        if arg.lstrip("+-").isdigit():
            if count is not None:
                raise InvalidInput(f"Give one count, not two. Usage: {QUIZ_USAGE}")
            count = int(arg)
        elif topic is None:
            topic = arg.lower()
        else:
            raise InvalidInput(f"Give one topic, not two. Usage: {QUIZ_USAGE}")
    if count is None:
        count = QUIZ_DEFAULT
    if not QUIZ_MIN <= count <= QUIZ_MAX:
        raise InvalidInput(f"Count must be from {QUIZ_MIN} to {QUIZ_MAX}, not {count}.")
    return QuizRequest(topic, count)
