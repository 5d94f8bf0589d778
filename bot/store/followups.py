"""Queries on follow-up DMs: per-member due selection, catch-ups, claims, expiry."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Subquery,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection

from bot.ports.records import DueCard, FollowupRow, MemberRow
from bot.store import convert
from bot.store.claims import Claims
from bot.store.convert import ignoring
from bot.store.tables import (
    answers,
    card_states,
    channel_members,
    channels,
    daily_posts,
    followups,
    grades,
    members,
)

OPEN = ("intent", "sent", "shown")
"""A follow-up in one of these states blocks another for the same card."""
CLOSED = ("graded", "replaced")


def _followup(row: Any) -> FollowupRow:
    m = row._mapping
    return FollowupRow(
        id=m["id"],
        member_id=m["member_id"],
        card_key=m["card_key"],
        due_at=m["due_at"],
        status=m["status"],
        local_date=m["local_date"],
        sent_at=m["sent_at"],
        message_ref=m["message_ref"],
        graded_at=m["graded_at"],
        grade=convert.grade(m["grade"]),
        kind=m["kind"],
        attempt=m["attempt"],
        expires_at=m["expires_at"],
        post_id=m["post_id"],
        created_at=m["created_at"],
    )


def _ready(now: datetime) -> ColumnElement[bool]:
    """Members who may get a batch now (follow-ups on, DMs open, their batch time come)."""
    return and_(
        ~members.c.followups_paused,
        or_(members.c.dm_blocked_until.is_(None), members.c.dm_blocked_until <= now),
        or_(members.c.next_batch_at.is_(None), members.c.next_batch_at <= now),
    )


def _sendable() -> list[ColumnElement[bool]]:
    """A reviewed card with no open follow-up that is not resting (correlated on members)."""
    open_followup = (
        select(followups.c.id)
        .where(
            followups.c.member_id == card_states.c.member_id,
            followups.c.card_key == card_states.c.card_key,
            followups.c.status.in_(OPEN),
        )
        .exists()
    )
    not_held = or_(
        card_states.c.held_since.is_(None), members.c.last_active_at > card_states.c.held_since
    )
    return [card_states.c.reps > 0, not_held, ~open_followup]


_REFRESH = (
    update(members)
    .where(members.c.id == bindparam("member"))
    .values(
        next_due_at=select(func.min(card_states.c.due_at))
        .where(card_states.c.member_id == bindparam("member"), *_sendable())
        .scalar_subquery()
    )
)
_CHAIN = (
    select(followups)
    .where(
        followups.c.member_id == bindparam("m"),
        followups.c.card_key == bindparam("k"),
        followups.c.due_at == bindparam("d"),
    )
    .order_by(followups.c.attempt)
)
_CLAIMED = select(followups.c.id).where(
    followups.c.member_id == bindparam("m"),
    followups.c.card_key == bindparam("k"),
    followups.c.due_at == bindparam("d"),
    followups.c.attempt == bindparam("a"),
)
_OWNER = select(followups.c.member_id).where(followups.c.id == bindparam("id"))


_STALE_NEXT_DUE = "studybot.stale_next_due"


def refresh_next_due(conn: Connection, member_id: int) -> None:
    """Keep ``members.next_due_at``: the member's earliest sendable due card.

    Deferred to the end of the unit (``flush_next_due``): one unit often changes a
    member's cards several times (a grade, its follow-up, the member's activity), and
    the value only has to be right when the unit commits or reads it.
    """
    conn.info.setdefault(_STALE_NEXT_DUE, set()).add(member_id)


def forget_next_due(conn: Connection) -> None:
    """Drop what an earlier unit on this connection left pending (it did not commit)."""
    conn.info.pop(_STALE_NEXT_DUE, None)


def flush_next_due(conn: Connection) -> None:
    """Recompute ``next_due_at`` of every member this unit touched."""
    for member_id in sorted(conn.info.pop(_STALE_NEXT_DUE, ())):
        conn.execute(_REFRESH, {"member": member_id})


def _top_per_member(
    conn: Connection, ranked: Subquery, per_member: int, limit: int | None = None
) -> list[tuple[MemberRow, Any]]:
    """The first ``per_member`` rows of each member in ``ranked``, with the member."""
    query = (
        select(ranked, *[c for c in members.c if c.name != "id"])
        .join(members, members.c.id == ranked.c.member_id)
        .where(ranked.c.rank <= per_member)
        .order_by(ranked.c.member_id, ranked.c.rank)
        .limit(limit)
    )
    found = []
    for row in conn.execute(query):
        m = row._mapping
        found.append((convert.member_from(m, id_key="member_id"), m))
    return found


def due_rows(conn: Connection, now: datetime, per_member: int, limit: int) -> list[DueCard]:
    """A page of ready members (earliest due first, at most ``limit``), each with up to
    ``per_member`` of their own due cards. Served members move their ``next_batch_at``
    on, so the next page holds other members: paging never starves anybody."""
    flush_next_due(conn)
    page = (
        select(members.c.id)
        .where(members.c.next_due_at <= now, _ready(now))
        .order_by(members.c.next_due_at, members.c.id)
        .limit(limit)
    )
    rank = (
        func.row_number()
        .over(
            partition_by=card_states.c.member_id,
            order_by=(card_states.c.due_at, card_states.c.card_key),
        )
        .label("rank")
    )
    ranked = (
        select(
            card_states.c.member_id,
            card_states.c.card_key,
            card_states.c.due_at,
            card_states.c.origin_channel_id,
            rank,
        )
        .join(members, members.c.id == card_states.c.member_id)
        .where(card_states.c.member_id.in_(page), card_states.c.due_at <= now, *_sendable())
        .subquery()
    )
    return [
        DueCard(member, m["card_key"], m["due_at"], m["origin_channel_id"])
        for member, m in _top_per_member(conn, ranked, per_member)
    ]


def catchup_rows(
    conn: Connection,
    now: datetime,
    *,
    since: datetime,
    revealed_before: datetime,
    resends: int,
    per_member: int,
    limit: int,
) -> list[DueCard]:
    """Daily questions an active member of the channel missed, oldest first.

    Active: answered or graded a post of that channel since ``since``. Missed: the member
    joined before the post, did not answer it, has no schedule for its card, and no
    follow-up of that card is open, graded, or resting (re-sends used up, or expired unseen:
    the member has not been active since it was sent) until the member is next active.
    Only posts whose reveal is older than the answer window (``revealed_before``).
    """
    member = channel_members.c.member_id
    other = daily_posts.alias("other_post")
    active = or_(
        exists(
            select(answers.c.id)
            .join(other, other.c.id == answers.c.post_id)
            .where(
                answers.c.member_id == member,
                other.c.channel_id == channel_members.c.channel_id,
                answers.c.created_at >= since,
            )
        ),
        exists(
            select(grades.c.post_id)
            .join(other, other.c.id == grades.c.post_id)
            .where(
                grades.c.member_id == member,
                other.c.channel_id == channel_members.c.channel_id,
                grades.c.updated_at >= since,
            )
        ),
    )
    answered = exists(
        select(answers.c.id).where(
            answers.c.post_id == daily_posts.c.id, answers.c.member_id == member
        )
    )
    has_state = exists(
        select(card_states.c.member_id).where(
            card_states.c.member_id == member, card_states.c.card_key == daily_posts.c.card_key
        )
    )
    idle = members.c.last_active_at.is_(None)
    resting = and_(  # as a held review card: re-sends used up, or it was never seen
        followups.c.status == "expired",
        or_(followups.c.attempt >= resends, idle, members.c.last_active_at < followups.c.sent_at),
        or_(idle, members.c.last_active_at < followups.c.expires_at),
    )
    blocked = exists(
        select(followups.c.id).where(
            followups.c.member_id == member,
            followups.c.card_key == daily_posts.c.card_key,
            or_(followups.c.status.in_(OPEN + CLOSED), resting),
        )
    )
    rank = (
        func.row_number()
        .over(partition_by=member, order_by=(daily_posts.c.posted_at, daily_posts.c.id))
        .label("rank")
    )
    ranked = (
        select(
            member.label("member_id"),
            daily_posts.c.card_key,
            daily_posts.c.posted_at,
            daily_posts.c.channel_id,
            daily_posts.c.id.label("post_id"),
            rank,
        )
        .select_from(channel_members)
        .join(daily_posts, daily_posts.c.channel_id == channel_members.c.channel_id)
        .join(channels, channels.c.id == daily_posts.c.channel_id)
        .join(members, members.c.id == member)
        .where(
            channels.c.catchups,
            channels.c.enabled,
            ~channels.c.paused,
            daily_posts.c.status == "posted",
            daily_posts.c.card_key.is_not(None),
            daily_posts.c.posted_at >= since,
            daily_posts.c.revealed_at <= revealed_before,
            daily_posts.c.local_date >= channel_members.c.joined_on,
            ~members.c.catchups_off,
            _ready(now),
            active,
            ~answered,
            ~has_state,
            ~blocked,
        )
        .subquery()
    )
    return [
        DueCard(member, m["card_key"], m["posted_at"], m["channel_id"], "catchup", m["post_id"])
        for member, m in _top_per_member(conn, ranked, per_member, limit)
    ]


class Followups:
    def __init__(self, conn: Connection, claims: Claims | None = None) -> None:
        self._conn = conn
        self._claims = claims or Claims()

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
    ) -> int | None:
        """An intent for one DM of this due card, the next attempt; None if one is open."""
        chain = self.chain(member_id, card_key, due_at)
        if any(f.status in OPEN or f.status in CLOSED for f in chain):
            return None
        row = {
            "member_id": member_id,
            "card_key": card_key,
            "due_at": due_at,
            "attempt": len(chain),
            "kind": kind,
            "post_id": post_id,
            "local_date": local_date,
            "status": "intent",
            "created_at": now,
            "claimed_by": self._claims.me,
            "sent_at": None,
            "message_ref": None,
            "shown_at": None,
            "graded_at": None,
            "grade": None,
            "expires_at": None,
        }
        stmt = convert.prepared(self._conn, "followups.claim", ignoring(followups))
        if self._conn.execute(stmt, row).rowcount != 1:
            return None
        refresh_next_due(self._conn, member_id)
        found = {"m": member_id, "k": card_key, "d": due_at, "a": len(chain)}
        return int(self._conn.execute(_CLAIMED, found).scalar_one())

    def get(self, followup_id: int) -> FollowupRow | None:
        row = self._conn.execute(select(followups).where(followups.c.id == followup_id)).first()
        return _followup(row) if row else None

    def chain(self, member_id: int, card_key: str, due_at: datetime) -> list[FollowupRow]:
        """Every DM sent for one due card (the first and its re-sends), in order."""
        rows = self._conn.execute(_CHAIN, {"m": member_id, "k": card_key, "d": due_at})
        return [_followup(r) for r in rows]

    def mark(self, followup_id: int, status: str, **values: Any) -> None:
        self._conn.execute(
            update(followups).where(followups.c.id == followup_id).values(status=status, **values)
        )
        if status not in OPEN:  # the card may be sendable again
            self._refresh_owner(followup_id)

    def drop(self, followup_id: int) -> None:
        member_id = self._owner(followup_id)
        self._conn.execute(followups.delete().where(followups.c.id == followup_id))
        if member_id is not None:
            refresh_next_due(self._conn, member_id)

    def _owner(self, followup_id: int) -> int | None:
        found = self._conn.execute(_OWNER, {"id": followup_id}).scalar_one_or_none()
        return None if found is None else int(found)

    def _refresh_owner(self, followup_id: int) -> None:
        member_id = self._owner(followup_id)
        if member_id is not None:
            refresh_next_due(self._conn, member_id)

    def sent_on(self, member_id: int, local_date: date) -> int:
        query = select(func.count()).where(
            followups.c.member_id == member_id, followups.c.local_date == local_date
        )
        return int(self._conn.execute(query).scalar_one())

    def unread_since(self, member_id: int, since: datetime | None) -> bool:
        """Whether a DM sent to this member after ``since`` (None: ever) is still unopened."""
        query = select(followups.c.id).where(
            followups.c.member_id == member_id, followups.c.status == "sent"
        )
        if since is not None:
            query = query.where(followups.c.sent_at > since)
        return self._conn.execute(query.limit(1)).first() is not None

    def expire(self, now: datetime) -> list[FollowupRow]:
        """Mark sent, ungraded follow-ups past their expiry as expired; returns them."""
        query = select(followups).where(
            followups.c.status.in_(("sent", "shown")), followups.c.expires_at <= now
        )
        rows = [_followup(r) for r in self._conn.execute(query)]
        if rows:
            self._conn.execute(
                update(followups)
                .where(followups.c.id.in_([r.id for r in rows]))
                .values(status="expired")
            )
        for member_id in {r.member_id for r in rows}:
            refresh_next_due(self._conn, member_id)
        return rows

    def stale_intents(self, created_before: datetime) -> list[FollowupRow]:
        query = select(followups).where(
            followups.c.status == "intent",
            followups.c.created_at < created_before,
            self._claims.takeable(followups.c.claimed_by),
        )
        return [_followup(r) for r in self._conn.execute(query)]

    def catchups(
        self,
        now: datetime,
        *,
        since: datetime,
        revealed_before: datetime,
        resends: int,
        per_member: int = 5,
        limit: int = 50_000,
    ) -> list[DueCard]:
        return catchup_rows(
            self._conn,
            now,
            since=since,
            revealed_before=revealed_before,
            resends=resends,
            per_member=per_member,
            limit=limit,
        )
