"""The store port: units of work over small repositories, one per area.

``await store.write(fn)`` runs ``fn(tx)`` in one write transaction (committed when it
returns, rolled back if it raises); ``await store.read(fn)`` in a read-only one. ``fn``
is plain synchronous code: no awaits and no network inside a transaction. Services see
only these protocols; ``bot.store.sql.SqlStore`` implements them, and the contract
suite in ``tests/store/test_contract.py`` runs against every backend.
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
from bot.ports.records import (
    AnswerRow,
    ChannelRow,
    DueCard,
    GradeRow,
    MemberRow,
    MembershipRow,
    NoticeRow,
    PostRow,
    QuizRow,
    StoredCardState,
)
from bot.ports.tuning import TuningRepo

T = TypeVar("T")


class ChannelsRepo(Protocol):
    def get(self, channel_id: int) -> ChannelRow | None: ...

    def lock(self, channel_id: int) -> ChannelRow | None: ...

    def find(self, platform: str, workspace: str, channel_ref: str) -> ChannelRow | None: ...

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

    def due_leaderboards(self, now: datetime, limit: int = 500) -> list[ChannelRow]: ...


class MembersRepo(Protocol):
    def folded_since(self, day: date) -> list[MembershipRow]:
        """Memberships whose streak was folded through ``day`` or later."""
        ...

    def get(self, member_id: int) -> MemberRow | None: ...

    def find(self, platform: str, workspace: str, user_ref: str) -> MemberRow | None: ...

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
    ) -> list[MembershipRow]: ...

    def stale_streaks(self, before: date, limit: int = 5000) -> list[MembershipRow]:
        """Memberships whose streak was last folded before ``before`` (or never)."""
        ...

    def save_streak(self, channel_id: int, member_id: int, state: StreakState) -> None: ...


class PostsRepo(Protocol):
    def sending_in(self, platform: str, workspace: str, channel_ref: str) -> set[str]:
        """What the channel has claimed and not yet recorded: ``post`` and/or ``reveal``."""
        ...

    def unmark_ahead(self, now: datetime) -> dict[int, datetime]:
        """Delete days marked missed or skipped by a clock that was ahead (marked after
        ``now``); returns each channel's earliest such scheduled time."""
        ...

    def in_thread(
        self, platform: str, workspace: str, channel_ref: str, thread_ref: str
    ) -> tuple[ChannelRow, PostRow] | None:
        """The daily post whose thread this is, with its channel."""
        ...

    def reveal_in(
        self, platform: str, workspace: str, channel_ref: str, message_ref: str
    ) -> tuple[ChannelRow, PostRow] | None:
        """The daily post whose reveal is ``message_ref``, with its channel."""
        ...

    def get(self, post_id: int) -> PostRow | None: ...

    def on_date(self, channel_id: int, local_date: date) -> PostRow | None: ...

    def latest(self, channel_id: int) -> PostRow | None:
        """The most recent post that reached the platform."""
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

    def stale_intents(self, claimed_before: datetime) -> list[PostRow]: ...

    def used_in_cycle(self, channel_id: int, cycle: int) -> set[str]: ...

    def recent_topics(self, channel_id: int, limit: int = 30) -> list[str]:
        """Topics of recent posts, oldest first."""
        ...

    def forgiven_dates(self, channel_id: int, since: date) -> set[date]:
        """Local dates the bot failed to post (missed) or an admin skipped."""
        ...

    def count(self, channel_id: int, status: str = "posted") -> int: ...

    def take_due_reveals(self, now: datetime, limit: int = 100) -> list[PostRow]: ...

    def claim_reveal(self, post_id: int, now: datetime, stale_before: datetime) -> bool:
        """Move the reveal to ``intent``; a stale intent may be taken over."""
        ...

    def record_reveal(self, post_id: int, reveal_ref: str, at: datetime) -> bool: ...

    def stale_reveals(self, claimed_before: datetime) -> list[PostRow]: ...


