"""The schema, as SQLAlchemy Core tables. Alembic migrations must match it (a test checks).

Every exactly-once rule of DESIGN.md is a unique constraint here:
one daily post per (channel, local date), one answer per (post, member), one grade per
(post's reveal, member), one processed event per (platform, event id), one follow-up per
(member, card, due instant), one leaderboard per (channel, week), one notice per
(channel, key), one activity row per (member, kind, reference).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[object]):
    """Aware UTC datetimes in, aware UTC datetimes out (SQLite stores naive text)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: object, dialect: object) -> object:
        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise ValueError("naive datetime given to the store; use aware UTC")
            return value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: object, dialect: object) -> object:
        if isinstance(value, datetime):
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value


def _id() -> Column[int]:
    return Column("id", Integer, primary_key=True, autoincrement=True)


def _instance(name: str) -> Column[int]:
    """The instance (``instances.id``) that owns a claim: not a member, and not a foreign
    key, since a claim outlives the row of an instance that is gone."""
    return Column(name, Integer, info={"references": "instances"})


def _member_fk() -> Column[int]:
    return Column(
        "member_id", Integer, ForeignKey("members.id", ondelete="CASCADE"), nullable=False
    )


def _channel_fk(nullable: bool = False) -> Column[int]:
    return Column(
        "channel_id", Integer, ForeignKey("channels.id", ondelete="CASCADE"), nullable=nullable
    )


channels = Table(
    "channels",
    metadata,
    _id(),
    Column("platform", String(16), nullable=False),
    Column("workspace", String(64), nullable=False),
    Column("channel_ref", String(64), nullable=False),
    Column("name", String(120)),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("paused", Boolean, nullable=False, default=False),
    Column("pause_reason", String(300)),
    Column("tz", String(64), nullable=False),
    Column("post_time", String(5), nullable=False),
    Column("days", String(20), nullable=False),
    Column("reveal", String(10), nullable=False),
    Column("leaderboard_day", Integer, nullable=False, default=0),
    Column("leaderboard_time", String(5), nullable=False, default="09:00"),
    Column("decks", Text, nullable=False, default=""),
    Column("topics", Text, nullable=False, default=""),
    Column("levels", Text, nullable=False, default=""),
    Column("catchups", Boolean, nullable=False, default=True),
    Column("share", Boolean, nullable=False, default=True),
    Column("source", String(10), nullable=False, default="admin"),
    Column("cycle", Integer, nullable=False, default=1),
    Column("set_up_by", Integer),
    Column("next_post_at", UTCDateTime),
    Column("next_leaderboard_at", UTCDateTime),
    _instance("post_taken_by"),  # the instance walking its due posts (ADR 0011)
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("platform", "workspace", "channel_ref"),
    Index("ix_channels_next_post_at", "next_post_at"),
    Index("ix_channels_next_leaderboard_at", "next_leaderboard_at"),
)

