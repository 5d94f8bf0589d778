"""/study export on Slack: one JSON file uploaded to the member's DM, one short reply."""

from __future__ import annotations

import asyncio
import json

from tests.services.test_privacy import LONG_ANSWER
from tests.slack.conftest import SlackWorld, eventually


async def answer_at_length(slack: SlackWorld) -> None:
    await slack.command("setup")
    await slack.command("post-now")
    thread = slack.fake.messages["C1"][0]["ts"]
    event = {
        "type": "message",
        "channel": "C1",
        "user": "U1",
        "text": LONG_ANSWER,
        "ts": "1700000100.000001",
        "thread_ts": thread,
        "channel_type": "channel",
    }
    assert await slack.event(event, "Ev1") == 200
    await eventually(lambda: slack.fake.called("reactions.add"))


async def test_the_export_is_one_file_in_the_members_dm(slack: SlackWorld) -> None:
    await answer_at_length(slack)
    (reply,) = await slack.command("export", user="U1")
    await asyncio.sleep(0.2)  # room for any further post through the URL (there is none)
    token = reply["token"]
    assert [r for r in slack.fake.responses if r["token"] == token] == [reply]
    assert reply["response_type"] == "ephemeral"
    assert "direct messages" in reply["text"]
    assert "```" not in json.dumps(reply["blocks"])  # no JSON pasted into blocks

    dm = slack.fake.conversations.dms["U1"]
    (upload,) = slack.fake.files.completed()
    assert upload.channel == dm
    assert upload.filename.endswith(".json")
    assert upload.content is not None
    document = json.loads(upload.content)
    (answer,) = document["tables"]["answers"]
    assert answer["text"] == LONG_ANSWER  # 1,533 characters, not one escaped or cut
    assert document["member"]["user_ref"] == "U1"


async def test_a_failed_upload_says_so_in_the_one_reply(slack: SlackWorld) -> None:
    await answer_at_length(slack)
    slack.fake.errors[("files.completeUploadExternal", "*")] = "file_uploads_disabled"
    (reply,) = await slack.command("export", user="U1")
    assert "could not send the file" in reply["text"]
    assert slack.fake.files.completed() == []
