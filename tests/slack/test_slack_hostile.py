"""Requests from someone who is not Slack: refused before parsing, and nearly silent."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
import structlog

from bot import log
from bot.adapters.slack.adapter import SlackAdapter
from bot.adapters.slack.guard import SlackGuard
from bot.http import HttpServer
from bot.store.tables import channels
from tests.dbtools import count, sync_tx
from tests.slack.conftest import SECRET, SlackWorld, eventually
from tests.slack.fake_slack import BOT_USER, command_body, event_body, signed

TOKEN = "verification-token-d41d8cd9"
"""Slack's legacy verification token, sent in every body: it must never be logged."""
MEMBER_TEXT = "my answer mentions Ada's salary"


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """The bot's log as production writes it (JSON lines), configured before the app."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    out = io.StringIO()
    log.configure("info", "json", stream=out)
    try:
        yield out
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        structlog.reset_defaults()


@pytest.fixture
async def world(logs: io.StringIO, slack: SlackWorld) -> SlackWorld:
    """The running bot, built after ``logs`` configured logging (as the CLI does)."""
    return slack


def fresh() -> str:
    return str(int(time.time()))


FORM = "application/x-www-form-urlencoded"
FORGED = "v0=" + "0" * 64


def hostile_requests() -> list[tuple[str, bytes, dict[str, str]]]:
    command = command_body("/study", "setup", "UADMIN", "http://127.0.0.1:9/x").encode()
    return [
        ("no signature headers", command, {"Content-Type": FORM}),
        ("only a timestamp", command, {"Content-Type": FORM, "X-Slack-Request-Timestamp": fresh()}),
        ("only a signature", command, {"Content-Type": FORM, "X-Slack-Signature": FORGED}),
        ("a wrong secret", command, {"Content-Type": FORM, **signed("wrong", command.decode())}),
        ("stale", command, {"Content-Type": FORM, **signed(SECRET, command.decode(), 1)}),
        (
            "a non-numeric timestamp",
            command,
            {
                "Content-Type": FORM,
                "X-Slack-Request-Timestamp": "soon",
                "X-Slack-Signature": FORGED,
            },
        ),
        (
            "a timestamp of 5,000 digits",
            command,
            {
                "Content-Type": FORM,
                "X-Slack-Request-Timestamp": "9" * 5000,
                "X-Slack-Signature": FORGED,
            },
        ),
        (
            "bad JSON",
            b'{"type": "event_callback", "event": ',
            {"Content-Type": "application/json", "X-Slack-Request-Timestamp": fresh()},
        ),
        (
            "a payload field that is not JSON",
            urlencode({"payload": "{not json"}).encode(),
            {
                "Content-Type": FORM,
                "X-Slack-Request-Timestamp": fresh(),
                "X-Slack-Signature": FORGED,
            },
        ),
        (
            "a body that is not UTF-8",
            b"\xff\xfe payload=\xc3\x28",
            {
                "Content-Type": FORM,
                "X-Slack-Request-Timestamp": fresh(),
                "X-Slack-Signature": FORGED,
            },
        ),
    ]


async def post(world: SlackWorld, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    async with world.http.post(world.url, data=body, headers=headers) as response:
        return response.status, await response.text()


@pytest.mark.parametrize(
    ("body", "headers"),
    [(b, h) for _, b, h in hostile_requests()],
    ids=[name for name, _, _ in hostile_requests()],
)
async def test_unsigned_or_malformed_requests_get_401_and_change_nothing(
    world: SlackWorld, body: bytes, headers: dict[str, str]
) -> None:
    status, _ = await post(world, body, headers)
    assert status == 401
    with sync_tx(world.app.store) as tx:
        assert count(tx, channels) == 0
    assert world.fake.responses == []


@pytest.mark.parametrize(
    "body", ['{"type": "event_callback", "event": ', "[1, 2]", '"a string"', "payload={oops"]
)
async def test_a_signed_body_bolt_cannot_read_gets_400_with_one_short_line(
    world: SlackWorld, logs: io.StringIO, body: str
) -> None:
    content_type = FORM if body.startswith("payload") else "application/json"
    headers = {"Content-Type": content_type, **signed(SECRET, body)}
    status, _ = await post(world, body.encode(), headers)
    assert status == 400
    lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    refused = [line for line in lines if line["event"] == "slack_request_refused"]
    assert [(r["status"], r["reason"]) for r in refused] == [(400, "malformed_body")]
    assert not [line for line in lines if line["level"] in ("error", "critical")]


async def test_a_flood_of_large_unsigned_requests_writes_a_line_or_two(
    world: SlackWorld, logs: io.StringIO
) -> None:
    event = {"type": "message", "user": "U1", "text": MEMBER_TEXT, "channel": "C1", "ts": "1.2"}
    body = json.dumps({"token": TOKEN, "event": event, "padding": "x" * 400_000})
    assert len(body) < 512 * 1024  # under the body limit: the signature is what refuses it
    wrong = {"Content-Type": "application/json", **signed("not-the-secret", body)}
    none = {"Content-Type": "application/json"}
    before = len(logs.getvalue())

    async def one(i: int) -> int:
        status, _ = await post(world, body.encode(), wrong if i % 2 else none)
        return status

    statuses: list[int] = []
    for start in range(0, 200, 20):
        statuses += await asyncio.gather(*(one(i) for i in range(start, start + 20)))
    assert statuses == [401] * 200
    written = logs.getvalue()[before:]
    assert len(written.splitlines()) <= 2, written[:2000]
    assert len(written) < 1000
    assert TOKEN not in written and MEMBER_TEXT not in written and "xxxx" not in written


async def test_a_signed_request_nothing_handles_logs_no_member_text(
    world: SlackWorld, logs: io.StringIO
) -> None:
    """A dialog submission (no listener): Bolt would log what the member typed."""
    payload = {
        "type": "dialog_submission",
        "token": TOKEN,
        "callback_id": "feedback",
        "team": {"id": "T1"},
        "user": {"id": "U1"},
        "channel": {"id": "C1"},
        "submission": {"answer": MEMBER_TEXT},
    }
    status = (await world.send(urlencode({"payload": json.dumps(payload)}), FORM)).status
    assert status == 404  # Bolt's answer to a request no listener takes
    written = logs.getvalue()
    assert "Unhandled request" in written  # one short line says so ...
    assert "dialog_submission" in written  # ... and of which kind
    assert MEMBER_TEXT not in written and TOKEN not in written and "Suggestion" not in written


async def test_a_listener_that_fails_logs_the_error_type_not_its_text(
    world: SlackWorld, logs: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError(f"cannot store {{'text': '{MEMBER_TEXT}', 'token': '{TOKEN}'}}")

    monkeypatch.setattr(world.app.study.inbox, "accept", refuse)
    event = {
        "type": "message",
        "user": "U1",
        "text": MEMBER_TEXT,
        "channel": "C1",
        "ts": "1700000001.000200",
        "thread_ts": "1700000000.000100",
    }
    body = json.loads(event_body(event, "Ev-fails"))
    body["token"] = TOKEN
    status = (await world.send(json.dumps(body), "application/json")).status
    assert status == 500  # not acked: Slack delivers it again later
    lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    failed = [line for line in lines if line["event"] == "slack_listener_failed"]
    assert [(f["error"], f["type"]) for f in failed] == [("RuntimeError", "event_callback")]
    assert MEMBER_TEXT not in logs.getvalue() and TOKEN not in logs.getvalue()


async def test_idle_connections_do_not_keep_a_signed_event_out(world: SlackWorld) -> None:
    """Beyond the cap connections are refused at once; idle ones are closed after the
    header timeout, and then Slack's next delivery is served."""
    adapter = next(a for a in world.app.adapters if isinstance(a, SlackAdapter))

    async def ready() -> dict[str, bool]:
        return {}

    server = HttpServer(
        "127.0.0.1",
        0,
        adapter.routes(),
        alive=lambda: True,
        ready=ready,
        max_connections=4,
        # Long enough that no idle connection times out while the cap is being filled
        # and checked on a loaded machine (0.3 s did, once); short enough to wait out.
        header_seconds=1.5,
    )
    await server.start()
    url = f"http://127.0.0.1:{server.port}/slack/events"

    async def deliver(http: aiohttp.ClientSession, event_id: str) -> int:
        body = event_body(REACTION, event_id)
        headers = {"Content-Type": "application/json", **signed(SECRET, body)}
        async with http.post(url, data=body, headers=headers) as response:
            return response.status

    async def connections(count: int) -> list[Connection]:
        return [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(count)]

    async def until_open(count: int) -> None:
        await eventually(lambda: server.open_connections == count)

    idle: list[Connection] = []
    extra: list[Connection] = []
    connector = aiohttp.TCPConnector(force_close=True)  # a new connection per delivery
    try:
        async with aiohttp.ClientSession(connector=connector) as http:
            assert await deliver(http, "Ev-inside-the-cap") == 200
            await until_open(0)
            idle = await connections(4)  # the cap, filled at once by idle connections
            await until_open(4)
            extra = await connections(4)
            for reader, _ in extra:
                async with asyncio.timeout(10):
                    assert (await reader.read()).startswith(b"HTTP/1.1 503 ")
            for reader, _ in idle:  # the header timeout frees the idle ones
                async with asyncio.timeout(10):
                    assert await reader.read() == b""
            await until_open(0)
            assert await deliver(http, "Ev-after-the-idle-ones") == 200
    finally:
        for _, writer in idle + extra:
            writer.close()
        await server.stop()


Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]
REACTION = {
    "type": "reaction_added",
    "user": "U1",
    "reaction": "rocket",
    "item": {"type": "message", "channel": "C1", "ts": "1.0"},
    "item_user": BOT_USER,
}


async def test_a_body_that_never_arrives_is_given_up_on(world: SlackWorld) -> None:
    adapter = next(a for a in world.app.adapters if isinstance(a, SlackAdapter))
    adapter.guard = SlackGuard(SECRET, body_seconds=0.2)  # short, so the test is quick
    assert world.app.http is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", world.app.http.port)
    try:
        writer.write(
            b"POST /slack/events HTTP/1.1\r\nHost: studybot\r\n"
            b"Content-Type: application/json\r\nContent-Length: 1000\r\n"
            + f"X-Slack-Request-Timestamp: {fresh()}\r\nX-Slack-Signature: {FORGED}\r\n\r\n".encode()
            + b'{"type": '  # and then nothing
        )
        async with asyncio.timeout(10):  # only stops a broken test from hanging
            head = await reader.readuntil(b"\r\n")
        assert head.startswith(b"HTTP/1.1 408 ")
    finally:
        writer.close()
