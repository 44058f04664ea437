"""Buttons under a result: the same pair again, stronger, weaker, or in the photo's colours.
Only the requester's clicks count; anyone else gets a private note."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import discord

from ..core.choices import nudged
from ..core.jobs import PoolError
from .common import PLATFORM

if TYPE_CHECKING:
    from .app import StylebotClient

RERUN_TTL = 1800.0  # matches how long the pair is remembered


class RerunView(discord.ui.View):
    def __init__(self, client: StylebotClient, token: str) -> None:
        super().__init__(timeout=RERUN_TTL)
        self.client = client
        self.token = token
        for label, change in (("Stronger", "stronger"), ("Weaker", "weaker"),
                              ("Keep colours", "keep_colors")):
            button: discord.ui.Button[RerunView] = discord.ui.Button(
                label=label, custom_id=f"rr:{token}:{change}", style=discord.ButtonStyle.secondary)
            button.callback = self._callback(change)  # type: ignore[method-assign]
            self.add_item(button)

    def _callback(self, change: str):
        async def pressed(interaction: discord.Interaction) -> None:
            await self.rerun(interaction, change)
        return pressed

    async def rerun(self, interaction: discord.Interaction, change: str) -> None:
        core = self.client.core
        job = core.recent.get(self.token)
        if job is None:
            await interaction.response.send_message(
                "That picture is too old to re-run; start a new /stylize.", ephemeral=True)
            return
        if job.owner.platform != PLATFORM or job.owner.user_id != str(interaction.user.id):
            await interaction.response.send_message(
                "These buttons belong to whoever asked for this picture — try /stylize with "
                "your own photo and painting!", ephemeral=True)
            return
        choices = dataclasses.replace(job.choices, **nudged(job.choices, change))
        await interaction.response.defer(thinking=True)
        try:
            await self.client.start_for_interaction(interaction, job.content, job.style, choices)
        except PoolError as exc:
            await interaction.edit_original_response(content=f"⚠️ {exc}")
