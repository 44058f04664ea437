"""Recipes behind the presets: objective, optimiser and schedule.

Users tune ``Settings``; a recipe is what a preset does with them. The ``seed`` recipe is
the founding document's, kept exact as the baseline. ``default`` was chosen by
measurement (``python -m nst_engine bench`` and the panels script); the reasons for each
choice are recorded next to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .vgg import Padding

Optimizer = Literal["adam", "lbfgs"]

#: One point of ``strength`` multiplies the style weight by this; 0..10 spans ~110x.
STRENGTH_BASE = 1.6
DEFAULT_STRENGTH = 5.0


@dataclass(frozen=True)
class Recipe:
    content_layers: tuple[int, ...]
    style_layers: tuple[int, ...]
    normalised_gram: bool
    relative: bool
    content_weight: float
    style_weight: float  # at DEFAULT_STRENGTH
    tv_weight: float
    optimizer: Optimizer
    lr: float
    steps: int
    #: long side of the coarsest scale; scales grow by ``scale_ratio`` up to the final size
    min_scale: int
    scale_ratio: float
    init: Literal["content", "adain"]
    padding: Padding
    #: each finer scale gets this fraction of the previous scale's steps
    step_decay: float = 1.0
    #: L-BFGS curvature pairs kept (measured: 67 steps to the seed's loss at 50, 71 at 20)
    history: int = 50
    preview_every: int = 10

    def style_weight_at(self, strength: float) -> float:
        return self.style_weight * STRENGTH_BASE ** (strength - DEFAULT_STRENGTH)


# The seed taps "indices 0, 5, 10, 19, 28" of torchvision's features[:29]. Those ReLUs are
# in-place, so a map collected at conv index 0/5/10/19 is overwritten by the following
# ReLU: the recipe as written and run sees relu1_1…relu4_1, and conv5_1 (index 28, the
# last layer, has no ReLU after it). Reproduced literally here: a torchvision loop gives
# a start loss of 2.83e8 on Tübingen × Starry Night at 256² (the founding measurement:
# 2.45e8); genuinely pre-ReLU taps would give 3.1e9.
SEED_TAPS = (1, 6, 11, 20, 28)

SEED = Recipe(
    content_layers=SEED_TAPS,
    style_layers=SEED_TAPS,
    normalised_gram=False,
    relative=False,
    content_weight=1.0,
    style_weight=0.01,
    tv_weight=0.0,
    optimizer="adam",
    lr=0.01,
    steps=1000,
    min_scale=0,  # single scale
    scale_ratio=1.0,
    init="content",
    padding="zeros",
    preview_every=100,  # "snapshot every 100 steps"
)

# Chosen by measurement on this project's 2-core CPU (numbers in README "Benchmarks"):
# - L-BFGS over Adam: at 512 px and equal time, final loss 0.97-1.4 against Adam's 1.6
#   (lr 0.02) with visibly cleaner strokes; Adam leaves per-pixel noise. On the seed's
#   objective L-BFGS needs ~67 steps where Adam needs ~530.
# - Coarse-to-fine from 128 px by √2: large strokes and swirls form at the coarse
#   scales, which single-scale runs of the same cost never produce (they only add fine
#   texture). Each finer scale gets 0.8x the steps: with fewer final steps (0.6x) the
#   upsampling blur is not fully repaired (loss 2.7 vs 1.4). Moving up a scale also adds
#   back the starting image's detail band (see ``pipeline.optimise_scales``).
# - Relative losses at relu4_2 (content) and relu1_1…relu5_1 (style, equal layer weights)
#   so strength means the same for any image size and weight source.
# - Start from the AdaIN image: the palette and strokes of the painting are there from the
#   first step (more painterly at equal cost); ``strength`` below 5 blends it back
#   towards the photo.
# - bf16 convolutions on CPUs that have them (loss reductions stay fp32): per-step
#   1.7x faster here, same loss curve as fp32 (0.826 vs 0.827 after 60 steps).
DEFAULT = Recipe(
    content_layers=(22,),  # relu4_2
    style_layers=(1, 6, 11, 20, 29),  # relu1_1 … relu5_1
    normalised_gram=True,
    relative=True,
    content_weight=1.0,
    style_weight=5.0,
    tv_weight=0.0,
    optimizer="lbfgs",
    lr=1.0,
    steps=90,
    min_scale=128,
    scale_ratio=2 ** 0.5,
    init="adain",
    padding="zeros",
    step_decay=0.8,
)

RECIPES: dict[str, Recipe] = {"seed": SEED, "default": DEFAULT}
