"""One-off public notes of the bot's own, each sent exactly once per (channel, key).

A notice is queued in the same transaction as the change it reports (days marked missed,
say), then sent by the dispatch job: claimed, sent with its key, recorded. A process that
dies between send and record leaves a claim behind; after the lease the next process
looks the key up in the channel before it sends again, as posts and leaderboards do.
"""

from __future__ import annotations

from datetime import datetime

import structlog

from bot.core.errors import ChatError, TargetUnavailable
from bot.core.replies import Message
from bot.ports.chat import Posted
from bot.ports.records import ChannelRow, NoticeRow
from bot.ports.store import Tx
from bot.services.base import Service

log = structlog.get_logger("studybot.notices")

CLAIMED = "claimed"


def notice_key(channel_id: int, key: str) -> str:
    """The send key of one notice (found again after a crash)."""
    return f"studybot:notice:{channel_id}:{key}"


class Notices(Service):
    async def send_due(self) -> int:
        """Send every queued notice (and any a vanished process left half-sent)."""
        now = self.now()
        stale = now - self.policy.intent_lease
        due = await self.store.read(lambda tx: tx.notices.due(now, stale))
        sent = 0
        for notice in due:
            item = f"{notice.channel_id}/{notice.key}"
            work = self._send(notice, now, stale)
            sent += int(await self.isolated_async("notices", item, work) or 0)
        return sent

    async def _send(self, notice: NoticeRow, now: datetime, stale: datetime) -> bool:
        key = notice_key(notice.channel_id, notice.key)
        if key in self.deps.sends:
            return False  # this process is sending it right now
        with self.deps.sends.holding(key):

            def claim(tx: Tx) -> ChannelRow | None:
                if tx.notices.claim(notice, now, stale):
                    return tx.channels.get(notice.channel_id)
                return None

            channel = await self.store.write(claim)
            chat = self.deps.chats.get(channel.platform) if channel is not None else None
            if channel is None or chat is None:
                return False
            target = channel.target()
            try:
                found: Posted | None = None
                if notice.status == CLAIMED:  # half-sent by a process that vanished: look
                    found = await chat.find_post(target, key, Message(lines=(notice.text,)))
                posted = found or await chat.post(target, Message(lines=(notice.text,)), key=key)
            except TargetUnavailable:
                ref = ""  # the channel cannot take it (the post path pauses the channel)
            except ChatError as exc:  # the claim stays; after the lease it is looked up
                log.warning("notice_failed", channel=channel.id, key=notice.key, error=str(exc))
                return False
            else:
                ref = posted.message_ref
            if not await self.store.write(
                lambda tx: tx.notices.record(channel.id, notice.key, ref, now)
            ):
                log.warning("claim_lost", kind="notice", channel=channel.id, key=notice.key)
                return False
            log.info("notice_sent", channel=channel.id, key=notice.key, delivered=bool(ref))
            return bool(ref)
