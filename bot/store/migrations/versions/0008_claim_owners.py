"""Claims name the instance that owns them; ``instances`` lists the running processes.

A claim (a post, a reveal, a leaderboard, a notice, a follow-up DM, an inbox event) is
taken over only when its owner is gone, never because a timer ran out while the owner was
still sending (docs/adr/0011-claims-owned-by-live-instances.md). Rows claimed before this
migration have no owner and keep the old rule: taken over after the lease.
``channels.post_taken_by``: instances split the channels whose posts are due.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

OWNERS = (
    ("channels", "post_taken_by"),
    ("daily_posts", "claimed_by"),
    ("daily_posts", "reveal_claimed_by"),
    ("leaderboards", "claimed_by"),
    ("notices", "claimed_by"),
    ("followups", "claimed_by"),
    ("inbox", "taken_by"),
)


def upgrade() -> None:
    op.create_table(
        "instances",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instances")),
        sqlite_autoincrement=True,
    )
    for table, column in OWNERS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(column, sa.Integer(), nullable=True))


def downgrade() -> None:
    for table, column in reversed(OWNERS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(column)
    op.drop_table("instances")
