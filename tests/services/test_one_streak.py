"""One streak: ``/study streak``, ``/study stats``, the leaderboard and the export show the
same number for the same history, whatever that history was (answers kept or missed,
days the bot was down, admin repairs, a check before or after the day's answer)."""

from __future__ import annotations

import asyncio
import json
import re
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.models import Actor
from bot.core.streaks import StreakState, advance
from bot.decks import DeckLibrary
from bot.services.policy import Policy, default_channel_settings
from bot.services.study import StudyBot
from bot.store.sql import SqlStore
from tests.conftest import TEST_CONTENT, World, make_study
from tests.dbtools import sync_tx
from tests.fakes import FakeChat, FakeClock
from tests.services.helpers import run, text_of
from tests.services.test_streaks_flow import MONDAY


@dataclass(frozen=True)
class Day:
    up: bool
    answers: frozenset[str]
    repair: tuple[str, int] | None


day = st.builds(
    Day,
    up=st.sampled_from([True, True, True, False]),  # the bot is down one day in four
    answers=st.frozensets(st.sampled_from(["alice", "bob"])),
    repair=st.none() | st.tuples(st.sampled_from(["alice", "bob"]), st.integers(0, 9)),
)


@given(days=st.lists(day, min_size=1, max_size=12), check_early=st.booleans())
@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
def test_every_surface_shows_the_same_streak(days: list[Day], check_early: bool) -> None:
    world = World()
    members = {"alice": world.alice, "bob": world.bob}

    async def scenario(folder: Path) -> None:
        store = await SqlStore.open(f"sqlite+aiosqlite:///{folder / 'db.sqlite'}")
        try:
            clock = FakeClock()
            chat = FakeChat()
            policy = Policy(
                defaults=default_channel_settings("Europe/Berlin"), admins=frozenset({"admin"})
            )
            study = make_study(store, chat, clock, DeckLibrary.load(TEST_CONTENT), policy)
            clock.set(MONDAY)
            await run(study, world.admin, world.channel, "/study setup days=daily")
            for n, plan in enumerate(days):
                clock.set(MONDAY + timedelta(days=n, hours=2))  # 10:00 Berlin, after 09:30
                if not plan.up:
                    continue
                before = len(chat.posts())
                await study.posting.post_due()
                await study.streaks.roll_over()
                if n == len(days) - 1 and check_early:
                    await agree(study, store, members, world)
                posts = chat.posts()
                for name in sorted(plan.answers):
                    if len(posts) > before:  # today's question went out
                        thread = world.thread(posts[-1].ref)
                        await study.message(members[name], thread, f"{n}-{name}", "an answer")
                if plan.repair is not None:
                    name, value = plan.repair
                    text = f"/study streak {members[name].name} {value} test"
                    reply = text_of(await run(study, world.admin, world.channel, text))
                    if "has studied in this channel yet" not in reply:  # a newcomer
                        assert f"now {value}" in reply
                        assert (await values(study, members[name], world))["streak"] == value
            await agree(study, store, members, world)
        finally:
            await store.close()

    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(scenario(Path(folder)))


async def values(study: StudyBot, who: Actor, world: World) -> dict[str, int]:
    found: dict[str, int] = {}
    streak = text_of(await run(study, who, world.channel, "/study streak"))
    match = re.search(r"Your streak: (\d+) day", streak)
    found["streak"] = int(match.group(1)) if match else 0
    stats = text_of(await run(study, who, world.channel, "/study stats"))
    match = re.search(r"(\d+) days? \(best", stats)
    found["stats"] = int(match.group(1)) if match else 0
    board = text_of(await run(study, who, world.channel, "/study leaderboard"))
    streaks = board.split("Active streaks", 1)[1].split("Reviews on time", 1)[0]
    match = re.search(rf"{who.name}: (\d+) day", streaks)
    found["leaderboard"] = int(match.group(1)) if match else 0
    export = await study.privacy.export(who)
    document = json.loads(export.data["export"]) if "export" in export.data else {}
    found["export"] = sum(s.get("streak", 0) for s in document.get("streaks", []))
    return found


