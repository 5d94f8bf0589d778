from tests.discord.conftest import DiscordWorld, embed_text


async def test_connects_syncs_commands_and_answers_help(world: DiscordWorld) -> None:
    (identify,) = world.fake.identifies
    assert identify["intents"] & (1 << 15)  # message content
    synced = world.fake.called("PUT", r"/applications/\d+/guilds/\d+/commands")
    names = {c["name"] for c in synced[0].body}
    assert names == {"study", "study-admin", "quiz"}
    (reply,) = await world.slash("study", "help")
    assert "studybot help" in embed_text(reply)
