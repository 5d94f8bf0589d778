"""Request bodies and headers as Slack sends them to the bot (commands, events, buttons)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

BOT_USER = "UBOT"
TEAM = "T1"


def signed(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack would send with ``body``: timestamp and v0 HMAC-SHA256 signature."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def command_body(command: str, text: str, user: str, response_url: str, channel: str = "C1") -> str:
    return urlencode(
        {
            "token": "legacy-token-unused",
            "team_id": TEAM,
            "team_domain": "studyteam",
            "channel_id": channel,
            "channel_name": "study",
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A1",
            "response_url": response_url,
            "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        }
    )


def event_body(event: dict[str, Any], event_id: str) -> str:
    return json.dumps(
        {
            "token": "legacy-token-unused",
            "team_id": TEAM,
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
            "event": event,
        }
    )


def action_body(action_id: str, user: str, response_url: str, channel: str) -> str:
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "studyteam"},
        "user": {"id": user, "username": user.lower(), "team_id": TEAM},
        "api_app_id": "A1",
        "container": {"type": "message", "channel_id": channel, "is_ephemeral": False},
        "channel": {"id": channel, "name": "directmessage"},
        "trigger_id": "1.2.3",
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "b1",
                "value": action_id,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})
