"""``/study export`` (a member's data as JSON) and ``/study forget-me`` (delete it all)."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from bot.core.actions import FORGET_CONFIRM
from bot.core.models import Actor
from bot.core.replies import Button, Message, Reply, Style, private
from bot.ports.store import Tx
from bot.services.base import Service


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


class Privacy(Service):
    async def export(self, actor: Actor) -> Reply:
        def unit(tx: Tx) -> dict[str, Any] | None:
            member = tx.members.find(actor.platform, actor.workspace, actor.user)
            if member is None:
                return None
            return {
                "member": {
                    "platform": member.platform,
                    "workspace": member.workspace,
                    "user": member.user_ref,
                    "name": member.name,
                    "timezone": member.tz,
                    "followups_paused": member.followups_paused,
                },
                "channels": [
                    {
                        "channel_id": m.channel_id,
                        "joined_on": m.joined_on.isoformat(),
                        "streak": m.streak.current,
                        "best_streak": m.streak.best,
                        "freezes": m.streak.freezes,
                    }
                    for m in tx.members.memberships(member_id=member.id)
                ],
                "answers": [
                    {"post_id": a.post_id, "text": a.text, "answered_at": a.created_at.isoformat()}
                    for a in tx.answers.for_member(member.id)
                ],
                "reviews": tx.reviews.all_for(member.id),
                "card_states": [
                    {
                        "card": s.card_key,
                        "due": s.state.due.isoformat(),
                        "stability": s.state.stability,
                        "difficulty": s.state.difficulty,
                        "reps": s.state.reps,
                        "lapses": s.state.lapses,
                    }
                    for s in tx.reviews.states_for(member.id)
                ],
                "activity": tx.activity.for_member(member.id),
            }

        document = await self.store.read(unit)
        if document is None:
            return private(Message(lines=("I hold no data about you.",)))
        text = json.dumps(document, default=_jsonable, indent=2, sort_keys=True)
        summary = (
            f"Your data: {len(document['answers'])} answers, {len(document['reviews'])} reviews, "
            f"{len(document['card_states'])} cards scheduled."
        )
        return Reply(
            messages=(Message(title="Your studybot data", lines=(summary,), kind="export"),),
            data={"export": text, "filename": "studybot-export.json"},
        )

    def confirm_forget(self) -> Reply:
        return private(
            Message(
                title="Delete all your data?",
                lines=(
                    "This deletes your answers, grades, review history, schedules, points and "
                    "streaks in every channel. It cannot be undone.",
                    "Press the button, or type /study forget-me confirm.",
                ),
                buttons=(Button("Delete my data", FORGET_CONFIRM, Style.DANGER),),
            )
        )

    async def forget(self, actor: Actor) -> Reply:
        def unit(tx: Tx) -> None:
            member = tx.members.find(actor.platform, actor.workspace, actor.user)
            if member is not None:
                tx.members.delete(member.id)

        await self.store.write(unit)
        return private(Message(lines=("Done: everything I stored about you is deleted.",)))
