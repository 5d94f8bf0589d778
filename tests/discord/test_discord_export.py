"""/study export on Discord: one JSON attachment on the private followup."""

from __future__ import annotations

import json

from tests.discord.conftest import DiscordWorld, embed_text, ephemeral, posts
from tests.discord.fake_discord import CHANNEL
from tests.discord.fake_payloads import member_message
from tests.services.test_privacy import LONG_ANSWER
from tests.slack.conftest import eventually

ALICE = "700000000000000011"


async def test_the_export_is_one_attachment_only_the_member_sees(world: DiscordWorld) -> None:
    fake = world.fake
    await world.slash("study-admin", "setup", count=2)
    await world.slash("study-admin", "post-now")
    thread = posts(fake, CHANNEL)[0]["id"]
    answer = member_message(fake.snowflake(), thread, ALICE, "alice", LONG_ANSWER)
    await fake.dispatch("MESSAGE_CREATE", answer)
    await eventually(lambda: fake.called("PUT", r"/channels/\d+/messages/\d+/reactions/.+/@me"))

    shown = await world.slash("study", "export", user_id=ALICE, name="alice")
    attachments = [a for message in shown for a in message.get("attachments", [])]
    (attachment,) = attachments
    (message,) = [m for m in shown if m.get("attachments")]
    assert ephemeral(message)
    assert "Your studybot data" in embed_text(message)
    assert attachment["filename"].endswith(".json")
    document = json.loads(fake.uploads.content[attachment["id"]])
    (stored,) = document["tables"]["answers"]
    assert stored["text"] == LONG_ANSWER
    assert document["member"]["user_ref"] == ALICE
