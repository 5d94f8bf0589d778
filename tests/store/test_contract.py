"""The store contract: what services rely on, checked against every backend.

Every check goes through the store's own API (``await store.write(fn)`` /
``await store.read(fn)``), so a new backend proves itself by passing this file. Where
no repository method reads what a check needs, it counts rows directly
(``tests.dbtools``).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete
from sqlalchemy.exc import DBAPIError, IntegrityError

from bot.core.models import Grade
from bot.core.srs import Srs
from bot.core.streaks import StreakState
from bot.ports.store import Tx
from bot.services.policy import default_channel_settings
from bot.store.sql import SqlStore, SqlTx
from bot.store.tables import activity, channels, daily_posts, members, reviews
from tests.dbtools import count

NOW = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
DAY = date(2025, 3, 3)
SETTINGS = default_channel_settings("Europe/Berlin")


async def channel_and_member(store: SqlStore) -> tuple[int, int]:
    def unit(tx: Tx) -> tuple[int, int]:
        channel = tx.channels.save(
            "fake",
            "T1",
            "C1",
            SETTINGS,
            source="admin",
            now=NOW,
            next_post_at=NOW,
            next_leaderboard_at=NOW,
        )
        member = tx.members.ensure("fake", "T1", "U1", "Alice", None, NOW)
        return channel.id, member.id

    return await store.write(unit)


async def claim(
    store: SqlStore, channel_id: int, day: date = DAY, status: str = "intent"
) -> int | None:
    def unit(tx: Tx) -> int | None:
        post = tx.posts.claim(
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

    return await store.write(unit)


async def test_channel_settings_round_trip_and_upsert(backend: SqlStore) -> None:
    channel_id, _ = await channel_and_member(backend)

    def unit(tx: Tx) -> None:
        again = tx.channels.save(
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
        assert isinstance(tx, SqlTx)
        assert count(tx, channels) == 1

    await backend.write(unit)


async def test_due_posts_and_pause(backend: SqlStore) -> None:
    channel_id, _ = await channel_and_member(backend)
    earlier = NOW - timedelta(seconds=1)
    assert await backend.write(lambda tx: tx.channels.take_due_posts(earlier)) == []
    taken = await backend.write(lambda tx: tx.channels.take_due_posts(NOW))
    assert [c.id for c in taken] == [channel_id]
    assert await backend.write(lambda tx: tx.channels.take_due_posts(NOW, (NOW, channel_id))) == []
    await backend.write(lambda tx: tx.channels.set_paused(channel_id, True, "not_in_channel"))
    channel = await backend.read(lambda tx: tx.channels.get(channel_id))
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

    def record(tx: Tx) -> None:
        assert tx.posts.reclaim(post_id, "new", NOW, "wrong-token") is False
        assert tx.posts.reclaim(post_id, "new", NOW, "tok") is True
        tx.posts.record_posted(
            post_id,
            message_ref="m1",
            thread_ref="th1",
            posted_at=NOW,
            reveal_due_at=NOW + timedelta(hours=6),
            caught_up=False,
        )

    await backend.write(record)

    def check(tx: Tx) -> None:
        found = tx.posts.in_thread("fake", "T1", "C1", "th1")
        assert found is not None and found[1].status == "posted"
        assert tx.posts.used_in_cycle(channel_id, 1) == {"d/c1"}
        assert tx.posts.take_due_reveals(NOW) == []

    await backend.write(check)
    later = NOW + timedelta(hours=7)

    def reveal(tx: Tx) -> None:
        (due,) = tx.posts.take_due_reveals(later)
        assert (due.id, due.reveal_status) == (post_id, "pending")  # as it was
        assert tx.posts.take_due_reveals(later) == []  # claimed: not due any more
        assert not tx.posts.claim_reveal(post_id, later, later - timedelta(minutes=2))
        stale = later + timedelta(minutes=3)
        assert tx.posts.claim_reveal(post_id, stale, stale - timedelta(minutes=2))
        tx.posts.record_reveal(post_id, "r1", later)

    await backend.write(reveal)
    found = await backend.read(lambda tx: tx.posts.reveal_in("fake", "T1", "C1", "r1"))
    assert found is not None and found[1].reveal_status == "posted"


async def test_forgiven_dates_are_missed_and_skipped_days(backend: SqlStore) -> None:
    channel_id, _ = await channel_and_member(backend)
    await claim(backend, channel_id, DAY, "missed")
    await claim(backend, channel_id, DAY + timedelta(days=1), "skipped")
    await claim(backend, channel_id, DAY + timedelta(days=2), "intent")
    forgiven = await backend.read(lambda tx: tx.posts.forgiven_dates(channel_id, DAY))
    assert forgiven == {DAY, DAY + timedelta(days=1)}


async def test_one_answer_per_post_and_member(backend: SqlStore) -> None:
    channel_id, member_id = await channel_and_member(backend)
    post_id = await claim(backend, channel_id)
    assert post_id is not None

    def unit(tx: Tx) -> None:
        assert tx.answers.add(
            post_id, member_id, message_ref="a1", text="x", before_reveal=True, now=NOW
        )
        assert not tx.answers.add(
            post_id, member_id, message_ref="a2", text="y", before_reveal=True, now=NOW
        )
        answer = tx.answers.by_message(post_id, "a1")
        assert answer is not None
        tx.answers.set_text(answer.id, "edited", NOW)

    await backend.write(unit)
    got = await backend.read(lambda tx: tx.answers.get(post_id, member_id))
    assert got is not None and got.text == "edited"


async def test_review_log_replace_void_and_history(backend: SqlStore) -> None:
    _, member_id = await channel_and_member(backend)

    def log(tx: Tx) -> None:
        tx.reviews.log(member_id, "d/c1", Grade.GOOD, NOW, "daily", "1:1")
        tx.reviews.log(member_id, "d/c1", Grade.EASY, NOW + timedelta(days=2), "quiz", "9:0")
        tx.reviews.log(member_id, "d/c1", Grade.HARD, NOW, "daily", "1:1")  # replaced

    await backend.write(log)
    history = await backend.read(lambda tx: tx.reviews.history(member_id, "d/c1"))
    assert history == [(Grade.HARD, NOW), (Grade.EASY, NOW + timedelta(days=2))]
    await backend.write(lambda tx: tx.reviews.void("daily", "1:1", NOW))
    history = await backend.read(lambda tx: tx.reviews.history(member_id, "d/c1"))
    assert [g for g, _ in history] == [Grade.EASY]
    logged = await backend.read(lambda tx: count(tx, reviews, member_id=member_id))
    assert logged == 2  # kept in full


async def test_due_cards_skip_paused_blocked_and_open(backend: SqlStore) -> None:
    _, member_id = await channel_and_member(backend)
    srs = Srs(fuzz=False)
    state = srs.review(srs.new(NOW), Grade.GOOD, NOW)

    def save(tx: Tx) -> None:
        for key in ("d/c1", "d/c2"):
            tx.reviews.save_state(member_id, key, state, first_seen=NOW, origin_channel_id=None)

    await backend.write(save)
    later = state.due + timedelta(minutes=1)
    due = await backend.read(lambda tx: tx.reviews.due(later))
    assert {d.card_key for d in due} == {"d/c1", "d/c2"}
    assert await backend.read(lambda tx: tx.reviews.due(NOW)) == []

    def open_one(tx: Tx) -> None:
        assert tx.followups.claim(member_id, "d/c1", state.due, DAY, NOW) is not None
        assert tx.followups.claim(member_id, "d/c1", state.due, DAY, NOW) is None

    await backend.write(open_one)
    due = await backend.read(lambda tx: tx.reviews.due(later))
    assert {d.card_key for d in due} == {"d/c2"}
    assert await backend.read(lambda tx: tx.followups.sent_on(member_id, DAY)) == 1
    await backend.write(
        lambda tx: tx.members.block_dm(member_id, later + timedelta(days=1), "closed")
    )
    assert await backend.read(lambda tx: tx.reviews.due(later)) == []
    await backend.write(lambda tx: tx.members.block_dm(member_id, None, None))
    await backend.write(lambda tx: tx.members.set_followups_paused(member_id, True))
    assert await backend.read(lambda tx: tx.reviews.due(later)) == []


async def test_an_unopened_dm_is_told_apart_from_an_opened_or_older_one(
    backend: SqlStore,
) -> None:
    _, member_id = await channel_and_member(backend)
    sent = NOW + timedelta(hours=1)

    def send(tx: Tx) -> int:
        followup_id = tx.followups.claim(member_id, "d/c1", NOW, DAY, NOW)
        assert followup_id is not None
        assert not tx.followups.unread_since(member_id, None)  # an intent is not sent yet
        tx.followups.mark(followup_id, "sent", sent_at=sent, message_ref="m1")
        return followup_id

    followup_id = await backend.write(send)
    unread = backend.read
    assert await unread(lambda tx: tx.followups.unread_since(member_id, None))
    assert await unread(lambda tx: tx.followups.unread_since(member_id, NOW))
    assert not await unread(lambda tx: tx.followups.unread_since(member_id, sent))
    await backend.write(lambda tx: tx.followups.mark(followup_id, "shown", shown_at=sent))
    assert not await unread(lambda tx: tx.followups.unread_since(member_id, None))


async def test_a_channels_streak_history_reads_in_one_go_what_each_member_reads(
    backend: SqlStore,
) -> None:
    """kept_days_in / repairs_in give, per member, what kept_days / repairs give from the
    day each member's streak was folded to (the leaderboard reads them this way)."""
    channel_id, alice = await channel_and_member(backend)
    days = [DAY + timedelta(days=n) for n in range(6)]

    def arrange(tx: Tx) -> int:
        bob = tx.members.ensure("fake", "T1", "U2", "Bob", None, NOW).id
        carol = tx.members.ensure("fake", "T1", "U3", "Carol", None, NOW).id  # not a member
        for member_id in (alice, bob):
            tx.members.join(channel_id, member_id, DAY)
        for n, day in enumerate(days):
            for member_id, keeps in ((alice, True), (bob, n % 2 == 0), (carol, True)):
                tx.activity.add(
                    member_id, "answer", f"p{n}", local_date=day, points=1, keeps_day=keeps, now=NOW
                )
        tx.members.save_streak(channel_id, bob, StreakState(1, 1, 0, 1, days[2]))
        for value in (4, 7):  # the later repair of a day wins
            tx.audit.record(
                channel_id,
                alice,
                effective_date=days[1],
                old=0,
                new=value,
                actor="a",
                reason="r",
                now=NOW,
            )
        return bob

    bob = await backend.write(arrange)

    def look(tx: Tx) -> tuple[dict[int, set[date]], dict[int, dict[date, int]], set[date]]:
        return (
            tx.activity.kept_days_in(channel_id),
            tx.audit.repairs_in(channel_id),
            (tx.activity.kept_days(bob, days[2])),
        )

    kept, repairs, bob_alone = await backend.read(look)
    assert set(kept) == {alice, bob}  # Carol is not in the channel
    assert kept[alice] == set(days)
    assert kept[bob] == bob_alone == {days[2], days[4]}  # from where his streak was folded
    assert repairs == {alice: {days[1]: 7}}


