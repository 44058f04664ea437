"""What the Discord handlers share: ids, attachment downloads, and starting a job."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import aiohttp
import discord

from nst_engine import FileTooLargeError, NotAnImageError

from ..config import LimitsConfig
from ..core.choices import Choices
from ..core.jobs import JobHandle, Owner
from ..core.pictures import Picture
from ..core.service import Stylebot, Submission
from ..core.status import StatusView
from ..core.uploads import DownloadError, max_upload_bytes

log = logging.getLogger("stylebot.discord")
PLATFORM = "discord"
#: seconds a whole attachment download may take
DOWNLOAD_TIMEOUT = 60.0


def owner_of(user: discord.abc.User) -> Owner:
    return Owner(PLATFORM, str(user.id))


def chat_key(channel_id: int | None) -> str:
    return f"{PLATFORM}:{channel_id}"


def is_image(attachment: discord.Attachment) -> bool:
    kind = attachment.content_type or ""
    if kind:
        return kind.startswith("image/")
    return attachment.filename.lower().rsplit(".", 1)[-1] in (
        "jpg", "jpeg", "png", "webp", "gif", "bmp", "tif", "tiff", "heic")


def check_attachment(attachment: discord.Attachment, limits: LimitsConfig, what: str) -> None:
    """Refuse from the metadata alone (size, type) before a byte is downloaded."""
    limit = max_upload_bytes(limits)
    if attachment.size > limit:
        raise too_large(what, attachment.filename, attachment.size, limit)
    if not is_image(attachment):
        raise NotAnImageError(f"The {what} ({attachment.filename}) is not a picture. Attach a "
                              "JPEG, PNG or WebP image.", what=what)


def too_large(what: str, name: str, size: int, limit: int, *,
              at_least: bool = False) -> FileTooLargeError:
    more = "over " if at_least else ""
    return FileTooLargeError(f"The {what} ({name}) is {more}{size / 2**20:.1f} MB; the limit "
                             f"is {limit / 2**20:.0f} MB. Send a smaller picture.",
                             what=what, size=size, limit=limit)


async def download(attachment: discord.Attachment, owner: Owner, core: Stylebot,
                   session: aiohttp.ClientSession, what: str) -> Picture:
    """The attachment as a ``Picture``: checked by its metadata, read with a byte cap
    (``attachment.size`` is the sender's word, not a limit), decoded in the sandbox."""
    limits = core.config.limits
    try:
        check_attachment(attachment, limits, what)
        data = await read_capped(attachment, max_upload_bytes(limits), session, what)
    except (FileTooLargeError, NotAnImageError) as error:
        core.refused(error)
        raise
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("download failed", extra={"error": type(exc).__name__})
        raise DownloadError(what) from None
    return await core.decode(owner, data, what)


async def read_capped(attachment: discord.Attachment, limit: int,
                      session: aiohttp.ClientSession, what: str) -> bytes:
    async with asyncio.timeout(DOWNLOAD_TIMEOUT), session.get(attachment.url) as response:
        response.raise_for_status()
        data = bytearray()
        async for chunk in response.content.iter_chunked(64 * 1024):
            data += chunk
            if len(data) > limit:
                raise too_large(what, attachment.filename, len(data), limit, at_least=True)
    return bytes(data)


def upload_limit(guild: discord.Guild | None) -> int:
    """The most a message may carry in a channel (interactions carry their own limit)."""
    if guild is None:
        return discord.utils.DEFAULT_FILE_SIZE_LIMIT_BYTES
    return guild.filesize_limit


async def start_job(core: Stylebot, *, user: discord.abc.User, channel_id: int | None,
                    group: bool, content: Picture, style: Picture, choices: Choices,
                    make_view: Callable[[JobHandle, str], Awaitable[StatusView]]) -> JobHandle:
    handle = await core.start(Submission(owner_of(user), chat_key(channel_id), group, content,
                                         style, choices), make_view)
    log.info("job submitted", extra={"job": handle.id, "user": user.id, "chat": channel_id,
                                     "preset": choices.preset, "size": choices.size})
    return handle
