"""PostgreSQL, bad input: each problem stops the bot with one line naming it."""

from __future__ import annotations

import asyncio
import sys

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.app import open_store
from bot.core.errors import ConfigError
from tests import pg


async def refused(url: str) -> str:
    with pytest.raises(ConfigError) as caught:
        await open_store(url)  # never opens: nothing to close
    message = str(caught.value)
    assert "\n" not in message, message  # one line
    return message


async def test_no_driver_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if the extra were not installed
    message = await refused("postgresql+psycopg://u:p@127.0.0.1/db")
    assert "pip install 'studybot[postgres]'" in message


async def test_an_unreachable_server_and_wrong_credentials_are_one_line() -> None:
    message = await refused("postgresql+psycopg://u:secret@127.0.0.1:1/db")
    assert "cannot open the database" in message and "secret" not in message
    base = make_url(pg.server_url())
    message = await refused(base.set(username="nobody").render_as_string(hide_password=False))
    assert "nobody" in message


async def test_another_applications_database_is_refused_and_left_alone() -> None:
    url = await asyncio.to_thread(pg.fresh_database)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE invoices (id integer primary key)"))
        message = await refused(url)
        assert "another application's tables (invoices" in message
        with engine.connect() as conn:  # nothing of ours was created
            tables = conn.execute(
                text("SELECT table_name FROM information_schema.tables WHERE table_schema='public'")
            ).scalars()
            assert set(tables) == {"invoices"}
    finally:
        engine.dispose()
        await asyncio.to_thread(pg.drop_database, url)


async def test_instances_starting_together_on_an_empty_database_all_come_up() -> None:
    url = await asyncio.to_thread(pg.fresh_database)
    try:
        # Without the migration lock these deadlock or fail; with it they queue.
        starting = asyncio.gather(*(open_store(url) for _ in range(4)))
        stores = await asyncio.wait_for(starting, timeout=60)
        for store in stores:
            assert await store.read(lambda tx: tx.channels.count()) == 0
            await store.close()
    finally:
        await asyncio.to_thread(pg.drop_database, url)
