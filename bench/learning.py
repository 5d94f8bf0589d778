"""Learning benchmark: the bot's FSRS follow-ups against a fixed review schedule.

    python bench/learning.py [--json] [--members N --cards N --days N --seed S] [--quick]

Simulated members have FSRS-6 memories whose parameters are drawn around the defaults
(seeded). On every study event a member's recall is sampled from their *true* memory and
their self-grade follows it (Again when forgotten, else Hard/Good/Easy); the true memory
is then updated with that grade. The bot is the real services on the real SQLite store,
driven by the real periodic jobs over a fake chat and a fake clock: members answer the
daily post in its thread, grade it with a reaction on the reveal, and open and grade
their review DMs with the DM's buttons. The baseline reviews each card +1, +3, +7 and
+21 days after it is posted, for every member, with the same true memories.

Participation p: on each day a member ignores everything (the post and any DMs) with
probability 1 - p. A fixed-schedule message sent on such a day is not read. A bot DM not
read on the day it arrived may be read on a later day; one older than 2 days is ignored
with probability 0.5.

Figures (targets with default settings in brackets):
  msgs_ratio_p100         the bot's review DMs per member / the fixed schedule's [<= 0.70]
  retention_delta_p100    end retention at day 90, bot minus fixed               [>= 0]
  msgs_ratio_p70, retention_delta_p70   the same at participation p = 0.7
  followup_dispatch_ratio the follow-up job's first batch to 10,000 members with 5 due
                          cards each, fake chat answering after 50 ms, over
                          DMs x latency / the dispatch's concurrency bound        [<= 1.5]
  due_selection_ms        one due-selection sweep, 1,000,000 card states of 100,000
                          members (median of 3)                                   [< 50]
Per policy: review messages per member, end retention (mean true recall probability at
day 90 over every member and every card posted so far, never studied = 0), the share of
those >= 0.9, and retention at day 120 with no reviews after day 90.

The clock steps 10 minutes through the waking hours of posting days and an hour at other
times (nothing in the bot is due at finer grain then); each job runs at a step once its
own ``every`` has passed, as the scheduler would run it. So the follow-up job (every 5
minutes in production) runs every 10: a batch goes out up to 5 minutes later, which no
member sees (they look at their DMs twice a day), and the full run fits in ~10 minutes.
Daily posts (09:30) and reveals (+6 h) fall on the grid, so they are never late. The
hourly streak roll-over runs daily (see SPACING).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from fsrs import Card as FsrsCard
from fsrs import Rating, Scheduler
from fsrs.scheduler import LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import Settings  # noqa: E402
from bot.core.commands import parse  # noqa: E402
from bot.core.errors import ChatError  # noqa: E402
from bot.core.models import Actor, Card, Grade, Place, Target  # noqa: E402
from bot.core.replies import Message, Reply  # noqa: E402
from bot.core.srsbook import SrsBook  # noqa: E402
from bot.core.tuning import TuneSettings  # noqa: E402
from bot.decks import DeckLibrary, find_content_dir  # noqa: E402
from bot.ports.chat import Chat, Chats, Posted  # noqa: E402
from bot.ports.records import ChannelRow, PostRow  # noqa: E402
from bot.ports.store import Tx  # noqa: E402
from bot.scheduler.jobs import Job, jobs  # noqa: E402
from bot.services.base import Deps  # noqa: E402
from bot.services.policy import Policy  # noqa: E402
from bot.services.study import StudyBot  # noqa: E402
from bot.store.sql import SqlStore  # noqa: E402
from tests.fakes import FakeChat, FakeClock  # noqa: E402

START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday, 00:00 UTC
PLATFORM, WORKSPACE, CHANNEL = "fake", "T1", "C1"
ADMIN = Actor(PLATFORM, WORKSPACE, "admin", "Ada")

# The simulated people.
SIGMA = 0.2  # spread of each member's FSRS parameters around the defaults (lognormal)
FIRST_RECALL = 0.6  # chance a member knows a never-seen card's answer
RECALLED = (Grade.HARD, Grade.GOOD, Grade.EASY)
RECALLED_WEIGHTS = (0.15, 0.7, 0.15)
STALE_DM = timedelta(days=2)  # DMs older than this are ignored with STALE_IGNORE
STALE_IGNORE = 0.5
FIXED_OFFSETS = (1, 3, 7, 21)  # the baseline's reviews, days after a card's post
LATER_DAYS = 30  # retention measured again this long after the last day, with no reviews

# ---- where this benchmark touches the bot (few on purpose: follow-ups are changing) --------

SHOW_PREFIX = "fu:show:"
"""The Show answer button of a review DM (a follow-up or a catch-up)."""
REVIEW_KINDS = ("followup", "catchup")
"""``Message.kind`` of the DMs that count as review messages."""


def due_selection(tx: Tx, now: datetime) -> int:
    """One sweep of the store's due selection (the follow-up job's selection step)."""
    return len(tx.reviews.due(now))


async def send_followups(study: StudyBot) -> int:
    """One run of the follow-up dispatch; how many DMs went out."""
    return await study.followups.send_due()


def dispatch_bound(policy: Policy) -> tuple[int, str | None]:
    """The bound on DMs in flight the dispatch uses, and a note when it is unknown."""
    bound = getattr(policy, "followup_concurrency", None)
    if isinstance(bound, int) and bound > 0:
        return bound, None
    return 1, "Policy.followup_concurrency does not exist: the ideal assumes one DM at a time"


def fill_derived(conn: Any) -> None:
    """After a bulk load straight into the tables: what the repositories keep up to date.

    ``members.next_due_at`` (when the store has it): each member's earliest reviewed card.
    """
    from sqlalchemy import func, select, update

    from bot.store.tables import card_states, members

    if "next_due_at" in members.c:
        earliest = (
            select(func.min(card_states.c.due_at))
            .where(card_states.c.member_id == members.c.id, card_states.c.reps > 0)
            .scalar_subquery()
        )
        conn.execute(update(members).values(next_due_at=earliest))


def grade_action(shown: Reply, followup_id: str, grade: Grade) -> str:
    """The grade button of a shown review (the action the platform would send back)."""
    wanted = f"fu:grade:{followup_id}:{int(grade)}"
    for message in shown.messages:
        for button in message.buttons:
            if button.action == wanted:
                return wanted
    for message in shown.messages:  # a changed format: match the grade's own button
        for button in message.buttons:
            if button.label.split(" · ")[0] == grade.label and button.action.startswith("fu:"):
                return button.action
    return wanted


def log(*parts: object) -> None:
    print(*parts, file=sys.stderr, flush=True)


# ---- configuration --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SimConfig:
    members: int = 100
    cards: int = 95
    days: int = 90
    seed: int = 1
    rates: tuple[float, ...] = (1.0, 0.7)
    dispatch_members: int = 10_000
    dispatch_cards: int = 5
    dispatch_latency: float = 0.05
    selection_states: int = 1_000_000
    selection_members: int = 100_000
    workers: int = 2
    step_minutes: int = 10
    retention: float | None = None
    """The bot's desired retention; None: the default setting (auto)."""
    """The clock's step in waking hours of posting days (the follow-up job's cadence)."""

    @classmethod
    def quick(cls) -> SimConfig:
        return cls(
            members=15,
            cards=20,
            days=28,
            dispatch_members=500,
            selection_states=50_000,
            selection_members=5_000,
            step_minutes=15,
        )


