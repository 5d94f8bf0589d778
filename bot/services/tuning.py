"""Fitting FSRS parameters per workspace and deck, and keeping the schedulers in step.

``tune`` fits each (platform, workspace, deck) on the earlier reviews of its log and
adopts the fit only when it predicts the later reviews better than the parameters in
use (``bot.core.tuning.decide``). Each run leaves one history row per key; ``refresh``
loads the newest adopted, readable row of every key into the ``SrsBook``.
The optimiser and the retention simulator run in a worker thread.
"""

from __future__ import annotations

import asyncio
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from bot.core.srs import DEFAULT_PARAMETERS
from bot.core.tuning import (
    DeckKey,
    LoggedReview,
    Outcome,
    RetentionChoice,
    decide,
    dump_parameters,
    parse_parameters,
    resolve_retention,
)
from bot.ports.reads import ReadTx
from bot.ports.store import Tx
from bot.ports.tuning import NewParameters, ParameterRow
from bot.services.base import Service

log = structlog.get_logger("studybot.tuning")

WEEK = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class TuneReport:
    key: DeckKey
    outcome: Outcome
    retention: RetentionChoice
    """The desired retention that follows (for the parameters in force after the run)."""

    def lines(self) -> list[str]:
        platform, workspace, deck = self.key
        o = self.outcome

        def loss(value: float | None) -> str:
            return "-" if value is None else f"{value:.4f}"

        return [
            f"{platform}/{workspace} deck {deck}",
            f"  reviews used: {o.reviews_used}",
            f"  log loss: in use {loss(o.loss_current)}, fitted {loss(o.loss_fitted)}",
            f"  adopted: {'yes' if o.adopted else 'no'} ({o.reason})",
            f"  desired retention: {self.retention.value:.2f} ({self.retention.reason})",
        ]


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def in_use(rows: list[ParameterRow]) -> dict[DeckKey, tuple[float, ...]]:
    """The newest readable adopted row per key (rows come newest first)."""
    found: dict[DeckKey, tuple[float, ...]] = {}
    for row in rows:
        key = (row.platform, row.workspace, row.deck)
        if key in found:
            continue
        try:
            found[key] = parse_parameters(row.parameters)
        except ValueError as exc:
            log.warning(
                "srs_parameters_ignored",
                row=row.id,
                platform=row.platform,
                workspace=row.workspace,
                deck=row.deck,
                problem=str(exc),
            )
    return found


def by_deck(
    log_by_workspace: dict[tuple[str, str], list[LoggedReview]],
) -> dict[DeckKey, list[LoggedReview]]:
    grouped: defaultdict[DeckKey, list[LoggedReview]] = defaultdict(list)
    for (platform, workspace), reviews in log_by_workspace.items():
        for review in reviews:
            grouped[(platform, workspace, review.card_key.partition("/")[0])].append(review)
    return dict(sorted(grouped.items()))


class Tuning(Service):
    async def refresh(self) -> None:
        """Load the parameters in use into the book (at start, and after adopting)."""
        adopted = in_use(await self.store.read(lambda tx: tx.tuning.adopted()))
        book = self.deps.srs_book
        await asyncio.to_thread(book.install, adopted)

    async def tune(self, *, dry_run: bool) -> list[TuneReport]:
        def read(
            tx: ReadTx,
        ) -> tuple[dict[DeckKey, list[LoggedReview]], dict[DeckKey, tuple[float, ...]]]:
            return by_deck(tx.tuning.review_log()), in_use(tx.tuning.adopted())

        logs, current = await self.store.read(read)
        setting = self.deps.srs_book.setting
        reports = []
        for key, reviews in logs.items():
            params = current.get(key, DEFAULT_PARAMETERS)
            outcome = await asyncio.to_thread(decide, reviews, params, self.deps.tune)
            after = outcome.fitted if outcome.adopted and outcome.fitted else params
            retention = await asyncio.to_thread(resolve_retention, setting, after)
            if not outcome.adopted:
                log.info("tune_kept", key="/".join(key), reason=outcome.reason)
            reports.append(TuneReport(key, outcome, retention))
        if dry_run or not reports:
            return reports
        now = self.now()
        await self.store.write(lambda tx: self._save(tx, reports, current, now))
        if any(r.outcome.adopted for r in reports):
            log.info("tune_adopted", keys=["/".join(r.key) for r in reports if r.outcome.adopted])
            await self.refresh()
        return reports

    def _save(
        self,
        tx: Tx,
        reports: list[TuneReport],
        current: dict[DeckKey, tuple[float, ...]],
        now: datetime,
    ) -> None:
        for report in reports:
            o = report.outcome
            platform, workspace, deck = report.key
            params = o.fitted or current.get(report.key, DEFAULT_PARAMETERS)
            row = NewParameters(
                platform=platform,
                workspace=workspace,
                deck=deck,
                parameters=dump_parameters(params),
                desired_retention=report.retention.value,
                reviews_used=o.reviews_used,
                log_loss_current=_finite(o.loss_current),
                log_loss_fitted=_finite(o.loss_fitted),
                adopted=o.adopted,
                reason=o.reason,
            )
            tx.tuning.add(row, now)

    async def weekly(self) -> list[TuneReport]:
        """The scheduled tune: at most once a week, however often the bot restarts."""
        last = await self.store.read(lambda tx: tx.tuning.last_run())
        if last is not None and self.now() - last < WEEK - timedelta(hours=1):
            await self.refresh()  # pick up what ``studybot tune`` adopted meanwhile
            return []
        return await self.tune(dry_run=False)
