"""Every odd or hostile upload either decodes to upright 8-bit RGB or raises a typed error,
and whatever can be refused is refused before a pixel is decoded."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest
from PIL import IcoImagePlugin, Image, ImageFile, JpegImagePlugin

import nst_engine
from nst_engine import errors
from nst_engine.errors import (
    CorruptImageError,
    FileTooLargeError,
    ImageTooSmallError,
    ImageTooThinError,
    InputImageError,
    NotAnImageError,
    TooManyPixelsError,
    TooManyScansError,
    UnsupportedFormatError,
)
from nst_engine.images import (
    ImageLimits,
    count_jpeg_scans,
    encode,
    fit_size,
    load_image,
    resize,
    webp_size,
)
from tests.conftest import gradient_image, png_bytes
from tests.helpers import bad_images as bad


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


# --- torch-free and lazy -----------------------------------------------------------------


def test_images_and_errors_import_without_torch() -> None:
    code = ("import sys, nst_engine.images\nfrom nst_engine import InputImageError, load_image\n"
            "assert 'torch' not in sys.modules, 'torch'\nassert 'numpy' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_public_api_is_unchanged_and_lazy_names_resolve() -> None:
    from nst_engine.pipeline import Result, stylize

    assert nst_engine.stylize is stylize and nst_engine.Result is Result
    assert all(hasattr(nst_engine, name) for name in nst_engine.__all__)
    assert {"stylize", "Result", "load_image", "InputImageError"} <= set(dir(nst_engine))
    with pytest.raises(AttributeError):
        _ = nst_engine.no_such_name


# --- typed errors for metrics and translation --------------------------------------------


def test_every_input_error_has_its_own_reason() -> None:
    classes = [c for c in vars(errors).values()
               if isinstance(c, type) and issubclass(c, InputImageError)
               and c is not InputImageError]
    reasons = [c.reason for c in classes]
    assert len(set(reasons)) == len(classes) >= 10
    assert all(r and r.replace("_", "").isalpha() and r.islower() for r in reasons)


def test_details_carry_the_numbers_of_the_message() -> None:
    with pytest.raises(TooManyPixelsError) as err:
        load_image(bad.png_header_bomb(9000, 9000), what="style image")
    assert err.value.details == {"what": "style image", "width": 9000, "height": 9000,
                                 "max_megapixels": 40}
    assert err.value.reason == "too_many_pixels"
    assert all(str(v) in str(err.value) for v in err.value.details.values())


def test_details_survive_pickling() -> None:
    import pickle

    error = ImageTooThinError("too thin", what="image", width=16, height=400, max_aspect=20)
    copy = pickle.loads(pickle.dumps(error))
    assert str(copy) == "too thin" and copy.details == error.details


# --- formats: an allow-list, checked before any plugin outside it runs -------------------


@pytest.mark.parametrize("data,fmt", [(bad.ico_with_png(300), "ICO"), (bad.psd_header(), "PSD"),
                                      (bad.eps_header(), "EPS"), (bad.heic_header(), "HEIC")])
def test_other_formats_are_refused_naming_what_to_send(data: bytes, fmt: str) -> None:
    with pytest.raises(UnsupportedFormatError) as err:
        load_image(data)
    assert err.value.reason == "format" and err.value.details["format"] == fmt
    assert "JPEG, PNG, WebP, GIF, BMP, TIFF or AVIF" in str(err.value)


def test_ico_plugin_never_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pillow's ICO plugin decodes the embedded PNG while merely opening the file."""
    def boom(self: object) -> None:
        raise AssertionError("the ICO plugin ran")

    monkeypatch.setattr(IcoImagePlugin.IcoImageFile, "_open", boom)
    with pytest.raises(UnsupportedFormatError):
        load_image(bad.ico_with_png(300))


@pytest.mark.parametrize("make", [bad.mpo, bad.avif, bad.tiff, bad.bmp, bad.animated_gif,
                                  bad.animated_webp])
def test_accepted_formats_decode(make) -> None:
    img = load_image(make())
    assert img.mode == "RGB" and min(img.size) >= 16


def test_mpo_opens_as_mpo_and_uses_its_first_frame() -> None:
    data = bad.mpo()
    assert Image.open(io.BytesIO(data)).format == "MPO"
    left = load_image(data)
    assert left.getpixel((2, 32))[0] < left.getpixel((93, 32))[0]  # not the mirrored frame


