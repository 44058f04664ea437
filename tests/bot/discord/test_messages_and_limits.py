"""The mention flow, re-run buttons, the 15-minute token fallback, upload limits, and
Telegram and Discord sharing one pool."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from PIL import Image

from bot.discord import status as discord_status
from fakes import discord as discord_api
from fakes.telegram import FakeTelegram
from tests.bot.discord.conftest import World
from tests.bot.harness import PAINTING, PHOTO, RunningBot, running_bot, small_config, wait_until


def image_of(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def done_message(world: World) -> dict | None:
    for message in world.fake.channel_messages(world.channel["id"]):
        if message.get("embeds") and message["embeds"][0]["title"] == "🖼 Done":
            return message
    return None


async def test_mention_with_two_pictures(dcbot: RunningBot, world: World) -> None:
    fake = world.fake
    request = await fake.send_message(
        world.alice,
        world.channel,
        "paint this please",
        mention_bot=True,
        attachments=[
            fake.add_attachment(PHOTO, "photo.jpg", "image/jpeg"),
            fake.add_attachment(PAINTING, "art.jpg", "image/jpeg"),
        ],
    )
    await wait_until(lambda: done_message(world), what="the result")
    result = done_message(world)
    assert result["message_reference"]["message_id"] == request["id"]  # a reply to the user
    assert image_of(result["attachments"][0]["data"]).size == (64, 48)


async def test_filenames_say_which_is_which(dcbot: RunningBot, world: World) -> None:
    fake = world.fake
    await fake.send_message(
        world.bob,
        world.channel,
        mention_bot=True,
        attachments=[
            fake.add_attachment(PAINTING, "style.jpg", "image/jpeg"),
            fake.add_attachment(PHOTO, "content.jpg", "image/jpeg"),
        ],
    )
    await wait_until(lambda: done_message(world), what="the result")
    assert image_of(done_message(world)["attachments"][0]["data"]).size == (64, 48)


async def test_reply_to_a_picture_with_a_mention_and_the_painting(
    world: World, tmp_path: Path, random_weights_path: Path
) -> None:
    import dataclasses

    config = small_config(tmp_path, str(random_weights_path))
    config = dataclasses.replace(
        config, discord=dataclasses.replace(config.discord, message_content=True)
    )
    fake = world.fake
    async with running_bot(config, discord=fake):
        assert fake.gateway_query is not None
        photo = await fake.send_message(
            world.alice,
            world.channel,
            "holiday!",
            attachments=[fake.add_attachment(PHOTO, "beach.jpg", "image/jpeg")],
        )
        request = await fake.send_message(
            world.bob,
            world.channel,
            mention_bot=True,
            reply_to=photo,
            attachments=[fake.add_attachment(PAINTING, "p.jpg", "image/jpeg")],
        )
        await wait_until(lambda: done_message(world), what="the result")
        result = done_message(world)
        assert result["message_reference"]["message_id"] == request["id"]
        assert image_of(result["attachments"][0]["data"]).size == (64, 48)  # the replied photo


async def test_mention_without_pictures_explains(dcbot: RunningBot, world: World) -> None:
    await world.fake.send_message(world.alice, world.channel, "hello", mention_bot=True)
    await wait_until(
        lambda: any(
            "Attach a photo" in (m.get("content") or "")
            for m in world.fake.channel_messages(world.channel["id"])
        ),
        what="the hint",
    )


async def test_only_the_requester_can_rerun(dcbot: RunningBot, world: World) -> None:
    fake = world.fake
    interaction = await fake.slash_command(
        world.alice,
        world.channel,
        "stylize",
        {
            "content": fake.add_attachment(PHOTO, "a.jpg", "image/jpeg"),
            "style": fake.add_attachment(PAINTING, "b.jpg", "image/jpeg"),
        },
    )
    await wait_until(
        lambda: interaction.original and interaction.original.get("embeds"), what="the result"
    )
    original = interaction.original
    stronger = next(
        c["custom_id"]
        for row in original["components"]
        for c in row["components"]
        if c["custom_id"].endswith(":stronger")
    )
    other = await fake.click_button(world.bob, original, stronger)
    note = await other.wait_response()
    assert note["data"]["flags"] & 64 and "belong to whoever asked" in note["data"]["content"]
    mine = await fake.click_button(world.alice, original, stronger)
    await wait_until(lambda: mine.original and mine.original.get("embeds"), what="the re-run")
    assert "strength 6.5" in mine.original["embeds"][0]["description"]


async def test_after_15_minutes_the_status_moves_to_a_channel_message(
    dcbot: RunningBot, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shortened clock: the token is treated as expiring two seconds after the command."""
    monkeypatch.setattr(
        discord_status, "TOKEN_MARGIN", dt.timedelta(minutes=15) - dt.timedelta(seconds=2)
    )
    await dcbot.store.update_user("discord", world.alice["id"], {"steps": 120})
    interaction = await world.fake.slash_command(
        world.alice,
        world.channel,
        "stylize",
        {
            "content": world.fake.add_attachment(PHOTO, "a.jpg", "image/jpeg"),
            "style": world.fake.add_attachment(PAINTING, "b.jpg", "image/jpeg"),
        },
    )
    await wait_until(
        lambda: done_message(world) and done_message(world) is not interaction.original,
        timeout=60,
        what="the result in a channel message",
    )
    result = done_message(world)
    assert f"<@{world.alice['id']}>" in result["content"]
    assert result["attachments"][0]["filename"] == "stylebot.png"


