"""Tuning: fitted parameters per workspace and deck, adopted only when they predict better."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from bot import cli
from bot.core.models import Grade
from bot.core.srs import DEFAULT_PARAMETERS
from bot.core.srsbook import SrsBook
from bot.core.tuning import TuneSettings, dump_parameters, parse_parameters
from bot.ports.tuning import NewParameters
from bot.services.base import Deps
from bot.services.learning import Learning
from bot.services.study import StudyBot
from bot.store.sql import SqlStore, SqlTx
from bot.store.tables import srs_parameters
from tests.conftest import World
from tests.dbtools import rows, sync_tx
from tests.fakes import FakeClock
from tests.services.helpers import run, text_of
from tests.services.simulated import TRUE_PARAMETERS, Logged, load, simulate

KEY = ("fake", "T1", "sim")


def runs(tx: SqlTx) -> list[dict[str, object]]:
    """Every tune run recorded for ``KEY``, adopted or not, oldest first."""
    platform, workspace, deck = KEY
    return rows(tx, srs_parameters, platform=platform, workspace=workspace, deck=deck)


@pytest.fixture(scope="module")
def review_log() -> list[Logged]:
    return simulate()  # 60 members x 40 cards x 8 reviews


def _tuned(study: StudyBot, *, retention: float | str = "auto", min_reviews: int = 1000) -> Deps:
    """The study's dependencies with a real book (auto retention) and tune settings."""
    d = study.deps
    book = SrsBook(retention=retention, fuzz=False)  # type: ignore[arg-type]
    return Deps(
        d.store,
        d.chats,
        d.clock,
        d.decks,
        book.default,
        d.policy,
        book,
        TuneSettings(min_reviews=min_reviews),
    )


def _row(params: str, *, adopted: bool = True) -> NewParameters:
    return NewParameters("fake", "T1", "sim", params, 0.8, 5000, 0.4, 0.3, adopted, "test")


async def test_a_better_fit_is_adopted_and_schedules_that_workspace(
    store: SqlStore, study: StudyBot, clock: FakeClock, review_log: list[Logged]
) -> None:
    load(store, review_log)
    load(store, review_log[:500], workspace="T2")
    bot = StudyBot(_tuned(study))
    reports = await bot.tuning.tune(dry_run=False)

    by_key = {r.key: r for r in reports}
    report = by_key[KEY]
    assert report.outcome.adopted and report.outcome.reviews_used == len(review_log)
    assert report.outcome.loss_fitted < report.outcome.loss_current  # type: ignore[operator]
    fitted = report.outcome.fitted
    assert fitted is not None and fitted[0] < DEFAULT_PARAMETERS[0]  # toward the true 0.05
    small = by_key[("fake", "T2", "sim")].outcome
    assert not small.adopted and small.reason == "too few reviews (500 < 1000)"

    book = bot.deps.srs_book
    assert book.srs_for(KEY).parameters == fitted
    assert book.srs_for(("fake", "T2", "sim")).parameters == DEFAULT_PARAMETERS
    assert book.retention_for(KEY) == report.retention
    assert "fitted parameters" in report.retention.reason
    (run_row,) = await store.read(runs)
    assert run_row["adopted"]
    assert parse_parameters(str(run_row["parameters"])) == fitted
    assert run_row["desired_retention"] == report.retention.value

    # A grade in that workspace is replayed with the fitted parameters.
    def grade(tx):  # type: ignore[no-untyped-def]
        member = tx.members.ensure("fake", "T1", "new", "New", None, clock.now())
        learning = Learning(bot.deps)
        learning.review(tx, member, "sim/c00", Grade.GOOD, kind="t", ref="1", now=clock.now())
        return learning.review(
            tx,
            member,
            "sim/c00",
            Grade.GOOD,
            kind="t",
            ref="2",
            now=clock.now() + timedelta(days=2),
        )

    state = await store.write(grade)
    expected = book.srs_for(KEY).replay(
        [(Grade.GOOD, clock.now()), (Grade.GOOD, clock.now() + timedelta(days=2))], clock.now()
    )
    assert state == expected
    assert (
        state.due
        != book.default.replay(
            [(Grade.GOOD, clock.now()), (Grade.GOOD, clock.now() + timedelta(days=2))], clock.now()
        ).due
    )

    # A restarted bot loads the same parameters from the store.
    restarted = StudyBot(_tuned(study))
    await restarted.tuning.refresh()
    assert restarted.deps.srs_book.srs_for(KEY).parameters == fitted


