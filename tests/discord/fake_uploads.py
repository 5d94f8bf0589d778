"""Message bodies with files, as the fake Discord reads them (PLATFORMS.md, Discord,
"uploads"; discord-api-docs: reference, "Uploading Files").

- ``multipart/form-data``: a ``payload_json`` part (the JSON body) and one ``files[n]``
  part per file, each with a filename; any other part is an invalid form body (50035).
- The ``attachments`` array of ``payload_json`` names the files: "for new attachments
  [the id] must match the n in files[n]". An entry naming no uploaded part is 50035; a
  part no entry names is not attached (when the array is given).
- The files of one request may weigh 25 MiB together (26,214,400 bytes); more is HTTP 413
  with code 40005, "Request entity too large" (discord/discord-api-docs#6058).

``parse`` returns the message body with Discord's attachment objects in place of the
references, or the error code; ``Uploads.content`` keeps each attachment's bytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

MAX_REQUEST_BYTES = 25 * 1024 * 1024
TOO_LARGE = (413, {"code": 40005, "message": "Request entity too large"})
INVALID_FORM = (400, {"code": 50035, "message": "Invalid Form Body"})
CLIENT_MAX_SIZE = MAX_REQUEST_BYTES + 1024 * 1024
"""What the fake's web server reads (the limit itself is Discord's, checked here)."""


@dataclass(frozen=True)
class Refusal:
    status: int
    body: dict[str, Any]


@dataclass
class Uploads:
    snowflake: Callable[[], str]
    base_url: Callable[[], str]
    content: dict[str, bytes] = field(default_factory=dict)
    """Attachment id -> the bytes uploaded for it."""

    async def parse(self, request: web.Request) -> dict[str, Any] | Refusal:
        form = await request.post()
        payload: dict[str, Any] = {}
        parts: dict[int, web.FileField] = {}
        for name, value in form.items():
            index = re.fullmatch(r"files\[(\d+)\]", name)
            if name == "payload_json" and isinstance(value, str | bytes | bytearray):
                loaded = json.loads(value)
                payload = loaded if isinstance(loaded, dict) else {}
            elif index and isinstance(value, web.FileField) and value.filename:
                parts[int(index[1])] = value
            else:
                return Refusal(*INVALID_FORM)
        data = {n: part.file.read() for n, part in parts.items()}
        if sum(len(d) for d in data.values()) > MAX_REQUEST_BYTES:
            return Refusal(*TOO_LARGE)
        named = payload.get("attachments")
        if named is None:
            chosen = [{"id": n} for n in sorted(parts)]
        elif isinstance(named, list) and all(_refers(e, parts) for e in named):
            chosen = named
        else:
            return Refusal(*INVALID_FORM)
        payload["attachments"] = [
            self._attach(parts[int(e["id"])], data[int(e["id"])], e) for e in chosen
        ]
        return payload

    def _attach(self, part: web.FileField, data: bytes, entry: dict[str, Any]) -> dict[str, Any]:
        attachment_id = self.snowflake()
        self.content[attachment_id] = data
        filename = str(entry.get("filename") or part.filename)
        url = f"{self.base_url()}/attachments/{attachment_id}/{filename}"
        return {
            "id": attachment_id,
            "filename": filename,
            "size": len(data),
            "content_type": part.content_type,
            "url": url,
            "proxy_url": url,
        }


def _refers(entry: Any, parts: dict[int, web.FileField]) -> bool:
    """An attachments entry that names an uploaded part (by its n)."""
    if not isinstance(entry, dict) or not str(entry.get("id", "")).isdigit():
        return False
    return int(entry["id"]) in parts
