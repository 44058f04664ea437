"""Large results in bounded memory: paint at a size that fits, refine at full size in tiles.

A result whose long side exceeds ``Settings.paint_size`` is painted whole at that size
or below (halving from the requested size), then enlarged by factors of two; at each
larger size the image is refined in overlapping tiles:

- **Style targets come from the whole image.** The Gram matrices a layer is compared
  with are the painting's, at the full size of this level (computed tile by tile), and
  each tile minimises the *whole image's* style loss with respect to its own pixels:
  the Gram of the result is the sum of every tile's share, so while one tile is
  optimised the others' shares are held fixed (block-coordinate descent on the
  full-size objective). A tile of sky therefore does not have to contain every colour
  of the painting, which is what per-tile style losses force and what makes tiles
  visible.
- **Overlaps blend.** Every position belongs to the tiles that cover it with weights
  that sum to one (linear ramps across each overlap, none at the image border): losses
  count positions by these weights, so features distorted by a tile's zero padding
  weigh almost nothing, and a refined tile's change is written back multiplied by the
  same weights, so it fades out towards the tile's inner edges (a cross-fade over
  every overlap, never an edge).
- **Detail.** Enlarging blurs; as between the scales of a whole-image run, the band of
  detail the AdaIN image has at the new size is added back. That AdaIN image is
  computed in tiles too, with the photo's feature statistics taken over the whole
  image, so it has no seams of its own.

Memory is one tile's forward and backward pass plus a few full-size images; the
whole-image painting stays at or below ``paint_size``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .adain import AdaIN
from .device import autocast, memory_format
from .losses import WeightedGramMSE, gram_sum, widen
from .objective import StyleImage, StyleTargetCache, style_size
from .optimize import Curvature, optimise
from .presets import Recipe
from .vgg import VGGFeatures, resize_to

#: Pixels shared by neighbouring tiles (a multiple of 16: VGG19 pools four times).
OVERLAP = 64
StopCheck = Callable[[], None]  # raises Cancelled


@dataclass(frozen=True)
class Tile:
    top: int
    left: int
    height: int
    width: int
    weight: torch.Tensor  # (1, 1, height, width): this tile's share of each position

    def crop(self, image: torch.Tensor) -> torch.Tensor:
        return image[..., self.top:self.top + self.height, self.left:self.left + self.width]


def spans(length: int, tile: int, overlap: int = OVERLAP) -> list[tuple[int, int]]:
    """(start, stop) of tiles covering ``length``, evenly spaced, overlapping ≥ ``overlap``."""
    if length <= tile:
        return [(0, length)]
    count = math.ceil((length - tile) / (tile - overlap)) + 1
    starts = [round(i * (length - tile) / (count - 1)) for i in range(count)]
    return [(s, s + tile) for s in starts]


def shares(bounds: Sequence[tuple[int, int]], length: int, overlap: int = OVERLAP
           ) -> list[torch.Tensor]:
    """1-D weights of each span that sum to one at every position: a tent that ramps up
    over ``overlap`` pixels from an inner edge (not at the ends of ``length``),
    normalised by the sum of all tents."""
    tents = []
    for a, b in bounds:
        p = torch.arange(a, b, dtype=torch.float64) + 0.5
        t = torch.ones(b - a, dtype=torch.float64)
        if a > 0:
            t = torch.minimum(t, (p - a) / overlap)
        if b < length:
            t = torch.minimum(t, (b - p) / overlap)
        tents.append(t)
    total = torch.zeros(length, dtype=torch.float64)
    for (a, b), t in zip(bounds, tents, strict=True):
        total[a:b] += t
    return [(t / total[a:b]).float() for (a, b), t in zip(bounds, tents, strict=True)]


def plan_tiles(height: int, width: int, tile: int, overlap: int = OVERLAP) -> list[Tile]:
    """Tiles in raster order whose weights form a partition of unity over the image."""
    rows, cols = spans(height, tile, overlap), spans(width, tile, overlap)
    wy, wx = shares(rows, height, overlap), shares(cols, width, overlap)
    return [Tile(r0, c0, r1 - r0, c1 - c0, (sy[:, None] * sx[None, :])[None, None])
            for (r0, r1), sy in zip(rows, wy, strict=True)
            for (c0, c1), sx in zip(cols, wx, strict=True)]


def at_features(weight: torch.Tensor, feature: torch.Tensor) -> torch.Tensor:
    """A position weight map averaged down to a feature map's grid, positions-major
    (H·W, 1) to match the Gram's layout."""
    w = F.adaptive_avg_pool2d(weight.to(feature.device), feature.shape[-2:])
    return w.reshape(-1, 1)


