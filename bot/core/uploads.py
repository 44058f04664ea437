"""Decoding uploads off the event loop, with the same typed errors as the engine.

A bounded thread pool decodes and downsizes each upload as it arrives, so the user
hears at once if a file is unusable, big uploads never stall the loop, and only small
RGB images wait in memory for their partner.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from PIL import Image

from nst_engine.images import ImageLimits, load_image, resize
from nst_engine.pipeline import STYLE_HEADROOM

from ..config import LimitsConfig

_decoder = ThreadPoolExecutor(max_workers=2, thread_name_prefix="decode")


def image_limits(limits: LimitsConfig) -> ImageLimits:
    return ImageLimits(max_bytes=int(limits.max_upload_mb * 1024 * 1024),
                       max_pixels=int(limits.max_megapixels * 1_000_000))


def decode(data: bytes, limits: LimitsConfig, what: str) -> Image.Image:
    """Upright RGB, at most large enough for the biggest result a user may ask for."""
    image = load_image(data, limits=image_limits(limits), what=what)
    return resize(image, round(limits.max_size * STYLE_HEADROOM))


async def decode_upload(data: bytes, limits: LimitsConfig, what: str = "image") -> Image.Image:
    """``decode`` on the decoder threads; raises ``InputImageError`` subclasses."""
    return await asyncio.get_running_loop().run_in_executor(_decoder, decode, data, limits, what)


async def thumbnail_jpeg(image: Image.Image, long_side: int = 320) -> bytes:
    """A small JPEG of an image, e.g. as the first picture of a status message."""
    from nst_engine.images import encode

    def work() -> bytes:
        return encode(resize(image, long_side), "jpeg", quality=80)

    return await asyncio.get_running_loop().run_in_executor(_decoder, work)