def rate_key(p: float) -> str:
    return f"p{round(p * 100)}"


# ---- true memories ---------------------------------------------------------------------------

DEFAULT_PARAMETERS: tuple[float, ...] = tuple(Scheduler().parameters)


def member_parameters(seed: int, member: int, sigma: float = SIGMA) -> tuple[float, ...]:
    """FSRS-6 parameters around the defaults: each times a lognormal factor, clamped."""
    rng = random.Random(f"params:{seed}:{member}")
    drawn = [
        min(max(value * math.exp(rng.gauss(0.0, sigma)), low), high)
        for value, low, high in zip(
            DEFAULT_PARAMETERS, LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS, strict=True
        )
    ]
    drawn[0:4] = sorted(drawn[0:4])  # initial stabilities keep Again < Hard < Good < Easy
    return tuple(drawn)


class Truth:
    """What each member really remembers of each card (one FSRS card per pair)."""

    def __init__(self, config: SimConfig, tag: str) -> None:
        self.schedulers = [
            Scheduler(
                parameters=member_parameters(config.seed, m),
                learning_steps=(),
                relearning_steps=(),
                enable_fuzzing=False,
            )
            for m in range(config.members)
        ]
        self.rngs = [
            random.Random(f"recall:{config.seed}:{tag}:{m}") for m in range(config.members)
        ]
        self.memory: dict[tuple[int, str], FsrsCard] = {}
        self.events = 0

    def recall(self, member: int, key: str, at: datetime) -> float:
        card = self.memory.get((member, key))
        if card is None:
            return 0.0
        return float(self.schedulers[member].get_card_retrievability(card, at))

    def study(self, member: int, key: str, at: datetime) -> Grade:
        """One study event: recall sampled from the true memory, a grade, the update."""
        rng = self.rngs[member]
        card = self.memory.get((member, key))
        if card is None:
            card = FsrsCard(card_id=1)  # fsrs sleeps 1 ms to invent an id when none is given
            recalled = rng.random() < FIRST_RECALL
        else:
            recalled = rng.random() < self.schedulers[member].get_card_retrievability(card, at)
        grade = rng.choices(RECALLED, RECALLED_WEIGHTS)[0] if recalled else Grade.AGAIN
        self.memory[(member, key)], _ = self.schedulers[member].review_card(
            card, Rating(int(grade)), review_datetime=at
        )
        self.events += 1
        return grade

    def retention(self, keys: Sequence[str], at: datetime) -> tuple[float, float]:
        """Mean recall probability over every member and card, and the share >= 0.9."""
        values = [self.recall(m, k, at) for m in range(len(self.schedulers)) for k in keys]
        if not values:
            return 0.0, 0.0
        return statistics.fmean(values), sum(v >= 0.9 for v in values) / len(values)


