"""``/study`` and ``/quiz`` on Slack, end to end: every body gets a reply, never the
apology, and the error metric stays 0.

1,000 examples (times ``STUDYBOT_FUZZ_EXAMPLES``). Each is a slash command (or, one in
seven, a button press) from an admin, a member or a DM; most go straight to the
adapter's handler (what runs after the ack), one in eight through the signed HTTP
endpoint and Bolt. Replies arrive at the fake Slack's ``response_url``.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.adapters.base import APOLOGY
from bot.adapters.slack.adapter import ACTIONS, SlackAdapter
from bot.adapters.slack.payloads import SlashCommand
from bot.app import App
from tests.fakes import FakeClock
from tests.fuzz.grammar import button_id, fuzz_settings, quiz_text, study_text
from tests.fuzz.worlds import SLACK_CHANNELS, SLACK_USERS, block_kit_problems
from tests.slack.bodies import TEAM, action_body, command_body, signed
from tests.slack.conftest import SECRET, fake_slack, running_app
from tests.slack.fake_slack import FakeSlack

Press = tuple[tuple[str, str], str, str, bool]
"""(kind, text): ``/study`` or ``/quiz`` and its text, or ``button`` and an action id;
then the user, the channel and whether it goes through the HTTP endpoint."""

what = st.one_of(
    *[st.tuples(st.just("/study"), study_text())] * 3,
    *[st.tuples(st.just("/quiz"), quiz_text)] * 3,
    st.tuples(st.just("button"), button_id),
)
presses = st.tuples(
    what,
    st.sampled_from(SLACK_USERS),
    st.sampled_from(SLACK_CHANNELS),
    st.integers(0, 7).map(lambda n: n == 0),
)


class Driver:
    def __init__(self, app: App, fake: FakeSlack, clock: FakeClock, http: aiohttp.ClientSession):
        self.app, self.fake, self.clock, self.http = app, fake, clock, http
        self.adapter = next(a for a in app.adapters if isinstance(a, SlackAdapter))
        assert app.http is not None
        self.url = f"http://127.0.0.1:{app.http.port}/slack/events"
        self.count = 0

    async def press(self, kind: str, text: str, user: str, channel: str, http: bool) -> str:
        """Send one command or button press; the ``response_url`` token of its replies."""
        self.count += 1
        token = f"f{self.count}"
        url = self.fake.response_url(token)
        if kind == "button":
            if http:
                await self._post(action_body(text, user, url, channel))
            else:
                await self.adapter._action(
                    {
                        "team": {"id": TEAM},
                        "user": {"id": user},
                        "channel": {"id": channel},
                        "actions": [{"action_id": text}],
                        "response_url": url,
                    }
                )
        elif http:
            await self._post(command_body(kind, text, user, url, channel))
        else:
            body: SlashCommand = {
                "team_id": TEAM,
                "channel_id": channel,
                "user_id": user,
                "user_name": user.lower(),
                "command": kind,
                "text": text,
                "response_url": url,
            }
            await self.adapter._command(body)
        return token

    async def _post(self, body: str) -> None:
        headers = {"Content-Type": "application/x-www-form-urlencoded", **signed(SECRET, body)}
        async with self.http.post(self.url, data=body.encode(), headers=headers) as response:
            assert response.status == 200

    async def replies(self, token: str, http: bool) -> list[dict[str, Any]]:
        """The replies to one press (waiting for them when Bolt handles it lazily)."""
        deadline = asyncio.get_running_loop().time() + (30.0 if http else 0.0)
        while True:
            found = [r for r in self.fake.responses if r["token"] == token]
            if found or asyncio.get_running_loop().time() >= deadline:
                return found
            await asyncio.sleep(0.01)

    def errors(self) -> float:
        return sum(
            sample.value
            for metric in self.app.metrics.errors.collect()
            for sample in metric.samples
            if sample.name.endswith("_total")
        )


async def open_world(folder: Path, stack: contextlib.AsyncExitStack) -> Driver:
    """A fake Slack and the app serving it, set up and with a posted question."""
    fake = fake_slack()
    fake.users["UADMIN"] = {"is_admin": True, "profile": {"display_name": "Ada"}}
    await fake.start()
    stack.push_async_callback(fake.stop)
    clock = FakeClock(datetime(2025, 3, 3, 8, 0, tzinfo=UTC))  # Monday 09:00 Berlin
    app = await stack.enter_async_context(running_app(folder, fake, clock))
    http = await stack.enter_async_context(aiohttp.ClientSession())
    driver = Driver(app, fake, clock, http)
    for text, reply in (
        ("setup days=daily reveal=+2h", "👋 This channel studies together now"),
        ("post-now", "Posted"),
    ):
        token = await driver.press("/study", text, "UADMIN", "C1", False)
        (got,) = await driver.replies(token, False)
        assert got["text"].startswith(reply), got
    return driver


@pytest.mark.usefixtures("no_tokens")
def test_no_slash_command_or_button_gets_an_internal_error(tmp_path: Path) -> None:
    with asyncio.Runner() as runner:
        stack = contextlib.AsyncExitStack()
        try:
            driver = runner.run(open_world(tmp_path, stack))
            _fuzz(runner, driver)
        finally:
            runner.run(stack.aclose())


def _fuzz(runner: asyncio.Runner, driver: Driver) -> None:
    fake, clock = driver.fake, driver.clock

    @given(press=presses)
    @fuzz_settings(1000)
    def press_anything(press: Press) -> None:
        (kind, text), user, channel, via_http = press
        # Slack sends only the action ids of our buttons (Bolt's listener matches
        # ``actions.PATTERN``); forged ones can only reach the handler directly.
        via_http = via_http and (kind != "button" or bool(ACTIONS.match(text)))
        fake.advance(3)  # members are not that fast: Slack's rate limits stay honest
        clock.advance(minutes=11)
        token = runner.run(driver.press(kind, text, user, channel, via_http))
        replies = runner.run(driver.replies(token, via_http))
        assert replies, (press, fake.refused_responses[-1:])
        for reply in replies:
            assert APOLOGY not in str(reply), (press, reply)
            assert block_kit_problems(reply) == [], (press, reply)
        assert driver.errors() == 0, press

    press_anything()
    assert driver.count >= 1000
