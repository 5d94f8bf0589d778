"""The fake Discord itself: each rule of ``PLATFORMS.md`` (Discord) that it enforces.

Every test names the row it checks and the ``discord-api-docs`` page the rule comes
from. Time is the fake's own clock, moved by hand (no real seconds), so nothing sleeps.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import discord
import discord.http
import pytest

from bot.adapters.discord import endpoints
from tests.discord.fake_discord import APP_ID, BOT_ID, CHANNEL, GUILD, FakeDiscord, member
from tests.discord.fake_payloads import FORUM, member_message, text_channel
from tests.discord.fake_rules import PlatformClock, Refused, over_limits

ALICE = "700000000000000011"


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]


@dataclass
class Api:
    """Raw HTTP at the fake, as a bot would send it."""

    fake: FakeDiscord
    session: aiohttp.ClientSession

    async def __call__(self, method: str, path: str, body: Any = None) -> Answer:
        url = self.fake.rest_url + path
        auth = {"Authorization": f"Bot {self.fake.token}"}
        async with self.session.request(method, url, json=body, headers=auth) as response:
            data = await response.json() if response.content_type == "application/json" else None
            return Answer(response.status, data, dict(response.headers))

    async def post(self, channel: str = CHANNEL, **body: Any) -> Answer:
        return await self("POST", f"/channels/{channel}/messages", {"content": "hi", **body})

    async def thread(self, duration: int = 60) -> str:
        """A daily post and the thread the bot starts on it."""
        posted = await self.post()
        path = f"/channels/{CHANNEL}/messages/{posted.body['id']}/threads"
        made = await self("POST", path, {"name": "Q", "auto_archive_duration": duration})
        assert made.status == 200, made.body
        return str(made.body["id"])


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord(clock=PlatformClock(real=False))
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
async def api(fake: FakeDiscord) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(fake, session)


@pytest.fixture
async def http(fake: FakeDiscord) -> AsyncIterator[discord.http.HTTPClient]:
    """discord.py's own HTTP client, logged in at the fake."""
    with endpoints.rest_base(fake.rest_url):
        client = discord.http.HTTPClient(asyncio.get_running_loop())
        await client.static_login(fake.token)
        try:
            yield client
        finally:
            await client.close()


def said(fake: FakeDiscord, channel: str, text: str = "answer") -> dict[str, Any]:
    """A member's message (a MESSAGE_CREATE payload)."""
    return member_message(fake.snowflake(), channel, ALICE, "alice", text)


def reacted(channel: str, message_id: str) -> dict[str, Any]:
    return {
        "user_id": ALICE,
        "channel_id": channel,
        "message_id": message_id,
        "guild_id": GUILD,
        "emoji": {"id": None, "name": "✅"},
        "member": member(ALICE, "alice"),
        "message_author_id": BOT_ID,
        "burst": False,
        "type": 0,
    }


async def interact(fake: FakeDiscord, channel: str = CHANNEL) -> tuple[str, str]:
    """A member runs a command; (interaction id, token)."""
    token, payload = fake.interaction(
        {"id": "1", "name": "study", "type": 1}, user_id=ALICE, name="alice", channel_id=channel
    )
    await fake.dispatch("INTERACTION_CREATE", payload)
    return payload["id"], token


def callback(interaction: str, token: str) -> str:
    return f"/interactions/{interaction}/{token}/callback"


def webhook(token: str) -> str:
    return f"/webhooks/{APP_ID}/{token}"


# ---- threads auto-archive (PLATFORMS.md: "threads auto-archive ..."; docs: topics/threads,
# "Active & Archived Threads" and "Auto Archive Inactivity") ----------------------------------


async def test_a_thread_archives_after_its_duration_without_a_message(
    fake: FakeDiscord, api: Api
) -> None:
    thread = await api.thread(duration=60)
    fake.clock.advance(minutes=50)
    await fake.dispatch("MESSAGE_CREATE", said(fake, thread))  # activity restarts the timer
    fake.clock.advance(minutes=59)
    await fake.tick()
    assert not fake.archived(thread)
    fake.clock.advance(minutes=1)
    await fake.tick()
    assert fake.archived(thread)
    (update,) = fake.events("THREAD_UPDATE")
    assert update["id"] == thread and update["thread_metadata"]["archived"]


async def test_threads_take_only_the_documented_durations(api: Api) -> None:
    posted = await api.post()
    path = f"/channels/{CHANNEL}/messages/{posted.body['id']}/threads"
    refused = await api("POST", path, {"name": "Q", "auto_archive_duration": 2880})
    assert (refused.status, refused.body["code"]) == (400, 50035)


