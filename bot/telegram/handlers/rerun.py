"""The buttons under a result: paint the same pair again with one setting changed, or
"Other painting": the gallery again for the same photo.

Only the person whose picture it is can use them; the pair is kept on disk, so they work
for days and after restarts, and a click after that gets a short note. The style targets
are still cached in the painter, so a re-run skips the painting's analysis.
"""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import ContextTypes

from ...core.gallery import GalleryOffer
from ...core.jobdesk import OTHER_PAINTING, parse_rerun_id
from ..common import answer_press, state, status_view, who_of
from .gallery import respond


async def rerun_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None or query.data is None or not isinstance(query.message, Message):
        return
    parsed = parse_rerun_id(query.data)
    if parsed is None:
        return
    token, change = parsed
    core = state(context).core
    who = who_of(query.from_user, query.message.chat)
    if change == OTHER_PAINTING:
        offer = await core.pairs.other(who, token)
        if not isinstance(offer, GalleryOffer):
            await query.answer(await core.say(who, offer), show_alert=True)
            return
        await query.answer()
        await respond(context, query.message, offer, who=who)
        return
    await answer_press(context, query, who, core.jobs.rerun(
        who, token, change, status_view(context, query.message)))
