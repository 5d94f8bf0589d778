"""The command set every platform offers, and parsing of its text form.

Slack and the console hand us text (``/study setup time=10:00``); Discord hands typed
options that its adapter joins into the same ``Command``. ``STUDY`` is the single list
of subcommands: help text, platform registration and the parity test all read it.
"""

from __future__ import annotations

import io
import re
import shlex
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from bot.core.errors import SHOWN_MAX, InvalidInput, shown

QUIZ_MIN, QUIZ_MAX, QUIZ_DEFAULT = 1, 20, 5  # QUIZ's count option says the same
MAX_ANSWER_CHARS = 4000


OptionKind = Literal["text", "int", "bool", "member"]
OptionForm = Literal["key", "word", "value", "rest"]
Suggest = Literal["topics", "decks"]


@dataclass(frozen=True, slots=True)
class Option:
    """One typed option of a command, and how it joins the command's text form."""

    name: str
    kind: OptionKind
    description: str
    form: OptionForm = "key"
    """``key``: ``name=value``; ``word``: the bare name when true (a ``bool``); ``value``:
    the value as a positional argument; ``rest``: the value is the verbatim text."""
    required: bool = False
    low: int | None = None
    high: int | None = None
    """Bounds of an ``int``; ``high`` is the longest ``text``."""
    default: int | None = None
    suggest: Suggest | None = None
    """Platforms that can suggest values as one types (Discord autocomplete)."""


def _key(name: str, description: str, **more: Any) -> Option:
    return Option(name, "text", description, high=TEXT_MAX, **more)


def _word(name: str, description: str) -> Option:
    return Option(name, "bool", description, form="word")


TEXT_MAX = 100
"""The longest value of a text option (Discord bounds every string option)."""


@dataclass(frozen=True, slots=True)
class Subcommand:
    name: str
    usage: str
    summary: str
    admin: bool = False
    """Admins only (some options of a member command are, too: see ``Command.needs_admin``)."""
    options: tuple[Option, ...] = ()
    public: bool = False
    """Its outcome is shown to the channel when it succeeds; refusals stay private."""
    member_forms: bool = False
    """An admin subcommand that members use too, for their own things (pause followups)."""
    in_channel: bool = False
    """It acts on a study channel, so a DM gets a pointer there (its member forms work
    anywhere)."""

    def option(self, name: str) -> Option:
        return next(o for o in self.options if o.name == name)

    @property
    def admin_only(self) -> bool:
        """Nobody but an admin can use it in any form (platforms may hide it from others)."""
        return self.admin and not self.member_forms


