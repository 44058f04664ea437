"""The message flow: mention the bot with one picture (the gallery's buttons answer), with
two pictures attached, or reply to a picture with a mention and one more picture (that one
is the painting).

Intents: Discord delivers the content and attachments of messages that mention the bot
(and of DMs) even without the privileged Message Content intent, so this flow works
without it. The one thing that needs it (``[discord] message_content = true``) is
seeing the picture in a message that is *replied to* when that message did not itself
mention the bot; without it the user is told to attach both pictures instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import discord

from nst_engine import InputImageError

from ...core.jobdesk import SLOW_DOWN, warning
from ...core.pairs import role_from_text
from ...core.service import HINT, RESTARTING
from ...core.uploads import refusal
from ...i18n import Speech, _
from ..client import StylebotClient
from ..common import author_of, fetch, reply_view
from ..media import is_image
from .gallery import gallery_view

NO_INTENT = _("I can't see the picture you replied to (I'd need Discord's Message Content "
              "permission for that). Attach both pictures to one message that mentions me, "
              "or use /stylize.")
HOW = _("Attach a photo to a message that mentions me and pick a painting — or attach the "
        "photo and then the painting, or use /stylize.")


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


def listener(client: StylebotClient) -> Callable[[discord.Message], Awaitable[None]]:
    async def on_message(message: discord.Message) -> None:
        if addressed(client, message):
            await on_mention(client, message)

    return on_message


async def on_mention(client: StylebotClient, message: discord.Message) -> None:
    core = client.core
    who = author_of(message)

    async def answer(speech: Speech) -> None:
        """Public replies to refusals are flood-guarded: a few per user per half minute."""
        if core.notice_allowed(who):
            await message.reply(await core.say(who, speech), mention_author=False)

    if not client.accepting:
        await answer(RESTARTING)
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
    elif images and core.gallery:
        await offer(client, message, images[0], answer)
        return
    elif message.attachments and not images:
        await answer(_("That isn't a picture I can use. {how}", how=HOW))
        return
    else:
        await answer(HOW if message.guild is not None else HINT)
        return
    if not all(core.uploads.allow(who) for _picture in wanted):  # before any download
        await answer(warning(SLOW_DOWN))
        return
    try:
        content, style = await asyncio.gather(fetch(client, wanted[0], who),
                                              fetch(client, wanted[1], who))
    except InputImageError as exc:
        await answer(warning(refusal(exc)))
        return
    refused = await core.jobs.submit(who, content, style, reply_view(message))
    if refused is not None:
        await answer(refused)


async def offer(client: StylebotClient, message: discord.Message,
                attachment: discord.Attachment,
                answer: Callable[[Speech], Awaitable[None]]) -> None:
    """One picture: it is the photo, and the reply offers the gallery's paintings."""
    core, who = client.core, author_of(message)
    if not core.uploads.allow(who):  # before the download
        await answer(warning(SLOW_DOWN))
        return
    try:
        photo = await fetch(client, attachment, who)
    except InputImageError as exc:
        await answer(warning(refusal(exc)))
        return
    gallery = core.pairs.offer(who, photo, message.id)
    await message.reply(await core.say(who, gallery.text), mention_author=False,
                        view=gallery_view(core.gallery, gallery.token, 0))


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
