"""A synthetic review log: members whose memory follows FSRS with non-default parameters.

Reviews happen when the bot's default scheduler says a card is due (plus up to a day of
delay); whether the member recalls is sampled from the *true* memory, so parameters
fitted to the log predict later reviews better than the defaults do.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from fsrs import Card, Rating, Scheduler

from bot.core.models import Grade
from bot.core.srs import DEFAULT_PARAMETERS
from bot.store.sql import SqlStore
from tests.dbtools import sync_tx

TRUE_PARAMETERS = (0.05, 0.3, 0.8, 3.0, *DEFAULT_PARAMETERS[4:8], 1.2, *DEFAULT_PARAMETERS[9:])
START = datetime(2026, 1, 5, 9, tzinfo=UTC)

Logged = tuple[str, str, int, datetime]  # (user, card key, grade, at)


def simulate(members: int = 60, cards: int = 40, reviews: int = 8, seed: int = 7) -> list[Logged]:
    rng = random.Random(seed)
    truth = Scheduler(
        parameters=TRUE_PARAMETERS, learning_steps=(), relearning_steps=(), enable_fuzzing=False
    )
    shown_by = Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)
    log: list[Logged] = []
    for m in range(members):
        for c in range(cards):
            at = START + timedelta(days=rng.randrange(30), hours=rng.random() * 8)
            memory, shown = Card(card_id=1), Card(card_id=1)
            for i in range(reviews):
                if i == 0:
                    grade = rng.choices((1, 2, 3, 4), (0.3, 0.2, 0.4, 0.1))[0]
                elif rng.random() < truth.get_card_retrievability(memory, at):
                    grade = rng.choices((2, 3, 4), (0.15, 0.75, 0.1))[0]
                else:
                    grade = 1
                memory, _ = truth.review_card(memory, Rating(grade), at)
                shown, _ = shown_by.review_card(shown, Rating(grade), at)
                log.append((f"U{m}", f"sim/c{c:02d}", grade, at))
                at = shown.due + timedelta(hours=rng.random() * 30)
    return log


def load(
    store: SqlStore, log: list[Logged], *, platform: str = "fake", workspace: str = "T1"
) -> None:
    """Write the log through the store's own repositories, in one transaction."""
    with sync_tx(store) as tx:
        ids: dict[str, int] = {}
        for n, (user, key, grade, at) in enumerate(log):
            if user not in ids:
                ids[user] = tx.members.ensure(platform, workspace, user, user, None, START).id
            tx.reviews.log(ids[user], key, Grade(grade), at, "sim", f"{platform}{workspace}{n}")
