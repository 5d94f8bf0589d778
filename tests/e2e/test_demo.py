"""End to end: ``studybot run --clock-speed N`` is a demo on a database of its own, with
the bot's clock shown on the console."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from tests.e2e.test_console import studybot

pytestmark = pytest.mark.e2e

SCRIPT = "/study setup days=daily\n/study post-now\n/study status\n"
CLOCK = re.compile(r"^\[demo (Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} [A-Z][a-z]{2} \d\d:\d\d UTC\]$")


def test_a_fast_clock_uses_a_demo_database_and_shows_the_time(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    env = {"STUDYBOT_DB_URL": f"sqlite+aiosqlite:///{data / 'studybot.db'}"}
    result = studybot(tmp_path, SCRIPT, "run", "--clock-speed", "600", env=env)
    assert result.returncode == 0, result.stderr
    demo = data / "studybot-demo.db"
    assert f"studybot: demo clock at 600x: using {demo}" in result.stderr
    assert not (data / "studybot.db").exists()  # the real database is never created
    with sqlite3.connect(demo) as conn:
        assert conn.execute("SELECT count(*) FROM daily_posts").fetchone() == (1,)

    lines = result.stdout.splitlines()
    shown = [i for i, line in enumerate(lines) if CLOCK.match(line)]
    assert len(shown) >= 3  # setup's reply, the post, post-now's reply, the status
    post = next(i for i, line in enumerate(lines) if "Question of the day" in line)
    assert post - 2 in shown  # the clock line, the post's header, then the post
    assert not any(line.startswith("[demo") and not CLOCK.match(line) for line in lines)


def test_an_explicit_db_wins_and_a_normal_clock_shows_no_clock(tmp_path: Path) -> None:
    chosen = tmp_path / "mine.db"
    fast = studybot(tmp_path, SCRIPT, "run", "--clock-speed", "600", "--db", str(chosen))
    assert fast.returncode == 0, fast.stderr
    assert chosen.exists()
    assert not list(tmp_path.glob("*demo*"))
    assert "demo clock" not in fast.stderr
    assert any(CLOCK.match(line) for line in fast.stdout.splitlines())

    normal = studybot(tmp_path, SCRIPT, "run", "--db", str(chosen))
    assert normal.returncode == 0, normal.stderr
    assert "[demo" not in normal.stdout