# --- dimensions from the header, before decoding -----------------------------------------


@pytest.mark.parametrize("make", [bad.png_header_bomb, bad.jpeg_header_bomb,
                                  bad.gif_header_bomb, bad.bmp_header_bomb,
                                  bad.webp_header_bomb, bad.tiff_header_bomb,
                                  lambda: bad.png_header_bomb(9000, 9000)])
def test_bombs_by_header_are_refused_before_loading(make, monkeypatch: pytest.MonkeyPatch
                                                    ) -> None:
    def boom(self: object) -> None:
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", boom)
    with pytest.raises(TooManyPixelsError, match="pixels"):
        load_image(make())


def test_webp_canvas_is_read_before_libwebp_allocates_it() -> None:
    assert webp_size(bad.webp_header_bomb(10_000, 9_000)) == (10_000, 9_000)
    assert webp_size(bad.saved(gradient_image(40, 30), "WEBP", quality=80)) == (40, 30)
    assert webp_size(bad.saved(gradient_image(40, 30, "RGBA"), "WEBP", exif=b"Exif\0\0")) \
        == (40, 30)
    assert webp_size(b"RIFF") is None


@pytest.mark.filterwarnings("error")
def test_pillows_bomb_warning_is_harmless_even_as_an_error() -> None:
    """Between Pillow's warning (89 MP) and error (179 MP) limits: refused by our cap, even
    where warnings are turned into errors (the library has no catch_warnings: it is not
    thread-safe)."""
    with pytest.raises(TooManyPixelsError):
        load_image(bad.png_header_bomb(10_000, 10_000))


@pytest.mark.parametrize("size", [(16, 400), (400, 16), (21 * 30, 30)])
def test_thin_images_are_refused(size: tuple[int, int]) -> None:
    with pytest.raises(ImageTooThinError, match=r"too (wide|tall)") as err:
        load_image(bad.thin(*size))
    assert err.value.reason == "thin" and err.value.details["max_aspect"] == 20


def test_aspect_limit_is_inclusive_and_configurable() -> None:
    assert load_image(bad.thin(20 * 30, 30)).size == (600, 30)
    with pytest.raises(ImageTooThinError):
        load_image(bad.thin(60, 30), limits=ImageLimits(max_aspect=1.5))


# --- JPEG scans: counted by walking the markers, refused before decoding -----------------


def test_scan_counts_of_ordinary_files() -> None:
    assert count_jpeg_scans(bad.saved(gradient_image(64, 48), "JPEG")) == 1
    assert count_jpeg_scans(bad.progressive_jpeg(64, 48)) == 10
    grey = bad.saved(gradient_image(64, 48, "L"), "JPEG", progressive=True)
    assert count_jpeg_scans(grey) == 6
    assert count_jpeg_scans(bad.saved(Image.new("CMYK", (64, 48)), "JPEG",
                                      progressive=True)) == 18


def test_scan_count_skips_restart_markers_and_stuffed_bytes() -> None:
    data = bad.saved(gradient_image(400, 300), "JPEG", progressive=True, restart_marker_rows=1)
    assert any(bytes([0xFF, 0xD0 + i]) in data for i in range(8))
    assert count_jpeg_scans(data) == 10
    noisy = bad.saved(bad.noisy(200, 150), "JPEG", quality=100)  # many stuffed FF 00
    assert noisy.count(b"\xff\x00") > 10 and count_jpeg_scans(noisy) == 1


def test_scan_count_ignores_markers_inside_app_segments() -> None:
    """An EXIF thumbnail (here a progressive JPEG with 10 scans) is not decoded."""
    thumbnail = bad.progressive_jpeg(64, 48)
    payload = b"Exif\0\0" + thumbnail
    data = bad.saved(gradient_image(64, 48), "JPEG")
    app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    crafted = data[:2] + app1 + data[2:]
    assert crafted.count(b"\xff\xda") == 11 and count_jpeg_scans(crafted) == 1
    assert load_image(crafted).size == (64, 48)


def test_scan_count_stops_at_the_first_image_of_an_mpo() -> None:
    data = bad.mpo()
    assert data.count(b"\xff\xda") == 2 and count_jpeg_scans(data) == 1


