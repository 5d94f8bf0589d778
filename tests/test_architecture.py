"""Meta-tests: the layering rules of STYLE.md, checked on the source itself."""

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).parent.parent / "bot"
FORBIDDEN_IN_CORE = {
    "sqlalchemy",
    "aiosqlite",
    "alembic",
    "apscheduler",
    "slack_bolt",
    "slack_sdk",
    "discord",
    "aiohttp",
    "pydantic_settings",
    "structlog",
    "bot.store",
    "bot.adapters",
    "bot.scheduler",
    "bot.app",
    "bot.config",
}
FORBIDDEN_IN_SERVICES = FORBIDDEN_IN_CORE - {"structlog"}


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def offending(path: Path, forbidden: set[str]) -> set[str]:
    return {m for m in imports(path) if any(m == f or m.startswith(f + ".") for f in forbidden)}


@pytest.mark.parametrize("path", sorted((BOT / "core").rglob("*.py")), ids=lambda p: p.name)
def test_core_imports_no_io_packages(path: Path) -> None:
    assert offending(path, FORBIDDEN_IN_CORE) == set()


@pytest.mark.parametrize("path", sorted((BOT / "services").rglob("*.py")), ids=lambda p: p.name)
def test_services_import_no_platform_database_or_scheduler(path: Path) -> None:
    assert offending(path, FORBIDDEN_IN_SERVICES) == set()


@pytest.mark.parametrize("path", sorted(BOT.rglob("*.py")), ids=lambda p: str(p.relative_to(BOT)))
def test_modules_stay_small(path: Path) -> None:
    assert len(path.read_text().splitlines()) < 500


def test_no_inline_now_outside_the_clock() -> None:
    allowed = {BOT / "ports" / "clock.py"}
    for path in BOT.rglob("*.py"):
        if path in allowed:
            continue
        text = path.read_text()
        assert "datetime.now(" not in text and "utcnow(" not in text, path
