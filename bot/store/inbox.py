"""The inbox: inbound events stored (one short commit) before the platform gets its ack.

A row is taken by the process that received it; a row taken longer ago than the lease
(its process died between the ack and the handling) is taken again by whoever drains.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from bot.ports.records import InboxRow
from bot.store.claims import Claims
from bot.store.convert import upsert
from bot.store.tables import inbox


def _row(m: object) -> InboxRow:
    r = m._mapping  # type: ignore[attr-defined]
    return InboxRow(
        id=r["id"],
        platform=r["platform"],
        event_id=r["event_id"],
        kind=r["kind"],
        payload=r["payload"],
        received_at=r["received_at"],
        attempts=r["attempts"],
    )


class Inbox:
    def __init__(self, conn: Connection, claims: Claims | None = None) -> None:
        self._conn = conn
        self._claims = claims or Claims()

    def _free(self, taken_before: datetime) -> ColumnElement[bool]:
        """Never taken, or taken before the lease by an instance that is gone."""
        return or_(
            inbox.c.taken_at.is_(None),
            and_(inbox.c.taken_at < taken_before, self._claims.takeable(inbox.c.taken_by)),
        )

    def add(
        self, platform: str, event_id: str, kind: str, payload: str, now: datetime
    ) -> int | None:
        """Store and take an event; ``None`` when (platform, event id) is already there."""
        stmt = upsert(self._conn, inbox).on_conflict_do_nothing()
        values = {
            "platform": platform,
            "event_id": event_id,
            "kind": kind,
            "payload": payload,
            "received_at": now,
            "attempts": 1,
            "taken_at": now,
            "taken_by": self._claims.me,
        }
        if self._conn.execute(stmt.values(**values)).rowcount != 1:
            return None  # a redelivery, or another process stored it a moment ago
        query = select(inbox.c.id).where(inbox.c.platform == platform, inbox.c.event_id == event_id)
        return int(self._conn.execute(query).scalar_one())

    def open(self, platform: str, taken_before: datetime, limit: int = 100) -> list[InboxRow]:
        """Unhandled events nobody holds (never taken, or taken before the lease)."""
        query = (
            select(inbox)
            .where(
                inbox.c.platform == platform,
                inbox.c.handled_at.is_(None),
                self._free(taken_before),
            )
            .order_by(inbox.c.received_at, inbox.c.id)
            .limit(limit)
        )
        return [_row(r) for r in self._conn.execute(query)]

    def take(self, row_id: int, now: datetime, taken_before: datetime) -> bool:
        """Take an open event for this process (false if someone else just did)."""
        result = self._conn.execute(
            update(inbox)
            .where(
                inbox.c.id == row_id,
                inbox.c.handled_at.is_(None),
                self._free(taken_before),
            )
            .values(taken_at=now, taken_by=self._claims.me, attempts=inbox.c.attempts + 1)
        )
        return result.rowcount == 1

    def done(self, row_id: int, now: datetime, error: str | None = None) -> None:
        self._conn.execute(
            update(inbox).where(inbox.c.id == row_id).values(handled_at=now, error=error)
        )

    def failed(self, row_id: int, error: str) -> None:
        """Handling raised: keep it open; it is taken again once the lease has passed."""
        self._conn.execute(update(inbox).where(inbox.c.id == row_id).values(error=error[:500]))

    def backlog(self, platform: str) -> int:
        query = select(inbox.c.id).where(inbox.c.platform == platform, inbox.c.handled_at.is_(None))
        return len(self._conn.execute(query).all())

    def prune(self, before: datetime) -> int:
        result = self._conn.execute(
            delete(inbox).where(and_(inbox.c.handled_at.is_not(None), inbox.c.received_at < before))
        )
        return int(result.rowcount)
