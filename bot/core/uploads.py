"""The limits an upload is checked against, from the bot's config."""

from __future__ import annotations

from nst_engine import InputImageError
from nst_engine.images import ImageLimits

from ..config import LimitsConfig

_MB = 1024 * 1024


def max_upload_bytes(limits: LimitsConfig) -> int:
    """The most bytes of one upload the bot reads."""
    return int(limits.max_upload_mb * _MB)


def image_limits(limits: LimitsConfig) -> ImageLimits:
    return ImageLimits(max_bytes=max_upload_bytes(limits),
                       max_pixels=int(limits.max_megapixels * 1_000_000))


class DownloadError(InputImageError):
    """The platform's file server did not hand the upload over."""

    reason = "download"

    def __init__(self, what: str) -> None:
        super().__init__(f"I couldn't download the {what} just now. Please send it again.",
                         what=what)
