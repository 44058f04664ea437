"""Hostile and odd uploads, generated at test time: nothing is downloaded or committed.

Each generator returns the bytes a user could send. Big images are built cheaply: PNGs
are streamed row by row (one gradient row, then "same as the row above" rows, which
deflate to almost nothing), and header bombs patch the dimensions of a small real file.
"""

from __future__ import annotations

import io
import random
import struct
import zlib
from collections.abc import Callable

from PIL import Image


def saved(img: Image.Image, fmt: str, **save: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **save)
    return buf.getvalue()


def gradient(width: int, height: int, mode: str = "RGB") -> Image.Image:
    """A smooth colour gradient of any size, made in milliseconds even at 40 MP."""
    ramp = Image.linear_gradient("L")
    x = ramp.rotate(90).resize((width, height), Image.Resampling.BILINEAR)
    y = ramp.resize((width, height), Image.Resampling.BILINEAR)
    mid = Image.new("L", (width, height), 128)
    return Image.merge("RGB", (x, y, mid)).convert(mode)


def noisy(width: int, height: int, *, seed: int = 0) -> Image.Image:
    """Random pixels: the worst case for compression, so files are as big as they get."""
    data = random.Random(seed).randbytes(width * height * 3)
    return Image.frombytes("RGB", (width, height), data)


# --- not images at all -------------------------------------------------------------------


def empty() -> bytes:
    return b""


