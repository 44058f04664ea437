"""The gallery on Discord: /stylize painting: with autocomplete, a mention with one picture
→ painting buttons → a pick → the result, /styles, and buttons that survive restarts."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

from PIL import Image

from fakes.discord import CALLBACK_AUTOCOMPLETE_RESULT, FLAG_EPHEMERAL, Interaction
from tests.bot.discord.conftest import World
from tests.bot.harness import PAINTING, PHOTO, RunningBot, running_bot, small_config, wait_until


def photo(world: World) -> dict:
    return world.fake.add_attachment(PHOTO, "photo.jpg", "image/jpeg")


def finished(interaction: Interaction) -> bool:
    original = interaction.original
    return bool(original and original.get("embeds") and original["embeds"][0]["title"] == "🖼 Done")


def buttons(message: dict) -> dict[str, str]:
    """A message's buttons as {label: custom_id}."""
    return {c["label"]: c["custom_id"] for row in message["components"]
            for c in row["components"]}


async def private_note(interaction: Interaction) -> str:
    response = await interaction.wait_response()
    assert response["data"]["flags"] & FLAG_EPHEMERAL
    return response["data"]["content"]


async def test_stylize_with_a_painting_from_the_gallery(dcbot: RunningBot, world: World) -> None:
    commands = {c["name"]: c for c in world.fake.commands["global"]}
    options = {o["name"]: o for o in commands["stylize"]["options"]}
    assert options["content"]["required"] and not options["style"].get("required")
    assert options["painting"]["autocomplete"] and "styles" in commands
    interaction = await world.fake.slash_command(
        world.alice, world.channel, "stylize", {"content": photo(world), "painting": "wave"})
    await wait_until(lambda: finished(interaction), what="the result")
    embed = interaction.original["embeds"][0]
    assert "🎨 The Great Wave off Kanagawa — Katsushika Hokusai, c. 1831" in embed["description"]
    buttons_under = buttons(interaction.original)
    assert {"🖼 Other painting", "💪 Stronger"} <= set(buttons_under)


async def test_painting_autocompletes_from_the_gallery(dcbot: RunningBot, world: World) -> None:
    typed = await world.fake.autocomplete(world.alice, world.channel, "stylize",
                                          {"painting": "van go"}, focused="painting")
    answer = await typed.wait_response()
    assert answer["type"] == CALLBACK_AUTOCOMPLETE_RESULT
    assert answer["data"]["choices"] == [
        {"name": "The Starry Night — Vincent van Gogh, 1889", "value": "starry_night"}]
    everything = await world.fake.autocomplete(world.alice, world.channel, "stylize",
                                               {"painting": ""}, focused="painting")
    assert len((await everything.wait_response())["data"]["choices"]) == 8


async def test_exactly_one_painting_and_a_known_one(dcbot: RunningBot, world: World) -> None:
    fake = world.fake
    for options in ({"content": photo(world)},
                    {"content": photo(world), "painting": "wave",
                     "style": fake.add_attachment(PAINTING, "art.jpg", "image/jpeg")}):
        asked = await fake.slash_command(world.alice, world.channel, "stylize", options)
        assert "attach it as style:, or pick one" in await private_note(asked)
    unknown = await fake.slash_command(world.alice, world.channel, "stylize",
                                       {"content": photo(world), "painting": "mona lisa"})
    assert "I don't know the painting “mona lisa”" in await private_note(unknown)
    own = await fake.slash_command(world.alice, world.channel, "stylize", {
        "content": photo(world), "style": fake.add_attachment(PAINTING, "a.jpg", "image/jpeg")})
    await wait_until(lambda: finished(own), what="the old flow's result")


async def test_a_mention_with_one_picture_gets_the_gallery(dcbot: RunningBot,
                                                          world: World) -> None:
    fake = world.fake
    request = await fake.send_message(world.alice, world.channel, "paint me", mention_bot=True,
                                      attachments=[photo(world)])
    await wait_until(lambda: any(m.get("components") for m in
                                 fake.channel_messages(world.channel["id"])),
                     what="the gallery")
    offer = next(m for m in fake.channel_messages(world.channel["id"]) if m.get("components"))
    assert offer["message_reference"]["message_id"] == request["id"]
    assert "Pick a painting below" in offer["content"]
    choices = buttons(offer)
    assert len(choices) == 8 and "Udnie" in choices
    stranger = await fake.click_button(world.bob, offer, choices["Udnie"])
    assert "belong to whoever asked" in await private_note(stranger)
    mine = await fake.click_button(world.alice, offer, choices["Udnie"])
    await wait_until(lambda: finished(mine), what="the result")
    assert "🎨 Udnie — Francis Picabia, 1913" in mine.original["embeds"][0]["description"]


async def test_styles_shows_every_painting_numbered(dcbot: RunningBot, world: World) -> None:
    shown = await world.fake.slash_command(world.alice, world.channel, "styles")
    response = await shown.wait_response()
    assert response["data"]["flags"] & FLAG_EPHEMERAL
    embed = response["data"]["embeds"][0]
    assert embed["description"].startswith("**1.** The Starry Night — Vincent van Gogh, 1889")
    assert embed["image"]["url"] == "attachment://gallery.jpg"
    (sheet,) = shown.original["attachments"]
    assert Image.open(io.BytesIO(sheet["data"])).size == (960, 480)  # two rows of four


async def test_buttons_work_after_a_restart_and_say_when_they_expired(
    world: World, tmp_path: Path, random_weights_path: Path
) -> None:
    config = small_config(tmp_path, str(random_weights_path))
    fake = world.fake
    async with running_bot(config, discord=fake):
        first = await fake.slash_command(world.alice, world.channel, "stylize",
                                         {"content": photo(world), "painting": "the_scream"})
        await wait_until(lambda: finished(first), what="the first result")
        second = await fake.slash_command(world.alice, world.channel, "stylize",
                                          {"content": photo(world), "painting": "wave"})
        await wait_until(lambda: finished(second), what="the second result")
    expired = buttons(second.original)["💪 Stronger"].split(":")[1]
    kept = config.database.with_suffix(".results") / expired / "job.json"
    kept.write_text(json.dumps({**json.loads(kept.read_text()),
                                "created": time.time() - 5 * 86400}))
    async with running_bot(config, discord=fake):  # a new process: nothing in memory
        again = await fake.click_button(world.alice, first.original,
                                        buttons(first.original)["💪 Stronger"])
        await wait_until(lambda: finished(again), what="the re-run")
        assert "strength 6.5" in again.original["embeds"][0]["description"]
        assert "The Scream" in again.original["embeds"][0]["description"]
        late = await fake.click_button(world.alice, second.original,
                                       buttons(second.original)["💪 Stronger"])
        assert "too old to re-run" in await private_note(late)
        other = await fake.click_button(world.alice, first.original,
                                        buttons(first.original)["🖼 Other painting"])
        assert "pick another painting" in (await private_note(other)).lower()
        pick = await fake.click_button(world.alice, other.original,
                                       buttons(other.original)["Composition VII"])
        await wait_until(lambda: finished(pick), what="the other painting")
        assert "Composition VII — Wassily Kandinsky" in pick.original["embeds"][0]["description"]
