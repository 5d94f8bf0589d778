"""Settings: environment (``STUDYBOT_*``), ``.env``, and an optional TOML file.

Precedence, highest first: environment, ``.env``, the TOML file given with
``--config``, defaults. In TOML, sections flatten into names: ``[slack] bot_token``
is ``slack_bot_token`` (env ``STUDYBOT_SLACK_BOT_TOKEN``; the platforms' usual
``SLACK_BOT_TOKEN``, ``SLACK_APP_TOKEN``, ``SLACK_SIGNING_SECRET``, ``DISCORD_TOKEN``
and ``DISCORD_DEV_GUILD`` work too). Every token is a ``SecretStr``. The file is strict:
an unknown key or section is an error naming it (a typo must not fall back to a default).
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import replace
from datetime import time as dt_time
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from bot.core.commands import SETUP_KEYS
from bot.core.errors import ConfigError, InvalidInput
from bot.core.models import ChannelSettings, Grade
from bot.core.schedule import parse_days, parse_reveal, parse_time, zone
from bot.core.setup import apply_setup
from bot.services.policy import Policy, default_channel_settings

ENV_PREFIX = "STUDYBOT_"


def _check(parser: Any, value: str) -> str:
    try:
        parser(value)
    except InvalidInput as exc:
        raise ValueError(exc.message) from None
    return value


CHANNEL_PLACE = ("platform", "workspace", "channel")
_CHANNEL_ALIASES = {"post_time": "time", "post_days": "days", "default_tz": "tz"}
"""Top-level names someone may write in a channel: they mean the channel's own key."""


def _nearest(name: str, choices: Iterable[str], aliases: Mapping[str, str] | None = None) -> str:
    """`` (did you mean 'x'?)`` for an obvious typo, else nothing."""
    aliases = aliases or {}
    found = difflib.get_close_matches(name, [*choices, *aliases], n=1, cutoff=0.75)
    return f" (did you mean {aliases.get(found[0], found[0])!r}?)" if found else ""