# ---- who takes part when ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Visit:
    """A member's day: whether they take part, and when they look at the chat."""

    takes_part: bool
    first: datetime
    """Posting days: answer the daily post and read DMs; other days: read DMs."""
    second: datetime | None
    """Posting days: grade the reveal and read DMs."""


def plan(config: SimConfig, p: float, post_days: frozenset[int]) -> list[list[Visit]]:
    """Each member's days. One uniform draw per day, so p = 0.7's days are within p = 1.0's."""
    visits = []
    for m in range(config.members):
        rng = random.Random(f"plan:{config.seed}:{m}")
        days = []
        for d in range(config.days + FIXED_OFFSETS[-1]):
            day = START + timedelta(days=d)
            u = rng.random()
            if day.weekday() in post_days:
                first = day + timedelta(minutes=9 * 60 + 35 + rng.randrange(6 * 60 - 10))
                second = day + timedelta(minutes=15 * 60 + 35 + rng.randrange(5 * 60 + 25))
                days.append(Visit(u < p, first, second))
            else:
                first = day + timedelta(minutes=9 * 60 + rng.randrange(12 * 60))
                days.append(Visit(u < p, first, None))
        visits.append(days)
    return visits


# ---- results ---------------------------------------------------------------------------------


@dataclass(slots=True)
class PolicyResult:
    messages_per_member: float
    retention_end: float
    share_090_end: float
    retention_later: float
    share_090_later: float
    study_events: int
    extra: dict[str, Any] = field(default_factory=dict)


def measure(
    truth: Truth, keys: Sequence[str], config: SimConfig, messages: int, extra: dict[str, Any]
) -> PolicyResult:
    end = START + timedelta(days=config.days)
    retention, share = truth.retention(keys, end)
    later, later_share = truth.retention(keys, end + timedelta(days=LATER_DAYS))
    return PolicyResult(
        messages_per_member=messages / config.members,
        retention_end=retention,
        share_090_end=share,
        retention_later=later,
        share_090_later=later_share,
        study_events=truth.events,
        extra=extra,
    )


# ---- the fixed schedule ----------------------------------------------------------------------


def simulate_fixed(
    config: SimConfig, visits: list[list[Visit]], posts: Sequence[tuple[int, str]], tag: str
) -> PolicyResult:
    """Every posted card reviewed +1, +3, +7, +21 days after its post, by every member."""
    truth = Truth(config, tag)
    per_member = sum(1 for day, _ in posts for o in FIXED_OFFSETS if day + o < config.days)
    read = 0
    for m in range(config.members):
        events: list[tuple[datetime, str]] = []
        for day, key in posts:
            if visits[m][day].takes_part:
                events.append((visits[m][day].first, key))  # the daily post itself
            for offset in FIXED_OFFSETS:
                review = day + offset
                if review < config.days and visits[m][review].takes_part:
                    events.append((visits[m][review].first, key))
                    read += 1
        for at, key in sorted(events):
            truth.study(m, key, at)
    keys = sorted({key for _, key in posts})
    sent = per_member * config.members  # every member gets every message, read or not
    return measure(truth, keys, config, sent, {"messages_sent": sent, "messages_read": read})


# ---- the bot -----------------------------------------------------------------------------------


def sim_library(cards: int) -> DeckLibrary:
    """The content's first deck cut to ``cards`` cards, taken round-robin over its topics."""
    full = DeckLibrary.load(find_content_dir())
    deck = next(iter(full.decks.values()))
    by_topic: defaultdict[str, list[Card]] = defaultdict(list)
    for card in deck.cards:
        by_topic[card.topic].append(card)
    order = sorted(
        deck.cards, key=lambda c: (by_topic[c.topic].index(c), list(by_topic).index(c.topic))
    )
    if cards > len(order):
        raise SystemExit(f"--cards {cards}: the deck has {len(order)} cards")
    return DeckLibrary({deck.id: replace(deck, cards=tuple(order[:cards]))})


def default_settings(retention: float | None = None) -> Settings:
    """The bot's defaults (no .env file), in UTC, with one admin; optionally a retention."""
    extra: dict[str, Any] = {} if retention is None else {"desired_retention": retention}
    return Settings(_env_file=None, default_tz="UTC", admins=["admin"], **extra)


async def build_study(
    db: Path, chat: Chat, clock: FakeClock, library: DeckLibrary, settings: Settings
) -> tuple[SqlStore, StudyBot]:
    """The services as ``bot.app`` builds them, on a fresh store."""
    store = await SqlStore.open(f"sqlite+aiosqlite:///{db}")
    chats = Chats()
    chats.add(chat)
    book = await asyncio.to_thread(SrsBook, retention=settings.desired_retention)
    deps = Deps(
        store=store,
        chats=chats,
        clock=clock,
        decks=library,
        srs=book.default,
        policy=settings.policy(),
        book=book,
        tune=TuneSettings(min_reviews=settings.tune_min_reviews),
    )
    study = StudyBot(deps)
    await study.tuning.refresh()
    return store, study


