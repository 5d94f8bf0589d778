"""What the composition root needs from every adapter."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

import structlog

from bot.core.replies import Reply
from bot.metrics import Metrics
from bot.ports.chat import Chat

log = structlog.get_logger("studybot.interactions")


class Adapter(Protocol):
    name: str

    @property
    def chat(self) -> Chat: ...

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until ``stop`` is set (or, for the console, until end of input)."""
        ...

    def connected(self) -> bool: ...


class LogsInteractions:
    """For platform adapters: one log line and its metrics per handled interaction."""

    name: str
    metrics: Metrics | None

    def _log(
        self, kind: str, user: str, channel: str, action: str, reply: Reply, started: float
    ) -> None:
        record_interaction(
            self.name,
            kind=kind,
            member=user,
            channel=channel,
            action=action,
            outcome=outcome_of(reply),
            started=started,
            metrics=self.metrics,
        )


def outcome_of(reply: Reply) -> str:
    """How an interaction ended, for the log line and the metrics."""
    if reply.data.get("duplicate"):
        return "duplicate"
    return "rejected" if any(m.kind == "error" for m in reply.messages) else "ok"


def record_interaction(
    platform: str,
    *,
    kind: str,
    member: str,
    channel: str,
    action: str,
    outcome: str,
    started: float,
    metrics: Metrics | None,
) -> None:
    """One canonical log line per handled interaction, and its metrics."""
    if metrics is not None:
        metrics.events.labels(platform, kind, outcome).inc()
        if outcome == "duplicate":
            metrics.duplicates.labels(platform).inc()
    log.info(
        "interaction",
        platform=platform,
        channel=channel,
        member=member,
        kind=kind,
        action=action,
        outcome=outcome,
        duration_ms=round((time.perf_counter() - started) * 1000, 1),
    )
