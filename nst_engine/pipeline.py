"""``stylize()``: the one entry point the CLI, the benchmark and the bot all call."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from PIL import Image

from .adain import AdaIN, adain_model
from .color import preserve_colors
from .device import autocast_dtype, memory_format, select_device, set_threads
from .errors import Cancelled, SettingsError
from .images import (
    DEFAULT_LIMITS,
    ImageLimits,
    ImageSource,
    encode,
    fit_size,
    load_image,
    resize,
)
from .objective import (
    STYLE_CACHE,
    Objective,
    StyleImage,
    StyleTargetCache,
    digest,
    style_size,
    style_targets,
)
from .optimize import Curvature, Scale, optimise, plan_scales
from .presets import DEFAULT_STRENGTH, RECIPES, Recipe
from .progress import EtaClock, Progress, ProgressCallback, StopCheck, report_every
from .settings import STYLE_HEADROOM, Settings
from .tensors import to_pil, to_tensor
from .tiling import Level, hd_sizes, plan_levels, refine, tiled_adain, tiled_mean_std
from .vgg import VGGFeatures, resize_to
from .weights import load_vgg_weights

DEFAULT_SETTINGS = Settings()
#: Paintings analysed for AdaIN above this long side are encoded in tiles.
TILED_STATS_SIDE = 1024


@dataclass(frozen=True)
class Result:
    image: Image.Image
    settings: Settings
    losses: dict[str, float]
    steps: int
    seconds: float
    device: str
    precision: str
    scales: list[tuple[int, int]] = field(default_factory=list)

    def encode(self, fmt: str | None = None) -> bytes:
        return encode(self.image, fmt or self.settings.format)


@functools.cache
def feature_extractor(weights_spec: str, depth: int, padding: str,
                      device: torch.device) -> tuple[VGGFeatures, str]:
    """A VGG19 truncated at ``depth``, built once per (weights, depth, padding, device)."""
    weights = load_vgg_weights(weights_spec)
    model = VGGFeatures(weights, depth, padding=padding)  # type: ignore[arg-type]
    return model.to(device, memory_format=memory_format(device)), weights.origin


def precision_name(dtype: torch.dtype | None) -> str:
    return {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[dtype]


def stylize(content: ImageSource, style: ImageSource | Sequence[ImageSource], *,
            settings: Settings = DEFAULT_SETTINGS, on_progress: ProgressCallback | None = None,
            should_stop: StopCheck | None = None, limits: ImageLimits = DEFAULT_LIMITS,
            cache: StyleTargetCache = STYLE_CACHE, recipe: Recipe | None = None) -> Result:
    """Paint ``content`` in the style of ``style`` (one image, or several to blend).

    ``on_progress`` gets a ``Progress`` after every optimiser step, with a preview image
    every ``settings.preview_every`` steps. ``should_stop`` is polled every step; when it
    returns True, ``Cancelled`` is raised within that step. Input errors raise the
    subclasses of ``InputImageError`` with messages meant for end users. ``recipe``
    replaces the preset's (benchmarks and panels compare ``presets.PREVIOUS_DEFAULT``).
    """
    started = time.perf_counter()
    stop = should_stop or (lambda: False)
    set_threads(settings.threads)
    device = select_device(settings.device)
    dtype = autocast_dtype(device, settings.precision)
    torch.manual_seed(settings.seed)

    styles_in = list(style) if isinstance(style, Sequence) and not isinstance(
        style, (bytes, bytearray, str)) else [style]
    blend = settings.style_weights or (1.0,) * len(styles_in)
    if len(blend) != len(styles_in) or sum(blend) <= 0:
        raise SettingsError(f"style_weights needs one non-negative weight per style image "
                            f"({len(styles_in)}), not all zero.")
    content_img = resize(load_image(content, limits=limits, what="content image"), settings.size)
    style_long = round(max(content_img.size) * settings.style_scale * STYLE_HEADROOM)
    style_imgs = [resize(load_image(s, limits=limits, what="style image"), style_long)
                  for s in styles_in]
    check(stop)
    content_t = to_tensor(content_img, device)
    style_ts = [to_tensor(s, device) for s in style_imgs]
    styles = [StyleImage(t, digest(t)) for t in style_ts]
    height, width = content_t.shape[-2:]

    if settings.preset == "fast":
        out = adain_transfer(content_t, styles, blend, settings=settings, device=device,
                             dtype=dtype, cache=cache, stop=stop)
        steps, losses, scales = 1, {}, [(width, height)]
        if settings.preserve_colors:
            out = preserve_colors(out, content_t)
        if on_progress:
            on_progress(Progress(1, 1, 1, 1, (width, height), {}, time.perf_counter() - started,
                                 0.0, preview_image(out, settings)))
    else:
        recipe = recipe or RECIPES[settings.preset]
        steps = settings.steps or recipe.steps
        # Above paint_size: paint the whole image at half size (or less), then refine in
        # tiles at each doubling up to the full size (see ``tiling``).
        levels = plan_levels(height, width, settings.paint_size, settings.tile_size,
                             settings.tile_steps or recipe.tile_steps)
        painted = resize_to(content_t, hd_sizes(height, width, settings.paint_size)[0])
        plan = plan_scales(*painted.shape[-2:], recipe, steps)
        out, losses = optimise_scales(painted, styles, blend, settings=settings, recipe=recipe,
                                      plan=plan, device=device, dtype=dtype,
                                      on_progress=on_progress, stop=stop, cache=cache,
                                      started=started, levels=levels, full_content=content_t)
        scales = [(s.width, s.height) for s in plan] + [(lv.width, lv.height) for lv in levels]
        steps = steps + sum(lv.work for lv in levels)
        if settings.preserve_colors:
            out = preserve_colors(out, content_t)
    return Result(to_pil(out), settings, losses, steps, time.perf_counter() - started,
                  str(device), precision_name(dtype), scales)


def adain_transfer(content: torch.Tensor, styles: Sequence[StyleImage], blend: Sequence[float],
                   *, settings: Settings, device: torch.device, dtype: torch.dtype | None,
                   cache: StyleTargetCache = STYLE_CACHE, stop: StopCheck | None = None
                   ) -> torch.Tensor:
    """AdaIN result at ``content``'s size, with style statistics at the matching scale.

    Above ``settings.paint_size`` it runs in tiles (``tiling.tiled_adain``): one pass
    over a 4096-px image would hold gigabytes of relu1 activations.
    """
    model = adain_model(device, dtype)
    long_side = max(content.shape[-2:])
    stats = adain_stats(model, styles, round(long_side * settings.style_scale), dtype=dtype,
                        device=device, cache=cache)
    # Below the default strength the AdaIN mix fades towards the photo, so strength
    # behaves the same in the fast preset and as the optimisation's starting point.
    alpha = settings.alpha * min(1.0, settings.strength / DEFAULT_STRENGTH)
    if long_side > settings.paint_size:
        return tiled_adain(model, content, stats, blend, alpha=alpha, tile=settings.tile_size,
                           stop=lambda: check(stop or (lambda: False)))
    return model.transfer(content, stats, blend, alpha)


def adain_stats(model: AdaIN, styles: Sequence[StyleImage], side: int, *,
                dtype: torch.dtype | None, device: torch.device,
                cache: StyleTargetCache) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Each painting's relu4_1 mean and std with its long side at ``side``, via the cache."""
    stats = []
    for s in styles:
        size = style_size(s.tensor, side)
        key = ("adain", s.key, size, str(dtype), str(device))
        cached = cache.get(key)
        if cached is None:  # the painting's statistics: one encoder pass, then free
            image = resize_to(s.tensor, size)
            if max(size) > TILED_STATS_SIDE:
                mean, std = tiled_mean_std(model, image)
            else:
                mean, std = model.style_stats(image)
            cached = {0: mean, 1: std}
            cache.put(key, cached)
        stats.append((cached[0], cached[1]))
    return stats


