"""The gallery on Discord: painting buttons under a photo (a mention with one picture, or
"Other painting" under a result), picks that start the job at once, /styles with every
painting in one numbered picture, and the autocomplete of /stylize's painting option.

Picks and pages are dynamic items registered at startup: their ids carry the kept
photo's token, so they work whichever process posted them, restarts included. Only the
photo's owner may use them; anyone else gets a private note.
"""

from __future__ import annotations

import io
import re

import discord
from discord import app_commands

from ...core.gallery import (
    PAGE_PATTERN,
    PICK_PATTERN,
    Gallery,
    GalleryOffer,
    page_id,
    pick_id,
)
from ...i18n import Speech, _, _p
from ..client import StylebotClient
from ..common import interaction_view, refuse, tell_privately, who_of
from ..status import RESULT_COLOUR
from ..translator import localised

#: paintings per page: four rows of five, the fifth row for ◀ ▶
PER_PAGE = 20
#: Discord's limits: a button's label, an autocomplete choice's name
LABEL = 80
CHOICE = 100
TITLE = _("🖼 The gallery")
HOW_TO_PICK = _("Pick one with /{stylize} painting: — or mention me in a message with a "
                "photo, and the buttons do the rest.", stylize=_p("command", "stylize"))
NO_GALLERY = _("There is no gallery here: attach your own painting with /{stylize} style:.",
               stylize=_p("command", "stylize"))


def gallery_view(gallery: Gallery, token: str, page: int) -> discord.ui.View:
    """A button per painting on ``page`` (titles: names, not translated), then ◀ ▶."""
    paintings, page, pages = gallery.page(page, PER_PAGE)
    view = discord.ui.View(timeout=None)
    for painting in paintings:
        view.add_item(discord.ui.Button(label=painting.title[:LABEL],
                                        custom_id=pick_id(token, painting.key)))
    for label, target in (("◀", page - 1), ("▶", page + 1)):
        if 0 <= target < pages:
            view.add_item(discord.ui.Button(label=label, custom_id=page_id(token, target),
                                            style=discord.ButtonStyle.secondary, row=4))
    return view


async def offer_gallery(interaction: discord.Interaction, offer: Speech | GalleryOffer) -> None:
    """Answer privately: the gallery for a kept photo, or why not."""
    core = interaction.client.core  # type: ignore[attr-defined]
    who = who_of(interaction)
    if isinstance(offer, GalleryOffer):
        await interaction.response.send_message(
            await core.say(who, offer.text), view=gallery_view(core.gallery, offer.token, 0),
            ephemeral=True)
    else:
        await tell_privately(interaction, offer)


class GalleryPick(discord.ui.DynamicItem[discord.ui.Button],  # type: ignore[call-arg]
                  template=PICK_PATTERN):
    def __init__(self, token: str, key: str) -> None:
        super().__init__(discord.ui.Button(custom_id=pick_id(token, key)))
        self.token, self.key = token, key

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item,
                             match: re.Match[str]) -> GalleryPick:
        return cls(match["token"], match["key"])

    async def callback(self, interaction: discord.Interaction) -> None:
        client = interaction.client
        assert isinstance(client, StylebotClient)
        core, who = client.core, who_of(interaction)
        refused = await core.pairs.pick_refusal(who, self.token)
        if refused is not None:  # answered privately, without a public deferral
            await tell_privately(interaction, refused)
            return
        await interaction.response.defer(thinking=True)
        text, started = await core.pairs.pick(who, self.token, self.key,
                                              interaction_view(interaction))
        if not started:
            await refuse(interaction, await core.say(who, text))


class GalleryPage(discord.ui.DynamicItem[discord.ui.Button],  # type: ignore[call-arg]
                  template=PAGE_PATTERN):
    def __init__(self, token: str, page: int) -> None:
        super().__init__(discord.ui.Button(custom_id=page_id(token, page)))
        self.token, self.page = token, page

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item,
                             match: re.Match[str]) -> GalleryPage:
        return cls(match["token"], int(match["page"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        client = interaction.client
        assert isinstance(client, StylebotClient)
        core, who = client.core, who_of(interaction)
        refused = await core.pairs.pick_refusal(who, self.token)
        if refused is not None:
            await tell_privately(interaction, refused)
            return
        await interaction.response.edit_message(
            view=gallery_view(core.gallery, self.token, self.page))


async def painting_choices(interaction: discord.Interaction,
                           current: str) -> list[app_commands.Choice[str]]:
    """/stylize painting: the gallery's paintings matching what is typed (at most 25)."""
    gallery: Gallery = interaction.client.core.gallery  # type: ignore[attr-defined]
    return [app_commands.Choice(name=p.credit[:CHOICE], value=p.key)
            for p in gallery.search(current)]


def build(client: StylebotClient) -> app_commands.Command:
    """/styles: every painting in one numbered picture, with the list, privately."""
    core = client.core

    async def styles(interaction: discord.Interaction) -> None:
        who = who_of(interaction)
        gallery = core.gallery
        if not gallery:
            await tell_privately(interaction, NO_GALLERY)
            return
        listing = "\n".join(f"**{gallery.number(p)}.** {p.credit}" for p in gallery.paintings)
        embed = discord.Embed(title=await core.say(who, TITLE), description=listing[:4096],
                              colour=RESULT_COLOUR)
        embed.set_image(url="attachment://gallery.jpg")
        embed.set_footer(text=await core.say(who, HOW_TO_PICK))
        await interaction.response.send_message(
            embed=embed, file=discord.File(io.BytesIO(gallery.sheet), "gallery.jpg"),
            ephemeral=True)

    return app_commands.Command(name=localised(_p("command", "styles")),
                                description=localised(_("The paintings you can pick from")),
                                callback=styles)
