"""The read side of the store port: what ``await store.read(fn)`` hands ``fn``.

Each reader has its repository's queries, the methods that change nothing; the
repositories of ``bot.ports.store`` extend their readers with the writes, so a ``Tx`` is
also a ``ReadTx``. Locking reads (``FOR UPDATE``) belong to the write side. The SQL
store also runs reads in a read-only transaction, so a write there fails at run time.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

from bot.core.models import Grade
from bot.ports.personal import PersonalDataReader
from bot.ports.queues import FollowupsReader, InboxReader
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
from bot.ports.tuning import TuningReader


class ChannelsReader(Protocol):
    def get(self, channel_id: int) -> ChannelRow | None: ...

    def find(self, platform: str, workspace: str, channel_ref: str) -> ChannelRow | None: ...

    def due_leaderboards(self, now: datetime, limit: int = 500) -> list[ChannelRow]: ...


class MembersReader(Protocol):
    def folded_since(self, day: date) -> list[MembershipRow]:
        """Memberships whose streak was folded through ``day`` or later."""
        ...

    def get(self, member_id: int) -> MemberRow | None: ...

    def find(self, platform: str, workspace: str, user_ref: str) -> MemberRow | None: ...

    def memberships(
        self, *, channel_id: int | None = None, member_id: int | None = None
    ) -> list[MembershipRow]: ...

    def stale_streaks(self, before: date, limit: int = 5000) -> list[MembershipRow]:
        """Memberships whose streak was last folded before ``before`` (or never)."""
        ...


class PostsReader(Protocol):
    def sending_in(self, platform: str, workspace: str, channel_ref: str) -> set[str]:
        """What the channel has claimed and not yet recorded: ``post`` and/or ``reveal``."""
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

    def stale_intents(self, claimed_before: datetime) -> list[PostRow]: ...

    def used_in_cycle(self, channel_id: int, cycle: int) -> set[str]: ...

    def recent_topics(self, channel_id: int, limit: int = 30) -> list[str]:
        """Topics of recent posts, oldest first."""
        ...

    def forgiven_dates(self, channel_id: int, since: date) -> set[date]:
        """Local dates the bot failed to post (missed) or an admin skipped."""
        ...

    def count(self, channel_id: int, status: str = "posted") -> int: ...

    def stale_reveals(self, claimed_before: datetime) -> list[PostRow]: ...


class LeaderboardsReader(Protocol):
    def stale_intents(self, claimed_before: datetime) -> list[tuple[int, date]]: ...


class AnswersReader(Protocol):
    def get(self, post_id: int, member_id: int) -> AnswerRow | None: ...

    def by_message(self, post_id: int, message_ref: str) -> AnswerRow | None: ...

    def for_post(self, post_id: int) -> list[AnswerRow]: ...


class ReviewsReader(Protocol):
    def backlog(self, now: datetime) -> int:
        """Reviewed cards due now, across members (the follow-up backlog)."""
        ...

    def grade_of(self, post_id: int, member_id: int) -> GradeRow | None: ...

    def history(self, member_id: int, card_key: str) -> list[tuple[Grade, datetime]]: ...

    def retention_by_topic(self, member_id: int) -> list[tuple[str, int, int]]:
        """(card_key, reviews, recalled) per card, non-voided; services group by topic."""
        ...

    def state(self, member_id: int, card_key: str) -> StoredCardState | None: ...

    def states_for(self, member_id: int) -> list[StoredCardState]: ...

    def due(self, now: datetime, per_member: int = 5, limit: int = 1000) -> list[DueCard]:
        """Due, reviewed cards of members who take follow-ups and have no open one for it."""
        ...

    def count_due(self, member_id: int, now: datetime) -> int: ...


class QuizzesReader(Protocol):
    def get(self, quiz_id: int) -> QuizRow | None: ...


class ActivityReader(Protocol):
    def week_top(
        self, channel_id: int, week: date, places: int, *, on_time: bool = False
    ) -> list[tuple[str, int]]:
        """(name, score) of everyone placed in the top ``places`` for the week, ties kept."""
        ...

    def earned_by_kind(self, member_id: int, local_date: date, kinds: list[str]) -> dict[str, int]:
        """Points each kind earned on a day (one query for several kinds)."""
        ...

    def kept_days(self, member_id: int, since: date) -> set[date]: ...

    def kept_days_in(self, channel_id: int) -> dict[int, set[date]]:
        """Each member of the channel: kept days since their streak was last folded."""
        ...

    def total_points(self, member_id: int) -> int: ...

    def week_points(self, member_id: int, week: date) -> int: ...


class StreakAuditReader(Protocol):
    def repairs(self, channel_id: int, member_id: int) -> dict[date, int]:
        """The last repair per effective date (later repairs of a day win)."""
        ...

    def repairs_in(self, channel_id: int) -> dict[int, dict[date, int]]:
        """``repairs`` of every member of the channel, by member."""
        ...


class NoticesReader(Protocol):
    def due(self, now: datetime, claimed_before: datetime, limit: int = 200) -> list[NoticeRow]: ...


class ReadTx(Protocol):
    """One read-only transaction, with a reader per area (no events: nothing reads them)."""

    @property
    def channels(self) -> ChannelsReader: ...

    @property
    def members(self) -> MembersReader: ...

    @property
    def posts(self) -> PostsReader: ...

    @property
    def leaderboards(self) -> LeaderboardsReader: ...

    @property
    def notices(self) -> NoticesReader: ...

    @property
    def answers(self) -> AnswersReader: ...

    @property
    def reviews(self) -> ReviewsReader: ...

    @property
    def followups(self) -> FollowupsReader: ...

    @property
    def quizzes(self) -> QuizzesReader: ...

    @property
    def activity(self) -> ActivityReader: ...

    @property
    def audit(self) -> StreakAuditReader: ...

    @property
    def tuning(self) -> TuningReader: ...

    @property
    def inbox(self) -> InboxReader: ...

    @property
    def personal(self) -> PersonalDataReader: ...
