"""Queries on members and their channel memberships (with each streak)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.engine import Connection

from bot.core.streaks import StreakState
from bot.ports.records import MemberRow, MembershipRow
from bot.store import convert
from bot.store.convert import execute_row, ignoring
from bot.store.followups import refresh_next_due
from bot.store.tables import channel_members, members

_MEMBER_BY_ID = select(members).where(members.c.id == bindparam("id"))
_MEMBER_BY_REF = select(members).where(
    members.c.platform == bindparam("p"),
    members.c.workspace == bindparam("w"),
    members.c.user_ref == bindparam("r"),
)


_MEMBER_FIELDS = frozenset({"last_active_at", "next_batch_at", "study_days", "catchups_off"})


class Members:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, member_id: int) -> MemberRow | None:
        row = self._conn.execute(_MEMBER_BY_ID, {"id": member_id}).first()
        return convert.member(row) if row else None

    def find(self, platform: str, workspace: str, user_ref: str) -> MemberRow | None:
        params = {"p": platform, "w": workspace, "r": user_ref}
        row = self._conn.execute(_MEMBER_BY_REF, params).first()
        return convert.member(row) if row else None

    def ensure(
        self, platform: str, workspace: str, user_ref: str, name: str, tz: str | None, now: datetime
    ) -> MemberRow:
        """The member, created on first sight; name and timezone follow the platform."""
        existing = self.find(platform, workspace, user_ref)
        if existing is not None:
            if existing.name == name and (tz is None or existing.tz == tz):
                return existing
            values = {"name": name} | ({"tz": tz} if tz is not None else {})
            self._conn.execute(update(members).where(members.c.id == existing.id).values(**values))
            return self.get(existing.id) or existing
        stmt = convert.upsert(self._conn, members).values(
            platform=platform,
            workspace=workspace,
            user_ref=user_ref,
            name=name,
            tz=tz,
            followups_paused=False,
            created_at=now,
        )
        self._conn.execute(stmt.on_conflict_do_nothing())
        created = self.find(platform, workspace, user_ref)
        assert created is not None
        return created

    def set_followups_paused(self, member_id: int, paused: bool) -> None:
        self._conn.execute(
            update(members).where(members.c.id == member_id).values(followups_paused=paused)
        )

    def block_dm(self, member_id: int, until: datetime | None, reason: str | None) -> None:
        self._conn.execute(
            update(members)
            .where(members.c.id == member_id)
            .values(dm_blocked_until=until, dm_block_reason=reason)
        )

    def set_member(self, member_id: int, **values: Any) -> None:
        """Follow-up bookkeeping of one member: last_active_at, next_batch_at, study_days
        (text such as ``mon,wed`` or None), catchups_off."""
        unknown = set(values) - _MEMBER_FIELDS
        if unknown:
            raise ValueError(f"not a member setting: {', '.join(sorted(unknown))}")
        self._conn.execute(update(members).where(members.c.id == member_id).values(**values))
        if "last_active_at" in values:  # resting cards of this member may be sendable again
            refresh_next_due(self._conn, member_id)

    def join(self, channel_id: int, member_id: int, joined_on: date) -> None:
        row = {"channel_id": channel_id, "member_id": member_id, "joined_on": joined_on}
        build = ignoring(channel_members)
        execute_row(self._conn, "members.join", build, channel_members, row)

    def memberships(
        self, *, channel_id: int | None = None, member_id: int | None = None, lock: bool = False
    ) -> list[MembershipRow]:
        """``lock``: the membership rows stay locked until the unit ends (FOR UPDATE), for
        a unit at READ COMMITTED that rewrites them from what it reads next."""
        query = select(channel_members, members).join(
            members, members.c.id == channel_members.c.member_id
        )
        if lock:
            query = query.with_for_update(of=channel_members)
        if channel_id is not None:
            query = query.where(channel_members.c.channel_id == channel_id)
        if member_id is not None:
            query = query.where(channel_members.c.member_id == member_id)
        rows = self._conn.execute(query.order_by(channel_members.c.member_id))
        return [_membership(r) for r in rows]

    def folded_since(self, day: date) -> list[MembershipRow]:
        query = (
            select(channel_members, members)
            .join(members, members.c.id == channel_members.c.member_id)
            .where(channel_members.c.streak_through >= day)
        )
        return [_membership(r) for r in self._conn.execute(query)]

    def stale_streaks(self, before: date, limit: int = 5000) -> list[MembershipRow]:
        """Memberships whose streak was last folded before ``before`` (or never)."""
        query = (
            select(channel_members, members)
            .join(members, members.c.id == channel_members.c.member_id)
            .where(
                (channel_members.c.streak_through.is_(None))
                | (channel_members.c.streak_through < before)
            )
            .limit(limit)
        )
        return [_membership(r) for r in self._conn.execute(query)]

    def save_streak(self, channel_id: int, member_id: int, state: StreakState) -> None:
        self._conn.execute(
            update(channel_members)
            .where(
                and_(
                    channel_members.c.channel_id == channel_id,
                    channel_members.c.member_id == member_id,
                )
            )
            .values(
                streak_current=state.current,
                streak_best=state.best,
                streak_freezes=state.freezes,
                streak_progress=state.progress,
                streak_through=state.evaluated_through,
            )
        )


def _membership(row: Any) -> MembershipRow:
    m = row._mapping
    streak = StreakState(
        current=m["streak_current"],
        best=m["streak_best"],
        freezes=m["streak_freezes"],
        progress=m["streak_progress"],
        evaluated_through=m["streak_through"],
    )
    member = convert.member_from(m, id_key="member_id")
    return MembershipRow(m["channel_id"], member, m["joined_on"], streak)
