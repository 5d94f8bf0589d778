"""Sends in flight: a send slowed past its lease is not taken over by its own process (no
second copy), and an event about a message sent but not yet recorded waits for it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from bot.core.errors import NotYet
from bot.core.models import Target
from bot.core.replies import Message
from bot.decks import DeckLibrary
from bot.ports.chat import Posted
from bot.ports.records import InboxRow
from bot.services.inbox import NOT_YET_PATIENCE
from bot.store.sql import SqlStore
from tests.conftest import World, make_study
from tests.fakes import FakeChat, FakeClock
from tests.services.helpers import run, text_of
from tests.services.test_followup_lifecycle import MONDAY, policy
from tests.services.test_inbox import open_rows

REVEAL = "studybot:reveal:"


@dataclass
class SlowReveals(FakeChat):
    """Reveals wait at the platform until ``go`` is set (a 429 storm, a slow network)."""

    go: asyncio.Event = field(default_factory=asyncio.Event)

    async def post(
        self,
        target: Target,
        message: Message,
        *,
        key: str | None = None,
        thread: bool = False,
        broadcast: bool = False,
    ) -> Posted:
        if key is not None and key.startswith(REVEAL):
            await self.go.wait()
        return await super().post(target, message, key=key, thread=thread, broadcast=broadcast)


def reveals(chat: FakeChat) -> list[str]:
    return [s.ref for s in chat.sent if (s.key or "").startswith(REVEAL)]


async def test_a_reveal_slowed_past_its_lease_is_not_sent_twice(
    store: SqlStore, clock: FakeClock, library: DeckLibrary, world: World
) -> None:
    chat = SlowReveals()
    study = make_study(store, chat, clock, library, policy())
    clock.set(MONDAY)
    await run(study, world.admin, world.channel, "/study setup days=daily reveal=+1h")
    await run(study, world.admin, world.channel, "/study post-now")
    clock.advance(hours=2)
    slow = asyncio.create_task(study.posting.reveal_due())
    await asyncio.sleep(0.05)  # claimed, and waiting at the platform
    clock.advance(minutes=10)  # far past the intent lease
    taking_over = asyncio.create_task(study.posting.reconcile())  # its own send: left alone
    await asyncio.sleep(0.05)
    chat.go.set()
    assert await slow == 1
    assert await taking_over == 0
    await study.posting.reconcile()
    assert len(reveals(chat)) == 1


async def test_a_grade_on_a_reveal_not_yet_recorded_waits_for_it(
    store: SqlStore, chat: FakeChat, clock: FakeClock, library: DeckLibrary, world: World
) -> None:
    study = make_study(store, chat, clock, library, policy())
    clock.set(MONDAY)
    await run(study, world.admin, world.channel, "/study setup days=daily reveal=+1h")
    await run(study, world.admin, world.channel, "/study post-now")
    post = chat.posts()[-1]
    await study.message(world.alice, world.thread(post.ref), "a1", "my answer")
    key = f"{REVEAL}1:{MONDAY.date().isoformat()}"
    chat.lose_record_of.add(key)  # the reveal reaches the channel; its answer is lost
    clock.advance(hours=2)
    assert await study.posting.reveal_due() == 0
    (reveal,) = reveals(chat)
    with pytest.raises(NotYet):  # Alice grades the reveal she sees: not known yet
        await study.reaction(world.alice, world.channel, reveal, "white_check_mark", added=True)
    clock.advance(minutes=5)
    assert await study.posting.reconcile() == 1  # looked up, found, recorded
    graded = await study.reaction(
        world.alice, world.channel, reveal, "white_check_mark", added=True
    )
    assert "Good" in text_of(graded)
    assert len(reveals(chat)) == 1


async def test_the_inbox_keeps_a_not_yet_event_then_gives_up(
    store: SqlStore, chat: FakeChat, clock: FakeClock, library: DeckLibrary
) -> None:
    study = make_study(store, chat, clock, library, policy())
    clock.set(MONDAY)
    row = await study.inbox.accept("slack", "Ev1", "reaction", {"x": 1})
    assert row is not None

    async def not_yet(_row: InboxRow) -> None:
        raise NotYet("Grades count only on the reveal.")

    for _ in range(8):  # far more tries than a failing handler gets
        assert not await study.inbox.handle(row, not_yet)
        assert [r.id for r in open_rows(store)] == [row.id]
        clock.advance(minutes=1)
    clock.set(MONDAY + NOT_YET_PATIENCE + timedelta(minutes=1))
    assert not await study.inbox.handle(row, not_yet)
    assert open_rows(store) == []
