"""/stylize content:<image> style:<image> [strength] [size] [preset]."""

# No "from __future__ import annotations": discord.py reads these option annotations at
# definition time, and the ranges come from the config in this closure.

import asyncio
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands

from nst_engine import InputImageError

from ...config import LimitsConfig
from ...core.jobs import PoolError
from ...core.service import SLOW_DOWN
from ..common import check_attachment, owner_of

if TYPE_CHECKING:
    from ..app import StylebotClient


def build(client: "StylebotClient", limits: LimitsConfig) -> app_commands.Command:
    @app_commands.command(name="stylize", description="Paint a photo in the style of a painting")
    @app_commands.describe(content="the photo to paint", style="the painting whose style to use",
                           strength="0 keeps the photo, 10 is mostly painting",
                           size="long side of the result in pixels",
                           preset="default (best), fast (about a second) or seed (classic, slow)")
    async def stylize(  # noqa: PLR0917 - discord.py maps options to parameters
                      interaction: discord.Interaction, content: discord.Attachment,
                      style: discord.Attachment,
                      strength: app_commands.Range[float, 0.0, 10.0] | None = None,
                      size: app_commands.Range[int, 64, limits.max_size] | None = None,  # type: ignore[valid-type]
                      preset: Literal["default", "fast", "seed"] | None = None) -> None:
        if not client.accepting:
            await interaction.response.send_message(
                "I'm restarting; please try again in a minute.", ephemeral=True)
            return
        try:  # metadata only: the answer can still be private
            check_attachment(content, limits, "photo")
            check_attachment(style, limits, "painting")
        except InputImageError as exc:
            await interaction.response.send_message(f"⚠️ {exc}", ephemeral=True)
            return
        core = client.core
        if not (core.may_upload(owner_of(interaction.user))
                and core.may_upload(owner_of(interaction.user))):  # both, before downloading
            await interaction.response.send_message(f"⚠️ {SLOW_DOWN}", ephemeral=True)
            return
        await interaction.response.defer(thinking=True)  # well inside the 3 s window
        try:
            images = await asyncio.gather(client.download(content, interaction.user, "photo"),
                                          client.download(style, interaction.user, "painting"))
        except InputImageError as exc:
            await refuse(interaction, str(exc))
            return
        choices = (await client.core.choices(owner_of(interaction.user), interaction.guild_id)
                   ).merged({k: v for k, v in (("strength", strength), ("size", size),
                                               ("preset", preset)) if v is not None})
        try:
            await client.start_for_interaction(interaction, images[0], images[1], choices)
        except PoolError as exc:
            await refuse(interaction, str(exc))

    return stylize


async def refuse(interaction: discord.Interaction, text: str) -> None:
    """Replace the public "thinking…" with a private explanation.

    After a public deferral Discord makes the first follow-up public too, so the deferred
    message is completed first, then the explanation follows privately, then the public
    placeholder goes away.
    """
    await interaction.edit_original_response(content="⚠️ I couldn't use those pictures.")
    await interaction.followup.send(f"⚠️ {text}", ephemeral=True)
    await interaction.delete_original_response()