members = Table(
    "members",
    metadata,
    _id(),
    Column("platform", String(16), nullable=False),
    Column("workspace", String(64), nullable=False),
    Column("user_ref", String(64), nullable=False),
    Column("name", String(120), nullable=False),
    Column("tz", String(64)),
    Column("followups_paused", Boolean, nullable=False, default=False),
    Column("dm_blocked_until", UTCDateTime),
    Column("dm_block_reason", String(300)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_active_at", UTCDateTime),
    Column("catchups_off", Boolean, nullable=False, default=False),
    Column("study_days", String(20)),
    Column("next_batch_at", UTCDateTime),
    Column("next_due_at", UTCDateTime),
    UniqueConstraint("platform", "workspace", "user_ref"),
    Index("ix_members_next_due_at", "next_due_at"),
)

channel_members = Table(
    "channel_members",
    metadata,
    _channel_fk(),
    _member_fk(),
    Column("joined_on", Date, nullable=False),
    Column("streak_current", Integer, nullable=False, default=0),
    Column("streak_best", Integer, nullable=False, default=0),
    Column("streak_freezes", Integer, nullable=False, default=0),
    Column("streak_progress", Integer, nullable=False, default=0),
    Column("streak_through", Date),
    PrimaryKeyConstraint("channel_id", "member_id"),
    Index("ix_channel_members_member_id", "member_id"),
)

daily_posts = Table(
    "daily_posts",
    metadata,
    _id(),
    _channel_fk(),
    Column("local_date", Date, nullable=False),
    Column("card_key", String(160)),
    Column("topic", String(60)),
    Column("cycle", Integer, nullable=False, default=1),
    Column("new_cycle", Boolean, nullable=False, default=False),
    Column("status", String(10), nullable=False),
    Column("scheduled_for", UTCDateTime),
    Column("claimed_at", UTCDateTime),
    Column("claim_token", String(40)),
    _instance("claimed_by"),  # the instance that owns the intent (migration 0008)
    Column("caught_up", Boolean, nullable=False, default=False),
    # A missed day an admin posted late on purpose: sent, and still forgiven.
    Column("forgiven", Boolean, nullable=False, default=False),
    Column("posted_at", UTCDateTime),
    Column("message_ref", String(64)),
    Column("thread_ref", String(64)),
    Column("reveal_due_at", UTCDateTime),
    Column("reveal_status", String(10), nullable=False, default="pending"),
    Column("reveal_claimed_at", UTCDateTime),
    _instance("reveal_claimed_by"),
    Column("reveal_ref", String(64)),
    Column("revealed_at", UTCDateTime),
    UniqueConstraint("channel_id", "local_date"),
    Index("ix_daily_posts_thread_ref", "thread_ref"),
    Index("ix_daily_posts_reveal_ref", "reveal_ref"),
    Index("ix_daily_posts_reveal_due", "reveal_status", "reveal_due_at"),
    Index("ix_daily_posts_card", "channel_id", "cycle"),
)

answers = Table(
    "answers",
    metadata,
    _id(),
    Column("post_id", Integer, ForeignKey("daily_posts.id", ondelete="CASCADE"), nullable=False),
    _member_fk(),
    Column("message_ref", String(64)),
    Column("text", Text, nullable=False),
    Column("before_reveal", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("post_id", "member_id"),
    Index("ix_answers_message_ref", "message_ref"),
    Index("ix_answers_member_id", "member_id"),
)

reviews = Table(
    "reviews",
    metadata,
    _id(),
    _member_fk(),
    Column("card_key", String(160), nullable=False),
    Column("grade", Integer, nullable=False),
    Column("reviewed_at", UTCDateTime, nullable=False),
    Column("kind", String(10), nullable=False),
    Column("ref", String(80), nullable=False),
    Column("voided", Boolean, nullable=False, default=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("kind", "ref"),
    Index("ix_reviews_member_card", "member_id", "card_key"),
)

grades = Table(
    "grades",
    metadata,
    Column("post_id", Integer, ForeignKey("daily_posts.id", ondelete="CASCADE"), nullable=False),
    _member_fk(),
    Column("grade", Integer, nullable=False),
    Column("emoji", String(64), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("post_id", "member_id"),
)

card_states = Table(
    "card_states",
    metadata,
    _member_fk(),
    Column("card_key", String(160), nullable=False),
    Column("state", Integer, nullable=False),
    Column("stability", Float),
    Column("difficulty", Float),
    Column("due_at", UTCDateTime, nullable=False),
    Column("last_review", UTCDateTime),
    Column("reps", Integer, nullable=False, default=0),
    Column("lapses", Integer, nullable=False, default=0),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("origin_channel_id", Integer, ForeignKey("channels.id", ondelete="SET NULL")),
    Column("held_since", UTCDateTime),
    PrimaryKeyConstraint("member_id", "card_key"),
    Index("ix_card_states_due_at", "due_at"),
    Index("ix_card_states_member_due", "member_id", "due_at"),
)

followups = Table(
    "followups",
    metadata,
    _id(),
    _member_fk(),
    Column("card_key", String(160), nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("status", String(10), nullable=False),
    Column("local_date", Date, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    _instance("claimed_by"),
    Column("sent_at", UTCDateTime),
    Column("message_ref", String(64)),
    Column("shown_at", UTCDateTime),
    Column("graded_at", UTCDateTime),
    Column("grade", Integer),
    Column("kind", String(10), nullable=False, default="review"),
    Column("attempt", Integer, nullable=False, default=0),
    Column("expires_at", UTCDateTime),
    Column("post_id", Integer, ForeignKey("daily_posts.id", ondelete="SET NULL")),
    UniqueConstraint("member_id", "card_key", "due_at", "attempt"),
    Index("ix_followups_member_day", "member_id", "local_date"),
    Index("ix_followups_member_card", "member_id", "card_key"),
    Index("ix_followups_status_expires", "status", "expires_at"),
    sqlite_autoincrement=True,  # a button's id never names a later row (migration 0007)
)

quiz_sessions = Table(
    "quiz_sessions",
    metadata,
    _id(),
    _member_fk(),
    Column("topic", String(60)),
    Column("card_keys", Text, nullable=False),
    Column("position", Integer, nullable=False, default=0),
    Column("shown", Boolean, nullable=False, default=False),
    Column("grades", Text, nullable=False, default=""),
    Column("status", String(10), nullable=False, default="open"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    sqlite_autoincrement=True,
)

activity = Table(
    "activity",
    metadata,
    _id(),
    _member_fk(),
    Column("kind", String(20), nullable=False),
    Column("ref", String(80), nullable=False),
    Column("local_date", Date, nullable=False),
    Column("points", Integer, nullable=False),
    Column("keeps_day", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("member_id", "kind", "ref"),
    Index("ix_activity_member_day", "member_id", "local_date", "kind"),
)

weekly_points = Table(
    "weekly_points",
    metadata,
    _member_fk(),
    Column("week_start", Date, nullable=False),
    Column("points", Integer, nullable=False, default=0),
    Column("on_time_reviews", Integer, nullable=False, default=0),
    PrimaryKeyConstraint("member_id", "week_start"),
    Index("ix_weekly_points_week", "week_start"),
)

leaderboards = Table(
    "leaderboards",
    metadata,
    _channel_fk(),
    Column("week_start", Date, nullable=False),
    Column("status", String(10), nullable=False),
    Column("claimed_at", UTCDateTime),
    _instance("claimed_by"),
    Column("message_ref", String(64)),
    Column("posted_at", UTCDateTime),
    PrimaryKeyConstraint("channel_id", "week_start"),
)

notices = Table(
    "notices",
    metadata,
    _channel_fk(),
    Column("key", String(80), nullable=False),
    Column("text", Text, nullable=False),
    Column("status", String(10), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("not_before", UTCDateTime),
    Column("claimed_at", UTCDateTime),
    _instance("claimed_by"),
    Column("message_ref", String(64)),
    Column("posted_at", UTCDateTime),
    PrimaryKeyConstraint("channel_id", "key"),
    Index("ix_notices_status", "status", "claimed_at"),
)
"""One-off public notes of the bot's own (a missed day, a settings summary): one row per
(channel, key), claimed before it is sent and looked up by its key after a crash."""

processed_events = Table(
    "processed_events",
    metadata,
    Column("platform", String(16), nullable=False),
    Column("event_id", String(120), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("platform", "event_id"),
    Index("ix_processed_events_received_at", "received_at"),
)

inbox = Table(
    "inbox",
    metadata,
    _id(),
    Column("platform", String(16), nullable=False),
    Column("event_id", String(120), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("payload", Text, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("taken_at", UTCDateTime),
    _instance("taken_by"),
    Column("handled_at", UTCDateTime),
    Column("error", Text),
    UniqueConstraint("platform", "event_id"),
    Index("ix_inbox_open", "handled_at", "received_at"),
)

instances = Table(
    "instances",
    metadata,
    _id(),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    sqlite_autoincrement=True,  # an id is never handed out twice: claims name their owner by it
)
"""One row per running bot process. A claim names its owner by this id; the owner holds a
lock that its death releases (docs/adr/0011-claims-owned-by-live-instances.md)."""

streak_audit = Table(
    "streak_audit",
    metadata,
    _id(),
    _channel_fk(),
    _member_fk(),
    Column("effective_date", Date, nullable=False),
    Column("old_value", Integer, nullable=False),
    Column("new_value", Integer, nullable=False),
    Column("actor", String(120), nullable=False),
    Column("reason", String(300), nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
)

# FSRS parameter history: one row per tune run and (platform, workspace, deck), adopted
# or not. The newest adopted row of a key is in use; desired_retention is the retention
# in force after that run (docs/adr/0006).
srs_parameters = Table(
    "srs_parameters",
    metadata,
    _id(),
    Column("platform", String(16), nullable=False),
    Column("workspace", String(64), nullable=False),
    Column("deck", String(80), nullable=False),
    Column("parameters", Text, nullable=False),
    Column("desired_retention", Float, nullable=False),
    Column("reviews_used", Integer, nullable=False),
    Column("log_loss_current", Float),
    Column("log_loss_fitted", Float),
    Column("adopted", Boolean, nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_srs_parameters_key", "platform", "workspace", "deck", "created_at"),
)
