"""/stats: the bot's numbers for its owners ([discord] admin_ids), privately."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from ...core.metrics import describe

if TYPE_CHECKING:
    from ..app import StylebotClient


def build(client: StylebotClient) -> app_commands.Command:
    @app_commands.command(name="stats", description="The bot's numbers (for its owners)")
    async def stats(interaction: discord.Interaction) -> None:
        if interaction.user.id not in client.config.admin_ids:
            await interaction.response.send_message("/stats is for the bot's owners.",
                                                    ephemeral=True)
            return
        core = client.core
        await interaction.response.send_message(
            describe(core.metrics.snapshot(), core.started), ephemeral=True)

    return stats
