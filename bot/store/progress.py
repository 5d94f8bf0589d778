"""Queries on activity (points and kept days), weekly totals, streak audit and events."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.schedule import week_start
from bot.ports.records import WeekRow
from bot.store import convert
from bot.store.tables import (
    activity,
    channel_members,
    members,
    processed_events,
    streak_audit,
    weekly_points,
)


class Activity:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def earned(self, member_id: int, local_date: date, kind: str) -> int:
        query = select(func.coalesce(func.sum(activity.c.points), 0)).where(
            activity.c.member_id == member_id,
            activity.c.local_date == local_date,
            activity.c.kind == kind,
        )
        return int((await self._conn.execute(query)).scalar_one())

    async def add(
        self,
        member_id: int,
        kind: str,
        ref: str,
        *,
        local_date: date,
        points: int,
        keeps_day: bool,
        now: datetime,
        on_time_review: bool = False,
    ) -> bool:
        """Record one study action; ``False`` if (member, kind, ref) was recorded before."""
        stmt = convert.upsert(self._conn, activity).values(
            member_id=member_id,
            kind=kind,
            ref=ref,
            local_date=local_date,
            points=points,
            keeps_day=keeps_day,
            created_at=now,
        )
        if (await self._conn.execute(stmt.on_conflict_do_nothing())).rowcount != 1:
            return False
        if points or on_time_review:
            await self._bump(member_id, week_start(local_date), points, int(on_time_review))
        return True

    async def remove(self, member_id: int, kind: str, ref: str) -> int:
        """Undo one action (an answer deleted); returns the points taken back."""
        query = select(activity.c.points, activity.c.local_date).where(
            activity.c.member_id == member_id, activity.c.kind == kind, activity.c.ref == ref
        )
        row = (await self._conn.execute(query)).first()
        if row is None:
            return 0
        await self._conn.execute(
            delete(activity).where(
                activity.c.member_id == member_id, activity.c.kind == kind, activity.c.ref == ref
            )
        )
        points, local_date = int(row[0]), row[1]
        if points:
            await self._bump(member_id, week_start(local_date), -points, 0)
        return points

    async def _bump(self, member_id: int, week: date, points: int, on_time: int) -> None:
        stmt = convert.upsert(self._conn, weekly_points).values(
            member_id=member_id, week_start=week, points=points, on_time_reviews=on_time
        )
        await self._conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["member_id", "week_start"],
                set_={
                    "points": weekly_points.c.points + points,
                    "on_time_reviews": weekly_points.c.on_time_reviews + on_time,
                },
            )
        )

    async def kept_days(self, member_id: int, since: date) -> set[date]:
        query = (
            select(activity.c.local_date)
            .where(
                activity.c.member_id == member_id,
                activity.c.local_date >= since,
                activity.c.keeps_day,
            )
            .distinct()
        )
        return {r[0] for r in await self._conn.execute(query)}

    async def total_points(self, member_id: int) -> int:
        query = select(func.coalesce(func.sum(weekly_points.c.points), 0)).where(
            weekly_points.c.member_id == member_id
        )
        return int((await self._conn.execute(query)).scalar_one())

    async def week_points(self, member_id: int, week: date) -> int:
        query = select(weekly_points.c.points).where(
            weekly_points.c.member_id == member_id, weekly_points.c.week_start == week
        )
        return int((await self._conn.execute(query)).scalar_one_or_none() or 0)

    async def week_table(self, channel_id: int, week: date) -> list[WeekRow]:
        """This week's totals of the channel's members (pre-aggregated; one indexed join)."""
        query = (
            select(
                members.c.id,
                members.c.name,
                weekly_points.c.points,
                weekly_points.c.on_time_reviews,
            )
            .select_from(channel_members)
            .join(members, members.c.id == channel_members.c.member_id)
            .join(
                weekly_points,
                (weekly_points.c.member_id == channel_members.c.member_id)
                & (weekly_points.c.week_start == week),
            )
            .where(channel_members.c.channel_id == channel_id)
        )
        return [
            WeekRow(int(i), n, int(p), int(o)) for i, n, p, o in await self._conn.execute(query)
        ]

    async def for_member(self, member_id: int) -> list[dict[str, Any]]:
        query = select(activity).where(activity.c.member_id == member_id).order_by(activity.c.id)
        return [dict(r._mapping) for r in await self._conn.execute(query)]


class StreakAudit:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def record(
        self,
        channel_id: int,
        member_id: int,
        *,
        effective_date: date,
        old: int,
        new: int,
        actor: str,
        reason: str,
        now: datetime,
    ) -> None:
        await self._conn.execute(
            streak_audit.insert().values(
                channel_id=channel_id,
                member_id=member_id,
                effective_date=effective_date,
                old_value=old,
                new_value=new,
                actor=actor,
                reason=reason,
                created_at=now,
            )
        )

    async def repairs(self, channel_id: int, member_id: int) -> dict[date, int]:
        """The last repair per effective date (later repairs of a day win)."""
        query = (
            select(streak_audit.c.effective_date, streak_audit.c.new_value)
            .where(streak_audit.c.channel_id == channel_id, streak_audit.c.member_id == member_id)
            .order_by(streak_audit.c.id)
        )
        return {row[0]: row[1] for row in await self._conn.execute(query)}

    async def entries(self, channel_id: int) -> list[dict[str, Any]]:
        query = (
            select(streak_audit)
            .where(streak_audit.c.channel_id == channel_id)
            .order_by(streak_audit.c.id)
        )
        return [dict(r._mapping) for r in await self._conn.execute(query)]


class Events:
    """Inbound platform events already handled: (platform, event id) is claimed once."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def claim(self, platform: str, event_id: str, now: datetime) -> bool:
        stmt = convert.upsert(self._conn, processed_events).values(
            platform=platform, event_id=event_id, received_at=now
        )
        return (await self._conn.execute(stmt.on_conflict_do_nothing())).rowcount == 1

    async def prune(self, before: datetime) -> int:
        result = await self._conn.execute(
            delete(processed_events).where(processed_events.c.received_at < before)
        )
        return int(result.rowcount)
