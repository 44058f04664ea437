"""stylize() mechanics on a seeded RANDOM VGG19 (fast; says nothing about looks).

Real-weight behaviour is in test_real_weights.py.
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import pytest
import torch

from nst_engine import Cancelled, Progress, Settings, SettingsError, stylize
from nst_engine.color import _RGB_TO_YCC
from nst_engine.objective import StyleTargetCache
from nst_engine.optimize import MIN_SHORT_SIDE, plan_scales
from nst_engine.presets import DEFAULT, RECIPES, SEED
from nst_engine.tensors import to_tensor
from tests.conftest import gradient_image, png_bytes, stripes_image


@pytest.fixture
def fast_settings(random_weights_path: Path) -> Settings:
    return Settings(size=64, steps=6, weights=str(random_weights_path), precision="fp32")


def test_seed_preset_is_the_founding_recipe() -> None:
    assert RECIPES["seed"] is SEED
    # torchvision's features[:29] collected at 0, 5, 10, 19, 28 with its in-place ReLUs
    assert SEED.content_layers == SEED.style_layers == (1, 6, 11, 20, 28)
    assert (SEED.normalised_gram, SEED.relative) == (False, False)  # raw Grams, plain MSE
    assert (SEED.content_weight, SEED.style_weight_at(5.0)) == (1.0, 0.01)
    assert (SEED.optimizer, SEED.lr, SEED.steps, SEED.init) == ("adam", 0.01, 1000, "content")
    assert SEED.min_scale == 0 and SEED.preview_every == 100 and SEED.tv_weight == 0
    assert SEED.padding == "zeros"  # torchvision's features


def test_seed_preset_runs_single_scale_with_snapshots_every_100(fast_settings: Settings) -> None:
    seen: list[Progress] = []
    result = stylize(png_bytes(gradient_image(40, 32)), png_bytes(stripes_image(32, 32)),
                     settings=fast_settings.replace(preset="seed", steps=200),
                     on_progress=seen.append)
    assert result.scales == [(40, 32)]
    assert [p.step for p in seen if p.preview is not None] == [0, 100, 200]


def test_schedule_is_coarse_to_fine_and_spends_the_steps() -> None:
    plan = plan_scales(384, 512, DEFAULT, 100)
    longs = [max(s.height, s.width) for s in plan]
    assert longs == sorted(longs) and longs[-1] == 512 and longs[0] >= DEFAULT.min_scale
    assert sum(s.steps for s in plan) == 100
    assert plan[0].steps > plan[-1].steps  # coarse steps are the cheap ones
    assert all(min(s.height, s.width) >= MIN_SHORT_SIDE for s in plan)


def test_schedule_with_few_steps_keeps_the_finest_scales() -> None:
    plan = plan_scales(384, 512, DEFAULT, 2)
    assert [s.steps for s in plan] == [1, 1] and (plan[-1].height, plan[-1].width) == (384, 512)


def test_small_images_are_not_upscaled(fast_settings: Settings) -> None:
    result = stylize(png_bytes(gradient_image(50, 40)), png_bytes(stripes_image(64, 64)),
                     settings=fast_settings.replace(size=512))
    assert result.image.size == (50, 40)
    assert all(w <= 50 and h <= 40 for w, h in result.scales)


def test_aspect_ratio_is_kept(fast_settings: Settings) -> None:
    result = stylize(png_bytes(gradient_image(300, 100)), png_bytes(stripes_image(64, 64)),
                     settings=fast_settings.replace(size=120))
    assert result.image.size == (120, 40)


def test_progress_reports_every_step_with_eta(fast_settings: Settings) -> None:
    seen: list[Progress] = []
    stylize(png_bytes(gradient_image(64, 64)), png_bytes(stripes_image(64, 64)),
            settings=fast_settings.replace(steps=8, preview_every=3), on_progress=seen.append)
    assert [p.step for p in seen] == list(range(9))  # step 0: the starting image
    assert all(p.total == 8 for p in seen)
    assert [p.step for p in seen if p.preview is not None] == [0, 3, 6, 8]
    assert all(max(p.preview.size) <= 256 for p in seen if p.preview is not None)
    assert {"content", "style", "total"} <= set(seen[-1].losses)
    assert seen[0].eta is None and seen[-2].eta is not None and seen[-1].eta == 0
    assert all(a.elapsed <= b.elapsed for a, b in itertools.pairwise(seen))
    assert seen[-1].scale == seen[-1].scales


def test_previews_can_follow_the_clock(fast_settings: Settings) -> None:
    """preview_seconds: the start image, then at most one per interval, and the last step."""
    seen: list[Progress] = []
    stylize(png_bytes(gradient_image(64, 64)), png_bytes(stripes_image(64, 64)),
            settings=fast_settings.replace(steps=12, preview_seconds=3600.0),
            on_progress=seen.append)
    assert [p.step for p in seen if p.preview is not None] == [0, 12]
    seen.clear()
    stylize(png_bytes(gradient_image(64, 64)), png_bytes(stripes_image(64, 64)),
            settings=fast_settings.replace(steps=5, preview_seconds=0.0),
            on_progress=seen.append)
    assert [p.step for p in seen if p.preview is not None] == [0, 1, 2, 3, 4, 5]


def test_should_stop_is_honoured_between_phases_too(
    fast_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cancel that arrives while the painting is analysed stops before the AdaIN start
    and before any step, not only at the next step."""
    from nst_engine import pipeline

    started_adain: list[int] = []
    real = pipeline.adain_transfer
    monkeypatch.setattr(pipeline, "adain_transfer",
                        lambda *a, **k: started_adain.append(1) or real(*a, **k))
    checks: list[int] = []
    with pytest.raises(Cancelled):
        stylize(gradient_image(64, 48), stripes_image(64, 64), settings=fast_settings,
                should_stop=lambda: bool(checks.append(1)) or len(checks) > 1)
    assert not started_adain


