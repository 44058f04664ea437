"""Sharing in one tap: typing the bot's @name in any chat (or the Share button under a
result, which opens Telegram's chat picker with it) lists the user's own recent results,
each with a short credit line, to post there.

Results are listed by the file_id Telegram gave them when they were posted, so nothing is
uploaded again. Inline mode must be switched on for the bot with @BotFather
(/setinline); without it Telegram never sends the queries.
"""

from __future__ import annotations

from telegram import InlineQueryResultCachedPhoto, InlineQueryResultsButton, Update
from telegram.ext import ContextTypes

from ...i18n import _, render
from ..common import asker, state

#: Telegram shows at most 50 results per answer
MAX_RESULTS = 50
#: seconds Telegram may reuse an answer: short, new results come often (and only for them:
#: answers are personal)
CACHE_SECONDS = 5
PAINT_ONE = _("🎨 Paint a new picture")


async def inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.inline_query
    if query is None:
        return
    core = state(context).core
    who = asker(query.from_user)
    language = await core.preferences.language(who)
    found = await core.shared(who, f"@{context.bot.username}", query.query)
    results = [InlineQueryResultCachedPhoto(id=token, photo_file_id=photo,
                                            caption=render(credit, language))
               for token, photo, credit in found[:MAX_RESULTS]]
    await query.answer(results, cache_time=CACHE_SECONDS, is_personal=True,
                       button=InlineQueryResultsButton(render(PAINT_ONE, language),
                                                       start_parameter="paint"))
