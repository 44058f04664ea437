"""The buttons under a result: the same pair again, stronger, weaker, or in the photo's
colours. A dynamic item registered at startup handles every such button by its id, so
buttons keep working whichever process posted them. Only the requester's clicks count;
anyone else gets a private note."""

from __future__ import annotations

import re

import discord

from ...core.jobdesk import RERUN_PATTERN, rerun_id
from ..client import StylebotClient
from ..common import interaction_view, who_of


class RerunButton(discord.ui.DynamicItem[discord.ui.Button],  # type: ignore[call-arg]
                  template=RERUN_PATTERN):
    def __init__(self, token: str, change: str) -> None:
        super().__init__(discord.ui.Button(custom_id=rerun_id(token, change)))
        self.token, self.change = token, change

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item,
                             match: re.Match[str]) -> RerunButton:
        return cls(match["token"], match["change"])

    async def callback(self, interaction: discord.Interaction) -> None:
        client = interaction.client
        assert isinstance(client, StylebotClient)
        core, who = client.core, who_of(interaction)
        refused = core.jobs.rerun_refusal(who, self.token)
        if refused is not None:  # answered privately, without a public deferral
            await interaction.response.send_message(await core.say(who, refused),
                                                    ephemeral=True)
            return
        await interaction.response.defer(thinking=True)
        text, started = await core.jobs.rerun(who, self.token, self.change,
                                              interaction_view(interaction))
        if not started:
            await interaction.edit_original_response(content=await core.say(who, text))
