"""/stylize: start a pair. In groups the bot answers with a prompt to reply to, because in
privacy mode it only sees replies to its own messages."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from ...i18n import _
from ..common import reply, sender, state
from ..media import has_image
from .gallery import respond
from .images import Answer, fetch, take_images

PRIVATE_PROMPT = _("Send me a photo, then pick a painting from the buttons — or send your own "
                   "painting (or both at once as an album).")


async def stylize_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    if has_image(message):  # a picture captioned /stylize
        await take_images([message], context)
        return
    who = sender(message)
    replied = message.reply_to_message
    if replied is not None and has_image(replied):  # that photo is the content
        answers: list[Answer] = []
        async with state(context).locks(who.pair_key):
            [photo] = await fetch(context, [replied], answers)
            held = (state(context).core.pairs.hold_photo(who, photo, replied.message_id)
                    if photo is not None else None)
        for answer in answers:
            await answer()
        if held is not None:
            await respond(context, message, held)
        return
    if who.group:
        await reply(context, message, _(
            "{who}: reply to this message with a photo, then pick a painting from the buttons "
            "— or send your painting too (or both at once as an album).", who=who.mention))
    else:
        await reply(context, message, PRIVATE_PROMPT)
