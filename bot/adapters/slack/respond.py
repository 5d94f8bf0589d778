"""Answers through a command's or button's ``response_url``, each sent exactly once.

Bolt's ``respond`` builds a webhook client with slack_sdk's default retry handlers, which
post again after a dropped connection (a reply shown twice, and a second use of the URL),
and it opens a new HTTP session per answer. This one uses the shared session and no
retry, and reads Slack's answer: a ``response_url`` takes 5 posts within 30 minutes
(docs.slack.dev/interactivity/handling-user-interaction), so a refusal is an error, and a
reply of more messages than that is packed several to a post.

An export never goes through the URL: blocks cut and escaping grows the text (a section
takes 3,000 characters). It is uploaded as one JSON file to the member's DM, and the one
answer through the URL says where it went (``with_export``).
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace as replaced
from typing import Any

import aiohttp
import structlog
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.adapters.slack import render
from bot.adapters.slack.chat import SlackChat
from bot.core.errors import ChatError
from bot.core.replies import Message, Reply

log = structlog.get_logger("studybot.slack")

POSTS_PER_URL = 5
POST_SIZE = 12_000
"""Characters of blocks (as JSON) per post: Slack refuses much more with msg_blocks_too_long
(undocumented; about 12,000 characters of text, slackapi/bolt-js#2509)."""


class Responder:
    def __init__(self, session: aiohttp.ClientSession, logger: logging.Logger) -> None:
        self._session = session
        self._logger = logger

    async def send(self, url: str, body: dict[str, Any]) -> None:
        client = AsyncWebhookClient(
            url, session=self._session, logger=self._logger, retry_handlers=[]
        )
        try:
            response = await client.send_dict(body)
        except (TimeoutError, OSError, aiohttp.ClientError) as exc:
            raise ChatError(f"response_url: {exc!r}") from None
        if response.status_code != 200:
            raise ChatError(f"response_url: {response.status_code} {response.body}")


def bodies(
    messages: list[Message], response_type: str, *, replace: bool = False
) -> list[dict[str, Any]]:
    """One post per message; when there are more than a URL takes, several to a post.

    ``replace``: the first post takes the place of the message whose button was pressed
    (``replace_original``, for ephemeral and ordinary messages alike)."""
    posts = [[m] for m in messages] if len(messages) <= POSTS_PER_URL else _packed(messages)
    return [
        {
            "text": "\n".join(render.fallback(m) for m in group)[: render.FALLBACK_MAX],
            "blocks": [b for m in group for b in render.blocks(m)],
            "response_type": response_type,
            "replace_original": replace and n == 0,
        }
        for n, group in enumerate(posts)
    ]


def _packed(messages: list[Message]) -> list[list[Message]]:
    """Messages in order, as few to a post as Slack takes: 50 blocks, ~12,000 characters."""
    groups: list[list[Message]] = [[]]
    blocks = size = 0
    for message in messages:
        drawn = render.blocks(message)
        length = len(json.dumps(drawn))
        if groups[-1] and (blocks + len(drawn) > render.BLOCKS_MAX or size + length > POST_SIZE):
            groups.append([])
            blocks = size = 0
        groups[-1].append(message)
        blocks += len(drawn)
        size += length
    return groups


async def with_export(chat: SlackChat, user: str | None, reply: Reply) -> list[Message]:
    """The reply's messages, its export (if any) uploaded to ``user``'s DM, and the
    outcome added to the last message, so the answer stays one post."""
    messages = list(reply.messages)
    export = reply.data.get("export")
    if not isinstance(export, str):
        return messages
    note = "I could not send the file; please try /study export again in a minute."
    if user is not None:
        try:
            await chat.upload_dm(
                user,
                filename=str(reply.data.get("filename") or "studybot-export.json"),
                content=export.encode(),
                title="Your studybot data",
                comment="Your studybot data, as JSON: everything I store about you.",
            )
            note = "The JSON file is in your direct messages with me."
        except ChatError as exc:  # not sent again: the file may have arrived
            log.warning("slack_export_failed", error=str(exc))
    last = messages.pop() if messages else Message(kind="export")
    return [*messages, replaced(last, lines=(*last.lines, note))]
