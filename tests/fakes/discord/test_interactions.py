"""Interactions: deferred slash commands edited with attachments, button clicks on views, and
expired tokens."""

from __future__ import annotations

import asyncio
import io

import discord
import pytest
from discord import app_commands

from fakes.discord import CALLBACK_AUTOCOMPLETE_RESULT, FakeDiscord
from tests.fakes.discord.conftest import new_client, png, running


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


async def test_autocomplete_offers_choices_and_takes_nothing_else(fake: FakeDiscord) -> None:
    guild = fake.add_guild("Art Club")
    channel = guild["channels"][0]
    user = fake.add_user("alice")
    fake.add_member(guild, user)
    client, tree = new_client()
    names = ["Starry Night", "The Scream", "The Wave"]
    typed: list[str] = []

    async def suggest(_: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        typed.append(current)
        return [app_commands.Choice(name=n, value=n.lower()) for n in names
                if current.lower() in n.lower()]

    @tree.command(name="paint", description="Paint like a painting")
    @app_commands.autocomplete(painting=suggest)
    async def paint(interaction: discord.Interaction, painting: str) -> None:
        await interaction.response.send_message(f"painting {painting}")

    async with running(client, fake):
        await tree.sync()
        asked = await fake.autocomplete(user, channel, "paint", {"painting": "the"},
                                        focused="painting")
        answer = await asked.wait_response()
        run = await fake.slash_command(user, channel, "paint", {"painting": "the wave"})
        ran = await run.wait_response()

    assert typed == ["the"] and answer["type"] == CALLBACK_AUTOCOMPLETE_RESULT
    assert [c["value"] for c in answer["data"]["choices"]] == ["the scream", "the wave"]
    assert asked.original is None  # choices post no message
    assert ran["data"]["content"] == "painting the wave"