def is_error(reply: Reply) -> bool:
    return any(m.kind == "error" for m in reply.messages)


def text_of(reply: Reply) -> str:
    return " / ".join(m.plain_text() for m in reply.messages)


SPACING = {"streaks": 24 * 3600.0}
"""Jobs run less often than their ``every``: the hourly streak roll-over changes no review
schedule, and each run re-folds every membership (the simulation's costliest job)."""


class JobRunner:
    """The scheduler's part: run each job when its ``every`` has passed (bot time)."""

    def __init__(self, job_list: list[Job]) -> None:
        self.jobs = job_list
        self.last: dict[str, datetime] = {}
        self.runs: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.first_errors: list[str] = []
        self.seconds: defaultdict[str, float] = defaultdict(float)

    async def tick(self, now: datetime) -> None:
        for job in self.jobs:
            last = self.last.get(job.name)
            every = max(job.every, SPACING.get(job.name, 0.0))
            if last is not None and (now - last).total_seconds() < every:
                continue
            self.last[job.name] = now
            started = time.perf_counter()
            try:
                await job.run()
            except Exception as exc:  # a failing job is a finding, not the end of the run
                self.errors[job.name] += 1
                if len(self.first_errors) < 5:
                    self.first_errors.append(f"{now:%Y-%m-%d %H:%M} {job.name}: {exc!r}")
                    log(f"job {job.name} failed at {now}: {exc!r}")
            self.runs[job.name] += 1
            self.seconds[job.name] += time.perf_counter() - started


def steps(day: datetime, policy: Policy, study_day: bool, minutes: int) -> list[datetime]:
    """Job ticks of one day: every ``minutes`` in waking hours of study days, else hourly."""
    ticks = {day + timedelta(hours=h) for h in range(24)}
    if study_day:
        at = day + timedelta(hours=policy.waking_start.hour, minutes=policy.waking_start.minute)
        closes = day + timedelta(hours=policy.waking_end.hour, minutes=policy.waking_end.minute)
        while at <= closes:
            ticks.add(at)
            at += timedelta(minutes=minutes)
    return sorted(ticks)


@dataclass(slots=True)
class Inbox:
    """A member's unread review DMs, oldest first."""

    items: list[tuple[datetime, Message]] = field(default_factory=list)