RACE_TRIALS = 50
CAP = 30


async def test_concurrent_units_never_exceed_a_cap(backend: SqlStore) -> None:
    """Read the day's points, then add what the cap leaves: eight such units at once for
    one member, 50 times. Units that overlap (PostgreSQL runs them on several
    connections) must still behave as if run one at a time: the cap is never exceeded
    and the cap is reached."""
    _, member_id = await channel_and_member(backend)

    def earn(day: date, ref: str) -> None:
        def unit(tx: Tx) -> None:
            already = tx.activity.earned_by_kind(member_id, day, ["answer"])["answer"]
            time.sleep(0.002)  # widen the window between the read and the write
            points = max(0, min(10, CAP - already))
            if points:
                tx.activity.add(
                    member_id, "answer", ref, local_date=day, points=points, keeps_day=True, now=NOW
                )

        return unit

    over = []
    for trial in range(RACE_TRIALS):
        day = DAY + timedelta(days=trial)
        await asyncio.gather(*(backend.write(earn(day, f"{trial}-{i}")) for i in range(8)))
        total = await backend.read(
            lambda tx, day=day: tx.activity.earned_by_kind(member_id, day, ["answer"])["answer"]
        )
        if total != CAP:
            over.append((trial, total))
    assert over == []


async def test_a_deleted_rows_id_is_never_handed_out_again(backend: SqlStore) -> None:
    """Buttons and DM keys carry these ids: after the newest row is deleted (a released
    claim, a forgotten member), the next row must not take its id, or an old button (or a
    lookup after a crash) would name it."""
    _, member_id = await channel_and_member(backend)
    due = NOW + timedelta(days=1)

    def claim_one(tx: Tx) -> int:
        followup_id = tx.followups.claim(member_id, "d/c1", due, DAY, NOW)
        assert followup_id is not None
        return followup_id

    first = await backend.write(claim_one)
    await backend.write(lambda tx: tx.followups.drop(first))
    assert await backend.write(claim_one) > first
    quiz = await backend.write(lambda tx: tx.quizzes.start(member_id, None, ["d/c1"], NOW))
    other = await backend.write(lambda tx: tx.members.ensure("fake", "T1", "U2", "Bo", None, NOW))
    await backend.write(lambda tx: tx.personal.erase(member_id))  # its quiz goes with it
    later = await backend.write(lambda tx: tx.quizzes.start(other.id, None, ["d/c1"], NOW))
    assert later > quiz


