"""The inbox: an event stored before its ack is handled once, also after a crash."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bot.decks import DeckLibrary
from bot.ports.records import InboxRow
from bot.services import inbox as inbox_module
from bot.services.inbox import MAX_ATTEMPTS, payload_of
from bot.services.policy import Policy
from bot.store.sql import SqlStore
from tests.conftest import make_study
from tests.dbtools import sync_tx
from tests.fakes import FakeChat, FakeClock
from tests.pg import db_url_on_both as db_url  # noqa: F401  (both backends)


class Recorder:
    """A handler that records what it saw and fails the first ``fail`` times."""

    def __init__(self, fail: int = 0) -> None:
        self.seen: list[dict[str, object]] = []
        self.fail = fail

    async def __call__(self, row: InboxRow) -> None:
        if self.fail:
            self.fail -= 1
            raise RuntimeError("the database went away")
        self.seen.append(payload_of(row))


def open_rows(store: SqlStore) -> list[InboxRow]:
    with sync_tx(store) as tx:
        return tx.inbox.open("slack", datetime.max.replace(tzinfo=UTC))


async def test_an_event_is_stored_once_and_handled_once(
    store: SqlStore, chat: FakeChat, clock: FakeClock, library: DeckLibrary, policy: Policy
) -> None:
    study = make_study(store, chat, clock, library, policy)
    row = await study.inbox.accept("slack", "Ev1", "message", {"text": "hi"})
    assert row is not None
    assert await study.inbox.accept("slack", "Ev1", "message", {"text": "hi"}) is None
    handler = Recorder()
    assert await study.inbox.handle(row, handler)
    clock.advance(minutes=5)
    assert await study.inbox.drain("slack", handler) == 0
    assert handler.seen == [{"text": "hi"}]
    assert open_rows(store) == []


async def test_a_crash_after_the_ack_is_drained_after_the_lease(
    store: SqlStore, chat: FakeChat, clock: FakeClock, library: DeckLibrary, policy: Policy
) -> None:
    study = make_study(store, chat, clock, library, policy)
    await study.inbox.accept("slack", "Ev1", "reaction", {"emoji": "brain"})  # then: killed
    restarted = make_study(store, chat, clock, library, policy)
    handler = Recorder()
    assert await restarted.inbox.drain("slack", handler) == 0  # the lease still holds
    clock.advance(seconds=inbox_module.LEASE.total_seconds() + 1)
    assert await restarted.inbox.drain("discord", handler) == 0  # another platform's rows
    assert await restarted.inbox.drain("slack", handler) == 1
    assert await restarted.inbox.drain("slack", handler) == 0
    assert handler.seen == [{"emoji": "brain"}]


async def test_two_processes_draining_at_once_handle_an_event_once(
    store: SqlStore, chat: FakeChat, clock: FakeClock, library: DeckLibrary, policy: Policy
) -> None:
    first = make_study(store, chat, clock, library, policy)
    second = make_study(store, chat, clock, library, policy)
    for n in range(20):
        await first.inbox.accept("slack", f"Ev{n}", "message", {"n": n})
    clock.advance(minutes=1)
    handler = Recorder()
    done = await asyncio.gather(
        first.inbox.drain("slack", handler), second.inbox.drain("slack", handler)
    )
    assert sum(done) == 20
    assert sorted(int(str(p["n"])) for p in handler.seen) == list(range(20))


async def test_a_failing_handler_is_retried_then_given_up_with_its_error(
    store: SqlStore, chat: FakeChat, clock: FakeClock, library: DeckLibrary, policy: Policy
) -> None:
    study = make_study(store, chat, clock, library, policy)
    row = await study.inbox.accept("slack", "Ev1", "message", {"text": "hi"})
    assert row is not None
    flaky = Recorder(fail=1)
    assert not await study.inbox.handle(row, flaky)
    clock.advance(minutes=1)
    assert await study.inbox.drain("slack", flaky) == 1  # the second attempt works
    assert flaky.seen == [{"text": "hi"}]

    broken = Recorder(fail=100)
    row = await study.inbox.accept("slack", "Ev2", "message", {"text": "boom"})
    assert row is not None
    await study.inbox.handle(row, broken)
    for _ in range(MAX_ATTEMPTS + 2):
        clock.advance(minutes=1)
        await study.inbox.drain("slack", broken)
    assert broken.fail == 100 - MAX_ATTEMPTS
    assert open_rows(store) == []
    assert await study.inbox.backlog("slack") == 0


async def test_handled_rows_are_pruned_after_two_days(
    store: SqlStore, chat: FakeChat, clock: FakeClock, library: DeckLibrary, policy: Policy
) -> None:
    study = make_study(store, chat, clock, library, policy)
    done = await study.inbox.accept("slack", "Ev1", "message", {})
    assert done is not None
    await study.inbox.handle(done, Recorder())
    await study.inbox.accept("slack", "Ev2", "message", {})  # never handled: kept
    clock.advance(days=3)
    assert await study.inbox.prune() == 1
    assert await study.inbox.backlog("slack") == 1
