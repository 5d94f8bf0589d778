"""Rows the store hands to services: plain frozen dataclasses, no database types."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.core.models import ChannelSettings, Grade, Target
from bot.core.srs import CardState
from bot.core.streaks import StreakState


@dataclass(frozen=True, slots=True)
class ChannelRow:
    id: int
    platform: str
    workspace: str
    channel_ref: str
    name: str | None
    enabled: bool
    paused: bool
    pause_reason: str | None
    settings: ChannelSettings
    source: str
    cycle: int
    next_post_at: datetime | None
    next_leaderboard_at: datetime | None
    set_up_by: int | None = None
    """The member who last ran /study setup here (told if the channel gets paused)."""

    def target(self, thread: str | None = None) -> Target:
        return Target(self.platform, self.workspace, self.channel_ref, thread)


@dataclass(frozen=True, slots=True)
class MemberRow:
    id: int
    platform: str
    workspace: str
    user_ref: str
    name: str
    tz: str | None
    followups_paused: bool
    dm_blocked_until: datetime | None
    dm_block_reason: str | None
    last_active_at: datetime | None = None
    catchups_off: bool = False
    study_days: frozenset[int] | None = None
    next_batch_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PostRow:
    id: int
    channel_id: int
    local_date: date
    card_key: str | None
    topic: str | None
    cycle: int
    new_cycle: bool
    status: str
    """intent | posted | missed | skipped"""
    scheduled_for: datetime | None
    claimed_at: datetime | None
    claim_token: str | None
    caught_up: bool
    posted_at: datetime | None
    message_ref: str | None
    thread_ref: str | None
    reveal_due_at: datetime | None
    reveal_status: str
    """pending | intent | posted"""
    reveal_claimed_at: datetime | None
    reveal_ref: str | None
    revealed_at: datetime | None


@dataclass(frozen=True, slots=True)
class AnswerRow:
    id: int
    post_id: int
    member_id: int
    message_ref: str | None
    text: str
    before_reveal: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class GradeRow:
    post_id: int
    member_id: int
    grade: Grade
    emoji: str


@dataclass(frozen=True, slots=True)
class StoredCardState:
    member_id: int
    card_key: str
    state: CardState
    first_seen: datetime
    origin_channel_id: int | None


@dataclass(frozen=True, slots=True)
class FollowupRow:
    id: int
    member_id: int
    card_key: str
    due_at: datetime
    status: str
    """intent | sent | shown | graded | expired | replaced"""
    local_date: date
    sent_at: datetime | None
    message_ref: str | None
    graded_at: datetime | None
    grade: Grade | None
    kind: str = "review"
    """review (a due card) | catchup (a daily question the member missed)"""
    attempt: int = 0
    expires_at: datetime | None = None
    post_id: int | None = None
    created_at: datetime | None = None

    @property
    def key(self) -> str:
        """The send key the DM carries, so a re-send can find it first."""
        return followup_key(self.id)


@dataclass(frozen=True, slots=True)
class QuizRow:
    id: int
    member_id: int
    topic: str | None
    card_keys: tuple[str, ...]
    position: int
    shown: bool
    grades: tuple[Grade, ...]
    status: str
    """open | done"""


@dataclass(frozen=True, slots=True)
class MembershipRow:
    channel_id: int
    member: MemberRow
    joined_on: date
    streak: StreakState


def followup_key(followup_id: int) -> str:
    """The send key a follow-up DM carries, so a re-send can look it up first."""
    return f"followup:{followup_id}"


@dataclass(frozen=True, slots=True)
class DueCard:
    member: MemberRow
    card_key: str
    due_at: datetime
    origin_channel_id: int | None
    kind: str = "review"
    post_id: int | None = None


@dataclass(frozen=True, slots=True)
class InboxRow:
    """An inbound platform event, stored before it was acknowledged."""

    id: int
    platform: str
    event_id: str
    kind: str
    payload: str
    """JSON, as the adapter wrote it."""
    received_at: datetime
    attempts: int


@dataclass(frozen=True, slots=True)
class NoticeRow:
    """A one-off public note of the bot's own, sent once per (channel, key)."""

    channel_id: int
    key: str
    text: str
    status: str
    claimed_at: datetime | None
