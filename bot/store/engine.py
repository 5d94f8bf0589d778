"""Opening the database: the engine, SQLite pragmas, and Alembic upgrades."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.core.errors import ConfigError

BUSY_TIMEOUT_MS = 15_000
MIGRATIONS = Path(__file__).with_name("migrations")
WRITE = "studybot_write"


def _sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def check_sqlite_path(url: str) -> None:
    """Fail early, with one line, when the database file cannot be created or opened."""
    path = _sqlite_path(url)
    if path is None:
        return
    folder = path.parent if str(path.parent) else Path()
    if not folder.is_dir():
        raise ConfigError(f"database folder does not exist: {folder} (from STUDYBOT_DB_URL)")
    if path.exists():
        if path.is_dir():
            raise ConfigError(f"database path is a folder, not a file: {path}")
        with path.open("rb") as handle:
            header = handle.read(16)
        if header and header != b"SQLite format 3\x00":
            raise ConfigError(f"not an SQLite database: {path}")
        return
    probe = folder / f".{path.name}.probe"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(f"cannot create the database in {folder}: {exc.strerror}") from None


def create_engine(url: str) -> AsyncEngine:
    """An async engine; on SQLite with WAL, a busy timeout and ``BEGIN IMMEDIATE`` writes."""
    check_sqlite_path(url)
    is_sqlite = make_url(url).drivername.startswith("sqlite")
    connect_args: dict[str, Any] = {"timeout": BUSY_TIMEOUT_MS / 1000} if is_sqlite else {}
    engine = create_async_engine(url, connect_args=connect_args)
    if is_sqlite:
        sync = engine.sync_engine

        @event.listens_for(sync, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy's begin event below issue BEGIN itself (pysqlite's own
            # transaction handling would defer it and ignore IMMEDIATE).
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(sync, "begin")
        def _on_begin(conn: Connection) -> None:
            immediate = conn.get_execution_options().get(WRITE, False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _upgrade(connection: Connection) -> None:
    config = _alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def upgrade(engine: AsyncEngine) -> None:
    """Apply every Alembic migration not yet applied (idempotent)."""
    try:
        async with engine.connect() as conn:
            await conn.execution_options(**{WRITE: True})
            async with conn.begin():
                await conn.run_sync(_upgrade)
    except DBAPIError as exc:
        original = exc.orig
        if isinstance(original, sqlite3.DatabaseError):
            raise ConfigError(f"cannot open the database: {original}") from None
        raise


def current_revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()
