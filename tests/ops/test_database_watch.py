"""The database file is watched: deleted, replaced, unwritable or on a full disk turns
``/readyz`` red, refuses writes and stops the bot non-zero, so the supervisor restarts it."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from structlog.testing import capture_logs

from bot import app as application
from bot.config import load_settings
from bot.store import backup
from bot.store.sql import SqlStore
from bot.store.watch import DatabaseUnusable, DatabaseWatch
from tests.conftest import TEST_CONTENT


async def made_database(path: Path) -> None:
    store = await SqlStore.open(f"sqlite+aiosqlite:///{path}")
    await store.close()


async def test_the_watch_names_each_problem(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    await made_database(path)
    free = [10**9]
    watch = DatabaseWatch(path, free_bytes=lambda _folder: free[0])
    watch.arm()
    assert watch.check() is None
    free[0] = 4096
    assert "full" in (DatabaseWatch(path, free_bytes=lambda _f: 4096).check() or "")
    path.rename(tmp_path / "moved.db")
    (tmp_path / "moved.db").rename(path)  # the same file back: still fine
    assert watch.check() is None or "full" in watch.check()  # type: ignore[operator]

    replaced = DatabaseWatch(path)
    replaced.arm()
    copy = tmp_path / "copy.db"
    copy.write_bytes(path.read_bytes())
    copy.replace(path)  # another file under the same name
    assert "replaced" in (replaced.check() or "")

    deleted = DatabaseWatch(path)
    deleted.arm()
    path.unlink()
    assert "deleted" in (deleted.check() or "")


def test_a_write_that_fails_because_the_disk_is_full_counts(tmp_path: Path) -> None:
    watch = DatabaseWatch(tmp_path / "x.db")
    watch.write_failed(sqlite3.IntegrityError("UNIQUE constraint failed"))
    assert watch._write_error is None  # one write's own problem
    watch.write_failed(sqlite3.OperationalError("database or disk is full"))
    assert "disk is full" in (watch.check() or "")


def settings(tmp_path: Path, **extra: object) -> object:
    return load_settings(
        db_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        content_dir=TEST_CONTENT,
        http_enabled=True,
        http_host="127.0.0.1",
        http_port=0,
        default_tz="UTC",
        tick_seconds=3600,
        **extra,
    )


async def readyz(app: application.App) -> tuple[int, dict[str, object]]:
    assert app.http is not None and app.http.port is not None
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{app.http.port}/readyz") as response,
    ):
        return response.status, await response.json()


async def test_a_deleted_database_turns_ready_red_and_refuses_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(application, "WATCH_SECONDS", 3600.0)  # the test looks itself
    async with application.build(settings(tmp_path), console=False) as app:  # type: ignore[arg-type]
        task = asyncio.create_task(application.run(app))
        try:
            await asyncio.sleep(0.3)
            assert (await readyz(app))[0] == 200
            (tmp_path / "bot.db").unlink()
            status, body = await readyz(app)
            assert status == 503 and body["checks"] == {"database": False}
            with pytest.raises(DatabaseUnusable, match="deleted"):
                await app.store.write(lambda tx: tx.events.claim("x", "y", app.clock.now()))
        finally:
            app.stop.set()
            await task


async def test_a_replaced_database_stops_the_bot_non_zero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(application, "WATCH_SECONDS", 0.05)
    with capture_logs() as logs:
        async with application.build(settings(tmp_path), console=False) as app:  # type: ignore[arg-type]
            task = asyncio.create_task(application.run(app))
            await asyncio.sleep(0.3)
            assert not task.done()
            path = tmp_path / "bot.db"
            copy = tmp_path / "other.db"
            copy.write_bytes(path.read_bytes())
            copy.replace(path)
            code = await asyncio.wait_for(task, 10)
    assert code == application.EXIT_DATABASE != 0
    (line,) = [e for e in logs if e["event"] == "database_unusable"]
    assert "replaced" in line["problem"]


async def test_a_missing_database_with_backups_warns_in_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    old = tmp_path / "old.db"
    await made_database(old)
    made = backup.backup(old, folder, datetime(2026, 11, 30, tzinfo=UTC))
    with capture_logs() as logs:
        async with application.build(
            settings(tmp_path, backup_dir=folder),  # type: ignore[arg-type]
            console=False,
        ):
            pass
    (line,) = [e for e in logs if e["event"] == "database_missing_backups_exist"]
    assert line["newest_backup"] == str(made) and "studybot restore" in line["hint"]
    with capture_logs() as again:  # the database exists now: nothing to say
        async with application.build(settings(tmp_path, backup_dir=folder), console=False):  # type: ignore[arg-type]
            pass
    assert not [e for e in again if e["event"] == "database_missing_backups_exist"]
