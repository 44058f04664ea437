"""Images in and out: whatever users upload becomes an 8-bit RGB picture, or a typed error.

Decoding is defensive because uploads are hostile or just odd: the byte cap is checked
before decoding, the pixel cap right after the header is parsed (before the bitmap is
allocated), and every decoder failure becomes a ``CorruptImageError``.
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from .errors import (
    CorruptImageError,
    FileTooLargeError,
    ImageTooSmallError,
    NotAnImageError,
    TooManyPixelsError,
)

ImageSource = bytes | bytearray | memoryview | str | os.PathLike | BinaryIO | Image.Image


@dataclass(frozen=True)
class ImageLimits:
    max_bytes: int = 25 * 1024 * 1024
    max_pixels: int = 40_000_000
    min_side: int = 16


DEFAULT_LIMITS = ImageLimits()
_MB = 1024 * 1024


def load_image(source: ImageSource, *, limits: ImageLimits = DEFAULT_LIMITS,
               what: str = "image") -> Image.Image:
    """Decode ``source`` into an upright 8-bit RGB image; ``what`` names it in errors."""
    if isinstance(source, Image.Image):
        return normalise(source, limits, what)
    data = read_bytes(source, limits, what)
    with open_image(data, what) as img:
        width, height = img.size
        if width * height > limits.max_pixels:
            raise TooManyPixelsError(
                f"The {what} is {width}×{height} pixels; the limit is "
                f"{limits.max_pixels / 1e6:.0f} megapixels. Send a smaller picture.")
        try:
            img.seek(0)  # animated GIF/WebP/APNG: use the first frame
            img.load()
            return normalise(img, limits, what)
        except (TooManyPixelsError, ImageTooSmallError):
            raise
        except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError, …
            raise CorruptImageError(
                f"The {what} looks damaged or cut off and cannot be decoded. "
                "Send it again, or as another file.") from exc


def read_bytes(source: ImageSource, limits: ImageLimits, what: str) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise NotAnImageError(f"No such file: {path}.")
        if path.stat().st_size > limits.max_bytes:
            raise too_large(path.stat().st_size, limits, what)
        data = path.read_bytes()
    else:
        data = source.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        raise too_large(len(data), limits, what)
    if not data:
        raise NotAnImageError(f"The {what} is empty. Send a JPEG, PNG or WebP picture.")
    return data


def too_large(size: int, limits: ImageLimits, what: str) -> FileTooLargeError:
    return FileTooLargeError(
        f"The {what} is {size / _MB:.1f} MB; the limit is {limits.max_bytes / _MB:.0f} MB. "
        "Send a smaller or more compressed picture.")


@contextmanager
def open_image(data: bytes, what: str) -> Iterator[Image.Image]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise TooManyPixelsError(f"The {what} has far too many pixels to process. "
                                 "Send a smaller picture.") from exc
    except UnidentifiedImageError as exc:
        raise NotAnImageError(f"The {what} is not an image I can read. "
                              "Send a JPEG, PNG or WebP picture.") from exc
    except Exception as exc:
        raise CorruptImageError(f"The {what} looks damaged and cannot be opened. "
                                "Send it again, or as another file.") from exc
    with img:
        yield img


def normalise(img: Image.Image, limits: ImageLimits, what: str) -> Image.Image:
    """Upright, sRGB-ish, 8-bit RGB with any transparency flattened onto white."""
    img = ImageOps.exif_transpose(img) or img
    img = to_srgb(img)
    img = to_8bit(img)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    rgb = img.convert("RGB")
    if min(rgb.size) < limits.min_side:
        raise ImageTooSmallError(
            f"The {what} is only {rgb.width}×{rgb.height} pixels; it needs at least "
            f"{limits.min_side} on each side. Send a bigger picture.")
    return rgb


def to_srgb(img: Image.Image) -> Image.Image:
    """Apply an embedded ICC profile (Adobe RGB, Display P3, CMYK print profiles)."""
    icc = img.info.get("icc_profile")
    if not icc or img.mode not in ("RGB", "RGBA", "CMYK"):
        return img
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        mode = "RGBA" if img.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(img, src, ImageCms.createProfile("sRGB"),
                                              outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return img  # a broken profile is not worth refusing the picture for
    return converted if converted is not None else img


def to_8bit(img: Image.Image) -> Image.Image:
    """Scale 16-bit and float modes down to 8 bits (Pillow's convert would clip them)."""
    if img.mode.startswith("I;16") or img.mode in ("I", "F"):
        arr = np.asarray(img).astype(np.float64)
        top = 65535.0 if img.mode != "F" and arr.max() > 255 else 255.0
        if img.mode == "F" and arr.max() <= 1.0:
            top = 1.0
        scaled = np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(scaled, mode="L")
    return img


def fit_size(width: int, height: int, long_side: int) -> tuple[int, int]:
    """(width, height) with the long side at most ``long_side``: never upscaled."""
    scale = min(1.0, long_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def resize(img: Image.Image, long_side: int, *, upscale: bool = False) -> Image.Image:
    w, h = img.size
    if upscale:
        scale = long_side / max(w, h)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
    else:
        size = fit_size(w, h, long_side)
    return img if size == img.size else img.resize(size, Image.Resampling.LANCZOS)


def to_tensor(img: Image.Image, device: torch.device | str = "cpu") -> torch.Tensor:
    """(1, 3, H, W) float32 in 0..1."""
    arr = np.asarray(img.convert("RGB"), dtype=np.uint8)
    return torch.from_numpy(arr.copy()).permute(2, 0, 1).unsqueeze(0).to(device).float() / 255


def to_pil(tensor: torch.Tensor) -> Image.Image:
    arr = (tensor.detach()[0].float().clamp(0, 1) * 255 + 0.5).to(torch.uint8)
    return Image.fromarray(arr.permute(1, 2, 0).cpu().numpy(), mode="RGB")


def encode(img: Image.Image, fmt: str = "png", *, quality: int = 92) -> bytes:
    """PNG (lossless) or JPEG bytes."""
    buf = io.BytesIO()
    if fmt == "png":
        img.save(buf, format="PNG", optimize=False, compress_level=6)
    elif fmt in ("jpeg", "jpg"):
        img.convert("RGB").save(buf, format="JPEG", quality=quality, subsampling=0,
                                optimize=True)
    else:
        raise ValueError(f"unknown output format {fmt!r}")
    return buf.getvalue()
