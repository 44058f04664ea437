"""/cancel, /queue and /swap: the user's own jobs and pending pair."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from ..common import reply, sender, state


async def cancel_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    who = sender(message)
    async with state(context).locks(who.pair_key):  # after the pictures sent before it
        answer = state(context).core.cancel(who)
    await reply(context, message, answer)


async def queue_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    await reply(context, message, state(context).core.queue_report(sender(message)))


async def swap_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    who = sender(message)
    async with state(context).locks(who.pair_key):  # after the pictures sent before it
        answer = state(context).core.pairs.swap(who)
    await reply(context, message, answer)