def test_repeated_scan_jpeg_is_refused_without_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    data = bad.repeated_scan_jpeg(1000, 1000, 300)
    assert count_jpeg_scans(data) == bad.jpeg_scan_count(data) == 310

    def boom(self: object) -> None:
        raise AssertionError("the JPEG was decoded")

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "load", boom)
    with pytest.raises(TooManyScansError) as err:
        load_image(data, what="photo")
    assert err.value.details == {"what": "photo", "scans": 310, "max_scans": 32}


def test_scan_limit_is_inclusive() -> None:
    data = bad.repeated_scan_jpeg(64, 64, 22)  # 10 + 22 = 32
    assert load_image(data).size == (64, 64)
    with pytest.raises(TooManyScansError):
        load_image(data, limits=ImageLimits(max_jpeg_scans=31))


# --- decoding at about the size needed ---------------------------------------------------


def test_max_side_decodes_jpeg_at_a_reduced_scale(monkeypatch: pytest.MonkeyPatch) -> None:
    drafts: list[tuple[int, int]] = []
    real = JpegImagePlugin.JpegImageFile.draft

    def spy(self, mode, size):  # type: ignore[no-untyped-def]
        result = real(self, mode, size)
        drafts.append(self.size)
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    img = load_image(bad.saved(gradient_image(1600, 1200), "JPEG"), max_side=300)
    assert drafts == [(400, 300)]  # libjpeg's 1/4 scale: the smallest still ≥ 300
    assert img.size == (300, 225)


@pytest.mark.parametrize("data", [bad.streamed_png(1000, 700, bit_depth=16, colour_type=6),
                                  bad.streamed_png(1000, 700, bit_depth=16, colour_type=0),
                                  bad.saved(gradient_image(1000, 700).convert("P"), "GIF",
                                            transparency=0),
                                  bad.saved(gradient_image(1000, 700, "LA"), "PNG"),
                                  bad.saved(gradient_image(1000, 700, "CMYK"), "TIFF")],
                         ids=["rgba16", "grey16", "gif-transparency", "la", "cmyk-tiff"])
def test_max_side_shrinks_other_formats(data: bytes) -> None:
    full = load_image(data)
    small = load_image(data, max_side=200)
    assert small.mode == "RGB" and small.size == (200, 140)
    reference = np.asarray(resize(full, 200), dtype=float)
    assert np.abs(np.asarray(small, dtype=float) - reference).mean() < 3


def test_max_side_keeps_alpha_flattened_on_white() -> None:
    rgba = Image.new("RGBA", (800, 600), (255, 0, 0, 255))
    rgba.paste((0, 0, 255, 0), (0, 0, 400, 600))
    img = load_image(png_bytes(rgba), max_side=100)
    assert img.getpixel((10, 40)) == (255, 255, 255)
    assert img.getpixel((90, 40)) == (255, 0, 0)


@pytest.mark.parametrize("orientation,size", [(6, (75, 225)), (8, (75, 225)), (3, (225, 75))])
def test_max_side_keeps_exif_orientation(orientation: int, size: tuple[int, int]) -> None:
    src = Image.new("RGB", (1800, 600), (0, 0, 0))
    src.paste((255, 255, 255), (0, 0, 300, 600))  # white on the stored left edge
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = bad.saved(src, "JPEG", quality=95, exif=exif.tobytes())
    img = load_image(data, max_side=225)
    assert img.size == size
    full = load_image(data)
    assert np.abs(np.asarray(resize(full, 225), dtype=float)
                  - np.asarray(img, dtype=float)).mean() < 3
    white = {6: (37, 5), 8: (37, 220), 3: (220, 37)}[orientation]
    assert sum(img.getpixel(white)) > 700


def test_max_side_on_a_decoded_image() -> None:
    src = gradient_image(900, 600, "RGBA")
    img = load_image(src, max_side=300)
    assert img.size == (300, 200) and img.mode == "RGB"
    assert src.mode == "RGBA"  # the caller's image is left alone


def test_16_bit_rgba_is_scaled_and_flattened() -> None:
    img = load_image(bad.rgba16_png(120, 90))
    assert img.mode == "RGB" and img.size == (120, 90)
    r, g, b = img.getpixel((100, 45))  # opaque there: R ramps up, G down, B mid-grey
    assert abs(b - 128) <= 1 and abs(r + g - 255) <= 2


def test_float_images_are_scaled() -> None:
    arr = np.full((30, 40), 0.5, dtype=np.float32)
    img = load_image(bad.saved(Image.fromarray(arr), "TIFF"))
    assert abs(img.getpixel((5, 5))[0] - 128) <= 1
