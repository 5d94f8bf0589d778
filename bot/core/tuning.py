"""Fitting FSRS parameters to a review log, and choosing the desired retention.

Pure logic over ``fsrs`` and ``fsrs_rs_python`` (the Rust optimiser): no store, no
logging. Callers get reasons back as short sentences and decide what to log.
See docs/adr/0006 for why parameters are fitted per workspace and deck, and adopted only
when they beat the parameters in use on later reviews.
"""

from __future__ import annotations

import functools
import json
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypeVar

import fsrs_rs_python as rs
from fsrs import Scheduler

from bot.core.srs import DEFAULT_PARAMETERS

RetentionSetting = float | Literal["auto"]
DeckKey = tuple[str, str, str]
"""(platform, workspace, deck): the unit parameters are fitted for."""

AUTO_LOW, AUTO_HIGH = 0.78, 0.95
PARAMETER_COUNT = 21
# A reduced simulation: one optimal_retention call takes about 0.3 s instead of 20 s,
# and gives the same answer for the parameter sets we tried (docs/adr/0006).
SIMULATED_DECK_SIZE = 500
SIMULATED_DAYS = 180

T = TypeVar("T")


class TuneError(Exception):
    """The optimiser or the simulator failed (a Rust panic arrives as this too)."""


@dataclass(frozen=True, slots=True)
class RetentionChoice:
    value: float
    reason: str


@dataclass(frozen=True, slots=True)
class TuneSettings:
    min_reviews: int = 1000
    holdout: float = 0.2
    """The later share of reviews that fitted and current parameters are judged on."""
    epochs: int = 5


def _rust(call: Callable[[], T]) -> T:
    """Run a Rust call; its panics (a ``BaseException``) become ``TuneError``."""
    try:
        return call()
    except Exception as exc:
        raise TuneError(f"{type(exc).__name__}: {exc}") from exc
    except BaseException as exc:
        if type(exc).__name__ != "PanicException":
            raise
        raise TuneError(f"panic: {exc}") from exc


def is_default(parameters: Sequence[float]) -> bool:
    return len(parameters) == PARAMETER_COUNT and all(
        math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)
        for a, b in zip(parameters, DEFAULT_PARAMETERS, strict=True)
    )


# ---- parameters ----------------------------------------------------------------------


def check_parameters(values: object) -> tuple[float, ...]:
    """21 finite floats that both FSRS libraries accept, or ``ValueError`` saying why."""
    if not isinstance(values, list | tuple):
        raise ValueError("not a list of numbers")
    if len(values) != PARAMETER_COUNT:
        raise ValueError(f"{len(values)} numbers, not {PARAMETER_COUNT}")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        raise ValueError("not all numbers")
    floats = tuple(float(v) for v in values)
    if not all(math.isfinite(v) for v in floats):
        raise ValueError("not all finite")
    try:
        _rust(lambda: rs.check_and_fill_parameters(floats))
        Scheduler(parameters=floats)
    except (TuneError, ValueError) as exc:
        raise ValueError(f"rejected by FSRS ({str(exc).splitlines()[0]})") from None
    return floats


def parse_parameters(text: str) -> tuple[float, ...]:
    """The JSON text of a stored parameter set, checked (``ValueError`` when foreign)."""
    try:
        values = json.loads(text)
    except (TypeError, ValueError):
        raise ValueError("not JSON") from None
    return check_parameters(values)


def dump_parameters(parameters: Sequence[float]) -> str:
    return json.dumps([float(p) for p in parameters])


# ---- desired retention ---------------------------------------------------------------


def clamp_retention(raw: float) -> float:
    return min(max(raw, AUTO_LOW), AUTO_HIGH)


@functools.lru_cache(maxsize=128)
def optimal_retention(parameters: tuple[float, ...]) -> float:
    """The simulator's retention with the least workload per remembered card (unclamped)."""
    config = rs.default_simulator_config()
    config.deck_size = SIMULATED_DECK_SIZE
    config.learn_span = SIMULATED_DAYS
    value = float(_rust(lambda: rs.optimal_retention(config, parameters)))
    if not math.isfinite(value):
        raise TuneError(f"optimal retention is {value}")
    return value


def resolve_retention(setting: RetentionSetting, parameters: Sequence[float]) -> RetentionChoice:
    """The desired retention to schedule with, and a sentence saying why."""
    if setting != "auto":
        return RetentionChoice(float(setting), "set by STUDYBOT_DESIRED_RETENTION")
    which = "default" if is_default(parameters) else "fitted"
    try:
        raw = optimal_retention(tuple(float(p) for p in parameters))
    except TuneError as exc:
        return RetentionChoice(0.9, f"auto failed ({exc}); 0.90 as for FSRS")
    value = round(clamp_retention(raw), 4)
    reason = f"auto: minimises review workload per remembered card for the {which} parameters"
    if abs(value - raw) > 5e-4:
        reason += f" ({value:.2f} after clamping {raw:.2f} to {AUTO_LOW:.2f}-{AUTO_HIGH:.2f})"
    return RetentionChoice(value, reason)


