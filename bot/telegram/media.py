"""Telegram messages as images: which ones carry a picture, whether it is meant for us,
downloading with a byte cap, and gathering albums that arrive as separate updates."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
from telegram import File, Message, MessageEntity
from telegram.constants import ChatType
from telegram.error import TelegramError

from nst_engine import FileTooLargeError

from ..core.pictures import Picture
from ..core.service import Stylebot
from ..core.uploads import DownloadError, too_large
from ..core.who import Who

log = logging.getLogger("stylebot.telegram")

#: getFile refuses files above this on the public Bot API (a local server has no limit)
BOT_API_DOWNLOAD_LIMIT = 20 * 1024 * 1024
#: seconds a whole download may take
DOWNLOAD_TIMEOUT = 60.0


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


async def download_picture(message: Message, who: Who, core: Stylebot,
                           client: httpx.AsyncClient, *, local_mode: bool) -> Picture:
    """The message's picture, downloaded with a byte cap and decoded in the sandbox;
    raises ``InputImageError``."""
    if message.photo:
        attachment = message.photo[-1]  # the largest size Telegram made
    else:
        assert message.document is not None
        attachment = message.document
    limit = core.uploads.max_bytes if local_mode else min(core.uploads.max_bytes,
                                                          BOT_API_DOWNLOAD_LIMIT)
    if attachment.file_size and attachment.file_size > limit:
        error = too_large(attachment.file_size, limit)
        core.uploads.refused(error)
        raise error
    try:
        file = await attachment.get_file()
        data = await read_capped(file, limit, client, local_mode=local_mode)
    except FileTooLargeError as error:
        core.uploads.refused(error)
        raise
    except (TelegramError, httpx.HTTPError, OSError) as exc:
        log.warning("download failed", extra={"chat": message.chat_id,
                                              "error": type(exc).__name__})
        raise DownloadError("download failed") from None
    return await core.uploads.decode(who, data)


async def read_capped(file: File, limit: int, client: httpx.AsyncClient, *,
                      local_mode: bool) -> bytes:
    """The file's bytes, never more than ``limit``: Telegram's ``file_size`` is optional,
    so the cap counts the bytes actually received."""
    if file.file_path is None:
        raise DownloadError("no file path")
    if local_mode:  # a local Bot API server hands out paths on its own disk
        return await asyncio.to_thread(read_local, Path(file.file_path), limit)
    url = urlsplit(file.file_path)
    async with asyncio.timeout(DOWNLOAD_TIMEOUT), client.stream(
            "GET", urlunsplit(url._replace(path=quote(url.path)))) as response:
        response.raise_for_status()
        data = bytearray()
        async for chunk in response.aiter_bytes():
            data += chunk
            if len(data) > limit:
                raise too_large(len(data), limit, at_least=True)
    return bytes(data)


def read_local(path: Path, limit: int) -> bytes:
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise too_large(len(data), limit, at_least=True)
    return data


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
