"""The real APScheduler wrapper, with wall-clock time moved by time-machine."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

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
