"""The real APScheduler wrapper, with wall-clock time moved by time-machine."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from bot.core.srs import Srs
from bot.decks import DeckLibrary
from bot.ports.chat import Chats
from bot.ports.clock import SystemClock
from bot.scheduler import Scheduler
from bot.scheduler.jobs import jobs
from bot.services.base import Deps
from bot.services.policy import Policy, default_channel_settings
from bot.services.study import StudyBot
from bot.store.sql import SqlStore
from tests.conftest import World
from tests.dbtools import sync_tx
from tests.fakes import FakeChat
from tests.services.helpers import run


def real_clock_study(store: SqlStore, chat: FakeChat, library: DeckLibrary, tz: str) -> StudyBot:
    chats = Chats()
    chats.add(chat)
    policy = Policy(defaults=default_channel_settings(tz), admins=frozenset({"admin"}))
    return StudyBot(Deps(store, chats, SystemClock(), library, Srs(fuzz=False), policy))


async def posted_days(store: SqlStore) -> list[date]:
    with sync_tx(store) as tx:
        days = []
        for offset in range(0, 3):
            post = tx.posts.on_date(1, date(2025, 3, 8 + offset))
            if post is not None and post.status == "posted":
                days.append(post.local_date)
        return days


async def test_ticks_drive_posts_across_spring_forward(
    store: SqlStore, chat: FakeChat, library: DeckLibrary, world: World
) -> None:
    study = real_clock_study(store, chat, library, "America/New_York")
    scheduler = Scheduler(jobs(study, 30.0))
    with time_machine.travel(datetime(2025, 3, 8, 12, 0, tzinfo=UTC), tick=False) as traveller:
        await run(study, world.admin, world.channel, "/study setup time=02:30 days=daily")
        traveller.move_to(
            datetime(2025, 3, 9, 7, 29, tzinfo=UTC)
        )  # 03:29 EDT: 02:30 never happened
        await scheduler.run_all_now()
        assert await posted_days(store) == []
        traveller.move_to(datetime(2025, 3, 9, 7, 31, tzinfo=UTC))  # 03:31 EDT
        await scheduler.run_all_now()
        await scheduler.run_all_now()
        assert await posted_days(store) == [date(2025, 3, 9)]
        assert len(chat.posts()) == 1


async def test_fall_back_posts_once(
    store: SqlStore, chat: FakeChat, library: DeckLibrary, world: World
) -> None:
    study = real_clock_study(store, chat, library, "America/New_York")
    scheduler = Scheduler(jobs(study, 30.0))
    with time_machine.travel(datetime(2025, 11, 1, 12, 0, tzinfo=UTC), tick=False) as traveller:
        await run(study, world.admin, world.channel, "/study setup time=01:30 days=daily")
        for hour, minute in ((5, 31), (6, 0), (6, 31), (7, 0)):  # both 01:30s and after
            traveller.move_to(datetime(2025, 11, 2, hour, minute, tzinfo=UTC))
            await scheduler.run_all_now()
        assert len(chat.posts()) == 1
        with sync_tx(store) as tx:
            post = tx.posts.on_date(1, date(2025, 11, 2))
            assert post is not None and post.posted_at == datetime(2025, 11, 2, 5, 31, tzinfo=UTC)


async def test_apscheduler_runs_the_jobs_periodically(
    store: SqlStore, chat: FakeChat, library: DeckLibrary, world: World
) -> None:
    study = real_clock_study(store, chat, library, "UTC")
    scheduler = Scheduler(jobs(study, 30.0), speed=300.0)  # 30 s of bot time = 0.1 s real (0.2 min)
    scheduler.start()
    try:
        assert scheduler.running
        for _ in range(50):
            await asyncio.sleep(0.05)
            if scheduler.ticks >= 2:
                break
        assert scheduler.ticks >= 2
    finally:
        await scheduler.stop()
    assert not scheduler.running


@pytest.mark.parametrize(
    ("tz", "setup", "before", "after", "day"),
    [
        # Lord Howe moves 02:00 -> 02:30 on Sunday 2025-10-05: 02:15 does not exist and the
        # post comes at 02:45 (15:45 UTC), the gap's length later.
        (
            "Australia/Lord_Howe",
            "time=02:15 days=daily",
            datetime(2025, 10, 4, 15, 44, tzinfo=UTC),
            datetime(2025, 10, 4, 15, 46, tzinfo=UTC),
            date(2025, 10, 5),
        ),
        # Kolkata has no DST and a half-hour offset: 09:30 IST is 04:00 UTC.
        (
            "Asia/Kolkata",
            "time=09:30",
            datetime(2025, 3, 10, 3, 59, tzinfo=UTC),
            datetime(2025, 3, 10, 4, 1, tzinfo=UTC),
            date(2025, 3, 10),
        ),
    ],
)
async def test_half_hour_zones_post_at_their_local_time(
    store: SqlStore,
    chat: FakeChat,
    library: DeckLibrary,
    world: World,
    tz: str,
    setup: str,
    before: datetime,
    after: datetime,
    day: date,
) -> None:
    study = real_clock_study(store, chat, library, tz)
    scheduler = Scheduler(jobs(study, 30.0))
    with time_machine.travel(before - timedelta(hours=12), tick=False) as traveller:
        await run(study, world.admin, world.channel, f"/study setup {setup}")
        traveller.move_to(before)
        await scheduler.run_all_now()
        assert chat.posts() == []
        traveller.move_to(after)
        await scheduler.run_all_now()
        await scheduler.run_all_now()
        (post,) = chat.posts()
        assert post.key == f"studybot:post:1:{day.isoformat()}"


async def test_a_restart_catches_up_inside_the_grace_window(
    store: SqlStore, chat: FakeChat, library: DeckLibrary, world: World, db_url: str
) -> None:
    study = real_clock_study(store, chat, library, "Europe/Berlin")
    with time_machine.travel(datetime(2025, 3, 3, 7, 0, tzinfo=UTC), tick=False) as traveller:
        await run(study, world.admin, world.channel, "/study setup")
        await store.close()  # the process dies before 09:30 ...
        traveller.move_to(datetime(2025, 3, 3, 10, 0, tzinfo=UTC))  # ... and is back at 11:00
        reopened = await SqlStore.open(db_url)
        try:
            restarted = real_clock_study(reopened, chat, library, "Europe/Berlin")
            await Scheduler(jobs(restarted, 30.0)).run_all_now()
            assert len(chat.posts()) == 1
            caught_up = await reopened.read(lambda tx: tx.posts.get(1))
            assert caught_up is not None and caught_up.caught_up
        finally:
            await reopened.close()
        store_reopened = await SqlStore.open(db_url)  # the fixture closes its own store again
        await store_reopened.close()
