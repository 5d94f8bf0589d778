"""A fan-out keeps to its bound of calls in flight and to one message a second per channel."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.models import Target
from bot.core.replies import Message
from tests.fakes import FakeClock
from tests.slack.conftest import running_app
from tests.slack.fake_slack import FakeSlack


@pytest.fixture
async def slow_fake(monkeypatch: pytest.MonkeyPatch) -> FakeSlack:
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "DISCORD_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    channels = {f"C{n}" for n in range(12)} | {"CBUSY", "COTHER"}
    fake = FakeSlack(latency=0.05, joined=channels)
    await fake.start()
    yield fake  # type: ignore[misc]
    await fake.stop()


async def test_the_configured_bound_holds_during_a_fan_out(
    tmp_path: Path, slow_fake: FakeSlack
) -> None:
    clock = FakeClock(datetime(2025, 3, 3, 8, 0, tzinfo=UTC))
    async with running_app(tmp_path, slow_fake, clock, slack_concurrency=3) as built:
        chat = built.adapters[0].chat  # type: ignore[attr-defined]
        await asyncio.gather(
            *(chat.post(Target("slack", "T1", f"C{n}"), Message("hi")) for n in range(12))
        )
    assert len(slow_fake.posts()) == 12
    assert slow_fake.max_in_flight == 3


async def test_posts_to_one_channel_are_spaced_and_others_are_not_held_up(
    tmp_path: Path, slow_fake: FakeSlack
) -> None:
    from bot.adapters.slack.chat import SlackChat

    clock = FakeClock(datetime(2025, 3, 3, 8, 0, tzinfo=UTC))
    async with running_app(tmp_path, slow_fake, clock) as built:
        adapter_chat = built.adapters[0].chat  # type: ignore[attr-defined]
        chat = SlackChat(adapter_chat.client, per_channel_interval=0.3)
        released: dict[str, list[float]] = {"CBUSY": [], "COTHER": []}
        pace = chat._pacer.wait

        async def timed(channel: str) -> None:  # when the pacer lets each send go
            await pace(channel)
            released[channel].append(time.monotonic())

        chat._pacer.wait = timed  # type: ignore[method-assign]
        busy, other = Target("slack", "T1", "CBUSY"), Target("slack", "T1", "COTHER")
        await asyncio.gather(
            *(chat.post(busy, Message(f"{n}")) for n in range(3)),
            chat.post(other, Message("x")),
        )
    # Release times, not arrival times at the fake. The pacer gives the k-th send a slot
    # k intervals after the first and never releases it before: a loaded event loop can
    # wake one send late (a 0.19 s gap to the next on time), never one early.
    times = released["CBUSY"]
    since_first = [t - times[0] for t in times]
    assert len(times) == 3 and all(  # paced locally...
        since >= k * 0.3 - 0.02 for k, since in enumerate(since_first)
    ), since_first
    posts = [c for c in slow_fake.calls if c.method == "chat.postMessage"]
    assert len(posts) == 4 and not slow_fake.throttled  # ...not by 429s
    assert released["COTHER"][0] < released["CBUSY"][1]  # another channel does not wait
