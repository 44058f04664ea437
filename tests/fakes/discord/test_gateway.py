"""The gateway: login, READY with the guilds, command sync, intent-filtered message content,
resuming a dropped connection and guilds joined later."""

from __future__ import annotations

import asyncio

import discord
from discord import app_commands

from fakes.discord import FakeDiscord
from tests.fakes.discord.conftest import new_client, running


async def test_login_ready_and_command_sync(fake: FakeDiscord) -> None:
    guild = fake.add_guild("Art Club")
    client, tree = new_client()
    guild_object = discord.Object(int(guild["id"]))

    @tree.command(name="stylize", description="Paint a photo in the style of another")
    async def stylize(
        interaction: discord.Interaction,
        content: discord.Attachment,
        style: discord.Attachment,
        steps: app_commands.Range[int, 1, 500] = 100,
    ) -> None: ...

    @tree.command(name="settings", description="Server settings", guild=guild_object)
    async def settings(interaction: discord.Interaction, quality: bool) -> None: ...

    async with running(client, fake):
        assert fake.gateway_connected.is_set()
        # discord.py asks for zlib-stream (zstd-stream when zstd is importable).
        assert fake.gateway_query["v"] == "10" and fake.gateway_query["encoding"] == "json"
        assert fake.gateway_query["compress"] in ("zlib-stream", "zstd-stream")
        assert client.user is not None and str(client.user.id) == fake.bot_user["id"]
        assert client.application_id == int(fake.application_id)
        found = client.get_guild(int(guild["id"]))
        assert found is not None and found.name == "Art Club"
        assert [c.name for c in found.text_channels] == ["general"]
        assert found.me is not None and found.owner_id == int(guild["owner_id"])
        synced = await tree.sync()
        synced_guild = await tree.sync(guild=guild_object)
        again = await tree.sync()

    assert [c.name for c in synced] == ["stylize"]
    assert again[0].id == synced[0].id  # overwriting keeps the id, as Discord does
    assert [c.guild_id for c in synced_guild] == [int(guild["id"])]
    (command,) = fake.commands["global"]
    options = {o["name"]: o for o in command["options"]}
    assert options["content"]["type"] == 11 and options["content"]["required"]
    assert options["steps"]["type"] == 4 and options["steps"]["max_value"] == 500
    assert fake.commands[guild["id"]][0]["options"][0]["type"] == 5
    assert {c.path for c in fake.calls} >= {"/users/@me", "/oauth2/applications/@me"}


async def test_message_content_needs_intent_unless_mentioned(fake: FakeDiscord) -> None:
    guild = fake.add_guild("Art Club")
    user = fake.add_user("dave")
    fake.add_member(guild, user)
    client, _ = new_client(guilds=True, guild_messages=True)
    contents: list[str] = []

    @client.event
    async def on_message(message: discord.Message) -> None:
        contents.append(message.content)

    async with running(client, fake):
        await fake.send_message(user, guild["channels"][0], "secret")
        await fake.send_message(user, guild["channels"][0], "hello", mention_bot=True)
        await fake.send_message(user, fake.dm_channel(user), "a dm")  # no DM intent: not sent
        await asyncio.sleep(0.05)

    assert contents == ["", f"<@{fake.bot_user['id']}> hello"]


async def test_drop_resume_and_live_guild(fake: FakeDiscord) -> None:
    guild = fake.add_guild("Art Club")
    user = fake.add_user("gina")
    fake.add_member(guild, user)
    client, tree = new_client()
    resumed, joined = asyncio.Event(), asyncio.Event()

    @client.event
    async def on_resumed() -> None:
        resumed.set()

    @client.event
    async def on_guild_join(_: discord.Guild) -> None:
        joined.set()

    @tree.command(name="ping", description="Ping")
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong")

    async with running(client, fake):
        await tree.sync()
        await fake.drop_connection()
        await asyncio.wait_for(resumed.wait(), 5)
        assert fake.gateway_connected.is_set()
        interaction = await fake.slash_command(user, guild["channels"][0], "ping")
        assert (await interaction.wait_response())["data"]["content"] == "pong"

        later = fake.add_guild("Later", premium_tier=3)
        await asyncio.wait_for(joined.wait(), 5)
        found = client.get_guild(int(later["id"]))
        assert found is not None and found.filesize_limit == 100 * 1024 * 1024
