"""``/study export`` (a member's data as one JSON file) and ``/study forget-me`` (all gone).

The export is every row the store holds about the member (``bot/store/export.py`` finds
them through the schema), as one document in ``Reply.data``: ``export`` (the JSON text)
and ``filename``. Each adapter delivers it as a file (a Slack upload to the member's
DM, a Discord attachment, a file on the console) and shows the short message beside it.

Forget-me deletes those rows, scrubs the member's name where other rows keep it as
text, then has the store overwrite what it deleted in its files (``Store.checkpoint``).
The confirm button carries a token of the member it was made for: pressed again after
the member is gone, or after they came back as a new member, it deletes nothing.
"""

from __future__ import annotations

import json
from typing import Any

import structlog

from bot.core import words
from bot.core.actions import forget_confirm
from bot.core.models import Actor
from bot.core.replies import Button, Message, Reply, Style, in_place, private
from bot.ports.reads import ReadTx
from bot.ports.records import MembershipRow
from bot.ports.store import Tx
from bot.services.base import Deps, Service
from bot.services.streaks import Streaks

log = structlog.get_logger("studybot.privacy")

NO_DATA = "I hold no data about you."
NOTHING_TO_DELETE = "Nothing to delete: I hold no data about you."
EXPIRED = (
    "This button has expired, so nothing was deleted. "
    "Type /study forget-me for a new one, or /study forget-me confirm."
)
DONE = "Done: everything I stored about you is deleted."


class Privacy(Service):
    def __init__(self, deps: Deps, *, streaks: Streaks | None = None) -> None:
        super().__init__(deps)
        self.streaks = streaks or Streaks(deps)

    async def export(self, actor: Actor) -> Reply:
        now = self.now()

        def unit(tx: ReadTx) -> dict[str, Any] | None:
            member = tx.members.find(actor.platform, actor.workspace, actor.user)
            if member is None:
                return None
            document = tx.personal.export(member.id)
            if document is None:
                return None
            # The stored streak rows are a cache folded through yesterday; this is the
            # streak as /study streak and the leaderboard show it today.
            document["streaks"] = [
                self._streak(tx, membership)
                for membership in tx.members.memberships(member_id=member.id)
            ]
            return document

        document = await self.store.read(unit)
        if document is None:
            return private(Message(lines=(NO_DATA,)))
        document = {**document, "exported_at": now.isoformat()}
        text = json.dumps(document, indent=2, ensure_ascii=False)
        tables = document["tables"]
        count = sum(len(rows) for rows in tables.values())
        summary = (
            f"{words.count(count, 'record')}: "
            f"{words.count(len(tables.get('answers', [])), 'answer')}, "
            f"{words.count(len(tables.get('reviews', [])), 'review')}, "
            f"{words.count(len(tables.get('card_states', [])), 'card')} scheduled."
        )
        return Reply(
            messages=(Message(title="Your studybot data", lines=(summary,), kind="export"),),
            data={"export": text, "filename": f"studybot-export-{now:%Y-%m-%d}.json"},
        )

    def _streak(self, tx: ReadTx, membership: MembershipRow) -> dict[str, Any]:
        channel = tx.channels.get(membership.channel_id)
        if channel is None:
            return {"channel_id": membership.channel_id}
        state, value = self.streaks.current(tx, channel, membership)
        return {
            "channel_id": channel.id,
            "streak": value,
            "best": max(state.best, value),
            "freezes": state.freezes,
            "as_of": self.streaks.today(channel, membership).isoformat(),
        }

    async def confirm_forget(self, actor: Actor) -> Reply:
        def unit(tx: ReadTx) -> str | None:
            member = tx.members.find(actor.platform, actor.workspace, actor.user)
            return None if member is None else tx.personal.token(member.id)

        token = await self.store.read(unit)
        if token is None:
            return private(Message(lines=(NOTHING_TO_DELETE,)))
        return private(
            Message(
                title="Delete all your data?",
                lines=(
                    "This deletes your answers, grades, review history, schedules, points and "
                    "streaks in every channel. It cannot be undone.",
                    "Press the button, or type /study forget-me confirm.",
                ),
                buttons=(Button("Delete my data", forget_confirm(token), Style.DANGER),),
            )
        )

    async def forget(self, actor: Actor, token: str | None = None) -> Reply:
        """Delete the member's data; ``token`` (from the button) must name this member."""

        def unit(tx: Tx) -> str:
            member = tx.members.find(actor.platform, actor.workspace, actor.user)
            if member is None:
                return NOTHING_TO_DELETE
            if token is not None and token != tx.personal.token(member.id):
                return EXPIRED
            tx.personal.erase(member.id)
            return DONE

        outcome = await self.store.write(unit)
        if outcome == DONE:
            log.info("member_forgotten", platform=actor.platform)
            try:
                await self.store.checkpoint()
            except Exception:  # the rows are gone; their old bytes go at the next checkpoint
                log.exception("forget_checkpoint_failed")
        message = Message(lines=(outcome,))
        return in_place(message) if token is not None else private(message)
