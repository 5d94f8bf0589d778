"""The store port: a unit of work with one small repository per area.

``Store.write()`` opens a write transaction (serialised; committed on success, rolled
back on error), ``Store.read()`` a read-only one. Services see only these protocols;
``bot.store.sql.SqlStore`` implements them, and the contract suite in
``tests/store/test_contract.py`` runs against every backend.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import date, datetime
from typing import Any, Protocol

from bot.core.models import ChannelSettings, Grade
from bot.core.srs import CardState
from bot.core.streaks import StreakState
from bot.ports.records import (
    AnswerRow,
    ChannelRow,
    DueCard,
    FollowupRow,
    GradeRow,
    MemberRow,
    MembershipRow,
    PostRow,
    QuizRow,
    StoredCardState,
    WeekRow,
)


class ChannelsRepo(Protocol):
    async def get(self, channel_id: int) -> ChannelRow | None: ...

    async def find(self, platform: str, workspace: str, channel_ref: str) -> ChannelRow | None: ...

    async def save(
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
    ) -> ChannelRow:
        """Insert or update a channel's settings (and enable it)."""
        ...

    async def set_paused(self, channel_id: int, paused: bool, reason: str | None) -> None: ...

    async def set_next(
        self,
        channel_id: int,
        *,
        post_at: datetime | None = None,
        leaderboard_at: datetime | None = None,
        cycle: int | None = None,
    ) -> None: ...

    async def due_posts(self, now: datetime, limit: int = 500) -> list[ChannelRow]: ...

    async def due_leaderboards(self, now: datetime, limit: int = 500) -> list[ChannelRow]: ...

    async def count(self) -> int: ...


class MembersRepo(Protocol):
    async def get(self, member_id: int) -> MemberRow | None: ...

    async def find(self, platform: str, workspace: str, user_ref: str) -> MemberRow | None: ...

    async def find_by_name(self, platform: str, workspace: str, name: str) -> MemberRow | None: ...

    async def ensure(
        self, platform: str, workspace: str, user_ref: str, name: str, tz: str | None, now: datetime
    ) -> MemberRow:
        """The member, created on first sight; name and timezone follow the platform."""
        ...

    async def first_id(self, platform: str, workspace: str) -> int | None: ...

    async def set_followups_paused(self, member_id: int, paused: bool) -> None: ...

    async def block_dm(
        self, member_id: int, until: datetime | None, reason: str | None
    ) -> None: ...

    async def delete(self, member_id: int) -> None: ...

    async def join(self, channel_id: int, member_id: int, joined_on: date) -> None: ...

    async def memberships(
        self, *, channel_id: int | None = None, member_id: int | None = None
    ) -> list[MembershipRow]: ...

    async def stale_streaks(self, before: date, limit: int = 5000) -> list[MembershipRow]:
        """Memberships whose streak was last folded before ``before`` (or never)."""
        ...

    async def save_streak(self, channel_id: int, member_id: int, state: StreakState) -> None: ...