_TOGGLE = (
    _word("followups", "Your review DMs instead of the channel"),
    _word("catchups", "Your DMs of questions you missed instead of the channel"),
    Option(
        "days",
        "text",
        "With followups on resume: your study days, e.g. mon,wed,fri (or channel)",
        high=40,
    ),
)
STUDY: tuple[Subcommand, ...] = (
    Subcommand("help", "/study help", "what the bot does and every command"),
    Subcommand(
        "streak",
        "/study streak [MEMBER N [reason]]",
        "your streak; admins can repair one",
        in_channel=True,
        options=(
            Option("member", "member", "Repair this member's streak (admin)", form="value"),
            Option("days", "int", "The streak to set", form="value", low=0, high=10_000),
            Option("reason", "text", "Why (kept in the audit log)", form="value", high=TEXT_MAX),
        ),
    ),
    Subcommand("leaderboard", "/study leaderboard", "this week's points so far", in_channel=True),
    Subcommand("stats", "/study stats", "your streak, points, cards learned, retention, due"),
    Subcommand("topics", "/study topics", "the topics you can study, with card counts"),
    Subcommand("status", "/study status", "this channel's schedule and state", in_channel=True),
    Subcommand(
        "answer",
        "/study answer TEXT",
        "answer today's question without the thread",
        in_channel=True,
        options=(Option("text", "text", "Your answer", form="rest", required=True, high=2000),),
    ),
    Subcommand("export", "/study export", "all your data as JSON"),
    Subcommand(
        "forget-me",
        "/study forget-me",
        "delete all your data",
        options=(_word("confirm", "Yes, delete everything the bot keeps about me"),),
    ),
    Subcommand(
        "setup",
        "/study setup [key=value ...]",
        "enable and configure",
        admin=True,
        in_channel=True,
        public=True,
        options=(
            _key("time", "Post time, HH:MM"),
            _key("tz", "Timezone, Area/City"),
            _key("days", "mon-fri or mon,wed,fri"),
            _key("reveal", "HH:MM or +6h"),
            _key("decks", "Comma list", suggest="decks"),
            _key("topics", "Comma list", suggest="topics"),
            _key("levels", "Comma list"),
            _key("catchups", "on or off: DMs of missed questions for this channel"),
            _key("share", "on or off: show the key points in the channel, not only the thread"),
        ),
    ),
    Subcommand(
        "post-now",
        "/study post-now [confirm]",
        "post today's question now (confirm: a missed day, late on purpose)",
        admin=True,
        in_channel=True,
        options=(_word("confirm", "Yes, post today's missed question late"),),
    ),
    Subcommand(
        "reveal-now",
        "/study reveal-now",
        "reveal the open question now",
        admin=True,
        in_channel=True,
    ),
    Subcommand(
        "skip", "/study skip", "skip today's question", admin=True, public=True, in_channel=True
    ),
    Subcommand(
        "pause",
        "/study pause [followups|catchups]",
        "pause the channel (or your review DMs, or your missed-question DMs)",
        admin=True,
        public=True,
        member_forms=True,
        in_channel=True,
        options=_TOGGLE[:2],
    ),
    Subcommand(
        "resume",
        "/study resume [followups [days=mon,wed,fri]|catchups]",
        "resume the channel (or your DMs, on your own study days)",
        admin=True,
        public=True,
        member_forms=True,
        in_channel=True,
        options=_TOGGLE,
    ),
)
STUDY_NAMES: tuple[str, ...] = tuple(s.name for s in STUDY)
QUIZ = Subcommand(
    "quiz",
    "/quiz [topic] [count]",
    "practice now",
    options=(
        Option(
            "topic", "text", "A topic (default: any)", form="value", high=TEXT_MAX, suggest="topics"
        ),
        Option(
            "count",
            "int",
            "How many cards",
            form="value",
            low=QUIZ_MIN,
            high=QUIZ_MAX,
            default=QUIZ_DEFAULT,
        ),
    ),
)
QUIZ_USAGE = QUIZ.usage
_QUIZ_COUNT = QUIZ.option("count")
SETUP_KEYS = tuple(o.name for o in STUDY[STUDY_NAMES.index("setup")].options)


def subcommand(name: str) -> Subcommand:
    return STUDY[STUDY_NAMES.index(name)]


DISCORD_ADMIN_GROUP = "study-admin"
"""Discord lists the admin-only subcommands under their own command, hidden from others."""


def _discord_head(spec: Subcommand) -> str:
    if spec is QUIZ:
        return "/quiz"
    return f"/{DISCORD_ADMIN_GROUP if spec.admin_only else 'study'} {spec.name}"


def usage_on(spec: Subcommand, platform: str) -> str:
    """How the command is typed on ``platform``: Slack and the console take text
    (``/study setup [key=value ...]``), Discord typed options (``/study-admin setup
    [time:…] [tz:…] …``)."""
    if platform != "discord":
        return spec.usage
    parts = [_discord_head(spec)]
    for o in spec.options:
        shown = f"{o.name}:True" if o.kind == "bool" else f"{o.name}:…"
        parts.append(shown if o.required else f"[{shown}]")
    return " ".join(parts)


def typed(platform: str, sub: str, *words: str, **values: str) -> str:
    """One concrete command as a member types it on ``platform``: ``/study post-now
    confirm`` here, ``/study-admin post-now confirm:True`` on Discord."""
    if platform == "discord":
        options = [f"{w}:True" for w in words] + [f"{k}:{v}" for k, v in values.items()]
        return " ".join([_discord_head(subcommand(sub)), *options])
    return " ".join(["/study", sub, *words, *(f"{k}={v}" for k, v in values.items())])


