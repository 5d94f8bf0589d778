"""Follow-ups for members who miss days and ignore DMs: expiry, re-sends, catch-ups,
reconciliation after a crash, fair per-member selection, spacing and study days."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.core.models import Actor, Grade
from bot.core.replies import Message, Reply
from bot.core.srs import Srs
from bot.decks import DeckLibrary
from bot.ports.chat import Posted
from bot.services.policy import Policy, default_channel_settings
from bot.services.study import StudyBot
from bot.store.sql import SqlStore
from bot.store.tables import followups, reviews
from tests.conftest import World, make_study
from tests.dbtools import rows, sync_tx
from tests.fakes import FakeChat, FakeClock
from tests.services.helpers import is_error, run, text_of

MONDAY = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)  # 10:00 in Berlin


def button(reply: Reply | Message, label: str) -> str:
    messages = reply.messages if isinstance(reply, Reply) else (reply,)
    for message in messages:
        for b in message.buttons:
            if b.label.split(" · ")[0] == label:
                return b.action
    raise AssertionError(f"no button {label!r}")


def policy(**changes: object) -> Policy:
    base = {"defaults": default_channel_settings("Europe/Berlin"), "admins": frozenset({"admin"})}
    return Policy(**(base | changes))  # type: ignore[arg-type]


async def forget_cards(study: StudyBot, who: Actor, world: World, count: int) -> None:
    """A quiz graded Again throughout: ``count`` cards due the next day."""
    reply = await run(study, who, world.channel, f"/quiz {count}")
    for _ in range(count):
        shown = await study.button(who, button(reply, "Show answer"))
        reply = await study.button(who, button(shown, "Again"))


async def due_on_tuesday(study: StudyBot, clock: FakeClock, world: World, count: int) -> None:
    """Alice forgets ``count`` cards on Monday; the clock stands on Tuesday 10:00."""
    clock.set(MONDAY)
    await forget_cards(study, world.alice, world, count)
    clock.set(MONDAY + timedelta(days=1))


def dms_to(chat: FakeChat, user: str) -> list[Message]:
    return [m for u, m, _ in chat.dms if u == user]


def catchups(chat: FakeChat, user: str) -> list[Message]:
    return [m for m in dms_to(chat, user) if m.kind == "catchup"]


async def take_part(study: StudyBot, chat: FakeChat, world: World, who: Actor) -> None:
    """Today's question is posted and ``who`` answers it (and nothing else)."""
    await run(study, world.admin, world.channel, "/study setup")
    await run(study, world.admin, world.channel, "/study post-now")
    post = chat.posts()[-1]
    await study.message(who, world.thread(post.ref), f"a-{post.ref}", "my answer")


async def test_an_ignored_followup_expires_and_comes_back_then_rests(
    store: SqlStore, chat: FakeChat, clock: FakeClock, library: DeckLibrary, world: World
) -> None:
    study = make_study(store, chat, clock, library, policy(followup_resends=1))
    await due_on_tuesday(study, clock, world, 1)
    assert await study.followups.send_due() == 1
    clock.advance(hours=12)  # Tuesday evening: 12 waking hours are not 24
    assert await study.followups.send_due() == 0
    clock.set(MONDAY + timedelta(days=2))
    await take_part(study, chat, world, world.alice)  # around on Wednesday, DM ignored
    clock.set(MONDAY + timedelta(days=3))  # Thursday 10:00: expired, due again, re-sent
    assert await study.followups.send_due() == 1
    first, second = dms_to(chat, "U1")
    assert first.buttons[0].action != second.buttons[0].action
    clock.advance(hours=1)
    await take_part(study, chat, world, world.alice)  # the re-send is ignored as well
    clock.set(MONDAY + timedelta(days=6))  # the re-send expired too: re-sends used up
    assert await study.followups.send_due() == 0
    clock.set(MONDAY + timedelta(days=7))
    assert await study.followups.send_due() == 0  # rests until Alice is next active
    await take_part(study, chat, world, world.alice)  # active again
    clock.advance(hours=2)
    assert await study.followups.send_due() >= 1