def _setup_text(key: str, value: object) -> str:
    """A channel's value in the file as ``/study setup`` would have it typed."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, str):
        return value
    if isinstance(value, dt_time):  # TOML's unquoted 09:30:00
        return value.strftime("%H:%M")
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ",".join(value)
    raise ValueError(f"{key} must be text in quotes (or a list of names), not {value!r}")


class ChannelConfig(BaseModel):
    """A channel scheduled from the config file (an admin's /study setup later wins).

    Besides where it is, it takes the keys of ``/study setup`` (``SETUP_KEYS``), checked
    by the same ``apply_setup``; so a key setup learns is a key the file accepts.
    """

    model_config = ConfigDict(extra="allow")

    platform: Literal["console", "slack", "discord"]
    workspace: str = "local"
    channel: str

    def setup_values(self) -> dict[str, str]:
        return {k: _setup_text(k, v) for k, v in (self.model_extra or {}).items()}

    @model_validator(mode="after")
    def _setup_keys(self) -> ChannelConfig:
        for key in self.model_extra or {}:
            if key not in SETUP_KEYS:
                keys = ", ".join((*CHANNEL_PLACE, *SETUP_KEYS))
                hint = _nearest(key, SETUP_KEYS, _CHANNEL_ALIASES)
                raise ValueError(f"unknown setting {key!r}{hint}; channel settings: {keys}")
        # Decks and topics wait for the content (Settings.check_channels); the rest now.
        values = self.setup_values()
        unloaded = {k: v for k, v in values.items() if k not in ("decks", "topics")}
        try:
            apply_setup(default_channel_settings(), _args(unloaded), decks=(), topics=())
        except InvalidInput as exc:
            raise ValueError(exc.message) from None
        return self

    def settings(
        self,
        default_tz: str,
        *,
        decks: Collection[str] | None = None,
        topics: Collection[str] | None = None,
    ) -> ChannelSettings:
        """Its settings; with the content's ``decks`` and ``topics``, checked against them."""
        values = self.setup_values()
        return apply_setup(
            default_channel_settings(default_tz),
            _args(values),
            decks=decks if decks is not None else _names(values.get("decks", "")),
            topics=topics if topics is not None else _names(values.get("topics", "")),
        )


def _args(values: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(f"{k}={v}" for k, v in values.items())


def _names(value: str) -> set[str]:
    return {v.strip().lower() for v in value.split(",")}


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

    _channels_from: str = PrivateAttr(default=f"{ENV_PREFIX}CHANNELS")
    """Where ``channels`` came from, for errors: the config file, or the environment."""

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

    def check_channels(self, decks: Collection[str], topics: Collection[str]) -> None:
        """Refuse channels whose decks or topics the content does not have (at start,
        once the content is loaded), as ``/study setup`` refuses them."""
        for number, item in enumerate(self.channels, 1):
            try:
                item.settings(self.default_tz, decks=decks, topics=topics)
            except InvalidInput as exc:
                where = f"[[channels]] #{number} ({item.platform} {item.channel})"
                raise ConfigError(f"{self._channels_from}: {where}: {exc.message}") from None

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


def _check_keys(data: dict[str, Any], source: Path) -> None:
    """Every key and section of the file is a setting: a typo is an error, not a default."""
    names = set(Settings.model_fields)
    sections = {n[:i] for n in names for i, c in enumerate(n) if c == "_"}
    for key, value in data.items():
        if not isinstance(value, dict):
            if key not in names:
                raise ConfigError(f"{source}: unknown setting {key!r}{_nearest(key, names)}")
            continue
        if key == "channels":
            raise ConfigError(f"{source}: write each channel as [[channels]] (two brackets)")
        if key not in sections:
            found = difflib.get_close_matches(key, sections, n=1, cutoff=0.75)
            hint = f" (did you mean [{found[0]}]?)" if found else ""
            raise ConfigError(f"{source}: unknown section [{key}]{hint}")
        inner_names = {n.removeprefix(f"{key}_") for n in names if n.startswith(f"{key}_")}
        for inner in value:
            if inner not in inner_names:
                hint = _nearest(inner, inner_names)
                raise ConfigError(f"{source}: unknown setting {inner!r} in [{key}]{hint}")


def _env_name(field: str) -> str:
    return f"{ENV_PREFIX}{field.upper()}"


def _problem(exc: ValidationError, channels_from: str) -> str:
    """The first problem of ``exc`` as one line naming the setting (or the file's channel)."""
    err = exc.errors()[0]
    loc = [str(p) for p in err["loc"]]
    message = err["msg"].removeprefix("Value error, ")
    more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    if loc[:1] == ["channels"] and len(loc) > 1 and loc[1].isdigit():
        field = f" {'.'.join(loc[2:])}" if len(loc) > 2 else ""
        return f"{channels_from}: [[channels]] #{int(loc[1]) + 1}{field}: {message}{more}"
    name = _env_name(loc[0]) if loc else "settings"
    where = f"{name} ({'.'.join(loc[1:])})" if len(loc) > 1 else name
    return f"invalid setting {where}: {message}{more}"


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build settings once, or raise ``ConfigError`` with one line naming the setting."""
    values: dict[str, Any] = {}
    if config_file is not None:
        try:
            data = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {config_file}") from None
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read config file {config_file}: {exc}") from None
        _check_keys(data, config_file)
        values = _flatten_toml(data)
    values.update({k: v for k, v in overrides.items() if v is not None})
    channels_from = _env_name("channels")
    if "channels" in values and channels_from not in os.environ and config_file is not None:
        channels_from = str(config_file)
    try:
        settings = Settings(**values)
    except ValidationError as exc:
        raise ConfigError(_problem(exc, channels_from)) from None
    settings._channels_from = channels_from
    return settings
