"""The numeric quality guard: how well a finished image meets the default objective.

Computed on the final 8-bit image, in fp32, with the same VGG19 the default preset
optimises through: the relative content loss at relu4_2 against the photo at the
result's size, and the relative Gram style loss at relu1_1…relu5_1 (mean over layers)
against the painting resized as ``stylize`` resizes it. Lower is better for both. A
faster recipe must not make either worse by more than 5 % on average over the panel
pairs (``python -m nst_engine quality``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from PIL import Image

from .device import select_device
from .images import ImageSource, load_image, resize
from .objective import StyleImage, StyleTargetCache, digest, style_targets
from .presets import DEFAULT, Recipe
from .settings import STYLE_HEADROOM
from .tensors import to_tensor


@dataclass(frozen=True)
class Quality:
    content: float  # relative content loss at relu4_2
    style: float  # relative Gram loss, mean over relu1_1…relu5_1
    layers: dict[str, float]  # style loss per layer index


def measure(result: Image.Image, content: ImageSource, style: ImageSource | Sequence[ImageSource],
            *, blend: Sequence[float] | None = None, style_scale: float = 1.0,
            weights: str = "auto", device: str = "auto", recipe: Recipe = DEFAULT,
            cache: StyleTargetCache | None = None) -> Quality:
    """Content and style losses of ``result`` for the pair it was painted from."""
    from .losses import ContentLoss, StyleLoss
    from .pipeline import feature_extractor

    dev = select_device(device)
    styles_in = list(style) if isinstance(style, (list, tuple)) else [style]
    blend = blend or (1.0,) * len(styles_in)
    long_side = max(result.size)
    photo = resize(load_image(content), long_side)
    if photo.size != result.size:  # the result keeps the photo's aspect; rounding aside
        photo = photo.resize(result.size, Image.Resampling.LANCZOS)
    style_long = round(long_side * style_scale * STYLE_HEADROOM)
    style_ts = [to_tensor(resize(load_image(s), style_long), dev) for s in styles_in]
    extractor, origin = feature_extractor(weights, max(recipe.content_layers + recipe.style_layers),
                                          recipe.padding, dev)
    grams = style_targets(extractor, recipe, [StyleImage(t, digest(t)) for t in style_ts],
                          blend, round(long_side * style_scale), weights_origin=origin,
                          dtype=None, device=dev, cache=cache or StyleTargetCache())
    taps = tuple(sorted(set(recipe.content_layers) | set(recipe.style_layers)))
    with torch.no_grad():
        out = extractor(to_tensor(result, dev).contiguous(memory_format=torch.channels_last), taps)
        ref = extractor(to_tensor(photo, dev).contiguous(memory_format=torch.channels_last),
                        recipe.content_layers)
        content_loss = sum(ContentLoss(ref[i], relative=True)(out[i]).item()
                           for i in recipe.content_layers) / len(recipe.content_layers)
        layers = {str(i): StyleLoss(grams[i], normalised_gram=True, relative=True)(out[i]).item()
                  for i in recipe.style_layers}
    return Quality(content_loss, sum(layers.values()) / len(layers), layers)
