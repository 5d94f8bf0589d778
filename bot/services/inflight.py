"""Counting interactions in progress, so shutdown can let them finish."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class InFlight:
    def __init__(self) -> None:
        self._count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def count(self) -> int:
        return self._count

    @asynccontextmanager
    async def track(self) -> AsyncIterator[None]:
        self._count += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._count -= 1
            if self._count == 0:
                self._idle.set()

    async def settle(self, grace: float) -> bool:
        """Wait until nothing is in progress, at most ``grace`` seconds."""
        try:
            await asyncio.wait_for(self._idle.wait(), grace)
        except TimeoutError:
            return False
        return True


def tracked(method: Callable[..., Awaitable[R]]) -> Callable[..., Awaitable[R]]:
    """Decorate an adapter handler: it counts as in flight until it returns."""

    @functools.wraps(method)
    async def wrapper(self: Any, *args: Any, **kwargs: Any) -> R:
        async with self.study.inflight.track():
            return await method(self, *args, **kwargs)

    return wrapper
