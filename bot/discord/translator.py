"""Command names, descriptions and choice labels in each user's Discord language, from
the same catalogs as every message (discord.py asks at sync time, per locale)."""

from __future__ import annotations

import discord
from discord import app_commands

from ..i18n import SOURCE, Text, best_language, render


def localised(text: Text) -> app_commands.locale_str:
    """A command's name, description or choice label: English for Discord's default, the
    Text itself for the translator."""
    return app_commands.locale_str(render(text, SOURCE), text=text)


class CatalogTranslator(app_commands.Translator):
    async def translate(self, string: app_commands.locale_str, locale: discord.Locale,
                        context: app_commands.TranslationContextTypes) -> str | None:
        text = string.extras.get("text")
        language = best_language(str(locale))
        if not isinstance(text, Text) or language == SOURCE:
            return None  # Discord shows the English default
        translated = render(text, language)
        return translated if translated != string.message else None
