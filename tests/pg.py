"""A real PostgreSQL server for the tests: ``STUDYBOT_TEST_POSTGRES_URL`` if set, else one
started from the ``pgserver`` wheel (PostgreSQL 16, no root, no system packages; a dev
dependency, so the PostgreSQL half of a suite never skips). Each test gets a database of
its own, created from nothing and dropped after."""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
import warnings
from collections.abc import AsyncIterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

_started: list[Any] = []


def stop_server() -> None:
    """Stop the server this session started (pytest_sessionfinish): pgserver's own exit
    hook does not run under pytest, and each run would leave a postgres behind."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        while _started:
            _started.pop().cleanup()


@cache
def server_url() -> str:
    given = os.environ.get("STUDYBOT_TEST_POSTGRES_URL")
    if given:
        return given
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        import pgserver  # a dev dependency: an ImportError is a broken install, not a skip

        folder = tempfile.mkdtemp(prefix="studybot-pg-")
        server = pgserver.get_server(folder, cleanup_mode="delete")
        _started.append(server)
    socket_dir = make_url(server.get_uri()).query["host"]
    return f"postgresql+psycopg://postgres:@/postgres?host={socket_dir}"


def fresh_database(server: str | None = None) -> str:
    """The URL of a new, empty database on ``server`` (default: the test server)."""
    base = make_url(server or server_url())
    name = f"t_{uuid.uuid4().hex[:16]}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def drop_database(url: str, server: str | None = None) -> None:
    parsed = make_url(url)
    engine = create_engine(make_url(server or server_url()), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_url_on_both(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Use as ``db_url`` (``from tests.pg import db_url_on_both as db_url``): the tests
    of a module run on SQLite and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'studybot.db'}"
        return
    url = await asyncio.to_thread(fresh_database)
    try:
        yield url
    finally:
        await asyncio.to_thread(drop_database, url)