async def test_a_followup_nobody_has_seen_is_not_sent_twice(
    store: SqlStore, chat: FakeChat, clock: FakeClock, library: DeckLibrary, world: World
) -> None:
    """Away since the DM went out: it is still unread, so it waits for them, not a copy."""
    study = make_study(store, chat, clock, library, policy(followup_resends=2))
    await due_on_tuesday(study, clock, world, 1)
    assert await study.followups.send_due() == 1
    for day in (3, 4, 7):  # expired on Thursday; Alice does nothing until next Tuesday
        clock.set(MONDAY + timedelta(days=day))
        assert await study.followups.send_due() == 0
    assert len(dms_to(chat, "U1")) == 1
    clock.set(MONDAY + timedelta(days=8))
    await take_part(study, chat, world, world.alice)  # back, the old DM scrolled away
    clock.advance(hours=2)
    assert await study.followups.send_due() == 1
    first, second = dms_to(chat, "U1")
    shown = await study.button(world.alice, button(first, "Show answer"))  # old one, late
    assert "Graded Good" in text_of(await study.button(world.alice, button(shown, "Good")))
    assert is_error(await study.button(world.alice, button(second, "Show answer")))


async def test_an_expired_dm_still_grades_once(
    store: SqlStore, chat: FakeChat, clock: FakeClock, library: DeckLibrary, world: World
) -> None:
    study = make_study(store, chat, clock, library, policy())
    await due_on_tuesday(study, clock, world, 1)
    await study.followups.send_due()
    clock.set(MONDAY + timedelta(days=2))
    await take_part(study, chat, world, world.alice)
    clock.set(MONDAY + timedelta(days=3))
    await study.followups.send_due()
    first, second = dms_to(chat, "U1")
    shown = await study.button(world.alice, button(first, "Show answer"))
    graded = await study.button(world.alice, button(shown, "Good"))
    assert "Graded Good" in text_of(graded)
    assert is_error(await study.button(world.alice, button(second, "Show answer")))
    assert is_error(
        await study.button(world.alice, second.buttons[0].action.replace("show", "grade") + ":4")
    )
    assert is_error(await study.button(world.alice, button(shown, "Hard")))
    ((user, ref, retired),) = chat.edits  # the re-send shows the result, buttons gone
    assert user == "U1" and ref == next(r for _, m, r in chat.dms if m is second)
    assert retired.buttons == () and "Graded Good" in retired.plain_text()
    with sync_tx(store) as tx:
        alice = tx.members.find("fake", "T1", "U1")
        assert alice is not None
        logged = rows(tx, reviews, member_id=alice.id, kind="followup")
        assert len(logged) == 1
        sent = rows(tx, followups, member_id=alice.id)
        assert [f["status"] for f in sent] == ["graded", "replaced"]


async def test_grade_buttons_say_where_each_grade_leads(
    store: SqlStore, chat: FakeChat, clock: FakeClock, library: DeckLibrary, world: World
) -> None:
    study = make_study(store, chat, clock, library, policy())
    await due_on_tuesday(study, clock, world, 1)
    await study.followups.send_due()
    (dm,) = dms_to(chat, "U1")
    shown = await study.button(world.alice, button(dm, "Show answer"))
    labels = [b.label for b in shown.messages[0].buttons]
    assert [label.split(" · ")[0] for label in labels] == ["Again", "Hard", "Good", "Easy"]
    days = [int(label.split(" · ")[1].removesuffix("d")) for label in labels]
    assert days == sorted(days) and days[0] >= 1 and days[3] > days[0]
    graded = await study.button(world.alice, button(shown, "Good"))
    assert f"in {days[2]} days" in text_of(graded) or (
        days[2] == 1 and "tomorrow" in text_of(graded)
    )


async def daily(study: StudyBot, chat: FakeChat, world: World, graders: list[Actor]) -> str:
    await run(study, world.admin, world.channel, "/study post-now")
    post = chat.posts()[-1]
    for who in graders:
        await study.message(who, world.thread(post.ref), f"a-{who.user}-{post.ref}", "my answer")
    await run(study, world.admin, world.channel, "/study reveal-now")
    reveal = chat.posts("reveal")[-1]
    for who in graders:
        await study.reaction(
            who, world.thread(post.ref), reveal.ref, "white_check_mark", added=True
        )
    return post.ref


