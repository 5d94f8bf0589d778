"""The store port: units of work over small repositories, one per area.

``await store.write(fn)`` runs ``fn(tx)`` in one write transaction (committed when it
returns, rolled back if it raises); ``await store.read(fn)`` runs ``fn`` on a ``ReadTx``
(``bot.ports.reads``: queries only) in a read-only one. ``fn`` is plain synchronous
code: no awaits and no network inside a transaction. Services see only these protocols;
``bot.store.sql.SqlStore`` implements them, and the contract suite in
``tests/store/test_contract.py`` runs against every backend.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import Any, Protocol, TypeVar

from bot.core.models import ChannelSettings, Grade
from bot.core.srs import CardState
from bot.core.streaks import StreakState
from bot.ports.personal import PersonalDataRepo
from bot.ports.queues import EventsRepo, FollowupsRepo, InboxRepo
from bot.ports.reads import (
    ActivityReader,
    AnswersReader,
    ChannelsReader,
    LeaderboardsReader,
    MembersReader,
    NoticesReader,
    PostsReader,
    QuizzesReader,
    ReadTx,
    ReviewsReader,
    StreakAuditReader,
)
from bot.ports.records import (
    ChannelRow,
    MemberRow,
    MembershipRow,
    NoticeRow,
    PostRow,
    QuizRow,
)
from bot.ports.tuning import TuningRepo

T = TypeVar("T")


class ChannelsRepo(ChannelsReader, Protocol):
    def lock(self, channel_id: int) -> ChannelRow | None: ...

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
        ...

    def set_paused(self, channel_id: int, paused: bool, reason: str | None) -> bool: ...

    def set_next(
        self,
        channel_id: int,
        *,
        post_at: datetime | None = None,
        leaderboard_at: datetime | None = None,
        cycle: int | None = None,
    ) -> None: ...

    def take_due_posts(
        self, now: datetime, after: tuple[datetime, int] | None = None, limit: int = 100
    ) -> list[ChannelRow]: ...


class MembersRepo(MembersReader, Protocol):
    def ensure(
        self, platform: str, workspace: str, user_ref: str, name: str, tz: str | None, now: datetime
    ) -> MemberRow:
        """The member, created on first sight; name and timezone follow the platform."""
        ...

    def set_followups_paused(self, member_id: int, paused: bool) -> None: ...

    def block_dm(self, member_id: int, until: datetime | None, reason: str | None) -> None: ...

    def set_member(self, member_id: int, **values: Any) -> None:
        """Follow-up bookkeeping: last_active_at, next_batch_at, study_days, catchups_off."""
        ...

    def join(self, channel_id: int, member_id: int, joined_on: date) -> None: ...

    def memberships(
        self, *, channel_id: int | None = None, member_id: int | None = None, lock: bool = False
    ) -> list[MembershipRow]:
        """``lock``: the rows stay locked until the unit ends (``FOR UPDATE``)."""
        ...

    def save_streak(self, channel_id: int, member_id: int, state: StreakState) -> None: ...


class PostsRepo(PostsReader, Protocol):
    def unmark_ahead(self, now: datetime) -> dict[int, datetime]:
        """Delete days marked missed or skipped by a clock that was ahead (marked after
        ``now``); returns each channel's earliest such scheduled time."""
        ...

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
        status: str = "intent",
    ) -> PostRow | None:
        """Insert the post for (channel, local date); ``None`` if one already exists."""
        ...

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
    ) -> PostRow | None: ...

    def reclaim(self, post_id: int, token: str, now: datetime, old_token: str | None) -> bool:
        """Take over a stale intent (only if nobody else took it since we looked)."""
        ...

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
        """False (nothing changes) when the claim is no longer this instance's."""
        ...

    def set_status(self, post_id: int, status: str) -> None: ...

    def take_due_reveals(self, now: datetime, limit: int = 100) -> list[PostRow]: ...

    def claim_reveal(self, post_id: int, now: datetime, stale_before: datetime) -> bool:
        """Move the reveal to ``intent``; a stale intent may be taken over."""
        ...

    def record_reveal(self, post_id: int, reveal_ref: str, at: datetime) -> bool: ...


class LeaderboardsRepo(LeaderboardsReader, Protocol):
    def unmark_ahead(self, now: datetime) -> list[int]:
        """Delete weeks marked missed or skipped by a clock that was ahead (marked after
        ``now``); returns their channels."""
        ...

    def claim(self, channel_id: int, week_start: date, now: datetime, status: str) -> bool: ...

    def record(self, channel_id: int, week_start: date, ref: str, now: datetime) -> bool: ...

    def reclaim(
        self, channel_id: int, week_start: date, now: datetime, before: datetime
    ) -> bool: ...

    def set_status(self, channel_id: int, week_start: date, status: str) -> None: ...