async def test_the_weekly_job_runs_once_a_week(
    store: SqlStore, study: StudyBot, clock: FakeClock, review_log: list[Logged]
) -> None:
    load(store, review_log[:300])
    bot = StudyBot(_tuned(study, retention=0.9))
    assert len(await bot.tuning.weekly()) == 1
    clock.advance(days=3)
    assert await bot.tuning.weekly() == []
    clock.advance(days=4)
    assert len(await bot.tuning.weekly()) == 1
    assert len(await store.read(runs)) == 2


async def test_a_corrupt_stored_row_is_ignored_with_one_warning(
    store: SqlStore, study: StudyBot
) -> None:
    good = (0.5, 1.0, 3.0, 9.0, *DEFAULT_PARAMETERS[4:])
    bot = StudyBot(_tuned(study, retention=0.9))

    async def add_then_refresh(text: str) -> tuple[tuple[float, ...], list[dict[str, object]]]:
        await store.write(lambda tx: tx.tuning.add(_row(text), study.now()))
        with capture_logs() as logs:
            await bot.tuning.refresh()
        warned = [e for e in logs if e["event"] == "srs_parameters_ignored"]
        return bot.deps.srs_book.srs_for(KEY).parameters, warned

    in_force, warned = await add_then_refresh("[1, 2, 3]")
    assert in_force == DEFAULT_PARAMETERS  # nothing good yet: the defaults
    assert len(warned) == 1 and warned[0]["log_level"] == "warning"
    assert warned[0]["problem"] == "3 numbers, not 21"
    assert (await add_then_refresh(dump_parameters(good))) == (good, [])
    in_force, warned = await add_then_refresh("{oops")
    assert in_force == good and [w["problem"] for w in warned] == ["not JSON"]
    in_force, warned = await add_then_refresh("[" + "NaN," * 20 + "NaN]")
    assert in_force == good and len(warned) == 2  # the previous good row stays in force


async def test_status_shows_the_desired_retention_and_why(study: StudyBot, world: World) -> None:
    await run(study, world.admin, world.channel, "/study setup")
    text = text_of(await run(study, world.admin, world.channel, "/study status"))
    assert "desired retention" in text.lower() and "0.90" in text
    bot = StudyBot(_tuned(study))
    text = text_of(await run(bot, world.admin, world.channel, "/study status"))
    assert "0.78 (auto: minimises review workload per remembered card" in text


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("STUDYBOT_", "SLACK_", "DISCORD_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env


@pytest.mark.usefixtures("cli_env")
async def test_cli_dry_run_prints_the_comparison_and_writes_nothing(
    store: SqlStore, review_log: list[Logged], capsys: pytest.CaptureFixture[str]
) -> None:
    load(store, review_log)
    path = store.url.split("///", 1)[1]
    code = await asyncio.to_thread(cli.main, ["tune", "--dry-run", "--db", path])
    out = capsys.readouterr().out
    assert code == 0
    assert "fake/T1 deck sim" in out
    assert f"reviews used: {len(review_log)}" in out
    assert "log loss: in use 0.4" in out and ", fitted 0.4" in out
    assert "adopted: yes (fitted log loss" in out
    assert "desired retention: 0.78 (auto: minimises review workload" in out
    assert "dry run: nothing written" in out
    with sync_tx(store) as tx:
        assert tx.tuning.last_run() is None

    code = await asyncio.to_thread(cli.main, ["tune", "--db", path])
    assert code == 0 and "recorded 1 tune results; adopted 1" in capsys.readouterr().out
    with sync_tx(store) as tx:
        assert [r["adopted"] for r in runs(tx)] == [True]


def test_the_simulated_members_forget_faster_than_the_defaults() -> None:
    assert TRUE_PARAMETERS[0] < DEFAULT_PARAMETERS[0] and len(TRUE_PARAMETERS) == 21
