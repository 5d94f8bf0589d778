"""Races through the services, on SQLite and on PostgreSQL (issue 14, ADR 0010).

Each test runs ``RACE_TRIALS`` trials. A trial launches with ``asyncio.gather`` the calls
the Slack and Discord adapters make when one member does several things at once, then
checks that the store holds what *some* one-at-a-time order of the same calls would have
left. On PostgreSQL the write units run on several pooled connections at once
(SERIALIZABLE, retried: bot/store/engine.py); on SQLite the one writer connection runs
them one after another. The invariants are the same on both.

What each test drives (all through ``StudyBot``, the facade the adapters call):

1. Grade switching on one reveal: ``StudyBot.reaction`` (added and removed; it calls
   ``Threads.reaction``) and ``StudyBot.button`` with the reveal's grade buttons
   (``rv:grade:...``, ``Threads.grade_button``), in a random mix per trial.
2. Reviews of one card: ``StudyBot.button`` on a follow-up DM's grade buttons
   (``fu:grade:...``, ``Followups.grade``) and on the grade buttons of several /quiz
   sessions that all hold the same due card (``qz:grade:...``, ``Quiz.grade``), with
   double presses of the same button.
3. The daily points cap: ``StudyBot.message`` in the threads of several channels' daily
   posts and ``/study answer`` (``StudyBot.command``; both end in ``Threads.answer``),
   against the caps of ``Kind.ANSWER`` and ``Kind.EARLY_ANSWER`` in bot/core/points.py.
   A reply in a daily post's thread is the only way to answer: answering "in several
   threads" needs several channels, each with its own daily post of the day.

No seam widens the race windows: the services take no hook between a unit's reads and
its writes, and these tests monkeypatch nothing. The units are long enough (several
statements each) to overlap on PostgreSQL. With PostgreSQL's write units at READ
COMMITTED instead of SERIALIZABLE (measured on 2 cores): test 1 fails in 10-18 of 50
trials (removing the old reaction of a switch deletes the new grade), test 2 in 50 of 50
(a double press accepted twice; a card's schedule replayed from a history that misses a
concurrent review), test 3 in 26-28 of 50 (the caps exceeded).

The grades table's primary key already makes two grades of one reveal impossible, so
test 1's bite is the rest: its trials only ever remove the reaction they start from (or
one added in the same trial), so "no grade left" is seldom a legal outcome and a lost
grade shows.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

from sqlalchemy import select

from bot.core import actions
from bot.core.actions import parse_action
from bot.core.models import Actor, Grade, Place
from bot.core.points import TABLE, Kind
from bot.core.replies import Reply
from bot.core.schedule import local_date, week_start, zone
from bot.core.srs import Srs
from bot.decks import DeckLibrary
from bot.services.policy import Policy
from bot.services.study import StudyBot
from bot.store.sql import SqlStore, SqlTx
from bot.store.tables import activity, grades, reviews
from bot.store.tables import answers as answers_table
from tests.conftest import World, make_study
from tests.dbtools import count, rows
from tests.fakes import FakeChat, FakeClock
from tests.pg import db_url_on_both as db_url  # noqa: F401  (both backends)
from tests.services.helpers import is_error, run, text_of

RACE_TRIALS = 50
SRS = Srs(fuzz=False)  # the scheduler make_study gives the services
T = TypeVar("T")


async def look(store: SqlStore, fn: Callable[..., T], *args: object) -> T:
    """``fn(tx, *args)`` on the store's reader, with the store's own repositories."""
    return await store.run_sync(lambda conn: fn(SqlTx(conn), *args), write=False)


def report(failures: list[str]) -> str:
    return f"{len(failures)} of {RACE_TRIALS} trials broke an invariant:\n" + "\n".join(failures)


def member_id(tx: SqlTx, actor: Actor) -> int | None:
    found = tx.members.find(actor.platform, actor.workspace, actor.user)
    return None if found is None else found.id


def schedule_problems(tx: SqlTx, member: int, card_key: str, reviews: int) -> list[str]:
    """The card's stored schedule is the replay of its ``reviews`` stored reviews."""
    history = tx.reviews.history(member, card_key)
    stored = tx.reviews.state(member, card_key)
    problems = []
    if len(history) != reviews:
        problems.append(f"{len(history)} reviews in the card's history, expected {reviews}")
    if not history:
        if stored is not None:
            problems.append(f"a schedule without reviews: {stored.state}")
        return problems
    if stored is None:
        return [*problems, f"no schedule for {len(history)} reviews"]
    if stored.state.reps != len(history):
        problems.append(f"schedule counts {stored.state.reps} reviews, history {len(history)}")
    if stored.state.last_review != max(at for _, at in history):
        problems.append(f"schedule's last review {stored.state.last_review} is not the last")
    if stored.state != SRS.replay(history, stored.first_seen):
        problems.append(f"schedule {stored.state} is not the replay of its history")
    return problems


