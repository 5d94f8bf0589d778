"""Follow-ups that expire and come back, catch-ups of missed questions, paced batches.

- followups: ``kind`` (review | catchup), ``attempt`` (re-sends of one due card),
  ``expires_at``, ``post_id`` (the daily post a catch-up stands for); one row per
  (member, card, due instant, attempt).
- members: ``last_active_at`` (the newest study action), ``catchups_off``,
  ``study_days`` (own follow-up days), ``next_batch_at`` (when the next batch may go),
  ``next_due_at`` (the member's earliest sendable due card, kept by the store, so a
  dispatch pages through ready members instead of scanning every due card).
- card_states: ``held_since`` (re-sends used up: waits for the member's next active day).
- channels: ``catchups`` (missed questions reach members later by DM).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # next_due_at starts empty and is filled below from the existing card states.
    with op.batch_alter_table("followups", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=10), nullable=False, server_default="review")
        )
        batch_op.add_column(sa.Column("attempt", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("post_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_followups_post_id_daily_posts"),
            "daily_posts",
            ["post_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.drop_constraint("uq_followups_member_id", type_="unique")
        batch_op.create_unique_constraint(
            op.f("uq_followups_member_id"), ["member_id", "card_key", "due_at", "attempt"]
        )
        batch_op.create_index("ix_followups_member_card", ["member_id", "card_key"], unique=False)
        batch_op.create_index("ix_followups_status_expires", ["status", "expires_at"], unique=False)
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_active_at", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("catchups_off", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("study_days", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("next_batch_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("next_due_at", sa.DateTime(), nullable=True))
        batch_op.create_index("ix_members_next_due_at", ["next_due_at"], unique=False)
    with op.batch_alter_table("card_states", schema=None) as batch_op:
        batch_op.add_column(sa.Column("held_since", sa.DateTime(), nullable=True))
        batch_op.create_index("ix_card_states_member_due", ["member_id", "due_at"], unique=False)
    op.execute(
        "UPDATE members SET next_due_at = (SELECT min(due_at) FROM card_states"
        " WHERE card_states.member_id = members.id AND card_states.reps > 0)"
    )
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("catchups", sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade() -> None:
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.drop_column("catchups")
    with op.batch_alter_table("card_states", schema=None) as batch_op:
        batch_op.drop_index("ix_card_states_member_due")
        batch_op.drop_column("held_since")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index("ix_members_next_due_at")
        for column in (
            "next_due_at",
            "next_batch_at",
            "study_days",
            "catchups_off",
            "last_active_at",
        ):
            batch_op.drop_column(column)
    with op.batch_alter_table("followups", schema=None) as batch_op:
        batch_op.drop_index("ix_followups_status_expires")
        batch_op.drop_index("ix_followups_member_card")
        batch_op.drop_constraint("uq_followups_member_id", type_="unique")
        batch_op.create_unique_constraint(
            op.f("uq_followups_member_id"), ["member_id", "card_key", "due_at"]
        )
        batch_op.drop_constraint("fk_followups_post_id_daily_posts", type_="foreignkey")
        for column in ("post_id", "expires_at", "attempt", "kind"):
            batch_op.drop_column(column)
