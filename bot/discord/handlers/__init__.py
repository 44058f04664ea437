"""Discord's handlers: slash commands, the mention flow and the re-run buttons — one
module each, like Telegram's."""

from __future__ import annotations

from ..client import StylebotClient
from ..translator import CatalogTranslator
from . import gallery, images, jobs, rerun, settings, stats, stylize
from . import help as help_command


async def setup(client: StylebotClient) -> None:
    """Everything the client answers, registered before the command tree is synced."""
    await client.tree.set_translator(CatalogTranslator())
    for command in (stylize.build(client), gallery.build(client), settings.build(client),
                    *jobs.build(client), help_command.build(), stats.build(client)):
        client.tree.add_command(command)
    client.add_dynamic_items(rerun.RerunButton, gallery.GalleryPick, gallery.GalleryPage)
    client.event(images.listener(client))
