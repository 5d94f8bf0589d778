"""What the composition root needs from every adapter."""

from __future__ import annotations

import asyncio
from typing import Protocol

from bot.ports.chat import Chat


class Adapter(Protocol):
    name: str

    @property
    def chat(self) -> Chat: ...

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until ``stop`` is set (or, for the console, until end of input)."""
        ...

    def connected(self) -> bool: ...
