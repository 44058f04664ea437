"""/stats: the bot's numbers for its owners ([discord] admin_ids), privately."""

from __future__ import annotations

import discord
from discord import app_commands

from ...i18n import _, _p
from ..client import StylebotClient
from ..common import tell_privately, who_of
from ..translator import localised


def build(client: StylebotClient) -> app_commands.Command:
    async def stats(interaction: discord.Interaction) -> None:
        who = who_of(interaction)
        await tell_privately(interaction, client.core.stats(who))

    return app_commands.Command(name=localised(_p("command", "stats")),
                                description=localised(_("The bot's numbers (for its owners)")),
                                callback=stats)
