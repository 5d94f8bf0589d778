"""Load and validate ``content/decks/<deck>/*.yaml`` with ``file:line: field: problem`` errors.

Each file is read with ``files.read_text`` (regular files only, at most
``YAML_MAX_BYTES``, UTF-8, printable) and parsed once by ``yamlfile.parse``, which keeps
the root node so a field that fails validation can be found by line without parsing again.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from bot.core.errors import ContentError
from bot.core.models import Card, ChannelSettings, Deck
from bot.core.rotation import eligible
from bot.decks import yamlfile
from bot.decks.files import YAML_MAX_BYTES, read_text
from bot.decks.schema import CardFile, DeckFile, SourcesFile

M = TypeVar("M", bound=BaseModel)

DECK_FILE = "deck.yaml"
SOURCES_FILE = "sources.yaml"


def find_content_dir(explicit: Path | None = None) -> Path:
    """The content folder: explicit, else the bundled copy, else ./content."""
    if explicit is not None:
        return explicit
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "_content", package.parent / "content", Path("content")):
        if (candidate / "decks").is_dir():
            return candidate
    return Path("content")


def _present(path: Path) -> bool:
    """``path`` exists, even as a dangling link or a non-file that ``_read`` will refuse."""
    return path.exists() or path.is_symlink()


def _deck_dirs(path: Path) -> list[Path]:
    """Accept a content folder, its ``decks/`` folder, or one deck folder."""
    if _present(path / DECK_FILE):
        return [path]
    decks = path / "decks" if (path / "decks").is_dir() else path
    return sorted(p for p in decks.iterdir() if p.is_dir() and _present(p / DECK_FILE))


def _line_of(node: yaml.Node | None, loc: Iterable[int | str]) -> int:
    """The 1-based line of the node at ``loc`` (or of its deepest existing parent)."""
    if node is None:
        return 1
    line = node.start_mark.line + 1
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if 0 <= part < len(node.value):
                child = node.value[part]
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    child = value
                    break
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line


@dataclass
class _File:
    path: Path
    data: Any
    node: yaml.Node | None


def _read(path: Path, problems: list[str]) -> _File | None:
    try:
        data, node = yamlfile.parse(path, read_text(path, YAML_MAX_BYTES))
    except ContentError as exc:
        problems.extend(exc.problems)
        return None
    return _File(path, data, node)


def _validate(
    model: type[M], file: _File, data: Any, loc: tuple[int | str, ...], problems: list[str]
) -> M | None:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            where = loc + tuple(err["loc"])
            name = ".".join(str(p) for p in err["loc"]) or "(file)"
            problems.append(f"{file.path}:{_line_of(file.node, where)}: {name}: {err['msg']}")
        return None


@dataclass
class LoadedDeck:
    deck: Deck
    sources: dict[str, str] | None
    path: Path


def _load_deck(
    folder: Path, problems: list[str], on_file: Callable[[Path], object] | None
) -> LoadedDeck | None:
    meta_file = _read(folder / DECK_FILE, problems)
    if meta_file is None:
        return None
    meta = _validate(DeckFile, meta_file, meta_file.data, (), problems)
    if meta is None:
        return None
    sources: dict[str, str] | None = None
    if _present(folder / SOURCES_FILE):
        src_file = _read(folder / SOURCES_FILE, problems)
        parsed = src_file and _validate(SourcesFile, src_file, src_file.data, (), problems)
        sources = parsed.items if parsed else {}
    cards: list[Card] = []
    seen: dict[str, str] = {}
    for path in sorted(folder.glob("*.yaml")):
        if path.name in (DECK_FILE, SOURCES_FILE):
            continue
        file = _read(path, problems)
        if on_file is not None:
            on_file(path)
        if file is None or file.data is None:
            continue
        if not isinstance(file.data, list):
            problems.append(f"{path}:1: (file): a topic file holds a list of cards")
            continue
        for index, raw in enumerate(file.data):
            card = _validate(CardFile, file, raw, (index,), problems)
            if card is None:
                continue
            where = f"{path}:{_line_of(file.node, (index, 'id'))}"
            if card.topic not in meta.topics:
                line = _line_of(file.node, (index, "topic"))
                problems.append(
                    f"{path}:{line}: topic: unknown topic {card.topic!r}; "
                    f"deck.yaml lists {', '.join(meta.topics)}"
                )
                continue
            if card.level not in meta.levels:
                line = _line_of(file.node, (index, "level"))
                problems.append(f"{path}:{line}: level: {card.level!r} is not a level of this deck")
                continue
            if card.id in seen:
                problems.append(f"{where}: id: duplicate id {card.id!r} (first at {seen[card.id]})")
                continue
            if sources is not None:
                unknown = [s for s in card.source if s not in sources]
                if unknown:
                    line = _line_of(file.node, (index, "source"))
                    problems.append(
                        f"{path}:{line}: source: not in {SOURCES_FILE}: {', '.join(unknown)}"
                    )
                    continue
            seen[card.id] = where
            cards.append(
                Card(
                    deck=meta.id,
                    id=card.id,
                    topic=card.topic,
                    level=card.level,
                    question=card.question,
                    key_points=tuple(card.key_points),
                    answer=card.answer,
                    follow_up=card.follow_up,
                    tags=tuple(card.tags),
                    source=tuple(card.source),
                )
            )
    if sources is not None:
        covered = {s for c in cards for s in c.source}
        missing = [s for s in sources if s not in covered]
        if missing and not problems:
            problems.append(
                f"{folder / SOURCES_FILE}:1: items: {len(missing)} seed items have no card: "
                + ", ".join(missing)
            )
    deck = Deck(
        id=meta.id,
        title=meta.title,
        description=meta.description,
        topics=dict(meta.topics),
        cards=tuple(cards),
        levels=tuple(meta.levels),
    )
    return LoadedDeck(deck, sources, folder)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Parsing builds millions of small objects and no cycles; without a pause the cyclic
    collector scans the growing heap again and again (about half the load time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_decks(path: Path, on_file: Callable[[Path], object] | None = None) -> list[LoadedDeck]:
    """Every deck under ``path``, or ``ContentError`` listing every problem found.

    ``on_file`` is called after each topic file (the importer draws progress with it).
    """
    with gc_paused():
        return _load_all(path, on_file)


def _load_all(path: Path, on_file: Callable[[Path], object] | None) -> list[LoadedDeck]:
    problems: list[str] = []
    if not path.is_dir():
        raise ContentError([f"{path}:1: content folder not found"])
    loaded: list[LoadedDeck] = []
    ids: dict[str, Path] = {}
    for folder in _deck_dirs(path):
        deck = _load_deck(folder, problems, on_file)
        if deck is None:
            continue
        if deck.deck.id in ids:
            problems.append(
                f"{folder / DECK_FILE}:1: id: deck id {deck.deck.id!r} "
                f"also used by {ids[deck.deck.id]}"
            )
            continue
        ids[deck.deck.id] = folder
        loaded.append(deck)
    if not loaded and not problems:
        problems.append(f"{path}:1: no decks found (expected decks/<deck>/{DECK_FILE})")
    if problems:
        raise ContentError(problems)
    return loaded


@dataclass
class DeckLibrary:
    """All loaded decks, with the look-ups services need."""

    decks: dict[str, Deck]
    _by_key: dict[str, Card] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_key = {c.key: c for d in self.decks.values() for c in d.cards}

    @classmethod
    def load(cls, path: Path) -> DeckLibrary:
        return cls({d.deck.id: d.deck for d in load_decks(path)})

    def cards(self) -> Iterator[Card]:
        for deck in self.decks.values():
            yield from deck.cards

    def card(self, key: str) -> Card | None:
        return self._by_key.get(key)

    def topics(self, decks: Iterable[str] = ()) -> Counter[str]:
        wanted = set(decks)
        return Counter(c.topic for c in self.cards() if not wanted or c.deck in wanted)

    def for_channel(self, settings: ChannelSettings) -> list[Card]:
        return eligible(self.cards(), settings)
