"""Notices: one-off public notes, each claimed once per (channel, key) and recorded."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.engine import Connection, RowMapping

from bot.ports.records import NoticeRow
from bot.store import convert
from bot.store.claims import Claims
from bot.store.tables import notices

PENDING = "pending"
CLAIMED = "claimed"
POSTED = "posted"


class Notices:
    def __init__(self, conn: Connection, claims: Claims | None = None) -> None:
        self._conn = conn
        self._claims = claims or Claims()

    def _stale(self, claimed_before: datetime) -> Any:
        return (
            (notices.c.status == CLAIMED)
            & (notices.c.claimed_at < claimed_before)
            & self._claims.takeable(notices.c.claimed_by)
        )

    def add(self, channel_id: int, key: str, text: str, now: datetime) -> bool:
        """Queue a notice; False if one with this key was queued before (nothing changes)."""
        stmt = convert.upsert(self._conn, notices).values(
            channel_id=channel_id, key=key, text=text, status=PENDING, created_at=now
        )
        return self._conn.execute(stmt.on_conflict_do_nothing()).rowcount == 1

    def gather(
        self, channel_id: int, prefix: str, text: str, now: datetime, not_before: datetime
    ) -> str:
        """Queue a notice that a later one of the same kind replaces while it waits (a burst
        of settings changes makes one summary); returns its key."""
        waiting = self._conn.execute(
            select(notices.c.key).where(
                notices.c.channel_id == channel_id,
                notices.c.status == PENDING,
                notices.c.key.startswith(prefix, autoescape=True),
            )
        ).first()
        if waiting is not None:
            self._conn.execute(
                update(notices)
                .where(notices.c.channel_id == channel_id, notices.c.key == waiting[0])
                .where(notices.c.status == PENDING)
                .values(text=text, not_before=not_before)
            )
            return str(waiting[0])
        key = f"{prefix}{now:%Y%m%dT%H%M%S%f}"
        self._conn.execute(
            notices.insert().values(
                channel_id=channel_id,
                key=key,
                text=text,
                status=PENDING,
                created_at=now,
                not_before=not_before,
            )
        )
        return key

    def due(self, now: datetime, claimed_before: datetime, limit: int = 200) -> list[NoticeRow]:
        """Notices to send: pending and past their quiet time, or claimed by a process
        that vanished."""
        query = (
            select(notices)
            .where(
                or_(
                    (notices.c.status == PENDING)
                    & (notices.c.not_before.is_(None) | (notices.c.not_before <= now)),
                    self._stale(claimed_before),
                )
            )
            .order_by(notices.c.created_at)
            .limit(limit)
        )
        return [_row(r._mapping) for r in self._conn.execute(query)]

    def claim(self, notice: NoticeRow, now: datetime, claimed_before: datetime) -> bool:
        """Take the notice for sending (only if it is still as ``due`` found it)."""
        still = (
            (notices.c.status == PENDING)
            if notice.status == PENDING
            else self._stale(claimed_before)
        )
        result = self._conn.execute(
            update(notices)
            .where(notices.c.channel_id == notice.channel_id, notices.c.key == notice.key, still)
            .values(status=CLAIMED, claimed_at=now, claimed_by=self._claims.me)
        )
        return result.rowcount == 1

    def record(self, channel_id: int, key: str, ref: str, now: datetime) -> bool:
        """Record the send; False (nothing changes) if the claim is no longer ours."""
        result = self._conn.execute(
            update(notices)
            .where(
                notices.c.channel_id == channel_id,
                notices.c.key == key,
                self._claims.fence(notices.c.claimed_by),
            )
            .values(status=POSTED, message_ref=ref, posted_at=now)
        )
        return result.rowcount == 1


def _row(r: RowMapping) -> NoticeRow:
    return NoticeRow(r["channel_id"], r["key"], r["text"], r["status"], r["claimed_at"])
