"""The daily loop through the services: post, answers, reveal, grades."""

from __future__ import annotations

from datetime import timedelta

from bot.core.models import Grade
from bot.services.study import StudyBot
from bot.store.sql import SqlStore
from bot.store.tables import channels
from tests.conftest import World
from tests.dbtools import count, sync_tx
from tests.fakes import FakeChat, FakeClock
from tests.services.helpers import is_error, run, text_of


async def setup_and_post(study: StudyBot, world: World, chat: FakeChat) -> str:
    reply = await run(study, world.admin, world.channel, "/study setup")
    assert not is_error(reply), text_of(reply)
    reply = await run(study, world.admin, world.channel, "/study post-now")
    assert not is_error(reply), text_of(reply)
    (post,) = chat.posts()
    return post.ref


async def test_answers_count_once_and_are_acknowledged(
    study: StudyBot, world: World, chat: FakeChat, store: SqlStore
) -> None:
    thread = await setup_and_post(study, world, chat)
    reply = await study.message(
        world.alice, world.thread(thread), "a1", "threads share memory", event_id="E1"
    )
    assert reply.react == "memo"
    assert "+15 points" in text_of(reply)
    # The same event delivered again changes nothing.
    again = await study.message(
        world.alice, world.thread(thread), "a1", "threads share memory", event_id="E1"
    )
    assert again.empty
    # A second message from Alice is discussion, not a second answer.
    extra = await study.message(
        world.alice, world.thread(thread), "a2", "and also...", event_id="E2"
    )
    assert extra.react is None
    with sync_tx(store) as tx:
        found = tx.posts.in_thread("fake", "T1", "C1", thread)
        assert found is not None
        _, post = found
        answers = tx.answers.for_post(post.id)
        assert [(a.text, a.message_ref) for a in answers] == [("threads share memory", "a1")]
        alice = tx.members.find("fake", "T1", "U1")
        assert alice is not None
        assert tx.activity.total_points(alice.id) == 15


async def test_edit_updates_and_delete_removes_the_answer(
    study: StudyBot, world: World, chat: FakeChat, store: SqlStore
) -> None:
    thread = await setup_and_post(study, world, chat)
    await study.message(world.alice, world.thread(thread), "a1", "first draft")
    assert await study.message_edited(world.thread(thread), "a1", "better answer")
    assert not await study.message_edited(world.thread(thread), "not-an-answer", "x")
    with sync_tx(store) as tx:
        (answer,) = tx.answers.for_post(1)
        assert answer.text == "better answer"
    assert await study.message_deleted(world.thread(thread), "a1")
    with sync_tx(store) as tx:
        assert tx.answers.for_post(1) == []
        alice = tx.members.find("fake", "T1", "U1")
        assert alice is not None
        assert tx.activity.total_points(alice.id) == 0


async def test_messages_outside_a_daily_thread_are_ignored(
    study: StudyBot, world: World, chat: FakeChat, store: SqlStore
) -> None:
    await setup_and_post(study, world, chat)
    reply = await study.message(world.alice, world.thread("some-other-thread"), "x1", "hello")
    assert reply.empty
    with sync_tx(store) as tx:
        assert tx.answers.for_post(1) == []


async def test_reveal_then_grades_add_change_remove(
    study: StudyBot, world: World, chat: FakeChat, store: SqlStore, clock: FakeClock
) -> None:
    thread = await setup_and_post(study, world, chat)
    await study.message(world.alice, world.thread(thread), "a1", "my answer")
    reply = await run(study, world.admin, world.channel, "/study reveal-now")
    assert "Revealed" in text_of(reply)
    (reveal,) = chat.posts("reveal")
    assert reveal.target.thread == thread
    assert "1 answered" in reveal.message.plain_text()
    # A second reveal is refused.
    assert is_error(await run(study, world.admin, world.channel, "/study reveal-now"))

    place = world.thread(thread)
    good = await study.reaction(world.alice, place, reveal.ref, "white_check_mark", added=True)
    assert "Graded Good" in text_of(good)
    easy = await study.reaction(world.alice, place, reveal.ref, "rocket", added=True)
    assert "Graded Easy" in text_of(easy)
    # Removing the old emoji does nothing: the grade is now Easy.
    assert (
        await study.reaction(world.alice, place, reveal.ref, "white_check_mark", added=False)
    ).empty
    with sync_tx(store) as tx:
        alice = tx.members.find("fake", "T1", "U1")
        assert alice is not None
        grade = tx.reviews.grade_of(1, alice.id)
        assert grade is not None and grade.grade == Grade.EASY
        history = tx.reviews.history(
            alice.id, "testdeck/" + (tx.posts.get(1)).card_key.split("/")[1]
        )  # type: ignore[union-attr]
        assert [g for g, _ in history] == [Grade.EASY]
        points = tx.activity.total_points(alice.id)
    assert points == 17  # 10 + 5 early + 2 grade, graded once
    removed = await study.reaction(world.alice, place, reveal.ref, "rocket", added=False)
    assert "withdrawn" in text_of(removed)
    with sync_tx(store) as tx:
        assert tx.reviews.grade_of(1, alice.id) is None
        assert tx.reviews.states_for(alice.id) == []


