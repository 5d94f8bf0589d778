"""bench/sharing.py runs end to end at a small size: every channel posted once whether
one instance or three walk them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def test_the_sharing_bench_posts_every_channel_once() -> None:
    done = subprocess.run(
        [sys.executable, "bench/sharing.py", "--json", "--channels", "240", "--runs", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["posts_one"] == [240] and result["posts_three"] == [240]
    assert result["failed"] == 0
    (split,) = result["three_split"]
    assert len(split) == 3 and sum(split) == 240  # who took how many depends on the start
