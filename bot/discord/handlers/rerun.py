"""The buttons under a result: the same pair again, stronger, weaker, in the photo's
colours, bigger or in full quality — or "Other painting": the gallery again, privately.
A dynamic item registered at startup handles every such button by its id, and the pair
is kept on disk, so buttons keep working whichever process posted them, restarts
included; a click after they expired gets a short private note. Only the requester's
clicks count; anyone else gets a private note."""

from __future__ import annotations

import re

import discord

from ...core.jobdesk import OTHER_PAINTING, RERUN_PATTERN, rerun_id
from ..client import StylebotClient
from ..common import interaction_view, refuse, tell_privately, who_of
from .gallery import offer_gallery


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
        refused = await core.jobs.rerun_refusal(who, self.token)
        if refused is not None:  # answered privately, without a public deferral
            await tell_privately(interaction, refused)
            return
        if self.change == OTHER_PAINTING:
            await offer_gallery(interaction, await core.pairs.other(who, self.token))
            return
        await interaction.response.defer(thinking=True)
        text, started = await core.jobs.rerun(who, self.token, self.change,
                                              interaction_view(interaction))
        if not started:
            await refuse(interaction, await core.say(who, text))
