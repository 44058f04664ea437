"""Decoding uploads off the event loop, with the same typed errors as the engine.

Each upload is decoded as it arrives, in a sandboxed decoder process (``decoding.py``),
and downsized to the biggest result a user may ask for: the user hears at once if a file
is unusable, a hostile file can neither stall nor bloat the bot, and only small pictures
wait in memory for their partner.
"""

from __future__ import annotations

import asyncio
import functools

from PIL import Image

from nst_engine.images import ImageLimits, encode, resize
from nst_engine.settings import STYLE_HEADROOM

from ..config import LimitsConfig
from .decoding import Decoder


@functools.cache
def default_decoder() -> Decoder:
    """The bot's decoder pool, created on first use (its processes start lazily too)."""
    return Decoder()


def image_limits(limits: LimitsConfig) -> ImageLimits:
    return ImageLimits(max_bytes=int(limits.max_upload_mb * 1024 * 1024),
                       max_pixels=int(limits.max_megapixels * 1_000_000))


async def decode_upload(data: bytes, limits: LimitsConfig, what: str = "image") -> Image.Image:
    """Upright RGB, at most large enough for the biggest result a user may ask for.

    Raises ``InputImageError`` subclasses.
    """
    picture = await default_decoder().decode(
        data, image_limits(limits), what=what, max_side=round(limits.max_size * STYLE_HEADROOM))
    return await asyncio.to_thread(picture.open)


async def thumbnail_jpeg(image: Image.Image, long_side: int = 320) -> bytes:
    """A small JPEG of a decoded (trusted) image, e.g. as the first picture of a status."""
    return await asyncio.to_thread(lambda: encode(resize(image, long_side), "jpeg", quality=80))
