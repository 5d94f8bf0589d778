"""Follow-up and quiz ids are never handed out twice (SQLite ``AUTOINCREMENT``).

A button carries its follow-up's or quiz's id (``fu:show:250``). SQLite gives a new row
the largest id plus one, so when the newest row was deleted (a follow-up claim released,
a member forgotten) the next row got its id again, and an old button, or a DM key looked
up after a crash, named the wrong row. With ``AUTOINCREMENT`` SQLite remembers the
largest id ever used. PostgreSQL sequences never reuse ids: nothing to do there.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLES = ("followups", "quiz_sessions")
"""Nothing references these tables, so rebuilding them cascades to nothing."""


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in TABLES:
        # The table is rebuilt as it is, rows and ids copied; only the keyword changes.
        with op.batch_alter_table(
            name, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass


def upgrade() -> None:
    _rebuild(autoincrement=True)


def downgrade() -> None:
    _rebuild(autoincrement=False)
