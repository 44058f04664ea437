"""Recipes behind the presets: objective, optimiser and schedule.

Users tune ``Settings``; a recipe is what a preset does with them. The ``seed`` recipe is
the founding document's, kept exact as the baseline. ``default`` was chosen by
measurement (``python -m nst_engine bench`` and the panels script); the reasons for each
choice are recorded next to it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from .vgg import Padding

Optimizer = Literal["adam", "lbfgs", "lbfgs_torch"]

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
    #: relative steps per scale, finest first (coarser scales beyond continue by
    #: ``step_decay``); empty: geometric by ``step_decay`` throughout
    step_shares: tuple[float, ...] = ()
    #: L-BFGS curvature pairs kept (measured: 67 steps to the seed's loss at 50, 71 at 20)
    history: int = 50
    preview_every: int = 10
    #: L-BFGS: the largest pixel change of a run's first step (later scales reuse the
    #: curvature measured on the coarser one)
    first_step: float = 0.03
    #: L-BFGS variables: 1 = pixels; n > 1 = an n-level Laplacian pyramid whose level l
    #: moves pyramid_decay**-l times as far per unit step
    pyramid: int = 1
    pyramid_decay: float = 1.0
    #: steps per tile when a large result is refined in tiles (see ``tiling``)
    tile_steps: int = 8

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

# The default until this revision, kept to compare against (``python -m nst_engine quality``
# and the panels):
# torch.optim.LBFGS, five scales 128…512 px by √2 with 0.8x the steps per finer scale.
# Chosen then by measurement on this project's 2-core CPU:
# - L-BFGS over Adam: at 512 px and equal time, final loss 0.97-1.4 against Adam's 1.6
#   (lr 0.02) with visibly cleaner strokes; Adam leaves per-pixel noise. On the seed's
#   objective L-BFGS needs ~67 steps where Adam needs ~530.
# - Coarse-to-fine from 128 px: large strokes and swirls form at the coarse scales,
#   which single-scale runs never produce (they only add fine texture). Moving up a
#   scale adds back the starting image's detail band (see ``pipeline.optimise_scales``).
# - Relative losses at relu4_2 (content) and relu1_1…relu5_1 (style, equal layer weights)
#   so strength means the same for any image size and weight source.
# - Start from the AdaIN image: the palette and strokes of the painting are there from the
#   first step (more painterly at equal cost); ``strength`` below 5 blends it back
#   towards the photo.
# - bf16 convolutions on CPUs that have them (loss reductions stay fp32).
PREVIOUS_DEFAULT = Recipe(
    content_layers=(22,),  # relu4_2
    style_layers=(1, 6, 11, 20, 29),  # relu1_1 … relu5_1
    normalised_gram=True,
    relative=True,
    content_weight=1.0,
    style_weight=5.0,
    tv_weight=0.0,
    optimizer="lbfgs_torch",
    lr=1.0,
    steps=90,
    min_scale=128,
    scale_ratio=2 ** 0.5,
    init="adain",
    padding="zeros",
    step_decay=0.8,
)

# The default: the previous one's objective (losses, layers, weights, AdaIN start,
# bf16), reached in about 0.65x the work. ``python -m nst_engine bench``, three runs on
# an idle machine: 512 px end to end 10.5-12.8 s, 7.6-8.6 full-size fp32 steps' worth
# (512²: 6.3-7.0; the previous default: ~16); the seed's loss in 8.7-15.1 s (medians
# 11.6, 10.3, 13.4 s), 48x, 57x and 40x faster than the seed (previous: 26x). Measured
# side by side on a 2-core EPYC without AMX (on a 2-core Xeon with AMX, where bf16 steps
# are 3.6-4.5x cheaper than fp32 rather than 2.5-2.8x: 65x, 53x, 46x); the "guard" is
# the content and style loss of the final 512-px image, fp32, relative to the previous
# default's on the same pairs (``python -m nst_engine quality``); "eq" is the
# optimisation's cost in full-size steps (Σ steps × pixels / final pixels). Figures on
# Tübingen × Starry Night, Sailboat × Composition VII and Chicago × Wave at 512 px:
# - Our own L-BFGS (``optimize.lbfgs``): torch's starts every scale with a step of
#   ~1e-4 and overshoots on the next (loss 1.56 → 2.17 at 512 px); a first step that
#   moves the largest pixel by 0.03, then the curvature carried from the coarser scale:
#   guard 0.947 content / 0.927 style at the same 90 steps (25.2 eq). An overshoot is
#   rejected and the next step halved (measured on all seven panel pairs, see
#   ``optimize.lbfgs``): without it the guard over the seven pairs was content 1.033,
#   style 1.064 (Cornell × Matisse 1.16 / 1.29, with speckled patches).
# - Three scales 128/256/512 (ratio 2) instead of five (√2), steps 30/14/11 (55 in all,
#   16.4 eq instead of 25.2): each scale change costs a restart and a loss jump (the
#   relu4_2 content and relu5_1 style terms, which see structure at the new scale, not
#   the blur), so fewer, larger jumps with more steps at the final scale win. The final
#   scale's step count matters most: 9 final steps → content 1.05-1.07, 11 → 0.99.
#   Now 12 (30/14/12, 56 in all), paid for by the chunked Gram below (512 px end to end
#   on two pairs, alternating: 1.02x the time of 11 steps without it): over the seven
#   panel pairs content −2.6 % against 11 steps (per pair −6 % to +0.2 %), style
#   −0.6 % (per pair −10 % to +5 %); guard against the README's previous-default images
#   0.995 / 1.040, where 11 steps gave 1.023 / 1.045 and, with the chunked Gram's other
#   rounding alone, 1.023 / 1.051 (a pair's ratios move by up to ±6 % with rounding).
#   Rejected: single-scale 512 px, 16 steps: guard 0.90 / 1.03 but the large swirls and
#   strokes of the coarse scales are gone (looked at); 5 scales with 3 final steps
#   (11.4 eq): 1.32 / 1.18; 181→512 (30/12): 0.99 / 1.05, fewer swirls; 128→512 (48/12):
#   1.03 / 1.07.
# - Variables: a 4-level Laplacian pyramid with coarse levels moving 2x further per
#   level (``pyramid_decay`` 0.5, as STROTSS parameterises): swirls survive the scale
#   changes better (looked at); guard with 9 final steps 1.07 / 0.995 vs 1.05 / 1.00 in
#   pixels; decay 1.0: 1.06 / 1.04; 5 levels: 1.06 / 0.98; on the seed's objective 57
#   steps vs 58 (pixels).
# - Total variation 10 (mean squared neighbour difference): removes some of the fine
#   pixel-level hatching between strokes (TV of the result −8 % at 512 px, visibly at
#   256 px) for +1-2 % on the guard; 30 is cleaner still but style +8 %; 3 does nothing.
# - Rejected: an EMA of the iterates (crowsonkb), decay 0.5: content 1.03 vs 0.99 and no
#   less noise (with 11 L-BFGS steps the average lags); re-running AdaIN on the current
#   image at each scale for the detail band ("restart from AdaIN at every scale"): guard
#   1.22 / 1.07, the loss jump grows; the photo's detail band: 1.13 / 1.35; no band: 1.44
#   / 1.88; bf16 Gram matmuls: the seed objective stops converging (6.8e4 after 57 steps
#   vs 5.8e4); L-BFGS history 10: 65+ steps to the seed's loss vs 57 (history 100: 56);
#   torch.compile of the objective: 70 s to compile per image size and 1.3x slower steps
#   on this CPU; a larger L-BFGS initial Hessian (2.5·sᵀy/yᵀy): 68 steps to the seed's
#   loss instead of 77, but the guard's style 1.16 (more, half-formed texture).
# - Per step (``losses``, ``vgg``): Gram and content losses work in the channels-last
#   layout the extractor produces: 0.83 → 0.69 s per 512×384 step in bf16, 1.96 → 1.72 s
#   in fp32; the seed's full-resolution content terms 0.274 → 0.237 s per 256² step.
#   The Gram gradient's matmul in bf16 and one bf16 copy of the VGG weights instead of
#   autocast's cast on every pass: the seed's loss in 12.6 s instead of 16.7 s (medians
#   of four alternating runs each; ranges 10.8-16.0 and 12.3-17.3 s), guard 1.023 / 1.045
#   (the bf16 gradient moves each result a little: per pair −5 % to +7 % on content).
#   The VGG weights packed once for oneDNN (``vgg.FrozenConv2d``) instead of reordered
#   on every convolution, forward and backward: seed-objective steps at 128² 47-55 →
#   35-36 ms, at 256² 141-160 → 134-138 ms; the seed's loss in medians of 7.5 and 8.2 s
#   against 8.0, 7.9 and 8.3 s before (AMX Xeon; the host's noise is as large as the
#   gain end to end). Results bit-identical in bf16, so the guard is unchanged.
#   Each ReLU fused into the packed convolution before it (``vgg._PackedConv``): a step
#   of the default objective at 512² 464 → 433 ms in bf16, 1573 → 1498 ms in fp32
#   (medians of alternating runs); none on the seed's objective at 256² (122 vs 125 ms,
#   noise). Bit-identical results. The bench after it (AMX Xeon, two runs): 59x and 52x,
#   the default at 512 px in 5.2 and 5.1 full-size fp32 steps' worth (512²: 4.9, 5.1).
#   The Gram of a large bf16 map summed in fp32 a chunk of positions at a time
#   (``losses.gram_sum``) instead of from one fp32 copy of the whole map: a step of the
#   default objective at 512² 366 → 328 ms, of the seed's at 256² 104 → 99 ms (bf16,
#   medians of alternating runs); results equal to rounding. The bench after it and the
#   12th final step (AMX Xeon, two runs): 63x and 51x, the default at 512 px in 5.4 and
#   4.9 full-size fp32 steps' worth (512²: 5.3, 4.7).
DEFAULT = replace(
    PREVIOUS_DEFAULT,
    tv_weight=10.0,
    optimizer="lbfgs",
    steps=56,
    scale_ratio=2.0,
    step_decay=1.0,
    step_shares=(12, 14, 30),
    pyramid=4,
    pyramid_decay=0.5,
)

RECIPES: dict[str, Recipe] = {"seed": SEED, "default": DEFAULT}
#: Recipes that are not presets but can be compared against (the quality guard, panels).
REFERENCE_RECIPES: dict[str, Recipe] = {"previous": PREVIOUS_DEFAULT}
