"""Work in progress: interactions (so shutdown can let them finish), and the keys of the
sends this process is making (so it never takes its own claim for a stale one)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
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


class Sends:
    """Keys of the posts, reveals, leaderboards and DMs this process is sending now.

    A claim's lease says when another process may take it over; a send slowed past the
    lease (429s, a slow network) must still not be taken over by this same process, which
    would look, find nothing yet, and send a second copy. Reconciliation skips these keys.
    """

    def __init__(self) -> None:
        self._keys: set[str] = set()

    @contextmanager
    def holding(self, key: str) -> Iterator[None]:
        self._keys.add(key)
        try:
            yield
        finally:
            self._keys.discard(key)

    def __contains__(self, key: object) -> bool:
        return key in self._keys


def tracked(method: Callable[..., Awaitable[R]]) -> Callable[..., Awaitable[R]]:
    """Decorate an adapter handler: it counts as in flight until it returns."""

    @functools.wraps(method)
    async def wrapper(self: Any, *args: Any, **kwargs: Any) -> R:
        async with self.study.inflight.track():
            return await method(self, *args, **kwargs)

    return wrapper
