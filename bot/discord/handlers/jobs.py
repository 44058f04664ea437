"""/cancel and /queue: the user's own jobs."""

from __future__ import annotations

import discord
from discord import app_commands

from ...i18n import _, _p
from ..client import StylebotClient
from ..common import who_of
from ..translator import localised


def build(client: StylebotClient) -> list[app_commands.Command]:
    core = client.core

    async def cancel(interaction: discord.Interaction) -> None:
        who = who_of(interaction)
        await interaction.response.send_message(await core.say(who, core.cancel(who)),
                                                ephemeral=True)

    async def queue(interaction: discord.Interaction) -> None:
        who = who_of(interaction)
        await interaction.response.send_message(await core.say(who, core.queue_report(who)),
                                                ephemeral=True)

    return [
        app_commands.Command(name=localised(_p("command", "cancel")),
                             description=localised(_("Stop your running or waiting picture")),
                             callback=cancel),
        app_commands.Command(name=localised(_p("command", "queue")),
                             description=localised(_("Your place in line")), callback=queue),
    ]
