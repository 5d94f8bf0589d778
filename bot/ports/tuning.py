"""The store port for FSRS parameter history (``tx.tuning``).

Every tune run adds one row per (platform, workspace, deck), adopted or not; the
parameters in use for a key are those of its newest adopted row that still reads as a
valid parameter set (see ``bot.services.tuning``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.core.tuning import LoggedReview


@dataclass(frozen=True, slots=True)
class ParameterRow:
    id: int
    platform: str
    workspace: str
    deck: str
    parameters: str
    """JSON text of 21 floats; read it with ``bot.core.tuning.parse_parameters``."""
    desired_retention: float
    reviews_used: int
    log_loss_current: float | None
    log_loss_fitted: float | None
    adopted: bool
    reason: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NewParameters:
    platform: str
    workspace: str
    deck: str
    parameters: str
    desired_retention: float
    reviews_used: int
    log_loss_current: float | None
    log_loss_fitted: float | None
    adopted: bool
    reason: str


class TuningReader(Protocol):
    def adopted(self) -> list[ParameterRow]:
        """Adopted rows of every key, newest first."""
        ...

    def last_run(self) -> datetime | None: ...

    def review_log(self) -> dict[tuple[str, str], list[LoggedReview]]:
        """Non-voided reviews grouped by the member's (platform, workspace)."""
        ...


class TuningRepo(TuningReader, Protocol):
    def add(self, row: NewParameters, now: datetime) -> int: ...