# ---- 1. grade switching on one reveal ---------------------------------------------------

GRADE_EMOJI = ("x", "grimacing", "white_check_mark", "rocket")  # Policy's defaults, in order

GradeOp = tuple[str, str]
"""("react" | "unreact" | "button", emoji): a button press is named by its grade's emoji."""


def settle(start: str | None, ops: Sequence[GradeOp]) -> str | None:
    """The grade (its emoji) that ``ops`` run one at a time, in this order, leave.

    Adding a reaction sets the grade; a grade button sets it too (its emoji is the grade's,
    and pressing the grade already set changes nothing); removing a reaction withdraws the
    grade only if it is that emoji's."""
    state = start
    for kind, emoji in ops:
        if kind != "unreact":
            state = emoji
        elif state == emoji:
            state = None
    return state


def serial_outcomes(start: str | None, ops: Sequence[GradeOp]) -> set[str | None]:
    return {settle(start, order) for order in itertools.permutations(ops)}


def random_grade_ops(rng: random.Random, start: str | None) -> list[GradeOp]:
    """What a member does within a moment, as the platform reports it: grades other than
    ``start`` set by reaction (a switch: the platform sends the new reaction added and
    the old one removed) or by button, the old reaction removed; now and then a new
    reaction taken back at once."""
    others = [e for e in GRADE_EMOJI if e != start]
    ops: list[GradeOp] = [
        (rng.choice(("react", "react", "button")), rng.choice(others))
        for _ in range(rng.randint(1, 3))
    ]
    if start is not None:
        ops.append(("unreact", start))
    if rng.random() < 0.2:
        ops.append(("unreact", rng.choice([e for k, e in ops if k == "react"] or others)))
    rng.shuffle(ops)
    return ops


async def test_switching_grades_at_once_leaves_one_grade_and_its_review(
    store: SqlStore,
    chat: FakeChat,
    clock: FakeClock,
    library: DeckLibrary,
    policy: Policy,
    world: World,
) -> None:
    """One member, one reveal: reactions added and removed and grade buttons pressed at
    once. After each trial at most one grade is stored, it is one that some order of the
    same calls leaves, and the card's review, schedule and grade points agree with it."""
    study = make_study(store, chat, clock, library, policy)
    await run(study, world.admin, world.channel, "/study setup")
    await run(study, world.admin, world.channel, "/study post-now")
    (post,) = chat.posts()
    await run(study, world.admin, world.channel, "/study reveal-now")
    (reveal,) = chat.posts("reveal")
    thread = world.thread(post.ref)
    parsed = parse_action(reveal.message.buttons[0].action)
    assert parsed is not None and parsed.kind == "reveal_grade"
    (post_id,) = parsed.ids
    stored_post = await look(store, lambda tx: tx.posts.get(post_id))
    assert stored_post is not None and stored_post.card_key is not None
    card_key = stored_post.card_key

    failures: list[str] = []
    for trial in range(RACE_TRIALS):
        rng = random.Random(trial)
        actor = Actor("fake", "T1", f"G{trial}", f"Grader {trial}")
        start = rng.choice(GRADE_EMOJI) if rng.random() < 0.9 else None
        if start is not None:
            await study.reaction(actor, thread, reveal.ref, start, added=True)
        ops = random_grade_ops(rng, start)

        def launch(
            n: int, op: GradeOp, actor: Actor = actor, trial: int = trial
        ) -> Awaitable[Reply]:
            kind, emoji = op
            if kind == "button":
                grade = int(policy.grade_emoji[emoji])
                return study.button(actor, f"{actions.reveal_grades(post_id)}:{grade}")
            event = f"race-{trial}-{n}"  # each platform event has an id of its own
            return study.reaction(
                actor, thread, reveal.ref, emoji, added=kind == "react", event_id=event
            )

        replies = await asyncio.gather(*(launch(n, op) for n, op in enumerate(ops)))
        problems = [f"error reply: {text_of(r)}" for r in replies if is_error(r)]
        problems += await look(store, grade_problems, actor, post_id, card_key, start, ops)
        if problems:
            failures.append(f"trial {trial}: from {start!r}, {ops}: {'; '.join(problems)}")
    assert failures == [], report(failures)


