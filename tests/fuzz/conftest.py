"""Fixtures of the fuzz suites: the Slack world of ``tests/slack``, and no tokens."""

import pytest

from tests.slack.conftest import slack

__all__ = ["no_tokens", "slack"]


@pytest.fixture
def no_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    """Platform tokens of the environment stay out of the app under test."""
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "DISCORD_TOKEN"):
        monkeypatch.delenv(name, raising=False)