class BotWorld:
    """Members acting on the real services; the true memories follow what they see."""

    def __init__(
        self,
        config: SimConfig,
        study: StudyBot,
        chat: FakeChat,
        clock: FakeClock,
        store: SqlStore,
        truth: Truth,
        library: DeckLibrary,
        rng: random.Random,
    ) -> None:
        self.config, self.study, self.chat, self.clock = config, study, chat, clock
        self.store, self.truth, self.rng = store, truth, rng
        self.questions = {c.question: c.key for c in library.cards()}
        self.actors = [
            Actor(PLATFORM, WORKSPACE, f"U{m}", f"member{m}") for m in range(config.members)
        ]
        self.index = {a.user: m for m, a in enumerate(self.actors)}
        self.inboxes = [Inbox() for _ in range(config.members)]
        self.sent_seen = 0
        self.dms_seen = 0
        self.posts: dict[int, tuple[str, str]] = {}  # day -> (thread ref, card key)
        self.post_list: list[tuple[int, str]] = []
        self.reveals: dict[str, str] = {}  # thread ref -> reveal message ref
        self.pending: dict[tuple[int, int], Grade] = {}  # (member, day) -> grade to react
        self.counts: Counter[str] = Counter()
        self.dm_kinds: Counter[str] = Counter()
        self.events = 0

    def place(self, thread: str | None = None) -> Place:
        return Place(PLATFORM, WORKSPACE, CHANNEL, thread)

    async def collect(self) -> None:
        """Note what the bot sent since the last look: posts, reveals, DMs."""
        for sent in self.chat.sent[self.sent_seen :]:
            if sent.kind == "daily_post":
                found = await self.store.read(partial(_post_in_thread, sent.ref))
                if found is not None and found[1].card_key is not None:
                    day = (self.clock.now() - START).days
                    self.posts[day] = (sent.ref, found[1].card_key)
                    self.post_list.append((day, found[1].card_key))
            elif sent.kind == "reveal" and sent.target.thread is not None:
                self.reveals[sent.target.thread] = sent.ref
        self.sent_seen = len(self.chat.sent)
        now = self.clock.now()
        for user, message, _ref in self.chat.dms[self.dms_seen :]:
            self.dm_kinds[message.kind] += 1
            member = self.index.get(user)
            if member is not None and _show_action(message) is not None:
                self.inboxes[member].items.append((now, message))
        self.dms_seen = len(self.chat.dms)

    def event_id(self) -> str:
        self.events += 1
        return f"sim{self.events}"

    async def answer(self, m: int, day: int) -> None:
        post = self.posts.get(day)
        if post is None:
            self.counts["no_post_to_answer"] += 1
            return
        thread, key = post
        self.pending[(m, day)] = self.truth.study(m, key, self.clock.now())
        reply = await self.study.message(
            self.actors[m],
            self.place(thread),
            f"answer-{m}-{day}",
            "My answer, as far as I remember it.",
            event_id=self.event_id(),
        )
        self.counts["answer_errors" if is_error(reply) else "answers"] += 1

    async def grade_reveal(self, m: int, day: int) -> None:
        grade = self.pending.pop((m, day), None)
        post = self.posts.get(day)
        if grade is None or post is None:
            return
        reveal = self.reveals.get(post[0])
        if reveal is None:
            self.counts["no_reveal_to_grade"] += 1
            return
        reply = await self.study.reaction(
            self.actors[m],
            self.place(post[0]),
            reveal,
            self.study.policy.emoji_for(grade),
            added=True,
            event_id=self.event_id(),
        )
        self.counts["reveal_grade_errors" if is_error(reply) else "reveal_grades"] += 1

    async def read_dms(self, m: int) -> None:
        now = self.clock.now()
        inbox = self.inboxes[m]
        items, inbox.items = inbox.items, []
        for arrived, message in items:
            if now - arrived > STALE_DM and self.rng.random() < STALE_IGNORE:
                self.counts["dms_ignored_stale"] += 1
                continue
            await self.review(m, message)

    async def review(self, m: int, message: Message) -> None:
        action = _show_action(message)
        assert action is not None
        followup_id = action.removeprefix(SHOW_PREFIX)
        actor = self.actors[m]
        shown = await self.study.button(actor, action)
        if is_error(shown):
            self.counts["dms_dead"] += 1  # the member could not see the answer
            self.counts[f"dead: {text_of(shown)[:60]}"] += 1
            return
        key = await self.card_of(message, followup_id)
        grade = self.truth.study(m, key, self.clock.now())
        graded = await self.study.button(actor, grade_action(shown, followup_id, grade))
        if is_error(graded):
            self.counts["dm_grades_rejected"] += 1
            self.counts[f"rejected: {text_of(graded)[:60]}"] += 1
        else:
            self.counts[f"dm_grades_{message.kind}"] += 1

    async def card_of(self, message: Message, followup_id: str) -> str:
        for line in message.lines:
            if line in self.questions:
                return self.questions[line]
        row = await self.store.read(lambda tx: tx.followups.get(int(followup_id)))
        if row is None:
            raise RuntimeError(f"cannot tell which card DM {followup_id} is about")
        return str(row.card_key)


def _post_in_thread(ref: str, tx: Tx) -> tuple[ChannelRow, PostRow] | None:
    return tx.posts.in_thread(PLATFORM, WORKSPACE, CHANNEL, ref)


def _show_action(message: Message) -> str | None:
    if message.kind not in REVIEW_KINDS:
        return None
    for button in message.buttons:
        if button.action.startswith(SHOW_PREFIX):
            return button.action
    return None


@dataclass(slots=True)
class BotRun:
    result: PolicyResult
    posts: list[tuple[int, str]]


async def simulate_bot(config: SimConfig, visits: list[list[Visit]], tag: str) -> BotRun:
    library = sim_library(config.cards)
    settings = default_settings(config.retention)
    random.seed(f"fuzz:{config.seed}:{tag}")  # the bot's interval fuzz uses the global rng
    chat, clock = FakeChat(platform=PLATFORM), FakeClock(START + timedelta(hours=8))
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        store, study = await build_study(Path(folder) / "sim.db", chat, clock, library, settings)
        try:
            policy = study.policy
            reply = await study.command(
                ADMIN, Place(PLATFORM, WORKSPACE, CHANNEL), parse("study", "setup")
            )
            if is_error(reply):
                raise RuntimeError(f"/study setup failed: {text_of(reply)}")
            truth = Truth(config, tag)
            world = BotWorld(
                config, study, chat, clock, store, truth, library, random.Random(f"dm:{tag}")
            )
            runner = JobRunner(jobs(study, settings.tick_seconds))
            post_days = policy.defaults.days
            for d in range(config.days):
                day = START + timedelta(days=d)
                study_day = day.weekday() in post_days
                timeline: list[tuple[datetime, int, str, int]] = [
                    (at, 0, "jobs", -1)
                    for at in steps(day, policy, study_day, config.step_minutes)
                    if at >= clock.now()
                ]
                for m in range(config.members):
                    visit = visits[m][d]
                    if not visit.takes_part:
                        continue
                    timeline.append((visit.first, 1, "first", m))
                    if visit.second is not None:
                        timeline.append((visit.second, 1, "second", m))
                timeline.sort()
                for at, _, what, m in timeline:
                    clock.set(max(at, clock.now()))
                    if what == "jobs":
                        await runner.tick(clock.now())
                        await world.collect()
                    elif what == "first":
                        await world.read_dms(m)
                        if study_day:
                            await world.answer(m, d)
                    else:
                        await world.grade_reveal(m, d)
                        await world.read_dms(m)
                if d % 10 == 9:
                    log(
                        f"  {tag} day {d + 1}/{config.days}: {len(chat.dms)} DMs, "
                        f"{time.perf_counter() - started:.0f} s"
                    )
            clock.set(START + timedelta(days=config.days))
            await world.collect()
            tuned = await store.read(lambda tx: tx.tuning.adopted())
        finally:
            await store.close()
    review_dms = sum(world.dm_kinds[k] for k in REVIEW_KINDS)
    keys = sorted({key for _, key in world.post_list})
    extra: dict[str, Any] = {
        "dms_total": len(chat.dms),
        "dms_by_kind": dict(world.dm_kinds),
        "daily_posts": len(world.post_list),
        "unread_at_end": sum(len(i.items) for i in world.inboxes),
        **dict(sorted(world.counts.items())),
        "job_runs": dict(runner.runs),
        "job_seconds": {k: round(v, 1) for k, v in runner.seconds.items()},
        "job_errors": dict(runner.errors),
        "first_job_errors": runner.first_errors,
        "parameters_adopted": len(tuned),
        "sim_s": round(time.perf_counter() - started, 1),
    }
    return BotRun(measure(truth, keys, config, review_dms, extra), world.post_list)


