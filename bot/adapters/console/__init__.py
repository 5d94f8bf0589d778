"""The local console channel: a terminal (or a pipe) standing in for a chat channel."""

from bot.adapters.console.adapter import ConsoleAdapter

__all__ = ["ConsoleAdapter"]