class PostsRepo(Protocol):
    async def get(self, post_id: int) -> PostRow | None: ...

    async def on_date(self, channel_id: int, local_date: date) -> PostRow | None: ...

    async def by_thread(self, channel_id: int, thread_ref: str) -> PostRow | None: ...

    async def by_reveal(self, channel_id: int, message_ref: str) -> PostRow | None: ...

    async def latest(self, channel_id: int) -> PostRow | None:
        """The most recent post that reached the platform."""
        ...

    async def claim(
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

    async def reclaim(self, post_id: int, token: str, now: datetime, old_token: str | None) -> bool:
        """Take over a stale intent (only if nobody else took it since we looked)."""
        ...

    async def record_posted(
        self,
        post_id: int,
        *,
        message_ref: str,
        thread_ref: str,
        posted_at: datetime,
        reveal_due_at: datetime,
        caught_up: bool,
    ) -> None: ...

    async def set_status(self, post_id: int, status: str) -> None: ...

    async def stale_intents(self, claimed_before: datetime) -> list[PostRow]: ...

    async def used_in_cycle(self, channel_id: int, cycle: int) -> set[str]: ...

    async def recent_topics(self, channel_id: int, limit: int = 30) -> list[str]:
        """Topics of recent posts, oldest first."""
        ...

    async def forgiven_dates(self, channel_id: int, since: date) -> set[date]:
        """Local dates the bot failed to post (missed) or an admin skipped."""
        ...

    async def count(self, channel_id: int, status: str = "posted") -> int: ...

    async def due_reveals(self, now: datetime, limit: int = 500) -> list[PostRow]: ...

    async def claim_reveal(self, post_id: int, now: datetime, stale_before: datetime) -> bool:
        """Move the reveal to ``intent``; a stale intent may be taken over."""
        ...

    async def record_reveal(self, post_id: int, reveal_ref: str, at: datetime) -> None: ...

    async def release_reveal(self, post_id: int) -> None: ...

    async def stale_reveals(self, claimed_before: datetime) -> list[PostRow]: ...


class LeaderboardsRepo(Protocol):
    async def claim(
        self, channel_id: int, week_start: date, now: datetime, status: str
    ) -> bool: ...

    async def record(self, channel_id: int, week_start: date, ref: str, now: datetime) -> None: ...

    async def status(self, channel_id: int, week_start: date) -> str | None: ...


class AnswersRepo(Protocol):
    async def get(self, post_id: int, member_id: int) -> AnswerRow | None: ...

    async def by_message(self, post_id: int, message_ref: str) -> AnswerRow | None: ...

    async def add(
        self,
        post_id: int,
        member_id: int,
        *,
        message_ref: str | None,
        text: str,
        before_reveal: bool,
        now: datetime,
    ) -> bool: ...

    async def set_text(self, answer_id: int, text: str, now: datetime) -> None: ...

    async def delete(self, answer_id: int) -> None: ...

    async def for_post(self, post_id: int) -> list[AnswerRow]: ...

    async def for_member(self, member_id: int) -> list[AnswerRow]: ...


class ReviewsRepo(Protocol):
    """Grades on reveals, the full review log, and each member's card schedules."""

    async def grade_of(self, post_id: int, member_id: int) -> GradeRow | None: ...

    async def set_grade(
        self, post_id: int, member_id: int, grade: Grade, emoji: str, now: datetime
    ) -> None: ...

    async def remove_grade(self, post_id: int, member_id: int) -> None: ...

    async def log(
        self, member_id: int, card_key: str, grade: Grade, at: datetime, kind: str, ref: str
    ) -> None:
        """Record (or replace, or restore) the review identified by (kind, ref)."""
        ...

    async def void(self, kind: str, ref: str, now: datetime) -> None: ...

    async def history(self, member_id: int, card_key: str) -> list[tuple[Grade, datetime]]: ...

    async def all_for(self, member_id: int) -> list[dict[str, Any]]: ...

    async def retention_by_topic(self, member_id: int) -> list[tuple[str, int, int]]:
        """(card_key, reviews, recalled) per card, non-voided; services group by topic."""
        ...

    async def state(self, member_id: int, card_key: str) -> StoredCardState | None: ...

    async def save_state(
        self,
        member_id: int,
        card_key: str,
        state: CardState,
        *,
        first_seen: datetime,
        origin_channel_id: int | None,
    ) -> None: ...

    async def delete_state(self, member_id: int, card_key: str) -> None: ...

    async def states_for(self, member_id: int) -> list[StoredCardState]: ...

    async def due(self, now: datetime, limit: int = 1000) -> list[DueCard]:
        """Due, reviewed cards of members who take follow-ups and have no open one for it."""
        ...

    async def count_due(self, member_id: int, now: datetime) -> int: ...


class FollowupsRepo(Protocol):
    async def claim(
        self, member_id: int, card_key: str, due_at: datetime, local_date: date, now: datetime
    ) -> int | None: ...

    async def get(self, followup_id: int) -> FollowupRow | None: ...

    async def mark(self, followup_id: int, status: str, **values: Any) -> None: ...

    async def drop(self, followup_id: int) -> None: ...

    async def sent_on(self, member_id: int, local_date: date) -> int: ...

    async def stale_intents(self, created_before: datetime) -> list[FollowupRow]: ...

    async def for_member(self, member_id: int) -> list[FollowupRow]: ...


class QuizzesRepo(Protocol):
    async def start(
        self, member_id: int, topic: str | None, card_keys: list[str], now: datetime
    ) -> int: ...

    async def get(self, quiz_id: int) -> QuizRow | None: ...

    async def save(self, quiz: QuizRow, now: datetime) -> None: ...

    async def open_for(self, member_id: int) -> list[int]: ...


class ActivityRepo(Protocol):
    async def earned(self, member_id: int, local_date: date, kind: str) -> int: ...

    async def add(
        self,
        member_id: int,
        kind: str,
        ref: str,
        *,
        local_date: date,
        points: int,
        keeps_day: bool,
        now: datetime,
        on_time_review: bool = False,
    ) -> bool:
        """Record one study action; ``False`` if (member, kind, ref) was recorded before."""
        ...

    async def remove(self, member_id: int, kind: str, ref: str) -> int:
        """Undo one action (an answer deleted); returns the points taken back."""
        ...

    async def kept_days(self, member_id: int, since: date) -> set[date]: ...

    async def total_points(self, member_id: int) -> int: ...

    async def week_points(self, member_id: int, week: date) -> int: ...

    async def week_table(self, channel_id: int, week: date) -> list[WeekRow]:
        """This week's totals of the channel's members (pre-aggregated; one indexed join)."""
        ...

    async def for_member(self, member_id: int) -> list[dict[str, Any]]: ...


class StreakAuditRepo(Protocol):
    async def record(
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

    async def repairs(self, channel_id: int, member_id: int) -> dict[date, int]:
        """The last repair per effective date (later repairs of a day win)."""
        ...

    async def entries(self, channel_id: int) -> list[dict[str, Any]]: ...


class EventsRepo(Protocol):
    """Inbound platform events already handled: (platform, event id) is claimed once."""

    async def claim(self, platform: str, event_id: str, now: datetime) -> bool: ...

    async def prune(self, before: datetime) -> int: ...


class Tx(Protocol):
    """One transaction, with a repository per area (read-only attributes)."""

    @property
    def channels(self) -> ChannelsRepo: ...

    @property
    def members(self) -> MembersRepo: ...

    @property
    def posts(self) -> PostsRepo: ...

    @property
    def leaderboards(self) -> LeaderboardsRepo: ...

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


class Store(Protocol):
    def write(self) -> AbstractAsyncContextManager[Tx]: ...

    def read(self) -> AbstractAsyncContextManager[Tx]: ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...
