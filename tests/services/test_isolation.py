"""One member's or channel's bad data never stops a job for the others: each item of a
job runs on its own (a savepoint in the store), its failure is logged and counted, and
profile values this host cannot use are refused on the way in."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import update
from structlog.testing import capture_logs

from bot.core.models import Actor, Place
from bot.core.replies import Message
from bot.core.srs import Srs
from bot.decks import DeckLibrary
from bot.ports.chat import Chats, Posted
from bot.services.base import Deps
from bot.services.study import StudyBot
from bot.store.sql import SqlStore
from bot.store.tables import channels, followups, members
from tests.conftest import World
from tests.dbtools import sync_tx
from tests.fakes import FakeChat, FakeClock
from tests.services.helpers import run
from tests.services.test_followup_lifecycle import MONDAY, dms_to, forget_cards, policy


@dataclass
class BreaksFor(FakeChat):
    """A platform whose DMs to one member fail in a way nobody planned for."""

    broken_user: str = ""

    async def send_dm(
        self, workspace: str, user_ref: str, message: Message, *, key: str | None = None
    ) -> Posted:
        if user_ref == self.broken_user:
            raise RuntimeError("unexpected failure in the platform library")
        return await super().send_dm(workspace, user_ref, message, key=key)


def counted_study(
    store: SqlStore, chat: FakeChat, clock: FakeClock, library: DeckLibrary
) -> tuple[StudyBot, Counter[str]]:
    errors: Counter[str] = Counter()
    chats = Chats()
    chats.add(chat)
    deps = Deps(
        store,
        chats,
        clock,
        library,
        Srs(fuzz=False),
        policy(),
        item_errors=lambda job: errors.update([job]),
    )
    return StudyBot(deps), errors


def store_bad_timezone(store: SqlStore, user: str, tz: str) -> None:
    """Old data (or another writer) left a timezone this host cannot load."""
    with sync_tx(store) as tx:
        tx.conn.execute(update(members).where(members.c.user_ref == user).values(tz=tz))


async def test_a_profile_timezone_this_host_cannot_load_is_not_stored(
    store: SqlStore, chat: FakeChat, clock: FakeClock, library: DeckLibrary, world: World
) -> None:
    study, errors = counted_study(store, chat, clock, library)
    martian = Actor("fake", "T1", "U9", "Marvin", tz="Mars/Olympus")
    with capture_logs() as logs:
        await run(study, martian, world.channel, "/quiz 1")
        await run(study, martian, world.channel, "/quiz 1")
    with sync_tx(store) as tx:
        stored = tx.members.find("fake", "T1", "U9")
    assert stored is not None and stored.tz is None  # the channel's timezone applies
    unknown = [e for e in logs if e["event"] == "member_timezone_unknown"]
    assert len(unknown) == 1 and unknown[0]["timezone"] == "Mars/Olympus"
    assert not errors


async def test_a_stored_timezone_that_cannot_load_stops_nobody(
    store: SqlStore, chat: FakeChat, clock: FakeClock, library: DeckLibrary, world: World
) -> None:
    study, errors = counted_study(store, chat, clock, library)
    clock.set(MONDAY)
    await run(study, world.admin, world.channel, "/study setup")
    await run(study, world.admin, world.channel, "/study post-now")
    post = chat.posts()[-1]
    for who in (world.alice, world.bob):
        await study.message(who, world.thread(post.ref), f"a-{who.user}", "my answer")
        await forget_cards(study, who, world, 2)
    store_bad_timezone(store, "U1", "Mars/Olympus")
    clock.set(MONDAY + timedelta(days=1))
    assert await study.followups.send_due() == 4  # both members, Alice on Berlin time
    assert len(dms_to(chat, "U1")) == 2 and len(dms_to(chat, "U2")) == 2
    clock.set(MONDAY + timedelta(days=2))
    assert await study.streaks.roll_over() == 2
    assert not errors


async def test_a_member_whose_dm_breaks_does_not_stop_the_others(
    store: SqlStore, clock: FakeClock, library: DeckLibrary, world: World
) -> None:
    chat = BreaksFor(broken_user="U1")
    study, errors = counted_study(store, chat, clock, library)
    clock.set(MONDAY)
    for who in (world.alice, world.bob):
        await forget_cards(study, who, world, 2)
    clock.set(MONDAY + timedelta(days=1))
    assert await study.followups.send_due() == 2  # Bob's two
    assert len(dms_to(chat, "U2")) == 2
    assert errors["followups"] == 2
    with sync_tx(store) as tx:
        kept = tx.conn.execute(followups.select().where(followups.c.status == "intent")).all()
    assert len(kept) == 2  # Alice's claims wait: maybe sent, the lookup decides
    chat.broken_user = ""
    clock.advance(hours=1)  # past the intent lease: looked up, not there, released
    await study.followups.send_due()
    clock.advance(days=1)  # due again at the member's next batch: sent once
    await study.followups.send_due()
    await study.followups.send_due()
    assert len(dms_to(chat, "U1")) == 2 and len(dms_to(chat, "U2")) == 2


async def test_a_channel_with_broken_settings_does_not_stop_the_others(
    store: SqlStore, chat: FakeChat, clock: FakeClock, library: DeckLibrary, world: World
) -> None:
    study, errors = counted_study(store, chat, clock, library)
    other = Place("fake", "T1", "C2")
    clock.set(MONDAY - timedelta(hours=1))
    await run(study, world.admin, world.channel, "/study setup")
    await run(study, world.admin, other, "/study setup")
    with sync_tx(store) as tx:
        tx.conn.execute(update(channels).where(channels.c.channel_ref == "C2").values(tz="Mars"))
    clock.set(MONDAY + timedelta(minutes=31))  # past the 09:30 Berlin post time
    await study.posting.post_due()
    assert [p.target.channel for p in chat.posts()] == ["C1"]
    assert errors["dispatch"] >= 1


async def test_a_display_name_is_kept_printable_and_within_its_column(
    store: SqlStore, chat: FakeChat, clock: FakeClock, library: DeckLibrary, world: World
) -> None:
    study, _ = counted_study(store, chat, clock, library)
    loud = Actor("fake", "T1", "U8", "Ada\x1b[31m" + "x" * 500)
    await run(study, loud, world.channel, "/quiz 1")
    with sync_tx(store) as tx:
        stored = tx.members.find("fake", "T1", "U8")
    assert stored is not None
    assert stored.name.startswith("Ada[31m") and len(stored.name) == 120
    assert "\x1b" not in stored.name
