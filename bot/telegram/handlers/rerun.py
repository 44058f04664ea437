"""The buttons under a result: paint the same pair again with one setting changed.

Only the person whose picture it is can use them; the style targets are still cached in
the painter, so a re-run skips the painting's analysis.
"""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import ContextTypes

from ...core.jobdesk import parse_rerun_id
from ..common import state, status_view, submission, who_of


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
    outcome: list[bool] = []

    async def rerun() -> None:
        text, started = await core.jobs.rerun(who, token, change,
                                              status_view(context, query.message))
        outcome.append(started)
        await query.answer(await core.say(who, text), show_alert=not started)

    refused = await submission(rerun())
    if refused is not None and not outcome:
        await query.answer(await core.say(who, refused), show_alert=True)
