"""Admin commands, their refusals, and streak repair with audit."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.models import Actor
from bot.core.replies import Visibility
from bot.services.study import StudyBot
from bot.store.sql import SqlStore
from bot.store.tables import channels, streak_audit
from tests.conftest import World
from tests.dbtools import count, rows, sync_tx
from tests.fakes import FakeChat, FakeClock
from tests.services.helpers import is_error, run, text_of


async def test_setup_defaults_then_changes(
    study: StudyBot, world: World, store: SqlStore, chat: FakeChat, clock: FakeClock
) -> None:
    clock.set(datetime(2025, 3, 3, 7, 0, tzinfo=UTC))
    welcome = await run(study, world.admin, world.channel, "/study setup")
    # The first setup is one public welcome: how to take part, and when it starts.
    assert welcome.visibility == Visibility.CHANNEL
    text = text_of(welcome)
    assert "mon-fri at 09:30 (Europe/Berlin), key points 6 hours later" in text
    assert "Answer it in the thread" in text and "/study help" in text
    assert "The first question comes Mon 3 Mar 09:30 CET" in text
    reply = await run(study, world.admin, world.channel, "/study setup")
    assert reply.visibility == Visibility.PRIVATE
    text = text_of(reply)
    for expected in (
        "time: 09:30",
        "days: mon-fri",
        "reveal: +6h",
        "tz: Europe/Berlin",
        "decks: all",
    ):
        assert expected in text
    reply = await run(
        study,
        world.admin,
        world.channel,
        "/study setup time=10:15 tz=Asia/Kolkata days=mon,wed,fri reveal=15:00 topics=alpha,beta levels=mid",
    )
    assert reply.visibility == Visibility.PRIVATE and "Settings saved" in text_of(reply)
    with sync_tx(store) as tx:
        channel = tx.channels.find("fake", "T1", "C1")
        assert channel is not None
        s = channel.settings
        assert (s.post_time.hour, s.tz, sorted(s.days), s.topics, s.levels) == (
            10,
            "Asia/Kolkata",
            [0, 2, 4],
            ("alpha", "beta"),
            ("mid",),
        )
    clock.advance(seconds=30)
    await run(study, world.admin, world.channel, "/study setup time=10:30")
    assert await study.notices.send_due() == 0  # still within the quiet time after a change
    clock.advance(minutes=3)
    assert await study.notices.send_due() == 1
    assert await study.notices.send_due() == 0
    (summary,) = [s.message.plain_text() for s in chat.sent if s.target.channel == "C1"]
    # One public line for the whole burst, with the settings as they are now.
    assert summary.startswith("⚙️ Ada changed the study settings: mon,wed,fri at 10:30")
    assert "(Asia/Kolkata), key points at 15:00; topics alpha,beta, levels mid." in summary


async def test_bad_setup_values_change_nothing(
    study: StudyBot, world: World, store: SqlStore
) -> None:
    await run(study, world.admin, world.channel, "/study setup")
    for bad, message in [
        ("time=25:00", "Invalid time"),
        ("tz=Moon/Base", "Unknown timezone"),
        ("days=someday", "Invalid days"),
        ("reveal=soon", "Invalid reveal"),
        ("topics=cooking", "Unknown topics"),
        ("levels=mid topics=gamma decks=testdeck levels=architect", "No card matches"),
    ]:
        reply = await run(study, world.admin, world.channel, f"/study setup time=11:00 {bad}")
        assert is_error(reply), bad
        assert message in text_of(reply), (bad, text_of(reply))
    with sync_tx(store) as tx:
        channel = tx.channels.find("fake", "T1", "C1")
        assert channel is not None and channel.settings.post_time.hour == 9


async def test_non_admins_are_refused_and_nothing_changes(
    study: StudyBot, world: World, store: SqlStore, chat: FakeChat
) -> None:
    for command in (
        "/study setup",
        "/study post-now",
        "/study reveal-now",
        "/study skip",
        "/study pause",
        "/study resume",
        "/study streak Bob 3",
    ):
        reply = await run(study, world.bob, world.channel, command)
        assert is_error(reply), command
        assert "Only workspace admins" in text_of(reply)
    with sync_tx(store) as tx:
        assert count(tx, channels) == 0
    assert chat.sent == []


async def test_platform_admin_flag_is_honoured(study: StudyBot, world: World) -> None:
    owner = Actor("fake", "T1", "U9", "Owner", is_admin=True)
    assert not is_error(await run(study, owner, world.channel, "/study setup"))


async def test_pause_and_resume(
    study: StudyBot, world: World, chat: FakeChat, clock: FakeClock
) -> None:
    await run(study, world.admin, world.channel, "/study setup")
    assert "Paused" in text_of(await run(study, world.admin, world.channel, "/study pause"))
    assert "already paused" in text_of(await run(study, world.admin, world.channel, "/study pause"))
    clock.advance(hours=2)
    await study.posting.post_due()
    assert chat.posts() == []
    status = text_of(await run(study, world.admin, world.channel, "/study status"))
    assert "paused (paused by Ada)" in status
    await run(study, world.admin, world.channel, "/study resume")
    clock.advance(days=1)
    await study.posting.post_due()
    assert len(chat.posts()) == 1


async def test_streak_repair_is_audited(
    study: StudyBot, world: World, chat: FakeChat, clock: FakeClock, store: SqlStore
) -> None:
    clock.set(datetime(2025, 3, 3, 9, 0, tzinfo=UTC))
    await run(study, world.admin, world.channel, "/study setup")
    await run(study, world.admin, world.channel, "/study post-now")
    (post,) = chat.posts()
    await study.message(world.bob, world.thread(post.ref), "b1", "answer")
    assert "1 day" in text_of(await run(study, world.bob, world.channel, "/study streak"))
    reply = await run(study, world.admin, world.channel, "/study streak Bob 12 lost to an outage")
    assert "now 12 (was 1)" in text_of(reply)
    # The number the repair names is the number everyone sees, today already kept or not.
    assert "12 days" in text_of(await run(study, world.bob, world.channel, "/study streak"))
    assert "Bob" in text_of(await run(study, world.bob, world.channel, "/study leaderboard"))
    assert "12" in text_of(await run(study, world.bob, world.channel, "/study leaderboard"))
    again = await run(study, world.admin, world.channel, "/study streak Bob 12 same again")
    assert "now 12 (was 12)" in text_of(again)
    assert is_error(await run(study, world.admin, world.channel, "/study streak Nobody 3"))
    assert is_error(await run(study, world.admin, world.channel, "/study streak Bob lots"))
    with sync_tx(store) as tx:
        entry, _again = rows(tx, streak_audit, channel_id=1)
        assert (entry["old_value"], entry["new_value"], entry["reason"]) == (
            1,
            12,
            "lost to an outage",
        )
        assert "Ada" in entry["actor"]
        (membership,) = tx.members.memberships(channel_id=1)
        recomputed = study.streaks.recomputed(tx, tx.channels.get(1), membership)  # type: ignore[arg-type]
        assert recomputed.current == membership.streak.current == 12


async def test_commands_in_an_unset_channel(study: StudyBot, world: World) -> None:
    assert "not set up" in text_of(await run(study, world.bob, world.channel, "/study status"))
    assert is_error(await run(study, world.bob, world.channel, "/study leaderboard"))
    assert "help" in text_of(await run(study, world.bob, world.channel, "/study help"))
    assert "Topics (9 cards)" in text_of(
        await run(study, world.bob, world.channel, "/study topics")
    )
