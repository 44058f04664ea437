"""/stylize content:<image> [style:<image>] [painting:<name>] [strength] [size] [preset]:
the painting is either attached (style) or picked from the gallery (painting, with
autocomplete) — exactly one of the two."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
from typing import Any

import discord
from discord import app_commands

from nst_engine import InputImageError

from ...core.jobdesk import SLOW_DOWN, warning
from ...core.service import RESTARTING
from ...core.settings import BY_NAME
from ...core.uploads import refusal
from ...i18n import _, _p
from ..client import StylebotClient
from ..common import fetch, interaction_view, refuse, tell_privately, who_of
from ..media import check_attachment
from ..options import with_options
from ..translator import localised
from .gallery import painting_choices

#: the settings /stylize takes for this one picture
OPTIONS = ("strength", "size", "preset")
ONE_PAINTING = _("Add the painting in one way: attach it as style:, or pick one from the "
                 "gallery with painting:.")


def build(client: StylebotClient) -> app_commands.Command:
    core = client.core

    async def stylize(interaction: discord.Interaction, content: discord.Attachment,
                      style: discord.Attachment | None = None, painting: str | None = None,
                      **chosen: Any) -> None:
        who = who_of(interaction)
        if not client.accepting:
            await tell_privately(interaction, RESTARTING)
            return
        if (style is None) == (painting is None):
            await tell_privately(interaction, warning(ONE_PAINTING))
            return
        picked = core.gallery.find(painting) if painting is not None else None
        if painting is not None and picked is None:
            await tell_privately(interaction, warning(_(
                "I don't know the painting “{name}”: pick one from the list, or see "
                "/{styles}.", name=painting, styles=_p("command", "styles"))))
            return
        uploads = [content] if style is None else [content, style]
        try:  # metadata only: the answer can still be private
            for attachment in uploads:
                check_attachment(attachment, core.uploads.max_bytes)
        except InputImageError as exc:
            core.uploads.refused(exc)
            await tell_privately(interaction, warning(refusal(exc)))
            return
        if not all(core.uploads.allow(who) for _upload in uploads):  # before any download
            await tell_privately(interaction, warning(SLOW_DOWN))
            return
        await interaction.response.defer(thinking=True)  # well inside the 3 s window
        try:
            pictures = await asyncio.gather(*(fetch(client, a, who) for a in uploads))
        except InputImageError as exc:
            await refuse(interaction, await core.say(who, warning(refusal(exc))))
            return
        settings = dataclasses.replace(
            await core.preferences.of(who), **{k: v for k, v in chosen.items() if v is not None})
        refused = await core.jobs.submit(
            who, pictures[0], picked.picture if picked is not None else pictures[1],
            interaction_view(interaction), settings=settings, painting=picked)
        if refused is not None:
            await refuse(interaction, await core.say(who, refused))

    first = [inspect.Parameter("content", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                               annotation=discord.Attachment),
             inspect.Parameter("style", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None,
                               annotation=discord.Attachment | None),
             inspect.Parameter("painting", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                               default=None, annotation=str | None)]
    callback = with_options(stylize, [BY_NAME[name] for name in OPTIONS],
                            core.preferences.limits, first=first,
                            more={"content": _("the photo to paint"),
                                  "style": _("the painting whose style to use"),
                                  "painting": _("or a painting from the gallery (/styles)")})
    callback = app_commands.autocomplete(painting=painting_choices)(callback)
    return app_commands.Command(name=localised(_p("command", "stylize")),
                                description=localised(_("Paint a photo in the style of a "
                                                        "painting")),
                                callback=callback)
