"""FSRS parameter history per (platform, workspace, deck): srs_parameters.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "srs_parameters",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("workspace", sa.String(length=64), nullable=False),
        sa.Column("deck", sa.String(length=80), nullable=False),
        sa.Column("parameters", sa.Text(), nullable=False),
        sa.Column("desired_retention", sa.Float(), nullable=False),
        sa.Column("reviews_used", sa.Integer(), nullable=False),
        sa.Column("log_loss_current", sa.Float(), nullable=True),
        sa.Column("log_loss_fitted", sa.Float(), nullable=True),
        sa.Column("adopted", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_srs_parameters")),
    )
    with op.batch_alter_table("srs_parameters", schema=None) as batch_op:
        batch_op.create_index(
            "ix_srs_parameters_key",
            ["platform", "workspace", "deck", "created_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("srs_parameters", schema=None) as batch_op:
        batch_op.drop_index("ix_srs_parameters_key")
    op.drop_table("srs_parameters")
