"""A fake Telegram Bot API server for end-to-end tests of the bot.

Why: testing the bot against this fake exercises python-telegram-bot's real HTTP layer (form and
multipart encoding, error mapping, long polling, file downloads) instead of mocks, while staying
hermetic: the server binds 127.0.0.1 only. Tests play the users (``send_text``, ``send_photo``,
``press_button`` ...) and then assert on what the bot did (``calls``, ``wait_for_call``,
``bot_messages``)::

    async with FakeTelegram() as tg:
        app = (ApplicationBuilder().token(tg.token).base_url(tg.base_url)
               .base_file_url(tg.base_file_url).build())
        ...  # add handlers, initialize, start, start_polling
        alice = tg.user(1001, "Alice")
        tg.send_text(tg.private_chat(alice), alice, "/start")
        call = await tg.wait_for_call("sendMessage")

Behaviour and error descriptions follow https://core.telegram.org/bots/api wherever the bot can
observe them; deliberate simplifications are noted where they occur. Entity offsets and lengths
are in UTF-16 code units, as in the real API.

:class:`FakeTelegram` (``server``) is assembled from one mixin per concern, all on the shared
state of ``state``: ``api`` (HTTP layer, method dispatch), ``chats`` (users, chats, the bot's
account), ``users`` (what tests make users do), ``sending`` and ``editing`` (what the bot
does to messages), ``files`` (stored files, photo renditions, getFile), ``limits`` (flood
control, injected failures), ``updates`` and ``webhook`` (how updates reach the bot),
``inline`` (inline mode: queries, answers, results posted "via" the bot) and
``observation`` (what tests assert on); ``formatting`` parses entities and parse modes.
"""

from fakes.telegram.model import (
    JSON,
    MAX_CAPTION_LENGTH,
    MAX_DOWNLOAD_SIZE,
    MAX_PHOTO_UPLOAD_SIZE,
    MAX_TEXT_LENGTH,
    MAX_UPLOAD_SIZE,
    Call,
    ChatRef,
    MethodRef,
    Uploads,
)
from fakes.telegram.server import FakeTelegram

__all__ = [
    "JSON",
    "MAX_CAPTION_LENGTH",
    "MAX_DOWNLOAD_SIZE",
    "MAX_PHOTO_UPLOAD_SIZE",
    "MAX_TEXT_LENGTH",
    "MAX_UPLOAD_SIZE",
    "Call",
    "ChatRef",
    "FakeTelegram",
    "MethodRef",
    "Uploads",
]
