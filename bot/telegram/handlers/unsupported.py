"""Everything that is not a picture or a known command gets a short, friendly explanation."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from ..common import is_group, notice
from ..media import addressed_to_bot


async def not_an_image(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or not addressed_to_bot(message, context.bot.id, context.bot.username):
        return
    if message.sticker:
        what = "Stickers can't be painted"
    elif message.video or message.animation or message.video_note:
        what = "I paint still pictures, not videos or GIFs"
    elif message.voice or message.audio:
        what = "I can't paint sounds"
    elif message.document:
        what = f"{message.document.file_name or 'That file'} isn't a picture"
    else:
        what = "I need pictures"
    await notice(context, message, f"{what} — send a photo (JPEG, PNG or WebP), then a "
                 "painting. /help explains more.")


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or not message.text:
        return
    command, _, target = message.text.split()[0].partition("@")
    if is_group(message.chat) and target.lower() != context.bot.username.lower():
        return  # "/foo" in a group may be for another bot
    await notice(context, message, f"I don't know {command}. Try /help, /stylize, /weights, "
                 "/queue, /cancel or /swap.")