def simulate_rate(config: SimConfig, p: float) -> dict[str, Any]:
    """Both policies at participation ``p``, on the same posts and true memories."""
    quiet()  # also in a worker process
    post_days = default_settings().policy().defaults.days
    visits = plan(config, p, post_days)
    tag = rate_key(p)
    log(f"bot at {tag} ...")
    bot = asyncio.run(simulate_bot(config, visits, f"bot:{tag}"))
    fixed = simulate_fixed(config, visits, bot.posts, f"fixed:{tag}")
    return {"bot": asdict(bot.result), "fixed": asdict(fixed)}


# ---- dispatch and selection at scale ---------------------------------------------------------


class SlowChat:
    """A chat whose DMs take ``latency`` seconds to answer; counts what is in flight."""

    platform = PLATFORM

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.in_flight = 0
        self.max_in_flight = 0
        self.dms = 0

    async def post(
        self, target: Target, message: Message, *, key: str | None = None, thread: bool = False
    ) -> Posted:
        raise ChatError("this benchmark only sends DMs")

    async def find_post(self, target: Target, key: str) -> Posted | None:
        return None

    async def react(self, target: Target, message_ref: str, emoji: str) -> None:
        return None

    async def send_dm(
        self, workspace: str, user_ref: str, message: Message, *, key: str | None = None
    ) -> Posted:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.latency)
        finally:
            self.in_flight -= 1
        self.dms += 1
        return Posted(f"dm{self.dms}", f"dm{self.dms}")

    async def find_dm(self, workspace: str, user_ref: str, key: str) -> Posted | None:
        return None

    async def check_post(self, target: Target) -> str | None:
        return None

    async def edit_dm(
        self, workspace: str, user_ref: str, message_ref: str, message: Message
    ) -> None:
        return None


async def dispatch_ratio(tmp: Path, config: SimConfig) -> dict[str, Any]:
    """The follow-up job's first batch to many members, each with due cards."""
    from bot.core.srs import Srs

    library = DeckLibrary.load(find_content_dir())
    keys = [c.key for c in list(library.cards())[: config.dispatch_cards]]
    settings = default_settings()
    now = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # a Wednesday, inside waking hours
    chat = SlowChat(config.dispatch_latency)
    store, study = await build_study(tmp / "dispatch.db", chat, FakeClock(now), library, settings)
    try:
        srs = Srs(fuzz=False)
        past = now - timedelta(days=6)
        state = srs.review(srs.new(past), Grade.GOOD, past)  # due a few days after ``past``
        assert state.due <= now

        def seed(tx: Tx) -> None:
            for n in range(config.dispatch_members):
                member = tx.members.ensure(PLATFORM, WORKSPACE, f"U{n}", f"member{n}", None, past)
                for key in keys:
                    tx.reviews.save_state(
                        member.id, key, state, first_seen=past, origin_channel_id=None
                    )

        log(f"seeding {config.dispatch_members:,} members x {len(keys)} due cards ...")
        seeding = time.perf_counter()
        await store.write(seed)
        log(f"  seeded in {time.perf_counter() - seeding:.0f} s")
        bound, note = dispatch_bound(study.policy)
        if note:
            log(f"note: {note}")
        log("dispatching ...")
        started = time.perf_counter()
        sent = await send_followups(study)
        elapsed = time.perf_counter() - started
    finally:
        await store.close()
    ideal = chat.dms * config.dispatch_latency / bound
    return {
        "followup_dispatch_ratio": round(elapsed / ideal, 3) if ideal else None,
        "dispatch_s": round(elapsed, 2),
        "dispatch_ideal_s": round(ideal, 2),
        "dispatch_dms": chat.dms,
        "dispatch_reported": sent,
        "dispatch_expected": config.dispatch_members * len(keys),
        "dispatch_max_in_flight": chat.max_in_flight,
        "dispatch_bound": bound,
        "dispatch_note": note,
    }


