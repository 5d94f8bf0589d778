"""Backups and restores: checked copies, retention, and refusals that change nothing."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.errors import ConfigError
from bot.scheduler.jobs import backup_job
from bot.store import backup
from bot.store.sql import SqlStore

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


async def make_db(path: Path, marker: str) -> Path:
    store = await SqlStore.open(f"sqlite+aiosqlite:///{path}")
    await store.write(lambda tx: tx.events.claim("test", marker, NOW))
    await store.close()
    return path


def markers(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [r[0] for r in conn.execute("SELECT event_id FROM processed_events")]


async def test_backup_to_a_folder_then_restore(tmp_path: Path) -> None:
    db = await make_db(tmp_path / "live.db", "before")
    folder = tmp_path / "backups"
    folder.mkdir()
    copy = backup.backup(db, folder, NOW)
    assert copy.name == "studybot-20260302-030000.db"
    assert markers(copy) == ["before"]
    other = await make_db(tmp_path / "other.db", "other")
    backup.restore(other, db)
    assert markers(db) == ["other"]
    backup.restore(copy, db)
    assert markers(db) == ["before"]


async def test_a_corrupt_or_foreign_file_is_refused_and_nothing_changes(tmp_path: Path) -> None:
    db = await make_db(tmp_path / "live.db", "keep")
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(db.read_bytes()[:4096] + b"\x00garbage" * 2000)
    text = tmp_path / "notes.db"
    text.write_text("not a database")
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE t (x)")
    for bad, message in (
        (corrupt, "corrupt database"),
        (text, "not an SQLite database"),
        (foreign, "not a studybot database"),
        (tmp_path / "missing.db", "no such backup"),
    ):
        with pytest.raises(ConfigError, match=message):
            backup.restore(bad, db)
    assert markers(db) == ["keep"]


async def test_restore_refuses_while_a_bot_runs(tmp_path: Path) -> None:
    db = await make_db(tmp_path / "live.db", "live")
    other = await make_db(tmp_path / "other.db", "other")
    with backup.in_use(db), pytest.raises(ConfigError, match="in use by a running studybot"):
        backup.restore(other, db)
    assert markers(db) == ["live"]


async def test_an_unwritable_backup_path_is_one_line(tmp_path: Path) -> None:
    db = await make_db(tmp_path / "live.db", "x")
    with pytest.raises(ConfigError, match="cannot write the backup") as info:
        backup.backup(db, tmp_path / "missing" / "folder" / "copy.db", NOW)
    assert "\n" not in str(info.value)


async def test_the_nightly_job_keeps_the_newest_n(tmp_path: Path) -> None:
    db = await make_db(tmp_path / "live.db", "x")
    folder = tmp_path / "backups"
    now = [NOW]
    job = backup_job(db, folder, 3, lambda: now[0], None)
    for day in range(5):
        now[0] = NOW + timedelta(days=day)
        made = await job.run()
        assert made is not None
        os.utime(made, (now[0].timestamp(), now[0].timestamp()))  # type: ignore[arg-type]
        assert await job.run() is None  # once a day, not every hour
    assert [p.name for p in sorted(folder.iterdir())] == [
        "studybot-20260304-030000.db",
        "studybot-20260305-030000.db",
        "studybot-20260306-030000.db",
    ]


def test_the_cli_backs_up_and_restores_with_one_line_errors(tmp_path: Path) -> None:
    db = asyncio.run(make_db(tmp_path / "live.db", "cli"))

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args, "--db", str(db)],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            check=False,
            timeout=60,
        )

    ok = cli("backup", str(tmp_path / "copy.db"))
    assert ok.returncode == 0, ok.stderr
    assert "integrity_check ok" in ok.stdout
    bad = cli("backup", str(tmp_path / "no" / "such" / "dir" / "x.db"))
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1
    corrupt = tmp_path / "bad.db"
    corrupt.write_text("garbage")
    refused = cli("restore", str(corrupt))
    assert refused.returncode == 2
    assert refused.stderr.strip() == f"studybot: error: not an SQLite database: {corrupt}"
    assert markers(db) == ["cli"]
    restored = cli("restore", str(tmp_path / "copy.db"))
    assert restored.returncode == 0, restored.stderr
