"""Queries on channels: settings, pausing, and when each is next due."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.engine import Connection

from bot.core.models import ChannelSettings
from bot.ports.records import ChannelRow
from bot.store import convert
from bot.store.claims import Claims
from bot.store.tables import channels

_CHANNEL_BY_ID = select(channels).where(channels.c.id == bindparam("id"))
_CHANNEL_BY_REF = select(channels).where(
    channels.c.platform == bindparam("p"),
    channels.c.workspace == bindparam("w"),
    channels.c.channel_ref == bindparam("r"),
)


class Channels:
    def __init__(self, conn: Connection, claims: Claims | None = None) -> None:
        self._conn = conn
        self._claims = claims or Claims()

    def get(self, channel_id: int) -> ChannelRow | None:
        row = self._conn.execute(_CHANNEL_BY_ID, {"id": channel_id}).first()
        return convert.channel(row) if row else None

    def lock(self, channel_id: int) -> ChannelRow | None:
        """The channel, its row locked until the unit ends (PostgreSQL ``FOR UPDATE``;
        SQLite's writers queue anyway): units that walk one channel run one at a time."""
        query = select(channels).where(channels.c.id == channel_id).with_for_update()
        row = self._conn.execute(query).first()
        return convert.channel(row) if row else None

    def find(self, platform: str, workspace: str, channel_ref: str) -> ChannelRow | None:
        params = {"p": platform, "w": workspace, "r": channel_ref}
        row = self._conn.execute(_CHANNEL_BY_REF, params).first()
        return convert.channel(row) if row else None

    def save(
        self,
        platform: str,
        workspace: str,
        channel_ref: str,
        settings: ChannelSettings,
        *,
        source: str,
        now: datetime,
        next_post_at: datetime,
        next_leaderboard_at: datetime,
        name: str | None = None,
        set_up_by: int | None = None,
    ) -> ChannelRow:
        """Insert or update a channel's settings (and enable it)."""
        values = convert.settings_columns(settings) | {
            "enabled": True,
            "source": source,
            "next_post_at": next_post_at,
            "next_leaderboard_at": next_leaderboard_at,
            "updated_at": now,
        }
        if name is not None:
            values["name"] = name
        if set_up_by is not None:
            values["set_up_by"] = set_up_by
        stmt = convert.upsert(self._conn, channels).values(
            platform=platform,
            workspace=workspace,
            channel_ref=channel_ref,
            created_at=now,
            paused=False,
            cycle=1,
            **values,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["platform", "workspace", "channel_ref"], set_=values
        )
        self._conn.execute(stmt)
        saved = self.find(platform, workspace, channel_ref)
        assert saved is not None
        return saved

    def set_paused(self, channel_id: int, paused: bool, reason: str | None) -> bool:
        """Pause or resume; true when that changed the channel's state."""
        result = self._conn.execute(
            update(channels)
            .where(channels.c.id == channel_id, channels.c.paused == (not paused))
            .values(paused=paused, pause_reason=reason if paused else None)
        )
        if result.rowcount == 0 and paused:  # already paused: keep the newest reason
            self._conn.execute(
                update(channels).where(channels.c.id == channel_id).values(pause_reason=reason)
            )
        return bool(result.rowcount)

    def set_next(
        self,
        channel_id: int,
        *,
        post_at: datetime | None = None,
        leaderboard_at: datetime | None = None,
        cycle: int | None = None,
    ) -> None:
        values: dict[str, object] = {}
        if post_at is not None:  # walked: the next instance to find it due may take it
            values["next_post_at"] = post_at
            values["post_taken_by"] = None
        if leaderboard_at is not None:
            values["next_leaderboard_at"] = leaderboard_at
        if cycle is not None:
            values["cycle"] = cycle
        if values:
            self._conn.execute(update(channels).where(channels.c.id == channel_id).values(**values))

    def take_due_posts(
        self, now: datetime, after: tuple[datetime, int] | None = None, limit: int = 100
    ) -> list[ChannelRow]:
        """Take the next channels whose post is due, in order after ``after`` (the last
        one of the previous batch), for this instance: none another live instance took,
        and, on PostgreSQL, none another is taking at this moment (``SKIP LOCKED``), so
        instances walking at once split the channels between them."""
        where = [
            channels.c.enabled,
            channels.c.next_post_at <= now,
            self._claims.takeable(channels.c.post_taken_by),
        ]
        if after is not None:
            at, last = after
            where.append(
                or_(
                    channels.c.next_post_at > at,
                    and_(channels.c.next_post_at == at, channels.c.id > last),
                )
            )
        query = (
            select(channels)
            .where(*where)
            .order_by(channels.c.next_post_at, channels.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = [convert.channel(r) for r in self._conn.execute(query)]
        if rows and self._claims.me is not None:
            self._conn.execute(
                update(channels)
                .where(channels.c.id.in_([r.id for r in rows]))
                .values(post_taken_by=self._claims.me)
            )
        return rows

    def due_leaderboards(self, now: datetime, limit: int = 500) -> list[ChannelRow]:
        query = (
            select(channels)
            .where(channels.c.enabled, channels.c.next_leaderboard_at <= now)
            .order_by(channels.c.next_leaderboard_at)
            .limit(limit)
        )
        return [convert.channel(r) for r in self._conn.execute(query)]
