"""/help."""

from __future__ import annotations

import discord
from discord import app_commands

from ...i18n import _, _p
from ..common import who_of
from ..translator import localised

#: the commands as this user's Discord client names them
NAMES = {name: _p("command", name) for name in ("stylize", "styles", "weights", "show", "set",
                                                  "reset", "server", "queue", "cancel")}
HELP = _("""🎨 **Stylebot** paints a photo in the style of a painting.
• `/{stylize} content:<photo> painting:<name>` — a painting from the gallery (`/{styles}` \
shows them all), or `style:<painting>` for your own; optional `strength` (0–10), `size`, \
`preset` (`fast` answers in about a second).
• Or mention me in a message with a photo and pick a painting from the buttons — or \
attach two pictures (photo first), or reply to a picture with a mention and the painting.
• Under every result: buttons to paint it again stronger, weaker, bigger, in your \
photo's colours or with another painting.
• `/{weights} {show}|{set}|{reset}` — your settings, `language` included · `/{queue}` · \
`/{cancel}`.
Server admins: `/{weights} {server}` sets defaults for everyone here.""", **NAMES)


def build() -> app_commands.Command:
    async def help_command(interaction: discord.Interaction) -> None:
        client = interaction.client
        text = await client.core.say(who_of(interaction), HELP)  # type: ignore[attr-defined]
        await interaction.response.send_message(text, ephemeral=True)

    return app_commands.Command(name=localised(_p("command", "help")),
                                description=localised(_("How Stylebot works")),
                                callback=help_command)
