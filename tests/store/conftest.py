"""One contract suite, every backend: add a backend here and the whole suite runs on it."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store.sql import SqlStore


def _backends() -> list[str]:
    backends = ["sqlite"]
    if os.environ.get("STUDYBOT_TEST_POSTGRES_URL"):
        backends.append("postgresql")
    return backends


@pytest.fixture(params=_backends())
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqlStore]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'contract.db'}"
    else:
        url = os.environ["STUDYBOT_TEST_POSTGRES_URL"]
    store = await SqlStore.open(url)
    yield store
    await store.close()