async def test_an_archived_thread_refuses_reactions_edits_and_commands(
    fake: FakeDiscord, api: Api
) -> None:
    thread = await api.thread(duration=60)
    reveal = await api.post(thread, content="key points")
    fake.clock.advance(hours=2)
    for event, data in (
        ("MESSAGE_REACTION_ADD", reacted(thread, reveal.body["id"])),
        ("MESSAGE_UPDATE", said(fake, thread, "edited")),
    ):
        with pytest.raises(Refused) as refused:
            await fake.dispatch(event, data)
        assert refused.value.code == 50083
    with pytest.raises(Refused):
        await interact(fake, thread)
    own = await api(
        "PUT", f"/channels/{thread}/messages/{reveal.body['id']}/reactions/%E2%9C%85/@me"
    )
    assert (own.status, own.body["code"]) == (400, 50083)


async def test_a_message_unarchives_a_thread(fake: FakeDiscord, api: Api) -> None:
    """Docs: "Sending a message will automatically unarchive the thread" (a member's too)."""
    thread = await api.thread(duration=60)
    fake.clock.advance(hours=2)
    await fake.tick()
    assert (await api.post(thread, content="the reveal")).status == 200
    assert not fake.archived(thread)
    fake.clock.advance(hours=2)
    await fake.dispatch("MESSAGE_CREATE", said(fake, thread))
    assert not fake.archived(thread)
    assert [u["thread_metadata"]["archived"] for u in fake.events("THREAD_UPDATE")] == [
        True,
        False,
        True,
        False,
    ]


async def test_a_locked_thread_takes_no_messages(fake: FakeDiscord, api: Api) -> None:
    """Docs: topics/threads, locked threads ("won't be able to create ... messages")."""
    thread = await api.thread()
    fake.channels[thread]["thread_metadata"]["locked"] = True  # a moderator locked it
    refused = await api.post(thread)
    assert (refused.status, refused.body["code"]) == (400, 160005)
    with pytest.raises(Refused):
        await fake.dispatch("MESSAGE_CREATE", said(fake, thread))


async def test_the_bot_may_unarchive_a_thread_it_started(fake: FakeDiscord, api: Api) -> None:
    """Docs: resources/channel, modify channel (thread): its creator may unarchive it."""
    thread = await api.thread(duration=60)
    fake.clock.advance(hours=2)
    await fake.tick()
    renamed = await api("PATCH", f"/channels/{thread}", {"name": "other"})
    assert (renamed.status, renamed.body["code"]) == (400, 50083)
    reopened = await api("PATCH", f"/channels/{thread}", {"archived": False})
    assert reopened.status == 200 and not reopened.body["thread_metadata"]["archived"]
    await fake.dispatch("MESSAGE_REACTION_ADD", reacted(thread, thread))  # accepted now
    fake.channels[thread]["owner_id"] = ALICE  # a member's thread is not the bot's to edit
    refused = await api("PATCH", f"/channels/{thread}", {"archived": True})
    assert (refused.status, refused.body["code"]) == (403, 50013)


# ---- the deferral fixes visibility (PLATFORMS.md: "a deferred interaction fixes the
# ephemeral state"; docs: interactions/receiving-and-responding, create followup message) ----


@pytest.mark.parametrize("deferred_ephemeral", [False, True])
async def test_the_first_followup_keeps_the_deferrals_visibility(
    fake: FakeDiscord, api: Api, deferred_ephemeral: bool
) -> None:
    interaction, token = await interact(fake)
    data = {"flags": 64} if deferred_ephemeral else {}
    assert (
        await api("POST", callback(interaction, token), {"type": 5, "data": data})
    ).status == 200
    asked = 0 if deferred_ephemeral else 64  # the opposite of the deferral
    first = await api("POST", webhook(token), {"content": "first", "flags": asked})
    second = await api("POST", webhook(token), {"content": "second", "flags": asked})
    assert bool(first.body["flags"] & 64) is deferred_ephemeral
    assert bool(second.body["flags"] & 64) is not deferred_ephemeral  # its own flags
    shown = fake.responses.shown(token)
    assert [m["content"] for m in shown] == ["first", "second"]
    public = [m for m in fake.messages[CHANNEL] if m.get("webhook_id")]
    assert [m["content"] for m in public] == ["second" if deferred_ephemeral else "first"]


