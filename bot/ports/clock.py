"""The clock port: the only source of "now" (aware UTC)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, an aware UTC datetime."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ScaledClock:
    """Time that runs ``speed`` times faster than the wall clock (``--clock-speed``).

    With an ``epoch`` (``--clock-epoch``), bot time is ``epoch + (wall - epoch) * speed``,
    the same in every process and across restarts; without one it starts at "now".
    """

    def __init__(self, speed: float, epoch: datetime | None = None) -> None:
        if speed <= 0:
            raise ValueError("clock speed must be positive")
        self.speed = speed
        self._epoch = epoch
        self._start = datetime.now(UTC)
        self._origin = time.monotonic()

    def now(self) -> datetime:
        if self._epoch is not None:
            wall = datetime.now(UTC)
            return self._epoch + (wall - self._epoch) * self.speed
        elapsed = (time.monotonic() - self._origin) * self.speed
        return self._start + timedelta(seconds=elapsed)
