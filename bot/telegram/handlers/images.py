"""A user sends pictures: one by one, as an album, or as a reply to another picture.

Images are decoded as they arrive (so a bad file is reported at once) and wait, per
chat and user, for their partner; a complete pair becomes a job.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial

from PIL import Image
from telegram import Message, Update
from telegram.ext import ContextTypes

from nst_engine import InputImageError

from ...core.pending import PendingPair, role_from_text
from ..common import is_group, mention, notice, pending_key, reply, start_job, state
from ..media import addressed_to_bot, download_image, has_image

Answer = Callable[[], Awaitable[object]]


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
    # Answers wait until the user's lock is released: a reply held up by a 429 must not
    # hold up their next picture or their /cancel.
    answers: list[Answer] = []
    # Holding the lock from before the download keeps the user's images (and commands
    # such as /cancel, which take it too) in the order they were sent.
    async with st.locks(key):
        images: list[tuple[Message, Image.Image]] = []
        for message in messages:
            try:
                images.append((message, await download_image(
                    message, st.core.config.limits, "picture", local_mode=st.config.local_mode)))
            except InputImageError as exc:
                answers.append(partial(notice, context, message, f"⚠️ {exc}"))
        replied = first.reply_to_message
        if images and replied is not None and has_image(replied) \
                and replied.from_user is not None and replied.from_user.id != context.bot.id:
            await pair_with_replied(context, replied, images[0], answers)
            images = images[1:]
        if images:
            await pair_up(context, key, images, answers)
    for answer in answers:
        await answer()


async def pair_up(context: ContextTypes.DEFAULT_TYPE, key: tuple[str, str, str],
                  images: list[tuple[Message, Image.Image]],
                  answers: list[Answer]) -> None:
    """Add the pictures to the user's pending pair; a complete pair becomes a job."""
    pending = state(context).core.pending
    pair: PendingPair | None = None
    for message, image in images[:2]:
        pair = pending.add(key, image, role_from_text(message.caption), order=message.message_id)
    assert pair is not None
    if len(images) > 2:
        answers.append(partial(reply, context, images[-1][0], "I used the first two pictures "
                               "of the album: the first as the photo, the second as the painting."))
    last = images[min(len(images), 2) - 1][0]
    if pair.complete:
        pending.pop(key)
        assert pair.content is not None and pair.style is not None
        await start_job(context, last, last.from_user, pair.content, pair.style,
                        reply_to=pair.reply_to)
    else:
        answers.append(partial(ask_for_missing, context, last, pair))


async def pair_with_replied(context: ContextTypes.DEFAULT_TYPE, replied: Message,
                            style: tuple[Message, Image.Image],
                            answers: list[Answer]) -> None:
    """A picture sent as a reply to another picture: the replied-to one is the photo."""
    message, style_image = style
    try:
        content = await download_image(replied, state(context).core.config.limits, "photo",
                                       local_mode=state(context).config.local_mode)
    except InputImageError as exc:
        answers.append(partial(notice, context, message, f"⚠️ {exc}"))
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
