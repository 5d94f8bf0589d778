"""``studybot content import FILE.csv --deck ID``: a CSV of cards into a YAML deck.

Columns: ``question``, ``key_points`` (separated by ``|``), ``answer``, ``topic``,
``level``, ``tags`` (separated by ``|`` or ``,``); ``follow_up`` and ``source`` are
optional. Every row is validated like a card file; any error is reported as
``FILE:LINE: field: problem`` and nothing is written. The deck is written to a
temporary folder, loaded back with the real loader, then moved into place.
"""

from __future__ import annotations

import csv
import re
import shutil
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.core.errors import ContentError
from bot.decks.loader import DECK_FILE, load_decks
from bot.decks.schema import KEBAB, CardFile

REQUIRED = ("question", "key_points", "answer", "level")
OPTIONAL = ("topic", "tags", "follow_up", "source")


def _slug(text: str, words: int = 6) -> str:
    cleaned = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return "-".join(cleaned.split("-")[:words]) or "card"


def _split(value: str, separators: str = "|") -> list[str]:
    parts = re.split(f"[{re.escape(separators)}]", value)
    return [p.strip() for p in parts if p.strip()]


class _Literal(str):
    """A string YAML writes as a folded block (long prose stays readable)."""


def _represent(dumper: yaml.SafeDumper, value: _Literal) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style=">")


yaml.SafeDumper.add_representer(_Literal, _represent)


def read_cards(path: Path, default_topic: str | None) -> list[dict[str, Any]]:
    """Rows as card dicts, or ``ContentError`` with one problem per bad field."""
    problems: list[str] = []
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise ContentError([f"{path}:1: cannot read: {exc.strerror}"]) from None
    with handle:
        reader = csv.DictReader(handle)
        header = [h.strip() for h in reader.fieldnames or []]
        missing = [c for c in REQUIRED if c not in header]
        if "topic" not in header and default_topic is None:
            missing.append("topic (or --topic)")
        unknown = [h for h in header if h not in REQUIRED + OPTIONAL]
        if missing or unknown:
            detail = "; ".join(
                ([f"missing columns: {', '.join(missing)}"] if missing else [])
                + ([f"unknown columns: {', '.join(unknown)}"] if unknown else [])
            )
            raise ContentError([f"{path}:1: header: {detail}"])
        cards: list[dict[str, Any]] = []
        ids: dict[str, int] = {}
        for raw in reader:
            line = reader.line_num
            row = {k.strip(): (v or "").strip() for k, v in raw.items() if k is not None}
            base = _slug(row.get("question", ""))
            ids[base] = ids.get(base, 0) + 1
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
                problems.append(f"{path}:{line}: topic: {card['topic']!r} must be kebab-case")
                continue
            try:
                CardFile.model_validate(card)
            except ValidationError as exc:
                for err in exc.errors():
                    field = ".".join(str(p) for p in err["loc"]) or "row"
                    problems.append(f"{path}:{line}: {field}: {err['msg']}")
                continue
            cards.append(card)
    if problems:
        raise ContentError(problems)
    if not cards:
        raise ContentError([f"{path}:2: rows: the file has no cards"])
    return cards


def import_csv(path: Path, deck: str, out: Path, default_topic: str | None = None) -> Path:
    """Write the deck folder ``out`` (which must not exist); return it."""
    if not re.match(KEBAB, deck):
        raise ContentError([f"{path}:1: deck: {deck!r} must be kebab-case"])
    if default_topic is not None and not re.match(KEBAB, default_topic):
        raise ContentError([f"{path}:1: topic: {default_topic!r} must be kebab-case"])
    if out.exists():
        raise ContentError([f"{out}:1: deck: the folder exists already; nothing was written"])
    cards = read_cards(path, default_topic)
    by_topic: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for card in cards:
        for key in ("question", "answer", "follow_up"):
            if key in card:
                card[key] = _Literal(card[key])
        by_topic[card["topic"]].append(card)
    meta = {
        "id": deck,
        "title": deck.replace("-", " ").capitalize(),
        "description": f"Imported from {path.name}.",
        "levels": ["mid", "senior", "lead", "architect"],
        "topics": {topic: f"Cards imported under {topic}." for topic in sorted(by_topic)},
    }
    with tempfile.TemporaryDirectory(dir=out.parent if out.parent.exists() else None) as tmp:
        staging = Path(tmp) / deck
        staging.mkdir()
        (staging / DECK_FILE).write_text(yaml.safe_dump(meta, sort_keys=False, allow_unicode=True))
        for topic, topic_cards in by_topic.items():
            text = yaml.safe_dump(topic_cards, sort_keys=False, allow_unicode=True, width=88)
            (staging / f"{topic}.yaml").write_text(text)
        load_decks(staging)  # the real loader must accept what we wrote
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staging), str(out))
    return out
