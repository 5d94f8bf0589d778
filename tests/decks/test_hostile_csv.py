"""Hostile CSV imports: each is refused with ``FILE:LINE: field: problem`` and writes nothing."""

from __future__ import annotations

import csv
import io
import os
import sys
from pathlib import Path

import pytest

from bot.cli import content_import, main
from bot.core.errors import ContentError
from bot.decks import importer, load_decks
from bot.decks.files import CSV_MAX_BYTES, LINE_MAX_BYTES
from bot.decks.importer import import_csv
from tests.decks.test_import import GOOD, HEADER, write_csv


def tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def refused(source: Path, tmp_path: Path) -> list[str]:
    """The problems of importing ``source``, after checking nothing was written."""
    before = tree(tmp_path)
    out = tmp_path / "decks" / "new-deck"
    with pytest.raises(ContentError) as info:
        import_csv(source, "new-deck", out)
    assert tree(tmp_path) == before
    return info.value.problems


def test_a_field_over_the_csv_limit_names_its_row(tmp_path: Path) -> None:
    long_answer = "x" * (csv.field_size_limit() + 1)
    rows = [GOOD[0], ["Long?", "a | b | c", long_answer, "data", "mid", ""], GOOD[1]]
    source = write_csv(tmp_path / "cards.csv", rows)
    assert refused(source, tmp_path) == [
        f"{source}:3: row: a field is longer than 131,072 characters; "
        "the rows after it were not checked"
    ]


def test_a_line_too_long_to_hold_is_refused_before_it_is_read_whole(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "cards.csv", GOOD[:1])
    with source.open("ab") as handle:
        handle.write(b"x" * (LINE_MAX_BYTES + 1))  # no line break, ever
    assert refused(source, tmp_path) == [
        f"{source}:3: (file): a line is longer than 1,048,576 bytes"
    ]


def test_a_utf16_file_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "cards.csv"  # what spreadsheets save as "Unicode text"
    source.write_text(",".join(HEADER) + "\n" + ",".join(GOOD[0]) + "\n", encoding="utf-16")
    assert refused(source, tmp_path) == [
        f"{source}:1: (file): the file is UTF-16; save it as UTF-8"
    ]


def test_utf16_without_a_byte_order_mark_is_refused_with_a_hint(tmp_path: Path) -> None:
    source = tmp_path / "cards.csv"
    source.write_text(",".join(HEADER) + "\n", encoding="utf-16-le")
    assert refused(source, tmp_path) == [
        f"{source}:1: (file): NUL character at column 2; is the file UTF-16? Save it as UTF-8"
    ]


def test_latin1_bytes_name_their_line_and_column(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "cards.csv", GOOD)
    with source.open("ab") as handle:
        handle.write(b'"Caf\xe9 or tea?",a | b | c,An answer.,data,mid,\r\n')
    assert refused(source, tmp_path) == [
        f"{source}:5: (file): not UTF-8 (byte 0xe9 at column 5); save it as UTF-8"
    ]


def test_a_duplicate_header_is_an_error_not_a_silent_overwrite(tmp_path: Path) -> None:
    source = tmp_path / "cards.csv"
    source.write_text(
        "question,key_points,answer,topic,level,answer\n"
        "Q?,a | b | c,first answer,data,mid,second answer\n"
    )
    assert refused(source, tmp_path) == [f"{source}:1: header: duplicate column 'answer'"]


def test_a_row_with_more_fields_than_the_header_is_an_error(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "cards.csv", [*GOOD[:2], [*GOOD[0], "stray"]])
    assert refused(source, tmp_path) == [
        f"{source}:4: row: 7 fields but the header has 6 (a comma in an unquoted field?)"
    ]


def test_a_link_to_dev_zero_is_refused_unread(tmp_path: Path) -> None:
    source = tmp_path / "cards.csv"
    source.symlink_to("/dev/zero")
    assert refused(source, tmp_path) == [
        f"{source}:1: (file): not a regular file (a link to /dev/zero, a character device); "
        "only regular files are read"
    ]


