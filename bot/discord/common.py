"""What the Discord handlers share: ids, attachment downloads, and starting a job."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import discord
from PIL import Image

from nst_engine import FileTooLargeError, NotAnImageError

from ..config import LimitsConfig
from ..core.choices import Choices
from ..core.jobs import JobHandle, Owner
from ..core.service import Stylebot, Submission
from ..core.status import StatusView
from ..core.uploads import decode_upload

log = logging.getLogger("stylebot.discord")
PLATFORM = "discord"


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
    limit = int(limits.max_upload_mb * 1024 * 1024)
    if attachment.size > limit:
        raise FileTooLargeError(f"The {what} ({attachment.filename}) is "
                                f"{attachment.size / 2**20:.1f} MB; the limit is "
                                f"{limit / 2**20:.0f} MB. Send a smaller picture.")
    if not is_image(attachment):
        raise NotAnImageError(f"The {what} ({attachment.filename}) is not a picture. Attach a "
                              "JPEG, PNG or WebP image.")


async def download(attachment: discord.Attachment, limits: LimitsConfig, what: str) -> Image.Image:
    check_attachment(attachment, limits, what)
    return await decode_upload(await attachment.read(), limits, what)


def upload_limit(guild: discord.Guild | None) -> int:
    """The most a message may carry in a channel (interactions carry their own limit)."""
    if guild is None:
        return discord.utils.DEFAULT_FILE_SIZE_LIMIT_BYTES
    return guild.filesize_limit


async def start_job(core: Stylebot, *, user: discord.abc.User, channel_id: int | None,
                    group: bool, content: Image.Image, style: Image.Image, choices: Choices,
                    make_view: Callable[[JobHandle, str], Awaitable[StatusView]]) -> JobHandle:
    handle = await core.start(Submission(owner_of(user), chat_key(channel_id), group, content,
                                         style, choices), make_view)
    log.info("job submitted", extra={"job": handle.id, "user": user.id, "chat": channel_id,
                                     "preset": choices.preset, "size": choices.size})
    return handle
