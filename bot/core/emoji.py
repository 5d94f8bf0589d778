"""Emoji by Slack-style name, for text and for platforms that react with Unicode."""

from __future__ import annotations

UNICODE: dict[str, str] = {
    "x": "❌",
    "grimacing": "😬",
    "white_check_mark": "✅",
    "rocket": "🚀",
    "memo": "📝",
    "eyes": "👀",
    "fire": "🔥",
    "trophy": "🏆",
    "books": "📚",
    "bulb": "💡",
}
BY_UNICODE: dict[str, str] = {v: k for k, v in UNICODE.items()}


def show(name: str) -> str:
    """The Unicode emoji for a name, or ``:name:`` when we do not know it."""
    return UNICODE.get(name, f":{name}:")


def name_of(emoji: str) -> str:
    """A Slack-style name for a Unicode emoji or a ``:name:`` string."""
    return BY_UNICODE.get(emoji, emoji.strip(":"))
