"""Deck content: YAML files under ``content/decks/<deck>/`` loaded into core models."""

from bot.decks.loader import DeckLibrary, find_content_dir, load_decks

__all__ = ["DeckLibrary", "find_content_dir", "load_decks"]
