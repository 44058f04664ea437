"""Images in and out: whatever users upload becomes an 8-bit RGB picture, or a typed error.

Uploads are hostile or just odd, so everything that can be refused is refused before a
pixel is decoded: the byte cap; an allow-list of formats (other plugins never run — the
ICO one, for one, decodes its embedded PNG while merely opening the file); the pixel cap,
the minimum side and the aspect ratio from the header; for JPEG, the number of scans,
each of which costs a pass over the whole image. With ``max_side``, a JPEG is decoded at
a reduced DCT scale and other formats are shrunk by an integer factor right after
loading, so peak memory follows the result and every conversion runs on a small image.
Every decoder failure becomes a ``CorruptImageError``.

Torch-free on purpose (tensors live in ``tensors.py``): the bot's sandboxed decoder
processes import only Pillow and this module.
"""

from __future__ import annotations

import functools
import io
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import ExifTags, Image, ImageChops, ImageCms, ImageFile, UnidentifiedImageError

from .errors import (
    CorruptImageError,
    FileTooLargeError,
    ImageTooSmallError,
    ImageTooThinError,
    NotAnImageError,
    TooBigToProcessError,
    TooManyPixelsError,
    TooManyScansError,
    UnsupportedFormatError,
)

ImageSource = bytes | bytearray | memoryview | str | os.PathLike | BinaryIO | Image.Image

#: Pillow format names we decode; phone cameras' JPEGs open as MPO
ACCEPTED_FORMATS = ("JPEG", "MPO", "PNG", "WEBP", "GIF", "BMP", "TIFF", "AVIF")
ACCEPTED_TEXT = "a JPEG, PNG, WebP, GIF, BMP, TIFF or AVIF picture"
_JPEG_FORMATS = ("JPEG", "MPO")
_MB = 1024 * 1024


@dataclass(frozen=True)
class ImageLimits:
    max_bytes: int = 25 * 1024 * 1024
    max_pixels: int = 40_000_000
    min_side: int = 16
    #: Telegram refuses to show photos beyond 20:1, so a result that thin could not be sent
    max_aspect: float = 20.0
    #: Progressive JPEGs as written by libjpeg(-turbo) (Pillow, cjpeg, jpegtran) have 10
    #: scans in colour, 6 in grey, 18 in CMYK; mozjpeg's optimised ones 9 / 5 / 17;
    #: Photoshop offers 3–5. Each extra scan over a full-resolution component costs a
    #: pass over every block: at 40 MP on this project's 2-core CPU a file with 10 scans
    #: decodes in 0.3–0.4 s, 32 in 0.8–1.4 s, 64 in 2.2–2.3 s, 100 in 2.7–3.0 s (a 4000²
    #: file with 510 took 6–8 s). 32 leaves ~1.8× headroom over the most seen while the
    #: worst accepted file stays well inside the bot decoder's 5 s timeout.
    max_jpeg_scans: int = 32


DEFAULT_LIMITS = ImageLimits()


def load_image(source: ImageSource, *, limits: ImageLimits = DEFAULT_LIMITS,
               what: str = "image", max_side: int | None = None) -> Image.Image:
    """Decode ``source`` into an upright 8-bit RGB image; ``what`` names it in errors.

    With ``max_side`` the result's long side is at most that many pixels, and the work
    is done at about that size; without it the image keeps its full size. A decoded
    ``source`` that needs no change is returned as it is.
    """
    if isinstance(source, Image.Image):
        check_size(source.size, limits, what)
        return develop(source, max_side)
    data = read_bytes(source, limits, what)
    try:
        with open_image(data, limits, what) as img:
            check_size(img.size, limits, what)
            if img.format in _JPEG_FORMATS:
                check_scans(data, limits, what)
            try:
                return develop(img, max_side)
            except MemoryError:
                raise
            except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError, …
                raise CorruptImageError(
                    f"The {what} looks damaged or cut off and cannot be decoded. "
                    "Send it again, or as another file.", what=what) from exc
    except MemoryError as exc:  # only where memory is capped, as in the bot's decoders
        raise TooBigToProcessError(
            f"The {what} needs more memory to open than I can give it. "
            "Send a smaller picture.", what=what) from exc


def read_bytes(source: ImageSource, limits: ImageLimits, what: str) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise NotAnImageError(f"No such file: {path}.", what=what, path=str(path))
        if path.stat().st_size > limits.max_bytes:
            raise too_large(path.stat().st_size, limits, what)
        data = path.read_bytes()
    else:
        data = source.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        raise too_large(len(data), limits, what)
    if not data:
        raise NotAnImageError(f"The {what} is empty. Send {ACCEPTED_TEXT}.", what=what)
    return data


def too_large(size: int, limits: ImageLimits, what: str) -> FileTooLargeError:
    megabytes, limit = round(size / _MB, 1), round(limits.max_bytes / _MB)
    return FileTooLargeError(
        f"The {what} is {megabytes:.1f} MB; the limit is {limit} MB. "
        "Send a smaller or more compressed picture.",
        what=what, megabytes=megabytes, max_megabytes=limit)