def bulk_states(db: Path, rows: int, member_count: int, now: datetime) -> None:
    """Members and card states straight into the store's tables (a bulk load)."""
    from sqlalchemy import create_engine, event, select

    from bot.store.tables import members

    engine = create_engine(f"sqlite:///{db}")

    @event.listens_for(engine, "connect")
    def _fast(conn: Any, _record: Any) -> None:
        conn.execute("PRAGMA synchronous=OFF")

    created = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            members.insert(),
            [
                {
                    "platform": PLATFORM,
                    "workspace": "B",
                    "user_ref": f"B{m}",
                    "name": f"bulk{m}",
                    "followups_paused": False,
                    "created_at": created,
                }
                for m in range(member_count)
            ],
        )
        first = conn.execute(
            select(members.c.id).where(members.c.workspace == "B").order_by(members.c.id).limit(1)
        ).scalar_one()
    rng = random.Random(3)
    per_member = rows // member_count
    stamp = "%Y-%m-%d %H:%M:%S.%f"  # how the store's UTCDateTime columns hold SQLite text
    made = created.strftime(stamp)
    minutes = (-60 * 24 * 3, 60 * 24 * 90)  # due from 3 days ago to 90 days ahead
    insert = (
        "INSERT INTO card_states (member_id, card_key, state, stability, difficulty, due_at, "
        "last_review, reps, lapses, first_seen) VALUES (?, ?, 2, 5.0, 5.0, ?, ?, 3, 0, ?)"
    )

    def chunk(start: int, stop: int) -> list[tuple[object, ...]]:
        base = now.replace(tzinfo=None)
        return [
            (
                first + m,
                f"deck/card-{k}",
                (base + timedelta(minutes=rng.randrange(*minutes))).strftime(stamp),
                made,
                made,
            )
            for m in range(start, stop)
            for k in range(per_member)
        ]

    with engine.begin() as conn:
        step = 10_000
        for start in range(0, member_count, step):
            conn.exec_driver_sql(insert, chunk(start, min(start + step, member_count)))
        fill_derived(conn)
    engine.dispose()


async def selection_ms(tmp: Path, config: SimConfig) -> dict[str, Any]:
    db = tmp / "selection.db"
    now = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
    store = await SqlStore.open(f"sqlite+aiosqlite:///{db}")
    await store.close()
    log(f"inserting {config.selection_states:,} card states ...")
    inserting = time.perf_counter()
    await asyncio.to_thread(bulk_states, db, config.selection_states, config.selection_members, now)
    log(f"  inserted in {time.perf_counter() - inserting:.0f} s")
    store = await SqlStore.open(f"sqlite+aiosqlite:///{db}")
    try:
        samples, found = [], 0
        for _ in range(3):
            started = time.perf_counter()
            found = await store.read(lambda tx: due_selection(tx, now))
            samples.append((time.perf_counter() - started) * 1000)
    finally:
        await store.close()
    return {
        "due_selection_ms": round(statistics.median(samples), 2),
        "due_selection_rows": found,
        "selection_states": config.selection_states,
        "selection_members": config.selection_members,
    }


# ---- the whole run ---------------------------------------------------------------------------


def run_rates(config: SimConfig) -> dict[str, dict[str, Any]]:
    if config.workers > 1 and len(config.rates) > 1:
        context = get_context("spawn")
        with ProcessPoolExecutor(
            min(config.workers, len(config.rates)), mp_context=context
        ) as pool:
            futures = {p: pool.submit(simulate_rate, config, p) for p in config.rates}
            return {rate_key(p): f.result() for p, f in futures.items()}
    return {rate_key(p): simulate_rate(config, p) for p in config.rates}