# ---- the review log as training items ------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoggedReview:
    """One non-voided review, as the tuner sees it."""

    member_id: int
    card_key: str
    grade: int
    at: datetime


@dataclass(frozen=True, slots=True)
class Split:
    train: list[rs.FSRSItem]
    test: list[rs.FSRSItem]


def split_items(reviews: Iterable[LoggedReview], holdout: float) -> Split:
    """One item per review after a card's first: its history up to and including it.

    Items whose last review falls in the later ``holdout`` share of reviews (by time)
    are for testing, the rest for training. Same-day repeats stay in the histories but
    are not predicted: the optimiser needs a day or more before the predicted review.
    """
    ordered = sorted(reviews, key=lambda r: r.at)
    if not ordered:
        return Split([], [])
    cut = ordered[min(len(ordered) - 1, math.floor(len(ordered) * (1 - holdout)))].at
    cards: defaultdict[tuple[int, str], list[LoggedReview]] = defaultdict(list)
    for review in ordered:
        cards[(review.member_id, review.card_key)].append(review)
    split = Split([], [])
    for history in cards.values():
        steps: list[rs.FSRSReview] = []
        previous: datetime | None = None
        for review in history:
            days = 0 if previous is None else (review.at - previous).days
            steps.append(rs.FSRSReview(review.grade, days))
            previous = review.at
            if len(steps) > 1 and days > 0:
                (split.train if review.at < cut else split.test).append(rs.FSRSItem(steps[:]))
    return split


# ---- fitting and the adoption rule ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    reviews_used: int
    fitted: tuple[float, ...] | None
    loss_current: float | None
    loss_fitted: float | None
    adopted: bool
    reason: str


Fit = Callable[[list[rs.FSRSItem], TuneSettings], Sequence[float]]
Evaluate = Callable[[Sequence[float], list[rs.FSRSItem]], float]


def fit(items: list[rs.FSRSItem], settings: TuneSettings) -> Sequence[float]:
    model = rs.FSRS(list(DEFAULT_PARAMETERS))
    config = rs.TrainingConfig(num_epochs=settings.epochs)
    return _rust(lambda: model.compute_parameters(items, training_config=config))


def log_loss(parameters: Sequence[float], items: list[rs.FSRSItem]) -> float:
    return float(_rust(lambda: rs.FSRS(list(parameters)).evaluate(items)).log_loss)


def decide(
    reviews: Sequence[LoggedReview],
    current: Sequence[float],
    settings: TuneSettings,
    *,
    fitter: Fit = fit,
    evaluate: Evaluate = log_loss,
) -> Outcome:
    """Fit on earlier reviews; adopt only what predicts the later ones better."""
    used = len(reviews)

    def keep(
        reason: str,
        fitted: tuple[float, ...] | None = None,
        now: float | None = None,
        then: float | None = None,
    ) -> Outcome:
        return Outcome(used, fitted, now, then, False, reason)

    if used < settings.min_reviews:
        return keep(f"too few reviews ({used} < {settings.min_reviews})")
    split = split_items(reviews, settings.holdout)
    if not split.train or not split.test:
        counts = f"{len(split.train)} to fit, {len(split.test)} to test"
        return keep(f"too few reviews a day or more apart ({counts})")
    try:
        loss_current = evaluate(current, split.test)
    except TuneError as exc:
        return keep(f"cannot evaluate the parameters in use: {exc}")
    try:
        fitted = check_parameters(list(fitter(split.train, settings)))
    except TuneError as exc:
        return keep(f"optimiser failed: {exc}", now=loss_current)
    except ValueError as exc:
        return keep(f"fitted parameters unusable: {exc}", now=loss_current)
    try:
        loss_fitted = evaluate(fitted, split.test)
    except TuneError as exc:
        return keep(f"cannot evaluate the fitted parameters: {exc}", fitted, loss_current)
    if not (math.isfinite(loss_fitted) and math.isfinite(loss_current)):
        return keep("log loss is not a number", fitted, loss_current, loss_fitted)
    if loss_fitted < loss_current:
        why = f"fitted log loss {loss_fitted:.4f} < {loss_current:.4f} in use"
        return Outcome(used, fitted, loss_current, loss_fitted, True, why)
    why = f"fitted log loss {loss_fitted:.4f} is not below {loss_current:.4f} in use"
    return keep(why, fitted, loss_current, loss_fitted)
