"""Follow-ups by DM and /quiz sessions, driven through buttons."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.models import Actor, Grade
from bot.core.replies import Reply
from bot.core.schedule import week_start
from bot.decks import DeckLibrary
from bot.services.policy import Policy
from bot.services.study import StudyBot
from bot.store.sql import SqlStore
from bot.store.tables import activity
from tests.conftest import World, make_study
from tests.dbtools import rows, sync_tx
from tests.fakes import FakeChat, FakeClock
from tests.services.helpers import is_error, run, text_of


def button(reply: Reply, label: str) -> str:
    for message in reply.messages:
        for b in message.buttons:
            if b.label.split(" · ")[0] == label:
                return b.action
    raise AssertionError(f"no button {label!r} in {reply}")


async def graded_daily_card(
    study: StudyBot, world: World, chat: FakeChat, who: Actor, grade: str
) -> None:
    await run(study, world.admin, world.channel, "/study setup")
    await run(study, world.admin, world.channel, "/study post-now")
    (post,) = chat.posts()
    await study.message(who, world.thread(post.ref), "a1", "answer")
    await run(study, world.admin, world.channel, "/study reveal-now")
    (reveal,) = chat.posts("reveal")
    await study.reaction(who, world.thread(post.ref), reveal.ref, grade, added=True)


async def test_due_card_comes_back_by_dm_and_is_graded_by_buttons(
    study: StudyBot, world: World, chat: FakeChat, clock: FakeClock, store: SqlStore
) -> None:
    clock.set(datetime(2025, 3, 3, 9, 0, tzinfo=UTC))  # 10:00 Berlin
    await graded_daily_card(study, world, chat, world.alice, "x")  # Again: due tomorrow
    assert await study.followups.send_due() == 0
    clock.set(datetime(2025, 3, 4, 9, 5, tzinfo=UTC))
    assert await study.followups.send_due() == 1
    assert await study.followups.send_due() == 0  # open follow-up: not sent twice
    (user, message, _ref) = chat.dms[0]
    assert user == "U1"
    show = message.buttons[0].action
    assert show.startswith("fu:show:")
    # Someone else cannot press Alice's buttons.
    assert is_error(await study.button(world.bob, show))
    answer = await study.button(world.alice, show)
    assert "Key points" in text_of(answer)
    graded = await study.button(world.alice, button(answer, "Good"))
    assert "Graded Good" in text_of(graded)
    assert is_error(await study.button(world.alice, button(answer, "Easy")))
    with sync_tx(store) as tx:
        alice = tx.members.find("fake", "T1", "U1")
        assert alice is not None
        (state,) = tx.reviews.states_for(alice.id)
        assert state.state.reps == 2
        assert tx.activity.week_points(alice.id, week_start(clock.now().date())) == 15 + 2 + 3


async def test_followups_respect_waking_hours_pause_and_closed_dms(
    study: StudyBot, world: World, chat: FakeChat, clock: FakeClock, store: SqlStore
) -> None:
    clock.set(datetime(2025, 3, 3, 9, 0, tzinfo=UTC))
    await graded_daily_card(study, world, chat, world.alice, "x")
    clock.set(datetime(2025, 3, 4, 22, 0, tzinfo=UTC))  # 23:00 Berlin: asleep
    assert await study.followups.send_due() == 0
    clock.set(datetime(2025, 3, 5, 9, 0, tzinfo=UTC))
    await run(study, world.alice, world.channel, "/study pause followups")
    assert await study.followups.send_due() == 0
    await run(study, world.alice, world.channel, "/study resume followups")
    chat.closed_dms.add("U1")
    assert await study.followups.send_due() == 0
    with sync_tx(store) as tx:
        alice = tx.members.find("fake", "T1", "U1")
        assert alice is not None and alice.dm_block_reason == "dms_closed"
    chat.closed_dms.clear()
    assert await study.followups.send_due() == 0  # backing off
    clock.advance(days=1, minutes=1)
    assert await study.followups.send_due() == 1


@pytest.mark.parametrize(("cap", "expected"), [(3, 3), (10, 9)])
async def test_daily_followup_cap(
    store: SqlStore,
    chat: FakeChat,
    clock: FakeClock,
    library: DeckLibrary,
    world: World,
    cap: int,
    expected: int,
) -> None:
    study = make_study(
        store, chat, clock, library, Policy(followup_daily_cap=cap, followup_batch=5)
    )
    clock.set(datetime(2025, 3, 3, 9, 0, tzinfo=UTC))
    reply = await run(study, world.alice, world.channel, "/quiz 9")
    for _ in range(9):
        shown = await study.button(world.alice, button(reply, "Show answer"))
        reply = await study.button(world.alice, button(shown, "Again"))
    assert "recalled 0 of 9" in text_of(reply)
    clock.set(datetime(2025, 3, 4, 9, 0, tzinfo=UTC))
    sent = 0
    for _ in range(4):  # batches two hours apart, within waking hours
        sent += await study.followups.send_due()
        for _, message, _ in chat.dms:  # Alice opens them (an unopened batch holds the next)
            await study.button(world.alice, message.buttons[0].action)
        clock.advance(hours=2)
    assert sent == expected
    clock.set(datetime(2025, 3, 5, 9, 0, tzinfo=UTC))
    assert await study.followups.send_due() == min(5, cap, 9 - expected)  # a new day, a new cap


async def test_quiz_flow_and_summary(
    study: StudyBot, world: World, store: SqlStore, clock: FakeClock
) -> None:
    reply = await run(study, world.bob, world.channel, "/quiz alpha 2")
    assert "Quiz: 2 cards on alpha" in text_of(reply)
    first = button(reply, "Show answer")
    shown = await study.button(world.bob, first)
    assert is_error(await study.button(world.alice, first))
    nxt = await study.button(world.bob, button(shown, "Good"))
    assert "card 2 of 2" in text_of(nxt)
    # The first card's buttons are spent.
    assert is_error(await study.button(world.bob, button(shown, "Easy")))
    shown2 = await study.button(world.bob, button(nxt, "Show answer"))
    summary = await study.button(world.bob, button(shown2, "Hard"))
    assert "recalled 2 of 2" in text_of(summary)
    with sync_tx(store) as tx:
        bob = tx.members.find("fake", "T1", "U2")
        assert bob is not None
        kinds = [a["kind"] for a in rows(tx, activity, member_id=bob.id)]
        assert kinds == ["quiz_card", "quiz_card", "quiz_done"]
        assert tx.activity.kept_days(bob.id, clock.now().date()) == {clock.now().date()}


async def test_quiz_bad_input(study: StudyBot, world: World) -> None:
    assert "Unknown topic 'cooking'" in text_of(
        await run(study, world.bob, world.channel, "/quiz cooking")
    )
    assert "from 1 to 20, not 21" in text_of(await run(study, world.bob, world.channel, "/quiz 21"))
    assert "from 1 to 20, not 0" in text_of(await run(study, world.bob, world.channel, "/quiz 0"))
    assert is_error(await study.button(world.bob, "qz:grade:999:0:3"))
    assert is_error(await study.button(world.bob, "nonsense"))


async def test_grade_values_map_to_fsrs(study: StudyBot) -> None:
    assert [g.value for g in Grade] == [1, 2, 3, 4]


async def test_a_quiz_advances_in_one_message_and_old_buttons_go(
    study: StudyBot, world: World
) -> None:
    reply = await run(study, world.alice, world.channel, "/quiz 3")
    assert not reply.replace  # the quiz starts as a new message
    for position in range(3):
        shown = await study.button(world.alice, button(reply, "Show answer"))
        assert shown.replace and len(shown.messages) == 1  # the question becomes its answer
        (answer,) = shown.messages
        assert answer.lines[0] in text_of(reply)  # the question stays in view
        reply = await study.button(world.alice, button(shown, "Good"))
        assert reply.replace and len(reply.messages) == 1  # the answer becomes the next card
        if position < 2:
            assert "Show answer" in [b.label for b in reply.messages[0].buttons]
    assert reply.messages[0].buttons == ()
    assert "Quiz done" in text_of(reply)


async def test_a_graded_followup_keeps_its_question_and_loses_its_buttons(
    store: SqlStore,
    chat: FakeChat,
    clock: FakeClock,
    library: DeckLibrary,
    world: World,
    policy: Policy,
) -> None:
    study = make_study(store, chat, clock, library, policy)
    clock.set(datetime(2025, 3, 3, 9, 0, tzinfo=UTC))
    quiz = await run(study, world.alice, world.channel, "/quiz 1")
    shown = await study.button(world.alice, button(quiz, "Show answer"))
    await study.button(world.alice, button(shown, "Again"))
    clock.set(datetime(2025, 3, 4, 9, 0, tzinfo=UTC))
    assert await study.followups.send_due() == 1
    (dm,) = [m for _, m, _ in chat.dms]
    shown = await study.button(world.alice, dm.buttons[0].action)
    assert shown.replace and shown.messages[0].lines[0] == dm.lines[0]
    graded = await study.button(world.alice, button(shown, "Good"))
    assert graded.replace
    (done,) = graded.messages
    assert done.title == dm.lines[0] and done.buttons == ()
    assert "Graded Good" in done.plain_text()