async def test_a_grade_on_a_message_that_is_not_a_reveal(
    study: StudyBot, world: World, chat: FakeChat
) -> None:
    thread = await setup_and_post(study, world, chat)
    reply = await study.reaction(
        world.alice, world.thread(thread), thread, "white_check_mark", added=True
    )
    assert is_error(reply)
    assert "only on the reveal" in text_of(reply)
    # A non-grade emoji, or one on a member's message, is silently ignored.
    assert (
        await study.reaction(world.alice, world.thread(thread), thread, "tada", added=True)
    ).empty
    assert (
        await study.reaction(
            world.alice, world.thread(thread), "m9", "x", added=True, on_bot_message=False
        )
    ).empty


async def test_answering_a_question_revealed_days_ago_is_refused(
    study: StudyBot, world: World, chat: FakeChat, clock: FakeClock, store: SqlStore
) -> None:
    thread = await setup_and_post(study, world, chat)
    await run(study, world.admin, world.channel, "/study reveal-now")
    clock.advance(days=2)
    reply = await study.message(world.bob, world.thread(thread), "b1", "late answer")
    assert is_error(reply)
    assert "closed" in text_of(reply)
    with sync_tx(store) as tx:
        assert tx.answers.for_post(1) == []


async def test_study_answer_answers_the_latest_post(
    study: StudyBot, world: World, chat: FakeChat, store: SqlStore
) -> None:
    await setup_and_post(study, world, chat)
    reply = await run(study, world.bob, world.channel, "/study answer  use processes for CPU work")
    assert "Answer recorded" in text_of(reply)
    again = await run(study, world.bob, world.channel, "/study answer  use processes, or C code")
    assert "updated" in text_of(again)
    with sync_tx(store) as tx:
        (answer,) = tx.answers.for_post(1)
        assert answer.text == "use processes, or C code"
    assert is_error(await run(study, world.bob, world.channel, "/study answer"))


async def test_post_now_twice_and_skip(study: StudyBot, world: World, chat: FakeChat) -> None:
    await setup_and_post(study, world, chat)
    again = await run(study, world.admin, world.channel, "/study post-now")
    assert is_error(again) and "already posted" in text_of(again)
    assert is_error(await run(study, world.admin, world.channel, "/study skip"))
    assert len(chat.posts()) == 1


async def test_skip_today_forgives_and_blocks_the_post(
    study: StudyBot, world: World, chat: FakeChat, clock: FakeClock
) -> None:
    await run(study, world.admin, world.channel, "/study setup")
    reply = await run(study, world.admin, world.channel, "/study skip")
    assert "Skipped" in text_of(reply)
    clock.advance(hours=2)  # past 09:30 Berlin
    await study.posting.post_due()
    assert chat.posts() == []
    assert is_error(await run(study, world.admin, world.channel, "/study post-now"))


async def test_removed_from_channel_pauses_it_with_the_reason(
    study: StudyBot, world: World, chat: FakeChat, clock: FakeClock
) -> None:
    await run(study, world.admin, world.channel, "/study setup")
    chat.gone_channels.add(world.channel.channel)
    clock.advance(hours=1, minutes=31)
    report = await study.posting.post_due()
    assert report.failed == 1
    status = text_of(await run(study, world.admin, world.channel, "/study status"))
    assert "paused (not_in_channel)" in status
    (told,) = [(user, m) for user, m, _ in chat.dms if m.kind == "notice"]
    assert told[0] == world.admin.user  # the admin who set it up hears why, once
    assert "invite it" in told[1].plain_text() and "/study resume" in told[1].plain_text()
    clock.advance(days=1)
    await study.posting.post_due()
    assert chat.posts() == []  # no retry storm while paused
    assert [m.kind for _, m, _ in chat.dms].count("notice") == 1


async def test_reveal_is_sent_when_due(
    study: StudyBot, world: World, chat: FakeChat, clock: FakeClock
) -> None:
    await setup_and_post(study, world, chat)
    await study.posting.reveal_due()
    assert chat.posts("reveal") == []
    clock.advance(hours=6, seconds=1)
    assert await study.posting.reveal_due() == 1
    assert await study.posting.reveal_due() == 0
    assert len(chat.posts("reveal")) == 1


async def test_deck_exhaustion_starts_a_new_cycle(
    study: StudyBot, world: World, chat: FakeChat, clock: FakeClock
) -> None:
    await run(study, world.admin, world.channel, "/study setup topics=gamma")
    for _ in range(3):
        clock.advance(days=1)
        await run(study, world.admin, world.channel, "/study post-now")
    posts = chat.posts()
    assert len(posts) == 3
    keys = [p.key for p in posts]
    assert len(set(keys)) == 3
    questions = [p.message.lines for p in posts]
    assert "new cycle" in " ".join(questions[2])
    assert questions[0][0] != questions[1][0]


