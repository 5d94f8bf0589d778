"""``studybot content import FILE.csv --deck ID``: a CSV of cards into a YAML deck.

Rows are read and checked one at a time (``csvcards.read_cards``); valid cards are
written to a temporary folder as they come, at most ``CARDS_PER_FILE`` to a file so
each stays well under the loader's size limit. Any problem is reported as
``FILE:LINE: field: problem`` and nothing is written. The deck is then loaded back
with the real loader and only then moved into place. With a ``progress`` stream (the
CLI passes stderr when it is a terminal) each step draws a bar.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from bot.core.errors import ContentError
from bot.core.models import LEVELS
from bot.decks import yamlfile
from bot.decks.csvcards import read_cards
from bot.decks.files import CSV_MAX_BYTES, regular_size
from bot.decks.loader import DECK_FILE, gc_paused, load_decks
from bot.decks.schema import KEBAB

__all__ = ["CARDS_PER_FILE", "import_csv", "read_cards"]

PROSE = frozenset({"question", "answer", "follow_up"})
"""Written as folded blocks, so long prose stays readable."""
CARDS_PER_FILE = 500
"""Even 500 cards of the longest fields in 4-byte characters stay under 16 MiB."""


@contextmanager
def _bar(
    progress: TextIO | None, what: str, total: int, unit: str
) -> Iterator[Callable[[int], object]]:
    """A function to call with each step's size; it draws a bar on ``progress``, if any."""
    if progress is None:
        yield lambda _n: None
        return
    from tqdm import tqdm  # type: ignore[import-untyped]

    scale = unit == "B"
    with tqdm(total=total, desc=what, unit=unit, unit_scale=scale, file=progress) as bar:
        yield bar.update


class _DeckWriter:
    """Cards into ``topic.yaml`` files of at most ``CARDS_PER_FILE`` cards; a topic with
    more becomes ``topic.001.yaml``, ``topic.002.yaml``, ... (a dot is never in a topic)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.pending: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
        self.parts: Counter[str] = Counter()

    def add(self, card: dict[str, Any]) -> None:
        chunk = self.pending[card["topic"]]
        chunk.append(card)
        if len(chunk) == CARDS_PER_FILE:
            self._flush(card["topic"])

    def _flush(self, topic: str) -> None:
        self.parts[topic] += 1
        part = self.parts[topic]
        if part == 2:
            (self.folder / f"{topic}.yaml").rename(self.folder / f"{topic}.001.yaml")
        name = f"{topic}.yaml" if part == 1 else f"{topic}.{part:03d}.yaml"
        text = yamlfile.dump(self.pending.pop(topic), folded=PROSE)
        (self.folder / name).write_text(text, encoding="utf-8")

    def finish(self, meta: dict[str, Any]) -> int:
        """Write what is pending and ``deck.yaml`` (``topics`` filled in); the file count."""
        for topic in list(self.pending):
            self._flush(topic)
        topics = sorted(self.parts)
        meta["topics"] = {topic: f"Cards imported under {topic}." for topic in topics}
        (self.folder / DECK_FILE).write_text(yamlfile.dump(meta), encoding="utf-8")
        return sum(self.parts.values())


def import_csv(
    path: Path,
    deck: str,
    out: Path,
    default_topic: str | None = None,
    progress: TextIO | None = None,
) -> Path:
    """Write the deck folder ``out`` (which must not exist); return it."""
    if not re.match(KEBAB, deck):
        raise ContentError([f"{path}:1: deck: {deck!r} must be kebab-case"])
    if default_topic is not None and not re.match(KEBAB, default_topic):
        raise ContentError([f"{path}:1: topic: {default_topic!r} must be kebab-case"])
    if out.exists() or out.is_symlink():
        raise ContentError([f"{out}:1: deck: the folder exists already; nothing was written"])
    size = regular_size(path, CSV_MAX_BYTES)
    parent = out.parent if out.parent.is_dir() else None
    with gc_paused(), tempfile.TemporaryDirectory(dir=parent) as tmp:
        staging = Path(tmp) / deck
        staging.mkdir()
        writer = _DeckWriter(staging)
        with _bar(progress, "reading rows", size, "B") as step:
            for card in read_cards(path, default_topic, step):
                writer.add(card)
        files = writer.finish(
            {
                "id": deck,
                "title": deck.replace("-", " ").capitalize(),
                "description": f"Imported from {path.name}.",
                "levels": list(LEVELS),
            }
        )
        with _bar(progress, "loading back", files, " files") as step:
            load_decks(staging, on_file=lambda _path: step(1))  # the real loader must agree
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staging), str(out))
    return out
