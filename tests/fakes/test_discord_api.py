"""Self-test of the fake Discord: the real discord.py client logs in, syncs and answers."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator

import aiohttp
import discord
import pytest
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import Route
from PIL import Image

from tests.fakes.discord_api import FakeDiscord

# Guilds are "ready" once no GUILD_CREATE arrived for this long (discord.py waits 2 s by default).
READY_TIMEOUT = 0.05


def png(color: str, size: tuple[int, int] = (8, 6)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    """A started fake with discord.py pointed at it (restored afterwards)."""
    base, gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    async with FakeDiscord() as fake:
        Route.BASE = fake.api_base_url
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
        try:
            yield fake
        finally:
            Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = base, gateway


@contextlib.asynccontextmanager
async def running(client: discord.Client, fake: FakeDiscord) -> AsyncIterator[discord.Client]:
    """Log in, connect, wait for on_ready; always close the client (before the fake)."""
    await client.login(fake.token)
    task = asyncio.create_task(client.connect())
    try:
        await asyncio.wait_for(client.wait_until_ready(), 5)
        yield client
    finally:
        await client.close()
        await asyncio.wait_for(task, 5)


def new_client(**intents: bool) -> tuple[discord.Client, app_commands.CommandTree]:
    client = discord.Client(
        intents=discord.Intents.default() if not intents else discord.Intents(**intents),
        guild_ready_timeout=READY_TIMEOUT,
    )
    return client, app_commands.CommandTree(client)


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


async def test_stylize_defer_and_edit_with_attachments(fake: FakeDiscord) -> None:
    guild = fake.add_guild("Art Club")
    channel = guild["channels"][0]
    user = fake.add_user("alice")
    fake.add_member(guild, user)
    client, tree = new_client()
    seen: dict[str, bytes] = {}
    sizes: list[tuple[int | None, int | None]] = []
    done = asyncio.Event()

    @tree.command(name="stylize", description="Paint a photo in the style of another")
    async def stylize(
        interaction: discord.Interaction, content: discord.Attachment, style: discord.Attachment
    ) -> None:
        await interaction.response.defer(thinking=True)
        seen["content"], seen["style"] = await content.read(), await style.read()
        sizes.append((content.width, content.height))
        result = discord.File(io.BytesIO(png("purple")), "result.png")
        embed = discord.Embed(title="Stylized", description="content x style")
        await interaction.edit_original_response(content="done", attachments=[result], embed=embed)
        message = await interaction.original_response()
        await message.edit(content="done (2 s)")
        done.set()

    content_png, style_png = png("red", (12, 9)), png("blue")
    async with running(client, fake):
        await tree.sync()
        interaction = await fake.slash_command(
            user,
            channel,
            "stylize",
            {
                "content": fake.add_attachment(content_png, "photo.png"),
                "style": fake.add_attachment(style_png, "style.png"),
            },
        )
        await asyncio.wait_for(done.wait(), 5)

    assert seen["content"] == content_png and seen["style"] == style_png
    assert sizes == [(12, 9)]
    assert [r["type"] for r in interaction.responses] == [5]
    original = interaction.original
    assert original is not None
    assert original["content"] == "done (2 s)"
    assert original["edits"] == 2
    assert original["flags"] == 0  # the loading flag is gone after the first edit
    assert original["history"][0]["flags"] & 128  # ...and was there while "thinking"
    assert original["history"][1]["content"] == "done"
    assert original["embeds"][0]["title"] == "Stylized"
    (attachment,) = original["attachments"]
    assert attachment["filename"] == "result.png" and attachment["data"] == png("purple")
    assert fake.channel_messages(channel["id"]) == [original]
    patch = next(c for c in fake.calls if c.method == "PATCH")
    assert patch.path.endswith("/messages/@original")
    assert patch.files["files[0]"] == ("result.png", png("purple"))


async def test_button_click_runs_view_callback(fake: FakeDiscord) -> None:
    guild = fake.add_guild("Art Club")
    channel = guild["channels"][0]
    user = fake.add_user("bob")
    fake.add_member(guild, user)
    client, tree = new_client()

    class Menu(discord.ui.View):
        @discord.ui.button(label="Again", custom_id="again")
        async def again(self, interaction: discord.Interaction, _: discord.ui.Button[Menu]) -> None:
            await interaction.response.send_message("queued", ephemeral=True)

        @discord.ui.button(label="Stop", custom_id="stop")
        async def stop_button(
            self, interaction: discord.Interaction, _: discord.ui.Button[Menu]
        ) -> None:
            await interaction.response.edit_message(content="stopped", view=None)

    @tree.command(name="menu", description="Show the menu")
    async def menu(interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.followup.send("pick one", view=Menu())
        assert isinstance(interaction.channel, discord.TextChannel)
        await interaction.channel.send("or here", view=Menu())

    async with running(client, fake):
        await tree.sync()
        command = await fake.slash_command(user, channel, "menu")
        await fake.wait_for(lambda c: c.method == "POST" and c.path.endswith("/messages"))
        # The first follow-up after a "thinking" deferral completes the deferred message.
        assert command.followups == [command.original]
        assert command.original is not None and command.original["content"] == "pick one"

        click = await fake.click_button(user, command.original, "again")
        response = await click.wait_response()
        assert response["type"] == 4
        assert response["data"]["content"] == "queued" and response["data"]["flags"] == 64
        assert click.original is not None and click.original["flags"] & 64

        posted = fake.channel_messages(channel["id"])[-1]
        mark = fake.mark()
        stop = await fake.click_button(user, posted, "stop")
        await fake.wait_for(lambda c: c.path.endswith("/callback"), since=mark)
        with pytest.raises(ValueError, match="no button"):
            await fake.click_button(user, posted, "missing")

    assert stop.responses[0]["type"] == 7
    assert stop.original is posted
    assert posted["content"] == "stopped" and posted["components"] == [] and posted["edits"] == 1
    contents = [m["content"] for m in fake.channel_messages(channel["id"])]
    assert contents == ["pick one", "stopped"]  # the ephemeral reply is not in the channel


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


async def test_expired_token_then_channel_fallback(fake: FakeDiscord) -> None:
    guild = fake.add_guild("Art Club")
    channel = guild["channels"][0]
    user = fake.add_user("erin")
    fake.add_member(guild, user)
    client, tree = new_client()
    expired, done = asyncio.Event(), asyncio.Event()
    errors: list[discord.HTTPException] = []

    @tree.command(name="slow", description="Takes a while")
    async def slow(interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        await expired.wait()
        try:
            await interaction.edit_original_response(content="finally")
        except discord.HTTPException as error:
            errors.append(error)
            assert isinstance(interaction.channel, discord.TextChannel)
            await interaction.channel.send(f"{interaction.user.mention} here is your result")
        done.set()

    async with running(client, fake):
        await tree.sync()
        interaction = await fake.slash_command(user, channel, "slow")
        await interaction.wait_response()
        fake.expire_interaction(interaction)
        expired.set()
        await asyncio.wait_for(done.wait(), 5)

    (error,) = errors
    assert error.status == 401 and error.code == 50027
    messages = fake.channel_messages(channel["id"])
    assert messages[-1]["content"] == f"<@{user['id']}> here is your result"
    assert messages[-1]["mentions"][0]["id"] == user["id"]


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


async def test_unknown_route_and_bad_token(fake: FakeDiscord) -> None:
    headers = {"Authorization": f"Bot {fake.token}"}
    async with (
        aiohttp.ClientSession() as session,
        session.get(fake.api_base_url + "/nope", headers=headers) as response,
    ):
        assert response.status == 404
        assert await response.json() == {"message": "404: Not Found", "code": 0}
    client = discord.Client(intents=discord.Intents.default())
    with pytest.raises(discord.LoginFailure):
        await client.login("wrong-token")
    await client.close()


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
