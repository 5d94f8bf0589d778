"""The fields of Slack payloads we read, typed once and turned into core values at once."""

from __future__ import annotations

from typing import NotRequired, TypedDict


class SlashCommand(TypedDict):
    team_id: str
    channel_id: str
    user_id: str
    user_name: NotRequired[str]
    command: str
    text: NotRequired[str]
    response_url: NotRequired[str]


class FileInfo(TypedDict, total=False):
    id: str
    name: str
    title: str


class MessageEvent(TypedDict):
    type: str
    channel: str
    user: NotRequired[str]
    text: NotRequired[str]
    ts: str
    thread_ts: NotRequired[str]
    subtype: NotRequired[str]
    bot_id: NotRequired[str]
    channel_type: NotRequired[str]
    files: NotRequired[list[FileInfo]]
    message: NotRequired[MessageEvent]
    previous_message: NotRequired[MessageEvent]


class ReactionItem(TypedDict):
    type: str
    channel: str
    ts: str


class ReactionEvent(TypedDict):
    type: str
    user: str
    reaction: str
    item: ReactionItem
    item_user: NotRequired[str]


class UserProfile(TypedDict, total=False):
    display_name: str
    real_name: str


class UserInfo(TypedDict, total=False):
    id: str
    name: str
    real_name: str
    tz: str
    is_admin: bool
    is_owner: bool
    is_bot: bool
    profile: UserProfile
