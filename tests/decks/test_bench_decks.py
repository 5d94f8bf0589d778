"""The deck benchmark (bench/decks.py) runs end to end at a small size.

Not a benchmark: no timing is asserted, only that it loads and imports what it generated
and prints every figure.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent.parent


def test_the_bench_runs_small_and_prints_every_figure() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "bench/decks.py",
            "--json",
            "--cards",
            "60",
            "--rows",
            "700",
            "--repeat",
            "1",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    figures = json.loads(done.stdout)
    assert figures["cards"] == 60
    assert figures["rows"] == 700
    assert {"load_s", "load_cpu_s", "import_s", "import_cpu_s", "load_avg"} <= set(figures)
    assert figures["load_target_s"] == 2.0
    assert figures["import_target_s"] == 30.0
