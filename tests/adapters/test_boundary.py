"""The one error boundary every adapter puts around an interaction."""

from __future__ import annotations

import asyncio
import io

import pytest
from structlog.testing import capture_logs

from bot.adapters.base import APOLOGY, boundary, is_apology
from bot.adapters.console.adapter import ConsoleAdapter
from bot.adapters.console.render import Printer
from bot.core.replies import Message, Reply, private
from bot.decks import DeckLibrary
from bot.metrics import Metrics
from bot.services.policy import Policy
from bot.store.sql import SqlStore
from tests.conftest import make_study
from tests.fakes import FakeChat, FakeClock


async def test_an_unexpected_error_becomes_an_apology_a_log_line_and_a_metric() -> None:
    metrics = Metrics()

    async def broken() -> Reply:
        raise RuntimeError("database is locked")

    with capture_logs() as logs:
        reply = await boundary(
            "slack",
            broken,
            kind="command",
            member="U1",
            channel="C1",
            action="study:stats",
            metrics=metrics,
        )
    (message,) = reply.messages
    assert is_apology(message)
    assert "database is locked" not in message.plain_text()
    events = {entry["event"]: entry for entry in logs}
    assert events["interaction_failed"]["log_level"] == "error"
    assert events["interaction"]["outcome"] == "error"
    assert metrics.errors.labels("slack", "command")._value.get() == 1
    assert metrics.events.labels("slack", "command", "error")._value.get() == 1


async def test_a_normal_reply_passes_through_with_its_outcome() -> None:
    metrics = Metrics()

    async def fine() -> Reply:
        return private(Message(lines=("ok",)))

    with capture_logs() as logs:
        reply = await boundary(
            "discord",
            fine,
            kind="button",
            member="1",
            channel="2",
            action="fu:show",
            metrics=metrics,
        )
    assert reply.messages[0].lines == ("ok",)
    assert [e["outcome"] for e in logs if e["event"] == "interaction"] == ["ok"]
    assert metrics.errors.labels("discord", "button")._value.get() == 0


async def test_cancellation_is_not_swallowed() -> None:
    async def cancelled() -> Reply:
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await boundary(
            "slack",
            cancelled,
            kind="command",
            member="U1",
            channel="C1",
            action="x",
            metrics=None,
        )


async def test_the_console_apologises_when_a_service_raises(
    store: SqlStore, chat: FakeChat, clock: FakeClock, library: DeckLibrary, policy: Policy
) -> None:
    study = make_study(store, chat, clock, library, policy)

    async def raising(*_args: object, **_kwargs: object) -> Reply:
        raise RuntimeError("boom")

    study.command = raising  # type: ignore[method-assign]
    out = io.StringIO()
    console = ConsoleAdapter(study, printer=Printer(out=out, color=False))
    await console.handle("/study stats")
    assert APOLOGY in out.getvalue()
    assert "boom" not in out.getvalue()
