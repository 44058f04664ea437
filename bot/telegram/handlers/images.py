"""A user sends pictures: one by one, as an album, or as a reply to another picture.

Images are decoded as they arrive (so a bad file is reported at once) and wait, per
chat and user, for their partner; a complete pair becomes a job.
"""

from __future__ import annotations

import asyncio

from PIL import Image
from telegram import Message, Update
from telegram.ext import ContextTypes

from nst_engine import InputImageError

from ...core.pending import PendingPair, role_from_text
from ..common import is_group, mention, notice, pending_key, reply, start_job, state
from ..media import addressed_to_bot, download_image, has_image

WHAT = {"content": "photo", "style": "painting"}


async def on_image(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    if message.media_group_id:
        context.bot_data["albums"].add(message)
        return
    if not addressed_to_bot(message, context.bot.id, context.bot.username):
        return  # a group photo that isn't for us (privacy mode off, or we are admin)
    await take_images([message], context)


async def take_images(messages: list[Message], context: ContextTypes.DEFAULT_TYPE) -> None:
    """Handle the images of one message, or of one album, from one user."""
    first = messages[0]
    if not any(addressed_to_bot(m, context.bot.id, context.bot.username) for m in messages):
        return
    st = state(context)
    key = pending_key(first)
    # Holding the user's lock from before the download keeps their images in order.
    async with st.locks[key]:
        images: list[tuple[Message, Image.Image]] = []
        for message in messages:
            try:
                images.append((message, await download_image(
                    message, st.core.config.limits, "picture", local_mode=st.config.local_mode)))
            except InputImageError as exc:
                await notice(context, message, f"⚠️ {exc}")
        if not images:
            return
        replied = first.reply_to_message
        if replied is not None and has_image(replied) and replied.from_user is not None \
                and replied.from_user.id != context.bot.id:
            await pair_with_replied(context, replied, images[0])
            images = images[1:]
            if not images:
                return
        pair: PendingPair | None = None
        for message, image in images[:2]:
            pair = st.core.pending.add(key, image, role_from_text(message.caption),
                                       order=message.message_id)
        if len(images) > 2:
            await reply(context, images[-1][0], "I used the first two pictures of the album: "
                        "the first as the photo, the second as the painting.")
        assert pair is not None
        last = images[min(len(images), 2) - 1][0]
        if pair.complete:
            st.core.pending.pop(key)
            assert pair.content is not None and pair.style is not None
            await start_job(context, last, last.from_user, pair.content, pair.style,
                            reply_to=pair.reply_to)
        else:
            await ask_for_missing(context, last, pair)


async def pair_with_replied(context: ContextTypes.DEFAULT_TYPE, replied: Message,
                            style: tuple[Message, Image.Image]) -> None:
    """A picture sent as a reply to another picture: the replied-to one is the photo."""
    message, style_image = style
    try:
        content = await download_image(replied, state(context).core.config.limits, "photo",
                                       local_mode=state(context).config.local_mode)
    except InputImageError as exc:
        await notice(context, message, f"⚠️ {exc}")
        return
    await start_job(context, message, message.from_user, content, style_image)


async def ask_for_missing(context: ContextTypes.DEFAULT_TYPE, message: Message,
                          pair: PendingPair) -> None:
    group = is_group(message.chat)
    how = " Reply to this message with it." if group else ""
    who = f"{mention(message.from_user)}: " if group else ""
    if pair.missing == "style":
        text = (f"{who}Got the photo 👍 Now send the painting whose style you want.{how} "
                "(/swap if I mixed them up.)")
    else:
        text = f"{who}Got the painting 🎨 Now send the photo to paint.{how}"
    await reply(context, message, text)


async def on_album(messages: list[Message], context: ContextTypes.DEFAULT_TYPE) -> None:
    """All items of an album, oldest first. In a group with privacy mode an album captioned
    /stylize arrives with only its first item: the pair then asks for the missing one."""
    by_user: dict[int, list[Message]] = {}
    for message in messages:
        if message.from_user is not None:
            by_user.setdefault(message.from_user.id, []).append(message)
    await asyncio.gather(*(take_images(items, context) for items in by_user.values()))
