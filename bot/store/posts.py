"""Queries on daily posts, their reveals, and weekly leaderboards."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.ports.records import PostRow
from bot.store import convert
from bot.store.tables import channels, daily_posts, leaderboards

POSTED = "posted"
INTENT = "intent"


class Posts:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def _one(self, *where: object) -> PostRow | None:
        query = select(daily_posts).where(*where).order_by(daily_posts.c.id.desc()).limit(1)  # type: ignore[arg-type]
        row = (await self._conn.execute(query)).first()
        return convert.post(row) if row else None

    async def get(self, post_id: int) -> PostRow | None:
        return await self._one(daily_posts.c.id == post_id)

    async def on_date(self, channel_id: int, local_date: date) -> PostRow | None:
        return await self._one(
            daily_posts.c.channel_id == channel_id, daily_posts.c.local_date == local_date
        )

    async def by_thread(self, channel_id: int, thread_ref: str) -> PostRow | None:
        return await self._one(
            daily_posts.c.channel_id == channel_id,
            or_(daily_posts.c.thread_ref == thread_ref, daily_posts.c.message_ref == thread_ref),
        )

    async def by_reveal(self, channel_id: int, message_ref: str) -> PostRow | None:
        return await self._one(
            daily_posts.c.channel_id == channel_id, daily_posts.c.reveal_ref == message_ref
        )

    async def latest(self, channel_id: int) -> PostRow | None:
        """The most recent post that reached the platform."""
        return await self._one(
            daily_posts.c.channel_id == channel_id, daily_posts.c.status == POSTED
        )

    async def claim(
        self,
        channel_id: int,
        local_date: date,
        *,
        card_key: str | None,
        topic: str | None,
        cycle: int,
        new_cycle: bool,
        scheduled_for: datetime,
        token: str,
        now: datetime,
        status: str = INTENT,
    ) -> PostRow | None:
        """Insert the post for (channel, local date); ``None`` if one already exists."""
        stmt = convert.upsert(self._conn, daily_posts).values(
            channel_id=channel_id,
            local_date=local_date,
            card_key=card_key,
            topic=topic,
            cycle=cycle,
            new_cycle=new_cycle,
            status=status,
            scheduled_for=scheduled_for,
            claimed_at=now,
            claim_token=token,
            caught_up=False,
            reveal_status="pending",
        )
        result = await self._conn.execute(stmt.on_conflict_do_nothing())
        if result.rowcount != 1:
            return None
        return await self.on_date(channel_id, local_date)

    async def reclaim(self, post_id: int, token: str, now: datetime, old_token: str | None) -> bool:
        """Take over a stale intent (only if nobody else took it since we looked)."""
        result = await self._conn.execute(
            update(daily_posts)
            .where(
                daily_posts.c.id == post_id,
                daily_posts.c.status == INTENT,
                daily_posts.c.claim_token == old_token,
            )
            .values(claim_token=token, claimed_at=now)
        )
        return result.rowcount == 1

    async def record_posted(
        self,
        post_id: int,
        *,
        message_ref: str,
        thread_ref: str,
        posted_at: datetime,
        reveal_due_at: datetime,
        caught_up: bool,
    ) -> None:
        await self._conn.execute(
            update(daily_posts)
            .where(daily_posts.c.id == post_id)
            .values(
                status=POSTED,
                message_ref=message_ref,
                thread_ref=thread_ref,
                posted_at=posted_at,
                reveal_due_at=reveal_due_at,
                caught_up=caught_up,
            )
        )

    async def set_status(self, post_id: int, status: str) -> None:
        await self._conn.execute(
            update(daily_posts).where(daily_posts.c.id == post_id).values(status=status)
        )

    async def stale_intents(self, claimed_before: datetime) -> list[PostRow]:
        query = select(daily_posts).where(
            daily_posts.c.status == INTENT, daily_posts.c.claimed_at < claimed_before
        )
        return [convert.post(r) for r in await self._conn.execute(query)]

    async def used_in_cycle(self, channel_id: int, cycle: int) -> set[str]:
        query = select(daily_posts.c.card_key).where(
            daily_posts.c.channel_id == channel_id,
            daily_posts.c.cycle == cycle,
            daily_posts.c.status.in_((POSTED, INTENT)),
            daily_posts.c.card_key.is_not(None),
        )
        return {r[0] for r in await self._conn.execute(query)}

    async def recent_topics(self, channel_id: int, limit: int = 30) -> list[str]:
        """Topics of recent posts, oldest first."""
        query = (
            select(daily_posts.c.topic)
            .where(daily_posts.c.channel_id == channel_id, daily_posts.c.topic.is_not(None))
            .order_by(daily_posts.c.local_date.desc())
            .limit(limit)
        )
        return [r[0] for r in await self._conn.execute(query)][::-1]

    async def forgiven_dates(self, channel_id: int, since: date) -> set[date]:
        """Local dates the bot failed to post (missed) or an admin skipped."""
        query = select(daily_posts.c.local_date).where(
            daily_posts.c.channel_id == channel_id,
            daily_posts.c.local_date >= since,
            daily_posts.c.status.in_(("missed", "skipped")),
        )
        return {r[0] for r in await self._conn.execute(query)}

    async def count(self, channel_id: int, status: str = POSTED) -> int:
        query = select(func.count()).where(
            daily_posts.c.channel_id == channel_id, daily_posts.c.status == status
        )
        return int((await self._conn.execute(query)).scalar_one())

    async def due_reveals(self, now: datetime, limit: int = 500) -> list[PostRow]:
        query = (
            select(daily_posts)
            .join(channels, channels.c.id == daily_posts.c.channel_id)
            .where(
                daily_posts.c.status == POSTED,
                daily_posts.c.reveal_status == "pending",
                daily_posts.c.reveal_due_at <= now,
                channels.c.enabled,
                ~channels.c.paused,
            )
            .order_by(daily_posts.c.reveal_due_at)
            .limit(limit)
        )
        return [convert.post(r) for r in await self._conn.execute(query)]

    async def claim_reveal(self, post_id: int, now: datetime, stale_before: datetime) -> bool:
        """Move the reveal to ``intent``; a stale intent may be taken over."""
        result = await self._conn.execute(
            update(daily_posts)
            .where(
                daily_posts.c.id == post_id,
                daily_posts.c.status == POSTED,
                or_(
                    daily_posts.c.reveal_status == "pending",
                    and_(
                        daily_posts.c.reveal_status == INTENT,
                        daily_posts.c.reveal_claimed_at < stale_before,
                    ),
                ),
            )
            .values(reveal_status=INTENT, reveal_claimed_at=now)
        )
        return result.rowcount == 1

    async def record_reveal(self, post_id: int, reveal_ref: str, at: datetime) -> None:
        await self._conn.execute(
            update(daily_posts)
            .where(daily_posts.c.id == post_id)
            .values(reveal_status=POSTED, reveal_ref=reveal_ref, revealed_at=at)
        )

    async def release_reveal(self, post_id: int) -> None:
        await self._conn.execute(
            update(daily_posts)
            .where(daily_posts.c.id == post_id, daily_posts.c.reveal_status == INTENT)
            .values(reveal_status="pending", reveal_claimed_at=None)
        )

    async def stale_reveals(self, claimed_before: datetime) -> list[PostRow]:
        query = select(daily_posts).where(
            daily_posts.c.reveal_status == INTENT,
            daily_posts.c.reveal_claimed_at < claimed_before,
        )
        return [convert.post(r) for r in await self._conn.execute(query)]


class Leaderboards:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def claim(self, channel_id: int, week_start: date, now: datetime, status: str) -> bool:
        stmt = convert.upsert(self._conn, leaderboards).values(
            channel_id=channel_id, week_start=week_start, status=status, claimed_at=now
        )
        return (await self._conn.execute(stmt.on_conflict_do_nothing())).rowcount == 1

    async def record(self, channel_id: int, week_start: date, ref: str, now: datetime) -> None:
        await self._conn.execute(
            update(leaderboards)
            .where(leaderboards.c.channel_id == channel_id, leaderboards.c.week_start == week_start)
            .values(status=POSTED, message_ref=ref, posted_at=now)
        )

    async def status(self, channel_id: int, week_start: date) -> str | None:
        query = select(leaderboards.c.status).where(
            leaderboards.c.channel_id == channel_id, leaderboards.c.week_start == week_start
        )
        return (await self._conn.execute(query)).scalar_one_or_none()
