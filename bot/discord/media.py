"""Discord attachments as pictures: which ones are images, refusing from the metadata,
and downloading with a byte cap."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import discord

from nst_engine import FileTooLargeError, NotAnImageError

from ..core.pictures import Picture
from ..core.service import Stylebot
from ..core.uploads import DownloadError, too_large
from ..core.who import Who

log = logging.getLogger("stylebot.discord")
#: seconds a whole attachment download may take
DOWNLOAD_TIMEOUT = 60.0
IMAGE_EXTENSIONS = ("jpg", "jpeg", "png", "webp", "gif", "bmp", "tif", "tiff", "avif")


def is_image(attachment: discord.Attachment) -> bool:
    kind = attachment.content_type or ""
    if kind:
        return kind.startswith("image/")
    return attachment.filename.lower().rsplit(".", 1)[-1] in IMAGE_EXTENSIONS


def check_attachment(attachment: discord.Attachment, max_bytes: int) -> None:
    """Refuse from the metadata alone (size, type) before a byte is downloaded."""
    if attachment.size > max_bytes:
        raise too_large(attachment.size, max_bytes)
    if not is_image(attachment):
        raise NotAnImageError("not an image", name=attachment.filename)


async def download(attachment: discord.Attachment, who: Who, core: Stylebot,
                   session: aiohttp.ClientSession) -> Picture:
    """The attachment as a ``Picture``: checked by its metadata, read with a byte cap
    (``attachment.size`` is the sender's word, not a limit), decoded in the sandbox."""
    limit = core.uploads.max_bytes
    try:
        check_attachment(attachment, limit)
        data = await read_capped(attachment, limit, session)
    except (FileTooLargeError, NotAnImageError) as error:
        core.uploads.refused(error)
        raise
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("download failed", extra={"error": type(exc).__name__})
        raise DownloadError("download failed") from None
    return await core.uploads.decode(who, data)


async def read_capped(attachment: discord.Attachment, limit: int,
                      session: aiohttp.ClientSession) -> bytes:
    async with asyncio.timeout(DOWNLOAD_TIMEOUT), session.get(attachment.url) as response:
        response.raise_for_status()
        data = bytearray()
        async for chunk in response.content.iter_chunked(64 * 1024):
            data += chunk
            if len(data) > limit:
                raise too_large(len(data), limit, at_least=True)
    return bytes(data)
