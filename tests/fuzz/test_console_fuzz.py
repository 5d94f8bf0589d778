"""Typed console lines, end to end: never the apology, and a refusal changes nothing.

2,000 examples of one to three lines (times ``STUDYBOT_FUZZ_EXAMPLES``), through the
console adapter, the real ``StudyBot`` and an SQLite file.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.grammar import console_line, fuzz_settings, speaker
from tests.fuzz.worlds import Console

REFUSED = "  (error)"
"""How the console starts a refusal (a user error, from the adapter or a service)."""


def test_no_typed_line_gets_an_internal_error(tmp_path: Path) -> None:
    with asyncio.Runner() as runner:
        world = runner.run(Console.open(tmp_path))
        try:

            @given(who=speaker, lines=st.lists(console_line, min_size=1, max_size=3))
            @fuzz_settings(2000)
            def type_lines(who: str, lines: list[str]) -> None:
                world.clock.advance(minutes=7)  # days go by over a run
                for line in (who, *lines):
                    before = world.snapshot.take()
                    printed = runner.run(world.type(line))
                    assert not world.crashed(printed), (line, printed)
                    if REFUSED in printed:
                        assert world.snapshot.take() == before, (line, printed)

            type_lines()
        finally:
            runner.run(world.close())
        assert world.lines >= 2000
