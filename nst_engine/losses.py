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


#: Positions widened at a time by ``gram_sum`` (chunks of 2048-32768 measured alike).
GRAM_CHUNK = 8192


def gram_sum(flat: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
    """``Σ_p w(p)·F(p)F(p)ᵀ`` in fp32 over positions-major (N, C) features (``w`` = 1
    without ``weight``, an (N, 1) column).

    16-bit features on the CPU are widened a chunk of positions at a time into a buffer
    that stays in cache, instead of into one fp32 copy of the whole map written to and
    read back from memory: relu1_1 at 512² (262144 × 64) 28 → 13 ms, relu2_1 17 → 9 ms,
    and no 67 MB transient; equal to rounding (1e-6 of the largest entry).
    """
    n, c = flat.shape
    if flat.dtype in (torch.float32, torch.float64) or flat.device.type != "cpu" \
            or n <= GRAM_CHUNK:
        wide = widen(flat)
        return (wide if weight is None else wide * weight).T @ wide
    g = torch.zeros(c, c, device=flat.device)
    buffer = torch.empty(GRAM_CHUNK, c, device=flat.device)
    for start in range(0, n, GRAM_CHUNK):
        part = buffer[:min(GRAM_CHUNK, n - start)]
        part.copy_(flat[start:start + GRAM_CHUNK])
        left = part if weight is None else part * weight[start:start + GRAM_CHUNK]
        g.addmm_(left.T, part)
    return g


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
            return _FeatureMSE.apply(features, self.target) * self.scale


class _FeatureMSE(torch.autograd.Function):
    """``mean((F - T)²)`` in fp32 for 16-bit or fp32 ``F``, in the features' own layout.

    ``F.mse_loss(F.float(), T)`` made three full passes over the map and its backward
    three more (widen, subtract, square; subtract again, scale, narrow); here the
    difference is formed once, in fp32, kept for the backward, and the gradient is
    written straight in the features' dtype. It matters where content is taken from
    full-resolution layers, as the seed recipe does (relu1_1 at 256² is 4M values).
    """

    @staticmethod
    def forward(ctx, features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        diff = torch.sub(features, target)  # promotes to fp32 without a widened copy
        flat = diff.permute(0, 2, 3, 1) if diff.dim() == 4 and diff.is_contiguous(
            memory_format=torch.channels_last) else diff
        flat = flat.reshape(-1)
        ctx.save_for_backward(diff)
        ctx.dtype = features.dtype
        return torch.dot(flat, flat) / flat.numel()

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor) -> tuple[torch.Tensor, None]:
        (diff,) = ctx.saved_tensors
        return torch.mul(diff, grad_out * (2.0 / diff.numel())).to(ctx.dtype), None


class _GramMSE(torch.autograd.Function):
    """``mean((gram(F) - T)²)`` with a hand-written backward.

    Autograd would differentiate ``F Fᵀ`` through both operands (two matmuls); the Gram is
    symmetric, so ``∂L/∂F = 2 (∂L/∂G) F`` needs one. That cuts the Gram's share of a step
    by a third on CPU, where these matmuls are a quarter of the time.

    Channels-last features (what the extractor produces) are used as a (positions ×
    channels) view and their gradient goes back in the same layout. Reshaping them to
    (channels × positions) instead copied every tapped map, and the gradient, returned
    channels-first, made autograd add it to the convolution's channels-last gradient
    with strided loops: 120 ms for relu1_1 at 512×384. Measured side by side at 512×384:
    0.83 → 0.69 s per step in bf16, 1.96 → 1.72 s in fp32, bit-identical gradients.
    The loss gradient's scale is applied to the small C×C matrix, not the C×H·W result.
    """

    @staticmethod
    def forward(ctx, features: torch.Tensor, target: torch.Tensor, norm: float) -> torch.Tensor:
        b, c, h, w = features.shape
        positions_major = features.is_contiguous(memory_format=torch.channels_last)
        if positions_major:
            flat = features.permute(0, 2, 3, 1).reshape(b, h * w, c)  # a view, no copy
            g = torch.stack([gram_sum(f) for f in flat])
        else:
            flat = features.reshape(b, c, h * w)
            wide = widen(flat)
            g = torch.bmm(wide, wide.transpose(1, 2))
            del wide
        diff = g / norm - target
        # The features are kept as they came (bf16 from an autocast pass: the ReLU keeps
        # them anyway) and widened again in the backward: saving the fp32 copy held
        # 0.5 GB more at 1024² through the whole backward.
        ctx.save_for_backward(flat, diff)
        ctx.shape, ctx.norm, ctx.dtype = features.shape, norm, features.dtype
        ctx.positions_major = positions_major
        return diff.pow(2).mean()

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        flat, diff = ctx.saved_tensors
        # L = Σ diff² / numel  →  ∂L/∂G = 2 diff / numel;  ∂L/∂F = 2 (∂L/∂G) F / norm
        scaled = diff * (grad_out * 4.0 / (diff.numel() * ctx.norm))
        b, c, h, w = ctx.shape
        flat, scaled = gradient_operands(flat, scaled, ctx.dtype)
        if ctx.positions_major:  # diff is symmetric: (F_hw×c)·D = (D·F_c×hw)ᵀ
            grad = torch.bmm(flat, scaled).to(ctx.dtype)
            return grad.reshape(b, h, w, c).permute(0, 3, 1, 2), None, None
        grad = torch.bmm(scaled, flat).to(ctx.dtype)
        return grad.reshape(ctx.shape), None, None


def gradient_operands(features: torch.Tensor, scaled: torch.Tensor, dtype: torch.dtype
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """The operands of a Gram loss's gradient matmul ``F·D``.

    Unlike the Gram itself (a difference of large sums, which 16-bit output would
    swamp), the gradient leaves in the features' dtype anyway, so with bf16 features
    the matmul runs in bf16 on the bf16 features as they are (fp32 accumulation inside),
    skipping the fp32 copy: measured at 256² on the seed's objective, 0.248 → 0.231 s
    per step (median of 15, alternating), gradients within 0.1-0.3 % of the fp32 ones.
    fp16 keeps fp32 operands: ``D`` would underflow fp16's range.
    """
    if dtype == torch.bfloat16:
        return features, scaled.to(dtype)
    return widen(features), scaled


class WeightedGramMSE(torch.autograd.Function):
    """``mean(((R + Σ_p w(p)·F(p)F(p)ᵀ) / N − T)²)``: one tile's part in a whole image's
    Gram loss (``R``: the rest of the image's Gram sum, ``N``: its position count).

    ``∂L/∂F(p) = 4 w(p) (D F(p)) / (numel·N)`` with ``D = G/N − T`` symmetric: one
    matmul, as in ``_GramMSE``. ``weight`` is (H·W, 1), positions-major.
    """

    @staticmethod
    def forward(ctx, features: torch.Tensor, weight: torch.Tensor,  # noqa: PLR0917
                rest: torch.Tensor, target: torch.Tensor, norm: float) -> torch.Tensor:
        b, c, h, w = features.shape
        flat = features.permute(0, 2, 3, 1).reshape(b * h * w, c)
        diff = (rest + gram_sum(flat, weight)) / norm - target
        ctx.save_for_backward(flat, weight, diff)
        ctx.shape, ctx.norm, ctx.dtype = features.shape, norm, features.dtype
        return diff.pow(2).mean()

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor) -> tuple[torch.Tensor, None, None, None, None]:
        flat, weight, diff = ctx.saved_tensors
        scaled = diff * (grad_out * 4.0 / (diff.numel() * ctx.norm))
        b, c, h, w = ctx.shape
        flat, scaled = gradient_operands(flat, scaled, ctx.dtype)
        grad = ((flat @ scaled) * weight).to(ctx.dtype)
        return grad.reshape(b, h, w, c).permute(0, 3, 1, 2), None, None, None, None


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
