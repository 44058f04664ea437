"""Painting one job with the engine: what every painter runs, whatever carries its jobs
(a local worker process today; a painter on another host too).

Once ready, a painter analyses the gallery's paintings between jobs, one painting at a
time (Gram targets at each scale, AdaIN statistics) exactly as a job would look them up,
and keeps them for good: a gallery pick starts painting with no analysis step, and a
painter takes jobs seconds after it starts rather than after the whole gallery.

Before the engine makes its full-size starting (AdaIN) image, a painter makes one at
preview size — a quarter of the pixels at 512 px — so the first picture a user sees
arrives well within a second.

Imports torch: only painter processes load this module, never the bot's front end.
"""

from __future__ import annotations

import io
import logging
import os
import traceback
from collections.abc import Callable, Iterator

import torch
from PIL import Image

from nst_engine import InputImageError, Progress, Settings, SettingsError, WeightsError, stylize
from nst_engine.color import preserve_colors
from nst_engine.device import autocast_dtype, select_device, set_threads
from nst_engine.errors import Cancelled as StopRequested
from nst_engine.images import load_image, resize
from nst_engine.objective import StyleImage, StyleTargetCache, digest, style_targets
from nst_engine.optimize import plan_scales
from nst_engine.pipeline import adain_model, adain_transfer, feature_extractor
from nst_engine.presets import DEFAULT, RECIPES, SEED
from nst_engine.settings import STYLE_HEADROOM
from nst_engine.tensors import to_pil, to_tensor
from nst_engine.weights import load_vgg_weights

from .gallery import load_gallery
from .jobs import Cancelled, Failed, Finished, JobSpec, Progressed
from .pictures import Picture
from .pool.messages import PainterOptions

log = logging.getLogger("stylebot.painter")


class KeptTargets(StyleTargetCache):
    """The engine's LRU of style targets, with the gallery's kept in front of it for good:
    computed once, they must still be there at a pick, however many uploaded
    paintings went through since."""

    def __init__(self) -> None:
        super().__init__()
        self.kept: dict[tuple, dict[int, torch.Tensor]] = {}
        self.keeping = False  # while a gallery painting is prepared: what is computed is kept

    def get(self, key: tuple) -> dict[int, torch.Tensor] | None:
        found = self.kept.get(key)
        return found if found is not None else super().get(key)

    def put(self, key: tuple, value: dict[int, torch.Tensor]) -> None:
        if self.keeping:
            self.kept[key] = value
        else:
            super().put(key, value)


#: every job's style targets, the gallery's included
TARGETS = KeptTargets()


def warm_up(options: PainterOptions) -> dict[str, str]:
    """Load everything once, so the first job starts as fast as the rest."""
    set_threads(options.threads)
    device = select_device(options.device)
    weights = load_vgg_weights(options.weights)
    for recipe in (DEFAULT, SEED):
        feature_extractor(options.weights, max(recipe.content_layers + recipe.style_layers),
                          recipe.padding, device)
    adain_model(device, autocast_dtype(device, "auto"))
    return {"device": str(device), "weights": weights.origin, "pid": str(os.getpid())}


def gallery_warming(options: PainterOptions) -> Iterator[int]:
    """The gallery's style targets, one painting per step (painters take a step only while
    they have no job, so a job waits for one painting's analysis at most); yields how many
    paintings are ready. Computed as ``stylize()`` looks them up: each painting decoded
    from the ``Picture`` a pick carries and sized for a photo of each warm size, AdaIN
    statistics at that size (and at preview size, for the first look), Gram targets at
    every scale of the preset's plan."""
    warm = options.gallery
    if warm is None:
        return
    weights, device = options.weights, select_device(options.device)
    gallery = load_gallery(warm.source)
    dtype = autocast_dtype(device, "auto")
    recipe = RECIPES.get(warm.preset)  # None: fast, AdaIN alone
    if recipe is not None:
        extractor, origin = feature_extractor(
            weights, max(recipe.content_layers + recipe.style_layers), recipe.padding, device)
    for ready, painting in enumerate(gallery.paintings, 1):
        TARGETS.keeping = True  # only while this painting's targets are made, not between
        try:
            for size in warm.sizes:
                settings = Settings(size=size, weights=weights)
                style = engine_style(painting.picture, size, settings, device)
                for side in {size, min(size, settings.preview_size)}:
                    adain_transfer(torch.zeros(1, 3, 32, side, device=device), [style], [1.0],
                                   settings=settings, device=device, dtype=dtype,
                                   cache=TARGETS)
                if recipe is None:
                    continue
                for scale in plan_scales(size, size, recipe, recipe.steps):
                    style_targets(extractor, recipe, [style], [1.0],
                                  round(max(scale.height, scale.width) * settings.style_scale),
                                  weights_origin=origin, dtype=dtype, device=device,
                                  cache=TARGETS)
        finally:
            TARGETS.keeping = False
        yield ready


def engine_style(picture: Picture, content_side: int, settings: Settings,
                 device: torch.device) -> StyleImage:
    """``picture`` decoded, sized and keyed as ``stylize()`` does for a photo whose long
    side is ``content_side``: what it computes from this, a job finds cached."""
    side = round(content_side * settings.style_scale * STYLE_HEADROOM)
    tensor = to_tensor(resize(load_image(picture.open(), what="style image"), side), device)
    return StyleImage(tensor, digest(tensor))


def first_look(spec: JobSpec) -> Progressed:
    """The starting (AdaIN) image at preview size, made before the engine makes it at full
    size: the first picture the user sees, in a fraction of the time. The engine's own
    step-0 preview follows later, as any other."""
    settings = spec.settings
    device = select_device(settings.device)
    content = resize(load_image(spec.content.open(), what="content image"), settings.size)
    style = engine_style(spec.style, max(content.size), settings, device)
    small = to_tensor(resize(content, settings.preview_size), device)
    image = adain_transfer(small, [style], [1.0], settings=settings, device=device,
                           dtype=autocast_dtype(device, settings.precision), cache=TARGETS)
    if settings.preserve_colors:
        image = preserve_colors(image, small)
    return Progressed(0, 1, 1, 1, 0.0, None, jpeg(to_pil(image)))


def jpeg(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=85)
    return buf.getvalue()


def paint(spec: JobSpec, *, on_progress: Callable[[Progressed], None],
          should_stop: Callable[[], bool]) -> Finished | Failed | Cancelled:
    """Run ``spec`` to its outcome; progress (with JPEG previews) goes to ``on_progress``,
    a first look at once (but for ``fast``, whose result comes as soon)."""

    def report(p: Progress) -> None:
        # the engine renders previews only as often as the chat can show them
        preview = jpeg(p.preview) if p.preview is not None else None
        on_progress(Progressed(p.step, p.total, p.scale, p.scales, p.elapsed, p.eta, preview))

    try:
        if spec.settings.preset != "fast":
            on_progress(first_look(spec))
        result = stylize(spec.content.open(), spec.style.open(), settings=spec.settings,
                         on_progress=report, should_stop=should_stop, cache=TARGETS)
    except StopRequested:
        return Cancelled()
    except (InputImageError, SettingsError) as exc:
        log.warning("job refused by the engine: %s", exc)
        return Failed("input")
    except WeightsError as exc:
        log.error("weights unavailable: %s", exc)
        return Failed("unavailable")
    except Exception:
        log.error("painting failed\n%s", traceback.format_exc())
        return Failed("error")
    return Finished(result.encode("png"), result.image.width, result.image.height,
                    result.seconds, result.steps, result.device, result.precision)