async def test_two_members_timeline_and_leaderboard(
    study: StudyBot, world: World, chat: FakeChat, clock: FakeClock
) -> None:
    thread = await setup_and_post(study, world, chat)
    await study.message(world.alice, world.thread(thread), "a1", "answer")
    await run(study, world.admin, world.channel, "/study reveal-now")
    await study.message(world.bob, world.thread(thread), "b1", "after the reveal")
    board = text_of(await run(study, world.bob, world.channel, "/study leaderboard"))
    assert "1. Alice: 15 pts" in board
    assert "2. Bob: 10 pts" in board
    clock.advance(days=7)
    await study.leaderboards.post_due()
    (weekly,) = chat.posts("leaderboard")
    assert "Alice: 15 pts" in weekly.message.plain_text()
    clock.advance(minutes=5)
    await study.leaderboards.post_due()
    assert len(chat.posts("leaderboard")) == 1
    assert timedelta(days=7)  # the week rolled


async def test_grade_buttons_on_the_reveal_are_the_one_grade_said_privately(
    study: StudyBot, world: World, chat: FakeChat, store: SqlStore
) -> None:
    thread = await setup_and_post(study, world, chat)
    await run(study, world.admin, world.channel, "/study reveal-now")
    (reveal,) = chat.posts("reveal")
    by_label = {b.label: b.action for b in reveal.message.buttons}
    assert list(by_label) == ["Again", "Hard", "Good", "Easy"]
    hard = await study.button(world.alice, by_label["Hard"])
    assert "Graded Hard" in text_of(hard) and hard.visibility == "private"
    again = await study.button(world.alice, by_label["Hard"])
    assert "already graded this Hard" in text_of(again)
    place = world.thread(thread)
    easy = await study.reaction(world.alice, place, reveal.ref, "rocket", added=True)
    assert "Graded Easy" in text_of(easy)  # a reaction replaces the button's grade
    good = await study.button(world.alice, by_label["Good"])
    assert "Graded Good" in text_of(good)  # and a button the reaction's
    with sync_tx(store) as tx:
        alice = tx.members.find("fake", "T1", "U1")
        assert alice is not None
        grade = tx.reviews.grade_of(1, alice.id)
        assert grade is not None and grade.grade == Grade.GOOD
        assert tx.activity.total_points(alice.id) == 2  # one grade's points, once


async def test_a_reveal_button_from_another_platform_is_refused(
    study: StudyBot, world: World, chat: FakeChat
) -> None:
    await setup_and_post(study, world, chat)
    await run(study, world.admin, world.channel, "/study reveal-now")
    (reveal,) = chat.posts("reveal")
    stranger = world.alice.__class__("other", "T2", "U9", "Mallory")
    assert is_error(await study.button(stranger, reveal.message.buttons[0].action))
    assert is_error(await study.button(world.alice, "rv:grade:999:3"))


async def test_grading_closes_two_weeks_after_the_reveal(
    study: StudyBot, world: World, chat: FakeChat, clock: FakeClock
) -> None:
    thread = await setup_and_post(study, world, chat)
    await run(study, world.admin, world.channel, "/study reveal-now")
    (reveal,) = chat.posts("reveal")
    place = world.thread(thread)
    assert await study.threads.gradable(place)
    clock.advance(days=13)
    good = await study.reaction(world.alice, place, reveal.ref, "white_check_mark", added=True)
    assert "Graded Good" in text_of(good)
    clock.advance(days=2)
    assert not await study.threads.gradable(place)
    late = await study.reaction(world.bob, place, reveal.ref, "white_check_mark", added=True)
    assert is_error(late) and "closed for grading 14 days" in text_of(late)
    assert is_error(await study.button(world.bob, reveal.message.buttons[2].action))
    assert not await study.threads.gradable(world.thread("not-a-thread"))


async def test_setup_checks_the_bot_can_post_there(
    study: StudyBot, world: World, chat: FakeChat, store: SqlStore
) -> None:
    chat.gone_channels.add(world.channel.channel)
    refused = await run(study, world.admin, world.channel, "/study setup")
    assert is_error(refused) and "invite it" in text_of(refused)
    assert "Nothing changed" in text_of(refused)
    with sync_tx(store) as tx:
        assert count(tx, channels) == 0
    member = await run(study, world.alice, world.channel, "/study setup")
    assert "admin" in text_of(member)  # a member learns nothing about the channel
    chat.gone_channels.clear()
    chat.lookups_fail = True  # the platform cannot say: setup is not blocked on it
    assert "studies together now" in text_of(
        await run(study, world.admin, world.channel, "/study setup")
    )