# ---- interaction deadlines (PLATFORMS.md: "interactions: initial response within 3 s, token
# valid 15 min"; docs: interactions/receiving-and-responding, "Responding to an Interaction";
# the codes: opcodes-and-status-codes, and discord-api-docs issue 6851 for the 401) ---------


async def test_a_late_first_response_is_an_unknown_interaction(fake: FakeDiscord, api: Api) -> None:
    interaction, token = await interact(fake)
    fake.clock.advance(seconds=3.5)
    late = await api("POST", callback(interaction, token), {"type": 5})
    assert (late.status, late.body["code"]) == (404, 10062)
    followup = await api("POST", webhook(token), {"content": "too late"})
    assert (followup.status, followup.body["code"]) == (404, 10015)  # the token is gone


async def test_an_interaction_is_answered_once(fake: FakeDiscord, api: Api) -> None:
    interaction, token = await interact(fake)
    early = await api("POST", webhook(token), {"content": "before the callback"})
    assert (early.status, early.body["code"]) == (404, 10015)
    assert (await api("POST", callback(interaction, token), {"type": 5})).status == 200
    again = await api("POST", callback(interaction, token), {"type": 5})
    assert (again.status, again.body["code"]) == (400, 40060)


async def test_the_token_serves_followups_for_15_minutes(fake: FakeDiscord, api: Api) -> None:
    interaction, token = await interact(fake)
    await api("POST", callback(interaction, token), {"type": 5})
    fake.clock.advance(minutes=14)
    assert (await api("POST", webhook(token), {"content": "in time"})).status == 200
    fake.clock.advance(minutes=1, seconds=1)
    for method, path in (
        ("POST", webhook(token)),
        ("PATCH", webhook(token) + "/messages/@original"),
    ):
        expired = await api(method, path, {"content": "late"})
        assert (expired.status, expired.body["code"]) == (401, 50027)


# ---- nonces (PLATFORMS.md: "message nonce with enforce_nonce dedupes only for a few minutes";
# docs: resources/message, create message, ``enforce_nonce``) -----------------------------------


async def test_an_enforced_nonce_returns_the_first_message_for_a_few_minutes(
    fake: FakeDiscord, api: Api
) -> None:
    first = await api.post(nonce="n1", enforce_nonce=True)
    fake.clock.advance(minutes=1)
    again = await api.post(nonce="n1", enforce_nonce=True)
    assert again.body["id"] == first.body["id"]
    fake.clock.advance(minutes=2)
    later = await api.post(nonce="n1", enforce_nonce=True)
    unenforced = await api.post(nonce="n2")
    unenforced_again = await api.post(nonce="n2")
    assert len({first.body["id"], later.body["id"]}) == 2
    assert unenforced.body["id"] != unenforced_again.body["id"]
    assert len(fake.messages[CHANNEL]) == 4


async def test_nonces_are_at_most_25_characters(api: Api) -> None:
    refused = await api.post(nonce="x" * 26, enforce_nonce=True)
    assert (refused.status, refused.body["code"]) == (400, 50035)


# ---- thread messages stay in the thread (PLATFORMS.md: "a channel's message history does not
# include its threads' messages"; docs: topics/threads) ----------------------------------------


async def test_a_channels_history_has_no_thread_messages(fake: FakeDiscord, api: Api) -> None:
    thread = await api.thread()
    await api.post(thread, content="reveal")
    await fake.dispatch("MESSAGE_CREATE", said(fake, thread))
    parent = await api("GET", f"/channels/{CHANNEL}/messages?limit=100")
    inside = await api("GET", f"/channels/{thread}/messages?limit=100")
    assert [m["content"] for m in parent.body] == ["hi"]
    assert [m["content"] for m in inside.body] == ["answer", "reveal"]  # newest first


async def test_history_pages_newest_first(fake: FakeDiscord, api: Api) -> None:
    for index in range(120):
        await fake.dispatch("MESSAGE_CREATE", said(fake, CHANNEL, str(index)))
    default = await api("GET", f"/channels/{CHANNEL}/messages")
    assert len(default.body) == 50  # the documented default limit
    first = await api("GET", f"/channels/{CHANNEL}/messages?limit=100")
    rest = await api("GET", f"/channels/{CHANNEL}/messages?limit=100&before={first.body[-1]['id']}")
    assert [m["content"] for m in first.body + rest.body] == [str(i) for i in range(119, -1, -1)]


# ---- rate limits (PLATFORMS.md: "rate limits"; docs: topics/rate-limits) -----------------------