async def test_activity_is_unique_and_weekly_totals_follow(backend: SqlStore) -> None:
    channel_id, member_id = await channel_and_member(backend)

    def add(tx: Tx) -> None:
        tx.members.join(channel_id, member_id, DAY)
        assert tx.activity.add(
            member_id, "answer", "post:1", local_date=DAY, points=10, keeps_day=True, now=NOW
        )
        assert not tx.activity.add(
            member_id, "answer", "post:1", local_date=DAY, points=10, keeps_day=True, now=NOW
        )
        tx.activity.add(
            member_id, "quiz_card", "q:1", local_date=DAY, points=1, keeps_day=False, now=NOW
        )
        tx.activity.add(
            member_id,
            "followup_on_time",
            "f:1",
            local_date=DAY,
            points=3,
            keeps_day=True,
            now=NOW,
        )

    await backend.write(add)

    def check(tx: Tx) -> None:
        assert tx.activity.earned_by_kind(member_id, DAY, ["answer"]) == {"answer": 10}
        assert tx.activity.week_points(member_id, DAY) == 14
        assert tx.activity.week_top(channel_id, DAY, 1) == [("Alice", 14)]
        assert tx.activity.week_top(channel_id, DAY, 1, on_time=True) == [("Alice", 1)]
        assert tx.activity.kept_days(member_id, DAY) == {DAY}

    await backend.read(check)
    assert await backend.write(lambda tx: tx.activity.remove(member_id, "answer", "post:1")) == 10
    assert await backend.read(lambda tx: tx.activity.total_points(member_id)) == 4


