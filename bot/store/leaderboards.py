"""Queries on weekly leaderboards: one claim and one send per channel and week."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from bot.store import convert
from bot.store.claims import INTENT, POSTED, Claims
from bot.store.tables import leaderboards


class Leaderboards:
    def __init__(self, conn: Connection, claims: Claims | None = None) -> None:
        self._conn = conn
        self._claims = claims or Claims()

    def claim(self, channel_id: int, week_start: date, now: datetime, status: str) -> bool:
        stmt = convert.upsert(self._conn, leaderboards).values(
            channel_id=channel_id,
            week_start=week_start,
            status=status,
            claimed_at=now,
            claimed_by=self._claims.me,
        )
        return (self._conn.execute(stmt.on_conflict_do_nothing())).rowcount == 1

    def record(self, channel_id: int, week_start: date, ref: str, now: datetime) -> bool:
        """Record the send; False (nothing changes) if the claim is no longer ours."""
        result = self._conn.execute(
            update(leaderboards)
            .where(
                leaderboards.c.channel_id == channel_id,
                leaderboards.c.week_start == week_start,
                self._claims.fence(leaderboards.c.claimed_by),
            )
            .values(status=POSTED, message_ref=ref, posted_at=now)
        )
        return result.rowcount == 1

    def stale_intents(self, claimed_before: datetime) -> list[tuple[int, date]]:
        """Claimed leaderboards whose send never finished: (channel id, week start)."""
        query = select(leaderboards.c.channel_id, leaderboards.c.week_start).where(
            leaderboards.c.status == INTENT,
            leaderboards.c.claimed_at < claimed_before,
            self._claims.takeable(leaderboards.c.claimed_by),
        )
        return [(int(r[0]), r[1]) for r in self._conn.execute(query)]

    def reclaim(self, channel_id: int, week_start: date, now: datetime, before: datetime) -> bool:
        """Take over a stale claim (only if nobody else took it since)."""
        result = self._conn.execute(
            update(leaderboards)
            .where(
                leaderboards.c.channel_id == channel_id,
                leaderboards.c.week_start == week_start,
                leaderboards.c.status == INTENT,
                leaderboards.c.claimed_at < before,
                self._claims.takeable(leaderboards.c.claimed_by),
            )
            .values(claimed_at=now, claimed_by=self._claims.me)
        )
        return result.rowcount == 1

    def unmark_ahead(self, now: datetime) -> list[int]:
        ahead = (leaderboards.c.status.in_(("missed", "skipped")), leaderboards.c.claimed_at > now)
        found = [
            int(c)
            for (c,) in self._conn.execute(
                select(leaderboards.c.channel_id).where(*ahead).distinct()
            )
        ]
        if found:
            self._conn.execute(delete(leaderboards).where(*ahead))
        return found

    def set_status(self, channel_id: int, week_start: date, status: str) -> None:
        self._conn.execute(
            update(leaderboards)
            .where(leaderboards.c.channel_id == channel_id, leaderboards.c.week_start == week_start)
            .values(status=status)
        )
