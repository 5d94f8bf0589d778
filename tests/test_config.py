"""Settings: sources, precedence, and one readable line for every bad value."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import structlog

from bot import log
from bot.config import load_settings
from bot.core.errors import ConfigError
from bot.core.models import Grade
from bot.core.schedule import parse_time


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for name in list(os.environ):
        if name.startswith(("STUDYBOT_", "SLACK_", "DISCORD_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults() -> None:
    settings = load_settings()
    assert settings.db_url == "sqlite+aiosqlite:///./studybot.db"
    assert settings.platforms == []
    policy = settings.policy()
    assert policy.grade_emoji == {
        "x": Grade.AGAIN,
        "grimacing": Grade.HARD,
        "white_check_mark": Grade.GOOD,
        "rocket": Grade.EASY,
    }
    assert policy.defaults.post_time.strftime("%H:%M") == "09:30"


def test_environment_dotenv_and_toml_precedence(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    toml = tmp_path / "studybot.toml"
    toml.write_text(
        'default_tz = "Asia/Kolkata"\npost_time = "08:00"\n[slack]\nbot_token = "xoxb-from-toml"\n'
        '[[channels]]\nplatform = "console"\nchannel = "study"\ndays = "mon,wed"\n'
    )
    (tmp_path / ".env").write_text("STUDYBOT_POST_TIME=08:30\n")
    monkeypatch.setenv("STUDYBOT_ADMINS", "U1, U2")
    settings = load_settings(toml)
    assert settings.default_tz == "Asia/Kolkata"
    assert settings.post_time == "08:30"  # .env beats the file
    assert settings.admins == ["U1", "U2"]
    assert settings.platforms == ["slack"]
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == "xoxb-from-toml"
    (channel,) = settings.channels
    assert sorted(channel.settings(settings.default_tz).days) == [0, 2]
    monkeypatch.setenv("STUDYBOT_POST_TIME", "10:00")
    assert load_settings(toml).post_time == "10:00"  # the environment beats both


def test_platform_token_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("DISCORD_TOKEN", "abc")
    assert load_settings().platforms == ["slack", "discord"]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("STUDYBOT_POST_TIME", "25:00", "invalid setting STUDYBOT_POST_TIME: Invalid time '25:00'"),
        (
            "STUDYBOT_DEFAULT_TZ",
            "Mars/Base",
            "invalid setting STUDYBOT_DEFAULT_TZ: Unknown timezone",
        ),
        ("STUDYBOT_POST_DAYS", "someday", "invalid setting STUDYBOT_POST_DAYS: Invalid days"),
        ("STUDYBOT_HTTP_PORT", "http", "invalid setting STUDYBOT_HTTP_PORT"),
        ("STUDYBOT_GRACE_HOURS", "-1", "invalid setting STUDYBOT_GRACE_HOURS"),
        ("STUDYBOT_GRADE_EMOJI", "x,x,y,z", "four different emoji names"),
        ("STUDYBOT_WAKING_HOURS", "9-5", "invalid setting STUDYBOT_WAKING_HOURS"),
        ("STUDYBOT_LOG_LEVEL", "loud", "invalid setting STUDYBOT_LOG_LEVEL"),
    ],
)
def test_bad_values_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_bad_config_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("post_time = \n")
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_settings(broken)
    bad_channel = tmp_path / "channel.toml"
    bad_channel.write_text('[[channels]]\nplatform = "irc"\nchannel = "x"\n')
    with pytest.raises(ConfigError) as refused:
        load_settings(bad_channel)
    assert str(refused.value) == (
        f"{bad_channel}: [[channels]] #1 platform: Input should be 'console', 'slack' or 'discord'"
    )


def test_secrets_never_reach_the_log(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-very-secret")
    settings = load_settings()
    out = io.StringIO()
    log.configure("info", "json", stream=out)
    try:
        structlog.get_logger("t").info(
            "settings", settings=repr(settings), slack_bot_token="xoxb-very-secret"
        )
        structlog.get_logger("t").info("interaction", platform="console", action="x", outcome="ok")
    finally:
        structlog.reset_defaults()
    text = out.getvalue()
    assert "xoxb-very-secret" not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines[1]["event"] == "interaction"
    assert lines[1]["level"] == "info"


def test_desired_retention_is_auto_or_a_number_in_range(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().desired_retention == "auto"
    assert load_settings().tune_min_reviews == 1000
    monkeypatch.setenv("STUDYBOT_DESIRED_RETENTION", "0.85")
    assert load_settings().desired_retention == 0.85
    monkeypatch.setenv("STUDYBOT_DESIRED_RETENTION", "AUTO")
    assert load_settings().desired_retention == "auto"
    for bad in ("high", "1.2", "0.5"):
        monkeypatch.setenv("STUDYBOT_DESIRED_RETENTION", bad)
        with pytest.raises(ConfigError) as caught:
            load_settings()
        assert str(caught.value).startswith(
            "invalid setting STUDYBOT_DESIRED_RETENTION: use auto or a number between 0.5 and 1"
        )


# ---- a strict file: a typo is an error naming it, never a silent default (issue 13) -------

CHANNEL = '[[channels]]\nplatform = "console"\nchannel = "study"\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('post_tme = "08:00"\n', "unknown setting 'post_tme' (did you mean 'post_time'?)"),
        ('[slak]\nbot_token = "x"\n', "unknown section [slak] (did you mean [slack]?)"),
        (
            '[slack]\nbot_tokn = "x"\n',
            "unknown setting 'bot_tokn' in [slack] (did you mean 'bot_token'?)",
        ),
        ('colour = "red"\n', "unknown setting 'colour'"),
        ('[channels]\nplatform = "console"\n', "write each channel as [[channels]]"),
        (
            CHANNEL + 'post_tme = "08:00"\n',
            "[[channels]] #1: unknown setting 'post_tme' (did you mean 'time'?); channel"
            " settings: platform, workspace, channel, time, tz, days, reveal, decks, topics,"
            " levels, catchups",
        ),
        (
            CHANNEL + 'levels = ["guru"]\n',
            "[[channels]] #1: Unknown levels: guru. Known levels: architect, lead, mid, senior.",
        ),
        (CHANNEL + 'time = "25:00"\n', "[[channels]] #1: Invalid time '25:00'"),
        (CHANNEL + 'catchups = "maybe"\n', "[[channels]] #1: Invalid catchups 'maybe'"),
        (CHANNEL + "time = 930\n", "[[channels]] #1: time must be text in quotes"),
    ],
)
def test_unknown_keys_and_bad_channel_values_name_the_file(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "studybot.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as refused:
        load_settings(path)
    assert str(refused.value).startswith(f"{path}: {message}")
    assert "\n" not in str(refused.value)


def test_a_file_channel_takes_every_setup_key(tmp_path: Path) -> None:
    path = tmp_path / "studybot.toml"
    path.write_text(
        CHANNEL + 'time = 10:15:00\ndays = "mon,wed"\ncatchups = false\n'
        'topics = ["Alpha"]\nlevels = "mid,senior"\n'
    )
    settings = load_settings(path)
    (channel,) = settings.channels
    made = channel.settings("UTC", decks={"testdeck"}, topics={"alpha", "beta"})
    assert made.post_time == parse_time("10:15")
    assert sorted(made.days) == [0, 2]
    assert made.catchups is False
    assert made.topics == ("alpha",)
    assert made.levels == ("mid", "senior")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('topics = ["cooking"]', "Unknown topics: cooking. Known topics: alpha, beta."),
        ('decks = "nope"', "Unknown decks: nope. Known decks: testdeck."),
    ],
)
def test_file_channels_are_checked_against_the_content(
    tmp_path: Path, line: str, message: str
) -> None:
    path = tmp_path / "studybot.toml"
    path.write_text(CHANNEL + line + "\n")
    settings = load_settings(path)  # decks and topics wait for the content
    with pytest.raises(ConfigError) as refused:
        settings.check_channels({"testdeck"}, {"alpha", "beta"})
    assert str(refused.value) == f"{path}: [[channels]] #1 (console study): {message}"


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[slak]\nbot_token = "x"\n', "unknown section [slak] (did you mean [slack]?)"),
        (CHANNEL + 'topics = ["cooking"]\n', "(console study): Unknown topics: cooking."),
    ],
)
def test_a_bad_config_file_stops_the_start_with_one_line(
    tmp_path: Path, text: str, message: str
) -> None:
    from tests.e2e.test_console import studybot

    path = tmp_path / "studybot.toml"
    path.write_text(text)
    result = studybot(tmp_path, "", "run", "--db", str(tmp_path / "x.db"), "--config", str(path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(f"studybot: error: {path}: ")
    assert message in result.stderr
    assert not (tmp_path / "x.db").exists()  # refused before the database is touched
