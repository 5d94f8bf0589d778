"""The Slack adapter: Bolt's ``AsyncApp`` in Socket Mode or HTTP mode.

Slack wants every request acknowledged within 3 seconds. Commands and buttons ack first
and work after. Events (answers, reactions, edits) are stored in the inbox, one small
commit, and then acked: whatever handling costs (``users.info``, a slow database, 429s)
no longer delays the ack, and an event acked just before a crash is handled after the
restart (``drain``). Handling translates the payload into ``Actor``/``Place`` and one
``StudyBot`` call inside the shared error boundary, and draws the ``Reply``: through
``response_url`` for commands and buttons (replacing the pressed message when the reply
says so), as an ephemeral for reactions, as a reaction for answers. Reactions and
ephemerals are cosmetic: paced, after the event, in the thread they are about.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Awaitable, Mapping
from typing import Any

import aiohttp
import structlog
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.middleware.authorization.async_single_team_authorization import (
    AsyncSingleTeamAuthorization,
)
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.adapters.base import LogsInteractions, boundary, record_interaction
from bot.adapters.slack.boltlog import bolt_logger
from bot.adapters.slack.chat import DEFAULT_CONCURRENCY, SlackChat
from bot.adapters.slack.client import web_client
from bot.adapters.slack.guard import Refused, SlackGuard
from bot.adapters.slack.payloads import MessageEvent, ReactionEvent, SlashCommand
from bot.adapters.slack.respond import Responder, bodies, with_export
from bot.adapters.slack.users import Users
from bot.core import actions
from bot.core.commands import parse
from bot.core.errors import ChatError, NotYet, UserError
from bot.core.models import Place, Target
from bot.core.replies import Reply, Visibility, error
from bot.metrics import Metrics
from bot.ports.records import InboxRow
from bot.services.inbox import payload_of
from bot.services.inflight import tracked
from bot.services.study import StudyBot

log = structlog.get_logger("studybot.slack")
AUTH_ERRORS = frozenset({"invalid_auth", "not_authed", "token_revoked", "account_inactive"})


def _rejected(setting: str, error: str) -> bool:
    log.error("platform_token_rejected", platform="slack", setting=setting, error=error)
    return False


DEFAULT_API = "https://slack.com/api/"
ACTIONS = re.compile(actions.PATTERN)
DRAIN_SECONDS = 10.0
"""How often events stored but not finished (a crash, a failing handler) are retried."""
ANSWER_SUBTYPES = frozenset({None, "thread_broadcast", "file_share"})
"""Thread replies that are answers: plain, sent "also to the channel", or with a file."""


class SlackAdapter(LogsInteractions):
    name = "slack"

    def __init__(
        self,
        study: StudyBot,
        *,
        bot_token: str,
        signing_secret: str | None,
        app_token: str | None,
        api_url: str | None,
        session: aiohttp.ClientSession,
        admins: frozenset[str] = frozenset(),
        metrics: Metrics | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        self.study = study
        self.metrics = metrics
        self.socket_mode = app_token is not None
        self._app_token = app_token
        # slack_sdk formats a debug line for every call unless its logger has a level
        # (its check is ``logger.level <= DEBUG``, and NOTSET is 0): give it one.
        sdk_logger = logging.getLogger("studybot.slack_sdk")
        sdk_logger.setLevel(logging.INFO)
        client = web_client(
            bot_token, api_url=api_url or DEFAULT_API, session=session, logger=sdk_logger
        )
        self.chat = SlackChat(client, concurrency=concurrency)
        self.responder = Responder(session, sdk_logger)
        self.users = Users(self.chat, admins)
        if not self.socket_mode and not signing_secret:
            raise ValueError("Slack HTTP mode needs a signing secret (SLACK_SIGNING_SECRET)")
        # HTTP requests reach Bolt only through the guard, which checks Slack's signature
        # on the raw body first; Bolt's own check would log the body of every failure.
        self.guard = SlackGuard(signing_secret) if signing_secret else None
        self.app = AsyncApp(
            client=client,
            signing_secret=signing_secret or "socket-mode-does-not-sign",
            request_verification_enabled=False,
            logger=bolt_logger(),
            # Events are handled before Slack gets its 200: a crash mid-way means Slack
            # redelivers, and the event-id claim makes that exactly once. Commands and
            # buttons ack at once and do their work lazily (Slack waits 3 s at most).
            process_before_response=True,
        )
        self._connected = False
        self._tasks: set[asyncio.Future[None]] = set()
        self._register()

    def connected(self) -> bool:
        return self._connected

    # ---- lifecycle -------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        drainer = asyncio.ensure_future(self._drain_until(stop))
        try:
            await self._serve(stop)
        finally:
            drainer.cancel()

    async def _drain_until(self, stop: asyncio.Event) -> None:
        """Handle inbox rows left by a crash or a failed handler, now and every few seconds."""
        while not stop.is_set():
            try:
                await self.study.inbox.drain("slack", self._handle_row)
            except Exception:  # the store may be briefly away; the next round tries again
                log.exception("slack_inbox_drain_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), DRAIN_SECONDS)

    async def _serve(self, stop: asyncio.Event) -> None:
        if not await self._tokens_accepted(stop):
            return  # this platform stops; the others keep running
        if not self.socket_mode:
            self._connected = True
            await stop.wait()
            return
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        handler = AsyncSocketModeHandler(self.app, self._app_token)
        connect = asyncio.ensure_future(handler.connect_async())  # type: ignore[no-untyped-call]
        stopper = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({connect, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if connect.done():
                connect.result()
                self._connected = True
                log.info("slack_connected", mode="socket")
                await stop.wait()
        finally:  # a SIGTERM during connection attempts ends them too
            self._connected = False
            connect.cancel()
            stopper.cancel()
            await handler.close_async()  # type: ignore[no-untyped-call]

    async def _tokens_accepted(self, stop: asyncio.Event) -> bool:
        """Ask Slack about each token before serving; retry while Slack is unreachable.

        A token Slack rejects stops the Slack platform with one line naming the setting.
        """
        delay = 1.0
        while not stop.is_set():
            try:
                self._share_auth_test(await self.chat.client.auth_test())
                if self._app_token is not None:
                    await self._app_client().apps_connections_open(app_token=self._app_token)
                return True
            except SlackApiError as exc:
                error = str((exc.response.data or {}).get("error", exc))
                if error in AUTH_ERRORS:
                    which = (
                        "SLACK_APP_TOKEN"
                        if "apps.connections" in exc.response.api_url
                        else ("SLACK_BOT_TOKEN")
                    )
                    return _rejected(which, error)
                log.warning("slack_start_failed", error=error, retry_in_s=delay)
            except (ChatError, OSError, aiohttp.ClientError) as exc:
                log.warning("slack_unreachable", error=str(exc), retry_in_s=delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            delay = min(delay * 2, 30.0)
        return False

    def _share_auth_test(self, result: AsyncSlackResponse) -> None:
        """Hand Bolt the answer, so auth.test is asked once per process, not once more at
        Bolt's first request (its single-team authorization caches it in this field)."""
        for middleware in self.app._async_middleware_list:
            if isinstance(middleware, AsyncSingleTeamAuthorization):
                middleware.auth_test_result = result

    def _app_client(self) -> AsyncWebClient:
        return AsyncWebClient(
            token=self._app_token,
            base_url=self.chat.client.base_url,
            session=self.chat.client.session,
            retry_handlers=[],
        )

    def routes(self) -> list[web.RouteDef]:
        """``POST /slack/events`` for HTTP mode (served by the shared HTTP server)."""
        return [] if self.socket_mode else [web.post("/slack/events", self._http)]

    async def _http(self, request: web.Request) -> web.Response:
        assert self.guard is not None  # HTTP mode has a signing secret
        try:
            bolt_request = await self.guard.admit(request)
        except Refused as refusal:
            return refusal.response()
        return await to_aiohttp_response(await self.app.async_dispatch(bolt_request))

    # ---- listeners ---------------------------------------------------------------------------

    def _register(self) -> None:
        self.app.command("/study")(self._ack_command)
        self.app.command("/quiz")(self._ack_command)
        self.app.event("message")(self._receive_message)
        self.app.event("app_mention")(self._receive_mention)
        self.app.event("reaction_added")(self._receive_reaction)
        self.app.event("reaction_removed")(self._receive_reaction)
        self.app.action(ACTIONS)(self._ack_action)
        self.app.error(self._error)

    async def _error(self, error: Exception, body: dict[str, Any]) -> None:
        # The type only: an error's text can quote the payload (a database error its
        # parameters, a parse error the member's text).
        log.error("slack_listener_failed", error=type(error).__name__, type=body.get("type"))

    async def _ack_command(self, ack: Any, body: SlashCommand) -> None:
        started = time.perf_counter()
        await ack()  # inside Slack's 3 seconds, before any work
        if self.metrics is not None:
            self.metrics.ack_latency.labels("slack").observe(time.perf_counter() - started)
        self._later(self._command(body))

    async def _ack_action(self, ack: Any, body: dict[str, Any]) -> None:
        await ack()
        self._later(self._action(body))

    def _later(self, work: Awaitable[None]) -> None:
        """Run work after the ack has gone out (kept referenced until it finishes)."""
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @tracked
    async def _command(self, body: SlashCommand) -> None:
        team, user, channel = body["team_id"], body["user_id"], body["channel_id"]

        async def work() -> Reply:
            actor = await self.users.actor(team, user, body.get("user_name"))
            place = Place("slack", team, channel, is_dm=channel.startswith("D"))
            try:
                command = parse(body["command"], body.get("text", ""))
            except UserError as exc:
                return error(exc.message)
            return await self.study.command(actor, place, command)

        reply = await boundary(
            "slack",
            work,
            kind="command",
            member=user,
            channel=channel,
            action=body["command"],
            metrics=self.metrics,
        )
        await self._respond(body.get("response_url"), reply, user=user)

    async def _respond(
        self, url: str | None, reply: Reply, *, replace: bool = False, user: str | None = None
    ) -> None:
        """Draw a reply through the interaction's response_url, each post sent once (an
        export goes to ``user``'s DM as a file; the reply says so)."""
        messages = await with_export(self.chat, user, reply)
        response_type = "in_channel" if reply.visibility == Visibility.CHANNEL else "ephemeral"
        if url is None:
            log.warning("slack_reply_without_response_url")
            return
        for body in bodies(messages, response_type, replace=replace):
            try:
                await self.responder.send(url, body)
            except ChatError as exc:  # not sent again: it may have been shown already
                log.warning("slack_reply_failed", error=str(exc))
                return

    # ---- events: stored, acked, then handled ------------------------------------------------

    async def _receive_message(self, body: dict[str, Any], event: MessageEvent) -> None:
        if event.get("bot_id") or event.get("channel_type") == "im":
            return  # other bots, and DMs (answers belong in channel threads)
        await self._store("message", body, {"event": dict(event)})

    async def _receive_mention(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        await self._store("mention", body, {"event": dict(event)})

    async def _receive_reaction(
        self, body: dict[str, Any], event: ReactionEvent, context: AsyncBoltContext
    ) -> None:
        if event["item"].get("type") != "message":
            return
        # Bolt asked auth.test once, at the first request; keep its answer with the event.
        await self._store("reaction", body, {"event": dict(event), "bot": context.bot_user_id})

    async def _store(self, kind: str, body: dict[str, Any], payload: dict[str, Any]) -> None:
        """Make the event durable (one small commit); Bolt acks when this returns."""
        event_id = str(body.get("event_id") or "")
        team = str(body.get("team_id", ""))
        if not event_id:  # Slack always sends one; without it there is nothing to dedupe
            event_id = f"noid:{kind}:{time.time_ns()}"
        row = await self.study.inbox.accept("slack", event_id, kind, {"team": team, **payload})
        if row is None:  # a redelivery of an event already stored
            if self.metrics is not None:
                self.metrics.duplicates.labels("slack").inc()
            return
        self._later(self._handle_stored(row))

    @tracked
    async def _handle_stored(self, row: InboxRow) -> None:
        await self.study.inbox.handle(row, self._handle_row)

    async def _handle_row(self, row: InboxRow) -> None:
        """One stored event; raising leaves it in the inbox for the next drain."""
        data = payload_of(row)
        event_id = row.event_id if not row.event_id.startswith("noid:") else None
        started = time.perf_counter()
        try:
            if row.kind == "message":
                await self._message(data["team"], data["event"], event_id)
            elif row.kind == "reaction":
                await self._reaction(data["team"], data["event"], data.get("bot"), event_id)
            elif row.kind == "mention":
                await self._mention(data["team"], data["event"])
        except NotYet:
            raise  # not a failure: the inbox hands it over again in a while
        except Exception:
            event = data.get("event") or {}
            record_interaction(
                "slack",
                kind=row.kind,
                member=str(event.get("user", "")),
                channel=str(event.get("channel") or (event.get("item") or {}).get("channel", "")),
                action=row.kind,
                outcome="error",
                started=started,
                metrics=self.metrics,
            )
            if self.metrics is not None:
                self.metrics.errors.labels("slack", row.kind).inc()
            raise

    async def _message(self, team: str, event: dict[str, Any], event_id: str | None) -> None:
        started = time.perf_counter()
        subtype = event.get("subtype")
        channel = event["channel"]
        if subtype in ("message_changed", "message_deleted"):
            await self._changed(event, team, event_id)
            return
        thread = event.get("thread_ts")
        user = event.get("user")
        if subtype not in ANSWER_SUBTYPES or not thread or thread == event["ts"] or not user:
            return  # not a member's reply in a thread
        actor = await self.users.actor(team, user)
        place = Place("slack", team, channel, thread)
        reply = await self.study.message(
            actor, place, event["ts"], _answer_text(event), event_id=event_id
        )
        target = Target("slack", team, channel, thread)
        if reply.react:
            self._later(self._react(target, event["ts"], reply.react))
        elif any(m.kind == "error" for m in reply.messages):
            self._later(self._ephemeral(target, user, reply))
        self._log("answer", user, channel, "message", reply, started)

    async def _mention(self, team: str, event: dict[str, Any]) -> None:
        """@studybot: the help, privately, where the member asked."""
        user, channel = event.get("user"), event.get("channel")
        if not user or not channel:
            return
        target = Target("slack", team, str(channel), event.get("thread_ts"))
        self._later(self._ephemeral(target, str(user), self.study.info.help()))

    async def _changed(self, event: dict[str, Any], team: str, event_id: str | None) -> None:
        """An edited or deleted thread reply: the answer follows."""
        channel = event["channel"]
        if event.get("subtype") == "message_changed":
            changed: MessageEvent | dict[str, Any] = event.get("message") or {}
            thread = changed.get("thread_ts")
            if thread and changed.get("ts") != thread and not changed.get("bot_id"):
                place = Place("slack", team, channel, thread)
                await self.study.message_edited(
                    place, changed["ts"], changed.get("text", ""), event_id=event_id
                )
            return
        previous: MessageEvent | dict[str, Any] = event.get("previous_message") or {}
        thread = previous.get("thread_ts")
        if thread and previous.get("ts") != thread:
            place = Place("slack", team, channel, thread)
            await self.study.message_deleted(place, previous["ts"], event_id=event_id)

    async def _reaction(
        self, team: str, event: dict[str, Any], bot_user: str | None, event_id: str | None
    ) -> None:
        item = event["item"]
        started = time.perf_counter()
        if event["user"] == bot_user:
            return
        actor = await self.users.actor(team, event["user"])
        place = Place("slack", team, item["channel"])
        reply = await self.study.reaction(
            actor,
            place,
            item["ts"],
            event["reaction"],
            added=event["type"] == "reaction_added",
            on_bot_message=event.get("item_user") == bot_user,
            event_id=event_id,
        )
        if reply.messages:
            target = Target("slack", team, item["channel"])
            self._later(self._ephemeral(target, event["user"], reply, about=item["ts"]))
        self._log("reaction", event["user"], item["channel"], event["type"], reply, started)

    @tracked
    async def _action(self, body: dict[str, Any]) -> None:
        team = str((body.get("team") or {}).get("id", ""))
        user = str((body.get("user") or {}).get("id", ""))
        action = str(body["actions"][0]["action_id"])
        channel = str((body.get("channel") or {}).get("id", ""))

        async def work() -> Reply:
            return await self.study.button(await self.users.actor(team, user), action)

        reply = await boundary(
            "slack",
            work,
            kind="button",
            member=user,
            channel=channel,
            action=action,
            metrics=self.metrics,
        )
        await self._respond(body.get("response_url"), reply, replace=reply.replace)

    # ---- cosmetic calls, after the event is handled -------------------------------------------

    @tracked
    async def _react(self, target: Target, message_ref: str, emoji: str) -> None:
        try:
            await self.chat.react(target, message_ref, emoji)
        except ChatError as exc:
            log.warning("slack_reaction_failed", channel=target.channel, error=str(exc))

    @tracked
    async def _ephemeral(
        self, target: Target, user: str, reply: Reply, about: str | None = None
    ) -> None:
        """Private messages to ``user``, in the thread of the interaction if it had one."""
        thread = target.thread
        if thread is None and about is not None:
            thread = await self.chat.thread_of(target.channel, about)
        try:
            for message in reply.messages:
                await self.chat.ephemeral(target.channel, user, message, thread=thread)
        except ChatError as exc:  # not sent again: an ephemeral may have been shown
            log.warning("slack_ephemeral_failed", channel=target.channel, error=str(exc))


def _answer_text(event: Mapping[str, Any]) -> str:
    """The text of an answer, with the names of the files it carries."""
    files = [f.get("title") or f.get("name") or "file" for f in event.get("files", [])]
    return "\n".join([event.get("text", ""), *(f"[file: {name}]" for name in files)]).strip()
