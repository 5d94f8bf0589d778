"""Backups of the SQLite database: online copies, retention, checked restores.

``backup`` uses SQLite's online backup API (safe while the bot runs, WAL included) and
checks the copy with ``PRAGMA integrity_check``. ``restore`` checks the file first and
refuses while any studybot process has the database open: every running bot holds a
shared ``flock`` on ``<database>.lock``, and restore needs it exclusively.
"""

from __future__ import annotations

import fcntl
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from bot.core.errors import ConfigError

PREFIX = "studybot-"
SUFFIX = ".db"


def _check(path: Path) -> None:
    """The file is an SQLite database of ours and passes ``integrity_check``."""
    if not path.is_file():
        raise ConfigError(f"no such backup file: {path}")
    with path.open("rb") as handle:
        if handle.read(16) != b"SQLite format 3\x00":
            raise ConfigError(f"not an SQLite database: {path}")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = conn.execute("PRAGMA integrity_check").fetchone()
            tables = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"corrupt database {path}: {exc}") from None
    if result != ("ok",):
        raise ConfigError(f"corrupt database {path}: integrity_check says {result[0]!r}")
    if "alembic_version" not in tables or "daily_posts" not in tables:
        raise ConfigError(f"not a studybot database: {path}")


def backup(database: Path, destination: Path, now: datetime) -> Path:
    """Copy ``database`` to ``destination`` (a file, or a folder for a dated name)."""
    if not database.is_file():
        raise ConfigError(f"no database to back up at {database}")
    target = destination
    if destination.is_dir():
        target = destination / f"{PREFIX}{now.strftime('%Y%m%d-%H%M%S')}{SUFFIX}"
    partial = target.with_name(target.name + ".partial")
    try:
        source = sqlite3.connect(database)
        try:
            copy = sqlite3.connect(partial)
            try:
                source.backup(copy)
                # A backup is one self-contained file: no -wal/-shm beside it.
                copy.execute("PRAGMA journal_mode=DELETE")
            finally:
                copy.close()
        finally:
            source.close()
    except (sqlite3.OperationalError, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise ConfigError(f"cannot write the backup to {target}: {exc}") from None
    try:
        _check(partial)
    except ConfigError:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(target)
    return target


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` dated backups in ``folder``; return the deleted."""
    dated = sorted(folder.glob(f"{PREFIX}*{SUFFIX}"))
    old = dated[:-keep] if keep > 0 else dated
    for path in old:
        path.unlink(missing_ok=True)
    return old


def newest(folder: Path) -> Path | None:
    dated = sorted(folder.glob(f"{PREFIX}*{SUFFIX}"))
    return dated[-1] if dated else None


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


@contextmanager
def in_use(database: Path) -> Iterator[None]:
    """Held by a running bot: a shared lock that makes restore refuse."""
    handle = lock_path(database).open("a")
    try:
        fcntl.flock(handle, fcntl.LOCK_SH)
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def restore(source: Path, database: Path) -> None:
    """Replace ``database`` with ``source`` after checking it; never while in use."""
    _check(source)
    if not database.parent.is_dir():
        raise ConfigError(f"database folder does not exist: {database.parent}")
    with lock_path(database).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(
                f"the database {database} is in use by a running studybot; stop it first"
            ) from None
        try:
            staged = database.with_name(database.name + ".restoring")
            _copy(source, staged)
            for suffix in ("-wal", "-shm"):
                Path(f"{database}{suffix}").unlink(missing_ok=True)
            staged.replace(database)
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _copy(source: Path, target: Path) -> None:
    conn = sqlite3.connect(source)
    try:
        copy = sqlite3.connect(target)
        try:
            conn.backup(copy)
        finally:
            copy.close()
    finally:
        conn.close()
