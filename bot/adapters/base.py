"""What the composition root needs from every adapter."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

import structlog

from bot.core.replies import Message, Reply, error
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


APOLOGY = (
    "Sorry, something went wrong on my side. Please try again in a minute; "
    "if it keeps happening, an admin can find the details in the bot's log."
)


def apology() -> Reply:
    """What a member sees when handling failed unexpectedly (never a traceback)."""
    return error(APOLOGY)


def is_apology(message: Message) -> bool:
    return message.kind == "error" and APOLOGY in message.lines


async def boundary(
    platform: str,
    work: Callable[[], Awaitable[Reply]],
    *,
    kind: str,
    member: str,
    channel: str,
    action: str,
    metrics: Metrics | None,
) -> Reply:
    """The error boundary every adapter puts around one interaction.

    The reply of ``work``, or on an unexpected error the apology, a log line with the
    traceback and the error metric; in both cases the one interaction log line.
    Cancellation (shutdown) passes through.
    """
    started = time.perf_counter()
    try:
        reply = await work()
    except Exception:
        log.exception("interaction_failed", platform=platform, kind=kind, action=action)
        if metrics is not None:
            metrics.errors.labels(platform, kind).inc()
        reply, outcome = apology(), "error"
    else:
        outcome = outcome_of(reply)
    record_interaction(
        platform,
        kind=kind,
        member=member,
        channel=channel,
        action=action,
        outcome=outcome,
        started=started,
        metrics=metrics,
    )
    return reply
