"""A Picture keeps a decoded upload small and cheap: JPEG 95 at 4:4:4, plus a thumbnail."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image, JpegImagePlugin

from bot.core.pictures import THUMBNAIL_SIDE, Picture
from tests.conftest import gradient_image, png_bytes


@pytest.fixture
def picture() -> Picture:
    return Picture.from_image(gradient_image(900, 600))


def test_stores_a_jpeg_without_chroma_subsampling(picture: Picture) -> None:
    assert (picture.width, picture.height) == (900, 600)
    stored = Image.open(io.BytesIO(picture.data))
    assert stored.format == "JPEG" and stored.size == (900, 600)
    assert JpegImagePlugin.get_sampling(stored) == 0  # 4:4:4


def test_open_gives_back_the_picture(picture: Picture) -> None:
    original = np.asarray(gradient_image(900, 600), dtype=float)
    img = picture.open()
    assert img.mode == "RGB" and img.size == (900, 600)
    assert np.abs(np.asarray(img, dtype=float) - original).mean() < 1.5  # quality 95


def test_thumbnail_is_a_small_jpeg(picture: Picture) -> None:
    thumb = Image.open(io.BytesIO(picture.thumbnail))
    assert thumb.format == "JPEG" and thumb.size == (THUMBNAIL_SIDE, 213)
    tiny = Picture.from_image(gradient_image(100, 80))
    assert Image.open(io.BytesIO(tiny.thumbnail)).size == (100, 80)  # never upscaled


def test_digest_is_the_sha256_of_the_data_and_cached(picture: Picture) -> None:
    assert picture.digest == hashlib.sha256(picture.data).hexdigest()
    assert picture.__dict__["digest"] == picture.digest


def test_is_frozen_and_its_repr_is_short(picture: Picture) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        picture.width = 1  # type: ignore[misc]
    text = repr(picture)
    assert text.startswith("Picture(900×600") and len(text) < 80 and "\\x" not in text


def test_non_rgb_images_are_converted() -> None:
    picture = Picture.from_image(gradient_image(64, 48, "L"))
    assert picture.open().mode == "RGB"


def test_open_reads_only_what_we_wrote(picture: Picture) -> None:
    with pytest.raises(Exception, match="cannot identify"):
        dataclasses.replace(picture, data=png_bytes(gradient_image(900, 600))).open()
    with pytest.raises(ValueError, match="not 90×60"):
        dataclasses.replace(picture, width=90, height=60).open()


def test_module_is_torch_free() -> None:
    code = ("import sys, bot.core.pictures, bot.core.decoding\n"
            "assert 'torch' not in sys.modules and 'numpy' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
