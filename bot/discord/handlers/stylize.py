"""/stylize content:<image> style:<image> [strength] [size] [preset]."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
from typing import Any

import discord
from discord import app_commands

from nst_engine import InputImageError

from ...core.jobdesk import SLOW_DOWN, warning
from ...core.settings import BY_NAME
from ...core.uploads import refusal
from ...i18n import _, _p
from ..client import StylebotClient
from ..common import fetch, interaction_view, refuse, who_of
from ..media import check_attachment
from ..options import with_options
from ..translator import localised

#: the settings /stylize takes for this one picture
OPTIONS = ("strength", "size", "preset")


def build(client: StylebotClient) -> app_commands.Command:
    core = client.core

    async def stylize(interaction: discord.Interaction, content: discord.Attachment,
                      style: discord.Attachment, **chosen: Any) -> None:
        who = who_of(interaction)

        async def private(speech: Any) -> None:
            await interaction.response.send_message(await core.say(who, speech),
                                                    ephemeral=True)

        if not client.accepting:
            await private(_("I'm restarting; please try again in a minute."))
            return
        try:  # metadata only: the answer can still be private
            check_attachment(content, core.uploads.max_bytes)
            check_attachment(style, core.uploads.max_bytes)
        except InputImageError as exc:
            core.uploads.refused(exc)
            await private(warning(refusal(exc)))
            return
        if not (core.uploads.allow(who) and core.uploads.allow(who)):  # both, before download
            await private(warning(SLOW_DOWN))
            return
        await interaction.response.defer(thinking=True)  # well inside the 3 s window
        try:
            pictures = await asyncio.gather(fetch(client, content, who),
                                            fetch(client, style, who))
        except InputImageError as exc:
            await refuse(interaction, await core.say(who, warning(refusal(exc))))
            return
        settings = dataclasses.replace(
            await core.preferences.of(who), **{k: v for k, v in chosen.items() if v is not None})
        refused = await core.jobs.submit(who, *pictures, interaction_view(interaction),
                                         settings=settings)
        if refused is not None:
            await refuse(interaction, await core.say(who, refused))

    attachments = [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                     annotation=discord.Attachment)
                   for name in ("content", "style")]
    callback = with_options(stylize, [BY_NAME[name] for name in OPTIONS],
                            core.preferences.limits, first=attachments,
                            more={"content": _("the photo to paint"),
                                  "style": _("the painting whose style to use")})
    return app_commands.Command(name=localised(_p("command", "stylize")),
                                description=localised(_("Paint a photo in the style of a "
                                                        "painting")),
                                callback=callback)