def from_options(spec: Subcommand, values: Mapping[str, object]) -> Command:
    """The ``Command`` a platform's typed options stand for (its text form's meaning).

    Options join in declaration order: ``key`` as ``name=value``, ``word`` as the bare
    name when true, ``value`` as a positional argument, ``rest`` as the verbatim text.
    Unset options (``None``, false) are left out.
    """
    args: list[str] = []
    rest = ""
    for option in spec.options:
        value = values.get(option.name)
        if value is None or value is False:
            continue
        if option.form == "key":
            args.append(f"{option.name}={value}")
        elif option.form == "word":
            args.append(option.name)
        elif option.form == "value":
            args.append(str(value))
        else:
            rest = str(value)
    if spec is QUIZ:
        return Command("quiz", None, tuple(args), " ".join(args))
    return Command("study", spec.name, tuple(args), rest or " ".join(args))


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    """``study`` or ``quiz``."""
    sub: str | None
    args: tuple[str, ...] = ()
    rest: str = ""
    """The text after the subcommand, verbatim (``/study answer`` keeps its spacing)."""

    @property
    def member_form(self) -> bool:
        """A member's own form of an admin subcommand (``/study pause followups``)."""
        return self.sub in ("pause", "resume") and self.args[:1] in (
            ("followups",),
            ("catchups",),
        )

    @property
    def needs_admin(self) -> bool:
        if self.name != "study" or self.sub is None or self.member_form:
            return False
        if self.sub == "streak":
            return bool(self.args)
        return any(s.admin for s in STUDY if s.name == self.sub)

    @property
    def needs_channel(self) -> bool:
        """It acts on a study channel, so it means nothing in a DM."""
        if self.name != "study" or self.sub is None or self.member_form:
            return False
        return any(s.in_channel for s in STUDY if s.name == self.sub)


def parse(name: str, text: str) -> Command:
    """Parse the text after ``/study`` or ``/quiz``."""
    name = name.lstrip("/").lower()
    if name not in ("study", "quiz"):
        raise InvalidInput(f"Unknown command {shown('/' + name)}. Try /study help.")
    text = text.strip()
    if name == "quiz":
        return Command("quiz", None, _split(text), text)
    if not text:
        return Command("study", "help")
    head, *more = text.split(maxsplit=1)
    sub = head.lower()
    if sub not in STUDY_NAMES:
        raise InvalidInput(f"Unknown subcommand {shown(head)}. Try /study help.")
    rest = more[0].strip() if more else ""
    return Command("study", sub, _arguments(subcommand(sub), rest), rest)


def _arguments(spec: Subcommand, text: str) -> tuple[str, ...]:
    """The arguments of ``spec`` typed as ``text``.

    A command whose last option is free text takes that text verbatim: quotes and
    apostrophes in a reason are the member's words, not syntax to balance.
    """
    last = spec.options[-1] if spec.options else None
    if last is None or last.kind != "text" or last.form not in ("value", "rest"):
        return _split(text)
    if last.form == "rest":
        return ()
    before = sum(1 for o in spec.options[:-1] if o.form == "value")
    return _split_leading(text, before)


_INT = re.compile(r"[+-]?[0-9]+")
"""A whole number as members type it: ASCII digits (``str.isdigit`` also accepts '²',
which ``int`` refuses), at most one sign."""
_INT_DIGITS_MAX = 18
"""Beyond this many digits a number is out of every range we have (and ``int`` of more
than 4,300 digits raises)."""


def looks_like_number(text: str) -> bool:
    """The member meant a number here (signs and digits of any script), valid or not."""
    body = text.lstrip("+-")
    return bool(body) and body.isdigit()


def read_int(text: str, *, what: str, low: int, high: int, usage: str = "") -> int:
    """``text`` as a whole number from ``low`` to ``high``, or ``InvalidInput`` naming it."""
    hint = f" Usage: {usage}" if usage else ""
    if not _INT.fullmatch(text):
        raise _not_whole(text, what=what, low=low, high=high, hint=hint)
    if len(text.lstrip("+-").lstrip("0")) > _INT_DIGITS_MAX or not low <= int(text) <= high:
        number = text if len(text) <= SHOWN_MAX else shown(text)  # digits: safe to repeat
        raise InvalidInput(f"{what} must be from {low} to {high}, not {number}.{hint}")
    return int(text)


def _not_whole(text: str, *, what: str, low: int, high: int, hint: str) -> InvalidInput:
    return InvalidInput(
        f"{what} must be a whole number from {low} to {high} (digits 0-9), not {shown(text)}.{hint}"
    )


def int_option(spec: Subcommand, option: Option, text: str) -> int:
    """The value of an ``int`` option typed as ``text``, within the option's bounds."""
    low, high = option.low, option.high
    if option.kind != "int" or low is None or high is None:
        raise TypeError(f"{spec.name} {option.name} is no bounded int option")
    return read_int(text, what=option.name.capitalize(), low=low, high=high, usage=spec.usage)


