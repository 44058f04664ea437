"""/stylize: start a pair. In groups the bot answers with a prompt to reply to, because in
privacy mode it only sees replies to its own messages."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from ..common import is_group, mention, pending_key, reply, state
from ..media import has_image
from .images import Answer, ask_for_missing, fetch, take_images


async def stylize_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    if has_image(message):  # a picture captioned /stylize
        await take_images([message], context)
        return
    st = state(context)
    replied = message.reply_to_message
    if has_image(replied):  # /stylize as a reply to a photo: that photo is the content
        assert replied is not None
        answers: list[Answer] = []
        key = pending_key(message)
        async with st.locks(key):
            [photo] = await fetch(context, [replied], answers)
            pair = (st.core.pending.add(key, photo, "content", order=replied.message_id)
                    if photo is not None else None)
        for answer in answers:
            await answer()
        if pair is not None:
            await ask_for_missing(context, message, pair)
        return
    if is_group(message.chat):
        await reply(context, message, f"{mention(message.from_user)}: reply to this message "
                    "with two pictures — first the photo, then the painting whose style you want "
                    "(or both at once as an album).")
    else:
        await reply(context, message, "Send me a photo, then the painting whose style you want "
                    "(or both at once as an album).")