class AnswersRepo(AnswersReader, Protocol):
    def add(
        self,
        post_id: int,
        member_id: int,
        *,
        message_ref: str | None,
        text: str,
        before_reveal: bool,
        now: datetime,
    ) -> bool: ...

    def set_text(self, answer_id: int, text: str, now: datetime) -> None: ...

    def delete(self, answer_id: int) -> None: ...


class ReviewsRepo(ReviewsReader, Protocol):
    """Grades on reveals, the full review log, and each member's card schedules."""

    def set_grade(
        self, post_id: int, member_id: int, grade: Grade, emoji: str, now: datetime
    ) -> None: ...

    def remove_grade(self, post_id: int, member_id: int) -> None: ...

    def log(
        self, member_id: int, card_key: str, grade: Grade, at: datetime, kind: str, ref: str
    ) -> None:
        """Record (or replace, or restore) the review identified by (kind, ref)."""
        ...

    def void(self, kind: str, ref: str, now: datetime) -> None: ...

    def save_state(
        self,
        member_id: int,
        card_key: str,
        state: CardState,
        *,
        first_seen: datetime,
        origin_channel_id: int | None,
    ) -> None: ...

    def delete_state(self, member_id: int, card_key: str) -> None: ...

    def hold(self, member_id: int, card_key: str, since: datetime) -> None: ...


class QuizzesRepo(QuizzesReader, Protocol):
    def start(
        self, member_id: int, topic: str | None, card_keys: list[str], now: datetime
    ) -> int: ...

    def save(self, quiz: QuizRow, now: datetime) -> None: ...


class ActivityRepo(ActivityReader, Protocol):
    def add(
        self,
        member_id: int,
        kind: str,
        ref: str,
        *,
        local_date: date,
        points: int,
        keeps_day: bool,
        now: datetime,
    ) -> bool:
        """Record one study action; ``False`` if (member, kind, ref) was recorded before."""
        ...

    def remove(self, member_id: int, kind: str, ref: str) -> int:
        """Undo one action (an answer deleted); returns the points taken back."""
        ...


class StreakAuditRepo(StreakAuditReader, Protocol):
    def record(
        self,
        channel_id: int,
        member_id: int,
        *,
        effective_date: date,
        old: int,
        new: int,
        actor: str,
        reason: str,
        now: datetime,
    ) -> None: ...


class NoticesRepo(NoticesReader, Protocol):
    def add(self, channel_id: int, key: str, text: str, now: datetime) -> bool: ...

    def gather(
        self, channel_id: int, prefix: str, text: str, now: datetime, not_before: datetime
    ) -> str: ...

    def claim(self, notice: NoticeRow, now: datetime, claimed_before: datetime) -> bool: ...

    def record(self, channel_id: int, key: str, ref: str, now: datetime) -> bool: ...


class Tx(ReadTx, Protocol):
    """One write transaction, with a repository per area."""

    @property
    def channels(self) -> ChannelsRepo: ...

    @property
    def members(self) -> MembersRepo: ...

    @property
    def posts(self) -> PostsRepo: ...

    @property
    def leaderboards(self) -> LeaderboardsRepo: ...

    @property
    def notices(self) -> NoticesRepo: ...

    @property
    def answers(self) -> AnswersRepo: ...

    @property
    def reviews(self) -> ReviewsRepo: ...

    @property
    def followups(self) -> FollowupsRepo: ...

    @property
    def quizzes(self) -> QuizzesRepo: ...

    @property
    def activity(self) -> ActivityRepo: ...

    @property
    def audit(self) -> StreakAuditRepo: ...

    @property
    def events(self) -> EventsRepo: ...

    @property
    def tuning(self) -> TuningRepo: ...

    @property
    def inbox(self) -> InboxRepo: ...

    @property
    def personal(self) -> PersonalDataRepo: ...

    def savepoint(self) -> AbstractContextManager[object]:
        """A nested transaction: an error inside undoes only what it wrote, then raises."""
        ...


class Store(Protocol):
    async def write(self, fn: Callable[[Tx], T], *, serializable: bool = True) -> T:
        """``serializable=False``: READ COMMITTED on PostgreSQL, for a unit that only takes
        rows with ``FOR UPDATE SKIP LOCKED`` (a serializable one would abort on the rows
        other instances take at the same moment)."""
        ...

    async def read(self, fn: Callable[[ReadTx], T]) -> T: ...

    async def ping(self) -> bool: ...

    async def keep_registered(self) -> None: ...

    async def table_sizes(self) -> dict[str, int]: ...

    async def checkpoint(self) -> None:
        """Make deleted rows unreadable in the database files too (SQLite: move the
        write-ahead log into the database and truncate it)."""
        ...

    async def close(self) -> None: ...