def test_should_stop_cancels_within_one_step(fast_settings: Settings) -> None:
    steps: list[int] = []
    with pytest.raises(Cancelled):
        stylize(png_bytes(gradient_image(64, 64)), png_bytes(stripes_image(64, 64)),
                settings=fast_settings.replace(steps=50),
                on_progress=lambda p: steps.append(p.step),
                should_stop=lambda: len(steps) >= 4)
    assert steps == [0, 1, 2, 3]


def test_style_targets_are_cached(fast_settings: Settings) -> None:
    cache = StyleTargetCache()
    args = (png_bytes(gradient_image(64, 64)), png_bytes(stripes_image(64, 64)))
    stylize(*args, settings=fast_settings, cache=cache)
    misses = cache.misses
    stylize(*args, settings=fast_settings.replace(strength=8), cache=cache)
    assert cache.misses == misses and cache.hits >= misses


def test_blend_weight_zero_equals_single_style(fast_settings: Settings) -> None:
    content, a, b = png_bytes(gradient_image(64, 48)), png_bytes(stripes_image(64, 64)), \
        png_bytes(gradient_image(64, 64, seed=5))
    single = stylize(content, a, settings=fast_settings)
    blended = stylize(content, [a, b], settings=fast_settings.replace(style_weights=(1.0, 0.0)))
    diff = (to_tensor(single.image) - to_tensor(blended.image)).abs().max()
    assert diff <= 2 / 255


def test_blend_weights_must_match_styles(fast_settings: Settings) -> None:
    with pytest.raises(SettingsError, match="one non-negative weight per style image"):
        stylize(png_bytes(gradient_image(64, 48)), [png_bytes(stripes_image(64, 64))],
                settings=fast_settings.replace(style_weights=(1.0, 2.0)))


def test_preserve_colors_keeps_the_photos_chroma(fast_settings: Settings) -> None:
    content = gradient_image(64, 48)
    result = stylize(png_bytes(content), png_bytes(stripes_image(64, 64)),
                     settings=fast_settings.replace(preserve_colors=True))
    chroma = [torch.einsum("ij,bjhw->bihw", _RGB_TO_YCC, to_tensor(img))[:, 1:]
              for img in (content, result.image)]
    assert (chroma[0] - chroma[1]).abs().mean() < 0.02


@pytest.mark.parametrize("changes,message", [
    ({"strength": 11}, "strength must be between 0 and 10"),
    ({"size": 8}, "size must be between 32 and 4096"),
    ({"preset": "turbo"}, "preset must be one of default, seed, fast"),
    ({"style_weights": (1.0, -1.0)}, "style_weights must be between 0 and more"),
])
def test_settings_are_validated(changes: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings(**changes)


def test_recipes_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT.steps = 1  # type: ignore[misc]


def test_seed_taps_match_a_literal_torchvision_loop(random_weights_path: Path) -> None:
    """What `features[:29]` with in-place ReLUs hands out at indices 0, 5, 10, 19, 28."""
    import torchvision

    from nst_engine.vgg import VGGFeatures
    from nst_engine.weights import load_vgg_weights

    weights = load_vgg_weights(str(random_weights_path))
    features = torchvision.models.vgg19(weights=None).features[:29].eval()
    features.load_state_dict({k: v for k, v in weights.state.items()
                              if int(k.split(".")[0]) <= 28})
    x = torch.rand(1, 3, 48, 48, generator=torch.Generator().manual_seed(0))
    normalised = (x - torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)) / torch.tensor(
        [0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    collected, h = [], normalised
    with torch.no_grad():
        for index, layer in enumerate(features):
            h = layer(h)
            if index in (0, 5, 10, 19, 28):
                collected.append(h)
        ours = VGGFeatures(weights, 28)(x, SEED.style_layers)
    for tap, theirs in zip(SEED.style_layers, collected, strict=True):
        # Equal to fp32 rounding (packed channels-last convolutions sum in another order
        # than torchvision's NCHW ones); a wrong tap (pre- vs post-ReLU) is off by O(1).
        assert (ours[tap] - theirs).abs().max() <= 1e-5 * theirs.abs().max()
