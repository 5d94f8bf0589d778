"""The payloads the fake Discord sends, in the shapes Discord documents (resources/*).

Ids are real snowflakes: the creation time (on the fake's clock) in the high bits, so
``discord.utils.snowflake_time`` gives back when a message or thread was made.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

APP_ID = "900000000000000001"
BOT_ID = "900000000000000002"
GUILD = "800000000000000001"
CHANNEL = "800000000000000010"
ADMIN = "700000000000000001"
MANAGE_GUILD = 1 << 5
DISCORD_EPOCH_MS = 1_420_070_400_000

Answer = tuple[int, Any]
"""An HTTP status and its JSON body."""
TEXT, DM, PUBLIC_THREAD, FORUM = 0, 1, 11, 15
"""Channel types (resources/channel: channel types)."""


def snowflake_at(moment: datetime, increment: int) -> int:
    """A snowflake for ``moment`` (docs: reference, snowflakes)."""
    millis = int(moment.timestamp() * 1000) - DISCORD_EPOCH_MS
    return (millis << 22) | (increment & 0xFFF)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def user(uid: str, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": uid,
        "username": name,
        "discriminator": "0",
        "global_name": name,
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
    }


def bot_user() -> dict[str, Any]:
    return user(BOT_ID, "studybot", bot=True)


BOT_ROLE = "800000000000000099"
BOT_PERMISSIONS = 309237730368
"""The bot's managed role, as the README's invite link grants it: View Channel, Send
Messages, Send Messages in Threads, Create Public Threads, Embed Links, Add Reactions,
Read Message History (tests/test_parity.py checks the link)."""


def member(
    uid: str, name: str, *, permissions: int = 0, roles: tuple[str, ...] = ()
) -> dict[str, Any]:
    return {
        "user": user(uid, name),
        "nick": None,
        "roles": list(roles),
        "joined_at": "2026-03-02T09:00:00.000000+00:00",
        "deaf": False,
        "mute": False,
        "flags": 0,
        "avatar": None,
        "premium_since": None,
        "pending": False,
        "permissions": str(permissions),
    }


def text_channel(cid: str, name: str, *, kind: int = TEXT) -> dict[str, Any]:
    return {
        "id": cid,
        "type": kind,
        "guild_id": GUILD,
        "name": name,
        "position": 0,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "flags": 0,
    }


def thread(tid: str, parent: str, name: str, duration: int, now: datetime) -> dict[str, Any]:
    """A public thread the bot started on message ``tid`` (which shares its id)."""
    return {
        "id": tid,
        "type": PUBLIC_THREAD,
        "guild_id": GUILD,
        "parent_id": parent,
        "owner_id": BOT_ID,
        "name": name,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "message_count": 0,
        "member_count": 1,
        "flags": 0,
        "total_message_sent": 0,
        "thread_metadata": {
            "archived": False,
            "auto_archive_duration": duration,
            "archive_timestamp": iso(now),
            "locked": False,
            "create_timestamp": iso(now),
        },
    }


def message(
    mid: str, channel: dict[str, Any] | None, body: dict[str, Any], author: dict[str, Any]
) -> dict[str, Any]:
    """A message object (resources/message) made from a create request's body."""
    created: dict[str, Any] = {
        "id": mid,
        "channel_id": channel["id"] if channel else "0",
        "author": author,
        "content": body.get("content") or "",
        "timestamp": body.get("timestamp", "2026-03-02T09:00:00.000000+00:00"),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": body.get("attachments", []),
        "embeds": body.get("embeds", []),
        "pinned": False,
        "type": 0,
        "flags": body.get("flags", 0),
        "components": body.get("components", []),
    }
    if body.get("nonce") is not None:
        created["nonce"] = body["nonce"]
    if channel and channel.get("guild_id"):
        created["guild_id"] = channel["guild_id"]
    return created


def interaction_payload(
    iid: str, token: str, data: dict[str, Any], channel: dict[str, Any], who: dict[str, Any]
) -> dict[str, Any]:
    """An application command interaction (interactions/receiving-and-responding)."""
    payload = {
        "id": iid,
        "application_id": APP_ID,
        "type": 2,
        "token": token,
        "version": 1,
        "channel_id": channel["id"],
        "channel": channel,
        "data": data,
        "locale": "en-US",
        "entitlements": [],
        "app_permissions": "2251799813685247",
        "authorizing_integration_owners": {"0": GUILD},
        "context": 0 if "guild_id" in who else 1,
        "attachment_size_limit": 8388608,
        **who,
    }
    if "guild_id" in who:
        payload["guild_locale"] = "en-US"
    return payload


