"""Export and forget-me on the console, through ``studybot run`` as a person would type."""

from __future__ import annotations

import json
import re
import sqlite3
import stat
from pathlib import Path

import pytest

from tests.e2e.test_console import studybot

pytestmark = pytest.mark.e2e

ANSWER = "Zebulon thinks the GIL & <asyncio> " + "x" * 1500


def test_the_export_is_a_file_whose_path_is_printed(tmp_path: Path) -> None:
    script = f"/as zebulon\n/study setup days=daily\n/study post-now\n{ANSWER}\n/study export\n"
    db = str(tmp_path / "export.db")
    result = studybot(tmp_path, script, "run", "--db", db, env={"TMPDIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    (path,) = re.findall(r"your data, as JSON, is in (\S+)\)", result.stdout)
    exported = Path(path)
    assert stat.S_IMODE(exported.stat().st_mode) == 0o600  # the member's data, theirs only
    assert exported.parent == tmp_path / "exports"  # with the data, beside the database
    assert stat.S_IMODE(exported.parent.stat().st_mode) == 0o700
    assert not list(tmp_path.glob("*.json"))  # nothing left in the working folder
    document = json.loads(exported.read_text(encoding="utf-8"))
    (answer,) = document["tables"]["answers"]
    assert answer["text"] == ANSWER
    assert '"tables"' not in result.stdout  # the JSON is in the file, not on the screen


def members_in_log(stderr: str) -> set[str]:
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    return {line["member"] for line in lines if line.get("event") == "interaction"}


def test_log_lines_name_members_by_a_pseudonym_that_lasts(tmp_path: Path) -> None:
    """Interaction lines carry a keyed hash of the member (the key is kept beside the
    database, owner-only), the same after a restart, never the name."""
    db = str(tmp_path / "log.db")
    first = studybot(tmp_path, "/as zebulon\n/study stats\n", "run", "--db", db)
    second = studybot(tmp_path, "/as zebulon\n/study stats\n", "run", "--db", db)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    (pseudonym,) = members_in_log(first.stderr)
    assert re.fullmatch(r"m-[0-9a-f]{16}", pseudonym)
    assert members_in_log(second.stderr) == {pseudonym}
    assert "zebulon" not in first.stderr.lower()
    key = tmp_path / "log.db.logkey"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


FORGET = f"""\
/as Zebulon
/study setup days=daily
/study post-now
{ANSWER}
/as bob
Processes sidestep the GIL.
/as Zebulon
/study streak bob 3 fixing it
/study pause
/study forget-me confirm
/as bob
/study resume
"""


def test_forget_me_leaves_no_name_and_no_admin_behind(tmp_path: Path) -> None:
    """Zebulon, the console's admin (first to speak), repairs Bob's streak, pauses the
    channel and forgets themself: no log line, row or byte of the database names them, and
    the admin's rights do not pass to Bob, now the oldest member, who speaks next."""
    db = tmp_path / "forget.db"
    result = studybot(tmp_path, FORGET, "run", "--db", str(db))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "everything I stored about you is deleted" in out
    bob = out.split("everything I stored about you is deleted", 1)[1]
    assert "Only workspace admins can pause or resume" in bob
    assert "Resumed" not in bob

    lines = result.stderr.splitlines()
    assert any('"event": "interaction"' in line for line in lines)
    assert not [line for line in lines if "zebulon" in line.lower()]

    content = b"".join(p.read_bytes() for p in tmp_path.glob("forget.db*") if p.is_file())
    assert b"zebulon" not in content.lower()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT actor FROM streak_audit").fetchall() == [("a former member",)]
        assert conn.execute("SELECT paused, pause_reason FROM channels").fetchall() == [
            (1, "paused by a former member")
        ]
        names = [n for (n,) in conn.execute("SELECT name FROM members ORDER BY id")]
        assert names == ["bob"]


def test_an_export_file_stays_in_its_folder_whatever_the_name(tmp_path: Path) -> None:
    script = "/as ../../evil\n/study setup days=daily\n/quiz 1\n/study export\n"
    result = studybot(tmp_path, script, "run", "--db", str(tmp_path / "x.db"))
    (path,) = re.findall(r"your data, as JSON, is in (\S+)\)", result.stdout)
    assert Path(path).parent == tmp_path / "exports"
