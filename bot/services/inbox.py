"""Inbound events: durable before the ack, handled after it, drained after a crash.

An adapter that must answer the platform quickly (Slack: 3 s, or the event comes again
and a subscription that keeps failing is disabled) calls ``accept`` (one small commit),
acknowledges, then ``handle``s the row. Whatever handling costs (Web API lookups, a slow
database, 429s) no longer delays the ack, and an event acknowledged just before a crash
is still there: ``drain`` takes rows nobody has finished within the lease and handles
them again. Handlers claim the event id in the same transaction as their effect
(``tx.events``), so running one twice changes nothing twice.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import structlog

from bot.core.errors import NotYet
from bot.ports.records import InboxRow
from bot.ports.store import Tx
from bot.services.base import Service

log = structlog.get_logger("studybot.inbox")

Handler = Callable[[InboxRow], Awaitable[None]]
LEASE = timedelta(seconds=30)
"""How long a taken row belongs to the process that took it (then anyone may)."""
MAX_ATTEMPTS = 5
"""A row that failed this often is closed with its error (it would fail forever)."""
KEEP = timedelta(days=2)
NOT_YET_PATIENCE = timedelta(days=1)
"""How long an event about a message still being recorded is tried again. NotYet lasts
only while the send's claim is open, and reconciling it takes the intent lease plus a
tick once a process runs; a day also covers a bot that was down for hours meanwhile."""
EVENT_IDS_KEEP = timedelta(days=7)
"""Event ids kept against redelivery: Slack retries within about an hour, a Discord
gateway replays within a session; a week is far beyond both."""
"""Handled rows are kept this long (Slack redelivers for about an hour)."""


def _take(row_id: int, now: datetime, before: datetime, tx: Tx) -> bool:
    return tx.inbox.take(row_id, now, before)


def payload_of(row: InboxRow) -> dict[str, Any]:
    data = json.loads(row.payload)
    if not isinstance(data, dict):
        raise ValueError(f"inbox row {row.id}: payload is not an object")
    return data


class Inbox(Service):
    async def accept(
        self, platform: str, event_id: str, kind: str, payload: Mapping[str, Any]
    ) -> InboxRow | None:
        """Store a received event, taken by this process; ``None``: seen before."""
        now = self.now()
        text = json.dumps(payload, separators=(",", ":"), sort_keys=True)
        row_id = await self.store.write(
            lambda tx: tx.inbox.add(platform, event_id, kind, text, now)
        )
        if row_id is None:
            return None
        return InboxRow(row_id, platform, event_id, kind, text, now, 1)

    async def handle(self, row: InboxRow, handler: Handler) -> bool:
        """Run ``handler`` on a taken row; close it, or leave it for a later drain."""
        try:
            await handler(row)
        except NotYet as exc:  # about a send not recorded yet: wait for it, patiently
            if self.now() - row.received_at > NOT_YET_PATIENCE:
                await self._close(row, f"gave up waiting: {exc.message}")
            else:
                log.info("inbox_not_yet", row=row.id, kind=row.kind, attempts=row.attempts)
                await self.store.write(lambda tx: tx.inbox.failed(row.id, "not yet"))
            return False
        except Exception as exc:  # the boundary: the row stays for the next drain
            reason = f"{type(exc).__name__}: {exc}"
            log.exception("inbox_handler_failed", row=row.id, kind=row.kind, attempts=row.attempts)
            if row.attempts >= MAX_ATTEMPTS:
                await self._close(row, f"gave up after {row.attempts} attempts: {reason}")
            else:
                await self.store.write(lambda tx: tx.inbox.failed(row.id, reason))
            return False
        await self._close(row, None)
        return True

    async def drain(self, platform: str, handler: Handler, *, limit: int = 100) -> int:
        """Handle events received but not finished (a crash, a failed handler)."""
        now = self.now()
        before = now - LEASE
        rows = await self.store.read(lambda tx: tx.inbox.open(platform, before, limit))
        handled = 0
        for row in rows:
            if not await self.store.write(partial(_take, row.id, now, before)):
                continue  # another process took it
            taken = InboxRow(
                row.id,
                row.platform,
                row.event_id,
                row.kind,
                row.payload,
                row.received_at,
                row.attempts + 1,
            )
            log.info("inbox_drained", row=row.id, kind=row.kind, attempts=taken.attempts)
            handled += int(await self.handle(taken, handler))
        return handled

    async def backlog(self, platform: str) -> int:
        return await self.store.read(lambda tx: tx.inbox.backlog(platform))

    async def prune(self) -> int:
        """Old handled inbox rows, and redelivery ids older than any platform redelivers."""
        now = self.now()

        def unit(tx: Tx) -> int:
            return tx.inbox.prune(now - KEEP) + tx.events.prune(now - EVENT_IDS_KEEP)

        return await self.store.write(unit)

    async def _close(self, row: InboxRow, error: str | None) -> None:
        now = self.now()
        await self.store.write(lambda tx: tx.inbox.done(row.id, now, error))
