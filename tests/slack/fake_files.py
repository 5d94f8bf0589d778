"""Slack's file upload, as the fake serves it (PLATFORMS.md, Slack, "file upload").

The flow slack_sdk's ``files_upload_v2`` follows (docs.slack.dev/reference/methods/
files.getUploadURLExternal and files.completeUploadExternal):

1. ``files.getUploadURLExternal(filename, length)``: both required. The fake answers
   ``invalid_arguments`` for a missing or empty ``filename`` or a ``length`` that is no
   whole number, ``missing_argument`` for a ``length`` of 0 (the docs: "typically only
   occurs when the length provided is 0"), and ``file_upload_size_restricted`` beyond
   1 GB (Slack's upload limit). It returns ``upload_url`` and ``file_id``.
2. A POST of the bytes to ``upload_url`` (raw, or one multipart file part). Exactly the
   announced ``length`` must arrive, once: anything else is HTTP 400 and the file stays
   unfinished (slack_sdk raises on any status but 200).
3. ``files.completeUploadExternal(files=[{"id", "title"}], channel_id=...)``: ``files``
   is required (a JSON array), each id must be an upload whose bytes arrived, and "this
   method can only be called once" per file: an unknown, unfinished or already completed
   id is ``file_not_found``. ``channel_id`` must look like a conversation id (C, G, D or Z
   then capitals and digits: Slack's pattern is ``^[CGDZ][A-Z0-9]{8,}$``; the fake's ids
   are shorter, so it checks the shape, not the length; a user id ``U...`` is refused with
   ``invalid_arguments``), must exist (``channel_not_found``) and the bot must be in it
   (``not_in_channel``). Without a channel the file stays private.

A shared file shows in the channel as a bot message carrying ``files`` and the
``initial_comment`` as its text; ``uploads`` keeps every completed file with its bytes.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.slack.bodies import BOT_USER
from tests.slack.fake_conversations import Conversations, SlackError

MAX_FILE_BYTES = 1024 * 1024 * 1024
"""Slack's upload limit (1 GB; slack_sdk checks the same figure)."""
CONVERSATION = re.compile(r"[CGDZ][A-Z0-9]+")
TIER_4 = 100.0
"""Both methods are Tier 4 (their reference pages, "Rate limits")."""


@dataclass
class Upload:
    file_id: str
    filename: str
    length: int
    content: bytes | None = None
    completed: bool = False
    title: str | None = None
    channel: str | None = None
    comment: str | None = None


@dataclass
class Files:
    conversations: Conversations
    base_url: Callable[[], str]
    uploads: dict[str, Upload] = field(default_factory=dict)
    refused_uploads: list[tuple[str, int]] = field(default_factory=list)
    """(file id, bytes received) of POSTs to an upload URL that were refused."""
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def handler(self, name: str) -> Callable[[dict[str, Any]], dict[str, Any]] | None:
        """The Web API method ``name`` (as FakeSlack spells it), if it is one of these."""
        return {
            "files_get_upload_urlexternal": self.get_upload_url,
            "files_complete_upload_external": self.complete,
        }.get(name)

    def completed(self, channel: str | None = None) -> list[Upload]:
        return [u for u in self.uploads.values() if u.completed and channel in (None, u.channel)]

    # ---- step 1 ---------------------------------------------------------------------------

    def get_upload_url(self, params: dict[str, Any]) -> dict[str, Any]:
        filename = str(params.get("filename") or "")
        length = str(params.get("length", ""))
        if not filename or not length.isdigit():
            raise SlackError("invalid_arguments")
        if int(length) == 0:
            raise SlackError("missing_argument")
        if int(length) > MAX_FILE_BYTES:
            raise SlackError("file_upload_size_restricted")
        file_id = f"F{next(self._ids):08d}"
        self.uploads[file_id] = Upload(file_id, filename, int(length))
        return {"upload_url": f"{self.base_url()}/upload/{file_id}", "file_id": file_id}

    # ---- step 2 ---------------------------------------------------------------------------

    async def receive(self, request: web.Request) -> web.StreamResponse:
        file_id = request.match_info["file_id"]
        upload = self.uploads.get(file_id)
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            parts = [v for v in form.values() if isinstance(v, web.FileField)]
            data = parts[0].file.read() if len(parts) == 1 else b""
        else:
            data = await request.read()
        if upload is None or upload.content is not None or len(data) != upload.length:
            self.refused_uploads.append((file_id, len(data)))
            return web.Response(status=400 if upload is not None else 404, text="refused")
        upload.content = data
        return web.Response(status=200, text=f"OK - {len(data)}")

    # ---- step 3 ---------------------------------------------------------------------------

    def complete(self, params: dict[str, Any]) -> dict[str, Any]:
        entries = self._entries(params.get("files"))
        channel = params.get("channel_id")
        if channel is not None and not CONVERSATION.fullmatch(str(channel)):
            raise SlackError("invalid_arguments")
        uploads = []
        for entry in entries:
            upload = self.uploads.get(str(entry.get("id")))
            if upload is None or upload.content is None or upload.completed:
                raise SlackError("file_not_found")
            uploads.append((upload, entry))
        if channel is not None:
            self.conversations.require_member(str(channel))
        shared = []
        for upload, entry in uploads:
            upload.completed = True
            upload.title = str(entry.get("title") or upload.filename)
            upload.channel = None if channel is None else str(channel)
            upload.comment = params.get("initial_comment")
            shared.append({"id": upload.file_id, "title": upload.title, "name": upload.filename})
        if channel is not None:
            self.conversations.add(
                str(channel),
                {
                    "type": "message",
                    "ts": self.conversations.next_ts(),
                    "user": BOT_USER,
                    "bot_id": "BBOT",
                    "text": params.get("initial_comment") or "",
                    "files": shared,
                },
            )
        return {"files": [{"id": f["id"], "title": f["title"]} for f in shared]}

    def _entries(self, raw: Any) -> list[dict[str, Any]]:
        try:
            entries = json.loads(raw) if isinstance(raw, str) else raw
        except json.JSONDecodeError:
            raise SlackError("invalid_arguments") from None
        if not isinstance(entries, list) or not entries:
            raise SlackError("invalid_arguments")
        if not all(isinstance(e, dict) and e.get("id") for e in entries):
            raise SlackError("invalid_arguments")
        return entries
