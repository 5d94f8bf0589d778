"""Documentation that must not drift from the code."""

from pathlib import Path

from bot.core.commands import STUDY
from bot.core.points import table_markdown

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()


def test_readme_has_the_points_table() -> None:
    assert table_markdown() in README


def test_readme_lists_every_subcommand() -> None:
    for sub in STUDY:
        assert f"/study {sub.name}" in README, sub.name


def test_quick_start_is_two_make_commands() -> None:
    quick = README.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    assert [line.split()[0:2] for line in quick.strip().splitlines()] == [
        ["make", "run"],
        ["make", "test"],
    ]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci
