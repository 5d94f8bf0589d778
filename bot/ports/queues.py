"""Repositories of work that waits its turn: follow-up DMs and inbound platform events
(part of the store port, ``bot/ports/store.py``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Protocol

from bot.ports.records import DueCard, FollowupRow, InboxRow


class FollowupsReader(Protocol):
    def get(self, followup_id: int) -> FollowupRow | None: ...

    def chain(self, member_id: int, card_key: str, due_at: datetime) -> list[FollowupRow]: ...

    def sent_on(self, member_id: int, local_date: date) -> int: ...

    def unread_since(self, member_id: int, since: datetime | None) -> bool:
        """Whether a DM sent to this member after ``since`` (None: ever) is still unopened."""
        ...

    def stale_intents(self, created_before: datetime) -> list[FollowupRow]: ...

    def catchups(
        self,
        now: datetime,
        *,
        since: datetime,
        revealed_before: datetime,
        resends: int,
        per_member: int = 5,
        limit: int = 50_000,
    ) -> list[DueCard]: ...


class FollowupsRepo(FollowupsReader, Protocol):
    def claim(
        self,
        member_id: int,
        card_key: str,
        due_at: datetime,
        local_date: date,
        now: datetime,
        *,
        kind: str = "review",
        post_id: int | None = None,
    ) -> int | None: ...

    def mark(self, followup_id: int, status: str, **values: Any) -> None: ...

    def drop(self, followup_id: int) -> None: ...

    def expire(self, now: datetime) -> list[FollowupRow]: ...


class EventsRepo(Protocol):
    """Inbound platform events already handled: (platform, event id) is claimed once."""

    def claim(self, platform: str, event_id: str, now: datetime) -> bool: ...

    def prune(self, before: datetime) -> int: ...


class InboxReader(Protocol):
    def open(self, platform: str, taken_before: datetime, limit: int = 100) -> list[InboxRow]: ...

    def backlog(self, platform: str) -> int: ...


class InboxRepo(InboxReader, Protocol):
    """Inbound events stored before their ack, handled after it (see bot/store/inbox.py)."""

    def add(
        self, platform: str, event_id: str, kind: str, payload: str, now: datetime
    ) -> int | None: ...

    def take(self, row_id: int, now: datetime, taken_before: datetime) -> bool: ...

    def done(self, row_id: int, now: datetime, error: str | None = None) -> None: ...

    def failed(self, row_id: int, error: str) -> None: ...

    def prune(self, before: datetime) -> int: ...
