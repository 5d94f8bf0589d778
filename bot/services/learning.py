"""Reviews: the one path by which any grade changes a member's schedule for a card."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.models import Grade
from bot.core.srs import CardState
from bot.ports.records import MemberRow
from bot.ports.store import Tx
from bot.services.base import Service


class Learning(Service):
    def review(
        self,
        tx: Tx,
        member: MemberRow,
        card_key: str,
        grade: Grade,
        *,
        kind: str,
        ref: str,
        now: datetime,
        origin_channel_id: int | None = None,
    ) -> CardState:
        """Log (or replace) the review (kind, ref) and replay the card's schedule."""
        tx.reviews.log(member.id, card_key, grade, now, kind, ref)
        return self._replay(tx, member, card_key, now, origin_channel_id)

    def preview(
        self, tx: Tx, member: MemberRow, card_key: str, now: datetime
    ) -> dict[Grade, timedelta]:
        """The interval each grade would give this member's card now (for its buttons)."""
        stored = tx.reviews.state(member.id, card_key)
        srs = self.deps.srs_book.srs_for_card(member.platform, member.workspace, card_key)
        return srs.preview(stored.state if stored else None, now)

    def withdraw(
        self, tx: Tx, member: MemberRow, card_key: str, *, kind: str, ref: str, now: datetime
    ) -> CardState | None:
        tx.reviews.void(kind, ref, now)
        history = tx.reviews.history(member.id, card_key)
        if not history:
            tx.reviews.delete_state(member.id, card_key)
            return None
        return self._replay(tx, member, card_key, now, None)

    def _replay(
        self, tx: Tx, member: MemberRow, card_key: str, now: datetime, origin: int | None
    ) -> CardState:
        existing = tx.reviews.state(member.id, card_key)
        history = tx.reviews.history(member.id, card_key)
        first_seen = (
            existing.first_seen if existing else min((at for _, at in history), default=now)
        )
        srs = self.deps.srs_book.srs_for_card(member.platform, member.workspace, card_key)
        state = srs.replay(history, first_seen)
        tx.reviews.save_state(
            member.id,
            card_key,
            state,
            first_seen=first_seen,
            origin_channel_id=existing.origin_channel_id if existing else origin,
        )
        return state
