"""A user sends pictures: one by one, as an album, or as a reply to another picture.

Images are downloaded and decoded as they arrive (so a bad file is reported at once) and
wait, per chat and user, for their partner; a complete pair becomes a job, and a lone
photo is offered the gallery.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial

from telegram import Message, Update
from telegram.ext import ContextTypes

from nst_engine import InputImageError

from ...core.jobdesk import SLOW_DOWN, warning
from ...core.pairs import Offered, role_from_text
from ...core.pictures import Picture
from ...core.uploads import refusal
from ...i18n import _
from ..common import notice, reply, sender, state, status_view, submission
from ..media import addressed_to_bot, download_picture, has_image
from .gallery import respond

Answer = Callable[[], Awaitable[object]]
ALBUM_TRIMMED = _("I used the first two pictures of the album: the first as the photo, the "
                  "second as the painting.")


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
    who = sender(first)
    core = state(context).core
    # Answers wait until the user's lock is released: a reply held up by a 429 must not
    # hold up their next picture or their /cancel.
    answers: list[Answer] = []
    if len(messages) > 2:  # only two are used, so only two are downloaded
        answers.append(partial(reply, context, messages[2], ALBUM_TRIMMED))
    # Holding the lock from before the download keeps the user's images (and commands
    # such as /cancel, which take it too) in the order they were sent.
    async with state(context).locks(who.pair_key):
        replied = photo_replied_to(first, context.bot.id)
        if replied is not None:  # a picture sent as a reply to a photo: that is the content
            content, style, *rest = await fetch(context, [replied, *messages[:2]], answers)
            if content is not None and style is not None:
                answer = await submission(core.jobs.submit(who, content, style,
                                                           status_view(context, first)))
                if answer is not None:
                    answers.append(partial(reply, context, first, answer))
            used = list(zip(messages[1:2], rest, strict=True))
        else:
            used = list(zip(messages[:2], await fetch(context, messages[:2], answers),
                            strict=True))
        offered = [Offered(picture, role_from_text(message.caption), message.message_id)
                   for message, picture in used if picture is not None]
        if offered:
            last = next(m for m, p in reversed(used) if p is not None)
            offer = await submission(core.pairs.take(who, offered, status_view(context, last)))
            if offer is not None:
                answers.append(partial(respond, context, last, offer))
    for answer_later in answers:
        await answer_later()


async def fetch(context: ContextTypes.DEFAULT_TYPE, messages: list[Message],
                answers: list[Answer]) -> list[Picture | None]:
    """Each message's picture, or None with an explanation queued; nothing is downloaded
    once the user is over their upload budget."""
    st = state(context)
    pictures: list[Picture | None] = []
    for index, message in enumerate(messages):
        who = sender(message)
        if not st.core.uploads.allow(who):
            answers.append(partial(notice, context, message, warning(SLOW_DOWN)))
            return pictures + [None] * (len(messages) - index)
        try:
            pictures.append(await download_picture(message, who, st.core, st.downloads,
                                                   local_mode=st.config.local_mode))
        except InputImageError as exc:
            answers.append(partial(notice, context, message, warning(refusal(exc))))
            pictures.append(None)
    return pictures


def photo_replied_to(message: Message, bot_id: int) -> Message | None:
    """The user's picture this message replies to, if any (not one of the bot's own)."""
    replied = message.reply_to_message
    if replied is None or not has_image(replied) or replied.from_user is None \
            or replied.from_user.id == bot_id:
        return None
    return replied


async def on_album(messages: list[Message], context: ContextTypes.DEFAULT_TYPE) -> None:
    """All items of an album, oldest first. In a group with privacy mode an album captioned
    /stylize arrives with only its first item: the pair then asks for the missing one."""
    by_user: dict[int, list[Message]] = {}
    for message in messages:
        if message.from_user is not None:
            by_user.setdefault(message.from_user.id, []).append(message)
    await asyncio.gather(*(take_images(items, context) for items in by_user.values()))