def grade_problems(
    tx: SqlTx,
    actor: Actor,
    post_id: int,
    card_key: str,
    start: str | None,
    ops: Sequence[GradeOp],
) -> list[str]:
    member = member_id(tx, actor)
    if member is None:
        return ["the member was never stored"]
    query = select(grades.c.grade, grades.c.emoji).where(
        grades.c.post_id == post_id, grades.c.member_id == member
    )
    stored = [(Grade(g), e) for g, e in tx.conn.execute(query)]
    problems = []
    if len(stored) > 1:
        problems.append(f"{len(stored)} grades of one reveal: {stored}")
    left = stored[0][1] if stored else None
    allowed = serial_outcomes(start, ops)
    if left not in allowed:
        problems.append(f"grade {left!r} left; one at a time the calls leave one of {allowed}")
    ref = f"{post_id}:{member}"
    live = rows(tx, reviews, member_id=member, kind="daily", ref=ref)
    live = [r for r in live if not r["voided"]]
    expected = 1 if stored else 0
    if len(live) != expected:
        problems.append(f"{len(live)} live reviews from the reveal, grades stored: {stored}")
    elif stored and Grade(live[0]["grade"]) != stored[0][0]:
        problems.append(f"review {Grade(live[0]['grade'])!r} for grade {stored[0][0]!r}")
    problems += schedule_problems(tx, member, card_key, expected)
    points = rows(tx, activity, member_id=member, kind=Kind.GRADE.value)
    wanted = [TABLE[Kind.GRADE].points] if stored else []
    if [a["points"] for a in points] != wanted:
        problems.append(f"grade points {[a['points'] for a in points]}, expected {wanted}")
    return problems


# ---- 2. reviews of one card from several places -----------------------------------------


def grade_action(prefix: str, grade: Grade) -> str:
    return f"{prefix}:{int(grade)}"


async def quiz_of_one(study: StudyBot, actor: Actor, place: Place) -> tuple[int, str]:
    """``/quiz 1``: the quiz's id and its card's question."""
    reply = await run(study, actor, place, "/quiz 1")
    assert not is_error(reply), text_of(reply)
    question = reply.messages[-1]
    show = parse_action(question.buttons[0].action)
    assert show is not None and show.kind == "quiz_show", show
    return show.ids[0], question.lines[0]


async def test_grades_of_one_card_from_a_dm_and_quizzes_are_all_kept(
    store: SqlStore,
    chat: FakeChat,
    clock: FakeClock,
    library: DeckLibrary,
    policy: Policy,
    world: World,
) -> None:
    """One member grades one card at once from its follow-up DM and from several /quiz
    sessions holding it, pressing some buttons twice. Every grade a service accepts is a
    stored review (and each button is accepted once), and the card's schedule is the
    replay of exactly those reviews."""
    study = make_study(store, chat, clock, library, policy)
    base = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    failures: list[str] = []
    for trial in range(RACE_TRIALS):
        rng = random.Random(trial)
        actor = Actor("fake", "T1", f"R{trial}", f"Reviewer {trial}")
        clock.set(base + timedelta(days=2 * trial))
        # First sight of a card: graded Again in a quiz, it is due again the next day.
        first_quiz, question = await quiz_of_one(study, actor, world.channel)
        again = grade_action(actions.quiz_grades(first_quiz, 0), Grade.AGAIN)
        assert not is_error(await study.button(actor, again))
        clock.advance(days=1)
        await study.followups.send_due()
        (dm,) = [m for user, m, _ in chat.dms if user == actor.user]
        assert dm.lines[0] == question
        show = parse_action(dm.buttons[0].action)
        assert show is not None and show.kind == "followup_show", show
        (followup_id,) = show.ids
        assert not is_error(await study.button(actor, dm.buttons[0].action))
        targets = {("followup", str(followup_id)): actions.followup_grades(followup_id)}
        quizzes = [first_quiz]
        for _ in range(rng.randint(2, 4)):  # due cards first: each new quiz holds this one
            quiz_id, asked = await quiz_of_one(study, actor, world.channel)
            assert asked == question, (trial, asked, question)
            targets[("quiz", f"{quiz_id}:0")] = actions.quiz_grades(quiz_id, 0)
            quizzes.append(quiz_id)
        presses = [(target, rng.choice(list(Grade))) for target in targets]
        presses += [(rng.choice(list(targets)), rng.choice(list(Grade))) for _ in range(2)]
        rng.shuffle(presses)  # two of the buttons are pressed twice (a double click)

        replies = await asyncio.gather(
            *(study.button(actor, grade_action(targets[t], g)) for t, g in presses)
        )
        accepted = [(t, g) for (t, g), r in zip(presses, replies, strict=True) if not is_error(r)]
        problems = await look(store, review_problems, actor, quizzes, accepted, list(targets))
        if problems:
            failures.append(f"trial {trial}: {presses}: {'; '.join(problems)}")
        await run(study, actor, world.channel, "/study pause followups")  # out of later runs
    assert failures == [], report(failures)