def weighted_gram(features: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Σ_p w(p)·F(p)F(p)ᵀ over a (1, C, H, W) map, in fp32 (not normalised)."""
    return gram_sum(positions_major(features), weight)


def tiled_grams(extractor: VGGFeatures, image: torch.Tensor, layers: Sequence[int],
                tile: int, *, dtype: torch.dtype | None, stop: StopCheck
                ) -> tuple[dict[int, torch.Tensor], dict[int, float]]:
    """Unnormalised whole-image Grams of ``image`` and the position count per layer,
    summed over tiles with partition-of-unity weights (one tile's memory at a time)."""
    grams: dict[int, torch.Tensor] = {}
    counts: dict[int, float] = {}
    for t in plan_tiles(*image.shape[-2:], tile):
        stop()
        feats = features_of(extractor, t.crop(image), layers, dtype)
        for i in layers:
            w = at_features(t.weight, feats[i])
            grams[i] = grams.get(i, 0) + weighted_gram(feats[i], w)
            counts[i] = counts.get(i, 0.0) + float(w.sum())
    return grams, counts


def features_of(extractor: VGGFeatures, image: torch.Tensor, layers: Sequence[int],
                dtype: torch.dtype | None) -> dict[int, torch.Tensor]:
    device = image.device
    with torch.no_grad(), autocast(device, dtype):
        return extractor(image.contiguous(memory_format=memory_format(device)), tuple(layers))


def style_grams_at(extractor: VGGFeatures, recipe: Recipe, styles: Sequence[StyleImage],
                   blend: Sequence[float], *, long_side: int, tile: int, weights_origin: str,
                   dtype: torch.dtype | None, cache: StyleTargetCache, stop: StopCheck
                   ) -> dict[int, torch.Tensor]:
    """Blended, position-normalised Gram targets of the paintings at ``long_side``,
    computed in tiles (a 4096-px painting would need gigabytes in one pass)."""
    total = float(sum(blend))
    out: dict[int, torch.Tensor] = {}
    for style, weight in zip(styles, blend, strict=True):
        size = style_size(style.tensor, long_side)
        key = ("tiled", style.key, size, tile, recipe.style_layers, recipe.padding,
               weights_origin, str(dtype), str(style.tensor.device))
        grams = cache.get(key)
        if grams is None:
            image = resize_to(style.tensor, size)
            sums, counts = tiled_grams(extractor, image, recipe.style_layers, tile,
                                       dtype=dtype, stop=stop)
            grams = {i: sums[i] / counts[i] for i in recipe.style_layers}
            cache.put(key, grams)
        for i, g in grams.items():
            out[i] = out.get(i, 0) + g * (weight / total)
    return out


def tiled_mean_std(model: AdaIN, image: torch.Tensor, tile: int = 512
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel relu4_1 mean and std of a large image, over tiles (fp32, (1, C, 1, 1))."""
    first = second = count = None
    for t in plan_tiles(*image.shape[-2:], tile):
        feats = model.encode(t.crop(image)).float()
        w = F.adaptive_avg_pool2d(t.weight.to(feats.device), feats.shape[-2:])
        s1, s2 = (feats * w).sum((-2, -1)), (feats.pow(2) * w).sum((-2, -1))
        first = s1 if first is None else first + s1
        second = s2 if second is None else second + s2
        count = w.sum() if count is None else count + w.sum()
    assert first is not None and second is not None and count is not None
    mean = first / count
    var = (second / count - mean.pow(2)).clamp_min(0)
    return mean[..., None, None], (var + 1e-5).sqrt()[..., None, None]


def tiled_adain(model: AdaIN, content: torch.Tensor,
                stats: Sequence[tuple[torch.Tensor, torch.Tensor]], blend: Sequence[float], *,
                alpha: float, tile: int, stop: StopCheck) -> torch.Tensor:
    """``AdaIN.transfer`` of a large image in tiles: the photo's relu4_1 mean and std are
    taken over the whole image first, so every tile is re-normalised alike, and the
    decoded tiles are blended with the same partition-of-unity weights."""
    stop()
    mean, std = tiled_mean_std(model, content, tile)
    out = torch.zeros_like(content)
    total = float(sum(blend))
    for t in plan_tiles(*content.shape[-2:], tile):
        stop()
        feats = model.encode(t.crop(content)).float()
        normalised = (feats - mean) / std
        target = sum(b / total * (normalised * s_std + s_mean)
                     for (s_mean, s_std), b in zip(stats, blend, strict=True))
        assert isinstance(target, torch.Tensor)
        target = alpha * target + (1 - alpha) * feats
        with torch.inference_mode():
            decoded = model.decoder(target.to(model.run_dtype,
                                              memory_format=memory_format(model.device)))
        decoded = decoded[..., :t.height, :t.width].float().clamp(0, 1)
        t.crop(out).add_(decoded * t.weight.to(out.device))
    return out


class TileObjective(nn.Module):
    """The whole image's objective as a function of one tile's pixels.

    Style, per layer: ``‖(R + Σ_p w(p)·F(p)F(p)ᵀ) / N − T‖²`` relative to ``‖T‖²``,
    where ``R`` is the rest of the image's Gram (held fixed), ``w`` this tile's share of
    each position and ``N`` the whole map's position count: the full-size style loss
    itself. Content and TV: this tile's weighted share of the whole image's mean. The
    sum is the full-size objective up to terms that do not depend on this tile.
    """

    def __init__(self, extractor: VGGFeatures, recipe: Recipe, *, content: torch.Tensor,
                 weight: torch.Tensor, targets: dict[int, torch.Tensor],
                 counts: dict[int, float], content_scale: dict[int, float], pixels: int,
                 style_weight: float, dtype: torch.dtype | None) -> None:
        super().__init__()
        self.extractor, self.recipe, self.dtype = extractor, recipe, dtype
        self.taps = tuple(sorted(set(recipe.content_layers) | set(recipe.style_layers)))
        feats = features_of(extractor, content, recipe.content_layers, dtype)
        self.content_targets = {i: widen(positions_major(feats[i]))
                                for i in recipe.content_layers}
        self.weight, self.targets, self.counts = weight, targets, counts
        self.content_scale, self.pixels = content_scale, pixels
        self.rest: dict[int, torch.Tensor] = {}
        self.weights_at = {i: at_features(weight, feats[i]) for i in recipe.content_layers}
        n_c, n_s = len(recipe.content_layers), len(recipe.style_layers)
        self.content_weight = recipe.content_weight / (n_c if recipe.relative else 1)
        self.style_weight = style_weight / (n_s if recipe.relative else 1)
        self.style_scale = {i: 1.0 / max(float(t.pow(2).mean()), 1e-24) if recipe.relative
                            else 1.0 for i, t in targets.items()}

    def weight_at(self, index: int, feature: torch.Tensor) -> torch.Tensor:
        if index not in self.weights_at:
            self.weights_at[index] = at_features(self.weight, feature)
        return self.weights_at[index]

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        with autocast(image.device, self.dtype):
            feats = self.extractor(image.contiguous(memory_format=memory_format(image.device)),
                                   self.taps)
        content = style = image.new_zeros(())
        with torch.autocast(image.device.type, enabled=False):
            for i in self.recipe.content_layers:
                diff = widen(positions_major(feats[i])) - self.content_targets[i]
                share = diff.pow(2).mul(self.weight_at(i, feats[i])).sum()
                content = content + share * (self.content_scale[i] /
                                             (self.counts[i] * diff.shape[1]))
            for i in self.recipe.style_layers:
                loss = WeightedGramMSE.apply(feats[i], self.weight_at(i, feats[i]),
                                             self.rest[i], self.targets[i], self.counts[i])
                style = style + loss * self.style_scale[i]
        parts = {"content": self.content_weight * content, "style": self.style_weight * style}
        if self.recipe.tv_weight:
            w = self.weight.to(image.device)
            dx = (image[..., :, 1:] - image[..., :, :-1]).float().pow(2) * w[..., :, 1:]
            dy = (image[..., 1:, :] - image[..., :-1, :]).float().pow(2) * w[..., 1:, :]
            parts["tv"] = self.recipe.tv_weight * (dx.sum() + dy.sum()) / (3 * self.pixels)
        total = sum(parts.values())
        assert isinstance(total, torch.Tensor)
        return total, parts

    def contribution(self, image: torch.Tensor) -> dict[int, torch.Tensor]:
        """This tile's weighted, unnormalised Gram share of ``image`` (no gradient)."""
        feats = features_of(self.extractor, image, self.recipe.style_layers, self.dtype)
        return {i: weighted_gram(feats[i], self.weight_at(i, feats[i]))
                for i in self.recipe.style_layers}


def positions_major(features: torch.Tensor) -> torch.Tensor:
    """(1, C, H, W) as (H·W, C): a view for channels-last maps."""
    return features.permute(0, 2, 3, 1).reshape(-1, features.shape[1])


@dataclass
class Level:
    height: int
    width: int
    tiles: int
    steps: int  # per tile

    @property
    def work(self) -> int:
        return self.tiles * self.steps


def hd_sizes(height: int, width: int, paint_size: int) -> list[tuple[int, int]]:
    """(height, width) of the whole-image painting, then of each tiled level up to the
    full size, by factors of two."""
    sizes = [(height, width)]
    while max(sizes[-1]) > paint_size:
        h, w = sizes[-1]
        sizes.append((max(1, round(h / 2)), max(1, round(w / 2))))
    return sizes[::-1]


def plan_levels(height: int, width: int, paint_size: int, tile: int, steps: int) -> list[Level]:
    return [Level(h, w, len(plan_tiles(h, w, tile)), steps)
            for h, w in hd_sizes(height, width, paint_size)[1:]]


def refine(image: torch.Tensor, content: torch.Tensor, styles: Sequence[StyleImage],
           blend: Sequence[float], *, levels: Sequence[Level], recipe: Recipe,
           extractor: VGGFeatures, weights_origin: str, style_weight: float, style_scale: float,
           tile: int, dtype: torch.dtype | None, adain: AdaIN | None,
           adain_stats: Callable[[int], list[tuple[torch.Tensor, torch.Tensor]]],
           alpha: float, cache: StyleTargetCache, stop: StopCheck,
           on_step: Callable[[int, Level, torch.Tensor, dict[str, torch.Tensor]], None],
           on_tile: Callable[[torch.Tensor], None]) -> torch.Tensor:
    """Enlarge ``image`` through ``levels`` (the last one is ``content``'s size),
    refining each in tiles. ``content`` is the photo at full size."""
    for index, level in enumerate(levels):
        size = (level.height, level.width)
        stop()
        previous = image.shape[-2:]
        photo = resize_to(content, size)
        image = resize_to(image, size)
        if adain is not None:
            start = tiled_adain(adain, photo, adain_stats(max(size)), blend, alpha=alpha,
                                tile=tile, stop=stop)
            image = image + start - resize_to(resize_to(start, tuple(previous)), size)
            del start
        image = image.clamp(0, 1)
        on_tile(image)
        targets = style_grams_at(extractor, recipe, styles, blend,
                                 long_side=round(max(size) * style_scale), tile=tile,
                                 weights_origin=weights_origin, dtype=dtype, cache=cache,
                                 stop=stop)
        image = refine_level(image, photo, level=level, recipe=recipe, extractor=extractor,
                             targets=targets, style_weight=style_weight, tile=tile,
                             dtype=dtype, stop=stop, on_step=on_step, on_tile=on_tile,
                             index=index)
    return image


def refine_level(image: torch.Tensor, photo: torch.Tensor, *, level: Level, recipe: Recipe,
                 extractor: VGGFeatures, targets: dict[int, torch.Tensor],
                 style_weight: float, tile: int, dtype: torch.dtype | None, stop: StopCheck,
                 on_step: Callable[[int, Level, torch.Tensor, dict[str, torch.Tensor]], None],
                 on_tile: Callable[[torch.Tensor], None], index: int = 0) -> torch.Tensor:
    """One pass of tiled block-coordinate descent on the full-size objective."""
    tiles = plan_tiles(*image.shape[-2:], tile)
    layers = recipe.style_layers
    grams, counts = tiled_grams(extractor, image, layers, tile, dtype=dtype, stop=stop)
    # The content loss is relative to the photo's mean square, over the whole image.
    c_sums, c_counts = {}, {}
    for t in tiles:
        stop()
        feats = features_of(extractor, t.crop(photo), recipe.content_layers, dtype)
        for i in recipe.content_layers:
            w = at_features(t.weight, feats[i])
            f = widen(positions_major(feats[i]))
            c_sums[i] = c_sums.get(i, 0.0) + float((f.pow(2) * w).sum())
            c_counts[i] = c_counts.get(i, 0.0) + float(w.sum()) * f.shape[1]
    content_scale = {i: c_counts[i] / max(c_sums[i], 1e-12) for i in recipe.content_layers}
    all_counts = {**counts, **{i: c_counts[i] / _channels(extractor, i)
                               for i in recipe.content_layers}}
    curvature = Curvature()
    for t in tiles:
        stop()
        begin = t.crop(image).clone()
        objective = TileObjective(extractor, recipe, content=t.crop(photo), weight=t.weight,
                                  targets=targets, counts=all_counts,
                                  content_scale=content_scale, pixels=image[0, 0].numel(),
                                  style_weight=style_weight, dtype=dtype)
        old = objective.contribution(begin)
        objective.rest = {i: grams[i] - old[i] for i in layers}
        x = optimise(begin, objective, recipe, level.steps,
                     lambda y, parts: on_step(index, level, y, parts), curvature=curvature)
        stop()
        # Each tile's change is written weighted by its share of every position: it
        # fades out towards its inner edges, so no tile ever leaves an edge behind, and
        # an overlap ends up with the weighted mean of its tiles' changes.
        region = t.crop(image)
        region.add_((x.clamp(0, 1) - begin) * t.weight.to(image.device))
        new = objective.contribution(region)
        for i in layers:
            grams[i] = objective.rest[i] + new[i]
        on_tile(image)
    return image


def _channels(extractor: VGGFeatures, index: int) -> int:
    layer = extractor.layers[index]
    while not isinstance(layer, nn.Conv2d):
        index -= 1
        layer = extractor.layers[index]
    return layer.out_channels


