"""PostgreSQL, bad input: each problem stops the bot with one line naming it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

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
            assert (await store.table_sizes())["channels"] == 0
            await store.close()
    finally:
        await asyncio.to_thread(pg.drop_database, url)


def test_studybot_backup_on_postgresql_says_what_to_use_instead(tmp_path: Path) -> None:
    env = {**os.environ, "STUDYBOT_DB_URL": "postgresql+psycopg://u:p@127.0.0.1:1/db"}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "backup", str(tmp_path / "copy.db")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "use pg_dump" in lines[0], done.stderr
    assert not (tmp_path / "copy.db").exists()


async def test_nightly_backups_on_postgresql_are_never_skipped_silently(tmp_path: Path) -> None:
    from structlog.testing import capture_logs

    from bot import app as application
    from bot.config import load_settings
    from tests.conftest import TEST_CONTENT

    url = await asyncio.to_thread(pg.fresh_database)
    try:
        settings = load_settings(
            db_url=url, content_dir=TEST_CONTENT, backup_dir=tmp_path / "backups"
        )
        with capture_logs() as logs:
            async with application.build(settings, console=False) as built:
                assert "backup" not in [job.name for job in built.scheduler._jobs]
        (line,) = [e for e in logs if e["event"] == "backups_not_run"]
        assert "pg_dump" in line["reason"]
    finally:
        await asyncio.to_thread(pg.drop_database, url)
