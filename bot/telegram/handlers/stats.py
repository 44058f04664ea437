"""/stats: the bot's numbers for its owners ([telegram] admin_ids)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from ..common import reply, sender, state


async def stats_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    await reply(context, message, state(context).core.stats(sender(message)))
