from __future__ import annotations

from bot.core.commands import parse
from bot.core.models import Actor, Place
from bot.core.replies import Reply
from bot.services.study import StudyBot


async def run(study: StudyBot, actor: Actor, place: Place, text: str) -> Reply:
    """Run ``/study ...`` or ``/quiz ...`` as typed."""
    name, _, rest = text.lstrip("/").partition(" ")
    return await study.command(actor, place, parse(name, rest))


def text_of(reply: Reply) -> str:
    return "\n".join(m.plain_text() for m in reply.messages)


def is_error(reply: Reply) -> bool:
    return any(m.kind == "error" for m in reply.messages)
