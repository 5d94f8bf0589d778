"""The learning simulator (bench/learning.py) runs end to end at a small size.

Not a benchmark: no timing is asserted. It checks that every figure is there and sane,
and that the bot's review messages are the DMs the real services sent.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from bench import learning

SMALL = replace(
    learning.SimConfig.quick(),
    members=8,
    cards=12,
    days=12,
    workers=1,
    step_minutes=30,  # a coarse clock: posts (09:30) and reveals (15:30) stay on the grid
    dispatch_members=100,
    selection_states=5_000,
    selection_members=500,
)
KEYS = (
    "msgs_ratio_p100",
    "retention_delta_p100",
    "msgs_ratio_p70",
    "retention_delta_p70",
    "followup_dispatch_ratio",
    "due_selection_ms",
)


def check_policy(result: dict[str, Any]) -> None:
    assert result["messages_per_member"] > 0
    assert result["study_events"] > 0
    for name in ("retention_end", "share_090_end", "retention_later", "share_090_later"):
        assert 0.0 <= result[name] <= 1.0, name
    assert result["retention_later"] <= result["retention_end"]  # no reviews after the end


def test_the_quick_simulation_reports_every_figure() -> None:
    result = learning.run(SMALL)
    json.dumps(result)  # the --json output is one JSON object
    for key in KEYS:
        assert isinstance(result[key], int | float), key
        assert result[key] > 0 or key.startswith("retention_delta"), key
    assert set(result["targets_met"]) >= {f"{k}>=0" for k in KEYS if "delta" in k}
    assert len(result["load_avg"]) == 3
    for rate in ("p100", "p70"):
        pair = result["policies"][rate]
        check_policy(pair["bot"])
        check_policy(pair["fixed"])
        bot, fixed = pair["bot"], pair["fixed"]
        extra = bot["extra"]
        # The bot's review messages are the DMs the fake chat received from the services.
        review_dms = sum(extra["dms_by_kind"].get(k, 0) for k in learning.REVIEW_KINDS)
        assert review_dms == round(bot["messages_per_member"] * SMALL.members)
        assert extra["dms_total"] == sum(extra["dms_by_kind"].values())
        assert extra["daily_posts"] > 0 and extra["answers"] > 0 and extra["reveal_grades"] > 0
        assert extra["job_errors"] == {}
        assert fixed["extra"]["messages_sent"] == round(
            fixed["messages_per_member"] * SMALL.members
        )
        ratio = bot["messages_per_member"] / fixed["messages_per_member"]
        assert result[f"msgs_ratio_{rate}"] == round(ratio, 3)
    # p = 0.7 leaves some fixed-schedule messages unread; p = 1.0 reads them all.
    full, partial = result["policies"]["p100"]["fixed"], result["policies"]["p70"]["fixed"]
    assert full["extra"]["messages_read"] == full["extra"]["messages_sent"]
    assert partial["extra"]["messages_read"] < partial["extra"]["messages_sent"]
    dispatch = result["dispatch"]
    assert dispatch["dispatch_dms"] == dispatch["dispatch_expected"] == 100 * SMALL.dispatch_cards
    assert 0 < dispatch["dispatch_max_in_flight"] <= dispatch["dispatch_bound"]
    assert result["selection"]["due_selection_rows"] > 0
    assert "msgs/member" in learning.table(result)


def test_member_memories_are_seeded_and_within_bounds() -> None:
    first = learning.member_parameters(1, 0)
    assert first == learning.member_parameters(1, 0)
    assert first != learning.member_parameters(1, 1)
    assert list(first[:4]) == sorted(first[:4])
    assert len(first) == len(learning.DEFAULT_PARAMETERS)


def test_the_command_line_takes_the_sizes() -> None:
    config, as_json, scale_only = learning.parse_args(
        ["--quick", "--members", "7", "--seed", "3", "--json"]
    )
    assert as_json and not scale_only
    assert (config.members, config.seed, config.days) == (7, 3, learning.SimConfig.quick().days)