async def test_every_response_has_rate_limit_headers(fake: FakeDiscord, api: Api) -> None:
    answers = [await api.post(), await api("GET", "/channels/1/messages")]
    thread = await api.thread()
    reveal = await api.post(thread)
    path = f"/channels/{thread}/messages/{reveal.body['id']}/reactions/x/@me"
    answers.append(await api("PUT", path))
    assert [a.status for a in answers] == [200, 404, 204]
    for answer in answers:
        for name in ("Limit", "Remaining", "Reset", "Reset-After", "Bucket"):
            assert f"X-RateLimit-{name}" in answer.headers, (name, answer.status)


async def test_an_exhausted_bucket_answers_429_until_it_resets(fake: FakeDiscord, api: Api) -> None:
    sent = [await api.post() for _ in range(5)]
    assert [a.headers["X-RateLimit-Remaining"] for a in sent] == ["4", "3", "2", "1", "0"]
    limited = await api.post()
    assert limited.status == 429
    assert limited.body["retry_after"] > 0 and limited.body["global"] is False
    assert limited.headers["Via"] and limited.headers["Retry-After"]
    assert limited.headers["X-RateLimit-Scope"] == "user"
    other = await api("POST", "/users/@me/channels", {"recipient_id": ALICE})
    assert (await api.post(other.body["id"])).status == 200  # buckets are per channel
    fake.clock.advance(seconds=5)
    assert (await api.post()).status == 200
    assert len(fake.messages[CHANNEL]) == 6


async def test_the_global_limit_is_50_requests_a_second(fake: FakeDiscord, api: Api) -> None:
    answers = [await api("GET", "/users/@me") for _ in range(51)]
    assert {a.status for a in answers[:50]} == {200}
    assert answers[50].status == 429 and answers[50].body["global"] is True
    assert answers[50].headers["X-RateLimit-Global"] == "true"


# ---- errors (PLATFORMS.md: "permissions and errors"; docs: opcodes-and-status-codes) ----------


async def test_unknown_channels_missing_access_and_permissions(fake: FakeDiscord, api: Api) -> None:
    unknown = await api.post("1")
    assert (unknown.status, unknown.body["code"]) == (404, 10003)
    fake.forbidden[CHANNEL] = 50013
    assert (await api("GET", f"/channels/{CHANNEL}/messages")).status == 200  # reading is fine
    assert (await api.post()).body["code"] == 50013
    fake.forbidden[CHANNEL] = 50001
    assert (await api("GET", f"/channels/{CHANNEL}/messages")).body["code"] == 50001


async def test_closed_dms_and_forum_channels_refuse_messages(fake: FakeDiscord, api: Api) -> None:
    fake.forbidden[ALICE] = 50007
    dm = await api("POST", "/users/@me/channels", {"recipient_id": ALICE})
    closed = await api.post(dm.body["id"])
    assert (closed.status, closed.body["code"]) == (403, 50007)
    fake.channels["800000000000000020"] = text_channel("800000000000000020", "ask", kind=FORUM)
    forum = await api.post("800000000000000020")
    assert (forum.status, forum.body["code"]) == (400, 50008)


# ---- uploads (PLATFORMS.md: "uploads"; docs: reference, "Uploading Files") --------------------


async def test_discord_py_uploads_a_file_as_payload_json_and_files(
    fake: FakeDiscord, http: discord.http.HTTPClient
) -> None:
    params = discord.http.handle_message_parameters(
        content="your data",
        files=[discord.File(io.BytesIO(b"{}"), filename="export.json")],
        nonce="upload-1",
    )
    made = await http.send_message(int(CHANNEL), params=params)
    assert made["content"] == "your data"
    assert [(a["filename"], a["size"]) for a in made["attachments"]] == [("export.json", 2)]
    assert fake.called("POST", rf"/channels/{CHANNEL}/messages")[0].body["nonce"] == "upload-1"


async def test_a_file_part_without_a_filename_is_an_invalid_form(api: Api) -> None:
    form = aiohttp.FormData()
    form.add_field("payload_json", '{"content": "x"}', content_type="application/json")
    form.add_field("files[0]", "no filename")
    url = f"{api.fake.rest_url}/channels/{CHANNEL}/messages"
    auth = {"Authorization": f"Bot {api.fake.token}"}
    async with api.session.post(url, data=form, headers=auth) as response:
        assert response.status == 400
        assert (await response.json())["code"] == 50035


