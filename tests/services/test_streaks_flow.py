"""Streaks through the services: member timezones, off-days, outages, freezes, roll-over."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.core.models import Actor
from bot.core.streaks import StreakState
from bot.services.study import StudyBot
from bot.store.sql import SqlStore
from tests.conftest import World
from tests.dbtools import sync_tx
from tests.fakes import FakeChat, FakeClock
from tests.services.helpers import run, text_of

MONDAY = datetime(2025, 3, 3, 7, 0, tzinfo=UTC)  # 08:00 Berlin


async def answer_today(study: StudyBot, world: World, chat: FakeChat, who: Actor) -> None:
    await study.posting.post_due()
    post = chat.posts()[-1]
    await study.message(who, world.thread(post.ref), f"a-{post.ref}-{who.user}", "an answer")


async def test_a_week_of_answers_with_a_weekend_and_an_outage(
    study: StudyBot, world: World, chat: FakeChat, clock: FakeClock, store: SqlStore
) -> None:
    clock.set(MONDAY)
    await run(study, world.admin, world.channel, "/study setup")
    for day in range(12):  # Mon 3 March .. Fri 14 March
        clock.set(MONDAY + timedelta(days=day, hours=2))  # 10:00 Berlin, after the 09:30 post
        if day == 8:  # Tuesday 11 March: the bot is down all day
            continue
        if day == 9:
            await study.posting.post_due()  # marks Tuesday missed, posts Wednesday
        if (MONDAY + timedelta(days=day)).weekday() < 5:
            await answer_today(study, world, chat, world.alice)
        await study.streaks.roll_over()
    reply = await run(study, world.alice, world.channel, "/study streak")
    # Mon-Fri, Mon, (Tue forgiven), Wed, Thu, Fri = 9 kept required days; 7 of them earned a freeze.
    assert "Your streak: 9 days" in text_of(reply)
    assert "Freezes banked: 1 of 2" in text_of(reply)
    with sync_tx(store) as tx:
        channel = tx.channels.get(1)
        assert channel is not None
        (membership,) = tx.members.memberships(channel_id=1)
        assert membership.streak == study.streaks.recomputed(tx, channel, membership)


async def test_a_missed_day_spends_a_freeze_then_resets(
    study: StudyBot, world: World, chat: FakeChat, clock: FakeClock, store: SqlStore
) -> None:
    clock.set(MONDAY)
    await run(study, world.admin, world.channel, "/study setup days=daily")
    for day in range(10):  # the bot posts every day; Bob answers the first seven
        clock.set(MONDAY + timedelta(days=day, hours=2))
        await study.posting.post_due()
        if day < 7:
            await answer_today(study, world, chat, world.bob)
    clock.set(MONDAY + timedelta(days=10, hours=2))
    await study.streaks.roll_over()
    with sync_tx(store) as tx:
        (membership,) = tx.members.memberships(channel_id=1)
    # 7 kept (a freeze earned), day 8 missed (freeze spent), day 9 missed (reset).
    assert membership.streak == StreakState(0, 7, 0, 0, date(2025, 3, 12))


async def test_the_member_timezone_decides_the_day(
    study: StudyBot, world: World, chat: FakeChat, clock: FakeClock, store: SqlStore
) -> None:
    tokyo = Actor("fake", "T1", "U7", "Kenji", tz="Asia/Tokyo")
    clock.set(datetime(2025, 3, 7, 7, 0, tzinfo=UTC))  # Friday 08:00 Berlin
    await run(study, world.admin, world.channel, "/study setup")
    clock.set(datetime(2025, 3, 7, 8, 31, tzinfo=UTC))
    await study.posting.post_due()
    # Friday 16:30 in Berlin is already 00:30 on Saturday in Tokyo.
    clock.set(datetime(2025, 3, 7, 15, 30, tzinfo=UTC))
    await answer_today(study, world, chat, tokyo)
    with sync_tx(store) as tx:
        member = tx.members.find("fake", "T1", "U7")
        assert member is not None
        assert tx.activity.kept_days(member.id, date(2025, 3, 1)) == {date(2025, 3, 8)}
    # Saturday is an off-day in Tokyo too: the answer keeps no required day.
    assert "0 days" in text_of(await run(study, tokyo, world.channel, "/study streak"))


async def test_channels_from_config_until_an_admin_changes_them(
    study: StudyBot, world: World, clock: FakeClock, store: SqlStore
) -> None:
    from dataclasses import replace

    from bot.core.schedule import parse_time

    defaults = study.policy.defaults
    await study.channels.seed(world.channel, replace(defaults, post_time=parse_time("07:00")))
    await study.channels.seed(world.channel, replace(defaults, post_time=parse_time("07:15")))
    with sync_tx(store) as tx:
        channel = tx.channels.find("fake", "T1", "C1")
        assert channel is not None
        assert (channel.source, channel.settings.post_time.minute) == ("config", 15)
    await run(study, world.admin, world.channel, "/study setup time=11:00")
    await study.channels.seed(world.channel, replace(defaults, post_time=parse_time("06:00")))
    with sync_tx(store) as tx:
        channel = tx.channels.find("fake", "T1", "C1")
        assert channel is not None
        assert (channel.source, channel.settings.post_time.hour) == ("admin", 11)
