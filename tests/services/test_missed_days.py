"""A missed day is visible and fixable: one note per outage, exactly once, and an admin
may post today's missed question late on purpose (the day stays forgiven)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.services.notices import notice_key
from bot.services.study import StudyBot
from bot.store.sql import SqlStore
from bot.store.tables import notices
from tests.conftest import World
from tests.dbtools import rows, sync_tx
from tests.fakes import FakeChat, FakeClock
from tests.services.helpers import is_error, run, text_of

MONDAY = datetime(2025, 3, 3, 7, 0, tzinfo=UTC)  # 08:00 Berlin; posts at 09:30, grace 3 h


def notes(chat: FakeChat) -> list[str]:
    return [
        s.message.plain_text() for s in chat.sent if (s.key or "").startswith("studybot:notice:")
    ]


async def test_one_note_for_an_outage_of_two_days(
    study: StudyBot, world: World, chat: FakeChat, clock: FakeClock
) -> None:
    clock.set(MONDAY)
    await run(study, world.admin, world.channel, "/study setup")
    clock.set(MONDAY + timedelta(hours=3))
    await study.posting.post_due()
    await study.notices.send_due()
    assert notes(chat) == []  # a day posted on time is no news
    clock.set(MONDAY + timedelta(days=3, hours=3))  # back on Thursday 11:00: Tue, Wed missed
    report = await study.posting.post_due()
    assert (report.missed, report.posted) == (2, 1)
    assert await study.notices.send_due() == 1
    for _ in range(3):  # later ticks, and a second look, send nothing more
        await study.posting.post_due()
        await study.notices.send_due()
    (note,) = notes(chat)
    assert "I missed the questions of Tue 4 Mar and Wed 5 Mar" in note
    assert "forgiven" in note and "nobody's streak suffers" in note
    assert "09:30" in note  # when the first was due, in the channel's time (console text)
    assert "post-now" not in note  # today's question went out: nothing to post late


async def test_the_note_is_not_sent_twice_when_the_record_is_lost(
    study: StudyBot, world: World, chat: FakeChat, clock: FakeClock, store: SqlStore
) -> None:
    clock.set(MONDAY)
    await run(study, world.admin, world.channel, "/study setup")
    clock.set(MONDAY + timedelta(days=1, hours=3))  # Tuesday: Monday missed
    await study.posting.post_due()
    key = notice_key(1, "missed:2025-03-03")
    chat.lose_record_of.add(key)  # sent, then the answer never came back
    assert await study.notices.send_due() == 0
    assert len(notes(chat)) == 1
    assert await study.notices.send_due() == 0  # claimed: not sent again inside the lease
    clock.advance(minutes=5)  # the lease is over: look it up before sending again
    assert await study.notices.send_due() == 1
    assert len(notes(chat)) == 1
    with sync_tx(store) as tx:
        (row,) = rows(tx, notices, channel_id=1, key="missed:2025-03-03")
        assert row["status"] == "posted"


async def test_a_missed_today_can_be_posted_late_on_purpose_and_stays_forgiven(
    study: StudyBot, world: World, chat: FakeChat, clock: FakeClock, store: SqlStore
) -> None:
    clock.set(MONDAY)
    await run(study, world.admin, world.channel, "/study setup")
    clock.set(MONDAY + timedelta(hours=8))  # 16:00 Berlin: past 09:30 + 3 h
    await study.posting.post_due()
    await study.notices.send_due()
    (note,) = notes(chat)
    assert "the question of Mon 3 Mar" in note and "/study post-now confirm" in note
    refused = await run(study, world.admin, world.channel, "/study post-now")
    assert is_error(refused) and "/study post-now confirm" in text_of(refused)
    assert chat.posts() == []  # asking changed nothing
    assert is_error(await run(study, world.alice, world.channel, "/study post-now confirm"))
    done = await run(study, world.admin, world.channel, "/study post-now confirm")
    assert not is_error(done), text_of(done)
    (post,) = chat.posts()
    await study.message(world.bob, world.thread(post.ref), "b1", "late answer")
    again = await run(study, world.admin, world.channel, "/study post-now confirm")
    assert is_error(again) and "already posted" in text_of(again)
    assert len(chat.posts()) == 1
    with sync_tx(store) as tx:
        assert date(2025, 3, 3) in tx.posts.forgiven_dates(1, date(2025, 3, 1))
    # Nobody's streak was hurt by the day (Alice never answered); Bob kept it, so it counts.
    clock.set(MONDAY + timedelta(days=1, hours=3))
    await study.streaks.roll_over()
    assert "No streak yet" in text_of(await run(study, world.alice, world.channel, "/study streak"))
    assert "Your streak: 1 day " in text_of(
        await run(study, world.bob, world.channel, "/study streak")
    )


async def test_a_day_forgiven_after_streaks_were_folded_is_folded_again(
    study: StudyBot, world: World, chat: FakeChat, clock: FakeClock, store: SqlStore
) -> None:
    """Tuesday's send failed and its claim was only found stale on Wednesday, after the
    roll-over had folded Tuesday as a day Alice missed: once Tuesday is marked missed
    (forgiven) her streak is folded again, and the cache equals the replay."""
    clock.set(MONDAY)
    await run(study, world.admin, world.channel, "/study setup days=daily")
    clock.set(MONDAY + timedelta(hours=3))
    await study.posting.post_due()
    (monday,) = chat.posts()
    await study.message(world.alice, world.thread(monday.ref), "a1", "an answer")
    clock.set(MONDAY + timedelta(days=1, hours=3))
    chat.transient_failures = 1  # Tuesday's post never goes out; its claim stays
    await study.posting.post_due()
    assert len(chat.posts()) == 1
    clock.set(MONDAY + timedelta(days=2, hours=3))
    await study.streaks.roll_over()  # folds Tuesday: not kept, not (yet) forgiven
    await study.posting.reconcile()  # the stale claim is past its grace: Tuesday missed
    with sync_tx(store) as tx:
        channel = tx.channels.get(1)
        assert channel is not None
        assert date(2025, 3, 4) in tx.posts.forgiven_dates(1, date(2025, 3, 1))
        (membership,) = tx.members.memberships(channel_id=1)
        assert membership.streak == study.streaks.recomputed(tx, channel, membership)
    assert "Your streak: 1 day " in text_of(
        await run(study, world.alice, world.channel, "/study streak")
    )