async def upload(api: Api, payload: str, *files: tuple[str, bytes]) -> Answer:
    """A raw multipart message post: ``payload_json``, then ``files[n]`` in order."""
    form = aiohttp.FormData()
    form.add_field("payload_json", payload, content_type="application/json")
    for n, (filename, data) in enumerate(files):
        form.add_field(f"files[{n}]", io.BytesIO(data), filename=filename)
    url = f"{api.fake.rest_url}/channels/{CHANNEL}/messages"
    auth = {"Authorization": f"Bot {api.fake.token}"}
    async with api.session.post(url, data=form, headers=auth) as response:
        return Answer(response.status, await response.json(), dict(response.headers))


async def test_an_attachment_keeps_the_bytes_sent_for_it(
    fake: FakeDiscord, http: discord.http.HTTPClient
) -> None:
    """discord.py names each file in ``attachments`` by its n; Discord attaches it."""
    params = discord.http.handle_message_parameters(
        files=[discord.File(io.BytesIO(b'{"a": 1}'), filename="export.json")]
    )
    made = await http.send_message(int(CHANNEL), params=params)
    (attachment,) = made["attachments"]
    assert fake.uploads.content[attachment["id"]] == b'{"a": 1}'


async def test_attachments_must_name_uploaded_files(api: Api) -> None:
    """reference, "Uploading Files": an attachment's id "must match the n in files[n]"."""
    wrong = await upload(api, '{"attachments": [{"id": 1}]}', ("a.json", b"{}"))
    assert (wrong.status, wrong.body["code"]) == (400, 50035)
    named = await upload(api, '{"attachments": [{"id": 1}]}', ("a.json", b"{}"), ("b.json", b"[]"))
    assert named.status == 200
    assert [a["filename"] for a in named.body["attachments"]] == ["b.json"]  # a.json unnamed


async def test_a_request_may_carry_25_mib_of_files(api: Api) -> None:
    """413 with 40005 "Request entity too large" beyond 25 MiB (discord-api-docs#6058)."""
    limit = 25 * 1024 * 1024
    payload = '{"attachments": [{"id": 0}, {"id": 1}]}'
    big = await upload(api, payload, ("a.bin", b"x" * (limit - 10)), ("b.bin", b"x" * 11))
    assert (big.status, big.body["code"]) == (413, 40005)
    fits = await upload(api, payload, ("a.bin", b"x" * (limit - 10)), ("b.bin", b"x" * 10))
    assert fits.status == 200


async def test_a_bot_token_discord_does_not_know_gets_401(fake: FakeDiscord) -> None:
    """docs: reference, authentication: ``Authorization: Bot <token>`` on every call."""
    async with aiohttp.ClientSession() as session:
        url = fake.rest_url + "/users/@me"
        async with session.get(url, headers={"Authorization": "Bot wrong"}) as response:
            assert response.status == 401
        async with session.get(url, headers={"Authorization": f"Bot {fake.token}"}) as response:
            assert response.status == 200


# ---- a thread on a message (docs: resources/channel, start thread from message: "the
# thread ... will share the same id"; resources/message: ``thread``; opcodes 160004) ------


async def test_a_thread_shares_its_messages_id_and_shows_on_it(api: Api) -> None:
    thread = await api.thread()
    history = await api("GET", f"/channels/{CHANNEL}/messages")
    (starter,) = [m for m in history.body if m["id"] == thread]
    assert starter["thread"]["id"] == thread
    again = await api("POST", f"/channels/{CHANNEL}/messages/{thread}/threads", {"name": "Q again"})
    assert (again.status, again.body["code"]) == (400, 160004)


async def test_text_over_the_limits_is_refused(api: Api) -> None:
    """PLATFORMS.md "limits"; docs: resources/message, embed limits."""
    ok = {"title": "t" * 256, "description": "d" * 4096}
    assert (await api.post(content="", embeds=[ok])).status == 200
    refused = await api.post(content="", embeds=[{"description": "d" * 4097}])
    assert (refused.status, refused.body["code"]) == (400, 50035)
    for bad in (  # the rest without the channel's rate limit in the way
        {"title": "t" * 257},
        {"fields": [{"name": "n", "value": "v" * 1025}]},
        {"fields": [{"name": "n", "value": "v"}] * 26},
        {"description": "d" * 4096, "fields": [{"name": "n", "value": "v" * 1000}] * 2},
        {"footer": {"text": "f" * 2049}},
    ):
        assert over_limits({"embeds": [bad]}), bad
    assert over_limits({"content": "c" * 2001}) and not over_limits({"embeds": [ok]})