async def test_a_missed_daily_question_arrives_as_a_catch_up(
    store: SqlStore, chat: FakeChat, clock: FakeClock, library: DeckLibrary, world: World
) -> None:
    study = make_study(store, chat, clock, library, policy())
    clock.set(MONDAY)
    await run(study, world.admin, world.channel, "/study setup")
    await daily(study, chat, world, [world.alice, world.bob])
    clock.set(MONDAY + timedelta(days=1))
    await daily(study, chat, world, [world.alice])  # Bob missed Tuesday's question
    clock.set(MONDAY + timedelta(days=1, hours=8))
    assert await study.followups.send_due() == 0  # the answer window is still open
    clock.set(MONDAY + timedelta(days=2, hours=2))
    await study.followups.send_due()
    (catchup,) = catchups(chat, "U2")
    assert catchups(chat, "U1") == []
    shown = await study.button(world.bob, button(catchup, "Show answer"))
    await study.button(world.bob, button(shown, "Good"))
    with sync_tx(store) as tx:
        bob = tx.members.find("fake", "T1", "U2")
        assert bob is not None
        tuesday = chat.posts()[-1]
        found = tx.posts.in_thread("fake", "T1", "C1", tuesday.ref)
        assert found is not None
        _, post = found
        assert post.card_key is not None
        state = tx.reviews.state(bob.id, post.card_key)
        assert state is not None and state.origin_channel_id == 1
        assert clock.now().date() in tx.activity.kept_days(bob.id, MONDAY.date())
    clock.advance(days=1)
    await study.followups.send_due()
    assert len(catchups(chat, "U2")) == 1  # a card Bob now has is never a catch-up


async def test_catch_ups_switch_off_per_member_and_per_channel(
    store: SqlStore, chat: FakeChat, clock: FakeClock, library: DeckLibrary, world: World
) -> None:
    study = make_study(store, chat, clock, library, policy())
    clock.set(MONDAY)
    await run(study, world.admin, world.channel, "/study setup")
    await daily(study, chat, world, [world.alice, world.bob])
    reply = await run(study, world.bob, world.channel, "/study pause catchups")
    assert "Catch-ups off" in text_of(reply)
    clock.set(MONDAY + timedelta(days=1))
    await daily(study, chat, world, [])  # nobody took part on Tuesday
    clock.set(MONDAY + timedelta(days=2, hours=2))
    await study.followups.send_due()
    assert len(catchups(chat, "U1")) == 1
    assert catchups(chat, "U2") == []
    await run(study, world.admin, world.channel, "/study setup catchups=off")
    await run(study, world.bob, world.channel, "/study resume catchups")
    clock.set(MONDAY + timedelta(days=2, hours=6))
    await study.followups.send_due()
    assert catchups(chat, "U2") == []


async def test_a_crash_between_claim_and_send_is_reconciled_never_doubled(
    store: SqlStore, chat: FakeChat, clock: FakeClock, library: DeckLibrary, world: World
) -> None:
    study = make_study(store, chat, clock, library, policy())
    await due_on_tuesday(study, clock, world, 2)
    chat.lose_record_of.add("followup:1")  # sent, but the answer never comes back
    assert await study.followups.send_due() == 1
    assert len(chat.dms) == 2
    # A claim whose send never happened (the process died right after claiming).
    with sync_tx(store) as tx:
        alice = tx.members.find("fake", "T1", "U1")
        assert alice is not None
        second = tx.followups.get(2)
        assert second is not None
        state = tx.reviews.state(alice.id, second.card_key)
        assert state is not None
        tx.followups.mark(2, "expired")
        ghost = tx.followups.claim(
            alice.id, state.card_key, state.state.due, MONDAY.date(), clock.now()
        )
        assert ghost is not None
    chat.lookups_fail = True
    clock.advance(hours=3)
    await study.followups.send_due()
    assert len(chat.dms) == 2  # a lookup that fails decides nothing
    chat.lookups_fail = False
    clock.advance(hours=3)
    await study.followups.send_due()
    with sync_tx(store) as tx:
        statuses = {f["id"]: f["status"] for f in rows(tx, followups, member_id=alice.id)}
    assert statuses[1] == "sent"  # found in the DMs by its key: recorded, not re-sent
    assert len(chat.dm_keys) == len(chat.dms)  # one DM per claim: no key sent twice
    clock.advance(hours=2)
    await study.followups.send_due()
    assert sum(1 for k in chat.dm_keys if k == f"followup:{ghost}") <= 1


