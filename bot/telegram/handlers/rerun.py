"""The buttons under a result: re-run the same pair with one setting changed.

Only the person whose picture it is can use them; the style targets are still cached in
the worker, so a re-run skips the painting's analysis.
"""

from __future__ import annotations

import dataclasses

from telegram import Message, Update
from telegram.ext import ContextTypes

from ...core.choices import nudged
from ..common import PLATFORM, start_job, state


async def rerun_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None or query.data is None:
        return
    _, token, change = query.data.split(":", 2)
    job = state(context).core.recent.get(token)
    if job is None:
        await query.answer("That picture is too old to re-run; send the pair again.",
                           show_alert=True)
        return
    if job.owner.platform != PLATFORM or job.owner.user_id != str(query.from_user.id):
        await query.answer("These buttons belong to whoever asked for this picture. Send your "
                           "own photo and painting to try!", show_alert=True)
        return
    choices = dataclasses.replace(job.choices, **nudged(job.choices, change))
    await query.answer(f"Again with {choices.summary()}")
    if isinstance(query.message, Message):
        await start_job(context, query.message, query.from_user, job.content, job.style,
                        choices=choices)
