"""/weights show | set | reset | server: the same per-user settings as on Telegram.

Options are typed with ranges and choices, so Discord itself refuses values that do not
fit; server defaults need the Manage Server permission.
"""

# No "from __future__ import annotations": discord.py reads these option annotations at
# definition time, and the ranges come from the config in this closure.

from typing import TYPE_CHECKING, Any, Literal

import discord
from discord import app_commands

from ...config import LimitsConfig
from ...core.choices import COLOR_WORDS
from ..common import PLATFORM, owner_of

if TYPE_CHECKING:
    from ..app import StylebotClient


def changes_from(**given: Any) -> dict[str, Any]:
    out = {k: v for k, v in given.items() if v is not None and k != "colors"}
    if given.get("colors") is not None:
        out["keep_colors"] = COLOR_WORDS[given["colors"]]
    return out


def build(client: "StylebotClient", limits: LimitsConfig) -> app_commands.Group:
    store, core = client.core.store, client.core
    group = app_commands.Group(name="weights", description="Your painting settings")

    async def show(interaction: discord.Interaction, title: str) -> None:
        choices = await core.choices(owner_of(interaction.user), interaction.guild_id)
        await interaction.response.send_message(f"⚙️ **{title}**\n{choices.describe()}",
                                                ephemeral=True)

    @group.command(name="show", description="Show your settings")
    async def show_command(interaction: discord.Interaction) -> None:
        await show(interaction, "Your settings")

    @group.command(name="set", description="Change your settings")
    @app_commands.describe(strength="0 keeps the photo, 10 is mostly painting",
                           size="long side of the result in pixels",
                           steps="optimiser steps (0: the preset's own)",
                           colors="keep the photo's colours, or take the painting's",
                           preset="default (best), fast (about a second), seed (classic)")
    async def set_command(  # noqa: PLR0917 - discord.py maps options to parameters
                          interaction: discord.Interaction,
                          strength: app_commands.Range[float, 0.0, 10.0] | None = None,
                          size: app_commands.Range[int, 64, limits.max_size] | None = None,  # type: ignore[valid-type]
                          steps: app_commands.Range[int, 0, limits.max_steps] | None = None,  # type: ignore[valid-type]
                          colors: Literal["keep", "style"] | None = None,
                          preset: Literal["default", "fast", "seed"] | None = None) -> None:
        changes = changes_from(strength=strength, size=size, steps=steps, colors=colors,
                               preset=preset)
        if steps is not None and 0 < steps < 10:
            await interaction.response.send_message("steps must be 0 (auto) or at least 10.",
                                                    ephemeral=True)
            return
        await store.update_user(PLATFORM, interaction.user.id, changes)
        await show(interaction, "Saved. Your settings")

    @group.command(name="reset", description="Back to the defaults")
    async def reset_command(interaction: discord.Interaction) -> None:
        await store.update_user(PLATFORM, interaction.user.id, None)
        await show(interaction, "Reset. Your settings")

    @group.command(name="server", description="Server defaults (needs Manage Server)")
    @app_commands.describe(reset="forget this server's defaults")
    async def server_command(  # noqa: PLR0917 - discord.py maps options to parameters
                             interaction: discord.Interaction,
                             strength: app_commands.Range[float, 0.0, 10.0] | None = None,
                             size: app_commands.Range[int, 64, limits.max_size] | None = None,  # type: ignore[valid-type]
                             colors: Literal["keep", "style"] | None = None,
                             preset: Literal["default", "fast", "seed"] | None = None,
                             reset: bool = False) -> None:
        if interaction.guild_id is None:
            await interaction.response.send_message("Server defaults are set in a server.",
                                                    ephemeral=True)
            return
        if not interaction.permissions.manage_guild:
            await interaction.response.send_message(
                "Only members with Manage Server can change the server's defaults. Your own: "
                "/weights set.", ephemeral=True)
            return
        changes = None if reset else changes_from(strength=strength, size=size, colors=colors,
                                                   preset=preset)
        saved = await store.update_chat(PLATFORM, interaction.guild_id, changes)
        await interaction.response.send_message(
            f"⚙️ **This server's defaults**\n{core.defaults.merged(saved).describe()}",
            ephemeral=True)

    return group