def parse_line(line: str) -> Command | None:
    """A typed line such as ``/quiz asyncio 3``; ``None`` if it is not a command."""
    stripped = line.strip()
    for name in ("study", "quiz"):
        prefix = f"/{name}"
        if stripped == prefix or (stripped.startswith(prefix) and stripped[len(prefix)].isspace()):
            return parse(name, stripped[len(prefix) :])
    return None


_UNCLOSED = (
    "A quote is not closed in {}: put a value with spaces in a pair of quotes,"
    ' e.g. "Ann Lee", or leave the quotes out.'
)


def _split(text: str) -> tuple[str, ...]:
    try:
        return tuple(shlex.split(text))
    except ValueError:
        raise InvalidInput(_UNCLOSED.format(shown(text))) from None


_QUOTES = "'\""


def _split_leading(text: str, count: int) -> tuple[str, ...]:
    """Up to ``count`` words (a quoted one may hold spaces), then the rest verbatim."""
    args: list[str] = []
    remaining = text.strip()
    while remaining and len(args) < count:
        if remaining[0] in _QUOTES:
            stream = io.StringIO(remaining)
            lexer = shlex.shlex(stream, posix=True)
            lexer.whitespace_split = True
            lexer.commenters = ""
            try:
                token = lexer.get_token()
            except ValueError:
                raise InvalidInput(_UNCLOSED.format(shown(remaining))) from None
            args.append(token or "")
            remaining = stream.read().lstrip()  # shlex stops right after the token
        else:
            word, *rest = remaining.split(maxsplit=1)
            args.append(word)
            remaining = rest[0] if rest else ""
    if remaining:
        args.append(_unquote(remaining.rstrip()))
    return tuple(args)


def _unquote(text: str) -> str:
    """``"a reason"`` is ``a reason``; any other use of quotes is kept as typed."""
    quoted = len(text) >= 2 and text[0] in _QUOTES and text[-1] == text[0]
    return text[1:-1] if quoted and text[0] not in text[1:-1] else text


@dataclass(frozen=True, slots=True)
class QuizRequest:
    topic: str | None
    count: int


_NUMBER_WORDS = frozenset(
    {
        "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
        "eighteen", "nineteen", "twenty",
    }
)  # fmt: skip


def topic_slug(words: list[str] | tuple[str, ...]) -> str:
    """``Cloud ops`` or ``cloud_ops`` as the topic id ``cloud-ops`` (ids are kebab-case)."""
    return "-".join(w.lower().replace("_", "-") for w in words)


def parse_quiz(args: tuple[str, ...], topics: Collection[str] = ()) -> QuizRequest:
    """``[topic] [count]`` in either order; count 1-20, default 5.

    Anything that looks like a number is the count (and must be a valid one); the other
    words name the topic, which may take several (``cloud ops`` is ``cloud-ops``). Given
    the ``topics`` that exist, a word that is no topic where the count goes (``/quiz
    concurrency three``) is refused as a count, not taken for a second topic.
    """
    words: list[str] = []
    count: int | None = None
    for arg in args:
        if looks_like_number(arg):
            if count is not None:
                raise InvalidInput(f"Give one count, not two. Usage: {QUIZ_USAGE}")
            count = int_option(QUIZ, _QUIZ_COUNT, arg)
        else:
            words.extend(arg.split())  # a typed option may hold "cloud ops"
    topic = _quiz_topic(words, topics, count_free=count is None) if words else None
    return QuizRequest(topic, QUIZ_DEFAULT if count is None else count)


def _not_a_count(word: str) -> InvalidInput:
    """A word where the count goes (``three``): the count is digits."""
    return _not_whole(word, what="Count", low=QUIZ_MIN, high=QUIZ_MAX, hint=f" Usage: {QUIZ_USAGE}")


def _quiz_topic(words: list[str], topics: Collection[str], *, count_free: bool) -> str:
    slug = topic_slug(words)
    if slug in topics:
        return slug
    if len(words) > 1 and all(topic_slug([w]) in topics for w in words):
        named = " or ".join(shown(w) for w in words[:3])
        raise InvalidInput(f"Give one topic at a time: {named}? Usage: {QUIZ_USAGE}")
    if count_free:
        if len(words) == 1 and slug in _NUMBER_WORDS:
            raise _not_a_count(words[0])
        if len(words) > 1:
            if not topics or topic_slug(words[:-1]) in topics:
                raise _not_a_count(words[-1])
            if topic_slug(words[1:]) in topics:
                raise _not_a_count(words[0])
    if len(words) == 1:
        return slug
    return " ".join(w.lower() for w in words)  # no topic: the service names it as typed