def optimise_scales(content: torch.Tensor, styles: Sequence[StyleImage], blend: Sequence[float],
                    *, settings: Settings, recipe: Recipe, plan: Sequence[Scale],
                    device: torch.device, dtype: torch.dtype | None,
                    on_progress: ProgressCallback | None, stop: StopCheck,
                    cache: StyleTargetCache, started: float,
                    levels: Sequence[Level] = (), full_content: torch.Tensor | None = None
                    ) -> tuple[torch.Tensor, dict[str, float]]:
    """Coarse-to-fine optimisation over ``plan`` (the whole image at each scale), then,
    for results larger than ``settings.paint_size``, the tiled refinement through
    ``levels`` up to ``full_content``'s size (see ``tiling``)."""
    depth = max(recipe.content_layers + recipe.style_layers)
    extractor, origin = feature_extractor(settings.weights, depth, recipe.padding, device)
    tile_pixels = settings.tile_size ** 2
    total = sum(s.steps for s in plan) + sum(level.work for level in levels)
    clock = EtaClock([(s.steps, s.pixels) for s in plan] +
                     [(level.work, tile_pixels) for level in levels], started=started)
    n_scales = len(plan) + len(levels)
    init = settings.init if settings.init != "auto" else recipe.init
    final = plan[-1]
    shown_size = (levels[-1].width, levels[-1].height) if levels else (final.width, final.height)
    start = resize_to(content, (final.height, final.width))
    if init == "adain":
        check(stop)
        start = adain_transfer(start, styles, blend, settings=settings, device=device,
                               dtype=dtype, cache=cache)
    image: torch.Tensor | None = None
    base_prev: torch.Tensor | None = None
    done = 0
    losses: dict[str, float] = {}
    cadence = PreviewCadence(settings, recipe, total)
    curvature = Curvature()
    style_weight = recipe.style_weight_at(settings.strength)
    if on_progress is not None:  # step 0: the starting image (the AdaIN one) at once
        preview = preview_image(start, settings) if cadence.due(0) else None
        on_progress(Progress(0, total, 1, n_scales, shown_size, {}, clock.elapsed(), None,
                             preview))

    def report(x: torch.Tensor | Callable[[], torch.Tensor], parts: dict[str, torch.Tensor],
               *, index: int, size: tuple[int, int], pixels: int, first_step: int) -> None:
        nonlocal done, losses
        check(stop)
        done += 1
        clock.tick(pixels, timed=done > first_step)
        losses = {k: v.item() for k, v in parts.items()}
        losses["total"] = sum(losses.values())
        if on_progress is None:
            return
        preview = None
        if cadence.due(done):
            shown = x() if callable(x) else x.detach()
            if settings.preserve_colors:
                shown = preserve_colors(shown, content)
            preview = preview_image(shown, settings)
        on_progress(Progress(done, total, index, n_scales, size, losses, clock.elapsed(),
                             clock.eta(), preview))

    for index, scale in enumerate(plan, start=1):
        size = (scale.height, scale.width)
        content_s = resize_to(content, size)
        base = resize_to(start, size)
        if image is None or base_prev is None:
            image = base
        else:
            # Upsampling blurs: put back the band of detail the starting image has at this
            # finer scale (a Laplacian-pyramid step). See presets for the measurements.
            image = (resize_to(image, size) + base - resize_to(base_prev, size)).clamp(0, 1)
        base_prev = base
        check(stop)  # analysing the painting at a new scale takes a VGG pass per style
        grams = style_targets(extractor, recipe, styles, blend,
                              round(max(size) * settings.style_scale), weights_origin=origin,
                              dtype=dtype, device=device, cache=cache)
        objective = Objective(extractor, recipe, content=content_s, style_grams=grams,
                              style_weight=style_weight, dtype=dtype,
                              positions_ratio=plan[-1].pixels / scale.pixels)
        check(stop)
        clock.restart_interval()
        step_hook = functools.partial(report, index=index, size=(scale.width, scale.height),
                                      pixels=scale.pixels, first_step=done + 1)
        image = optimise(image, objective, recipe, scale.steps, step_hook, curvature=curvature)
    assert image is not None
    if not levels:
        return image.clamp(0, 1), losses
    assert full_content is not None
    return refine_in_tiles(image.clamp(0, 1), full_content, styles, blend, settings=settings,
                           recipe=recipe, levels=levels, extractor=extractor, origin=origin,
                           device=device, dtype=dtype, init=init, first_index=len(plan) + 1,
                           report=report, clock=clock, stop=stop, cache=cache), losses


