"""Logging with structlog: pretty on a TTY, JSON lines otherwise, always to stdout.

Secrets never reach a log line: settings hold tokens as ``SecretStr`` and the
``redact`` processor masks any value whose key looks like a credential.

Members are never named either: ``Pseudonyms`` replaces the value of a member key
(``member``, ``user``, ...) with a keyed hash (HMAC-SHA256 under a per-install key, see
``install_key``). Lines about one member still correlate; nobody without the key can
tell which platform id or name they are about, and a forgotten member stays unnamed.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import sys
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any, TextIO

import structlog

_SECRET_WORDS = ("token", "secret", "password", "authorization")
MEMBER_KEYS = frozenset({"member", "member_id", "user", "user_id", "user_ref", "actor"})
"""Log keys whose values are about a member; every log call names members with these."""
KEY_BYTES = 32


def redact(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        if any(word in key.lower() for word in _SECRET_WORDS):
            event[key] = "**********"
    return event


class Pseudonyms:
    """A processor: member values become ``m-`` and 16 hex digits of their HMAC."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def of(self, value: object) -> str:
        digest = hmac.new(self._key, str(value).encode(), hashlib.sha256).hexdigest()
        return f"m-{digest[:16]}"

    def __call__(
        self, _logger: Any, _name: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        for key in MEMBER_KEYS.intersection(event):
            if event[key] not in (None, ""):
                event[key] = self.of(event[key])
        return event


def install_key(path: Path | None) -> bytes:
    """The install's pseudonym key, kept in ``path`` (made on first use, owner-only).

    Without a place to keep it (no path, or it cannot be read or written) the key is
    new for this process: lines still correlate within a run, and still name nobody."""
    if path is not None:
        try:
            key = path.read_bytes()
            if len(key) == KEY_BYTES:
                return key
        except FileNotFoundError:
            try:
                key = secrets.token_bytes(KEY_BYTES)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(key)
                return key
            except FileExistsError:
                return install_key(path)  # another process made it a moment ago
            except OSError:
                pass
        except OSError:
            pass
    return secrets.token_bytes(KEY_BYTES)


def key_path(database: Path | None) -> Path | None:
    """Where an install keeps its pseudonym key: beside its SQLite database."""
    return None if database is None else database.with_name(database.name + ".logkey")


def configure(
    level: str = "info",
    fmt: str = "auto",
    stream: TextIO | None = None,
    pseudonym_key: bytes | None = None,
) -> None:
    """Configure structlog and the standard library loggers it feeds."""
    out = stream or sys.stdout
    pretty = fmt == "pretty" or (fmt == "auto" and out.isatty())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact,
        Pseudonyms(pseudonym_key or secrets.token_bytes(KEY_BYTES)),
    ]
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=True)
        if pretty
        else structlog.processors.JSONRenderer(sort_keys=False)
    )
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
    # Libraries (APScheduler, aiohttp, slack_bolt, discord) log through logging.
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processor=renderer, foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name]
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(logging.getLevelNamesMapping()[level.upper()], logging.INFO))
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
