"""Queries on inbound platform events already handled."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.engine import Connection

from bot.store.convert import execute_row, ignoring
from bot.store.tables import processed_events


class Events:
    """Inbound platform events already handled: (platform, event id) is claimed once."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def claim(self, platform: str, event_id: str, now: datetime) -> bool:
        row = {"platform": platform, "event_id": event_id, "received_at": now}
        build = ignoring(processed_events)
        return execute_row(self._conn, "events.claim", build, processed_events, row) == 1

    def prune(self, before: datetime) -> int:
        result = self._conn.execute(
            delete(processed_events).where(processed_events.c.received_at < before)
        )
        return int(result.rowcount)
