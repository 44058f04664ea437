"""/start and /help: what the bot does, in a few lines with an example."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from ...i18n import _
from ..common import reply, sender

PRIVATE_HELP = _("""🎨 I paint your photo in the style of a painting.

1. Send me a photo.
2. Pick a painting from the buttons (/styles shows them all) — or send your own painting, \
or both pictures at once as an album (photo first).
I show progress as I work and send you the result, with buttons to paint it again: \
stronger, weaker, in your photo's colours, with another painting, bigger — and Share, to \
post it in any chat.

Tune it: /weights shows your settings; e.g. /weights strength 7 (0–10), /weights size 768, \
/weights colors keep, /weights preset fast (about a second), /weights language de.
/queue — your place in line · /cancel — stop · /swap — swap photo and painting.
Tip: reply to a photo with a painting to pair them. Send images as files to keep full \
resolution.""")

GROUP_HELP = _("""🎨 I paint photos in the style of paintings.

Send /stylize, then reply to my message with a photo and pick a painting from the \
buttons (/styles shows them) — or send your painting too (or both at once as an album). \
Everyone can use me at the same time.
/weights — your settings · /queue · /cancel · /swap. Admins: /weights group strength 6 \
sets this chat's defaults.""")


async def show_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    await reply(context, message, GROUP_HELP if sender(message).group else PRIVATE_HELP)