def refine_in_tiles(image: torch.Tensor, content: torch.Tensor, styles: Sequence[StyleImage],
                    blend: Sequence[float], *, settings: Settings, recipe: Recipe,
                    levels: Sequence[Level], extractor: VGGFeatures, origin: str,
                    device: torch.device, dtype: torch.dtype | None, init: str,
                    first_index: int, report: Callable[..., None], clock: EtaClock,
                    stop: StopCheck, cache: StyleTargetCache) -> torch.Tensor:
    """``tiling.refine`` wired to this run's progress reports, previews and cancel."""
    latest = [image]  # a preview shows the image as of the last finished tile

    def on_tile(full: torch.Tensor) -> None:
        latest[0] = full
        clock.restart_interval()

    def on_step(level_index: int, level: Level, x: torch.Tensor,
                parts: dict[str, torch.Tensor]) -> None:
        report(lambda: latest[0], parts, index=first_index + level_index,
               size=(level.width, level.height), pixels=settings.tile_size ** 2,
               first_step=0)

    model = adain_model(device, dtype) if init == "adain" else None
    alpha = settings.alpha * min(1.0, settings.strength / DEFAULT_STRENGTH)

    def stats_at(long_side: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        assert model is not None
        return adain_stats(model, styles, round(long_side * settings.style_scale),
                           dtype=dtype, device=device, cache=cache)

    return refine(image, content, styles, blend, levels=levels, recipe=recipe,
                  extractor=extractor, weights_origin=origin,
                  style_weight=recipe.style_weight_at(settings.strength),
                  style_scale=settings.style_scale, tile=settings.tile_size, dtype=dtype,
                  adain=model, adain_stats=stats_at, alpha=alpha, cache=cache,
                  stop=lambda: check(stop), on_step=on_step, on_tile=on_tile).clamp(0, 1)


class PreviewCadence:
    """When a step gets a preview image: every ``preview_seconds`` if set (a live view
    cannot show more, and rendering one costs a resize and a copy), else every
    ``preview_every`` steps; always the start image (step 0) and the last step."""

    def __init__(self, settings: Settings, recipe: Recipe, total: int) -> None:
        self.seconds = settings.preview_seconds
        self.every = recipe.preview_every if settings.preview_every is None \
            else settings.preview_every
        self.total = total
        self._last = float("-inf")

    def due(self, step: int) -> bool:
        if self.seconds is None:
            return (step == 0 and self.every > 0) or report_every(self.every, step, self.total)
        now = time.perf_counter()
        if step in (0, self.total) or now - self._last >= self.seconds:
            self._last = now
            return True
        return False


def check(stop: StopCheck) -> None:
    """Cancel between phases too, not only between steps: analysing a painting or the
    AdaIN start can take seconds at large sizes on a CPU."""
    if stop():
        raise Cancelled()


def preview_image(image: torch.Tensor, settings: Settings) -> Image.Image:
    h, w = image.shape[-2:]
    ph, pw = fit_size(h, w, settings.preview_size)
    return to_pil(resize_to(image.detach().float().clamp(0, 1), (ph, pw)))
