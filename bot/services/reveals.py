"""Reveals: the key points of a daily post, in its thread once the post's time is up.

Claimed in batches (instances revealing at once split them, ADR 0011), sent with their
key, recorded with a fence on the claim; a retry looks the reveal up before it sends.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from functools import partial

import structlog

from bot.core.errors import ChatError, InvalidInput, NotFound, TargetUnavailable
from bot.core.models import Card
from bot.core.replies import Message
from bot.ports.reads import ReadTx
from bot.ports.records import ChannelRow, PostRow
from bot.ports.store import Tx
from bot.services import messages
from bot.services.base import Service

log = structlog.get_logger("studybot.posting")
SEND_CONCURRENCY = 100
TAKE_BATCH = 100
"""Due channels or reveals taken per transaction."""


def post_key(post: PostRow) -> str:
    return f"studybot:post:{post.channel_id}:{post.local_date.isoformat()}"


def reveal_key(post: PostRow) -> str:
    return f"studybot:reveal:{post.channel_id}:{post.local_date.isoformat()}"


class Reveals(Service):
    async def reveal_due(self) -> int:
        """Claim due reveals in batches (instances revealing at once split them) until none
        is left, and send them concurrently, bounded like the daily posts."""
        now = self.now()
        limit = asyncio.Semaphore(SEND_CONCURRENCY)
        done = 0

        async def reveal(post: PostRow) -> None:
            nonlocal done
            async with limit:
                work = self._reveal(post, claimed=True)
                done += int(await self.isolated_async("dispatch", post.id, work) or 0)

        async with asyncio.TaskGroup() as revealing:
            while batch := await self.store.write(
                partial(_take_due_reveals, now), serializable=False
            ):
                for post in batch:
                    revealing.create_task(reveal(post))
        return done

    async def reveal_now(self, channel: ChannelRow) -> PostRow:
        post = await self.store.read(lambda tx: tx.posts.latest(channel.id))
        if post is None:
            raise NotFound("There is no question to reveal yet. Try /study post-now first.")
        if post.reveal_status == "posted":
            raise InvalidInput(f"The question of {post.local_date} is already revealed.")
        if not await self._reveal(post):
            raise InvalidInput("The reveal is already on its way.")
        return await self.store.read(lambda tx: tx.posts.get(post.id)) or post

    def _reveal_message(self, card: Card, post: PostRow, answered: int) -> Message:
        return messages.reveal(
            card, answered=answered, policy=self.policy, post_id=post.id, day=post.local_date
        )

    async def _reveal(
        self, post: PostRow, *, reconcile: bool = False, claimed: bool = False
    ) -> bool:
        """Send one reveal; ``claimed``: its claim was taken with a batch already."""
        key = reveal_key(post)
        if key in self.deps.sends:
            return False  # this process is sending it now (a slow send, not a stale one)
        with self.deps.sends.holding(key):
            return await self._send_reveal(post, reconcile=reconcile, claimed=claimed)

    async def _send_reveal(self, post: PostRow, *, reconcile: bool, claimed: bool) -> bool:
        now = self.now()

        def looked_up(tx: ReadTx) -> tuple[ChannelRow | None, int]:
            return tx.channels.get(post.channel_id), len(tx.answers.for_post(post.id))

        def claim(tx: Tx) -> tuple[ChannelRow | None, int] | None:
            if not tx.posts.claim_reveal(post.id, now, now - self.policy.intent_lease):
                return None
            return looked_up(tx)

        found_claim = await (self.store.read(looked_up) if claimed else self.store.write(claim))
        if found_claim is None:
            return False
        channel, answered = found_claim
        card = self.decks.card(post.card_key or "")
        chat = self.deps.chats.get(channel.platform) if channel else None
        if channel is None or card is None or chat is None or post.thread_ref is None:
            return False
        target = channel.target(thread=post.thread_ref)  # a reveal lives in the thread
        try:  # a retry looks first: an earlier send may have landed and lost its answer
            retry = reconcile or post.reveal_status == "intent"
            found = (
                await chat.find_post(
                    target,
                    reveal_key(post),
                    self._reveal_message(card, post, answered),
                )
                if retry
                else None
            )
        except ChatError as exc:  # unknown is not "not there": the claim waits
            log.warning("reveal_lookup_failed", post=post.id, error=str(exc))
            return False
        if found is None:
            message = self._reveal_message(card, post, answered)
            try:
                share = channel.settings.share
                found = await chat.post(target, message, key=reveal_key(post), broadcast=share)
            except TargetUnavailable as exc:
                await self.pause_channel(channel, exc.reason)
                return False
            except ChatError as exc:  # the claim stays: reconcile looks before it re-sends
                log.warning("reveal_failed", post=post.id, error=str(exc))
                return False
        ref = found.message_ref
        pointer = None
        if channel.settings.share and not chat.broadcasts:  # a pointer from the channel
            pointer = messages.shared_reveal(post.local_date, chat.thread_link(target))

        def record(tx: Tx) -> None:
            if not tx.posts.record_reveal(post.id, ref, now):
                log.warning("claim_lost", kind="reveal", post=post.id)
                return  # another instance took the claim over: it records what it finds
            if pointer is not None:  # queued with the record: exactly once, like the reveal
                tx.notices.add(channel.id, f"shared:{post.id}", pointer, now)

        await self.store.write(record)
        return True


def _take_due_reveals(now: datetime, tx: Tx) -> list[PostRow]:
    return tx.posts.take_due_reveals(now, limit=TAKE_BATCH)