def random_bytes(size: int = 4096, *, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(size)


def text() -> bytes:
    return b"hello, I am a text file and not a picture\n" * 20


# --- damaged -----------------------------------------------------------------------------


def truncated_jpeg() -> bytes:
    data = saved(gradient(400, 300), "JPEG", quality=90)
    return data[: len(data) // 2]


def truncated_png() -> bytes:
    data = saved(gradient(400, 300), "PNG")
    return data[: len(data) // 2]


# --- bombs by header: small files whose headers announce huge bitmaps -------------------


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_bomb(width: int = 60_000, height: int = 60_000) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr)
            + _chunk(b"IDAT", zlib.compress(b"\0" * 64)) + _chunk(b"IEND", b""))


def jpeg_header_bomb(width: int = 65_000, height: int = 65_000) -> bytes:
    data = bytearray(saved(gradient(64, 48), "JPEG", quality=80))
    sof = data.index(b"\xff\xc0")
    data[sof + 5: sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def gif_header_bomb(width: int = 65_535, height: int = 65_535) -> bytes:
    data = bytearray(saved(gradient(64, 48), "GIF"))
    data[6:10] = struct.pack("<HH", width, height)  # the logical screen
    return bytes(data)


def bmp_header_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    data = bytearray(saved(gradient(64, 48), "BMP"))
    data[18:26] = struct.pack("<ii", width, height)
    return bytes(data)


def webp_header_bomb(width: int = 10_000, height: int = 10_000) -> bytes:
    """Lossless WebP (VP8L) whose 14-bit header fields claim ``width``×``height``."""
    data = bytearray(saved(gradient(64, 48), "WEBP", lossless=True))
    assert data[12:16] == b"VP8L" and data[20] == 0x2F
    fields = struct.unpack("<I", data[21:25])[0] & ~((1 << 28) - 1)
    data[21:25] = struct.pack("<I", fields | (width - 1) | (height - 1) << 14)
    return bytes(data)


def tiff_header_bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A hand-made uncompressed greyscale TIFF announcing a huge single strip."""
    entries = [(256, 4, width), (257, 4, height), (258, 3, 8), (259, 3, 1), (262, 3, 1),
               (273, 4, 8 + 2 + 12 * 10 + 4), (277, 3, 1), (278, 4, height),
               (279, 4, width * height & 0xFFFFFFFF), (284, 3, 1)]
    ifd = struct.pack("<H", len(entries)) + b"".join(
        struct.pack("<HHII", tag, kind, 1, value) for tag, kind, value in entries)
    return b"II*\0" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0) + b"\0" * 256


# --- refused formats ---------------------------------------------------------------------


def ico_with_png(side: int = 2000) -> bytes:
    """An icon file whose single entry is a large PNG (Pillow decodes it on open)."""
    png = streamed_png(side, side)
    entry = struct.pack("<BBBBHHII", side % 256, side % 256, 0, 0, 1, 32, len(png), 6 + 16)
    return struct.pack("<HHH", 0, 1, 1) + entry + png


def psd_header() -> bytes:
    return b"8BPS" + struct.pack(">H6xHIIHH", 1, 3, 64, 64, 8, 3) + b"\0" * 64


def eps_header() -> bytes:
    return b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 64 64\n" + b"0 0 moveto\n" * 8


def heic_header() -> bytes:
    return struct.pack(">I", 24) + b"ftypheic" + b"\0\0\0\0mif1heic" + b"\0" * 64


# --- big but legitimate, cheap to make ---------------------------------------------------


def streamed_png(width: int, height: int, *, bit_depth: int = 8, colour_type: int = 2,
                 level: int = 6) -> bytes:
    """A PNG streamed row by row: a gradient first row, then rows filtered "Up" as zeros.

    Decoding costs as much as any PNG of that size (inflate + unfilter every row); the
    file stays tiny, like the audit's 300 KB 16-bit RGBA 6000×6600 picture.
    """
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour_type]
    sample = bit_depth // 8
    row = bytearray()
    for x in range(width):
        level_x = x * (1 << bit_depth) // width
        values = [level_x, (1 << bit_depth) - 1 - level_x, 1 << (bit_depth - 1)]
        if colour_type in (4, 6):
            values.append((1 << bit_depth) - 1 if x > width // 4 else level_x)
        pixel = (values[: channels - 1] + values[-1:]) if colour_type == 4 else values
        for value in pixel[:channels]:
            row += value.to_bytes(sample, "big")
    first = b"\0" + bytes(row)
    same = b"\2" + bytes(len(row))
    packer = zlib.compressobj(level)
    idat = [packer.compress(first)]
    idat += [packer.compress(same) for _ in range(height - 1)]
    idat.append(packer.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", b"".join(idat))
            + _chunk(b"IEND", b""))


def big_rgba16_png(width: int = 6000, height: int = 6600) -> bytes:
    """The audit's case: ~300 KB that used to cost +723 MB at peak."""
    return streamed_png(width, height, bit_depth=16, colour_type=6)


def progressive_jpeg(width: int, height: int, *, quality: int = 90) -> bytes:
    return saved(gradient(width, height), "JPEG", quality=quality, progressive=True)


def repeated_scan_jpeg(width: int = 4000, height: int = 4000, repeats: int = 500) -> bytes:
    """A real progressive JPEG with its last scan spliced in ``repeats`` more times.

    The picture is flat, so each scan is a few bytes of end-of-block runs, yet every copy
    is a decoding pass over all blocks: 110 KB at 4000×4000 costs seconds.
    """
    flat = Image.new("RGB", (width, height), (120, 60, 200))
    data = saved(flat, "JPEG", quality=90, progressive=True)
    eoi = data.rindex(b"\xff\xd9")
    last_scan = data.rindex(b"\xff\xda", 0, eoi)
    return data[:eoi] + data[last_scan:eoi] * repeats + data[eoi:]


def jpeg_scan_count(data: bytes) -> int:
    """SOS markers in a JPEG written by Pillow (no APPn segments hold FF DA by chance)."""
    return data.count(b"\xff\xda")


# --- odd but fine ------------------------------------------------------------------------


def thin(width: int, height: int) -> bytes:
    return saved(gradient(width, height), "PNG")


def grey16_png(width: int = 120, height: int = 90) -> bytes:
    return streamed_png(width, height, bit_depth=16, colour_type=0)


def rgba16_png(width: int = 120, height: int = 90) -> bytes:
    return streamed_png(width, height, bit_depth=16, colour_type=6)


def cmyk_jpeg() -> bytes:
    return saved(Image.new("CMYK", (80, 60), (0, 255, 255, 0)), "JPEG", quality=95)


def exif_rotated_jpeg(orientation: int = 6) -> bytes:
    """60×20 stored, white stripe on the stored left edge; displays as 20×60 for 6/8."""
    img = Image.new("RGB", (60, 20), (0, 0, 0))
    img.paste((255, 255, 255), (0, 0, 10, 20))
    exif = Image.Exif()
    exif[0x0112] = orientation
    return saved(img, "JPEG", quality=95, exif=exif.tobytes())


def mpo(width: int = 96, height: int = 64) -> bytes:
    """A two-frame MPO, as phone cameras write (they arrive with a .jpg name)."""
    left, right = gradient(width, height), gradient(width, height).transpose(
        Image.Transpose.FLIP_LEFT_RIGHT)
    return saved(left, "MPO", save_all=True, append_images=[right])


def avif(width: int = 96, height: int = 64) -> bytes:
    return saved(gradient(width, height), "AVIF", quality=80)


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (48, 48), c) for c in ((250, 0, 0), (0, 0, 250))]
    return saved(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)