def test_a_named_pipe_is_refused_without_blocking(tmp_path: Path) -> None:
    source = tmp_path / "cards.csv"
    os.mkfifo(source)
    assert refused(source, tmp_path) == [
        f"{source}:1: (file): not a regular file (a named pipe); only regular files are read"
    ]


def test_an_oversize_file_is_refused_unread(tmp_path: Path) -> None:
    source = tmp_path / "cards.csv"
    with source.open("wb") as handle:
        handle.truncate(CSV_MAX_BYTES + 1)  # sparse
    assert refused(source, tmp_path) == [
        f"{source}:1: (file): 536,870,913 bytes is more than the limit of 536,870,912 "
        "(512 MiB); split it into smaller files"
    ]


def test_later_rows_are_still_checked_after_a_bad_one(tmp_path: Path) -> None:
    rows = [
        ["Q?", "one", "A.", "data", "mid", ""],
        GOOD[0],
        ["Q2?", "a|b|c", "A.", "x", "guru", ""],
    ]
    source = write_csv(tmp_path / "cards.csv", rows)
    problems = refused(source, tmp_path)
    assert [p.split(": ")[0:2] for p in problems] == [
        [f"{source}:2", "key_points"],
        [f"{source}:4", "level"],
    ]


def test_the_cli_refuses_each_hostile_file_with_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "cards.csv"
    source.write_text("question,key_points,answer,topic,level,level\n")
    out = tmp_path / "out"
    assert main(["content", "import", str(source), "--deck", "d", "--out", str(out)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{source}:1: header: duplicate column 'level'",
        "studybot: 1 content problem(s)",
    ]
    assert not out.exists()


def test_a_large_topic_is_split_into_numbered_files_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "CARDS_PER_FILE", 2)
    rows = [[f"Question {n}?", "a | b | c", "An answer.", "big", "mid", ""] for n in range(5)]
    source = write_csv(tmp_path / "cards.csv", [*rows, GOOD[0]])
    out = import_csv(source, "split-deck", tmp_path / "split-deck")
    assert tree(out) == [
        "big.001.yaml",
        "big.002.yaml",
        "big.003.yaml",
        "concurrency.yaml",
        "deck.yaml",
    ]
    (loaded,) = load_decks(out)
    assert [c.question for c in loaded.deck.cards if c.topic == "big"] == [
        f"Question {n}?" for n in range(5)
    ]


def test_text_comes_back_exactly_as_it_was_written(tmp_path: Path) -> None:
    # Text YAML would otherwise read as something else: bools, nulls, numbers, dates, ...
    tricky = ["yes", "null", "0x1F", "2026-03-02", "~", "- a dash", "key: value", "a # b"]
    rows = [
        [f"{word}?", f"{word} | 'quoted' | \"double\"", f"{word} ends: here", "data", "mid", ""]
        for word in tricky
    ]
    rows.append(["Ünïcödé — ✓?", "ü | — | ✓", "A " + "long line " * 40, "data", "mid", ""])
    source = write_csv(tmp_path / "cards.csv", rows)
    (loaded,) = load_decks(import_csv(source, "tricky", tmp_path / "tricky"))
    by_question = {c.question: c for c in loaded.deck.cards}
    for word in tricky:
        card = by_question[f"{word}?"]
        assert card.key_points == (word, "'quoted'", '"double"')
        assert card.answer == f"{word} ends: here"
    assert by_question["Ünïcödé — ✓?"].answer == ("A " + "long line " * 40).strip()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_drawn_on_a_terminal_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_csv(tmp_path / "cards.csv", GOOD)
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert content_import(source, "shown", "data", tmp_path / "shown") == 0
    drawn = terminal.getvalue()
    assert "reading rows: 100%" in drawn
    assert "loading back: 100%" in drawn
    assert "2/2" in drawn  # two topic files

    piped = io.StringIO()
    monkeypatch.setattr(sys, "stderr", piped)
    assert content_import(source, "quiet", "data", tmp_path / "quiet") == 0
    assert piped.getvalue() == ""
    assert "quiet: 3 cards" in capsys.readouterr().out
