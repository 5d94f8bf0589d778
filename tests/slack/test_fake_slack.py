"""The fake Slack is as strict as Slack: one test per rule, through the real slack_sdk clients.

Each test names the row of ``../shared/PLATFORMS.md`` (Slack) it keeps and the Slack page
the rule comes from. The clients have no retry handlers, so what the fake answers is what
the test sees.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.slack.fake_limits import TIERS, Budget
from tests.slack.fake_slack import RESPONSE_URL, FakeSlack


class Frozen:
    """A clock for the fake that stands still: only ``fake.advance`` moves time."""

    def __call__(self) -> float:
        return 1000.0


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack(joined={"C1"}, private={"CPRIV"}, clock=Frozen())
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def web(fake: FakeSlack, session: aiohttp.ClientSession) -> AsyncWebClient:
    return AsyncWebClient(
        token="xoxb-test", base_url=fake.api_url, session=session, retry_handlers=[]
    )


async def error_of(call: Awaitable[Any]) -> tuple[int, str]:
    """The HTTP status and Slack error code a call fails with."""
    with pytest.raises(SlackApiError) as raised:
        await call
    return raised.value.response.status_code, str(raised.value.response["error"])


async def post(fake: FakeSlack, web: AsyncWebClient, text: str, **args: str) -> str:
    """chat.postMessage as the bot, a second apart (Slack takes ~1 a second per channel)."""
    fake.advance(1)
    return str((await web.chat_postMessage(channel="C1", text=text, **args))["ts"])


async def thread_of_three(fake: FakeSlack, web: AsyncWebClient) -> tuple[str, list[str]]:
    parent = await post(fake, web, "question")
    replies = [await post(fake, web, f"reply {n}", thread_ts=parent) for n in range(2)]
    return parent, replies


# ---- conversations.history / conversations.replies ------------------------------------------


async def test_history_holds_parent_messages_only(fake: FakeSlack, web: AsyncWebClient) -> None:
    """Row "conversations.history returns top-level messages only".

    docs.slack.dev/reference/methods/conversations.replies: conversations.history "returns
    only parent messages".
    """
    parent, replies = await thread_of_three(fake, web)
    member_reply = fake.add_message("C1", "U1", "an answer", thread_ts=parent)
    later = await post(fake, web, "another day")
    history = (await web.conversations_history(channel="C1"))["messages"]
    assert [m["ts"] for m in history] == [later, parent]  # newest first, no replies
    assert all(m.get("thread_ts") in (None, m["ts"]) for m in history)
    assert history[1]["reply_count"] == 3
    assert member_reply not in {m["ts"] for m in history} | set(replies)


async def test_replies_return_the_parent_then_its_replies(
    fake: FakeSlack, web: AsyncWebClient
) -> None:
    """Row "conversations.history returns top-level messages only" (its other half).

    docs.slack.dev/reference/methods/conversations.replies: "a message plus all the
    messages in reply to it"; ``ts`` may name the parent or a message in the thread.
    """
    parent, replies = await thread_of_three(fake, web)
    for ts in (parent, replies[-1]):
        thread = (await web.conversations_replies(channel="C1", ts=ts))["messages"]
        assert [m["ts"] for m in thread] == [parent, *replies]
    alone = await post(fake, web, "no thread")
    assert [
        m["ts"] for m in (await web.conversations_replies(channel="C1", ts=alone))["messages"]
    ] == [alone]
    assert await error_of(web.conversations_replies(channel="C1", ts="1.2")) == (
        200,
        "thread_not_found",
    )


@pytest.mark.parametrize("method", ["conversations_history", "conversations_replies"])
async def test_metadata_only_with_include_all_metadata(web: AsyncWebClient, method: str) -> None:
    """Row "message metadata": kept, and returned with ``include_all_metadata``.

    docs.slack.dev/messaging/message-metadata; conversations.history/replies argument
    ``include_all_metadata``.
    """
    metadata = {"event_type": "studybot_post", "event_payload": {"key": "k1"}}
    ts = (await web.chat_postMessage(channel="C1", text="x", metadata=metadata))["ts"]
    read = getattr(web, method)
    where = {"channel": "C1"} | ({"ts": ts} if method == "conversations_replies" else {})
    plain = (await read(**where))["messages"][0]
    full = (await read(**where, include_all_metadata=True))["messages"][0]
    assert "metadata" not in plain
    assert full["metadata"] == metadata


async def test_history_pages_with_a_cursor(fake: FakeSlack, web: AsyncWebClient) -> None:
    """Row "conversations.history returns top-level messages only" (paging shape).

    docs.slack.dev/apis/web-api/pagination: ``limit``, ``cursor``, ``has_more`` and
    ``response_metadata.next_cursor`` (empty at the end); conversations.history's
    ``limit`` defaults to 100 and is at most 999; ``invalid_cursor``.
    """
    sent = [fake.add_message("C1", "U1", f"m{n}") for n in range(5)]
    seen: list[str] = []
    cursor = None
    while True:
        page = await web.conversations_history(channel="C1", limit=2, cursor=cursor)
        seen += [m["ts"] for m in page["messages"]]
        cursor = page["response_metadata"]["next_cursor"]
        assert page["has_more"] == bool(cursor)
        if not cursor:
            break
    assert seen == sent[::-1]
    assert await error_of(web.conversations_history(channel="C1", cursor="bm9wZQ==")) == (
        200,
        "invalid_cursor",
    )
    for n in range(1000):
        fake.add_message("C1", "U1", f"bulk {n}")
    assert len((await web.conversations_history(channel="C1"))["messages"]) == 100
    assert len((await web.conversations_history(channel="C1", limit=5000))["messages"]) == 999


async def test_replies_page_with_a_cursor(fake: FakeSlack, web: AsyncWebClient) -> None:
    """Row "conversations.history returns top-level messages only" (replies paging).

    docs.slack.dev/reference/methods/conversations.replies: ``limit``, ``cursor``.
    """
    parent = fake.add_message("C1", "U1", "question")
    replies = [fake.add_message("C1", "U2", f"r{n}", thread_ts=parent) for n in range(4)]
    first = await web.conversations_replies(channel="C1", ts=parent, limit=3)
    assert [m["ts"] for m in first["messages"]] == [parent, *replies[:2]]
    assert first["has_more"] is True
    cursor = first["response_metadata"]["next_cursor"]
    rest = await web.conversations_replies(channel="C1", ts=parent, limit=3, cursor=cursor)
    assert [m["ts"] for m in rest["messages"]] == replies[2:]
    assert rest["has_more"] is False
    assert rest["response_metadata"]["next_cursor"] == ""


# ---- response_url ---------------------------------------------------------------------------


async def test_a_response_url_takes_five_posts(
    fake: FakeSlack, session: aiohttp.ClientSession
) -> None:
    """Row "a response_url takes at most 5 posts within 30 minutes" (the count).

    docs.slack.dev/interactivity/handling-user-interaction. What Slack answers to a 6th
    post is not documented; the fake says 404 ``used_url``.
    """
    client = AsyncWebhookClient(fake.response_url("t"), session=session, retry_handlers=[])
    statuses = [(await client.send(text=f"reply {n}")).status_code for n in range(6)]
    assert statuses == [200] * 5 + [404]
    assert len(fake.responses) == 5
    assert [r["error"] for r in fake.refused_responses] == ["used_url"]


async def test_a_response_url_expires_after_thirty_minutes(
    fake: FakeSlack, session: aiohttp.ClientSession
) -> None:
    """Row "a response_url takes at most 5 posts within 30 minutes" (the time).

    docs.slack.dev/interactivity/handling-user-interaction; the refusal (404
    ``expired_url``) is the fake's choice, Slack documents none.
    """
    client = AsyncWebhookClient(fake.response_url("t"), session=session, retry_handlers=[])
    fake.advance(29 * 60)
    assert (await client.send(text="in time")).status_code == 200
    fake.advance(60 + 1)
    late = await client.send(text="too late")
    assert (late.status_code, late.body) == (404, "expired_url")
    assert [r["text"] for r in fake.responses] == ["in time"]


# ---- membership -------------------------------------------------------------------------------


async def test_the_bot_acts_only_where_it_is_a_member(web: AsyncWebClient) -> None:
    """Row "a bot posts only where it is a member".

    docs.slack.dev/reference/methods/chat.postMessage (errors: ``not_in_channel``); the
    same error from conversations.history/replies, chat.postEphemeral and reactions.add.
    """
    calls = [
        web.chat_postMessage(channel="C2", text="hi"),
        web.chat_postEphemeral(channel="C2", user="U1", text="hi"),
        web.reactions_add(channel="C2", timestamp="1.1", name="eyes"),
        web.conversations_history(channel="C2"),
        web.conversations_replies(channel="C2", ts="1.1"),
    ]
    for call in calls:
        assert await error_of(call) == (200, "not_in_channel")
    assert await error_of(web.chat_postMessage(channel="DU9", text="x")) == (
        200,
        "channel_not_found",
    )
    dm = (await web.conversations_open(users="U9"))["channel"]["id"]
    assert (await web.chat_postMessage(channel=dm, text="a DM counts as joined"))["ok"]


async def test_the_bot_joins_public_channels_only(fake: FakeSlack, web: AsyncWebClient) -> None:
    """Row "a bot posts only where it is a member": conversations.join for public channels.

    docs.slack.dev/reference/methods/conversations.join (``already_in_channel`` warning,
    ``method_not_supported_for_channel_type``); conversations.info's ``is_member``.
    """
    assert (await web.conversations_info(channel="C2"))["channel"]["is_member"] is False
    joined = await web.conversations_join(channel="C2")
    assert joined["channel"]["is_member"] is True
    assert "warning" not in joined
    assert (await web.conversations_join(channel="C2"))["warning"] == "already_in_channel"
    assert (await web.conversations_info(channel="C2"))["channel"]["is_member"] is True
    assert (await web.chat_postMessage(channel="C2", text="now I may"))["ok"]
    refused = await error_of(web.conversations_join(channel="CPRIV"))
    assert refused == (200, "method_not_supported_for_channel_type")
    assert "CPRIV" not in fake.joined


# ---- dropped connections ---------------------------------------------------------------------


async def test_a_call_can_take_effect_and_lose_its_answer(
    fake: FakeSlack, web: AsyncWebClient
) -> None:
    """Row "connections drop": accepted, then the connection closes with no HTTP answer."""
    fake.lose_next_response.add("chat.postMessage")
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await web.chat_postMessage(channel="C1", text="sent")
    assert [m["text"] for m in fake.messages["C1"]] == ["sent"]
    assert (await web.chat_postMessage(channel="C1", text="next one answers"))["ok"]


async def test_a_response_url_post_can_lose_its_answer(
    fake: FakeSlack, session: aiohttp.ClientSession
) -> None:
    """Row "connections drop", for a response_url post."""
    fake.lose_next_response.add(RESPONSE_URL)
    client = AsyncWebhookClient(fake.response_url("t"), session=session, retry_handlers=[])
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await client.send(text="shown")
    assert [r["text"] for r in fake.responses] == ["shown"]


# ---- rate limits -----------------------------------------------------------------------------


def test_tier_budgets_are_slacks_documented_ones() -> None:
    """Row "rate limits per method tier": Tier 2 20+, Tier 3 50+, Tier 4 100+ a minute.

    docs.slack.dev/apis/web-api/rate-limits, and each method's reference page for its tier.
    """
    tier = {name: budget.per_minute for name, budget in TIERS.items()}
    assert {m for m, n in tier.items() if n == 50} >= {
        "conversations.history",
        "conversations.replies",
        "conversations.open",
        "conversations.info",
        "conversations.join",
        "reactions.add",
        "chat.update",
    }
    assert tier["users.info"] == tier["chat.postEphemeral"] == 100
    assert tier["auth.test"] >= 100  # "hundreds of requests per minute"


async def test_a_tier_budget_runs_out_with_a_429(fake: FakeSlack, web: AsyncWebClient) -> None:
    """Row "rate limits per method tier": 429 with Retry-After when exceeded.

    docs.slack.dev/apis/web-api/rate-limits ("Responding to rate limiting conditions").
    """
    for _ in range(50):  # conversations.info is Tier 3: 50 a minute
        await web.conversations_info(channel="C1")
    with pytest.raises(SlackApiError) as raised:
        await web.conversations_info(channel="C1")
    assert raised.value.response.status_code == 429
    assert raised.value.response["error"] == "ratelimited"
    assert int(raised.value.response.headers["Retry-After"]) >= 1
    assert (await web.users_info(user="U1"))["ok"]  # budgets are per method
    fake.advance(60)
    assert (await web.conversations_info(channel="C1"))["ok"]


async def test_posts_are_limited_per_channel(fake: FakeSlack, web: AsyncWebClient) -> None:
    """Row "rate limits per method tier": chat.postMessage ~1 per second per channel.

    docs.slack.dev/apis/web-api/rate-limits: "one message per second per channel", "short
    bursts >1 allowed" (the fake allows 3).
    """
    fake.join("C2")
    for n in range(3):
        await web.chat_postMessage(channel="C1", text=f"burst {n}")
    assert await error_of(web.chat_postMessage(channel="C1", text="too fast")) == (
        429,
        "ratelimited",
    )
    assert (await web.chat_postMessage(channel="C2", text="another channel"))["ok"]
    fake.advance(1)
    assert (await web.chat_postMessage(channel="C1", text="a second later"))["ok"]
    assert len(fake.messages["C1"]) == 4
    assert len(fake.throttled) == 1


async def test_a_workspace_wide_post_limit_can_be_set(fake: FakeSlack, web: AsyncWebClient) -> None:
    """Row "... plus a workspace-wide limit": Slack publishes no figure, so a test sets one."""
    fake.limits.workspace_posts = Budget(per_minute=2, burst=2)
    fake.join("C2", "C3")
    await web.chat_postMessage(channel="C1", text="1")
    await web.chat_postMessage(channel="C2", text="2")
    assert await error_of(web.chat_postMessage(channel="C3", text="3")) == (429, "ratelimited")


# ---- ephemerals ------------------------------------------------------------------------------


async def test_an_ephemeral_can_sit_in_a_thread(fake: FakeSlack, web: AsyncWebClient) -> None:
    """Row "ephemeral messages can sit in a thread".

    docs.slack.dev/reference/methods/chat.postEphemeral, argument ``thread_ts``.
    """
    parent, _ = await thread_of_three(fake, web)
    sent = await web.chat_postEphemeral(channel="C1", user="U1", text="psst", thread_ts=parent)
    assert sent["message_ts"]
    assert fake.ephemerals[-1]["thread_ts"] == parent


# ---- event delivery: 3 s to ack, then Slack sends it again -------------------------------


async def test_an_event_not_acked_within_three_seconds_is_delivered_again() -> None:
    """PLATFORMS.md: events must be acked within 3 s; late ones come again with
    X-Slack-Retry-Num and X-Slack-Retry-Reason: http_timeout (docs: Events API)."""
    from aiohttp import web

    from tests.slack.bodies import event_body
    from tests.slack.fake_delivery import Deliverer

    seen: list[tuple[str | None, str | None]] = []

    async def slow_then_fast(request: web.Request) -> web.Response:
        seen.append(
            (request.headers.get("X-Slack-Retry-Num"), request.headers.get("X-Slack-Retry-Reason"))
        )
        if len(seen) == 1:
            await asyncio.sleep(0.5)  # the first delivery is acked too late
        return web.Response(text="")

    app = web.Application()
    app.router.add_post("/events", slow_then_fast)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession() as session:
            url = f"http://127.0.0.1:{port}/events"
            deliverer = Deliverer(url, "secret", session, ack_seconds=0.3)  # Slack: 3 s
            body = event_body({"type": "reaction_added"}, "Ev9")
            attempts = await deliverer.deliver(body, "Ev9")
    finally:
        await runner.cleanup()
    assert [a.attempt for a in attempts] == [0, 1]
    assert attempts[0].status is None and not attempts[0].acked
    assert attempts[1].acked
    assert seen == [(None, None), ("1", "http_timeout")]


# ---- file upload: files.getUploadURLExternal, the bytes, files.completeUploadExternal -------


async def test_files_upload_v2_shares_one_file_in_a_dm(
    fake: FakeSlack, web: AsyncWebClient
) -> None:
    """Row "file upload": slack_sdk's files_upload_v2 runs the three steps against the fake.

    docs.slack.dev/reference/methods/files.getUploadURLExternal ("1. Call
    files.getUploadURLExternal ... 2. Upload a file by making a POST request to the upload
    URL") and files.completeUploadExternal (``channel_id``: "where the file will be shared").
    """
    dm = (await web.conversations_open(users="U1"))["channel"]["id"]
    await web.files_upload_v2(
        channel=dm, filename="data.json", content='{"a": "é"}', initial_comment="here"
    )
    (upload,) = fake.files.completed(dm)
    assert (upload.filename, upload.content, upload.comment) == (
        "data.json",
        '{"a": "é"}'.encode(),
        "here",
    )
    assert [m["files"][0]["id"] for m in fake.messages[dm] if "files" in m] == [upload.file_id]
    assert [c.method for c in fake.calls] == [
        "conversations.open",
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    ]


async def test_an_upload_url_needs_a_filename_and_a_length(web: AsyncWebClient) -> None:
    """files.getUploadURLExternal: ``filename`` and ``length`` are required; a length of 0 is
    ``missing_argument`` ("typically only occurs when the length provided is 0")."""
    call = web.api_call
    assert await error_of(call("files.getUploadURLExternal", params={"length": 3})) == (
        200,
        "invalid_arguments",
    )
    no_length = call("files.getUploadURLExternal", params={"filename": "a.json"})
    assert await error_of(no_length) == (200, "invalid_arguments")
    empty = call("files.getUploadURLExternal", params={"filename": "a.json", "length": 0})
    assert await error_of(empty) == (200, "missing_argument")


async def test_files_over_slacks_limit_are_refused(web: AsyncWebClient) -> None:
    """Slack takes files up to 1 GB (slack_sdk: MAX_V2_FILE_SIZE)."""
    huge = {"filename": "a.json", "length": 1024**3 + 1}
    assert await error_of(web.api_call("files.getUploadURLExternal", params=huge)) == (
        200,
        "file_upload_size_restricted",
    )


async def test_the_upload_url_takes_exactly_the_announced_bytes_once(
    fake: FakeSlack, web: AsyncWebClient, session: aiohttp.ClientSession
) -> None:
    """The upload URL refuses other lengths (and a second upload); a file whose bytes never
    arrived cannot be completed."""
    made = await web.files_getUploadURLExternal(filename="a.json", length=5)
    url, file_id = str(made["upload_url"]), str(made["file_id"])
    async with session.post(url, data=b"1234") as short:
        assert short.status == 400
    files = f'[{{"id": "{file_id}"}}]'
    unfinished = web.files_completeUploadExternal(files=[{"id": file_id}])
    assert await error_of(unfinished) == (200, "file_not_found")
    async with session.post(url, data=b"12345") as exact:
        assert exact.status == 200
    async with session.post(url, data=b"12345") as again:
        assert again.status == 400
    assert fake.files.refused_uploads == [(file_id, 4), (file_id, 5)]
    assert (await web.api_call("files.completeUploadExternal", params={"files": files}))["ok"]
    assert fake.files.completed() and fake.files.completed()[0].channel is None  # private


async def test_completing_an_unknown_or_finished_file_fails(
    fake: FakeSlack, web: AsyncWebClient
) -> None:
    """files.completeUploadExternal "can only be called once"; ``files`` is required."""
    unknown = web.files_completeUploadExternal(files=[{"id": "F99999999"}])
    assert await error_of(unknown) == (200, "file_not_found")
    assert await error_of(web.api_call("files.completeUploadExternal")) == (
        200,
        "invalid_arguments",
    )
    await web.files_upload_v2(channel="C1", filename="a.txt", content="abc")
    (done,) = fake.files.completed("C1")
    twice = web.files_completeUploadExternal(files=[{"id": done.file_id}], channel_id="C1")
    assert await error_of(twice) == (200, "file_not_found")


async def test_a_file_is_shared_only_where_the_bot_may_post(
    fake: FakeSlack, web: AsyncWebClient
) -> None:
    """``channel_id`` takes conversation ids only (a user id is ``invalid_arguments``:
    slackapi/bolt-js#2115), of channels that exist and the bot is in."""
    for channel, code in (
        ("U1", "invalid_arguments"),
        ("DNOTOPEN", "channel_not_found"),
        ("C2", "not_in_channel"),
    ):
        with pytest.raises(SlackApiError) as raised:
            await web.files_upload_v2(channel=channel, filename="a.txt", content="abc")
        assert raised.value.response["error"] == code, channel
    assert fake.files.completed() == []


# ---- Block Kit limits --------------------------------------------------------------------------


def header_of(length: int) -> list[dict[str, Any]]:
    return [{"type": "header", "text": {"type": "plain_text", "text": "h" * length}}]


def fields_of(count: int, length: int = 5) -> list[dict[str, Any]]:
    fields = [{"type": "mrkdwn", "text": "f" * length} for _ in range(count)]
    return [{"type": "section", "fields": fields}]


OVER_THE_LIMITS = {
    "header over 150": header_of(151),
    "mrkdwn header": [{"type": "header", "text": {"type": "mrkdwn", "text": "*h*"}}],
    "11 fields": fields_of(11),
    "field over 2000": fields_of(1, 2001),
    "section text over 3000": [{"type": "section", "text": {"type": "mrkdwn", "text": "s" * 3001}}],
    "51 blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "s"}}] * 51,
}
AT_THE_LIMITS = [*header_of(150), *fields_of(10, 2000)]


@pytest.mark.parametrize("blocks", OVER_THE_LIMITS.values(), ids=OVER_THE_LIMITS.keys())
async def test_blocks_over_slacks_limits_are_refused(
    fake: FakeSlack, web: AsyncWebClient, session: aiohttp.ClientSession, blocks: Any
) -> None:
    """Row "Block Kit limits": ``invalid_blocks`` on chat.postMessage, chat.update,
    chat.postEphemeral and response_url posts alike.

    docs.slack.dev/reference/block-kit/blocks (header: plain_text, 150 characters;
    section: 10 fields of 2,000 characters, text 3,000; 50 blocks a message). For a
    response_url the fake answers as an incoming webhook does: 400 ``invalid_blocks``.
    """
    assert await error_of(web.chat_postMessage(channel="C1", text="t", blocks=blocks)) == (
        200,
        "invalid_blocks",
    )
    ts = await post(fake, web, "kept")
    update = web.chat_update(channel="C1", ts=ts, text="t", blocks=blocks)
    assert await error_of(update) == (200, "invalid_blocks")
    assert [m["text"] for m in fake.messages["C1"]] == ["kept"]
    ephemeral = web.chat_postEphemeral(channel="C1", user="U1", text="t", blocks=blocks)
    assert await error_of(ephemeral) == (200, "invalid_blocks")
    client = AsyncWebhookClient(fake.response_url("t"), session=session, retry_handlers=[])
    refused = await client.send(text="t", blocks=blocks)
    assert (refused.status_code, refused.body) == (400, "invalid_blocks")
    assert fake.responses == []


async def test_blocks_at_slacks_limits_are_taken(
    fake: FakeSlack, web: AsyncWebClient, session: aiohttp.ClientSession
) -> None:
    """Row "Block Kit limits": exactly at each limit is still fine."""
    ts = str((await web.chat_postMessage(channel="C1", text="t", blocks=AT_THE_LIMITS))["ts"])
    await web.chat_update(channel="C1", ts=ts, text="t", blocks=AT_THE_LIMITS)
    await web.chat_postEphemeral(channel="C1", user="U1", text="t", blocks=AT_THE_LIMITS)
    client = AsyncWebhookClient(fake.response_url("t"), session=session, retry_handlers=[])
    assert (await client.send(text="t", blocks=AT_THE_LIMITS)).status_code == 200
    assert fake.messages["C1"][0]["blocks"] == AT_THE_LIMITS
