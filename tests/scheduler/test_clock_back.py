"""A wall clock that jumps ahead and comes back: the days it marked missed are future days
again, so they are unmarked, posted when they come, and streaks are as if it never ran
ahead."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import text
from structlog.testing import capture_logs

from bot.decks import DeckLibrary
from bot.scheduler.jobs import Job, jobs
from bot.services.study import StudyBot
from bot.store.sql import SqlStore
from tests.conftest import World, make_study
from tests.dbtools import sync_tx
from tests.fakes import FakeChat, FakeClock
from tests.services.helpers import run
from tests.services.test_followup_lifecycle import MONDAY, policy


def job(study: StudyBot, name: str, found: list[Job]) -> Job:
    return next(j for j in found if j.name == name)


def statuses(store: SqlStore) -> dict[str, str]:
    with sync_tx(store) as tx:
        channel = tx.channels.find("fake", "T1", "C1")
        assert channel is not None
        rows = tx.conn.execute(
            text(
                "SELECT local_date, status FROM daily_posts WHERE channel_id = :c "
                "ORDER BY local_date"
            ),
            {"c": channel.id},
        ).all()
    return {str(day): status for day, status in rows}


def alice_streak(store: SqlStore) -> tuple[int, date | None]:
    with sync_tx(store) as tx:
        alice = tx.members.find("fake", "T1", "U1")
        assert alice is not None
        (membership,) = tx.members.memberships(member_id=alice.id)
    return membership.streak.current, membership.streak.evaluated_through


async def test_days_a_clock_ahead_marked_missed_come_back(
    store: SqlStore, chat: FakeChat, clock: FakeClock, library: DeckLibrary, world: World
) -> None:
    study = make_study(store, chat, clock, library, policy())
    found = jobs(study, 60.0)
    dispatch, streaks = job(study, "dispatch", found), job(study, "streaks", found)
    clock.set(MONDAY - timedelta(hours=2))  # Monday 08:00 in Berlin
    await run(study, world.admin, world.channel, "/study setup days=daily")
    await dispatch.run()  # the bot starts: nothing to repair
    clock.set(MONDAY + timedelta(minutes=31))  # Monday 09:31: the question goes out
    await dispatch.run()
    (monday,) = chat.posts()
    await study.message(world.alice, world.thread(monday.ref), "a1", "an answer")
    clock.set(MONDAY + timedelta(days=1, hours=12))  # Tuesday: the streak is 1
    await streaks.run()
    assert alice_streak(store) == (1, date(2025, 3, 3))

    clock.set(MONDAY + timedelta(days=5, hours=3))  # the clock jumps to Saturday noon
    await dispatch.run()
    await streaks.run()
    assert list(statuses(store).values()).count("missed") >= 4
    assert alice_streak(store) == (1, date(2025, 3, 7))  # folded through a false Friday

    clock.set(MONDAY + timedelta(days=1, hours=-1))  # fixed: Tuesday 09:00 again
    with capture_logs() as logs:
        await dispatch.run()
    (back,) = [e for e in logs if e["event"] == "clock_went_back"]
    assert back["by_seconds"] > 3 * 24 * 3600
    assert statuses(store) == {"2025-03-03": "posted"}  # the future is unmarked
    assert alice_streak(store) == (1, date(2025, 3, 3))
    clock.set(MONDAY + timedelta(days=1, minutes=31))  # Tuesday 09:31
    await dispatch.run()
    assert statuses(store) == {"2025-03-03": "posted", "2025-03-04": "posted"}
    assert len(chat.posts()) == 2  # Tuesday's question, once
    clock.set(MONDAY + timedelta(days=2, hours=1))  # Wednesday: Alice skipped Tuesday
    await streaks.run()
    assert alice_streak(store) == (0, date(2025, 3, 4))  # a real day counts again


async def test_a_clock_fixed_while_the_bot_was_down_is_repaired_at_start(
    store: SqlStore, chat: FakeChat, clock: FakeClock, library: DeckLibrary, world: World
) -> None:
    study = make_study(store, chat, clock, library, policy())
    clock.set(MONDAY - timedelta(hours=2))
    await run(study, world.admin, world.channel, "/study setup days=daily")
    clock.set(MONDAY + timedelta(days=3, hours=-1))  # Thursday 09:00: Mon-Wed "missed"
    await job(study, "dispatch", jobs(study, 60.0)).run()
    assert "missed" in statuses(store).values()
    clock.set(MONDAY - timedelta(hours=1))  # restarted with the right time
    fresh = make_study(store, chat, clock, library, policy())
    await job(fresh, "dispatch", jobs(fresh, 60.0)).run()
    assert statuses(store) == {}
    clock.set(MONDAY + timedelta(minutes=31))
    await job(fresh, "dispatch", jobs(fresh, 60.0)).run()
    assert statuses(store) == {"2025-03-03": "posted"}
