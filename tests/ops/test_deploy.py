"""Deployment files: complete, consistent with the code, and the image's entry point runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import yaml

from bot.config import ENV_PREFIX, Settings, load_settings
from bot.http import MAX_CONNECTIONS
from tests.conftest import TEST_CONTENT

ROOT = Path(__file__).parent.parent.parent
ALIASES = {
    "slack_bot_token": "SLACK_BOT_TOKEN",
    "slack_app_token": "SLACK_APP_TOKEN",
    "slack_signing_secret": "SLACK_SIGNING_SECRET",
    "discord_token": "DISCORD_TOKEN",
    "discord_dev_guild": "DISCORD_DEV_GUILD",
}


def env_names() -> list[str]:
    return [ALIASES.get(name, f"{ENV_PREFIX}{name.upper()}") for name in Settings.model_fields]


def test_env_example_lists_every_setting() -> None:
    text = (ROOT / "deploy" / ".env.example").read_text()
    missing = [name for name in env_names() if not re.search(rf"^#? ?{name}=", text, re.M)]
    assert missing == []


def test_env_example_values_are_valid_settings(tmp_path: Path) -> None:
    values = {}
    for line in (ROOT / "deploy" / ".env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value
    env_file = tmp_path / ".env"
    env_file.write_text("\n".join(f"{k}={v}" for k, v in values.items()))
    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        settings = load_settings()
    finally:
        os.chdir(cwd)
    assert settings.post_time == "09:30"
    assert settings.backup_keep == 7


def test_systemd_unit_is_hardened() -> None:
    unit = (ROOT / "deploy" / "studybot.service").read_text()
    for directive in (
        "DynamicUser=yes",
        "StateDirectory=studybot",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "CapabilityBoundingSet=",
        "Restart=on-failure",
    ):
        assert directive in unit


def test_systemd_unit_leaves_descriptors_for_every_admitted_connection() -> None:
    unit = (ROOT / "deploy" / "studybot.service").read_text()
    limits = re.findall(r"^LimitNOFILE=(\d+)$", unit, re.M)
    assert limits == ["65536"]
    # Each admitted connection holds one descriptor; the rest is headroom for the
    # database, backups, outbound sessions and connections being refused.
    assert int(limits[0]) >= MAX_CONNECTIONS * 8


def test_compose_runs_the_image_with_a_volume_and_health_check() -> None:
    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())
    service = compose["services"]["studybot"]
    assert service["restart"] == "unless-stopped"
    assert service["env_file"] == ".env"
    assert "studybot-data:/data" in service["volumes"]
    assert "healthz" in " ".join(service["healthcheck"]["test"])


def test_postgres_compose_runs_three_replicas_on_one_database() -> None:
    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.postgres.yml").read_text())
    database, bot = compose["services"]["postgres"], compose["services"]["studybot"]
    assert (
        database["image"].startswith("postgres:")
        and "pg_isready" in database["healthcheck"]["test"]
    )
    assert bot["deploy"]["replicas"] == 3
    assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert bot["environment"]["STUDYBOT_DB_URL"].startswith("postgresql+psycopg://")
    assert bot["build"]["args"]["EXTRAS"] == "[postgres]"  # the image gets the driver
    assert "ports" not in bot  # three replicas cannot share one host port
    assert "ARG EXTRAS" in (ROOT / "Dockerfile").read_text()
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert any(dep.startswith("psycopg") for dep in extras["postgres"])


def dockerfile_env() -> dict[str, str]:
    text = (ROOT / "Dockerfile").read_text()
    block = text.split("ENV PATH=/opt/venv/bin:$PATH \\", 1)[1].split("USER", 1)[0]
    return dict(re.findall(r"(STUDYBOT_[A-Z_]+|PYTHONUNBUFFERED)=(\S+)", block))


def test_dockerfile_shape() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert text.count("FROM ") == 2  # build stage + slim runtime
    for needle in (
        "USER studybot",
        "tzdata",
        'VOLUME ["/data"]',
        "EXPOSE 3000",
        "HEALTHCHECK",
        'ENTRYPOINT ["studybot"]',
        'CMD ["run"]',
        "pip install --no-cache-dir .",
    ):
        assert needle in text
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".venv" in ignored and ".git" in ignored


def test_the_entry_point_starts_with_the_image_environment(tmp_path: Path) -> None:
    """What the container runs, from a venv, with the image's variables (/data -> tmp)."""
    env = {k: v.replace("/data", str(tmp_path)) for k, v in dockerfile_env().items()}
    (tmp_path / "backups").mkdir()
    env.update({"STUDYBOT_HTTP_PORT": "0", "STUDYBOT_CONTENT_DIR": str(TEST_CONTENT)})
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("STUDYBOT_", "SLACK_", "DISCORD_"))
    }
    studybot = Path(sys.executable).with_name("studybot")
    log = (tmp_path / "out.log").open("w")
    proc = subprocess.Popen(
        [str(studybot), "run"],
        env={**base, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    try:
        port = None
        for _ in range(100):
            match = re.search(
                r'"port": (\d+), "event": "http_listening"', (tmp_path / "out.log").read_text()
            )
            if match:
                port = int(match.group(1))
                break
            time.sleep(0.1)
        assert port, (tmp_path / "out.log").read_text()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            assert response.status == 200  # healthy from the first request on
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
            assert response.status == 200
        assert (tmp_path / "studybot.db").exists()
        assert (tmp_path / "backups").iterdir()  # the nightly job made its first backup
    finally:
        proc.terminate()
        assert proc.wait(timeout=20) == 0
        log.close()
