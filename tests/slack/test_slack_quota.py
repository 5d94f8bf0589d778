"""Slack quota: calls the bot can do without are not made, and the cosmetic ones are paced.

``auth.test`` once per process, ``users.info`` cached for hours (unknown members too),
a DM channel opened once per member, ``reactions.add`` within its Tier 3 budget.
"""

from __future__ import annotations

import asyncio

from bot.adapters.slack.pacing import Budget
from bot.adapters.slack.users import Users
from bot.core.models import Target
from bot.core.replies import Message
from tests.dbtools import sync_tx
from tests.slack.conftest import Direct, SlackWorld, eventually
from tests.slack.fake_limits import Budget as SlackBudget
from tests.slack.fake_slack import BOT_USER

HOUR = 3600.0


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_auth_test_is_asked_once_per_process(slack: SlackWorld) -> None:
    await slack.command("setup")
    await slack.command("post-now")
    await slack.command("reveal-now")
    reveal = slack.fake.messages["C1"][-1]["ts"]
    members = ["U1", "U2", "U3"]
    for n, user in enumerate(members):
        grade = {
            "type": "reaction_added",
            "user": user,
            "reaction": "white_check_mark",
            "item_user": BOT_USER,
            "item": {"type": "message", "channel": "C1", "ts": reveal},
            "event_ts": "1.1",
        }
        assert await slack.event(grade, f"EvG{n}") == 200

    def graded() -> int:
        with sync_tx(slack.app.store) as tx:
            found = [tx.members.find("slack", "T1", user) for user in members]
            return sum(1 for m in found if m is not None and tx.reviews.grade_of(1, m.id))

    await eventually(lambda: graded() == len(members))
    assert len(slack.fake.called("auth.test")) == 1


async def test_users_info_is_cached_for_hours(direct: Direct) -> None:
    clock = Clock()
    users = Users(direct.chat, frozenset(), now=clock)
    assert (await users.get("U1")).name == "member-u1"
    clock.now += 5 * HOUR
    await users.get("U1")
    assert len(direct.fake.called("users.info")) == 1
    clock.now += 2 * HOUR
    await users.get("U1")
    assert len(direct.fake.called("users.info")) == 2


async def test_an_unknown_member_is_remembered_as_unknown(direct: Direct) -> None:
    clock = Clock()
    direct.fake.missing_users.add("UGONE")
    users = Users(direct.chat, frozenset(), now=clock)
    for _ in range(3):
        assert (await users.get("UGONE", "gone")).name == "gone"
    assert len(direct.fake.called("users.info")) == 1
    clock.now += 2 * HOUR
    await users.get("UGONE", "gone")
    assert len(direct.fake.called("users.info")) == 2


async def test_a_failed_lookup_is_not_remembered(direct: Direct) -> None:
    users = Users(direct.chat, frozenset(), now=Clock())
    direct.fake.errors[("users.info", "*")] = "internal_error"
    assert (await users.get("U1", "u1")).name == "u1"
    del direct.fake.errors[("users.info", "*")]
    assert (await users.get("U1", "u1")).name == "member-u1"


async def test_a_dm_channel_is_opened_once_per_member(direct: Direct) -> None:
    chat = direct.chat_with(per_channel_interval=0.0)
    for n in range(2):
        await chat.send_dm("T1", "U1", Message(f"follow-up {n}"), key=f"k{n}")
    assert await chat.find_dm("T1", "U1", "k1") is not None
    assert [c["users"] for c in direct.fake.called("conversations.open")] == ["U1"]
    assert len(direct.fake.messages["DU1"]) == 2


async def test_reactions_are_paced_within_their_tier(direct: Direct) -> None:
    # Scaled down to keep the test short: Slack allows 10 a second here, we send 5.
    direct.fake.limits.tiers["reactions.add"] = SlackBudget(per_minute=600, burst=2)
    chat = direct.chat_with(reactions=Budget(per_minute=300, burst=1))
    target = Target("slack", "T1", "C1")
    await asyncio.gather(*(chat.react(target, f"1700000{n}.0001", "eyes") for n in range(6)))
    assert len(direct.fake.reactions) == 6
    assert direct.fake.throttled == []  # paced here, never refused by Slack