def application() -> dict[str, Any]:
    return {
        "id": APP_ID,
        "name": "studybot",
        "icon": None,
        "description": "",
        "rpc_origins": [],
        "bot_public": True,
        "bot_require_code_grant": False,
        "verify_key": "0" * 64,
        "flags": 0,
        "owner": user(ADMIN, "ada"),
        "team": None,
        "summary": "",
        "tags": [],
        "interactions_endpoint_url": None,
    }


def ready(gateway_url: str) -> dict[str, Any]:
    return {
        "v": 10,
        "user": {**bot_user(), "verified": True, "flags": 0, "mfa_enabled": False},
        "guilds": [{"id": GUILD, "unavailable": True}],
        "session_id": "session-1",
        "resume_gateway_url": gateway_url,
        "shard": [0, 1],
        "application": {"id": APP_ID, "flags": 0},
        "private_channels": [],
        "relationships": [],
    }


def guild(channels: list[dict[str, Any]], threads: list[dict[str, Any]]) -> dict[str, Any]:
    """GUILD_CREATE: its channels and its *active* threads (docs: threads, gateway)."""
    everyone = {
        "id": GUILD,
        "name": "@everyone",
        "permissions": "104324673",
        "position": 0,
        "color": 0,
        "hoist": False,
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }
    bot_role = {
        **everyone,
        "id": BOT_ROLE,
        "name": "studybot",
        "permissions": str(BOT_PERMISSIONS),
        "position": 1,
        "managed": True,
        "tags": {"bot_id": BOT_ID},
    }
    return {
        "id": GUILD,
        "name": "Study Guild",
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "features": [],
        "owner_id": ADMIN,
        "roles": [everyone, bot_role],
        "emojis": [],
        "stickers": [],
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "vanity_url_code": None,
        "description": None,
        "banner": None,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "public_updates_channel_id": None,
        "nsfw_level": 0,
        "premium_progress_bar_enabled": False,
        "afk_timeout": 300,
        "afk_channel_id": None,
        "channels": channels,
        "members": [member(BOT_ID, "studybot", roles=(BOT_ROLE,))],
        "member_count": 3,
        "large": False,
        "threads": threads,
        "voice_states": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "joined_at": "2026-03-02T09:00:00.000000+00:00",
        "unavailable": False,
    }


ERRORS = {
    10003: (404, "Unknown Channel"),
    10008: (404, "Unknown Message"),
    50001: (403, "Missing Access"),
    50005: (403, "Cannot edit a message authored by another user"),
    50006: (400, "Cannot send an empty message"),
    50007: (403, "Cannot send messages to this user"),
    50008: (400, "Cannot send messages in a non-text channel"),
    50013: (403, "Missing Permissions"),
    50024: (400, "Cannot execute action on this channel type"),
    50035: (400, "Invalid Form Body"),
    50083: (400, "Thread is archived"),
    160005: (400, "Thread is locked"),
    160004: (400, "A thread has already been created for this message"),
}
"""JSON error codes (topics/opcodes-and-status-codes). A plain message to a forum gets
50008, what the live API answers (appwrite/grafana-oncall PR 26); the docs' table also
lists 40058 for it."""


def fail(code: int) -> Answer:
    """A JSON error (topics/opcodes-and-status-codes: JSON error codes)."""
    status, text = ERRORS[code]
    return status, {"code": code, "message": text}


def member_message(
    message_id: str, channel: str, author: str, name: str, content: str
) -> dict[str, Any]:
    """A member's message in a server channel or thread (a MESSAGE_CREATE payload)."""
    return {
        "id": message_id,
        "channel_id": channel,
        "guild_id": GUILD,
        "author": user(author, name),
        "member": {k: v for k, v in member(author, name).items() if k != "user"},
        "content": content,
        "timestamp": "2026-03-02T09:31:00.000000+00:00",
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": False,
        "type": 0,
        "flags": 0,
        "components": [],
    }
