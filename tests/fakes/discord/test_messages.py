"""Messages: a user's mention with images answered by a reply, and upload limits by boost
tier."""

from __future__ import annotations

import io

import discord
import pytest

from fakes.discord import FakeDiscord
from tests.fakes.discord.conftest import READY_TIMEOUT, new_client, png, running


async def test_mention_with_images_and_reply(fake: FakeDiscord) -> None:
    guild = fake.add_guild("Art Club")
    channel = guild["channels"][0]
    user = fake.add_user("carol")
    fake.add_member(guild, user)
    intents = discord.Intents.default()
    intents.message_content = True
    client = discord.Client(intents=intents, guild_ready_timeout=READY_TIMEOUT)
    seen: list[tuple[int, bool, str]] = []

    @client.event
    async def on_message(message: discord.Message) -> None:
        if message.author == client.user:
            return
        assert client.user is not None
        seen.append((len(message.attachments), client.user in message.mentions, message.content))
        images = [await a.read() for a in message.attachments]
        await message.reply(file=discord.File(io.BytesIO(images[0]), "styled.png"))

    async with running(client, fake):
        sent = await fake.send_message(
            user,
            channel,
            "stylize please",
            attachments=[
                fake.add_attachment(png("red"), "a.png"),
                fake.add_attachment(png("blue"), "b.png"),
            ],
            mention_bot=True,
        )
        call = await fake.wait_for(lambda c: c.method == "POST" and c.path.endswith("/messages"))

    assert seen == [(2, True, f"<@{fake.bot_user['id']}> stylize please")]
    assert call.path == f"/channels/{channel['id']}/messages"
    assert call.json["message_reference"]["message_id"] == int(sent["id"])
    (reply,) = fake.channel_messages(channel["id"])
    assert reply["type"] == 19 and reply["referenced_message"]["id"] == sent["id"]
    assert reply["attachments"][0]["data"] == png("red")


async def test_filesize_limits_and_dm_command(fake: FakeDiscord) -> None:
    boosted = fake.add_guild("Boosted", premium_tier=2)
    plain = fake.add_guild("Plain")
    user = fake.add_user("frank")
    fake.add_member(boosted, user, manage_guild=True)
    client, tree = new_client()
    limits: list[tuple[int, bool, bool]] = []

    @tree.command(name="limits", description="Upload limit here")
    async def limits_command(interaction: discord.Interaction) -> None:
        manager = interaction.permissions.manage_guild
        limits.append((interaction.filesize_limit, interaction.guild is None, manager))
        await interaction.response.send_message(str(interaction.filesize_limit))

    async with running(client, fake):
        await tree.sync()
        guild_boosted = client.get_guild(int(boosted["id"]))
        guild_plain = client.get_guild(int(plain["id"]))
        assert guild_boosted is not None and guild_plain is not None
        assert guild_boosted.filesize_limit == 50 * 1024 * 1024
        assert (
            guild_plain.filesize_limit
            == 10 * 1024 * 1024
            == discord.utils.DEFAULT_FILE_SIZE_LIMIT_BYTES
        )

        await (await fake.slash_command(user, boosted["channels"][0], "limits")).wait_response()
        await (await fake.slash_command(user, fake.dm_channel(user), "limits")).wait_response()

        channel = guild_plain.text_channels[0]
        too_big = discord.File(io.BytesIO(b"\0" * (10 * 1024 * 1024 + 1)), "big.png")
        with pytest.raises(discord.HTTPException) as raised:
            await channel.send(file=too_big)

    assert limits == [(50 * 1024 * 1024, False, True), (10 * 1024 * 1024, True, False)]
    assert raised.value.status == 413 and raised.value.code == 40005
