"""/cancel and /queue: the user's own jobs."""

from __future__ import annotations

import discord
from discord import app_commands

from ...i18n import _, _p
from ..client import StylebotClient
from ..common import tell_privately, who_of
from ..translator import localised


def build(client: StylebotClient) -> list[app_commands.Command]:
    core = client.core

    async def cancel(interaction: discord.Interaction) -> None:
        who = who_of(interaction)
        await tell_privately(interaction, core.cancel(who))

    async def queue(interaction: discord.Interaction) -> None:
        who = who_of(interaction)
        await tell_privately(interaction, core.queue_report(who))

    return [
        app_commands.Command(name=localised(_p("command", "cancel")),
                             description=localised(_("Stop your running or waiting picture")),
                             callback=cancel),
        app_commands.Command(name=localised(_p("command", "queue")),
                             description=localised(_("Your place in line")), callback=queue),
    ]