async def test_events_are_claimed_once(backend: SqlStore) -> None:
    def unit(tx: Tx) -> None:
        assert tx.events.claim("slack", "Ev1", NOW)
        assert not tx.events.claim("slack", "Ev1", NOW)
        assert tx.events.claim("discord", "Ev1", NOW)
        assert tx.events.prune(NOW + timedelta(seconds=1)) == 2

    await backend.write(unit)


async def test_streak_cache_and_audit(backend: SqlStore) -> None:
    channel_id, member_id = await channel_and_member(backend)

    def unit(tx: Tx) -> None:
        tx.members.join(channel_id, member_id, DAY)
        tx.members.save_streak(channel_id, member_id, StreakState(3, 5, 1, 3, DAY))
        for value in (4, 6):
            tx.audit.record(
                channel_id,
                member_id,
                effective_date=DAY,
                old=3,
                new=value,
                actor="a",
                reason="r",
                now=NOW,
            )

    await backend.write(unit)

    def check(tx: Tx) -> None:
        (membership,) = tx.members.memberships(channel_id=channel_id)
        assert membership.streak == StreakState(3, 5, 1, 3, DAY)
        assert tx.audit.repairs(channel_id, member_id) == {DAY: 6}
        assert tx.members.stale_streaks(DAY) == []
        assert len(tx.members.stale_streaks(DAY + timedelta(days=1))) == 1

    await backend.read(check)


async def test_a_failed_unit_of_work_changes_nothing(backend: SqlStore) -> None:
    def claim_then_fail(tx: Tx) -> None:
        tx.events.claim("fake", "e1", NOW)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await backend.write(claim_then_fail)
    assert await backend.write(lambda tx: tx.events.claim("fake", "e1", NOW))