def summarise(config: SimConfig, by_rate: dict[str, dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, pair in by_rate.items():
        bot, fixed = pair["bot"], pair["fixed"]
        ratio = bot["messages_per_member"] / fixed["messages_per_member"]
        out[f"msgs_ratio_{key}"] = round(ratio, 3)
        out[f"retention_delta_{key}"] = round(bot["retention_end"] - fixed["retention_end"], 4)
    return out


def targets(figures: dict[str, Any], rates: Sequence[float]) -> dict[str, bool]:
    met: dict[str, bool] = {}
    for p in rates:
        key = rate_key(p)
        met[f"msgs_ratio_{key}<=0.70"] = figures[f"msgs_ratio_{key}"] <= 0.70
        met[f"retention_delta_{key}>=0"] = figures[f"retention_delta_{key}"] >= 0
    if figures.get("followup_dispatch_ratio") is not None:
        met["followup_dispatch_ratio<=1.5"] = figures["followup_dispatch_ratio"] <= 1.5
    if figures.get("due_selection_ms") is not None:
        met["due_selection_ms<50"] = figures["due_selection_ms"] < 50
    return met


def _guarded(name: str, measure_it: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A figure whose measurement fails (the bot is mid-change) is reported, not fatal."""
    try:
        return measure_it()
    except Exception as exc:
        log(f"{name} failed: {exc!r}")
        return {"error": repr(exc)}


def run_scale(config: SimConfig) -> dict[str, Any]:
    """Only the two timing figures (dispatch ratio, due selection): no simulation."""
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        dispatch = _guarded("dispatch", lambda: asyncio.run(dispatch_ratio(tmp, config)))
        selection = _guarded("selection", lambda: asyncio.run(selection_ms(tmp, config)))
    return {
        "followup_dispatch_ratio": dispatch.get("followup_dispatch_ratio"),
        "due_selection_ms": selection.get("due_selection_ms"),
        "dispatch": dispatch,
        "selection": selection,
        "load_avg": [round(v, 2) for v in os.getloadavg()],
        "cpus": os.cpu_count(),
    }


def run(config: SimConfig) -> dict[str, Any]:
    """Every figure, as one JSON-able dict."""
    started = time.perf_counter()
    by_rate = run_rates(config)
    sim_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        dispatch = _guarded("dispatch", lambda: asyncio.run(dispatch_ratio(tmp, config)))
        selection = _guarded("selection", lambda: asyncio.run(selection_ms(tmp, config)))
    figures = summarise(config, by_rate)
    figures |= {k: dispatch[k] for k in ("followup_dispatch_ratio",) if k in dispatch} | {
        "due_selection_ms": selection["due_selection_ms"]
    }
    result: dict[str, Any] = dict(figures)
    result["targets_met"] = targets(figures, config.rates)
    result["targets_met"]["bot_jobs_without_errors"] = not any(
        pair["bot"]["extra"]["job_errors"] for pair in by_rate.values()
    )
    result["policies"] = by_rate
    result["dispatch"] = dispatch
    result["selection"] = selection
    result["config"] = asdict(config)
    result["load_avg"] = [round(v, 2) for v in os.getloadavg()]
    result["cpus"] = os.cpu_count()
    result["simulation_s"] = round(sim_s, 1)
    result["run_s"] = round(time.perf_counter() - started, 1)
    return result


def table(result: dict[str, Any]) -> str:
    lines = [f"{'':>6} {'policy':>7} {'msgs/member':>12} {'ret@90':>7} {'>=0.9':>6} {'ret@120':>8}"]
    for key, pair in result["policies"].items():
        for name in ("bot", "fixed"):
            r = pair[name]
            lines.append(
                f"{key:>6} {name:>7} {r['messages_per_member']:>12.1f} {r['retention_end']:>7.3f} "
                f"{r['share_090_end']:>6.3f} {r['retention_later']:>8.3f}"
            )
    lines.append("")
    skip = {"policies", "dispatch", "selection", "config", "targets_met"}
    for key, value in result.items():
        if key not in skip:
            lines.append(f"{key:>26}: {value}")
    for key in ("dispatch", "selection"):
        for name, value in result[key].items():
            lines.append(f"{name:>26}: {value}")
    lines.append("")
    for name, ok in result["targets_met"].items():
        lines.append(f"{name:>30}: {'met' if ok else 'NOT met'}")
    for key, pair in result["policies"].items():
        extra = pair["bot"]["extra"]
        lines.append(f"\n{key} bot details: " + json.dumps(extra, sort_keys=True))
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> tuple[SimConfig, bool, bool]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--members", type=int)
    parser.add_argument("--cards", type=int)
    parser.add_argument("--days", type=int)
    parser.add_argument("--seed", type=int)
    parser.add_argument(
        "--workers", type=int, help="processes for the participation rates (default 2)"
    )
    parser.add_argument("--rates", type=float, nargs="+", help="participation rates (1.0 0.7)")
    parser.add_argument("--step", type=int, dest="step_minutes", help="clock step, minutes")
    parser.add_argument(
        "--retention", type=float, help="the bot's desired retention (default: auto)"
    )
    parser.add_argument(
        "--scale-only",
        action="store_true",
        help="only followup_dispatch_ratio and due_selection_ms (no simulation)",
    )
    args = parser.parse_args(argv)
    config = SimConfig.quick() if args.quick else SimConfig()
    changes = {
        k: getattr(args, k)
        for k in ("members", "cards", "days", "seed", "workers", "step_minutes", "retention")
        if getattr(args, k) is not None
    }
    if args.rates:
        changes["rates"] = tuple(args.rates)
    return replace(config, **changes), args.json, args.scale_only


def quiet() -> None:
    """The bot's own logs: warnings and worse, to stderr (stdout is the result)."""
    from bot import log as bot_log

    bot_log.configure("warning", "json", stream=sys.stderr)


def main(argv: Sequence[str] | None = None) -> None:
    quiet()
    config, as_json, scale_only = parse_args(argv)
    if scale_only:
        print(json.dumps(run_scale(config)))
        return
    result = run(config)
    print(json.dumps(result) if as_json else table(result))


if __name__ == "__main__":
    main()
