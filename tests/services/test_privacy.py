import json

from bot.services.study import StudyBot
from bot.store.sql import SqlStore
from tests.conftest import World
from tests.dbtools import sync_tx
from tests.fakes import FakeChat
from tests.services.helpers import run, text_of


async def test_export_then_forget(
    study: StudyBot, world: World, chat: FakeChat, store: SqlStore
) -> None:
    await run(study, world.admin, world.channel, "/study setup")
    await run(study, world.admin, world.channel, "/study post-now")
    (post,) = chat.posts()
    await study.message(world.alice, world.thread(post.ref), "a1", "my <b>answer</b>")
    exported = await run(study, world.alice, world.channel, "/study export")
    document = json.loads(str(exported.data["export"]))
    assert document["member"]["name"] == "Alice"
    assert [a["text"] for a in document["answers"]] == ["my <b>answer</b>"]
    warning = await run(study, world.alice, world.channel, "/study forget-me")
    assert "cannot be undone" in text_of(warning)
    assert warning.messages[0].buttons[0].action == "forget:confirm"
    with sync_tx(store) as tx:
        assert tx.members.find("fake", "T1", "U1") is not None
    done = await study.button(world.alice, "forget:confirm")
    assert "deleted" in text_of(done)
    with sync_tx(store) as tx:
        assert tx.members.find("fake", "T1", "U1") is None
        assert tx.answers.for_post(1) == []
    assert "no data" in text_of(await run(study, world.alice, world.channel, "/study export"))
