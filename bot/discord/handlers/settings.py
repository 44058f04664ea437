"""/weights show | set | reset | server: the same settings as on Telegram.

Options are typed from the one settings schema, with ranges and choices, so Discord
itself refuses values that do not fit; server defaults need the Manage Server permission.
"""

from __future__ import annotations

import inspect
from typing import Any

import discord
from discord import app_commands

from ...core.settings import SETTINGS
from ...i18n import _, _p
from ..client import StylebotClient
from ..common import tell_privately, who_of
from ..options import with_options
from ..translator import localised


def build(client: StylebotClient) -> app_commands.Group:
    core = client.core
    preferences = core.preferences
    group = app_commands.Group(name=localised(_p("command", "weights")),
                               description=localised(_("Your painting settings")))

    async def show(interaction: discord.Interaction) -> None:
        await tell_privately(interaction, await preferences.show(who_of(interaction)))

    async def set_(interaction: discord.Interaction, **chosen: Any) -> None:
        changes = {k: v for k, v in chosen.items() if v is not None}
        await tell_privately(interaction, await preferences.update(who_of(interaction), changes))

    async def reset(interaction: discord.Interaction) -> None:
        await tell_privately(interaction, await preferences.update(who_of(interaction), None))

    async def server(interaction: discord.Interaction, reset: bool = False,
                     **chosen: Any) -> None:
        who = who_of(interaction)
        changes = None if reset else {k: v for k, v in chosen.items() if v is not None}
        await tell_privately(interaction, await preferences.update(
            who, changes, "chat", admin=interaction.permissions.manage_guild))

    for name, description, callback in (
            (_p("command", "show"), _("Show your settings"), show),
            (_p("command", "set"), _("Change your settings"),
             with_options(set_, SETTINGS, preferences.limits)),
            (_p("command", "reset"), _("Back to the defaults"), reset),
            (_p("command", "server"), _("Server defaults (needs Manage Server)"),
             with_options(server, [s for s in SETTINGS if s.name != "language"],
                          preferences.limits, first=[inspect.Parameter(
                              "reset", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=False,
                              annotation=bool)],
                          more={"reset": _("forget this server's defaults")}))):
        group.add_command(app_commands.Command(name=localised(name),
                                               description=localised(description),
                                               callback=callback, parent=group))
    return group
