"""Watching the SQLite file under the bot: deleted, replaced, unwritable, or a full disk.

SQLite keeps writing to a file that was deleted or swapped out from under an open
connection, so without a watch the bot acknowledges answers that are gone on the next
restart. ``DatabaseWatch.check`` compares the path with the file opened at start (device
and inode), checks that the file and its folder can still be written, and that the disk
has room; a write that failed with "disk full", "read-only" or an I/O error counts too.
The app turns ``/readyz`` red, stops taking work and exits non-zero, so the supervisor
restarts it on the real file (or an operator restores a backup).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

MIN_FREE_BYTES = 16 * 1024 * 1024
"""Below this much free space the disk counts as full: SQLite needs room for its WAL."""

FATAL_WRITE_ERRORS = (
    "database or disk is full",
    "attempt to write a readonly database",
    "disk i/o error",
    "file is not a database",
)
"""SQLite error texts that mean the file itself is unusable, not that one write lost."""


class DatabaseUnusable(RuntimeError):
    """A write refused because the database file can no longer be trusted."""


def _free_bytes(folder: Path) -> int:
    return shutil.disk_usage(folder).free


@dataclass
class DatabaseWatch:
    path: Path
    min_free: int = MIN_FREE_BYTES
    free_bytes: Callable[[Path], int] = _free_bytes
    identity: tuple[int, int] | None = None
    problem: str | None = None
    """The first problem seen; it stays (the process is to be restarted)."""
    _write_error: str | None = field(default=None, repr=False)

    def arm(self) -> None:
        """Remember the file the store has opened."""
        st = self.path.stat()
        self.identity = (st.st_dev, st.st_ino)

    def write_failed(self, error: BaseException) -> None:
        """Called with every failed write: some failures mean the file is unusable."""
        text = str(error).lower()
        if any(marker in text for marker in FATAL_WRITE_ERRORS):
            self._write_error = f"a write failed: {str(error)[:200]}"

    def check(self) -> str | None:
        """The problem with the database file now, or None; the first one is kept."""
        if self.problem is None:
            self.problem = self._look()
        return self.problem

    def _look(self) -> str | None:
        if self._write_error is not None:
            return self._write_error
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return f"the database file {self.path} was deleted"
        except OSError as exc:
            return f"the database file {self.path} cannot be read: {exc.strerror}"
        if self.identity is not None and (st.st_dev, st.st_ino) != self.identity:
            return f"the database file {self.path} was replaced by another file"
        folder = self.path.parent
        if not os.access(self.path, os.R_OK | os.W_OK) or not os.access(folder, os.W_OK):
            return f"the database file {self.path} or its folder is no longer writable"
        try:
            free = self.free_bytes(folder)
        except OSError as exc:
            return f"cannot tell the free space for {folder}: {exc.strerror}"
        if free < self.min_free:
            return f"the disk holding {folder} is full ({free // 1024} KiB free)"
        return None