async def test_due_cards_are_chosen_per_member_so_nobody_starves(
    store: SqlStore, clock: FakeClock
) -> None:
    srs = Srs(fuzz=False)
    now = MONDAY
    with sync_tx(store) as tx:
        for n in range(30):
            member = tx.members.ensure("fake", "T1", f"M{n}", f"m{n}", None, now)
            for c in range(40 if n == 0 else 3):
                state = srs.review(
                    srs.new(now - timedelta(days=9)), Grade.AGAIN, now - timedelta(days=9)
                )
                tx.reviews.save_state(
                    member.id, f"d/c{c}", state, first_seen=now, origin_channel_id=None
                )
        due = tx.reviews.due(now, per_member=2, limit=1000)
    by_member: dict[int, int] = {}
    for item in due:
        by_member[item.member.id] = by_member.get(item.member.id, 0) + 1
    assert len(by_member) == 30
    assert set(by_member.values()) == {2}
    # Paged: served members move their next batch on, so the next page holds others.
    seen: set[int] = set()
    with sync_tx(store) as tx:
        for _ in range(3):
            page = {item.member.id for item in tx.reviews.due(now, per_member=2, limit=10)}
            assert len(page) == 10 and not page & seen
            seen |= page
            for member_id in page:
                tx.members.set_member(member_id, next_batch_at=now + timedelta(hours=2))
        assert tx.reviews.due(now, per_member=2, limit=10) == []


@dataclass
class SlowChat(FakeChat):
    """A chat whose DMs take a while, counting how many are in flight at once."""

    latency: float = 0.02
    in_flight: int = 0
    max_in_flight: int = 0
    seen: list[str] = field(default_factory=list)

    async def send_dm(
        self, workspace: str, user_ref: str, message: Message, *, key: str | None = None
    ) -> Posted:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.latency)
            return await super().send_dm(workspace, user_ref, message, key=key)
        finally:
            self.in_flight -= 1


async def test_dms_go_out_concurrently_within_the_bound(
    store: SqlStore, clock: FakeClock, library: DeckLibrary, world: World
) -> None:
    chat = SlowChat()
    study = make_study(store, chat, clock, library, policy(followup_concurrency=4))
    clock.set(MONDAY)
    for n in range(6):
        await forget_cards(study, Actor("fake", "T1", f"U{n + 10}", f"m{n}"), world, 2)
    clock.set(MONDAY + timedelta(days=1))
    assert await study.followups.send_due() == 12
    assert 1 < chat.max_in_flight <= 4


async def test_batches_are_spaced_and_follow_study_days(
    store: SqlStore, chat: FakeChat, clock: FakeClock, library: DeckLibrary, world: World
) -> None:
    study = make_study(store, chat, clock, library, policy(followup_batch=2))
    await due_on_tuesday(study, clock, world, 6)
    assert await study.followups.send_due() == 2
    shown = await study.button(world.alice, button(dms_to(chat, "U1")[0], "Show answer"))
    await study.button(world.alice, button(shown, "Again"))  # she studies one of them
    clock.advance(minutes=5)
    assert await study.followups.send_due() == 0  # the next batch waits two hours
    clock.advance(hours=2)
    assert await study.followups.send_due() == 2
    reply = await run(study, world.alice, world.channel, "/study resume followups days=sat")
    assert "on sat" in text_of(reply)
    clock.advance(hours=2)
    assert await study.followups.send_due() == 0  # Tuesday is not Alice's study day
    clock.set(datetime(2025, 3, 8, 9, 0, tzinfo=UTC))  # Saturday 10:00 in Berlin
    assert await study.followups.send_due() == 2
    bad = await run(study, world.alice, world.channel, "/study resume followups days=funday")
    assert is_error(bad)


async def test_an_unopened_batch_holds_the_next_until_the_member_is_back(
    store: SqlStore, chat: FakeChat, clock: FakeClock, library: DeckLibrary, world: World
) -> None:
    """Nobody has looked at the last batch: the next one waits instead of piling up."""
    study = make_study(store, chat, clock, library, policy(followup_batch=2))
    await due_on_tuesday(study, clock, world, 6)
    assert await study.followups.send_due() == 2
    for _ in range(4):  # Tuesday afternoon: the gap has passed, the batch is unopened
        clock.advance(hours=2)
        assert await study.followups.send_due() == 0
    assert len(dms_to(chat, "U1")) == 2
    await run(study, world.alice, world.channel, "/study status")  # a look is not study
    clock.advance(hours=1)
    assert await study.followups.send_due() == 0
    await take_part(study, chat, world, world.alice)  # back: she answers the daily post
    clock.advance(minutes=30)
    assert await study.followups.send_due() == 2
    assert len(dms_to(chat, "U1")) == 4


def test_interval_text_reads_like_anki() -> None:
    from bot.services.messages import interval_text

    assert interval_text(timedelta(hours=3)) == "1d"
    assert interval_text(timedelta(days=12.4)) == "12d"
    assert interval_text(timedelta(days=50)) == "1.6mo"
    assert interval_text(timedelta(days=330)) == "11mo"
    assert interval_text(timedelta(days=800)) == "2.2y"
