"""Due work after downtime, exactly once, also with two processes on one database."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from bot.decks import DeckLibrary
from bot.services.policy import Policy, default_channel_settings
from bot.services.study import StudyBot
from bot.store.sql import SqlStore
from bot.store.tables import leaderboards
from tests.conftest import World, make_study
from tests.dbtools import rows, sync_tx
from tests.fakes import FakeChat, FakeClock
from tests.services.helpers import run, text_of

MONDAY_0800 = datetime(2025, 3, 3, 7, 0, tzinfo=UTC)  # 08:00 Berlin; the post is 09:30


async def set_up(study: StudyBot, world: World, clock: FakeClock) -> None:
    clock.set(MONDAY_0800)
    await run(study, world.admin, world.channel, "/study setup")


async def statuses(store: SqlStore) -> dict[date, str]:
    with sync_tx(store) as tx:
        result = {}
        for offset in range(-1, 10):
            post = tx.posts.on_date(1, date(2025, 3, 3) + timedelta(days=offset))
            if post is not None:
                result[post.local_date] = post.status
        return result


async def test_a_post_inside_the_grace_window_is_caught_up(
    study: StudyBot, world: World, clock: FakeClock, chat: FakeChat, store: SqlStore
) -> None:
    await set_up(study, world, clock)
    clock.set(datetime(2025, 3, 3, 10, 0, tzinfo=UTC))  # 11:00 local: 1.5 h late
    report = await study.posting.post_due()
    assert (report.posted, report.caught_up, report.missed) == (1, 1, 0)
    with sync_tx(store) as tx:
        post = tx.posts.on_date(1, date(2025, 3, 3))
        assert post is not None and post.caught_up
    assert (await study.posting.post_due()).posted == 0


async def test_posts_beyond_the_grace_window_are_missed_and_forgiven(
    study: StudyBot, world: World, clock: FakeClock, chat: FakeChat, store: SqlStore
) -> None:
    await set_up(study, world, clock)
    clock.set(datetime(2025, 3, 6, 9, 0, tzinfo=UTC))  # Thursday 10:00 local: down since Monday
    report = await study.posting.post_due()
    assert (report.posted, report.missed) == (1, 3)
    assert await statuses(store) == {
        date(2025, 3, 3): "missed",
        date(2025, 3, 4): "missed",
        date(2025, 3, 5): "missed",
        date(2025, 3, 6): "posted",
    }
    assert len(chat.posts()) == 1
    with sync_tx(store) as tx:
        channel = tx.channels.get(1)
        assert channel is not None and channel.next_post_at == datetime(
            2025, 3, 7, 8, 30, tzinfo=UTC
        )
        assert tx.posts.forgiven_dates(1, date(2025, 3, 1)) == {
            date(2025, 3, 3),
            date(2025, 3, 4),
            date(2025, 3, 5),
        }


async def test_weekends_are_not_missed(
    study: StudyBot, world: World, clock: FakeClock, store: SqlStore
) -> None:
    await set_up(study, world, clock)
    clock.set(datetime(2025, 3, 7, 8, 31, tzinfo=UTC))  # Friday's post
    await study.posting.post_due()
    clock.set(datetime(2025, 3, 10, 8, 31, tzinfo=UTC))  # Monday's post, after a weekend
    await study.posting.post_due()
    result = await statuses(store)
    assert date(2025, 3, 8) not in result and date(2025, 3, 9) not in result
    assert result[date(2025, 3, 10)] == "posted"


async def test_two_processes_on_one_database_post_once(
    db_url: str, library: DeckLibrary, world: World, clock: FakeClock
) -> None:
    stores = [await SqlStore.open(db_url) for _ in range(2)]
    chats = [FakeChat(), FakeChat()]
    try:
        policy = Policy(
            defaults=default_channel_settings("Europe/Berlin"), admins=frozenset({"admin"})
        )
        bots = [
            make_study(s, c, clock, library, policy) for s, c in zip(stores, chats, strict=True)
        ]
        await set_up(bots[0], world, clock)
        clock.set(datetime(2025, 3, 3, 9, 31, tzinfo=UTC))
        for _ in range(3):
            await asyncio.gather(*(bot.posting.post_due() for bot in bots))
            await asyncio.gather(*(bot.posting.reconcile() for bot in bots))
        assert sum(len(c.posts()) for c in chats) == 1
        clock.advance(hours=6, minutes=5)
        await asyncio.gather(*(bot.posting.reveal_due() for bot in bots))
        assert sum(len(c.posts("reveal")) for c in chats) == 1
    finally:
        for store in stores:
            await store.close()


async def test_a_crash_after_sending_is_reconciled_without_a_second_post(
    study: StudyBot, world: World, clock: FakeClock, chat: FakeChat, store: SqlStore
) -> None:
    await set_up(study, world, clock)
    chat.lose_record_of.add("studybot:post:1:2025-03-03")
    clock.set(datetime(2025, 3, 3, 8, 31, tzinfo=UTC))
    report = await study.posting.post_due()
    assert report.failed == 1
    assert len(chat.posts()) == 1  # it did reach the platform
    assert await study.posting.reconcile() == 0  # still inside the lease
    clock.advance(minutes=3)
    assert await study.posting.reconcile() == 1
    assert len(chat.posts()) == 1
    assert (await statuses(store))[date(2025, 3, 3)] == "posted"


async def test_a_claim_that_never_sent_is_sent_once_by_the_next_process(
    study: StudyBot, world: World, clock: FakeClock, chat: FakeChat, store: SqlStore
) -> None:
    await set_up(study, world, clock)
    chat.transient_failures = 1  # the platform is down for the first attempt
    clock.set(datetime(2025, 3, 3, 8, 31, tzinfo=UTC))
    assert (await study.posting.post_due()).failed == 1
    assert chat.posts() == []
    clock.advance(minutes=3)
    assert await study.posting.reconcile() == 1
    assert await study.posting.reconcile() == 0
    assert len(chat.posts()) == 1


async def test_an_intent_past_the_grace_window_is_marked_missed(
    study: StudyBot, world: World, clock: FakeClock, chat: FakeChat, store: SqlStore
) -> None:
    await set_up(study, world, clock)
    chat.transient_failures = 1
    clock.set(datetime(2025, 3, 3, 8, 31, tzinfo=UTC))
    await study.posting.post_due()
    clock.advance(hours=4)
    await study.posting.reconcile()
    assert chat.posts() == []
    assert (await statuses(store))[date(2025, 3, 3)] == "missed"


async def test_status_shows_the_next_post_in_local_time(
    study: StudyBot, world: World, clock: FakeClock
) -> None:
    await set_up(study, world, clock)
    status = text_of(await run(study, world.admin, world.channel, "/study status"))
    assert "next post: Mon 3 Mar 09:30 CET" in status  # a moment: each reader's own zone


async def test_a_reveal_whose_answer_was_lost_is_found_in_its_thread_not_sent_twice(
    study: StudyBot, world: World, clock: FakeClock, chat: FakeChat, store: SqlStore
) -> None:
    await set_up(study, world, clock)
    clock.set(datetime(2025, 3, 3, 8, 31, tzinfo=UTC))
    await study.posting.post_due()
    chat.lose_record_of.add("studybot:reveal:1:2025-03-03")
    clock.advance(hours=6, minutes=5)
    assert await study.posting.reveal_due() == 0  # it landed; the answer was lost
    assert len(chat.posts("reveal")) == 1
    clock.advance(minutes=3)
    chat.lookups_fail = True  # a lookup that errors decides nothing
    assert await study.posting.reconcile() == 0
    assert await study.posting.reveal_due() == 0
    assert len(chat.posts("reveal")) == 1
    chat.lookups_fail = False
    clock.advance(minutes=3)
    assert await study.posting.reconcile() == 1  # found in the thread: recorded, not re-sent
    assert len(chat.posts("reveal")) == 1
    with sync_tx(store) as tx:
        post = tx.posts.latest(1)
        assert post is not None and post.reveal_status == "posted"


async def test_a_daily_post_lookup_that_fails_is_not_taken_for_not_found(
    study: StudyBot, world: World, clock: FakeClock, chat: FakeChat, store: SqlStore
) -> None:
    await set_up(study, world, clock)
    chat.lose_record_of.add("studybot:post:1:2025-03-03")
    clock.set(datetime(2025, 3, 3, 8, 31, tzinfo=UTC))
    await study.posting.post_due()
    chat.lookups_fail = True
    for _ in range(3):
        clock.advance(minutes=3)
        assert await study.posting.reconcile() == 0
    assert len(chat.posts()) == 1
    chat.lookups_fail = False
    clock.advance(minutes=3)
    assert await study.posting.reconcile() == 1
    assert len(chat.posts()) == 1


async def leaderboard_time(store: SqlStore) -> datetime:
    with sync_tx(store) as tx:
        channel = tx.channels.get(1)
        assert channel is not None and channel.next_leaderboard_at is not None
        return channel.next_leaderboard_at


async def test_a_leaderboard_that_failed_to_send_is_sent_once_later(
    study: StudyBot, world: World, clock: FakeClock, chat: FakeChat, store: SqlStore
) -> None:
    """Its time moves on at the claim; the claim itself is finished by reconcile."""
    await set_up(study, world, clock)
    clock.set(await leaderboard_time(store))
    chat.transient_failures = 1  # e.g. the platform is not connected yet
    assert await study.leaderboards.post_due() == 0
    assert await study.leaderboards.post_due() == 0  # the claim holds; its time moved on
    clock.advance(minutes=1)
    assert await study.leaderboards.reconcile() == 0  # inside the lease
    clock.advance(minutes=2)
    assert await study.leaderboards.reconcile() == 1
    assert await study.leaderboards.reconcile() == 0
    assert len(chat.posts("leaderboard")) == 1


async def test_a_leaderboard_whose_answer_was_lost_is_found_not_posted_twice(
    study: StudyBot, world: World, clock: FakeClock, chat: FakeChat, store: SqlStore
) -> None:
    await set_up(study, world, clock)
    when = await leaderboard_time(store)
    clock.set(when)
    (key,) = [f"studybot:leaderboard:1:{(when - timedelta(days=7)).date().isoformat()}"]
    chat.lose_record_of.add(key)
    assert await study.leaderboards.post_due() == 0
    clock.advance(minutes=3)
    chat.lookups_fail = True
    assert await study.leaderboards.reconcile() == 0
    chat.lookups_fail = False
    clock.advance(minutes=3)
    assert await study.leaderboards.reconcile() == 1
    assert len(chat.posts("leaderboard")) == 1
    assert [s.key for s in chat.posts("leaderboard")] == [key]


async def test_a_stranded_leaderboard_of_a_week_gone_by_is_marked_missed(
    study: StudyBot, world: World, clock: FakeClock, chat: FakeChat, store: SqlStore
) -> None:
    await set_up(study, world, clock)
    clock.set(await leaderboard_time(store))
    chat.transient_failures = 1
    await study.leaderboards.post_due()
    clock.advance(days=7, minutes=-30)  # the process was gone for a week
    assert await study.leaderboards.reconcile() == 0
    assert chat.posts("leaderboard") == []
    with sync_tx(store) as tx:
        week = (clock.now() - timedelta(days=14)).date()
        monday = week - timedelta(days=week.weekday())
        (board,) = rows(tx, leaderboards, channel_id=1, week_start=monday)
        assert board["status"] == "missed"
