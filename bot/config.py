"""Settings: environment (``STUDYBOT_*``), ``.env``, and an optional TOML file.

Precedence, highest first: environment, ``.env``, the TOML file given with
``--config``, defaults. In TOML, sections flatten into names: ``[slack] bot_token``
is ``slack_bot_token`` (env ``STUDYBOT_SLACK_BOT_TOKEN``; the platforms' usual
``SLACK_BOT_TOKEN``, ``SLACK_APP_TOKEN``, ``SLACK_SIGNING_SECRET``, ``DISCORD_TOKEN``
and ``DISCORD_DEV_GUILD`` work too). Every token is a ``SecretStr``.
"""

from __future__ import annotations

import tomllib
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from bot.core.errors import ConfigError, InvalidInput
from bot.core.models import ChannelSettings, Grade
from bot.core.schedule import parse_days, parse_reveal, parse_time, zone
from bot.services.policy import Policy, default_channel_settings

ENV_PREFIX = "STUDYBOT_"


def _check(parser: Any, value: str) -> str:
    try:
        parser(value)
    except InvalidInput as exc:
        raise ValueError(exc.message) from None
    return value


class ChannelConfig(BaseModel):
    """A channel scheduled from the config file (an admin's /study setup later wins)."""

    model_config = ConfigDict(extra="forbid")

    platform: Literal["console", "slack", "discord"]
    workspace: str = "local"
    channel: str
    time: str = "09:30"
    tz: str | None = None
    days: str = "mon-fri"
    reveal: str = "+6h"
    decks: list[str] = []
    topics: list[str] = []
    levels: list[str] = []

    def settings(self, default_tz: str) -> ChannelSettings:
        return replace(
            default_channel_settings(self.tz or default_tz),
            post_time=parse_time(self.time),
            days=parse_days(self.days),
            reveal=parse_reveal(self.reveal),
            decks=tuple(self.decks),
            topics=tuple(self.topics),
            levels=tuple(self.levels),
        )

    _time = field_validator("time")(lambda v: _check(parse_time, v))
    _days = field_validator("days")(lambda v: _check(parse_days, v))
    _reveal = field_validator("reveal")(lambda v: _check(parse_reveal, v))
    _tz = field_validator("tz")(lambda v: v if v is None else _check(zone, v))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    # storage and content
    db_url: str = "sqlite+aiosqlite:///./studybot.db"
    content_dir: Path | None = None
    # schedule defaults for /study setup
    default_tz: str = "UTC"
    post_time: str = "09:30"
    post_days: str = "mon-fri"
    reveal: str = "+6h"
    grace_hours: float = Field(3.0, ge=0, le=48)
    channels: list[ChannelConfig] = []
    # follow-ups
    followup_daily_cap: int = Field(10, ge=1, le=100)
    followup_batch: int = Field(5, ge=1, le=50)
    followup_expiry_hours: float = Field(24.0, gt=0, le=24 * 14)
    """Waking hours after which an ungraded follow-up expires and its card comes back."""
    followup_resends: int = Field(2, ge=0, le=10)
    followup_gap_hours: float = Field(2.0, ge=0, le=24)
    """Time between two batches of one member's follow-ups."""
    followup_concurrency: int = Field(50, ge=1, le=500)
    catchups: bool = True
    """Daily questions a member missed reach them later by DM (channels can opt out)."""
    catchup_weeks: int = Field(4, ge=1, le=52)
    """Only members who took part in the channel within this many weeks get catch-ups."""
    waking_hours: str = "09:00-21:00"
    desired_retention: float | Literal["auto"] = "auto"
    """A number in (0.5, 1), or auto: the least review workload per remembered card."""
    tune_min_reviews: int = Field(1000, ge=1)
    """Reviews a workspace's deck needs before fitted parameters may replace the defaults."""
    # grades and admins
    grade_emoji: Annotated[list[str], NoDecode] = ["x", "grimacing", "white_check_mark", "rocket"]
    admins: Annotated[list[str], NoDecode] = []
    # HTTP server (health, metrics, Slack HTTP mode)
    http_host: str = "0.0.0.0"  # noqa: S104 - a container must listen on every interface
    http_port: int = Field(3000, ge=0, le=65535)
    http_enabled: bool | None = None
    console: bool | None = None
    """The console channel; default: on when no platform token is set."""
    """On when a platform runs; off for a console-only session unless set."""
    # platforms
    slack_bot_token: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices(
            "STUDYBOT_SLACK_BOT_TOKEN", "SLACK_BOT_TOKEN", "slack_bot_token"
        ),
    )
    slack_app_token: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices(
            "STUDYBOT_SLACK_APP_TOKEN", "SLACK_APP_TOKEN", "slack_app_token"
        ),
    )
    slack_signing_secret: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices(
            "STUDYBOT_SLACK_SIGNING_SECRET", "SLACK_SIGNING_SECRET", "slack_signing_secret"
        ),
    )
    slack_api_url: str | None = None
    discord_token: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("STUDYBOT_DISCORD_TOKEN", "DISCORD_TOKEN", "discord_token"),
    )
    discord_api_url: str | None = Field(
        None,
        validation_alias=AliasChoices("STUDYBOT_DISCORD_API_URL", "discord_api_url"),
        description="Discord REST base URL (a REST proxy such as nirn-proxy, or a test fake)",
    )
    discord_dev_guild: int | None = Field(
        None,
        validation_alias=AliasChoices(
            "STUDYBOT_DISCORD_DEV_GUILD", "DISCORD_DEV_GUILD", "discord_dev_guild"
        ),
    )
    # operations
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["auto", "json", "pretty"] = "auto"
    tick_seconds: float = Field(30.0, gt=0, le=3600)
    backup_dir: Path | None = None
    """Nightly backups go here (unset: no backup job)."""
    backup_keep: int = Field(7, ge=1, le=365)
    shutdown_grace_seconds: float = Field(10.0, ge=0, le=300)
    slack_concurrency: int = Field(50, ge=1, le=500)
    """Slack Web API calls in flight at once (a fan-out's bound; see bench/fanout.py)."""

    _tz = field_validator("default_tz")(lambda v: _check(zone, v))
    _post_time = field_validator("post_time")(lambda v: _check(parse_time, v))
    _post_days = field_validator("post_days")(lambda v: _check(parse_days, v))
    _reveal = field_validator("reveal")(lambda v: _check(parse_reveal, v))

    @field_validator("admins", "grade_emoji", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value

    @field_validator("grade_emoji")
    @classmethod
    def _four_grades(cls, value: list[str]) -> list[str]:
        names = [v.strip(":") for v in value]
        if len(names) != 4 or len(set(names)) != 4:
            raise ValueError("give four different emoji names: again, hard, good, easy")
        return names

    @field_validator("desired_retention", mode="before")
    @classmethod
    def _retention(cls, value: Any) -> Any:
        problem = "use auto or a number between 0.5 and 1, for example 0.9"
        if isinstance(value, str):
            if value.strip().lower() == "auto":
                return "auto"
            try:
                value = float(value)
            except ValueError:
                raise ValueError(f"{problem} (got {value!r})") from None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(problem)
        if not 0.5 < value < 1.0:
            raise ValueError(f"{problem} (got {value})")
        return float(value)

    @field_validator("waking_hours")
    @classmethod
    def _waking(cls, value: str) -> str:
        start, sep, end = value.partition("-")
        if not sep:
            raise ValueError("use HH:MM-HH:MM, for example 09:00-21:00")
        _check(parse_time, start)
        _check(parse_time, end)
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # init values carry the TOML file (see load_settings); env and .env override it.
        return env_settings, dotenv_settings, init_settings

    # ---- derived values ---------------------------------------------------------------

    @property
    def platforms(self) -> list[str]:
        found = []
        if self.slack_bot_token is not None:
            found.append("slack")
        if self.discord_token is not None:
            found.append("discord")
        return found

    def serve_http(self) -> bool:
        return self.http_enabled if self.http_enabled is not None else bool(self.platforms)

    def check_platforms(self) -> None:
        """Refuse half-configured platforms at start, with the setting to fix."""
        if (
            self.slack_bot_token is not None
            and self.slack_app_token is None
            and self.slack_signing_secret is None
        ):
            raise ConfigError(
                "SLACK_SIGNING_SECRET is required for Slack HTTP mode "
                "(or set SLACK_APP_TOKEN for Socket Mode)"
            )

    def channel_defaults(self) -> ChannelSettings:
        base = default_channel_settings(self.default_tz)
        return replace(
            base,
            post_time=parse_time(self.post_time),
            days=parse_days(self.post_days),
            reveal=parse_reveal(self.reveal),
        )

    def policy(self) -> Policy:
        start, _, end = self.waking_hours.partition("-")
        return Policy(
            defaults=self.channel_defaults(),
            grace=timedelta(hours=self.grace_hours),
            followup_daily_cap=self.followup_daily_cap,
            followup_batch=self.followup_batch,
            followup_expiry=timedelta(hours=self.followup_expiry_hours),
            followup_resends=self.followup_resends,
            followup_gap=timedelta(hours=self.followup_gap_hours),
            followup_concurrency=self.followup_concurrency,
            catchups=self.catchups,
            catchup_weeks=self.catchup_weeks,
            waking_start=parse_time(start),
            waking_end=parse_time(end),
            grade_emoji=dict(zip(self.grade_emoji, Grade, strict=True)),
            admins=frozenset(self.admins),
        )


def _flatten_toml(data: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            for inner, inner_value in value.items():
                flat[f"{key}_{inner}"] = inner_value
        else:
            flat[key] = value
    return flat


def _env_name(field: str) -> str:
    return f"{ENV_PREFIX}{field.upper()}"


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build settings once, or raise ``ConfigError`` with one line naming the setting."""
    values: dict[str, Any] = {}
    if config_file is not None:
        try:
            values = _flatten_toml(tomllib.loads(config_file.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {config_file}") from None
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read config file {config_file}: {exc}") from None
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Settings(**values)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(p) for p in err["loc"]]
        name = _env_name(loc[0]) if loc else "settings"
        where = f"{name} ({'.'.join(loc[1:])})" if len(loc) > 1 else name
        message = err["msg"].removeprefix("Value error, ")
        more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        raise ConfigError(f"invalid setting {where}: {message}{more}") from None
