"""Rows of a cards CSV as card dicts, checked like a card file, one row at a time.

Columns: ``question``, ``key_points`` (separated by ``|``), ``answer``, ``topic``,
``level``, ``tags`` (separated by ``|`` or ``,``); ``follow_up`` and ``source`` are
optional. The file is read with ``files.text_lines`` (a regular file of at most
``CSV_MAX_BYTES``, UTF-8, decoded line by line), so memory does not grow with it.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot.core.errors import ContentError
from bot.decks.files import CSV_MAX_BYTES, text_lines
from bot.decks.schema import KEBAB, CardFile

REQUIRED = ("question", "key_points", "answer", "level")
OPTIONAL = ("topic", "tags", "follow_up", "source")


def _slug(text: str, words: int = 6) -> str:
    cleaned = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return "-".join(cleaned.split("-")[:words]) or "card"


def _split(value: str, separators: str = "|") -> list[str]:
    parts = re.split(f"[{re.escape(separators)}]", value)
    return [p.strip() for p in parts if p.strip()]


def _names(items: Iterable[str], at_most: int = 10) -> str:
    items = list(items)
    shown = ", ".join(repr(i) for i in items[:at_most])
    return shown + (f" and {len(items) - at_most} more" if len(items) > at_most else "")


def _check_header(path: Path, header: list[str], default_topic: str | None) -> None:
    repeated = [name for name, count in Counter(header).items() if count > 1]
    if repeated:
        raise ContentError([f"{path}:1: header: duplicate column {_names(repeated)}"])
    missing = [c for c in REQUIRED if c not in header]
    if "topic" not in header and default_topic is None:
        missing.append("topic (or --topic)")
    unknown = [h for h in header if h not in REQUIRED + OPTIONAL]
    if missing or unknown:
        detail = "; ".join(
            ([f"missing columns: {', '.join(missing)}"] if missing else [])
            + ([f"unknown columns: {_names(unknown)}"] if unknown else [])
        )
        raise ContentError([f"{path}:1: header: {detail}"])


def _rows(path: Path, lines: Iterator[str]) -> Iterator[tuple[int, list[str]]]:
    """``(first line, fields)`` of each non-blank record; the header is the first."""
    reader = csv.reader(lines)
    start = 1
    try:
        for fields in reader:
            if fields:
                yield start, fields
            start = reader.line_num + 1
    except csv.Error as exc:
        if "field limit" in str(exc):
            why = f"a field is longer than {csv.field_size_limit():,} characters"
        else:
            why = str(exc)
        where = "header" if start == 1 else "row"
        raise ContentError(
            [f"{path}:{start}: {where}: {why}; the rows after it were not checked"]
        ) from None


def read_cards(
    path: Path,
    default_topic: str | None,
    on_bytes: Callable[[int], object] | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield each valid row as a card dict, until a row has a problem; after the last row
    raise ``ContentError`` listing every problem (one per bad field), if there were any."""
    rows = _rows(path, text_lines(path, CSV_MAX_BYTES, on_bytes))
    _, first = next(rows, (1, []))
    header = [h.strip() for h in first]
    _check_header(path, header, default_topic)
    problems: list[str] = []
    ids: Counter[str] = Counter()
    found = 0
    for line, fields in rows:
        card = _card(f"{path}:{line}", header, fields, default_topic, ids, problems)
        if card is not None and not problems:
            found += 1
            yield card
    if problems:
        raise ContentError(problems)
    if not found:
        raise ContentError([f"{path}:2: rows: the file has no cards"])


def _card(
    where: str,
    header: list[str],
    fields: list[str],
    default_topic: str | None,
    ids: Counter[str],
    problems: list[str],
) -> dict[str, Any] | None:
    """One row as a card dict; or ``None`` with its problems appended to ``problems``."""
    if len(fields) > len(header):
        problems.append(
            f"{where}: row: {len(fields)} fields but the header has {len(header)} "
            "(a comma in an unquoted field?)"
        )
        return None
    row = dict(zip(header, (f.strip() for f in fields), strict=False))
    base = _slug(row.get("question", ""))
    ids[base] += 1
    card: dict[str, Any] = {
        "id": base if ids[base] == 1 else f"{base}-{ids[base]}",
        "topic": (row.get("topic") or default_topic or "").lower(),
        "level": row.get("level", "").lower(),
        "question": row.get("question", ""),
        "key_points": _split(row.get("key_points", "")),
        "answer": row.get("answer", ""),
    }
    if row.get("follow_up"):
        card["follow_up"] = row["follow_up"]
    if row.get("tags"):
        card["tags"] = [t.lower() for t in _split(row["tags"], "|,")]
    if row.get("source"):
        card["source"] = _split(row["source"], "|,")
    if card["topic"] and not re.match(KEBAB, card["topic"]):
        problems.append(f"{where}: topic: {card['topic']!r} must be kebab-case")
        return None
    try:
        CardFile.model_validate(card)
    except ValidationError as exc:
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "row"
            problems.append(f"{where}: {field}: {err['msg']}")
        return None
    return card