class LeaderboardsRepo(Protocol):
    def unmark_ahead(self, now: datetime) -> list[int]:
        """Delete weeks marked missed or skipped by a clock that was ahead (marked after
        ``now``); returns their channels."""
        ...

    def claim(self, channel_id: int, week_start: date, now: datetime, status: str) -> bool: ...

    def record(self, channel_id: int, week_start: date, ref: str, now: datetime) -> bool: ...

    def stale_intents(self, claimed_before: datetime) -> list[tuple[int, date]]: ...

    def reclaim(
        self, channel_id: int, week_start: date, now: datetime, before: datetime
    ) -> bool: ...

    def set_status(self, channel_id: int, week_start: date, status: str) -> None: ...


class AnswersRepo(Protocol):
    def get(self, post_id: int, member_id: int) -> AnswerRow | None: ...

    def by_message(self, post_id: int, message_ref: str) -> AnswerRow | None: ...

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

    def for_post(self, post_id: int) -> list[AnswerRow]: ...


class ReviewsRepo(Protocol):
    def backlog(self, now: datetime) -> int:
        """Reviewed cards due now, across members (the follow-up backlog)."""
        ...

    """Grades on reveals, the full review log, and each member's card schedules."""

    def grade_of(self, post_id: int, member_id: int) -> GradeRow | None: ...

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

    def history(self, member_id: int, card_key: str) -> list[tuple[Grade, datetime]]: ...

    def retention_by_topic(self, member_id: int) -> list[tuple[str, int, int]]:
        """(card_key, reviews, recalled) per card, non-voided; services group by topic."""
        ...

    def state(self, member_id: int, card_key: str) -> StoredCardState | None: ...

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

    def states_for(self, member_id: int) -> list[StoredCardState]: ...

    def hold(self, member_id: int, card_key: str, since: datetime) -> None: ...

    def due(self, now: datetime, per_member: int = 5, limit: int = 1000) -> list[DueCard]:
        """Due, reviewed cards of members who take follow-ups and have no open one for it."""
        ...

    def count_due(self, member_id: int, now: datetime) -> int: ...


class QuizzesRepo(Protocol):
    def start(
        self, member_id: int, topic: str | None, card_keys: list[str], now: datetime
    ) -> int: ...

    def get(self, quiz_id: int) -> QuizRow | None: ...

    def save(self, quiz: QuizRow, now: datetime) -> None: ...


class ActivityRepo(Protocol):
    def week_top(
        self, channel_id: int, week: date, places: int, *, on_time: bool = False
    ) -> list[tuple[str, int]]:
        """(name, score) of everyone placed in the top ``places`` for the week, ties kept."""
        ...

    def earned_by_kind(self, member_id: int, local_date: date, kinds: list[str]) -> dict[str, int]:
        """Points each kind earned on a day (one query for several kinds)."""
        ...

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

    def kept_days(self, member_id: int, since: date) -> set[date]: ...

    def total_points(self, member_id: int) -> int: ...

    def week_points(self, member_id: int, week: date) -> int: ...


class StreakAuditRepo(Protocol):
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

    def repairs(self, channel_id: int, member_id: int) -> dict[date, int]:
        """The last repair per effective date (later repairs of a day win)."""
        ...


class NoticesRepo(Protocol):
    def add(self, channel_id: int, key: str, text: str, now: datetime) -> bool: ...

    def gather(
        self, channel_id: int, prefix: str, text: str, now: datetime, not_before: datetime
    ) -> str: ...

    def due(self, now: datetime, claimed_before: datetime, limit: int = 200) -> list[NoticeRow]: ...

    def claim(self, notice: NoticeRow, now: datetime, claimed_before: datetime) -> bool: ...

    def record(self, channel_id: int, key: str, ref: str, now: datetime) -> bool: ...


class Tx(Protocol):
    """One transaction, with a repository per area."""

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

    async def read(self, fn: Callable[[Tx], T]) -> T: ...

    async def ping(self) -> bool: ...

    async def keep_registered(self) -> None: ...

    async def table_sizes(self) -> dict[str, int]: ...

    async def checkpoint(self) -> None:
        """Make deleted rows unreadable in the database files too (SQLite: move the
        write-ahead log into the database and truncate it)."""
        ...

    async def close(self) -> None: ...
