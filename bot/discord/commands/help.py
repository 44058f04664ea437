"""/help."""

from __future__ import annotations

import discord
from discord import app_commands

HELP = """🎨 **Stylebot** paints a photo in the style of a painting.
• `/stylize content:<photo> style:<painting>` — optional `strength` (0–10), `size`, `preset` \
(`fast` answers in about a second).
• Or mention me in a message with two pictures attached (photo first), or reply to a \
picture with a mention and the painting.
• `/weights show|set|reset` — your defaults · `/queue` · `/cancel`.
Server admins: `/weights server` sets defaults for everyone here."""


def build() -> app_commands.Command:
    @app_commands.command(name="help", description="How Stylebot works")
    async def help_command(interaction: discord.Interaction) -> None:
        await interaction.response.send_message(HELP, ephemeral=True)

    return help_command
