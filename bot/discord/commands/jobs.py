"""/cancel and /queue: the user's own jobs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from ..common import owner_of

if TYPE_CHECKING:
    from ..app import StylebotClient


def build(client: StylebotClient) -> list[app_commands.Command]:
    pool = client.core.pool

    @app_commands.command(name="cancel", description="Stop your running or waiting picture")
    async def cancel(interaction: discord.Interaction) -> None:
        cancelled = pool.cancel_owner(owner_of(interaction.user))
        text = (f"✖️ Cancelled {len(cancelled)} picture(s)." if cancelled
                else "You have nothing running or waiting.")
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="queue", description="Your place in line")
    async def queue(interaction: discord.Interaction) -> None:
        stats = pool.stats()
        lines = [f"Queue: {stats.running} painting now, {stats.waiting} waiting "
                 f"(room for {stats.max_queue})."]
        for handle in pool.jobs_of(owner_of(interaction.user)):
            position = pool.position(handle)
            lines.append("Yours: being painted now." if position == 0 else
                         f"Yours: number {position} in line.")
        await interaction.response.send_message("\n".join(lines), ephemeral=True)

    return [cancel, queue]
