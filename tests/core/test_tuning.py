"""Desired retention, parameter checks and the adoption rule of bot.core.tuning."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import fsrs_rs_python as rs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core import tuning
from bot.core.srs import DEFAULT_PARAMETERS
from bot.core.tuning import (
    AUTO_HIGH,
    AUTO_LOW,
    LoggedReview,
    TuneError,
    TuneSettings,
    check_parameters,
    clamp_retention,
    decide,
    dump_parameters,
    parse_parameters,
    resolve_retention,
    split_items,
)

OTHER = (0.5, 1.0, 3.0, 9.0, *DEFAULT_PARAMETERS[4:])


def test_auto_retention_for_the_defaults_is_clamped_into_bounds() -> None:
    choice = resolve_retention("auto", DEFAULT_PARAMETERS)
    assert AUTO_LOW <= choice.value <= AUTO_HIGH
    assert choice.value == 0.78  # the simulator's optimum, 0.70, is below the floor
    assert choice.reason.startswith("auto: minimises review workload per remembered card")
    assert "default parameters (0.78 after clamping 0.70 to 0.78-0.95)" in choice.reason


def test_a_fixed_retention_passes_through() -> None:
    choice = resolve_retention(0.83, OTHER)
    assert choice.value == 0.83
    assert choice.reason == "set by STUDYBOT_DESIRED_RETENTION"


def test_auto_retention_is_computed_once_per_parameter_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[Sequence[float]] = []

    def fake(config: object, parameters: Sequence[float]) -> float:
        calls.append(parameters)
        return 0.82

    tuning.optimal_retention.cache_clear()
    monkeypatch.setattr(rs, "optimal_retention", fake)
    try:
        first = resolve_retention("auto", OTHER)
        again = resolve_retention("auto", list(OTHER))
        other = resolve_retention("auto", DEFAULT_PARAMETERS)
    finally:
        tuning.optimal_retention.cache_clear()
    assert first == again
    assert first.value == 0.82 and "fitted parameters" in first.reason
    assert "clamping" not in first.reason
    assert other.value == 0.82
    assert len(calls) == 2  # one per distinct parameter set


def test_a_failing_simulation_falls_back_to_0_9(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(config: object, parameters: Sequence[float]) -> float:
        raise ValueError("boom")

    tuning.optimal_retention.cache_clear()
    monkeypatch.setattr(rs, "optimal_retention", broken)
    try:
        choice = resolve_retention("auto", OTHER)
    finally:
        tuning.optimal_retention.cache_clear()
    assert choice.value == 0.9 and "boom" in choice.reason


@given(st.floats(allow_nan=False))
def test_clamping_keeps_retention_in_bounds(raw: float) -> None:
    value = clamp_retention(raw)
    assert AUTO_LOW <= value <= AUTO_HIGH
    if AUTO_LOW <= raw <= AUTO_HIGH:
        assert value == raw


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=25))
def test_only_21_finite_accepted_floats_pass_the_check(values: list[float]) -> None:
    try:
        checked = check_parameters(values)
    except ValueError:
        return
    assert len(checked) == 21 and all(math.isfinite(v) for v in checked)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("not json", "not JSON"),
        ('{"w": 1}', "not a list"),
        ("[1, 2, 3]", "3 numbers"),
        (dump_parameters([float("nan")] * 21), "finite"),
        ("[" + ", ".join(["true"] * 21) + "]", "not all numbers"),
        (dump_parameters([-5.0] * 21), "rejected by FSRS"),
    ],
)
def test_foreign_parameter_text_is_refused_with_a_reason(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_parameters(text)


def test_parameters_round_trip_exactly() -> None:
    assert parse_parameters(dump_parameters(OTHER)) == OTHER


def test_a_rust_panic_becomes_a_tune_error() -> None:
    # An item with no review a day or more after another makes the optimiser panic.
    with pytest.raises(TuneError, match="panic"):
        tuning.fit([rs.FSRSItem([rs.FSRSReview(3, 0)])], TuneSettings(epochs=1))


# ---- the adoption rule ---------------------------------------------------------------

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)


def _log(cards: int = 20, reviews: int = 6) -> list[LoggedReview]:
    return [
        LoggedReview(1, f"d/c{c}", 3 if (c + i) % 4 else 1, T0 + timedelta(days=c + 3 * i))
        for c in range(cards)
        for i in range(reviews)
    ]


def _losses(table: dict[tuple[float, ...], float]) -> tuning.Evaluate:
    return lambda params, items: table[tuple(params)]


SETTINGS = TuneSettings(min_reviews=50, epochs=1)


def test_split_predicts_every_review_after_a_first_and_holds_out_the_later_ones() -> None:
    split = split_items(_log(), holdout=0.2)
    assert len(split.train) + len(split.test) == 20 * 5
    assert len(split.test) == pytest.approx(0.2 * 120, abs=6)
    lengths = sorted(len(item.reviews) for item in split.train + split.test)
    assert lengths == sorted(list(range(2, 7)) * 20)  # each card's history, prefix by prefix


def test_too_few_reviews_keep_the_parameters_in_use() -> None:
    outcome = decide(_log(cards=5), DEFAULT_PARAMETERS, SETTINGS)
    assert not outcome.adopted and outcome.fitted is None
    assert outcome.reason == "too few reviews (30 < 50)"


def test_a_worse_fit_is_kept_out() -> None:
    losses = {DEFAULT_PARAMETERS: 0.40, OTHER: 0.45}
    outcome = decide(
        _log(), DEFAULT_PARAMETERS, SETTINGS, fitter=lambda i, s: OTHER, evaluate=_losses(losses)
    )
    assert not outcome.adopted and outcome.fitted == OTHER
    assert (outcome.loss_current, outcome.loss_fitted) == (0.40, 0.45)
    assert "not below" in outcome.reason


def test_a_better_fit_is_adopted() -> None:
    losses = {DEFAULT_PARAMETERS: 0.40, OTHER: 0.35}
    outcome = decide(
        _log(), DEFAULT_PARAMETERS, SETTINGS, fitter=lambda i, s: OTHER, evaluate=_losses(losses)
    )
    assert outcome.adopted and outcome.fitted == OTHER
    assert outcome.reason == "fitted log loss 0.3500 < 0.4000 in use"


def test_the_real_optimiser_runs_on_a_small_log() -> None:
    outcome = decide(_log(), DEFAULT_PARAMETERS, SETTINGS)
    assert outcome.fitted is not None and len(outcome.fitted) == 21
    assert outcome.loss_current is not None and outcome.loss_fitted is not None


def test_an_optimiser_failure_keeps_the_parameters_with_the_reason() -> None:
    def failing(items: object, settings: object) -> list[float]:
        raise TuneError("panic: out of data")

    outcome = decide(_log(), DEFAULT_PARAMETERS, SETTINGS, fitter=failing)
    assert not outcome.adopted and outcome.fitted is None
    assert outcome.reason == "optimiser failed: panic: out of data"


def test_nan_parameters_are_not_adopted() -> None:
    outcome = decide(_log(), DEFAULT_PARAMETERS, SETTINGS, fitter=lambda i, s: [float("nan")] * 21)
    assert not outcome.adopted
    assert outcome.reason == "fitted parameters unusable: not all finite"


def test_a_nan_log_loss_is_not_adopted() -> None:
    losses = {DEFAULT_PARAMETERS: 0.40, OTHER: float("nan")}
    outcome = decide(
        _log(), DEFAULT_PARAMETERS, SETTINGS, fitter=lambda i, s: OTHER, evaluate=_losses(losses)
    )
    assert not outcome.adopted and outcome.reason == "log loss is not a number"
