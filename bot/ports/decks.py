"""The deck port: the loaded content, read-only."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Protocol

from bot.core.models import Card, ChannelSettings, Deck


class DeckSource(Protocol):
    @property
    def decks(self) -> Mapping[str, Deck]: ...

    def cards(self) -> Iterator[Card]: ...

    def card(self, key: str) -> Card | None: ...

    def topics(self, decks: Iterable[str] = ()) -> Counter[str]: ...

    def for_channel(self, settings: ChannelSettings) -> list[Card]: ...
