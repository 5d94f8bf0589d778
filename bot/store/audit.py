"""Queries on the streak audit: each recorded change to a streak, by whom and why."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from bot.store.tables import streak_audit

_REPAIRS = (
    select(streak_audit.c.effective_date, streak_audit.c.new_value)
    .where(streak_audit.c.channel_id == bindparam("c"), streak_audit.c.member_id == bindparam("m"))
    .order_by(streak_audit.c.id)
)
_CHANNEL_REPAIRS = (
    select(streak_audit.c.member_id, streak_audit.c.effective_date, streak_audit.c.new_value)
    .where(streak_audit.c.channel_id == bindparam("c"))
    .order_by(streak_audit.c.id)
)


class StreakAudit:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def record(
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
        self._conn.execute(
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

    def repairs(self, channel_id: int, member_id: int) -> dict[date, int]:
        """The last repair per effective date (later repairs of a day win)."""
        rows = self._conn.execute(_REPAIRS, {"c": channel_id, "m": member_id})
        return {row[0]: row[1] for row in rows}

    def repairs_in(self, channel_id: int) -> dict[int, dict[date, int]]:
        """``repairs`` of every member of the channel, in one query."""
        found: dict[int, dict[date, int]] = {}
        for member_id, day, value in self._conn.execute(_CHANNEL_REPAIRS, {"c": channel_id}):
            found.setdefault(member_id, {})[day] = value
        return found
