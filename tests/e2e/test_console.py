"""End to end: ``studybot run`` in a subprocess, driven through stdin like a person."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import IO

import pytest

from tests.conftest import TEST_CONTENT

pytestmark = pytest.mark.e2e

DAY = """\
/as alice
/study setup days=daily reveal=+2h
/study post-now
Threads share one interpreter; the GIL serialises bytecode.
/as bob
Processes sidestep the GIL at the cost of pickling.
/as alice
/study reveal-now
+:white_check_mark:
/as bob
+:x:
+:rocket:
/quiz gamma 1
5
8
/study streak
/as alice
/study leaderboard
/study quiz-me-please
/quiz cooking
"""


def studybot(
    tmp_path: Path, script: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {
        **os.environ,
        "STUDYBOT_CONTENT_DIR": str(TEST_CONTENT),
        "STUDYBOT_DEFAULT_TZ": "UTC",
        "STUDYBOT_LOG_FORMAT": "json",
        **(env or {}),
    }
    for name in (
        "SLACK_BOT_TOKEN",
        "DISCORD_TOKEN",
        "STUDYBOT_SLACK_BOT_TOKEN",
        "STUDYBOT_DISCORD_TOKEN",
    ):
        full_env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=script,
        capture_output=True,
        text=True,
        timeout=60,
        env=full_env,
        cwd=tmp_path,
        check=False,
    )


def test_a_whole_day_on_the_console(tmp_path: Path) -> None:
    db = tmp_path / "day.db"
    result = studybot(tmp_path, DAY, "run", "--db", str(db))
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "studies together now" in out and "mon-sun at 09:30" in out
    assert "📚 Question of the day" in out
    assert re.search(r"Key points at today \d\d:\d\d UTC", out)  # local time, with day and zone
    assert "studybot:post" not in out  # no internal key in text
    assert out.count("Answer recorded (+15 points).") == 2
    assert "studybot reacted 📝" in out
    assert "💡 Key points" in out
    assert "2 answered" in out
    assert "Graded Good" in out
    assert "Graded Easy" in out
    assert "Quiz: 1 card on gamma." in out
    assert "Quiz done: you recalled 1 of 1." in out
    assert "Your streak: 1 day" in out
    assert "1. bob: 18 pts" in out  # 10 + 5 early + 2 grade + 1 quiz card
    assert "2. alice: 17 pts" in out
    assert "Unknown subcommand 'quiz-me-please'" in out
    assert "Unknown topic 'cooking'" in out

    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*), min(status) FROM daily_posts").fetchone() == (
            1,
            "posted",
        )
        assert conn.execute("SELECT reveal_status FROM daily_posts").fetchone() == ("posted",)
        assert conn.execute("SELECT count(*) FROM answers").fetchone() == (2,)
        grades = conn.execute(
            "SELECT m.name, g.grade FROM grades g JOIN members m ON m.id = g.member_id ORDER BY m.name"
        ).fetchall()
        assert grades == [("alice", 3), ("bob", 4)]
        assert conn.execute("SELECT count(*) FROM reviews WHERE kind = 'quiz'").fetchone() == (1,)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    # One structured log line per handled interaction.
    lines = [line for line in result.stderr.splitlines() if '"event": "interaction"' in line]
    assert len(lines) >= 15
    assert '"action": "study:post-now"' in result.stderr


def test_a_restart_keeps_everything(tmp_path: Path) -> None:
    db = tmp_path / "restart.db"
    first = studybot(
        tmp_path, "/study setup days=daily\n/study post-now\nmy answer\n", "run", "--db", str(db)
    )
    assert first.returncode == 0, first.stderr
    second = studybot(tmp_path, "/study post-now\n/study stats\n", "run", "--db", str(db))
    assert second.returncode == 0, second.stderr
    assert "is already posted" in second.stdout
    assert "15 this week" in second.stdout
    assert "📚 Question of the day" not in second.stdout


def test_a_broken_setting_stops_with_one_line(tmp_path: Path) -> None:
    result = studybot(
        tmp_path, "", "run", "--db", str(tmp_path / "x.db"), env={"STUDYBOT_POST_TIME": "25:99"}
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "studybot: error: invalid setting STUDYBOT_POST_TIME: Invalid time '25:99': use 24-hour HH:MM, for example 09:30."
    ]


def test_an_unwritable_database_path_stops_with_one_line(tmp_path: Path) -> None:
    result = studybot(tmp_path, "", "run", "--db", str(tmp_path / "missing" / "x.db"))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "database folder does not exist" in result.stderr


def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.db"
    bogus.write_text("these are my notes, not a database\n" * 10)
    result = studybot(tmp_path, "", "run", "--db", str(bogus))
    assert result.returncode == 2
    assert "not an SQLite database" in result.stderr
    assert bogus.read_text().startswith("these are my notes")


def test_content_check_reports_counts_and_errors(tmp_path: Path) -> None:
    ok = studybot(tmp_path, "", "content", "check", str(TEST_CONTENT))
    assert ok.returncode == 0
    assert "testdeck: 9 cards" in ok.stdout
    assert "alpha" in ok.stdout and "ok: 9 cards" in ok.stdout
    broken = tmp_path / "decks" / "bad"
    broken.mkdir(parents=True)
    (broken / "deck.yaml").write_text("id: bad\ntitle: Bad\ndescription: d\ntopics: {t: x}\n")
    (broken / "t.yaml").write_text("- id: c1\n  topic: t\n  level: mid\n  question: q\n")
    bad = studybot(tmp_path, "", "content", "check", str(tmp_path))
    assert bad.returncode == 1
    assert f"{broken / 't.yaml'}:1: key_points: Field required" in bad.stderr


def test_the_bundled_deck_is_used_by_default(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "STUDYBOT_CONTENT_DIR"}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "content", "check"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "python-system-design:" in result.stdout
    assert "sources: 203 of 203 covered" in result.stdout


def _read_until(stream: IO[str], text: str, *, timeout: float) -> str:
    """Lines from ``stream`` up to the first that contains ``text`` (or the timeout).

    A thread reads, so a slow start-up is waited for without blocking past the deadline;
    it stops right after ``text``, leaving the rest of the stream to the caller.
    """
    import queue
    import threading
    import time

    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line)
            if text in line:
                return
        lines.put("")  # end of output

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        seen.append(line)
        if not line or text in line:
            break
    return "".join(seen)


def test_clock_speed_lets_the_scheduler_post_by_itself(tmp_path: Path) -> None:
    """At --clock-speed 600 a post due in two hours of bot time comes in 12 seconds.

    The bot's clock counts from a fixed epoch (now), so a loaded machine that takes a few
    seconds to read the setup line still sets it up before the post is due (with the post
    ten bot minutes ahead, one slow second of start-up made it tomorrow's)."""
    import time
    from datetime import UTC, datetime, timedelta

    epoch = datetime.now(UTC).replace(microsecond=0)
    soon = (epoch + timedelta(hours=2, minutes=1)).strftime("%H:%M")
    env = {
        **os.environ,
        "STUDYBOT_CONTENT_DIR": str(TEST_CONTENT),
        "STUDYBOT_DEFAULT_TZ": "UTC",
        "STUDYBOT_LOG_FORMAT": "json",
        "STUDYBOT_TICK_SECONDS": "30",
    }
    errors = (tmp_path / "stderr.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot",
            "run",
            "--db",
            str(tmp_path / "fast.db"),
            "--clock-speed",
            "600",
            "--clock-epoch",
            epoch.isoformat(),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=errors,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert proc.stdin is not None
    proc.stdin.write(f"/study setup days=daily time={soon}\n")
    proc.stdin.flush()
    assert proc.stdout is not None
    # Wait for the post however slow the start-up is (a loaded machine), then give the
    # scheduler 20 more minutes of bot time in which a second post would show up.
    seen = _read_until(proc.stdout, "📚 Question of the day", timeout=90)
    time.sleep(2)
    proc.stdin.close()
    with proc.stdout:
        out = seen + proc.stdout.read()
    assert proc.wait(timeout=30) == 0, (tmp_path / "stderr.log").read_text()
    errors.close()
    assert out.count("📚 Question of the day") == 1


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_console_cleanly(tmp_path: Path, sig: str) -> None:
    import signal
    import time

    env = {**os.environ, "STUDYBOT_CONTENT_DIR": str(TEST_CONTENT), "STUDYBOT_LOG_FORMAT": "json"}
    for name in ("SLACK_BOT_TOKEN", "DISCORD_TOKEN"):
        env.pop(name, None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--db", str(tmp_path / "sig.db")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert proc.stdout is not None
    banner = proc.stdout.readline()  # the console is up and reading
    assert "studybot console" in banner
    time.sleep(0.3)
    proc.send_signal(getattr(signal, sig))
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert '"event": "stopped"' in err


def test_after_days_away_the_console_says_what_was_missed_and_can_post_it(
    tmp_path: Path,
) -> None:
    """Two runs on one database: set up today, come back two days later. The channel gets
    one note naming the missed days as forgiven; post-now asks to confirm, then posts."""
    from datetime import UTC, datetime, timedelta

    db = str(tmp_path / "away.db")
    first = studybot(tmp_path, "/as alice\n/study setup days=daily time=00:30\n", "run", "--db", db)
    assert first.returncode == 0, first.stderr
    assert "studies together now" in first.stdout
    # Back at 06:00 UTC two days on (a clock at double speed: bot time = 2 wall - epoch).
    now = datetime.now(UTC)
    back = (now + timedelta(days=2)).replace(hour=6, minute=0, second=0, microsecond=0)
    epoch = now + (now - back)
    again = studybot(
        tmp_path,
        "/as alice\n/study post-now\n/study post-now confirm\n",
        "run",
        "--db",
        db,
        "--clock-speed",
        "2",
        "--clock-epoch",
        epoch.isoformat(),
    )
    out = again.stdout
    assert again.returncode == 0, again.stderr
    assert out.count("📭 I missed the questions of") == 1, out  # one note for the outage
    assert "forgiven: nobody's streak suffers" in out
    assert "I could not post at today 00:30 UTC" not in out  # the first missed day is older
    assert "An admin can still post today's question late: /study post-now confirm." in out
    assert "To post it late on purpose, type /study post-now confirm" in out
    assert out.count("📚 Question of the day") == 1
    assert "Posted the question of" in out