async def agree(study: StudyBot, store: SqlStore, members: dict[str, Actor], world: World) -> None:
    for who in members.values():
        seen = await values(study, who, world)
        assert len(set(seen.values())) == 1, (who.name, seen)
        with sync_tx(store) as tx:
            channel = tx.channels.get(1)
            assert channel is not None
            for membership in tx.members.memberships(channel_id=1):
                if membership.member.user_ref == who.user:
                    # The stored cache, folded to the same day, is what history replays to.
                    replayed = study.streaks.recomputed(tx, channel, membership)
                    history = study.streaks.history(tx, channel, membership)
                    stored = membership.streak
                    if replayed.evaluated_through is not None:
                        stored = advance(stored, history, replayed.evaluated_through)
                    assert (stored.current, stored.best, stored.freezes) == (
                        replayed.current,
                        replayed.best,
                        replayed.freezes,
                    ), who.name


async def test_the_leaderboards_batch_read_matches_each_members_own_read(
    store: SqlStore, chat: FakeChat, clock: FakeClock, library: DeckLibrary, world: World
) -> None:
    """Caches never folded, folded days ago, repairs and days the bot missed: the streak
    column of the leaderboard (three queries for the channel) is, member by member, what
    ``current`` (three queries each) gives."""
    study = make_study(
        store,
        chat,
        clock,
        library,
        Policy(defaults=default_channel_settings("Europe/Berlin"), admins=frozenset({"admin"})),
    )
    clock.set(MONDAY)
    await run(study, world.admin, world.channel, "/study setup days=daily")
    start = MONDAY.date()
    with sync_tx(store) as tx:
        channel = tx.channels.find("fake", "T1", "C1")
        assert channel is not None
        ids = [
            tx.members.ensure("fake", "T1", f"U{n}", name, None, MONDAY).id
            for n, name in enumerate(("Ann", "Ben", "Cat", "Dan"))
        ]
        for member_id in ids:
            tx.members.join(channel.id, member_id, start)
        kept_on = {  # Ann misses only the days the bot was down; Dan never studies
            ids[0]: [n for n in range(12) if n not in (4, 9)],
            ids[1]: list(range(12)),
            ids[2]: list(range(12)),
        }
        for member_id, numbers in kept_on.items():
            for n in numbers:
                tx.activity.add(
                    member_id,
                    "answer",
                    f"p{n}",
                    local_date=start + timedelta(days=n),
                    points=1,
                    keeps_day=True,
                    now=MONDAY,
                )
        for n in range(12):
            day = start + timedelta(days=n)
            if n in (4, 9):  # the bot was down: those days are forgiven
                tx.posts.claim(
                    channel.id,
                    day,
                    card_key=None,
                    topic=None,
                    cycle=1,
                    new_cycle=False,
                    scheduled_for=MONDAY,
                    token=f"t{n}",
                    now=MONDAY,
                    status="missed",
                )
        tx.members.save_streak(channel.id, ids[1], advance_to(start, 2))
        tx.audit.record(
            channel.id,
            ids[2],
            effective_date=start + timedelta(days=7),
            old=8,
            new=20,
            actor="admin",
            reason="test",
            now=MONDAY,
        )
    clock.set(MONDAY + timedelta(days=12))
    with sync_tx(store) as tx:
        channel = tx.channels.find("fake", "T1", "C1")
        assert channel is not None
        one_by_one = [
            (m.member.name, study.streaks.current(tx, channel, m)[1])
            for m in tx.members.memberships(channel_id=channel.id)
        ]
        assert study.streaks.shown_in(tx, channel) == [(n, v) for n, v in one_by_one if v > 0]
    assert dict(one_by_one) == {"Ann": 10, "Ben": 12, "Cat": 24, "Dan": 0}


def advance_to(start: date, days: int) -> StreakState:
    """A cache folded through ``start + days`` with a streak of ``days + 1``."""
    return StreakState(days + 1, days + 1, 0, 0, start + timedelta(days=days))
