"""/stats: the bot's numbers for its owners ([telegram] admin_ids)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from ...core.metrics import describe
from ..common import notice, reply, state


async def stats_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    st = state(context)
    if message.from_user.id not in st.config.admin_ids:
        await notice(context, message, "/stats is for the bot's owners.")
        return
    await reply(context, message, describe(st.core.metrics.snapshot(), st.core.started))
