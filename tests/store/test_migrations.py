"""Alembic owns the schema: migrations must produce exactly the tables the code declares."""

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from bot.store.engine import upgrade
from bot.store.sql import SqlStore
from bot.store.tables import metadata


async def test_migrated_schema_matches_the_tables(tmp_path: Path) -> None:
    store = await SqlStore.open(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    try:
        async with store.engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
            )
        assert diff == []
    finally:
        await store.close()


async def test_upgrade_is_idempotent_and_sets_wal(tmp_path: Path) -> None:
    store = await SqlStore.open(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    try:
        await upgrade(store.engine)
        async with store.engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar_one() == "wal"
            assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar_one() >= 5000
            version = (
                await conn.execute(text("SELECT version_num FROM alembic_version"))
            ).scalar_one()
            assert version == "0001"
    finally:
        await store.close()
