"""Alembic owns the schema: migrations must produce exactly the tables the code declares."""

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from bot.store.engine import _alembic_config, upgrade_on
from bot.store.sql import SqlStore
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
