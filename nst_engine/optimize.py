"""Coarse-to-fine schedule and the per-scale optimisation loop."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .objective import Objective
from .presets import Recipe

MIN_SHORT_SIDE = 32  # four poolings deep, conv5_1 still sees a 2x2 map

StepHook = Callable[[torch.Tensor, dict[str, torch.Tensor]], None]


@dataclass(frozen=True)
class Scale:
    height: int
    width: int
    steps: int

    @property
    def pixels(self) -> int:
        return self.height * self.width


def plan_scales(height: int, width: int, recipe: Recipe, steps: int) -> list[Scale]:
    """Sizes from ``recipe.min_scale`` up to (height, width) by ``scale_ratio``, with steps.

    Steps are split by ``step_shares`` (see there): coarse steps are cheap (each halving
    of the side quarters the pixels) and settle the large structures, so the expensive
    final scale only sharpens. A coarse scale is skipped if its short side would fall
    below what VGG19 can see.
    """
    long_side, short_side = max(height, width), min(height, width)
    sides: list[float] = [float(long_side)]
    if recipe.min_scale > 0:
        while sides[-1] / recipe.scale_ratio >= recipe.min_scale * 0.999:
            side = sides[-1] / recipe.scale_ratio
            if side * short_side / long_side < MIN_SHORT_SIDE:
                break
            sides.append(side)
    sides = sides[::-1][-steps:]  # fewer steps than scales: keep the finest ones
    shares = step_shares(recipe, len(sides))
    counts = [max(1, int(steps * share / sum(shares))) for share in shares]
    counts[0] += max(0, steps - sum(counts))  # rounding leftovers go to the cheapest scale
    scales = []
    for side, count in zip(sides, counts, strict=True):
        f = side / long_side
        scales.append(Scale(max(1, round(height * f)), max(1, round(width * f)), count))
    return scales


def step_shares(recipe: Recipe, count: int) -> list[float]:
    """Relative step counts of ``count`` scales, coarsest first.

    ``recipe.step_shares`` lists them finest first; scales beyond it continue with
    ``step_decay`` (each coarser scale gets 1/decay as many); without it every scale
    gets ``step_decay`` times the steps of the next coarser one.
    """
    fine_first = list(recipe.step_shares[:count])
    while len(fine_first) < count:
        last = fine_first[-1] if fine_first else 1.0
        fine_first.append(last / recipe.step_decay)
    return fine_first[::-1]


@dataclass
class Curvature:
    """What L-BFGS learnt about the objective's scale, carried from one scale to the next.

    Relative losses are means over positions, so the inverse curvature along the
    gradient grows with the pixel count: ``gamma_per_pixel`` times the next scale's
    pixel count is its first step's scale, instead of a blind guess.
    """

    gamma_per_pixel: float | None = None


def optimise(image: torch.Tensor, objective: Objective, recipe: Recipe, steps: int,
             on_step: StepHook, *, curvature: Curvature | None = None) -> torch.Tensor:
    """Run ``steps`` objective evaluations from ``image``; ``on_step`` may raise to stop.

    A step is one forward+backward pass for every optimiser, so progress and cost are
    comparable. A non-finite loss rolls back to the best iterate seen.
    """
    if recipe.optimizer == "lbfgs":
        return lbfgs(image, objective, recipe, steps, on_step, curvature=curvature or Curvature())
    x = image.detach().clone().requires_grad_(True)
    best = (float("inf"), x.detach().clone())

    def evaluate() -> torch.Tensor:
        nonlocal best
        loss, parts = objective(x)
        value = loss.item()
        if value < best[0]:
            best = (value, x.detach().clone())
        on_step(x, parts)
        return loss

    if recipe.optimizer == "adam":
        adam = torch.optim.Adam([x], lr=recipe.lr)
        for _ in range(steps):
            adam.zero_grad(set_to_none=True)
            loss = evaluate()
            if not torch.isfinite(loss):
                return best[1]
            loss.backward()
            adam.step()
        return x.detach()

    # "lbfgs_torch": torch.optim.LBFGS without line search (one evaluation per iteration,
    # fixed unit step after the first): the previous default, kept to compare against.
    torch_lbfgs = torch.optim.LBFGS([x], lr=recipe.lr, max_iter=1, history_size=recipe.history,
                                    tolerance_grad=0.0, tolerance_change=0.0)

    def closure() -> torch.Tensor:
        torch_lbfgs.zero_grad(set_to_none=True)
        loss = evaluate()
        if torch.isfinite(loss):
            loss.backward()
            assert x.grad is not None
            x.grad = x.grad.contiguous()  # channels_last flows back; L-BFGS needs .view(-1)
        return loss

    for _ in range(steps):
        loss = torch_lbfgs.step(closure)
        if not torch.isfinite(loss):
            return best[1]
    return x.detach()


def lbfgs(image: torch.Tensor, objective: Objective, recipe: Recipe, steps: int,
          on_step: StepHook, *, curvature: Curvature) -> torch.Tensor:
    """L-BFGS with one evaluation per step and a sane first step.

    torch.optim.LBFGS starts each scale with ``x -= min(1, 1/|g|₁)·g``: on relative
    losses a step of ~1e-4 in pixel values that changes nothing, then scales its second
    step from that one pair of points and overshoots (1.56 → 2.17 at 512 px). Here the
    first step moves the largest pixel by ``recipe.first_step`` (or uses the curvature
    carried from the coarser scale), and later steps use the standard two-loop recursion
    with ``H₀ = sᵀy / yᵀy``. Measured on Tübingen × Starry Night at 512 px with the
    previous schedule: final loss 1.04 vs 1.11 in the same 90 steps.

    An overshoot (loss up) is rejected: its curvature pair is kept, the iterate stays,
    and the next steps are halved until one lowers the loss (no line search: every
    evaluation is a step the schedule counts). Taking overshoots as they came left
    some pairs far off at the final scale (Cornell × Matisse 1.76 → 2.94, Flowers ×
    Udnie 1.84 → 4.73 on the second step) and speckled patches in the result; guard
    with the halving on Cornell, Flowers, Tübingen, Golden Gate: content 1.19 / 1.01 /
    1.00 / 1.02, style 1.21 / 1.02 / 1.01 / 0.88, against 1.16 / 1.04 / 0.99 / 1.02
    and 1.29 / 1.09 / 1.06 / 0.88 without; only rejecting (no halving) wasted up to
    four steps in a row (Cornell final loss 1.22 vs 1.17).

    The variables are the image's pixels, or the levels of a Laplacian pyramid
    (``recipe.pyramid``), see ``Pyramid``.
    """
    param: Pixels | Pyramid = (Pyramid(recipe.pyramid, recipe.pyramid_decay)
                               if recipe.pyramid > 1 else Pixels())
    z = param.encode(image.detach())
    pixels = image[0, 0].numel()
    pairs: list[tuple[torch.Tensor, torch.Tensor, float]] = []
    best_loss, best_z = float("inf"), z

    def evaluate(point: torch.Tensor) -> tuple[float, torch.Tensor]:
        nonlocal best_loss, best_z
        leaf = point.detach().requires_grad_(True)
        x = param.decode(leaf)
        loss, parts = objective(x)
        on_step(x, parts)
        value = loss.item()
        if not math.isfinite(value):
            return value, torch.zeros_like(point)
        loss.backward()
        assert leaf.grad is not None
        if value < best_loss:
            best_loss, best_z = value, point.detach()
        return value, leaf.grad.detach()

    def direction(g: torch.Tensor) -> torch.Tensor:
        d = two_loop(g, pairs)
        if pairs:
            return d
        if curvature.gamma_per_pixel is not None:
            return d * (curvature.gamma_per_pixel * pixels)
        with torch.no_grad():
            largest = param.decode(d).abs().max().item()
        return d * (recipe.first_step / max(largest, 1e-30))

    f, g = evaluate(z)
    damping = 1.0
    for _ in range(steps - 1):
        if not math.isfinite(f):
            break
        z_new = z - damping * direction(g)
        f_new, g_new = evaluate(z_new)
        s, y = z_new - z, g_new - g
        sy, yy = float(s @ y), float(y @ y)
        # curvature condition (keeps H positive definite); no gradient at a non-finite loss
        if math.isfinite(f_new) and sy > 1e-10 * yy:
            pairs.append((s, y, 1.0 / sy))
            del pairs[:-recipe.history]
            curvature.gamma_per_pixel = sy / yy / pixels
        if not f_new <= f:  # overshoot (or non-finite): stay, learn, take half the step
            damping *= 0.5
            continue
        z, f, g, damping = z_new, f_new, g_new, 1.0
    with torch.no_grad():
        if not math.isfinite(f):
            return param.decode(best_z).detach()
        # One more step along the last direction costs no evaluation; steps lower the
        # loss (the curves fall monotonically after the first), and the next scale or
        # the caller's final clamp takes it from here, as torch's L-BFGS did.
        return param.decode(z - direction(g)).detach()


class Pixels:
    """The image itself as the variables (flattened)."""

    def __init__(self) -> None:
        self.shape = torch.Size()

    def encode(self, image: torch.Tensor) -> torch.Tensor:
        self.shape = image.shape
        return image.reshape(-1).clone()

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return z.view(self.shape)


class Pyramid:
    """The image as a Laplacian pyramid (STROTSS): ``levels`` bands, finest first, each
    upsampled (bilinear) and summed. Level ``l`` is stored divided by ``decay**l``, so a
    step of the same size in every variable moves coarse bands ``decay**-l`` times as
    far: a preconditioner that favours large structures."""

    def __init__(self, levels: int, decay: float) -> None:
        self.levels, self.decay = levels, decay
        self.shapes: list[torch.Size] = []

    def encode(self, image: torch.Tensor) -> torch.Tensor:
        bands, rest = [], image
        for _ in range(self.levels - 1):
            if min(rest.shape[-2:]) < 4:
                break
            low = F.avg_pool2d(rest, 2, ceil_mode=True)
            bands.append(rest - F.interpolate(low, size=rest.shape[-2:], mode="bilinear",
                                              align_corners=False))
            rest = low
        bands.append(rest)
        self.shapes = [b.shape for b in bands]
        return torch.cat([(b / self.decay ** i).reshape(-1) for i, b in enumerate(bands)])

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        parts, offset = [], 0
        for i, shape in enumerate(self.shapes):
            n = shape.numel()
            parts.append(z[offset:offset + n].view(shape) * self.decay ** i)
            offset += n
        image = parts[-1]
        for band in reversed(parts[:-1]):
            image = F.interpolate(image, size=band.shape[-2:], mode="bilinear",
                                  align_corners=False) + band
        return image


def two_loop(g: torch.Tensor, pairs: list[tuple[torch.Tensor, torch.Tensor, float]]
             ) -> torch.Tensor:
    """H·g for the L-BFGS inverse-Hessian estimate (Nocedal & Wright, Algorithm 7.4)."""
    q = g.clone()
    alphas = []
    for s, y, rho in reversed(pairs):
        a = rho * float(s @ q)
        q.sub_(y, alpha=a)
        alphas.append(a)
    if pairs:
        s, y, _ = pairs[-1]
        q.mul_(float(s @ y) / float(y @ y))
    for (s, y, rho), a in zip(pairs, reversed(alphas), strict=True):
        b = rho * float(y @ q)
        q.add_(s, alpha=a - b)
    return q