def animated_webp() -> bytes:
    frames = [Image.new("RGB", (48, 48), c) for c in ((0, 240, 0), (240, 0, 0))]
    return saved(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True)


def tiff() -> bytes:
    return saved(gradient(120, 80), "TIFF", compression="tiff_lzw")


def bmp() -> bytes:
    return saved(gradient(120, 80), "BMP")


#: every class of upload the decoder must survive, by name; each makes its bytes when called
CATALOGUE: dict[str, Callable[[], bytes]] = {
    "empty": empty,
    "random bytes": random_bytes,
    "text": text,
    "truncated jpeg": truncated_jpeg,
    "truncated png": truncated_png,
    "png header bomb": png_header_bomb,
    "png moderate bomb": lambda: png_header_bomb(9000, 9000),
    "jpeg header bomb": jpeg_header_bomb,
    "gif header bomb": gif_header_bomb,
    "bmp header bomb": bmp_header_bomb,
    "webp header bomb": webp_header_bomb,
    "tiff header bomb": tiff_header_bomb,
    "ico with png": lambda: ico_with_png(600),
    "psd": psd_header,
    "eps": eps_header,
    "heic": heic_header,
    "animated gif": animated_gif,
    "animated webp": animated_webp,
    "repeated-scan jpeg": lambda: repeated_scan_jpeg(1000, 1000, 200),
    "thin tall": lambda: thin(16, 400),
    "thin wide": lambda: thin(400, 16),
    "16-bit grey png": grey16_png,
    "16-bit rgba png": rgba16_png,
    "cmyk jpeg": cmyk_jpeg,
    "exif-rotated jpeg": exif_rotated_jpeg,
    "mpo": mpo,
    "avif": avif,
    "tiff": tiff,
    "bmp": bmp,
    "progressive jpeg": lambda: progressive_jpeg(800, 600),
}


#: what each class of upload must become: an error's reason, or None for a Picture
EXPECTED: dict[str, str | None] = {
    "empty": "not_image", "random bytes": "not_image", "text": "not_image",
    "truncated jpeg": "corrupt", "truncated png": "corrupt",
    "png header bomb": "too_many_pixels", "png moderate bomb": "too_many_pixels",
    "jpeg header bomb": "too_many_pixels", "gif header bomb": "too_many_pixels",
    "bmp header bomb": "too_many_pixels", "webp header bomb": "too_many_pixels",
    "tiff header bomb": "too_many_pixels",
    "ico with png": "format", "psd": "format", "eps": "format", "heic": "format",
    "animated gif": None, "animated webp": None, "repeated-scan jpeg": "scans",
    "thin tall": "thin", "thin wide": "thin", "16-bit grey png": None,
    "16-bit rgba png": None, "cmyk jpeg": None, "exif-rotated jpeg": None, "mpo": None,
    "avif": None, "tiff": None, "bmp": None, "progressive jpeg": None,
}
