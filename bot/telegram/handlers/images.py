"""A user sends pictures: one by one, as an album, or as a reply to another picture.

Images are decoded as they arrive (so a bad file is reported at once) and wait, per
chat and user, for their partner; a complete pair becomes a job.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial

from telegram import Message, Update
from telegram.ext import ContextTypes

from nst_engine import InputImageError

from ...core.pending import PendingPair, role_from_text
from ...core.pictures import Picture
from ...core.service import SLOW_DOWN
from ..common import (
    is_group,
    mention,
    notice,
    owner_of,
    pending_key,
    reply,
    start_job,
    state,
)
from ..media import addressed_to_bot, download_picture, has_image

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
    key = pending_key(first)
    # Answers wait until the user's lock is released: a reply held up by a 429 must not
    # hold up their next picture or their /cancel.
    answers: list[Answer] = []
    if len(messages) > 2:  # only two are used, so only two are downloaded
        answers.append(partial(reply, context, messages[2], "I used the first two pictures "
                               "of the album: the first as the photo, the second as the painting."))
    # Holding the lock from before the download keeps the user's images (and commands
    # such as /cancel, which take it too) in the order they were sent.
    async with state(context).locks(key):
        replied = photo_replied_to(first, context.bot.id)
        if replied is not None:  # a picture sent as a reply to a photo: that is the content
            content, style, *rest = await fetch(context, [replied, *messages[:2]], answers)
            if content is not None and style is not None:
                await start_job(context, first, first.from_user, content, style)
            used = list(zip(messages[1:2], rest, strict=True))
        else:
            used = list(zip(messages[:2], await fetch(context, messages[:2], answers),
                            strict=True))
        images = [(message, picture) for message, picture in used if picture is not None]
        if images:
            await pair_up(context, key, images, answers)
    for answer in answers:
        await answer()


async def fetch(context: ContextTypes.DEFAULT_TYPE, messages: list[Message],
                answers: list[Answer]) -> list[Picture | None]:
    """Each message's picture, or None with an explanation queued; nothing is downloaded
    once the user is over their upload budget."""
    st = state(context)
    pictures: list[Picture | None] = []
    for index, message in enumerate(messages):
        owner = owner_of(message.from_user) if message.from_user else None
        if owner is None or not st.core.may_upload(owner):
            answers.append(partial(notice, context, message, f"⚠️ {SLOW_DOWN}"))
            return pictures + [None] * (len(messages) - index)
        what = "photo" if index == 0 and len(messages) > 1 else "picture"
        try:
            pictures.append(await download_picture(message, owner, st.core, st.downloads, what,
                                                   local_mode=st.config.local_mode))
        except InputImageError as exc:
            answers.append(partial(notice, context, message, f"⚠️ {exc}"))
            pictures.append(None)
    return pictures


async def pair_up(context: ContextTypes.DEFAULT_TYPE, key: tuple[str, str, str],
                  images: list[tuple[Message, Picture]], answers: list[Answer]) -> None:
    """Add the pictures to the user's pending pair; a complete pair becomes a job."""
    pending = state(context).core.pending
    pair: PendingPair | None = None
    for message, picture in images:
        pair = pending.add(key, picture, role_from_text(message.caption),
                           order=message.message_id)
    assert pair is not None
    last = images[-1][0]
    if pair.complete:
        pending.pop(key)
        assert pair.content is not None and pair.style is not None
        await start_job(context, last, last.from_user, pair.content, pair.style,
                        reply_to=pair.reply_to)
    else:
        answers.append(partial(ask_for_missing, context, last, pair))


def photo_replied_to(message: Message, bot_id: int) -> Message | None:
    """The user's picture this message replies to, if any (not one of the bot's own)."""
    replied = message.reply_to_message
    if replied is None or not has_image(replied) or replied.from_user is None \
            or replied.from_user.id == bot_id:
        return None
    return replied


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
