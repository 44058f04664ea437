"""Telegram messages as images: which ones carry a picture, whether it is meant for us,
downloading with size checks, and gathering albums that arrive as separate updates."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from PIL import Image
from telegram import Message, MessageEntity
from telegram.constants import ChatType

from nst_engine import FileTooLargeError

from ..config import LimitsConfig
from ..core.uploads import decode_upload

log = logging.getLogger("stylebot.telegram")

#: getFile refuses files above this on the public Bot API (a local server has no limit)
BOT_API_DOWNLOAD_LIMIT = 20 * 1024 * 1024


def has_image(message: Message | None) -> bool:
    """A photo, or a document Telegram labels as an image (documents keep full resolution)."""
    if message is None:
        return False
    if message.photo:
        return True
    document = message.document
    return document is not None and (document.mime_type or "").startswith("image/")


def is_private(message: Message) -> bool:
    return message.chat.type == ChatType.PRIVATE


def addressed_to_bot(message: Message, bot_id: int, username: str) -> bool:
    """In groups only some messages are for us, even when the bot can see everything:
    replies to the bot, /stylize in the text or caption, or an @mention."""
    if is_private(message):
        return True
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        return True
    entities = message.parse_caption_entities() if message.caption else message.parse_entities()
    for entity, text in entities.items():
        if entity.type == MessageEntity.BOT_COMMAND:
            command, _, target = text.lstrip("/").partition("@")
            if command.lower() == "stylize" and target.lower() in ("", username.lower()):
                return True
        if entity.type == MessageEntity.MENTION and text.lower() == f"@{username.lower()}":
            return True
    return False


async def download_image(message: Message, limits: LimitsConfig, what: str,
                         *, local_mode: bool) -> Image.Image:
    """The message's picture, decoded off the event loop; raises ``InputImageError``."""
    if message.photo:
        attachment = message.photo[-1]  # the largest size Telegram made
    else:
        assert message.document is not None
        attachment = message.document
    limit = min(limits.max_upload_mb * 1024 * 1024,
                float("inf") if local_mode else BOT_API_DOWNLOAD_LIMIT)
    if attachment.file_size and attachment.file_size > limit:
        raise FileTooLargeError(
            f"The {what} is {attachment.file_size / 2**20:.1f} MB; I can take at most "
            f"{limit / 2**20:.0f} MB. Send it as a photo (Telegram shrinks those) or a "
            "smaller file.")
    file = await attachment.get_file()
    data = bytes(await file.download_as_bytearray())
    return await decode_upload(data, limits, what)


class AlbumCollector:
    """Telegram delivers an album as one update per item sharing a media_group_id.

    Items are held until none has arrived for ``wait`` seconds, then handed over
    together, oldest first.
    """

    def __init__(self, wait: float,
                 on_album: Callable[[list[Message]], Awaitable[None]]) -> None:
        self.wait = wait
        self.on_album = on_album
        self._items: dict[str, list[Message]] = {}
        self._timers: dict[str, asyncio.Task[None]] = {}
        self._flushing: set[asyncio.Task[None]] = set()  # strong refs until they finish

    def add(self, message: Message) -> None:
        group = str(message.media_group_id)
        self._items.setdefault(group, []).append(message)
        if group in self._timers:
            self._timers[group].cancel()
        self._timers[group] = asyncio.create_task(self._flush_later(group),
                                                  name=f"album-{group}")

    async def _flush_later(self, group: str) -> None:
        await asyncio.sleep(self.wait)
        task = self._timers.pop(group)
        self._flushing.add(task)
        try:
            items = sorted(self._items.pop(group, []), key=lambda m: m.message_id)
            if items:
                await self.on_album(items)
        except Exception:
            log.exception("album handling failed", extra={"album": group})
        finally:
            self._flushing.discard(task)
