"""A German-speaking Discord user goes through help → pair → result in German; command
names, descriptions and choices are localised for Discord's clients."""

from __future__ import annotations

from bot.core.jobdesk import RERUNS
from bot.core.settings import UserSettings
from bot.discord.handlers.help import HELP
from bot.discord.status import DONE
from bot.i18n import _, _p, render
from tests.bot.discord.conftest import World
from tests.bot.harness import PAINTING, PHOTO, RunningBot, wait_until


async def test_a_german_user_is_answered_in_german_throughout(
    dcbot: RunningBot, world: World
) -> None:
    fake = world.fake
    hans = fake.add_user("hans", locale="de")
    fake.add_member(world.guild, hans)
    shown = await fake.slash_command(hans, world.channel, "help")
    assert (await shown.wait_response())["data"]["content"] == render(HELP, "de")

    interaction = await fake.slash_command(hans, world.channel, "stylize", {
        "content": fake.add_attachment(PHOTO, "foto.jpg", "image/jpeg"),
        "style": fake.add_attachment(PAINTING, "gemaelde.jpg", "image/jpeg")})

    def done() -> bool:
        embeds = (interaction.original or {}).get("embeds") or []
        return bool(embeds) and embeds[0]["title"] == render(DONE, "de")

    await wait_until(done, what="the result, in German")
    original = interaction.original
    assert render(UserSettings(size=64, steps=6).summary(), "de") in \
        original["embeds"][0]["description"]
    labels = [c["label"] for row in original["components"] for c in row["components"]]
    offered = [label for change, label in RERUNS if change != "full"]  # not a fast result
    assert labels == [render(label, "de") for label in offered]


async def test_commands_are_localised(dcbot: RunningBot, world: World) -> None:
    commands = {c["name"]: c for c in world.fake.commands["global"]}
    stylize = commands["stylize"]
    assert stylize["name_localizations"]["de"] == render(_p("command", "stylize"), "de")
    assert stylize["description_localizations"]["pt-BR"] == render(
        _("Paint a photo in the style of a painting"), "pt_BR")
    preset = next(o for o in stylize["options"] if o["name"] == "preset")
    fast = next(c for c in preset["choices"] if c["value"] == "fast")
    assert fast["name_localizations"]["ru"] == render(_("fast (about a second)"), "ru")
    assert fast["name"] == "fast (about a second)"  # English for everyone else
