"""Slack rendering limits, escaping, the manifest's scopes and command parity."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.adapters.slack import render
from bot.core.commands import STUDY
from bot.core.replies import Button, Message

MANIFEST = Path(__file__).parent.parent.parent / "deploy" / "slack-app-manifest.yaml"


def test_long_messages_are_split_into_sections_within_limits() -> None:
    message = Message(
        title="t",
        lines=tuple("word " * 200 for _ in range(40)),
        fields=tuple((f"f{i}", "v" * 3000) for i in range(14)),
        buttons=tuple(Button("x" * 100, f"a:{i}") for i in range(30)),
    )
    blocks = render.blocks(message)
    assert len(blocks) <= render.BLOCKS_MAX
    for block in blocks:
        if "text" in block:
            assert len(block["text"]["text"]) <= render.SECTION_MAX
        for field in block.get("fields", []):
            assert len(field["text"]) <= render.FIELD_MAX
        if block["type"] == "actions":
            assert len(block["elements"]) <= 25
            assert all(len(e["text"]["text"]) <= 75 for e in block["elements"])
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "t", "emoji": True},
    }
    field_sections = [b["fields"] for b in blocks if "fields" in b]
    assert [len(f) for f in field_sections] == [10, 4]  # all 14 fields, 10 to a section
    assert len(render.fallback(message)) <= render.FALLBACK_MAX


def test_member_text_is_escaped_everywhere() -> None:
    message = Message(
        title="<@U1>",
        lines=("<!channel> & <https://x|y>",),
        fields=(("<!here>", "a>b"),),
        footer="<!everyone>",
    )
    text = str(render.blocks(message)) + render.fallback(message)
    for raw in ("<@U1>", "<!channel>", "<!here>", "<!everyone>", "<https"):
        assert raw not in text
    assert "&lt;!channel&gt; &amp;" in text


def test_manifest_asks_for_the_least_scopes_and_both_commands() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {
        "chat:write",
        "commands",
        "reactions:read",
        "reactions:write",
        "channels:history",
        "groups:history",
        "im:write",
        "users:read",
        "app_mentions:read",
        "channels:read",
        "groups:read",
        "channels:join",
        "files:write",  # /study export is a file uploaded to the member's DM
    }
    commands = {c["command"] for c in manifest["features"]["slash_commands"]}
    assert commands == {"/study", "/quiz"}
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert all(c["should_escape"] for c in manifest["features"]["slash_commands"])
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
    assert "app_mention" in manifest["settings"]["event_subscriptions"]["bot_events"]
    assert {"reaction_added", "reaction_removed", "message.channels"} <= set(
        manifest["settings"]["event_subscriptions"]["bot_events"]
    )


def test_every_subcommand_reaches_slack() -> None:
    # Slack passes the text after /study verbatim to the shared parser, so every
    # subcommand of STUDY exists there; the usage hint advertises the main ones.
    from bot.core.commands import parse

    for sub in STUDY:
        assert parse("/study", sub.name).sub == sub.name
