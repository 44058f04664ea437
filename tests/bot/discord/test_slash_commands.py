"""/stylize, /weights, /cancel, /queue through the real discord.py and a fake Discord."""

from __future__ import annotations

import io

from PIL import Image

from bot.core.jobs import Owner
from tests.bot.discord.conftest import World
from tests.bot.harness import PAINTING, PHOTO, RunningBot, wait_until


def image_of(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def attachments(world: World, content: bytes = PHOTO, style: bytes = PAINTING) -> dict:
    return {
        "content": world.fake.add_attachment(content, "photo.jpg", "image/jpeg"),
        "style": world.fake.add_attachment(style, "painting.jpg", "image/jpeg"),
    }


def finished(interaction) -> bool:
    original = interaction.original
    return bool(original and original.get("embeds") and original["embeds"][0]["title"] == "🖼 Done")


async def test_commands_are_synced_with_typed_options(dcbot: RunningBot, world: World) -> None:
    commands = {c["name"]: c for c in world.fake.commands["global"]}
    assert set(commands) >= {"stylize", "weights", "cancel", "queue", "help"}
    options = {o["name"]: o for o in commands["stylize"]["options"]}
    assert options["content"]["type"] == 11 and options["style"]["type"] == 11
    assert options["strength"]["max_value"] == 10 and options["size"]["max_value"] == 256
    assert {c["value"] for c in options["preset"]["choices"]} == {"default", "fast", "seed"}


async def test_stylize_defers_then_shows_progress_and_the_result(
    dcbot_any: RunningBot, world: World
) -> None:
    dcbot = dcbot_any
    await dcbot.store.update_user("discord", world.alice["id"], {"steps": 150})  # a few seconds
    interaction = await world.fake.slash_command(
        world.alice, world.channel, "stylize", attachments(world)
    )
    first = await interaction.wait_response()
    assert first["type"] == 5  # deferred within Discord's 3 s
    await wait_until(lambda: finished(interaction), what="the result")
    original = interaction.original
    embed = original["embeds"][0]
    assert f"<@{world.alice['id']}>" in embed["description"]
    (result,) = original["attachments"]
    assert image_of(result["data"]).size == (64, 48)
    assert any("preview.jpg" in str(h.get("attachments")) for h in original["history"])
    assert any("%" in (h.get("content") or "") for h in original["history"])  # progress bar
    buttons = [c["custom_id"] for row in original["components"] for c in row["components"]]
    assert any(b.endswith(":stronger") for b in buttons)


async def test_options_override_the_users_settings(dcbot: RunningBot, world: World) -> None:
    interaction = await world.fake.slash_command(
        world.alice,
        world.channel,
        "stylize",
        {**attachments(world), "strength": 8.0, "size": 96, "preset": "fast"},
    )
    await wait_until(lambda: finished(interaction), what="the result")
    assert "fast · strength 8 · 96px" in interaction.original["embeds"][0]["description"]
    assert image_of(interaction.original["attachments"][0]["data"]).size == (96, 72)


async def test_bad_attachments_get_a_private_specific_answer(
    dcbot: RunningBot, world: World
) -> None:
    fake = world.fake
    pdf = fake.add_attachment(b"%PDF-1.4", "cv.pdf", "application/pdf")
    interaction = await fake.slash_command(
        world.alice,
        world.channel,
        "stylize",
        {"content": pdf, "style": attachments(world)["style"]},
    )
    response = await interaction.wait_response()
    assert response["type"] == 4 and response["data"]["flags"] & 64  # ephemeral
    assert "cv.pdf is not a picture" in response["data"]["content"]
    broken = fake.add_attachment(PHOTO[:200], "photo.jpg", "image/jpeg")
    interaction = await fake.slash_command(
        world.alice,
        world.channel,
        "stylize",
        {"content": broken, "style": attachments(world)["style"]},
    )
    await wait_until(lambda: interaction.followups, what="the explanation")
    note = interaction.followups[-1]
    assert note["flags"] & 64 and "damaged" in note["content"]
    # ...and the bot keeps serving.
    good = await fake.slash_command(world.bob, world.channel, "stylize", attachments(world))
    await wait_until(lambda: finished(good), what="bob's result")


async def test_weights_persist_across_a_restart(
    world: World, tmp_path, random_weights_path
) -> None:
    from tests.bot.harness import running_bot, small_config

    config = small_config(tmp_path, str(random_weights_path))
    async with running_bot(config, discord=world.fake):
        set_ = await world.fake.slash_command(
            world.alice,
            world.channel,
            "weights",
            {"strength": 2.5, "colors": "keep"},
            subcommand="set",
        )
        assert "strength: 2.5" in (await set_.wait_response())["data"]["content"]
    async with running_bot(config, discord=world.fake):
        shown = await world.fake.slash_command(
            world.alice, world.channel, "weights", subcommand="show"
        )
        text = (await shown.wait_response())["data"]["content"]
        assert "strength: 2.5" in text and "keep (the photo's colours)" in text


async def test_server_defaults_need_manage_server(dcbot: RunningBot, world: World) -> None:
    denied = await world.fake.slash_command(
        world.bob, world.channel, "weights", {"strength": 9.0}, subcommand="server"
    )
    assert "Only admins can change" in (await denied.wait_response())["data"]["content"]
    allowed = await world.fake.slash_command(
        world.admin, world.channel, "weights", {"strength": 9.0}, subcommand="server"
    )
    assert "strength: 9" in (await allowed.wait_response())["data"]["content"]
    shown = await world.fake.slash_command(world.bob, world.channel, "weights", subcommand="show")
    assert "strength: 9" in (await shown.wait_response())["data"]["content"]


async def test_cancel_and_queue(dcbot: RunningBot, world: World) -> None:
    await dcbot.store.update_user("discord", world.alice["id"], {"steps": 900})
    running = await world.fake.slash_command(
        world.alice, world.channel, "stylize", attachments(world)
    )
    await wait_until(
        lambda: running.original and running.original.get("attachments"), what="a preview"
    )
    waiting = await world.fake.slash_command(
        world.bob, world.channel, "stylize", attachments(world)
    )
    await wait_until(lambda: dcbot.pool.stats().waiting == 1, what="bob queued")
    queue = await world.fake.slash_command(world.bob, world.channel, "queue")
    assert "number 1 in line" in (await queue.wait_response())["data"]["content"]
    cancel = await world.fake.slash_command(world.alice, world.channel, "cancel")
    assert "Cancelled 1" in (await cancel.wait_response())["data"]["content"]
    await wait_until(
        lambda: running.original["content"] == "✖️ Cancelled.", what="the status to say cancelled"
    )
    await wait_until(lambda: finished(waiting), what="bob's result")


async def test_a_full_queue_is_explained(world: World, tmp_path, random_weights_path) -> None:
    import dataclasses

    from tests.bot.harness import running_bot, small_config

    config = small_config(tmp_path, str(random_weights_path))
    config = dataclasses.replace(
        config,
        pool=dataclasses.replace(config.pool, max_queue=1),
        defaults=dataclasses.replace(config.defaults, steps=900),
    )
    async with running_bot(config, discord=world.fake) as bot:
        users = [world.alice, world.bob, world.admin]
        for user in users[:2]:
            await world.fake.slash_command(user, world.channel, "stylize", attachments(world))
        await wait_until(lambda: bot.pool.stats().waiting == 1, what="one waiting")
        third = await world.fake.slash_command(
            users[2], world.channel, "stylize", attachments(world)
        )
        await wait_until(lambda: third.followups, what="the refusal")
        assert "queue is full" in third.followups[-1]["content"]
        assert third.followups[-1]["flags"] & 64
        for user in users[:2]:
            bot.pool.cancel_owner(Owner("discord", user["id"]))


async def test_oversized_attachments_are_refused_without_downloading(
    dcbot: RunningBot, world: World
) -> None:
    fake = world.fake
    big = fake.add_attachment(PHOTO, "huge.jpg", "image/jpeg")
    big["size"] = 30 * 2**20  # what Discord reports; the bytes are never fetched
    mark = fake.mark()
    interaction = await fake.slash_command(
        world.alice,
        world.channel,
        "stylize",
        {"content": big, "style": attachments(world)["style"]},
    )
    response = await interaction.wait_response()
    assert (
        response["data"]["flags"] & 64
        and "30.0 MB; I can take at most 20 MB" in response["data"]["content"]
    )
    assert not [c for c in fake.calls[mark:] if "/attachments/" in c.path]


async def test_commands_sync_to_one_guild_when_configured(
    world: World, tmp_path, random_weights_path
) -> None:
    import dataclasses

    from tests.bot.harness import running_bot, small_config

    config = small_config(tmp_path, str(random_weights_path))
    config = dataclasses.replace(
        config, discord=dataclasses.replace(config.discord, sync_guild_id=int(world.guild["id"]))
    )
    async with running_bot(config, discord=world.fake):
        names = {c["name"] for c in world.fake.commands[world.guild["id"]]}
        assert {"stylize", "weights", "cancel", "queue", "help"} <= names
        assert not world.fake.commands.get("global")


async def test_an_attachment_that_understates_its_size_is_cut_off(
    world: World, tmp_path, random_weights_path
) -> None:
    """``attachment.size`` is the sender's word: the read itself stops at the limit."""
    import dataclasses
    import os

    from tests.bot.harness import running_bot, small_config

    config = small_config(tmp_path, str(random_weights_path))
    config = dataclasses.replace(config, limits=dataclasses.replace(config.limits,
                                                                    max_upload_mb=1.0))
    async with running_bot(config, discord=world.fake) as bot:
        liar = world.fake.add_attachment(os.urandom(3 * 2**20), "small.png", "image/png")
        liar["size"] = 1000
        interaction = await world.fake.slash_command(
            world.alice, world.channel, "stylize",
            {"content": liar, "style": attachments(world)["style"]})
        await wait_until(lambda: any("is over 1.0 MB" in (m.get("content") or "")
                                     for m in interaction.followups), what="the refusal")
        assert bot.core.metrics.snapshot().refusals.get("too_large") == 1