def review_problems(
    tx: SqlTx,
    actor: Actor,
    quizzes: list[int],
    accepted: list[tuple[tuple[str, str], Grade]],
    targets: list[tuple[str, str]],
) -> list[str]:
    member = member_id(tx, actor)
    assert member is not None
    held = {key for q in quizzes if (quiz := tx.quizzes.get(q)) for key in quiz.card_keys}
    assert len(held) == 1, held  # every quiz of the trial held the one card
    (card_key,) = held
    problems = []
    per_target = Counter(t for t, _ in accepted)
    if any(per_target[t] != 1 for t in targets):
        problems.append(f"accepted presses per button: {dict(per_target)}")
    live = rows(tx, reviews, member_id=member, card_key=card_key, voided=False)
    if len(live) != 1 + len(accepted):  # the first quiz's Again, and each grade accepted
        problems.append(f"{len(live)} reviews stored, {1 + len(accepted)} grades accepted")
    stored = {(r["kind"], r["ref"]): Grade(r["grade"]) for r in live}
    for target, grade in accepted:
        if stored.get(target) != grade:
            problems.append(f"{target} accepted {grade!r}, stored {stored.get(target)!r}")
    return problems + schedule_problems(tx, member, card_key, len(live))


# ---- 3. the daily points cap ------------------------------------------------------------

CHANNELS = 5
POINTS = re.compile(r"\+(\d+) points?\b")


def capped(kind: Kind, times: int) -> int:
    rule = TABLE[kind]
    return min(rule.daily_cap, rule.points * times)


async def test_answers_in_several_threads_at_once_stay_within_the_daily_caps(
    store: SqlStore,
    chat: FakeChat,
    clock: FakeClock,
    library: DeckLibrary,
    policy: Policy,
    world: World,
) -> None:
    """One member answers the daily questions of several channels at once (a reply in
    each thread, or /study answer in the channel). The day's answer points and early
    bonus never exceed their caps, reach them when enough was answered, and the replies
    tell the member exactly the points stored."""
    study = make_study(store, chat, clock, library, policy)
    channels = [Place("fake", "T1", f"P{n}") for n in range(CHANNELS)]
    threads = []
    for place in channels:
        await run(study, world.admin, place, "/study setup")
        assert not is_error(await run(study, world.admin, place, "/study post-now"))
        (post,) = chat.posts(channel=place.channel)
        threads.append(Place(place.platform, place.workspace, place.channel, post.ref))
    day = local_date(clock.now(), zone(policy.defaults.tz))

    failures: list[str] = []
    for trial in range(RACE_TRIALS):
        rng = random.Random(trial)
        actor = Actor("fake", "T1", f"A{trial}", f"Answerer {trial}")
        if rng.random() < 0.5:  # a member seen before; else the first sight races too
            await run(study, actor, channels[0], "/study resume followups")
        chosen = rng.sample(range(CHANNELS), rng.randint(1, CHANNELS))
        calls: list[tuple[str, int]] = [(rng.choice(("thread", "command")), n) for n in chosen]
        if rng.random() < 0.3:  # a second reply in one thread is discussion, not an answer
            calls.append(("thread", rng.choice(chosen)))
        rng.shuffle(calls)

        def launch(
            i: int, how: str, n: int, actor: Actor = actor, trial: int = trial
        ) -> Awaitable[Reply]:
            if how == "command":
                return run(study, actor, channels[n], "/study answer what I remember")
            ref = f"m{trial}-{i}"
            return study.message(actor, threads[n], ref, "what I remember", event_id=ref)

        replies = await asyncio.gather(*(launch(i, how, n) for i, (how, n) in enumerate(calls)))
        told = sum(int(m) for r in replies for m in POINTS.findall(text_of(r)))
        want = {
            Kind.ANSWER.value: capped(Kind.ANSWER, len(chosen)),
            Kind.EARLY_ANSWER.value: capped(Kind.EARLY_ANSWER, len(chosen)),
        }
        problems = [f"error reply: {text_of(r)}" for r in replies if is_error(r)]
        problems += await look(store, points_problems, actor, day, want, told, len(chosen))
        if problems:
            failures.append(f"trial {trial}: {calls}: {'; '.join(problems)}")
    assert failures == [], report(failures)


def points_problems(
    tx: SqlTx, actor: Actor, day: date, want: dict[str, int], told: int, questions: int
) -> list[str]:
    member = member_id(tx, actor)
    assert member is not None
    earned = tx.activity.earned_by_kind(member, day, list(want))
    week = tx.activity.week_points(member, week_start(day))  # kept by triggers
    answers = count(tx, answers_table, member_id=member)
    problems = []
    if earned != want:
        problems.append(f"points {earned}, expected {want}")
    if week != sum(want.values()) or told != week:
        problems.append(f"week total {week}, replies told {told}, expected {sum(want.values())}")
    if answers != questions:
        problems.append(f"{answers} answers stored for {questions} questions")
    return problems
