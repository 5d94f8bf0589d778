"""Queries on activity (points and kept days) and the weekly totals."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.engine import Connection

from bot.store.convert import execute_row, ignoring
from bot.store.tables import activity, channel_members, members, weekly_points

_ACTIVITY_KEY = (
    (activity.c.member_id == bindparam("m"))
    & (activity.c.kind == bindparam("k"))
    & (activity.c.ref == bindparam("r"))
)
_EARNED_BY_KIND = (
    select(activity.c.kind, func.sum(activity.c.points))
    .where(
        activity.c.member_id == bindparam("m"),
        activity.c.local_date == bindparam("d"),
        activity.c.kind.in_(bindparam("kinds", expanding=True)),
    )
    .group_by(activity.c.kind)
)
_FIND_ACTIVITY = select(activity.c.points).where(_ACTIVITY_KEY)
_KEPT_IN_CHANNEL = (
    select(activity.c.member_id, activity.c.local_date)
    .join(channel_members, channel_members.c.member_id == activity.c.member_id)
    .where(
        channel_members.c.channel_id == bindparam("c"),
        activity.c.keeps_day,
        # From where each member's streak cache was folded to (a superset: the caller
        # cuts each member's days at their own start).
        activity.c.local_date
        >= func.coalesce(channel_members.c.streak_through, channel_members.c.joined_on),
    )
    .distinct()
)
_DELETE_ACTIVITY = delete(activity).where(_ACTIVITY_KEY)
_KEPT_DAYS = (
    select(activity.c.local_date)
    .where(
        activity.c.member_id == bindparam("m"),
        activity.c.local_date >= bindparam("since"),
        activity.c.keeps_day,
    )
    .distinct()
)
_TOTAL = select(func.coalesce(func.sum(weekly_points.c.points), 0)).where(
    weekly_points.c.member_id == bindparam("m")
)
_WEEK = select(weekly_points.c.points).where(
    weekly_points.c.member_id == bindparam("m"), weekly_points.c.week_start == bindparam("w")
)


def _channel_week(*columns: Any) -> Any:
    """``columns`` of channel :c's members joined to their weekly points for week :w."""
    return (
        select(*columns)
        .select_from(channel_members)
        .join(members, members.c.id == channel_members.c.member_id)
        .join(
            weekly_points,
            (weekly_points.c.member_id == channel_members.c.member_id)
            & (weekly_points.c.week_start == bindparam("w")),
        )
        .where(channel_members.c.channel_id == bindparam("c"))
    )


def _top(score: Any) -> Any:
    """Members of a channel whose ``score`` reaches the n-th best (ties kept), best first."""
    base = _channel_week(members.c.name, score.label("score")).where(score > 0)
    nth = (
        base.with_only_columns(score)
        .order_by(score.desc())
        .limit(1)
        .offset(bindparam("n") - 1)
        .scalar_subquery()
    )
    return base.where(score >= func.coalesce(nth, 0)).order_by(score.desc(), members.c.name)


_TOP_POINTS = _top(weekly_points.c.points)
_TOP_ON_TIME = _top(weekly_points.c.on_time_reviews)


class Activity:
    """Study actions. Triggers keep ``weekly_points`` in step (migration 0002)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def earned_by_kind(self, member_id: int, local_date: date, kinds: list[str]) -> dict[str, int]:
        """Points each kind earned on a day (one query for several kinds)."""
        params = {"m": member_id, "d": local_date, "kinds": kinds}
        found = {kind: int(total) for kind, total in self._conn.execute(_EARNED_BY_KIND, params)}
        return {kind: found.get(kind, 0) for kind in kinds}

    def add(
        self,
        member_id: int,
        kind: str,
        ref: str,
        *,
        local_date: date,
        points: int,
        keeps_day: bool,
        now: datetime,
    ) -> bool:
        """Record one study action; ``False`` if (member, kind, ref) was recorded before."""
        row = {
            "member_id": member_id,
            "kind": kind,
            "ref": ref,
            "local_date": local_date,
            "points": points,
            "keeps_day": keeps_day,
            "created_at": now,
        }
        build = ignoring(activity)
        return execute_row(self._conn, "activity.add", build, activity, row) == 1

    def remove(self, member_id: int, kind: str, ref: str) -> int:
        """Undo one action (an answer deleted); returns the points taken back."""
        key = {"m": member_id, "k": kind, "r": ref}
        row = self._conn.execute(_FIND_ACTIVITY, key).first()
        if row is None:
            return 0
        self._conn.execute(_DELETE_ACTIVITY, key)  # the trigger takes the points back
        return int(row[0])

    def kept_days(self, member_id: int, since: date) -> set[date]:
        return {r[0] for r in self._conn.execute(_KEPT_DAYS, {"m": member_id, "since": since})}

    def kept_days_in(self, channel_id: int) -> dict[int, set[date]]:
        """Each member of the channel: their kept days since their streak was last folded
        (or since they joined), in one query."""
        found: dict[int, set[date]] = {}
        for member_id, day in self._conn.execute(_KEPT_IN_CHANNEL, {"c": channel_id}):
            found.setdefault(member_id, set()).add(day)
        return found

    def total_points(self, member_id: int) -> int:
        return int(self._conn.execute(_TOTAL, {"m": member_id}).scalar_one())

    def week_points(self, member_id: int, week: date) -> int:
        return int(self._conn.execute(_WEEK, {"m": member_id, "w": week}).scalar_one_or_none() or 0)

    def week_top(
        self, channel_id: int, week: date, places: int, *, on_time: bool = False
    ) -> list[tuple[str, int]]:
        """(name, score) of everyone placed in the top ``places`` for the week, ties kept.

        ``score`` is points, or follow-ups cleared on time with ``on_time``.
        """
        query = _TOP_ON_TIME if on_time else _TOP_POINTS
        rows = self._conn.execute(query, {"c": channel_id, "w": week, "n": places})
        return [(name, int(score)) for name, score in rows]
