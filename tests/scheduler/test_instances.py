"""Three instances on one database and one platform whose calls are slow: a claim is
never taken over while its owner lives (however long its send takes), and is taken over
once the owner dies, so nothing is posted twice and nothing is lost (ADR 0011)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.core.models import Target
from bot.core.replies import Message
from bot.decks import DeckLibrary
from bot.ports.chat import Posted
from bot.ports.store import Tx
from bot.services.policy import Policy, default_channel_settings
from bot.services.study import StudyBot
from bot.store.sql import SqlStore
from tests.conftest import World, make_study
from tests.fakes import FakeChat, FakeClock
from tests.services.helpers import run

DAYS = 20
CHANNELS = 520
SLOW_CALL = timedelta(minutes=3)
"""How far the clock moves while a send is held: past the two-minute lease (a 2.5 s call
at 72× speed), which is what let a second instance send again before."""


@dataclass
class SlowChat(FakeChat):
    """One workspace that every instance talks to; the first send of a kind in ``slow``
    waits until the test lets it through, and the others work meanwhile."""

    slow: set[str] = field(default_factory=set)
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    waiting: int = 0

    async def post(
        self,
        target: Target,
        message: Message,
        *,
        key: str | None = None,
        thread: bool = False,
        broadcast: bool = False,
    ) -> Posted:
        if message.kind in self.slow and not self.waiting:  # the owner's send is slow;
            self.waiting += 1  # a second sender (the bug) goes through, to be counted
            await self.gate.wait()
        return await super().post(target, message, key=key, thread=thread, broadcast=broadcast)

    async def held(self) -> None:
        """Until one send is waiting at the gate."""
        for _ in range(10_000):
            if self.waiting:
                return
            await asyncio.sleep(0.001)
        raise AssertionError("no send reached the platform")

    def hold(self, kind: str) -> None:
        self.slow, self.waiting = {kind}, 0
        self.gate.clear()


@pytest.fixture
async def three(
    db_url: str, library: DeckLibrary, clock: FakeClock
) -> AsyncIterator[tuple[SlowChat, list[StudyBot]]]:
    chat = SlowChat()
    policy = Policy(defaults=default_channel_settings("Europe/Berlin"), admins=frozenset({"admin"}))
    stores = [await SqlStore.open(db_url) for _ in range(3)]
    try:
        bots = []
        for store in stores:
            store.claims_ttl = 0  # every unit sees who is alive now
            await store.register(clock.now())
            bots.append(make_study(store, chat, clock, library, policy))
        clock.set(datetime(2025, 3, 3, 7, 0, tzinfo=UTC))  # Monday 08:00 in Berlin
        await run(bots[0], World.admin, World.channel, "/study setup")
        yield chat, bots
    finally:
        for store in stores:
            await store.close()


def working_days() -> list[date]:
    days, day = [], date(2025, 3, 3)
    while len(days) < DAYS:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


async def others_work(bots: list[StudyBot]) -> None:
    """What the other instances' schedulers do each tick."""
    for bot in bots:
        await asyncio.gather(bot.posting.post_due(), bot.posting.reveal_due())
        await bot.posting.reconcile()


async def test_a_slow_send_is_never_sent_again_by_another_instance(
    three: tuple[SlowChat, list[StudyBot]], clock: FakeClock
) -> None:
    chat, bots = three
    for day in working_days():
        clock.set(datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=8, minutes=31))
        for kind, work in (("daily_post", "post_due"), ("reveal", "reveal_due")):
            if kind == "reveal":
                clock.advance(hours=6, minutes=5)
            chat.hold(kind)
            owner = asyncio.create_task(getattr(bots[0].posting, work)())
            await chat.held()
            clock.advance(seconds=SLOW_CALL.total_seconds())
            await others_work(bots[1:])
            chat.gate.set()
            await owner
            await others_work(bots)
    posts = [s.key for s in chat.posts()]
    reveals = [s.key for s in chat.posts("reveal")]
    assert (len(posts), len(set(posts))) == (DAYS, DAYS)
    assert (len(reveals), len(set(reveals))) == (DAYS, DAYS)


async def test_a_send_whose_instance_died_is_finished_by_another(
    three: tuple[SlowChat, list[StudyBot]], clock: FakeClock
) -> None:
    """The owner dies mid-send (its lock goes with it); after the lease another instance
    looks the message up, finds nothing, and sends it: once."""
    chat, bots = three
    clock.set(datetime(2025, 3, 3, 8, 31, tzinfo=UTC))
    for kind, work in (("daily_post", "post_due"), ("reveal", "reveal_due")):
        if kind == "reveal":
            clock.advance(hours=6, minutes=5)
        chat.hold(kind)
        owner = asyncio.create_task(getattr(bots[0].posting, work)())
        await chat.held()
        owner.cancel()  # killed: the send never reaches the platform
        await asyncio.gather(owner, return_exceptions=True)
        bots[0].deps.store.release()  # type: ignore[attr-defined]
        chat.slow = set()
        clock.advance(seconds=SLOW_CALL.total_seconds())
        await others_work(bots[1:])
        await others_work(bots[1:])
        assert len(chat.posts(kind)) == 1, kind
        await bots[0].deps.store.register(clock.now())  # type: ignore[attr-defined]


async def test_instances_share_one_tick_of_more_channels_than_a_batch_ever_held(
    three: tuple[SlowChat, list[StudyBot]], clock: FakeClock
) -> None:
    """520 channels due at once (there used to be a ceiling of 500 a tick): the three
    instances post every one of them in one tick between them, each once."""
    chat, bots = three
    clock.set(datetime(2025, 3, 3, 8, 31, tzinfo=UTC))
    now = clock.now()
    settings = default_channel_settings("Europe/Berlin")

    def channels(tx: Tx) -> None:
        for n in range(CHANNELS):
            tx.channels.save(
                "fake",
                "T1",
                f"M{n}",
                settings,
                source="admin",
                now=now,
                next_post_at=now,
                next_leaderboard_at=now + timedelta(days=7),
            )

    await bots[0].deps.store.write(channels)
    reports = await asyncio.gather(*(bot.posting.post_due() for bot in bots))
    keys = [s.key for s in chat.posts()]
    assert len(keys) == len(set(keys)) == CHANNELS + 1  # and the set-up channel's
    assert sum(r.posted for r in reports) == CHANNELS + 1
