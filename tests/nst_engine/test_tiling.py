"""Tiled refinement of large results: mechanics on a seeded RANDOM VGG19 at small sizes."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import torch

from nst_engine import Cancelled, Progress, Settings, stylize, tiling
from nst_engine.losses import WeightedGramMSE, gram
from nst_engine.pipeline import feature_extractor
from nst_engine.presets import DEFAULT
from nst_engine.tensors import to_tensor
from nst_engine.tiling import (
    OVERLAP,
    Level,
    hd_sizes,
    plan_levels,
    plan_tiles,
    refine_level,
    shares,
    spans,
    tiled_grams,
)
from tests.conftest import gradient_image, png_bytes, stripes_image


@pytest.fixture
def hd_settings(random_weights_path: Path) -> Settings:
    """Results above 128 px are painted at half size and refined in 128-px tiles."""
    return Settings(size=200, steps=4, paint_size=128, tile_size=128, tile_steps=2,
                    weights=str(random_weights_path), precision="fp32")


@pytest.mark.parametrize("length", [128, 129, 200, 300, 333, 961, 1000])
def test_tiles_cover_the_image_with_weights_that_sum_to_one(length: int) -> None:
    bounds = spans(length, 128)
    assert bounds[0][0] == 0 and bounds[-1][1] == length
    assert all(b - a == min(128, length) for a, b in bounds)
    for (_, end), (start, _) in itertools.pairwise(bounds):
        assert end - start >= OVERLAP  # neighbours overlap by at least OVERLAP
    total = torch.zeros(length)
    for (a, b), w in zip(bounds, shares(bounds, length), strict=True):
        assert (w >= 0).all() and (w <= 1).all()
        total[a:b] += w
    assert torch.allclose(total, torch.ones(length), atol=1e-6)


def test_two_dimensional_weights_are_a_partition_of_unity() -> None:
    tiles = plan_tiles(300, 333, 128)
    total = torch.zeros(1, 1, 300, 333)
    for t in tiles:
        total[..., t.top:t.top + t.height, t.left:t.left + t.width] += t.weight
    assert torch.allclose(total, torch.ones_like(total), atol=1e-6)
    # No ramp at the image border: a corner belongs to its tile alone.
    assert tiles[0].weight[0, 0, 0, 0] == 1.0


def test_hd_levels_double_up_to_the_full_size() -> None:
    assert hd_sizes(3072, 4096, 1024) == [(768, 1024), (1536, 2048), (3072, 4096)]
    assert hd_sizes(768, 1024, 1024) == [(768, 1024)]
    levels = plan_levels(150, 200, 128, 128, 3)
    assert [(lv.height, lv.width) for lv in levels] == [(150, 200)]
    assert levels[0].work == 3 * len(plan_tiles(150, 200, 128))


def test_weighted_gram_loss_gradient_matches_autograd() -> None:
    torch.manual_seed(0)
    features = torch.randn(1, 6, 5, 7, dtype=torch.float64)
    weight = torch.rand(35, 1, dtype=torch.float64)
    rest = gram(torch.randn(1, 6, 4, 4, dtype=torch.float64), normalised=False)
    target = gram(torch.randn(1, 6, 9, 9, dtype=torch.float64))
    x = features.clone().requires_grad_(True)
    WeightedGramMSE.apply(x, weight, rest, target, 51.0).backward()
    y = features.clone().requires_grad_(True)
    flat = y.permute(0, 2, 3, 1).reshape(35, 6)
    g = (rest + (flat * weight).T @ flat) / 51.0
    ((g - target) ** 2).mean().backward()
    assert torch.allclose(x.grad, y.grad, rtol=1e-10, atol=1e-12)


def test_tiled_gram_matches_the_whole_image(random_weights_path: Path) -> None:
    """Style targets come from the whole image: summing tile shares reproduces the Gram
    of one pass over the image, up to the tiles' padding at their inner edges."""
    extractor, _ = feature_extractor(str(random_weights_path), 11, "zeros", torch.device("cpu"))
    image = to_tensor(gradient_image(300, 260)).contiguous(memory_format=torch.channels_last)
    sums, counts = tiled_grams(extractor, image, (1, 6, 11), 128, dtype=None, stop=lambda: None)
    with torch.no_grad():
        whole = extractor(image, (1, 6, 11))
    for i in (1, 6, 11):
        expected = gram(whole[i])
        assert counts[i] == pytest.approx(whole[i].shape[-2] * whole[i].shape[-1], rel=0.02)
        error = (sums[i] / counts[i] - expected).norm() / expected.norm()
        assert error < 0.05


