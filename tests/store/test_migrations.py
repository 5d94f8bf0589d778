"""Alembic owns the schema: migrations must produce exactly the tables the code declares."""

from datetime import UTC, date, datetime
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from bot.store.engine import _alembic_config, upgrade_on
from bot.store.sql import SqlStore, SqlTx
from bot.store.tables import metadata


async def test_migrated_schema_matches_the_tables(tmp_path: Path) -> None:
    store = await SqlStore.open(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    try:
        diff = await store.run_sync(
            lambda conn: compare_metadata(MigrationContext.configure(conn), metadata),
            write=False,
        )
        assert diff == []
    finally:
        await store.close()


async def test_upgrade_is_idempotent_and_sets_wal(tmp_path: Path) -> None:
    store = await SqlStore.open(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")

    def check(conn: Connection) -> tuple[str, int, str]:
        upgrade_on(conn)
        return (
            conn.execute(text("PRAGMA journal_mode")).scalar_one(),
            conn.execute(text("PRAGMA busy_timeout")).scalar_one(),
            conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one(),
        )

    try:
        mode, busy, version = await store.run_sync(check)
        assert mode == "wal"
        assert busy >= 5000
        head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
        assert head is not None and head >= "0003"
        assert version == head
    finally:
        await store.close()


NEVER_REUSED = {"followups", "quiz_sessions", "instances"}
"""Tables whose ids are names that must never come back (0007, and 0008's instances)."""


async def test_ids_never_reused_migration_keeps_every_row(tmp_path: Path) -> None:
    """0007 rebuilds two tables on SQLite: down and up again, their rows and ids stay,
    and only then does SQLite remember the largest id ever used."""
    store = await SqlStore.open(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    now = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)

    def fill(tx: SqlTx) -> list[int]:
        member = tx.members.ensure("fake", "T1", "U1", "Alice", None, now)
        ids = [
            tx.followups.claim(member.id, f"d/c{i}", now, date(2025, 3, 3), now) for i in range(3)
        ]
        tx.quizzes.start(member.id, None, ["d/c1"], now)
        return [i for i in ids if i is not None]

    def migrate(conn: Connection, revision: str) -> None:
        config = _alembic_config()
        config.attributes["connection"] = conn
        if revision == "head":
            command.upgrade(config, revision)
        else:
            command.downgrade(config, revision)

    def autoincrement(conn: Connection) -> set[str]:
        rows = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'table'"))
        return {name for name, sql in rows if "AUTOINCREMENT" in sql}

    def rows(conn: Connection) -> tuple[list[int], int]:
        followups = conn.execute(text("SELECT id FROM followups ORDER BY id")).scalars()
        quizzes = conn.execute(text("SELECT count(*) FROM quiz_sessions")).scalar_one()
        return list(followups), quizzes

    try:
        ids = await store.write(fill)
        assert await store.run_sync(autoincrement, write=False) == NEVER_REUSED
        await store.run_sync(lambda conn: migrate(conn, "0006"))
        assert await store.run_sync(autoincrement, write=False) == set()
        assert await store.run_sync(rows, write=False) == (ids, 1)
        await store.run_sync(lambda conn: migrate(conn, "head"))
        assert await store.run_sync(autoincrement, write=False) == NEVER_REUSED
        assert await store.run_sync(rows, write=False) == (ids, 1)
        integrity = await store.run_sync(
            lambda conn: conn.execute(text("PRAGMA foreign_key_check")).all(), write=False
        )
        assert integrity == []
    finally:
        await store.close()
