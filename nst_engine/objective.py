"""The objective a recipe optimises at one scale, and the cache of style targets."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from .device import autocast, memory_format
from .losses import ContentLoss, StyleLoss, gram, total_variation
from .presets import Recipe
from .vgg import VGGFeatures, resize_to


def digest(image: torch.Tensor) -> str:
    """Content hash of an image tensor, so equal uploads share cache entries."""
    arr = image.detach().cpu().contiguous()
    return hashlib.blake2b(arr.numpy().tobytes(), digest_size=16).hexdigest()


class StyleTargetCache:
    """LRU of style targets: Grams per (style image, size, layers, network setup), and
    AdaIN statistics per (style image, size).

    Repeated styles (the bot's "stronger"/"weaker" re-runs, popular paintings) skip the
    style forward passes entirely. Thread-safe; a few MB per entry.
    """

    def __init__(self, max_entries: int = 48) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple, dict[int, torch.Tensor]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple) -> dict[int, torch.Tensor] | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found

    def put(self, key: tuple, value: dict[int, torch.Tensor]) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


STYLE_CACHE = StyleTargetCache()


@dataclass(frozen=True)
class StyleImage:
    tensor: torch.Tensor  # (1, 3, H, W) in 0..1 at full upload resolution (capped)
    key: str


def style_size(style: torch.Tensor, long_side: int) -> tuple[int, int]:
    """(height, width) of the style at ``long_side``; upscaling allowed (style scale)."""
    h, w = style.shape[-2:]
    scale = long_side / max(h, w)
    return max(16, round(h * scale)), max(16, round(w * scale))


class Objective(nn.Module):
    """α·content + β·style + γ·TV for one scale, features through one VGG19 pass."""

    def __init__(self, extractor: VGGFeatures, recipe: Recipe, *, content: torch.Tensor,
                 style_grams: dict[int, torch.Tensor], style_weight: float,
                 dtype: torch.dtype | None, positions_ratio: float = 1.0) -> None:
        super().__init__()
        self.extractor, self.recipe, self.dtype = extractor, recipe, dtype
        self.device = content.device
        self.taps = tuple(sorted(set(recipe.content_layers) | set(recipe.style_layers)))
        with torch.no_grad():
            feats = self.features(content)
        self.content_losses = nn.ModuleDict({
            str(i): ContentLoss(feats[i], relative=recipe.relative) for i in recipe.content_layers})
        self.style_losses = nn.ModuleDict({
            str(i): StyleLoss(style_grams[i], normalised_gram=recipe.normalised_gram,
                              relative=recipe.relative, positions_ratio=positions_ratio)
            for i in recipe.style_layers})
        # Relative recipes average layers so strength does not depend on how many there
        # are; the seed recipe sums them, as written.
        n_c, n_s = len(recipe.content_layers), len(recipe.style_layers)
        self.content_weight = recipe.content_weight / (n_c if recipe.relative else 1)
        self.style_weight = style_weight / (n_s if recipe.relative else 1)

    def features(self, image: torch.Tensor) -> dict[int, torch.Tensor]:
        with autocast(self.device, self.dtype):
            return self.extractor(image.contiguous(memory_format=memory_format(self.device)),
                                  self.taps)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        feats = self.features(image)
        content = sum(loss(feats[int(i)]) for i, loss in self.content_losses.items())
        style = sum(loss(feats[int(i)]) for i, loss in self.style_losses.items())
        assert isinstance(content, torch.Tensor) and isinstance(style, torch.Tensor)
        parts = {"content": self.content_weight * content, "style": self.style_weight * style}
        if self.recipe.tv_weight:
            parts["tv"] = self.recipe.tv_weight * total_variation(image)
        total = sum(parts.values())
        assert isinstance(total, torch.Tensor)
        return total, parts


def style_targets(extractor: VGGFeatures, recipe: Recipe, styles: Sequence[StyleImage],
                  blend: Sequence[float], long_side: int, *, weights_origin: str,
                  dtype: torch.dtype | None, device: torch.device,
                  cache: StyleTargetCache = STYLE_CACHE) -> dict[int, torch.Tensor]:
    """Blended Gram targets of the style images resized to ``long_side``, via the cache."""
    total = float(sum(blend))
    out: dict[int, torch.Tensor] = {}
    for style, weight in zip(styles, blend, strict=True):
        size = style_size(style.tensor, long_side)
        key = (style.key, size, recipe.style_layers, recipe.normalised_gram, recipe.padding,
               weights_origin, str(dtype), str(device))
        grams = cache.get(key)
        if grams is None:
            image = resize_to(style.tensor.to(device), size)
            with torch.no_grad(), autocast(device, dtype):
                feats = extractor(image.contiguous(memory_format=memory_format(device)),
                                  recipe.style_layers)
            grams = {i: gram(f, normalised=recipe.normalised_gram) for i, f in feats.items()}
            cache.put(key, grams)
        for i, g in grams.items():
            out[i] = out.get(i, 0) + g * (weight / total)
    return out
