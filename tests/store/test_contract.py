"""The store contract: what services rely on, checked against every backend."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from bot.core.models import Grade
from bot.core.srs import Srs
from bot.core.streaks import StreakState
from bot.services.policy import default_channel_settings
from bot.store.sql import SqlStore

NOW = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
DAY = date(2025, 3, 3)
SETTINGS = default_channel_settings("Europe/Berlin")


async def channel_and_member(store: SqlStore) -> tuple[int, int]:
    async with store.write() as tx:
        channel = await tx.channels.save(
            "fake",
            "T1",
            "C1",
            SETTINGS,
            source="admin",
            now=NOW,
            next_post_at=NOW,
            next_leaderboard_at=NOW,
        )
        member = await tx.members.ensure("fake", "T1", "U1", "Alice", None, NOW)
    return channel.id, member.id


async def claim(
    store: SqlStore, channel_id: int, day: date = DAY, status: str = "intent"
) -> int | None:
    async with store.write() as tx:
        post = await tx.posts.claim(
            channel_id,
            day,
            card_key="d/c1",
            topic="t",
            cycle=1,
            new_cycle=False,
            scheduled_for=NOW,
            token="tok",
            now=NOW,
            status=status,
        )
    return post.id if post else None


async def test_channel_settings_round_trip_and_upsert(backend: SqlStore) -> None:
    channel_id, _ = await channel_and_member(backend)
    async with backend.write() as tx:
        again = await tx.channels.save(
            "fake",
            "T1",
            "C1",
            SETTINGS,
            source="config",
            now=NOW,
            next_post_at=NOW,
            next_leaderboard_at=NOW,
        )
        assert again.id == channel_id
        assert again.settings == SETTINGS
        assert again.source == "config"
        assert await tx.channels.count() == 1


async def test_due_posts_and_pause(backend: SqlStore) -> None:
    channel_id, _ = await channel_and_member(backend)
    async with backend.read() as tx:
        assert [c.id for c in await tx.channels.due_posts(NOW)] == [channel_id]
        assert await tx.channels.due_posts(NOW - timedelta(seconds=1)) == []
    async with backend.write() as tx:
        await tx.channels.set_paused(channel_id, True, "not_in_channel")
    async with backend.read() as tx:
        channel = await tx.channels.get(channel_id)
        assert channel is not None and channel.paused and channel.pause_reason == "not_in_channel"


async def test_one_daily_post_per_channel_and_local_date(backend: SqlStore) -> None:
    channel_id, _ = await channel_and_member(backend)
    assert await claim(backend, channel_id) is not None
    assert await claim(backend, channel_id) is None
    assert await claim(backend, channel_id, DAY + timedelta(days=1)) is not None


async def test_concurrent_claims_have_one_winner(backend: SqlStore) -> None:
    channel_id, _ = await channel_and_member(backend)
    results = await asyncio.gather(*(claim(backend, channel_id) for _ in range(8)))
    assert sum(r is not None for r in results) == 1


async def test_post_lifecycle(backend: SqlStore) -> None:
    channel_id, _ = await channel_and_member(backend)
    post_id = await claim(backend, channel_id)
    assert post_id is not None
    async with backend.write() as tx:
        assert await tx.posts.reclaim(post_id, "new", NOW, "wrong-token") is False
        assert await tx.posts.reclaim(post_id, "new", NOW, "tok") is True
        await tx.posts.record_posted(
            post_id,
            message_ref="m1",
            thread_ref="th1",
            posted_at=NOW,
            reveal_due_at=NOW + timedelta(hours=6),
            caught_up=False,
        )
    async with backend.read() as tx:
        post = await tx.posts.by_thread(channel_id, "th1")
        assert post is not None and post.status == "posted"
        assert await tx.posts.used_in_cycle(channel_id, 1) == {"d/c1"}
        assert await tx.posts.due_reveals(NOW) == []
        assert [p.id for p in await tx.posts.due_reveals(NOW + timedelta(hours=6))] == [post_id]
    later = NOW + timedelta(hours=7)
    async with backend.write() as tx:
        assert await tx.posts.claim_reveal(post_id, later, later - timedelta(minutes=2))
        assert not await tx.posts.claim_reveal(post_id, later, later - timedelta(minutes=2))
        await tx.posts.record_reveal(post_id, "r1", later)
    async with backend.read() as tx:
        post = await tx.posts.by_reveal(channel_id, "r1")
        assert post is not None and post.reveal_status == "posted"


async def test_forgiven_dates_are_missed_and_skipped_days(backend: SqlStore) -> None:
    channel_id, _ = await channel_and_member(backend)
    await claim(backend, channel_id, DAY, "missed")
    await claim(backend, channel_id, DAY + timedelta(days=1), "skipped")
    await claim(backend, channel_id, DAY + timedelta(days=2), "intent")
    async with backend.read() as tx:
        assert await tx.posts.forgiven_dates(channel_id, DAY) == {DAY, DAY + timedelta(days=1)}


async def test_one_answer_per_post_and_member(backend: SqlStore) -> None:
    channel_id, member_id = await channel_and_member(backend)
    post_id = await claim(backend, channel_id)
    assert post_id is not None
    async with backend.write() as tx:
        assert await tx.answers.add(
            post_id, member_id, message_ref="a1", text="x", before_reveal=True, now=NOW
        )
        assert not await tx.answers.add(
            post_id, member_id, message_ref="a2", text="y", before_reveal=True, now=NOW
        )
        answer = await tx.answers.by_message(post_id, "a1")
        assert answer is not None
        await tx.answers.set_text(answer.id, "edited", NOW)
    async with backend.read() as tx:
        got = await tx.answers.get(post_id, member_id)
        assert got is not None and got.text == "edited"


async def test_review_log_replace_void_and_history(backend: SqlStore) -> None:
    _, member_id = await channel_and_member(backend)
    async with backend.write() as tx:
        await tx.reviews.log(member_id, "d/c1", Grade.GOOD, NOW, "daily", "1:1")
        await tx.reviews.log(member_id, "d/c1", Grade.EASY, NOW + timedelta(days=2), "quiz", "9:0")
        await tx.reviews.log(member_id, "d/c1", Grade.HARD, NOW, "daily", "1:1")  # replaced
    async with backend.read() as tx:
        assert await tx.reviews.history(member_id, "d/c1") == [
            (Grade.HARD, NOW),
            (Grade.EASY, NOW + timedelta(days=2)),
        ]
    async with backend.write() as tx:
        await tx.reviews.void("daily", "1:1", NOW)
    async with backend.read() as tx:
        assert [g for g, _ in await tx.reviews.history(member_id, "d/c1")] == [Grade.EASY]
        assert len(await tx.reviews.all_for(member_id)) == 2  # the log keeps everything


async def test_due_cards_skip_paused_blocked_and_open(backend: SqlStore) -> None:
    _, member_id = await channel_and_member(backend)
    srs = Srs(fuzz=False)
    state = srs.review(srs.new(NOW), Grade.GOOD, NOW)
    async with backend.write() as tx:
        for key in ("d/c1", "d/c2"):
            await tx.reviews.save_state(
                member_id, key, state, first_seen=NOW, origin_channel_id=None
            )
    later = state.due + timedelta(minutes=1)
    async with backend.read() as tx:
        assert {d.card_key for d in await tx.reviews.due(later)} == {"d/c1", "d/c2"}
        assert await tx.reviews.due(NOW) == []
    async with backend.write() as tx:
        followup = await tx.followups.claim(member_id, "d/c1", state.due, DAY, NOW)
        assert followup is not None
        assert await tx.followups.claim(member_id, "d/c1", state.due, DAY, NOW) is None
    async with backend.read() as tx:
        assert {d.card_key for d in await tx.reviews.due(later)} == {"d/c2"}
        assert await tx.followups.sent_on(member_id, DAY) == 1
    async with backend.write() as tx:
        await tx.members.block_dm(member_id, later + timedelta(days=1), "dms_closed")
    async with backend.read() as tx:
        assert await tx.reviews.due(later) == []


async def test_activity_is_unique_and_weekly_totals_follow(backend: SqlStore) -> None:
    channel_id, member_id = await channel_and_member(backend)
    async with backend.write() as tx:
        await tx.members.join(channel_id, member_id, DAY)
        assert await tx.activity.add(
            member_id, "answer", "post:1", local_date=DAY, points=10, keeps_day=True, now=NOW
        )
        assert not await tx.activity.add(
            member_id, "answer", "post:1", local_date=DAY, points=10, keeps_day=True, now=NOW
        )
        await tx.activity.add(
            member_id, "quiz_card", "q:1", local_date=DAY, points=1, keeps_day=False, now=NOW
        )
        await tx.activity.add(
            member_id,
            "followup_on_time",
            "f:1",
            local_date=DAY,
            points=3,
            keeps_day=True,
            now=NOW,
            on_time_review=True,
        )
    async with backend.read() as tx:
        assert await tx.activity.earned(member_id, DAY, "answer") == 10
        assert await tx.activity.week_points(member_id, DAY) == 14
        (row,) = await tx.activity.week_table(channel_id, DAY)
        assert (row.name, row.points, row.on_time_reviews) == ("Alice", 14, 1)
        assert await tx.activity.kept_days(member_id, DAY) == {DAY}
    async with backend.write() as tx:
        assert await tx.activity.remove(member_id, "answer", "post:1") == 10
    async with backend.read() as tx:
        assert await tx.activity.total_points(member_id) == 4


async def test_events_are_claimed_once(backend: SqlStore) -> None:
    async with backend.write() as tx:
        assert await tx.events.claim("slack", "Ev1", NOW)
        assert not await tx.events.claim("slack", "Ev1", NOW)
        assert await tx.events.claim("discord", "Ev1", NOW)
        assert await tx.events.prune(NOW + timedelta(seconds=1)) == 2


async def test_streak_cache_and_audit(backend: SqlStore) -> None:
    channel_id, member_id = await channel_and_member(backend)
    async with backend.write() as tx:
        await tx.members.join(channel_id, member_id, DAY)
        await tx.members.save_streak(channel_id, member_id, StreakState(3, 5, 1, 3, DAY))
        for value in (4, 6):
            await tx.audit.record(
                channel_id,
                member_id,
                effective_date=DAY,
                old=3,
                new=value,
                actor="a",
                reason="r",
                now=NOW,
            )
    async with backend.read() as tx:
        (membership,) = await tx.members.memberships(channel_id=channel_id)
        assert membership.streak == StreakState(3, 5, 1, 3, DAY)
        assert await tx.audit.repairs(channel_id, member_id) == {DAY: 6}
        assert await tx.members.stale_streaks(DAY) == []
        assert len(await tx.members.stale_streaks(DAY + timedelta(days=1))) == 1


async def test_a_failed_write_changes_nothing(backend: SqlStore) -> None:
    async def claim_then_fail() -> None:
        async with backend.write() as tx:
            await tx.events.claim("fake", "e1", NOW)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await claim_then_fail()
    async with backend.write() as tx:
        assert await tx.events.claim("fake", "e1", NOW)


async def test_unique_keys_are_enforced_by_the_database(backend: SqlStore) -> None:
    from bot.store.tables import daily_posts

    channel_id, _ = await channel_and_member(backend)
    await claim(backend, channel_id)
    with pytest.raises(IntegrityError):
        async with backend.write() as tx:
            await tx.conn.execute(  # type: ignore[attr-defined]
                daily_posts.insert().values(
                    channel_id=channel_id, local_date=DAY, status="intent", cycle=1
                )
            )


async def test_forget_member_cascades(backend: SqlStore) -> None:
    channel_id, member_id = await channel_and_member(backend)
    async with backend.write() as tx:
        await tx.members.join(channel_id, member_id, DAY)
        await tx.activity.add(
            member_id, "answer", "p", local_date=DAY, points=10, keeps_day=True, now=NOW
        )
        await tx.reviews.log(member_id, "d/c1", Grade.GOOD, NOW, "daily", "1:1")
        await tx.members.delete(member_id)
    async with backend.read() as tx:
        assert await tx.members.get(member_id) is None
        assert await tx.activity.for_member(member_id) == []
        assert await tx.reviews.all_for(member_id) == []
        assert await tx.members.memberships(channel_id=channel_id) == []