def check_size(size: tuple[int, int], limits: ImageLimits, what: str) -> None:
    """The header's dimensions against the pixel cap, the minimum side and the aspect."""
    width, height = size
    if width * height > limits.max_pixels:
        limit = round(limits.max_pixels / 1e6)
        raise TooManyPixelsError(
            f"The {what} is {width}×{height} pixels; the limit is {limit} megapixels. "
            "Send a smaller picture.", what=what, width=width, height=height,
            max_megapixels=limit)
    if min(size) < limits.min_side:
        raise ImageTooSmallError(
            f"The {what} is only {width}×{height} pixels; it needs at least "
            f"{limits.min_side} on each side. Send a bigger picture.",
            what=what, width=width, height=height, min_side=limits.min_side)
    if max(size) > limits.max_aspect * min(size):
        shape = "wide" if width > height else "tall"
        raise ImageTooThinError(
            f"The {what} is too {shape} ({width}×{height} pixels): its long side may be "
            f"at most {limits.max_aspect:g} times its short side. Crop it closer to a "
            "square and send it again.",
            what=what, width=width, height=height, max_aspect=limits.max_aspect)


def check_scans(data: bytes, limits: ImageLimits, what: str) -> None:
    scans = count_jpeg_scans(data)
    if scans > limits.max_jpeg_scans:
        raise TooManyScansError(
            f"The {what} is a JPEG saved in an unusual way ({scans} passes; at most "
            f"{limits.max_jpeg_scans} are allowed) that would take too long to open. "
            "Save it again as a normal JPEG or as PNG and send it.",
            what=what, scans=scans, max_scans=limits.max_jpeg_scans)


#: the next marker as libjpeg finds it: fill bytes (FF FF…) skipped, FF00 (a stuffed
#: data byte) and RSTn (restart markers inside a scan) are not markers
_NEXT_MARKER = re.compile(rb"\xff+[^\x00\xff\xd0-\xd7]")
_SOI, _EOI, _SOS, _TEM = 0xD8, 0xD9, 0xDA, 0x01


def count_jpeg_scans(data: bytes) -> int:
    """Start-of-scan markers of the first image in a JPEG (an MPO's others are not decoded).

    Marker segments are skipped by their length, so markers inside APPn data (an EXIF
    thumbnail) are not counted; entropy-coded data and garbage are skipped the way
    libjpeg skips them. Cheap: a regular-expression search per marker, nothing decoded.
    """
    scans, pos = 0, 2  # after SOI
    while match := _NEXT_MARKER.search(data, pos):
        marker, pos = data[match.end() - 1], match.end()
        if marker == _EOI:
            break
        if marker in (_SOI, _TEM):  # no length field
            continue
        if pos + 2 > len(data):
            break
        length = int.from_bytes(data[pos:pos + 2], "big")
        if length < 2:
            break  # libjpeg gives up on such a file
        pos += length
        scans += marker == _SOS
    return scans


@contextmanager
def open_image(data: bytes, limits: ImageLimits, what: str) -> Iterator[ImageFile.ImageFile]:
    """Parse the header with the allowed formats' plugins only; no pixel is decoded."""
    if size := webp_size(data):  # libwebp allocates the canvas while opening
        check_size(size, limits, what)
    try:
        img = Image.open(io.BytesIO(data), formats=_plugins())
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own cap (89 MP warns, 179 MP raises) is above ours, so only headers far
        # past any limit land here; a mere warning is refused by check_size right after.
        limit = round(limits.max_pixels / 1e6)
        raise TooManyPixelsError(
            f"The {what} has far too many pixels; the limit is {limit} megapixels. "
            "Send a smaller picture.", what=what, max_megapixels=limit) from exc
    except UnidentifiedImageError as exc:
        raise unreadable(data, what) from exc
    except MemoryError:
        raise
    except Exception as exc:
        raise CorruptImageError(f"The {what} looks damaged and cannot be opened. "
                                "Send it again, or as another file.", what=what) from exc
    with img:
        if img.format not in ACCEPTED_FORMATS:  # a plugin returned something unexpected
            raise unreadable(data, what)
        yield img


@functools.cache
def _plugins() -> tuple[str, ...]:
    """Openers for the accepted formats. MPO has none: the JPEG one returns MPO files."""
    Image.init()
    return tuple(name for name in ACCEPTED_FORMATS if name in Image.OPEN)


def webp_size(data: bytes) -> tuple[int, int] | None:
    """Canvas size from a WebP header (simple lossy, lossless or extended), else None."""
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP" or len(data) < 30:
        return None
    chunk = data[12:16]
    if chunk == b"VP8X":
        return (int.from_bytes(data[24:27], "little") + 1,
                int.from_bytes(data[27:30], "little") + 1)
    if chunk == b"VP8L" and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, (bits >> 14 & 0x3FFF) + 1
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        return (int.from_bytes(data[26:28], "little") & 0x3FFF,
                int.from_bytes(data[28:30], "little") & 0x3FFF)
    return None


_HEVC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis"}


