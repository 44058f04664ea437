"""The message flow: mention the bot with two pictures attached, or reply to a picture with
a mention and one more picture (that one is the painting).

Intents: Discord delivers the content and attachments of messages that mention the bot
(and of DMs) even without the privileged Message Content intent, so this flow works
without it. The one thing that needs it (``[discord] message_content = true``) is
seeing the picture in a message that is *replied to* when that message did not itself
mention the bot; without it the user is told to attach both pictures instead.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import discord

from nst_engine import InputImageError

from ..core.jobs import PoolError
from ..core.pending import role_from_text
from ..core.service import SLOW_DOWN
from .common import is_image, owner_of

if TYPE_CHECKING:
    from .app import StylebotClient

NO_INTENT = ("I can't see the picture you replied to (I'd need Discord's Message Content "
             "permission for that). Attach both pictures to one message that mentions me, or "
             "use /stylize.")
HOW = ("Attach two pictures — the photo, then the painting — to a message that mentions me, "
       "or use /stylize.")


def addressed(client: StylebotClient, message: discord.Message) -> bool:
    if message.author.bot or client.user is None:
        return False
    return message.guild is None or client.user in message.mentions


def ordered(message: discord.Message, images: list[discord.Attachment]) -> list[discord.Attachment]:
    """First is the photo unless a filename or the text says otherwise."""
    named = {role_from_text(a.filename.replace("_", " ").replace(".", " ")): a for a in images}
    if named.get("style") is not None and named.get("content") is not None:
        return [named["content"], named["style"]]
    if named.get("style") is images[0] or role_from_text(message.content) == "style":
        return [images[1], images[0]]
    return images[:2]


async def on_mention(client: StylebotClient, message: discord.Message) -> None:
    if not addressed(client, message):
        return
    core = client.core
    owner = owner_of(message.author)

    async def answer(text: str) -> None:
        """Public replies to refusals are flood-guarded: a few per user per half minute."""
        if core.notices.allow(f"discord:{message.author.id}"):
            await message.reply(text, mention_author=False)

    if not client.accepting:
        await answer("I'm restarting; please try again in a minute.")
        return
    images = [a for a in message.attachments if is_image(a)]
    replied = await referenced(message)
    if replied is not None and images:
        replied_images = [a for a in replied.attachments if is_image(a)]
        if not replied_images:
            await answer(NO_INTENT if not client.intents.message_content else HOW)
            return
        wanted = [replied_images[0], images[0]]
    elif len(images) >= 2:
        wanted = ordered(message, images)
    else:
        await answer(HOW if not message.attachments else "That isn't a picture I can use. " + HOW)
        return
    if not all(core.may_upload(owner) for _ in wanted):  # before any download
        await answer(f"⚠️ {SLOW_DOWN}")
        return
    try:
        content, style = await asyncio.gather(
            client.download(wanted[0], message.author, "photo"),
            client.download(wanted[1], message.author, "painting"))
    except InputImageError as exc:
        await answer(f"⚠️ {exc}")
        return
    choices = await core.choices(owner, message.guild.id if message.guild else None)
    try:
        await client.start_for_message(message, content, style, choices)
    except PoolError as exc:
        await answer(f"⚠️ {exc}")


async def referenced(message: discord.Message) -> discord.Message | None:
    reference = message.reference
    if reference is None or reference.message_id is None:
        return None
    if isinstance(reference.resolved, discord.Message):
        return reference.resolved
    try:
        return await message.channel.fetch_message(reference.message_id)
    except discord.HTTPException:
        return None