def test_blending_leaves_no_seams(random_weights_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Each tile comes back brightened by a different amount; the written-back image
    cross-fades over every overlap instead of stepping at a tile edge, and a refinement
    that changes nothing leaves a constant gradient exactly as it was."""
    extractor, _ = feature_extractor(str(random_weights_path), 29, "zeros", torch.device("cpu"))
    y, x = torch.meshgrid(torch.linspace(0, 1, 260), torch.linspace(0, 1, 300), indexing="ij")
    ramp = torch.stack([x * 0.5, y * 0.5, (x + y) / 4])[None]  # a constant gradient
    level = Level(260, 300, len(plan_tiles(260, 300, 128)), 1)
    targets = {i: torch.eye({1: 64, 6: 128, 11: 256, 20: 512, 29: 512}[i]) * 0.01
               for i in DEFAULT.style_layers}

    def refine_with(offsets: list[float]) -> torch.Tensor:
        calls = iter(offsets)
        monkeypatch.setattr(tiling, "optimise",
                            lambda image, *a, **k: image + next(calls))
        return refine_level(ramp.clone(), ramp.clone(), level=level, recipe=DEFAULT,
                            extractor=extractor, targets=targets, style_weight=5.0, tile=128,
                            dtype=None, stop=lambda: None, on_step=lambda *a: None,
                            on_tile=lambda image: None)

    unchanged = refine_with([0.0] * level.tiles)
    assert torch.allclose(unchanged, ramp, atol=1e-6)
    offsets = [0.3 * (i % 2) for i in range(level.tiles)]  # neighbours differ by 0.3
    blended = refine_with(offsets) - ramp
    steps = torch.cat([(blended[..., :, 1:] - blended[..., :, :-1]).abs().flatten(),
                       (blended[..., 1:, :] - blended[..., :-1, :]).abs().flatten()])
    assert steps.max() <= 0.3 / (OVERLAP / 2)  # a ramp across the overlap, never a step
    assert blended.max() <= 0.3 + 1e-6 and blended.min() >= -1e-6


def test_large_results_are_painted_small_then_refined_in_tiles(hd_settings: Settings) -> None:
    seen: list[Progress] = []
    result = stylize(png_bytes(gradient_image(200, 150)), png_bytes(stripes_image(96, 96)),
                     settings=hd_settings, on_progress=seen.append)
    assert result.image.size == (200, 150)
    assert result.scales[-1] == (200, 150) and max(result.scales[-2]) <= 128
    tiles = len(plan_tiles(150, 200, 128))
    assert result.steps == 4 + 2 * tiles
    assert [p.step for p in seen] == list(range(result.steps + 1))
    assert all(p.total == result.steps for p in seen)
    assert seen[0].preview is not None and seen[-1].preview is not None  # start and end
    refining = [p for p in seen if p.scale == p.scales]
    assert len(refining) == 2 * tiles and all(p.size == (200, 150) for p in refining)
    assert seen[-1].eta == 0


def test_cancel_stops_inside_the_tiled_refinement(hd_settings: Settings) -> None:
    steps: list[Progress] = []

    def stop() -> bool:
        return any(p.scale == p.scales for p in steps)  # as soon as tiling has begun

    with pytest.raises(Cancelled):
        stylize(png_bytes(gradient_image(200, 150)), png_bytes(stripes_image(96, 96)),
                settings=hd_settings, on_progress=steps.append, should_stop=stop)
    refining = [p for p in steps if p.scale == p.scales]
    assert len(refining) == 1  # stopped within the next step


def test_cancel_is_checked_between_tiles(hd_settings: Settings,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Analysing the painting and the image for a level (no steps yet) honours a cancel."""
    calls: list[int] = []
    real = tiling.tiled_grams

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(tiling, "tiled_grams", counting)
    with pytest.raises(Cancelled):
        stylize(png_bytes(gradient_image(200, 150)), png_bytes(stripes_image(96, 96)),
                settings=hd_settings, should_stop=lambda: bool(calls))
    assert len(calls) == 1


@pytest.mark.slow  # the real AdaIN decoder, as in test_real_weights
def test_fast_preset_runs_in_tiles_above_paint_size(random_weights_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    used: list[int] = []
    real = tiling.plan_tiles
    monkeypatch.setattr(tiling, "plan_tiles", lambda *a, **k: used.append(1) or real(*a, **k))
    settings = Settings(preset="fast", size=200, paint_size=128, tile_size=128)
    result = stylize(png_bytes(gradient_image(200, 150)), png_bytes(stripes_image(96, 96)),
                     settings=settings)
    assert result.image.size == (200, 150) and used
