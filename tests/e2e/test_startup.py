"""Every configuration or environment problem at start is one line naming it, exit 2,
never a traceback."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from tests.e2e.test_console import studybot

pytestmark = pytest.mark.e2e
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
ROOT_REASON = "root ignores file modes, so the file cannot be made unreadable"


def assert_one_error_line(stderr: str, *expected: str) -> None:
    assert "Traceback" not in stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("studybot: error: "), stderr
    for part in expected:
        assert part in last, last


def test_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {
            "STUDYBOT_HTTP_ENABLED": "true",
            "STUDYBOT_HTTP_HOST": "127.0.0.1",
            "STUDYBOT_HTTP_PORT": str(port),
        }
        result = studybot(tmp_path, "", "run", "--db", str(tmp_path / "x.db"), env=env)
    assert result.returncode == 2
    assert_one_error_line(
        result.stderr, f"cannot listen on 127.0.0.1:{port}", "in use", "STUDYBOT_HTTP_PORT"
    )


def test_a_damaged_database_is_one_line(tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"SQLite format 3\x00" + b"\xff" * 8192)
    result = studybot(tmp_path, "", "run", "--db", str(damaged))
    assert result.returncode == 2
    assert_one_error_line(result.stderr, "cannot open the database", "not a database")


def test_a_bad_default_timezone_is_one_line(tmp_path: Path) -> None:
    env = {"STUDYBOT_DEFAULT_TZ": "Mars/Olympus"}
    result = studybot(tmp_path, "", "run", "--db", str(tmp_path / "x.db"), env=env)
    assert result.returncode == 2
    assert_one_error_line(result.stderr, "STUDYBOT_DEFAULT_TZ", "Mars/Olympus")


@pytest.mark.skipif(AS_ROOT, reason=ROOT_REASON)
def test_an_unreadable_database_is_one_line(tmp_path: Path) -> None:
    locked = tmp_path / "locked.db"
    studybot(tmp_path, "", "run", "--db", str(locked))  # a real database
    locked.chmod(0o000)
    try:
        result = studybot(tmp_path, "", "run", "--db", str(locked))
    finally:
        locked.chmod(0o600)
    assert result.returncode == 2
    assert_one_error_line(result.stderr, "cannot read and write the database", "ermission")


@pytest.mark.skipif(AS_ROOT, reason=ROOT_REASON)
def test_a_read_only_database_folder_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    studybot(tmp_path, "", "run", "--db", str(folder / "x.db"))
    folder.chmod(0o555)
    try:
        result = studybot(tmp_path, "", "run", "--db", str(folder / "x.db"))
    finally:
        folder.chmod(0o755)
    assert result.returncode == 2
    assert_one_error_line(result.stderr, "cannot write files in the database folder")
