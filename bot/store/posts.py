"""Queries on daily posts and their reveals."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    LABEL_STYLE_TABLENAME_PLUS_COL,
    and_,
    bindparam,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection

from bot.ports.records import ChannelRow, PostRow
from bot.store import convert
from bot.store.claims import INTENT, POSTED, Claims
from bot.store.tables import channels, daily_posts


def _in_channel(*where: Any) -> Any:
    """A post with its channel, found by the channel's platform reference (one query)."""
    return (
        select(daily_posts, channels)
        .join(channels, channels.c.id == daily_posts.c.channel_id)
        .where(
            channels.c.platform == bindparam("p"),
            channels.c.workspace == bindparam("w"),
            channels.c.channel_ref == bindparam("c"),
            *where,
        )
        .order_by(daily_posts.c.id.desc())
        .limit(1)
        .set_label_style(LABEL_STYLE_TABLENAME_PLUS_COL)
    )


_IN_THREAD = _in_channel(
    or_(daily_posts.c.thread_ref == bindparam("t"), daily_posts.c.message_ref == bindparam("t"))
)
_REVEAL_IN = _in_channel(daily_posts.c.reveal_ref == bindparam("t"))


class Posts:
    def __init__(self, conn: Connection, claims: Claims | None = None) -> None:
        self._conn = conn
        self._claims = claims or Claims()

    def _one(self, *where: object) -> PostRow | None:
        query = select(daily_posts).where(*where).order_by(daily_posts.c.id.desc()).limit(1)  # type: ignore[arg-type]
        row = (self._conn.execute(query)).first()
        return convert.post(row) if row else None

    def get(self, post_id: int) -> PostRow | None:
        return self._one(daily_posts.c.id == post_id)

    def on_date(self, channel_id: int, local_date: date) -> PostRow | None:
        return self._one(
            daily_posts.c.channel_id == channel_id, daily_posts.c.local_date == local_date
        )

    def in_thread(
        self, platform: str, workspace: str, channel_ref: str, thread_ref: str
    ) -> tuple[ChannelRow, PostRow] | None:
        """The daily post whose thread this is, with its channel."""
        return self._with_channel(_IN_THREAD, platform, workspace, channel_ref, thread_ref)

    def reveal_in(
        self, platform: str, workspace: str, channel_ref: str, message_ref: str
    ) -> tuple[ChannelRow, PostRow] | None:
        """The daily post whose reveal is ``message_ref``, with its channel."""
        return self._with_channel(_REVEAL_IN, platform, workspace, channel_ref, message_ref)

    def _with_channel(
        self, query: Any, platform: str, workspace: str, channel_ref: str, ref: str
    ) -> tuple[ChannelRow, PostRow] | None:
        params = {"p": platform, "w": workspace, "c": channel_ref, "t": ref}
        row = self._conn.execute(query, params).first()
        if row is None:
            return None
        return convert.channel(row, "channels_"), convert.post(row, "daily_posts_")

    def latest(self, channel_id: int) -> PostRow | None:
        """The most recent post that reached the platform."""
        return self._one(daily_posts.c.channel_id == channel_id, daily_posts.c.status == POSTED)

    def claim(
        self,
        channel_id: int,
        local_date: date,
        *,
        card_key: str | None,
        topic: str | None,
        cycle: int,
        new_cycle: bool,
        scheduled_for: datetime,
        token: str,
        now: datetime,
        status: str = INTENT,
    ) -> PostRow | None:
        """Insert the post for (channel, local date); ``None`` if one already exists."""
        stmt = convert.upsert(self._conn, daily_posts).values(
            channel_id=channel_id,
            local_date=local_date,
            card_key=card_key,
            topic=topic,
            cycle=cycle,
            new_cycle=new_cycle,
            status=status,
            scheduled_for=scheduled_for,
            claimed_at=now,
            claim_token=token,
            claimed_by=self._claims.me,
            caught_up=False,
            reveal_status="pending",
        )
        result = self._conn.execute(stmt.on_conflict_do_nothing())
        if result.rowcount != 1:
            return None
        return self.on_date(channel_id, local_date)

    def revive_missed(
        self,
        post_id: int,
        *,
        card_key: str,
        topic: str,
        cycle: int,
        new_cycle: bool,
        token: str,
        now: datetime,
    ) -> PostRow | None:
        """Claim a missed day to post it late on purpose (it stays forgiven); ``None`` if it
        is no longer missed."""
        result = self._conn.execute(
            update(daily_posts)
            .where(daily_posts.c.id == post_id, daily_posts.c.status == "missed")
            .values(
                status=INTENT,
                forgiven=True,
                card_key=card_key,
                topic=topic,
                cycle=cycle,
                new_cycle=new_cycle,
                scheduled_for=now,
                claimed_at=now,
                claim_token=token,
                claimed_by=self._claims.me,
            )
        )
        return self.get(post_id) if result.rowcount == 1 else None

    def reclaim(self, post_id: int, token: str, now: datetime, old_token: str | None) -> bool:
        """Take over a stale intent (only if nobody else took it since we looked, and its
        owner is gone)."""
        result = self._conn.execute(
            update(daily_posts)
            .where(
                daily_posts.c.id == post_id,
                daily_posts.c.status == INTENT,
                daily_posts.c.claim_token == old_token,
                self._claims.takeable(daily_posts.c.claimed_by),
            )
            .values(claim_token=token, claimed_at=now, claimed_by=self._claims.me)
        )
        return result.rowcount == 1

    def record_posted(
        self,
        post_id: int,
        *,
        message_ref: str,
        thread_ref: str,
        posted_at: datetime,
        reveal_due_at: datetime,
        caught_up: bool,
    ) -> bool:
        """Record the send; False (nothing changes) if the claim is no longer ours."""
        result = self._conn.execute(
            update(daily_posts)
            .where(daily_posts.c.id == post_id, self._claims.fence(daily_posts.c.claimed_by))
            .values(
                status=POSTED,
                message_ref=message_ref,
                thread_ref=thread_ref,
                posted_at=posted_at,
                reveal_due_at=reveal_due_at,
                caught_up=caught_up,
            )
        )
        return result.rowcount == 1

    def set_status(self, post_id: int, status: str) -> None:
        self._conn.execute(
            update(daily_posts).where(daily_posts.c.id == post_id).values(status=status)
        )

    def sending_in(self, platform: str, workspace: str, channel_ref: str) -> set[str]:
        query = (
            select(daily_posts.c.status, daily_posts.c.reveal_status)
            .join(channels, channels.c.id == daily_posts.c.channel_id)
            .where(
                channels.c.platform == platform,
                channels.c.workspace == workspace,
                channels.c.channel_ref == channel_ref,
                or_(daily_posts.c.status == INTENT, daily_posts.c.reveal_status == INTENT),
            )
        )
        found: set[str] = set()
        for status, reveal_status in self._conn.execute(query):
            found |= {"post"} if status == INTENT else set()
            found |= {"reveal"} if reveal_status == INTENT else set()
        return found

    def unmark_ahead(self, now: datetime) -> dict[int, datetime]:
        ahead = (
            daily_posts.c.status.in_(("missed", "skipped")),
            daily_posts.c.claimed_at > now,
        )
        query = (
            select(daily_posts.c.channel_id, func.min(daily_posts.c.scheduled_for))
            .where(*ahead)
            .group_by(daily_posts.c.channel_id)
        )
        earliest = {int(c): when for c, when in self._conn.execute(query) if when is not None}
        if earliest:
            self._conn.execute(delete(daily_posts).where(*ahead))
        return earliest

    def stale_intents(self, claimed_before: datetime) -> list[PostRow]:
        query = select(daily_posts).where(
            daily_posts.c.status == INTENT,
            daily_posts.c.claimed_at < claimed_before,
            self._claims.takeable(daily_posts.c.claimed_by),
        )
        return [convert.post(r) for r in self._conn.execute(query)]

    def used_in_cycle(self, channel_id: int, cycle: int) -> set[str]:
        query = select(daily_posts.c.card_key).where(
            daily_posts.c.channel_id == channel_id,
            daily_posts.c.cycle == cycle,
            daily_posts.c.status.in_((POSTED, INTENT)),
            daily_posts.c.card_key.is_not(None),
        )
        return {r[0] for r in self._conn.execute(query)}

    def recent_topics(self, channel_id: int, limit: int = 30) -> list[str]:
        """Topics of recent posts, oldest first."""
        query = (
            select(daily_posts.c.topic)
            .where(daily_posts.c.channel_id == channel_id, daily_posts.c.topic.is_not(None))
            .order_by(daily_posts.c.local_date.desc())
            .limit(limit)
        )
        return [r[0] for r in self._conn.execute(query)][::-1]

    def forgiven_dates(self, channel_id: int, since: date) -> set[date]:
        """Local dates the bot failed to post (missed, even if posted late on purpose since)
        or an admin skipped."""
        query = select(daily_posts.c.local_date).where(
            daily_posts.c.channel_id == channel_id,
            daily_posts.c.local_date >= since,
            daily_posts.c.status.in_(("missed", "skipped")) | daily_posts.c.forgiven,
        )
        return {r[0] for r in self._conn.execute(query)}

    def count(self, channel_id: int, status: str = POSTED) -> int:
        query = select(func.count()).where(
            daily_posts.c.channel_id == channel_id, daily_posts.c.status == status
        )
        return int((self._conn.execute(query)).scalar_one())

    def take_due_reveals(self, now: datetime, limit: int = 100) -> list[PostRow]:
        """Claim the next due reveals for this instance (``intent``, owned by it) and
        return them as they were before: none another instance is taking at this moment
        (``SKIP LOCKED`` on PostgreSQL), so instances revealing at once split them."""
        query = (
            select(daily_posts)
            .join(channels, channels.c.id == daily_posts.c.channel_id)
            .where(
                daily_posts.c.status == POSTED,
                daily_posts.c.reveal_status == "pending",
                daily_posts.c.reveal_due_at <= now,
                channels.c.enabled,
                ~channels.c.paused,
            )
            .order_by(daily_posts.c.reveal_due_at, daily_posts.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=daily_posts)
        )
        rows = [convert.post(r) for r in self._conn.execute(query)]
        if rows:
            self._conn.execute(
                update(daily_posts)
                .where(daily_posts.c.id.in_([r.id for r in rows]))
                .values(
                    reveal_status=INTENT, reveal_claimed_at=now, reveal_claimed_by=self._claims.me
                )
            )
        return rows

    def claim_reveal(self, post_id: int, now: datetime, stale_before: datetime) -> bool:
        """Move the reveal to ``intent``; a stale intent may be taken over."""
        result = self._conn.execute(
            update(daily_posts)
            .where(
                daily_posts.c.id == post_id,
                daily_posts.c.status == POSTED,
                or_(
                    daily_posts.c.reveal_status == "pending",
                    and_(
                        daily_posts.c.reveal_status == INTENT,
                        daily_posts.c.reveal_claimed_at < stale_before,
                        self._claims.takeable(daily_posts.c.reveal_claimed_by),
                    ),
                ),
            )
            .values(reveal_status=INTENT, reveal_claimed_at=now, reveal_claimed_by=self._claims.me)
        )
        return result.rowcount == 1

    def record_reveal(self, post_id: int, reveal_ref: str, at: datetime) -> bool:
        """Record the reveal; False (nothing changes) if the claim is no longer ours."""
        result = self._conn.execute(
            update(daily_posts)
            .where(
                daily_posts.c.id == post_id,
                self._claims.fence(daily_posts.c.reveal_claimed_by),
            )
            .values(reveal_status=POSTED, reveal_ref=reveal_ref, revealed_at=at)
        )
        return result.rowcount == 1

    def stale_reveals(self, claimed_before: datetime) -> list[PostRow]:
        query = select(daily_posts).where(
            daily_posts.c.reveal_status == INTENT,
            daily_posts.c.reveal_claimed_at < claimed_before,
            self._claims.takeable(daily_posts.c.reveal_claimed_by),
        )
        return [convert.post(r) for r in self._conn.execute(query)]
