"""``studybot content import``: CSV rows into a deck, all or nothing."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bot.cli import main
from bot.core.errors import ContentError
from bot.decks import DeckLibrary
from bot.decks.importer import import_csv

HEADER = ["question", "key_points", "answer", "topic", "level", "tags"]
GOOD = [
    [
        "What does the GIL protect?",
        "refcounts | interpreter state | one thread runs bytecode",
        "It serialises bytecode so reference counts stay consistent.",
        "concurrency",
        "mid",
        "gil|threads",
    ],
    [
        "When do threads still help?",
        "blocking I/O | C code that releases the lock | waiting",
        "Whenever the work waits, threads overlap.",
        "concurrency",
        "senior",
        "",
    ],
    [
        "How does cache-aside work?",
        "read-through on miss | delete on write | TTL bounds staleness",
        "The app reads the cache first and fills it on a miss.",
        "",
        "mid",
        "caching",
    ],
]


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def test_good_rows_become_a_deck_the_loader_accepts(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "cards.csv", GOOD)
    out = import_csv(source, "team-deck", tmp_path / "content" / "decks" / "team-deck", "data")
    library = DeckLibrary.load(tmp_path / "content")
    cards = sorted(library.cards(), key=lambda c: c.question)
    assert [c.topic for c in cards] == ["data", "concurrency", "concurrency"]
    assert cards[1].key_points == ("refcounts", "interpreter state", "one thread runs bytecode")
    assert cards[1].tags == ("gil", "threads")
    assert cards[1].key == "team-deck/what-does-the-gil-protect"
    assert sorted(p.name for p in out.iterdir()) == ["concurrency.yaml", "data.yaml", "deck.yaml"]


def test_bad_rows_are_reported_by_line_and_nothing_is_written(tmp_path: Path) -> None:
    rows = [
        *GOOD,
        ["Too few points?", "only one", "An answer.", "data", "mid", ""],
        ["Bad level?", "a | b | c", "An answer.", "data", "guru", ""],
        ["", "a | b | c", "No question.", "data", "mid", ""],
        ["Long?", "a | b | c", "x" * 1300, "data", "mid", ""],
    ]
    source = write_csv(tmp_path / "cards.csv", rows)
    out = tmp_path / "decks" / "team-deck"
    with pytest.raises(ContentError) as info:
        import_csv(source, "team-deck", out)
    problems = info.value.problems
    assert any(p.startswith(f"{source}:5: key_points:") for p in problems)
    assert any(p.startswith(f"{source}:6: level:") for p in problems)
    assert any(p.startswith(f"{source}:7: question:") for p in problems)
    assert any(p.startswith(f"{source}:8: answer:") for p in problems)
    assert not out.exists()
    assert not (tmp_path / "decks").exists() or not any((tmp_path / "decks").iterdir())


def test_header_and_existing_deck_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("question,answer,colour\nq,a,red\n")
    with pytest.raises(ContentError, match="missing columns: key_points, level, topic"):
        import_csv(bad, "d", tmp_path / "out")
    existing = tmp_path / "exists"
    existing.mkdir()
    with pytest.raises(ContentError, match="exists already"):
        import_csv(write_csv(tmp_path / "ok.csv", GOOD), "d", existing, "data")


def test_the_cli_prints_row_errors_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_csv(tmp_path / "cards.csv", [["Q?", "a", "A.", "data", "mid", ""]])
    code = main(
        ["content", "import", str(source), "--deck", "mine", "--out", str(tmp_path / "mine")]
    )
    assert code == 1
    assert f"{source}:2: key_points:" in capsys.readouterr().err
    good = write_csv(tmp_path / "good.csv", GOOD)
    assert (
        main(
            [
                "content",
                "import",
                str(good),
                "--deck",
                "mine",
                "--topic",
                "data",
                "--out",
                str(tmp_path / "mine"),
            ]
        )
        == 0
    )
    assert "mine: 3 cards" in capsys.readouterr().out
