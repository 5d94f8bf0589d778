"""A member's personal data, found through the schema: exported whole, or erased whole.

Which rows are "about the member" is read from ``bot.store.tables``, not listed by hand:
every column with a foreign key to ``members.id`` (plus ``MEMBER_COLUMNS``, references
without one). A table added later with a member reference is exported and erased with
no change here (``tests/services/test_privacy.py`` dumps every table to check).

Some rows name a member in text rather than by id: the streak audit's ``actor`` (the
admin who repaired a streak, ``platform:user:name``), a paused channel's reason
("paused by NAME"), an audit reason typed by an admin, and stored inbound events
(``inbox``, raw platform payloads). ``erase`` scrubs those too; the neutral stand-in
is ``FORMER_MEMBER``.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Column, Table, and_, delete, false, or_, select, update
from sqlalchemy.engine import Connection

from bot.store.tables import channels, daily_posts, inbox, members, metadata, streak_audit

FORMAT = "studybot-export/1"
FORMER_MEMBER = "a former member"
MEMBER_COLUMNS: dict[str, tuple[str, ...]] = {"channels": ("set_up_by",)}
"""Columns that hold a member id without a foreign key (the admin who set a channel up)."""
CONTEXT: dict[str, tuple[str, ...]] = {
    "channels": ("id", "platform", "workspace", "channel_ref", "name"),
    "daily_posts": ("id", "channel_id", "local_date", "card_key", "topic"),
}
"""What an export says about the channels and daily posts its rows point to."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def member_columns(table: Table) -> list[Column[Any]]:
    """The columns of ``table`` that hold a member id."""
    found = [c for c in table.columns if any(fk.column is members.c.id for fk in c.foreign_keys)]
    found += [table.c[name] for name in MEMBER_COLUMNS.get(table.name, ())]
    return found


def member_tables() -> list[tuple[Table, list[Column[Any]]]]:
    """Every table with a member reference, parents before children."""
    pairs = [(t, member_columns(t)) for t in metadata.sorted_tables if t is not members]
    return [(t, cols) for t, cols in pairs if cols]


def plain(value: Any) -> Any:
    """A column value as JSON has it (times as ISO 8601, UTC)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _row(mapping: Any) -> dict[str, Any]:
    return {key: plain(value) for key, value in dict(mapping).items()}


def forget_token(created_at: datetime) -> str:
    """The member's creation instant in microseconds: a forget-me button made for this
    member matches it, one made for an earlier member with the same id does not."""
    return str((created_at.astimezone(UTC) - _EPOCH) // timedelta(microseconds=1))


def _scrub(text: str, words: tuple[str, ...]) -> str:
    for word in words:
        if word:
            text = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", FORMER_MEMBER, text)
    return text


class PersonalData:
    """The export and the erasure of one member's rows, inside one transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def _member(self, member_id: int) -> Any:
        return self._conn.execute(select(members).where(members.c.id == member_id)).first()

    def token(self, member_id: int) -> str | None:
        row = self._member(member_id)
        return None if row is None else forget_token(row.created_at)

    def export(self, member_id: int) -> dict[str, Any] | None:
        """Every row that references the member, by table, with the channels and posts
        those rows point to; ``None`` if there is no such member."""
        member = self._member(member_id)
        if member is None:
            return None
        tables: dict[str, list[dict[str, Any]]] = {}
        for table, columns in member_tables():
            query = select(table).where(or_(*(c == member_id for c in columns)))
            rows = self._conn.execute(query.order_by(*table.primary_key.columns))
            tables[table.name] = [_row(r._mapping) for r in rows]
        return {
            "format": FORMAT,
            "member": _row(member._mapping),
            "tables": tables,
            "context": self._context(tables),
        }

    def _context(self, tables: dict[str, list[dict[str, Any]]]) -> dict[str, list[Any]]:
        wanted: dict[str, set[int]] = {name: set() for name in CONTEXT}
        for table, _ in member_tables():
            for column in table.columns:
                for fk in column.foreign_keys:
                    target = fk.column.table.name
                    if target in wanted:
                        values = (r[column.name] for r in tables[table.name])
                        wanted[target].update(v for v in values if v is not None)
        context: dict[str, list[Any]] = {}
        for name, columns in CONTEXT.items():
            table = {"channels": channels, "daily_posts": daily_posts}[name]
            query = select(*(table.c[c] for c in columns)).where(table.c.id.in_(wanted[name]))
            rows = self._conn.execute(query.order_by(table.c.id))
            context[name] = [_row(r._mapping) for r in rows]
        return context

    def erase(self, member_id: int) -> bool:
        """Delete the member and every row that references them; scrub where they are
        named in text. ``False`` if there was no such member."""
        member = self._member(member_id)
        if member is None:
            return False
        self._scrub_text(member)
        for table, columns in reversed(member_tables()):
            for column in columns:
                if column.name in MEMBER_COLUMNS.get(table.name, ()):
                    stmt: Any = update(table).where(column == member_id).values({column: None})
                else:
                    stmt = delete(table).where(column == member_id)
                self._conn.execute(stmt)
        self._conn.execute(delete(members).where(members.c.id == member_id))
        return True

    def _scrub_text(self, member: Any) -> None:
        """Where the member is named in text: the audit's actor and reasons, pause
        reasons, and stored platform events (in their workspace only)."""
        platform, workspace = member.platform, member.workspace
        words = (member.name, member.user_ref)
        actor = f"{platform}:{member.user_ref}:"
        self._conn.execute(
            update(streak_audit)
            .where(streak_audit.c.actor.startswith(actor, autoescape=True))
            .values(actor=FORMER_MEMBER)
        )
        in_workspace = select(channels.c.id).where(
            channels.c.platform == platform, channels.c.workspace == workspace
        )
        audit = select(streak_audit.c.id, streak_audit.c.reason).where(
            streak_audit.c.channel_id.in_(in_workspace)
        )
        for row_id, reason in self._conn.execute(audit).all():
            if (clean := _scrub(reason, words)) != reason:
                self._conn.execute(
                    update(streak_audit).where(streak_audit.c.id == row_id).values(reason=clean)
                )
        paused = select(channels.c.id, channels.c.pause_reason).where(
            channels.c.platform == platform,
            channels.c.workspace == workspace,
            channels.c.pause_reason.is_not(None),
        )
        for row_id, reason in self._conn.execute(paused).all():
            if (clean := _scrub(reason, words)) != reason:
                self._conn.execute(
                    update(channels).where(channels.c.id == row_id).values(pause_reason=clean)
                )
        self._forget_events(platform, member.user_ref, member.name)

    def _forget_events(self, platform: str, user_ref: str, name: str) -> None:
        """Stored events that mention the member. Handled ones only serve the inbox's
        bookkeeping (redeliveries are refused by ``processed_events``, which keeps ids
        only), so they go; an unhandled event of the member's own goes too (it would
        bring their data back). An unhandled event of someone else that mentions them
        is left to be handled, then pruned with the rest."""
        quoted = json.dumps(name)[1:-1]  # as the inbox stores it (ASCII escapes)
        mentions = [inbox.c.payload.contains(user_ref, autoescape=True)]
        mentions += [inbox.c.payload.contains(n, autoescape=True) for n in {name, quoted} if n]
        own = inbox.c.payload.contains(f'"user":{json.dumps(user_ref)}', autoescape=True)
        self._conn.execute(
            delete(inbox).where(
                inbox.c.platform == platform,
                or_(
                    and_(inbox.c.handled_at.is_not(None), or_(*mentions)),
                    own if user_ref else false(),
                ),
            )
        )
