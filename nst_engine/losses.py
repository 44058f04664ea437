"""Loss pieces: content, Gram style and total variation, composable into an objective.

Feature maps may arrive in bf16/fp16 from an autocast forward; every reduction here runs
in fp32 with autocast off, because Gram sums over H·W products lose too many bits in
16-bit arithmetic (a naive bf16 run diverges).

``relative=True`` divides each term by its target's mean square. That makes the terms
dimensionless: independent of image size (the Gram is divided by H·W too), of layer
width (means over C² entries) and of how a weight source scales each layer's
activations, so one ``strength`` means the same thing with every VGG19 source.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def gram(features: torch.Tensor, *, normalised: bool = True) -> torch.Tensor:
    """Gram matrix ``G_ij = Σ_k F_ik F_jk`` of (B, C, H, W) features, in fp32.

    ``normalised`` divides by H·W so the value does not grow with image size.
    """
    b, c, h, w = features.shape
    with torch.autocast(features.device.type, enabled=False):
        flat = widen(features).reshape(b, c, h * w)
        g = torch.bmm(flat, flat.transpose(1, 2))
    return g / (h * w) if normalised else g


def widen(x: torch.Tensor) -> torch.Tensor:
    """16-bit tensors to fp32; fp32/fp64 unchanged."""
    return x if x.dtype in (torch.float32, torch.float64) else x.float()


def mean_square(x: torch.Tensor) -> torch.Tensor:
    return widen(x).pow(2).mean()


class ContentLoss(nn.Module):
    """Mean squared difference between feature maps."""

    def __init__(self, target: torch.Tensor, *, relative: bool) -> None:
        super().__init__()
        self.register_buffer("target", widen(target.detach()))
        self.scale = 1.0 / max(mean_square(target).item(), 1e-12) if relative else 1.0

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        with torch.autocast(features.device.type, enabled=False):
            return F.mse_loss(widen(features), self.target) * self.scale


class _GramMSE(torch.autograd.Function):
    """``mean((gram(F) - T)²)`` with a hand-written backward.

    Autograd would differentiate ``F Fᵀ`` through both operands (two matmuls); the Gram is
    symmetric, so ``∂L/∂F = 2 (∂L/∂G) F`` needs one. That cuts the Gram's share of a step
    by a third on CPU, where these matmuls are a quarter of the time.
    """

    @staticmethod
    def forward(ctx, features: torch.Tensor, target: torch.Tensor, norm: float) -> torch.Tensor:
        b, c, h, w = features.shape
        flat = widen(features).reshape(b, c, h * w)
        diff = torch.bmm(flat, flat.transpose(1, 2)) / norm - target
        ctx.save_for_backward(flat, diff)
        ctx.shape, ctx.norm, ctx.dtype = features.shape, norm, features.dtype
        return diff.pow(2).mean()

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        flat, diff = ctx.saved_tensors
        # L = Σ diff² / numel  →  ∂L/∂G = 2 diff / numel;  ∂L/∂F = 2 (∂L/∂G) F / norm
        scale = grad_out * 4.0 / (diff.numel() * ctx.norm)
        grad = torch.bmm(diff, flat) * scale
        return grad.reshape(ctx.shape).to(ctx.dtype), None, None


class StyleLoss(nn.Module):
    """Mean squared difference between Gram matrices (target given as a Gram).

    Unnormalised Grams grow with the number of positions, so on a coarse scale of a
    multi-scale run both Grams are multiplied by ``positions_ratio`` (final pixels /
    this scale's pixels): the coarse objective then approximates the final one instead
    of being 16x weaker in style per halving of the size. 1 at the final scale.
    """

    def __init__(self, target_gram: torch.Tensor, *, normalised_gram: bool, relative: bool,
                 positions_ratio: float = 1.0) -> None:
        super().__init__()
        ratio = 1.0 if normalised_gram else positions_ratio
        target_gram = target_gram * ratio
        self.register_buffer("target", widen(target_gram.detach()))
        self.normalised_gram = normalised_gram
        self.ratio = ratio
        self.scale = 1.0 / max(mean_square(target_gram).item(), 1e-24) if relative else 1.0

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        h, w = features.shape[-2:]
        norm = float(h * w) if self.normalised_gram else 1.0 / self.ratio
        with torch.autocast(features.device.type, enabled=False):
            return _GramMSE.apply(features, self.target, norm) * self.scale


def total_variation(image: torch.Tensor) -> torch.Tensor:
    """Mean squared difference between neighbouring pixels: suppresses high-frequency noise."""
    dx = image[..., :, 1:] - image[..., :, :-1]
    dy = image[..., 1:, :] - image[..., :-1, :]
    return dx.float().pow(2).mean() + dy.float().pow(2).mean()
