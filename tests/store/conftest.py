"""One contract suite, every backend: add a backend here and the whole suite runs on it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store.sql import SqlStore
from tests import pg


@pytest.fixture(params=["sqlite", "postgresql"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqlStore]:
    """Each test on SQLite and on a real PostgreSQL server (tests/pg.py), on a database
    of its own."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'contract.db'}"
    else:
        url = await asyncio.to_thread(pg.fresh_database)
    store = await SqlStore.open(url)
    try:
        yield store
    finally:
        await store.close()
        if request.param == "postgresql":
            await asyncio.to_thread(pg.drop_database, url)