async def test_unique_keys_are_enforced_by_the_database(backend: SqlStore) -> None:
    channel_id, _ = await channel_and_member(backend)
    await claim(backend, channel_id)

    def duplicate(tx: Tx) -> None:
        assert isinstance(tx, SqlTx)
        tx.conn.execute(
            daily_posts.insert().values(
                channel_id=channel_id, local_date=DAY, status="intent", cycle=1
            )
        )

    with pytest.raises(IntegrityError):
        await backend.write(duplicate)


async def test_forget_member_cascades(backend: SqlStore) -> None:
    """Deleting a member's row takes the rows that reference it along (the schema's
    ``ON DELETE CASCADE``, behind the explicit deletes of ``tx.personal.erase``)."""
    channel_id, member_id = await channel_and_member(backend)

    def unit(tx: Tx) -> None:
        tx.members.join(channel_id, member_id, DAY)
        tx.activity.add(
            member_id, "answer", "p", local_date=DAY, points=10, keeps_day=True, now=NOW
        )
        tx.reviews.log(member_id, "d/c1", Grade.GOOD, NOW, "daily", "1:1")
        assert isinstance(tx, SqlTx)
        tx.conn.execute(delete(members).where(members.c.id == member_id))

    await backend.write(unit)

    def check(tx: Tx) -> None:
        assert tx.members.get(member_id) is None
        assert isinstance(tx, SqlTx)
        assert count(tx, activity, member_id=member_id) == 0
        assert count(tx, reviews, member_id=member_id) == 0
        assert tx.members.memberships(channel_id=channel_id) == []

    await backend.read(check)


async def test_a_read_unit_cannot_write(backend: SqlStore) -> None:
    """``read`` hands ``fn`` a ReadTx, which has no write methods; the transaction also
    refuses a write that gets there anyway (SQLite's reader is ``query_only``,
    PostgreSQL's reads are ``READ ONLY``), and the next write is not affected."""
    channel_id, _ = await channel_and_member(backend)

    def sneaky(tx: Any) -> bool:
        return bool(tx.channels.set_paused(channel_id, True, "from a read"))

    with pytest.raises(DBAPIError, match=r"read-?only"):
        await backend.read(sneaky)
    channel = await backend.read(lambda tx: tx.channels.get(channel_id))
    assert channel is not None and not channel.paused
    for _ in range(3):  # the connections reads used take writes again
        assert await backend.write(sneaky)
        await backend.write(lambda tx: tx.channels.set_paused(channel_id, False, None))


async def test_reads_run_beside_a_slow_write(backend: SqlStore) -> None:
    import time

    channel_id, _ = await channel_and_member(backend)

    def slow(tx: Tx) -> None:
        tx.channels.set_paused(channel_id, True, "slow")
        time.sleep(0.3)

    writing = asyncio.create_task(backend.write(slow))
    await asyncio.sleep(0.05)
    started = time.perf_counter()
    channel = await backend.read(lambda tx: tx.channels.get(channel_id))
    assert time.perf_counter() - started < 0.2
    assert channel is not None and not channel.paused  # the write is not committed yet
    await writing


async def test_top_tables_keep_ties_at_the_cut(backend: SqlStore) -> None:
    channel_id, _ = await channel_and_member(backend)
    scores = {"A": 30, "B": 20, "C": 20, "D": 20, "E": 5, "F": 0}

    def seed(tx: Tx) -> None:
        for name, points in scores.items():
            member = tx.members.ensure("fake", "T1", f"id-{name}", name, None, NOW)
            tx.members.join(channel_id, member.id, DAY)
            if points:
                tx.activity.add(
                    member.id, "answer", "p", local_date=DAY, points=points, keeps_day=True, now=NOW
                )

    await backend.write(seed)
    top = await backend.read(lambda tx: tx.activity.week_top(channel_id, DAY, 2))
    assert top == [("A", 30), ("B", 20), ("C", 20), ("D", 20)]
    assert await backend.read(lambda tx: tx.activity.week_top(channel_id, DAY, 10)) == [
        ("A", 30),
        ("B", 20),
        ("C", 20),
        ("D", 20),
        ("E", 5),
    ]
