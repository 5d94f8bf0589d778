"""A database error names the statement, never its parameters: member text (an answer, a
name) must not reach a log line through an exception's message."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from bot.store.sql import SqlStore


async def test_a_failed_write_does_not_quote_its_parameters(tmp_path: Path) -> None:
    store = await SqlStore.open(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    try:
        insert = text("INSERT INTO members (id, platform) VALUES (:id, :platform)")
        with pytest.raises(Exception, match="NOT NULL") as failed:
            await store.write(
                lambda tx: tx.conn.execute(insert, {"id": 1, "platform": "my secret answer"})
            )
        assert "my secret answer" not in str(failed.value)
    finally:
        await store.close()
