"""Coarse-to-fine schedule and the per-scale optimisation loop."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

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

    Steps shrink geometrically by ``step_decay`` from each scale to the next finer one:
    coarse steps are cheap (each √2 step down halves the pixels) and settle the large
    structures, so the expensive final scale only sharpens. A coarse scale is skipped if
    its short side would fall below what VGG19 can see.
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
    shares = [recipe.step_decay ** i for i in range(len(sides))]
    counts = [max(1, int(steps * share / sum(shares))) for share in shares]
    counts[0] += max(0, steps - sum(counts))  # rounding leftovers go to the cheapest scale
    scales = []
    for side, count in zip(sides, counts, strict=True):
        f = side / long_side
        scales.append(Scale(max(1, round(height * f)), max(1, round(width * f)), count))
    return scales


def optimise(image: torch.Tensor, objective: Objective, recipe: Recipe, steps: int,
             on_step: StepHook) -> torch.Tensor:
    """Run ``steps`` objective evaluations from ``image``; ``on_step`` may raise to stop.

    A step is one forward+backward pass for both optimisers, so progress and cost are
    comparable. L-BFGS runs without line search (one evaluation per iteration, fixed
    unit step after the first), which is what made it fast in measurement; a non-finite
    loss rolls back to the best iterate seen.
    """
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

    lbfgs = torch.optim.LBFGS([x], lr=recipe.lr, max_iter=1, history_size=recipe.history,
                              tolerance_grad=0.0, tolerance_change=0.0)

    def closure() -> torch.Tensor:
        lbfgs.zero_grad(set_to_none=True)
        loss = evaluate()
        if torch.isfinite(loss):
            loss.backward()
            assert x.grad is not None
            x.grad = x.grad.contiguous()  # channels_last flows back; L-BFGS needs .view(-1)
        return loss

    for _ in range(steps):
        loss = lbfgs.step(closure)
        if not torch.isfinite(loss):
            return best[1]
    return x.detach()
