"""Everything that is not a picture or a known command gets a short, friendly answer:
stickers, videos, voice, other files, unknown commands, and plain text in a private chat."""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import ContextTypes

from ...core.service import HINT
from ...i18n import Text, _
from ..common import notice, reply, sender
from ..media import addressed_to_bot


def what_it_is(message: Message) -> Text:
    if message.sticker:
        return _("Stickers can't be painted — send a photo (JPEG, PNG or WebP), then a "
                 "painting. /help explains more.")
    if message.video or message.animation or message.video_note:
        return _("I paint still pictures, not videos or GIFs — send a photo (JPEG, PNG or "
                 "WebP), then a painting. /help explains more.")
    if message.voice or message.audio:
        return _("I can't paint sounds — send a photo (JPEG, PNG or WebP), then a painting. "
                 "/help explains more.")
    if message.document:
        return _("{name} isn't a picture — send a photo (JPEG, PNG or WebP), then a painting. "
                 "/help explains more.", name=message.document.file_name or "?")
    return _("I need pictures — send a photo (JPEG, PNG or WebP), then a painting. /help "
             "explains more.")


async def not_an_image(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or message.from_user is None or \
            not addressed_to_bot(message, context.bot.id, context.bot.username):
        return
    await notice(context, message, what_it_is(message))


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or not message.text or message.from_user is None:
        return
    command, _sep, target = message.text.split()[0].partition("@")
    if sender(message).group and target.lower() != context.bot.username.lower():
        return  # "/foo" in a group may be for another bot
    await notice(context, message, _("I don't know {command}. Try /help, /stylize, /styles, "
                                     "/weights, /queue, /cancel or /swap.", command=command))


async def plain_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A private message that is neither a picture nor a command ("hello?")."""
    message = update.effective_message
    if message is None or message.from_user is None or sender(message).group:
        return
    await reply(context, message, HINT)
