"""A user's picture after the sandboxed decode: small, upright, compressed, cheap to keep.

Pending pictures wait minutes for their partner, so they are kept as JPEG (quality 95,
no chroma subsampling: visually lossless at a tenth of the bitmap's memory) together
with a thumbnail for status messages. Torch-free: decoder processes build these.
"""

from __future__ import annotations

import functools
import hashlib
import io
from dataclasses import dataclass

from PIL import Image

from nst_engine.images import resize

THUMBNAIL_SIDE = 320


@dataclass(frozen=True, repr=False)
class Picture:
    """Upright 8-bit sRGB, stored as JPEG bytes; ``open()`` gives the bitmap back."""

    data: bytes
    width: int
    height: int
    #: JPEG, long side at most ``THUMBNAIL_SIDE``
    thumbnail: bytes

    @classmethod
    def from_image(cls, image: Image.Image) -> Picture:
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        return cls(data=_jpeg(rgb, quality=95), width=rgb.width, height=rgb.height,
                   thumbnail=_jpeg(resize(rgb, THUMBNAIL_SIDE), quality=80))

    @functools.cached_property
    def digest(self) -> str:
        """sha256 of ``data``: identifies the picture (caches, duplicate uploads)."""
        return hashlib.sha256(self.data).hexdigest()

    def open(self) -> Image.Image:
        """The RGB bitmap, loaded. We wrote ``data`` ourselves, so only JPEG is tried."""
        img = Image.open(io.BytesIO(self.data), formats=("JPEG",))
        if img.size != (self.width, self.height):
            raise ValueError(f"picture data is {img.size}, not {self.width}×{self.height}")
        img.load()
        return img if img.mode == "RGB" else img.convert("RGB")

    def __repr__(self) -> str:
        return (f"Picture({self.width}×{self.height}, {len(self.data)} bytes, "
                f"thumbnail {len(self.thumbnail)} bytes)")


def _jpeg(image: Image.Image, *, quality: int) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=quality, subsampling=0)
    return buf.getvalue()
