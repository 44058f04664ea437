"""What the Discord handlers share: who is talking (and in which language), downloading
attachments, and the status of a job — an interaction's response or a reply."""

from __future__ import annotations

import discord

from ..core.jobdesk import JobStart, ViewFactory
from ..core.pictures import Picture
from ..core.who import Who
from ..i18n import Speech, render
from .client import StylebotClient
from .media import download
from .status import DiscordStatusView, MessageTarget

PLATFORM = "discord"


def who_of(interaction: discord.Interaction) -> Who:
    """The user of an interaction, with their Discord client's language."""
    guild = interaction.guild_id
    return Who(PLATFORM, str(interaction.user.id), str(interaction.channel_id),
               guild is not None, locale=str(interaction.locale),
               mention=interaction.user.mention, community=str(guild) if guild else "")


def author_of(message: discord.Message) -> Who:
    """A message's author; messages carry no language, so the server's is the guess."""
    guild = message.guild
    return Who(PLATFORM, str(message.author.id), str(message.channel.id), guild is not None,
               locale=str(guild.preferred_locale) if guild is not None else None,
               mention=message.author.mention, community=str(guild.id) if guild else "")


async def say(client: StylebotClient, who: Who, speech: Speech) -> str:
    return await client.core.say(who, speech)


async def tell_privately(interaction: discord.Interaction, speech: Speech) -> None:
    """Answer ``interaction`` with ``speech`` in its user's language, seen only by them."""
    client = interaction.client
    assert isinstance(client, StylebotClient)
    await interaction.response.send_message(
        await client.core.say(who_of(interaction), speech), ephemeral=True)


async def fetch(client: StylebotClient, attachment: discord.Attachment, who: Who) -> Picture:
    assert client.downloads is not None, "set up at login"
    return await download(attachment, who, client.core, client.downloads)


def upload_limit(guild: discord.Guild | None) -> int:
    """The most a message may carry in a channel (interactions carry their own limit)."""
    if guild is None:
        return discord.utils.DEFAULT_FILE_SIZE_LIMIT_BYTES
    return guild.filesize_limit


def interaction_view(interaction: discord.Interaction) -> ViewFactory:
    """A job whose status is ``interaction``'s (already deferred) response."""

    async def make(start: JobStart) -> DiscordStatusView:
        view = DiscordStatusView.for_interaction(interaction, start)
        await view.show_first()
        return view

    return make


def reply_view(message: discord.Message) -> ViewFactory:
    """A job whose status is a reply to ``message``."""

    async def make(start: JobStart) -> DiscordStatusView:
        status = await message.reply(render(start.first, start.language), mention_author=False)
        return DiscordStatusView(MessageTarget(status), start, channel=message.channel,
                                 requester=message.author,
                                 upload_limit=upload_limit(message.guild))

    return make


async def refuse(interaction: discord.Interaction, text: str) -> None:
    """Replace a public "thinking…" with a private explanation.

    After a public deferral Discord makes the first follow-up public too, so the deferred
    message is completed first, then the explanation follows privately, then the public
    placeholder goes away.
    """
    await interaction.edit_original_response(content="⚠️")
    await interaction.followup.send(text, ephemeral=True)
    await interaction.delete_original_response()