async def test_an_expired_token_also_falls_back(dcbot: RunningBot, world: World) -> None:
    await dcbot.store.update_user("discord", world.bob["id"], {"steps": 120})
    interaction = await world.fake.slash_command(
        world.bob,
        world.channel,
        "stylize",
        {
            "content": world.fake.add_attachment(PHOTO, "a.jpg", "image/jpeg"),
            "style": world.fake.add_attachment(PAINTING, "b.jpg", "image/jpeg"),
        },
    )
    await interaction.wait_response()
    world.fake.expire_interaction(interaction)
    await wait_until(
        lambda: done_message(world) is not None and done_message(world) is not interaction.original,
        timeout=60,
        what="the result in a channel message",
    )


async def test_results_are_shrunk_to_the_upload_limit(
    dcbot: RunningBot, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(discord_api.FILESIZE_LIMITS, 0, 3000)  # a tiny server limit
    await dcbot.store.update_user("discord", world.alice["id"], {"size": 256, "preset": "fast"})
    interaction = await world.fake.slash_command(
        world.alice,
        world.channel,
        "stylize",
        {
            "content": world.fake.add_attachment(PHOTO, "a.jpg", "image/jpeg"),
            "style": world.fake.add_attachment(PAINTING, "b.jpg", "image/jpeg"),
        },
    )
    await wait_until(
        lambda: interaction.original and interaction.original.get("embeds"), what="the result"
    )
    (attachment,) = interaction.original["attachments"]
    assert len(attachment["data"]) <= 3000 and attachment["filename"] == "stylebot.jpg"
    assert "upload limit" in interaction.original["embeds"][0]["description"]


async def test_telegram_and_discord_share_one_pool(
    world: World, tmp_path: Path, random_weights_path: Path
) -> None:
    config = small_config(tmp_path, str(random_weights_path))
    async with FakeTelegram() as tg, running_bot(config, telegram=tg, discord=world.fake) as bot:
        await bot.store.update_user("discord", world.alice["id"], {"steps": 200})
        interaction = await world.fake.slash_command(
            world.alice,
            world.channel,
            "stylize",
            {
                "content": world.fake.add_attachment(PHOTO, "a.jpg", "image/jpeg"),
                "style": world.fake.add_attachment(PAINTING, "b.jpg", "image/jpeg"),
            },
        )
        await wait_until(lambda: bot.pool.stats().running == 1, what="discord job running")
        zoe = tg.user(5001, "Zoe")
        chat = tg.private_chat(zoe)
        tg.send_album(chat, zoe, [PHOTO, PAINTING])
        await wait_until(lambda: bot.pool.stats().waiting == 1, what="telegram job queued")
        status = await tg.wait_for_call("sendPhoto")
        assert "position 1" in status.params["caption"] or "next" in status.params["caption"]
        await tg.wait_for_call(
            "sendPhoto", lambda c: "Done" in c.params.get("caption", ""), timeout=90
        )
        assert interaction.original and interaction.original.get("embeds")


async def test_refusals_in_the_channel_are_flood_guarded(dcbot: RunningBot, world: World) -> None:
    """Public answers to bad mentions are limited per user, like Telegram's."""
    import asyncio

    fake = world.fake
    junk = fake.add_attachment(b"not an image at all", "a.png", "image/png")
    for _ in range(10):
        await fake.send_message(world.bob, world.channel, "", mention_bot=True,
                                attachments=[junk, junk])
    await wait_until(lambda: any("not a picture" in (m.get("content") or "")
                                 for m in fake.channel_messages(world.channel["id"])),
                     what="a refusal")
    await asyncio.sleep(1.0)
    refusals = [m for m in fake.channel_messages(world.channel["id"])
                if m["author"]["id"] == fake.bot_user["id"]]
    assert len(refusals) == 3