def unreadable(data: bytes, what: str) -> NotAnImageError:
    """Name a refused format from its magic bytes alone (its plugin is never run)."""
    if data[4:8] == b"ftyp":  # ISO media: HEIC photos from iPhones share AVIF's container
        brands = {data[i:i + 4] for i in range(8, min(len(data), 64), 4)}
        fmt = "HEIC" if brands & _HEVC_BRANDS and b"avif" not in brands else None
    else:
        fmt = next((name for name, (_factory, accept) in Image.OPEN.items()
                    if name not in ACCEPTED_FORMATS and accept and accept(data[:16])), None)
    if fmt:
        return UnsupportedFormatError(
            f"The {what} is in {fmt} format, which I cannot read. Send {ACCEPTED_TEXT}.",
            what=what, format=fmt)
    return NotAnImageError(f"The {what} is not an image I can read. Send {ACCEPTED_TEXT}.",
                           what=what)


def develop(img: Image.Image, max_side: int | None) -> Image.Image:
    """Decode (at a reduced scale when ``max_side`` allows) into upright sRGB 8-bit RGB.

    Only loading happens at full size; orientation, colour profile and bit depth are
    handled after shrinking.
    """
    if max_side and isinstance(img, ImageFile.ImageFile) and img.format in _JPEG_FORMATS:
        img.draft("RGB", fit_size(*img.size, max_side))  # libjpeg scales 1/2, 1/4, 1/8
    img.load()
    orientation = img.getexif().get(ExifTags.Base.Orientation, 1)
    icc = img.info.get("icc_profile")
    factor = max(1, max(img.size) // max_side) if max_side else 1
    img = shrink(img, factor)
    if method := _ORIENTATION.get(orientation):
        img = img.transpose(method)
    img = to_8bit(to_srgb(img, icc))
    if img.mode != "RGB":
        img = img.convert("RGB")
    return resize(img, max_side) if max_side else img


_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_90,
}


def shrink(img: Image.Image, factor: int) -> Image.Image:
    """Box-reduce by ``factor`` in a mode that averages correctly, alpha flattened on white.

    Palette, 1-bit and alpha images are converted a strip at a time, so the peak stays
    near the decoded image itself: converting a 40 MP palette image to RGBA whole, or
    letting reduce() premultiply a whole RGBA image, would each add another full copy.
    """
    if img.mode not in _NEEDS_FLATTENING:
        if factor == 1:
            return img
        if img.mode.startswith("I;16"):  # reduce() has no 16-bit mode; BOX does the same
            size = (-(-img.width // factor), -(-img.height // factor))
            return img.resize(size, Image.Resampling.BOX)
        return img.reduce(factor)
    step = factor * 64  # whole reduction boxes per strip
    out: Image.Image | None = None
    for top in range(0, img.height, step):
        strip = flatten(img.crop((0, top, img.width, min(img.height, top + step))))
        if factor > 1:
            strip = strip.reduce(factor)
        if out is None:
            out = Image.new(strip.mode, (-(-img.width // factor), -(-img.height // factor)))
        out.paste(strip, (0, top // factor))
    assert out is not None  # an image has at least one row
    return out


_NEEDS_FLATTENING = ("P", "PA", "1", "LA", "La", "RGBA", "RGBa")


def flatten(img: Image.Image) -> Image.Image:
    """L or RGB, any transparency composited onto white: c·a + 255·(1 − a)."""
    if img.mode == "1":
        return img.convert("L")
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    elif img.mode in ("PA", "La", "RGBa"):
        img = img.convert("LA" if img.mode == "La" else "RGBA")
    if img.mode in ("RGBA", "LA"):
        img.paste((255,) * len(img.getbands()), mask=ImageChops.invert(img.getchannel("A")))
        img = img.convert(img.mode[:-1])
    return img


def to_srgb(img: Image.Image, icc: bytes | None) -> Image.Image:
    """Apply an embedded ICC profile (Adobe RGB, Display P3, CMYK print profiles)."""
    if not icc or img.mode not in ("RGB", "CMYK"):
        return img
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(img, src, ImageCms.createProfile("sRGB"),
                                              outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError):
        return img  # a broken profile is not worth refusing the picture for
    return converted if converted is not None else img


def to_8bit(img: Image.Image) -> Image.Image:
    """Scale 16-bit and 32-bit modes down to 8 bits (Pillow's convert would clip them).

    Integer look-up tables, no float copies: the image is already shrunk when
    ``max_side`` is given, and without it this still allocates only the 8-bit result.
    """
    if not (img.mode.startswith("I") or img.mode == "F"):
        return img
    top = img.getextrema()[1]
    if img.mode == "F":
        scale = 255.0 if top <= 1.0 else 1.0  # 0..1 floats, else already 0..255
        return img.point(lambda v: v * scale + 0.5).convert("L")  # convert clips
    if top <= 255:  # a 16-bit container holding 8-bit values
        return img.convert("L")
    if img.mode != "I":
        img = img.convert("I")
    return img.point([(v * 255 + 32767) // 65535 for v in range(65536)], "L")


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
