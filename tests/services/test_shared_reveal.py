"""The reveal reaches the channel: broadcast with the thread reply where the platform can
(Slack), else one pointer in the channel (Discord); ``share=off`` keeps it in the thread."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.services.study import StudyBot
from tests.conftest import World
from tests.fakes import FakeChat, FakeClock
from tests.services.helpers import run

MONDAY = datetime(2025, 3, 3, 7, 0, tzinfo=UTC)


async def a_revealed_day(study: StudyBot, world: World, clock: FakeClock, setup: str) -> None:
    clock.set(MONDAY)
    await run(study, world.admin, world.channel, setup)
    clock.set(MONDAY + timedelta(hours=3))
    await study.posting.post_due()
    clock.set(MONDAY + timedelta(hours=9))  # past 09:30 + 6 h
    assert await study.posting.reveal_due() == 1
    for _ in range(2):
        await study.notices.send_due()
        await study.posting.reconcile()


async def test_the_reveal_is_broadcast_with_its_thread_reply_by_default(
    study: StudyBot, world: World, chat: FakeChat, clock: FakeClock
) -> None:
    await a_revealed_day(study, world, clock, "/study setup")
    (reveal,) = chat.posts("reveal")
    assert reveal.target.thread is not None  # it lives in the thread...
    assert chat.broadcast_sends == [reveal.ref]  # ...and shows in the channel, one send
    assert [s for s in chat.sent if (s.key or "").startswith("studybot:notice:")] == []


async def test_share_off_keeps_the_reveal_in_the_thread(
    study: StudyBot, world: World, chat: FakeChat, clock: FakeClock
) -> None:
    await a_revealed_day(study, world, clock, "/study setup share=off")
    assert len(chat.posts("reveal")) == 1
    assert chat.broadcast_sends == []


async def test_a_platform_without_broadcast_gets_one_pointer_in_the_channel(
    study: StudyBot, world: World, chat: FakeChat, clock: FakeClock
) -> None:
    chat.broadcasts = False
    await a_revealed_day(study, world, clock, "/study setup")
    (reveal,) = chat.posts("reveal")
    pointers = [s for s in chat.sent if (s.key or "").startswith("studybot:notice:")]
    assert len(pointers) == 1
    (pointer,) = pointers
    assert pointer.target.thread is None  # in the channel itself
    text = pointer.message.plain_text()
    assert "key points of Mon 3 Mar are up in the thread" in text
    assert f"<thread {reveal.target.thread}>" in text  # a link to the thread
