"""Every odd or hostile upload either decodes to upright 8-bit RGB or raises a typed error."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from nst_engine.errors import (
    CorruptImageError,
    FileTooLargeError,
    ImageTooSmallError,
    InputImageError,
    NotAnImageError,
    TooManyPixelsError,
)
from nst_engine.images import ImageLimits, encode, fit_size, load_image, resize
from tests.conftest import gradient_image, png_bytes


def saved(img: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width``×``height``: a decompression bomb's calling card."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))


@pytest.mark.parametrize("data", [b"hello, I am plain text", b"%PDF-1.7\n%\xe2\xe3\n1 0 obj",
                                  b"\x00" * 100, b"GIF89a"])
def test_non_images_are_refused(data: bytes) -> None:
    with pytest.raises((NotAnImageError, CorruptImageError)) as err:
        load_image(data)
    assert "JPEG" in str(err.value) or "damaged" in str(err.value)


def test_empty_upload() -> None:
    with pytest.raises(NotAnImageError, match="empty"):
        load_image(b"")


def test_truncated_jpeg_is_corrupt() -> None:
    data = saved(gradient_image(200, 150), "JPEG", quality=90)
    with pytest.raises(CorruptImageError, match="damaged or cut off"):
        load_image(data[: len(data) // 2])


def test_garbled_png_is_corrupt() -> None:
    data = bytearray(png_bytes(gradient_image(120, 90)))
    data[60:200] = bytes(range(140))
    with pytest.raises(CorruptImageError):
        load_image(bytes(data))


@pytest.mark.parametrize("size", [(8000, 6000), (60000, 60000)])
def test_decompression_bombs_are_refused_before_decoding(size: tuple[int, int]) -> None:
    with pytest.raises(TooManyPixelsError, match="pixels"):
        load_image(png_header_only(*size))


def test_byte_cap() -> None:
    data = png_bytes(gradient_image(64, 64))
    with pytest.raises(FileTooLargeError, match="limit is"):
        load_image(data, limits=ImageLimits(max_bytes=len(data) - 1))


def test_byte_cap_on_paths_checks_size_first(tmp_path) -> None:
    path = tmp_path / "big.png"
    path.write_bytes(png_bytes(gradient_image(64, 64)))
    with pytest.raises(FileTooLargeError):
        load_image(path, limits=ImageLimits(max_bytes=10))


def test_tiny_images_are_refused() -> None:
    with pytest.raises(ImageTooSmallError, match="at least 16"):
        load_image(png_bytes(gradient_image(8, 40)))


def test_errors_name_which_image() -> None:
    with pytest.raises(InputImageError, match="style image"):
        load_image(b"nope", what="style image")


def test_animated_gif_uses_first_frame() -> None:
    frames = [Image.new("RGB", (32, 32), c) for c in ((250, 0, 0), (0, 0, 250))]
    data = saved(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    img = load_image(data)
    r, _g, b = img.getpixel((16, 16))
    assert r > 200 and b < 50


def test_animated_webp_uses_first_frame() -> None:
    frames = [Image.new("RGB", (32, 32), c) for c in ((0, 240, 0), (240, 0, 0))]
    data = saved(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True)
    assert load_image(data).getpixel((16, 16))[1] > 200


def test_cmyk_becomes_rgb() -> None:
    cmyk = Image.new("CMYK", (40, 30), (0, 255, 255, 0))  # pure red ink mix
    img = load_image(saved(cmyk, "JPEG", quality=95))
    assert img.mode == "RGB"
    r, g, b = img.getpixel((20, 15))
    assert r > 200 and g < 60 and b < 60


def test_16_bit_grayscale_is_scaled_not_clipped() -> None:
    arr = np.full((30, 40), 32768, dtype=np.uint16)
    img16 = Image.fromarray(arr)
    assert img16.mode.startswith("I")
    img = load_image(png_bytes(img16))
    assert img.mode == "RGB"
    assert abs(img.getpixel((5, 5))[0] - 128) <= 1  # half of 16-bit range, not 255


def test_alpha_is_composited_on_white() -> None:
    rgba = Image.new("RGBA", (40, 30), (255, 0, 0, 255))
    rgba.paste((0, 0, 255, 0), (0, 0, 20, 30))  # left half fully transparent blue
    img = load_image(png_bytes(rgba))
    assert img.getpixel((5, 5)) == (255, 255, 255)
    assert img.getpixel((30, 5)) == (255, 0, 0)


def test_palette_with_transparency() -> None:
    pal = Image.new("P", (40, 30), 0)
    pal.putpalette([0, 0, 0, 10, 200, 10] + [0] * 762)
    pal.paste(1, (20, 0, 40, 30))
    pal.info["transparency"] = 0
    img = load_image(png_bytes(pal, transparency=0))
    assert img.getpixel((5, 5)) == (255, 255, 255)
    assert img.getpixel((30, 5)) == (10, 200, 10)


def test_grayscale_becomes_rgb() -> None:
    img = load_image(png_bytes(Image.new("L", (40, 30), 77)))
    assert img.mode == "RGB" and img.getpixel((1, 1)) == (77, 77, 77)


def test_exif_orientation_is_honoured() -> None:
    src = Image.new("RGB", (60, 20), (0, 0, 0))
    src.paste((255, 255, 255), (0, 0, 10, 20))  # white stripe on the left edge
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: display rotated 90° clockwise
    img = load_image(saved(src, "JPEG", quality=95, exif=exif.tobytes()))
    assert img.size == (20, 60)
    assert sum(img.getpixel((10, 2))) > 600  # the left edge is now on top


def test_broken_icc_profile_is_ignored() -> None:
    img = load_image(saved(gradient_image(40, 30), "PNG", icc_profile=b"not a profile"))
    assert img.size == (40, 30)


def test_fit_size_never_upscales() -> None:
    assert fit_size(100, 80, 512) == (100, 80)
    assert fit_size(1000, 500, 512) == (512, 256)
    assert resize(gradient_image(100, 80), 512).size == (100, 80)


@pytest.mark.parametrize("fmt,magic", [("png", b"\x89PNG"), ("jpeg", b"\xff\xd8")])
def test_encode(fmt: str, magic: bytes) -> None:
    data = encode(gradient_image(40, 30), fmt)
    assert data.startswith(magic)
    assert Image.open(io.BytesIO(data)).size == (40, 30)
