"""VGG19 feature extractor, truncated at the deepest layer a loss needs."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from .weights import CONV_CHANNELS, CONV_INDICES, IMAGENET_MEAN, IMAGENET_STD, VGGWeights

Padding = Literal["zeros", "reflect"]

_BLOCK_NAMES = ("1_1", "1_2", "2_1", "2_2", "3_1", "3_2", "3_3", "3_4",
                "4_1", "4_2", "4_3", "4_4", "5_1", "5_2", "5_3", "5_4")
#: Layer names to torchvision ``features`` indices: ``conv4_2`` is 21, ``relu4_2`` is 22.
LAYERS: dict[str, int] = {
    **{f"conv{n}": i for n, i in zip(_BLOCK_NAMES, CONV_INDICES, strict=True)},
    **{f"relu{n}": i + 1 for n, i in zip(_BLOCK_NAMES, CONV_INDICES, strict=True)},
}
_POOL_INDICES = (4, 9, 18, 27, 36)


class VGGFeatures(nn.Module):
    """``torchvision.models.vgg19().features[:depth + 1]`` with taps at chosen indices.

    Input is RGB in 0..1; the ImageNet normalisation happens inside. ``padding="reflect"``
    and ``ceil_mode=True`` reproduce the encoder the AdaIN decoder was trained with.
    """

    def __init__(self, weights: VGGWeights, depth: int, *, padding: Padding = "zeros",
                 ceil_mode: bool = False) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        convs = dict(zip(CONV_INDICES, CONV_CHANNELS, strict=True))
        for idx in range(depth + 1):
            if idx in convs:
                c_out, c_in = convs[idx]
                conv = CastOnceConv2d(c_in, c_out, 3, padding=1, padding_mode=padding)
                conv.weight.data.copy_(weights.state[f"{idx}.weight"])
                conv.bias.data.copy_(weights.state[f"{idx}.bias"])
                layers.append(conv)
            elif idx in _POOL_INDICES:
                layers.append(nn.MaxPool2d(2, 2, ceil_mode=ceil_mode))
            else:
                layers.append(nn.ReLU(inplace=False))  # taps may hold the pre-ReLU tensor
        self.layers = nn.Sequential(*layers)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        self.requires_grad_(False).eval()

    @property
    def depth(self) -> int:
        return len(self.layers) - 1

    def forward(self, image: torch.Tensor, taps: Collection[int]) -> dict[int, torch.Tensor]:
        x = (image - self.mean) / self.std
        out: dict[int, torch.Tensor] = {}
        last = max(taps)
        for idx, layer in enumerate(self.layers):
            x = layer(x)
            if idx in taps:
                out[idx] = x
            if idx == last:
                break
        return out


class CastOnceConv2d(nn.Conv2d):
    """A frozen convolution that, under autocast, reuses one low-precision copy of its
    weights instead of recasting them on every pass, as autocast does for parameters
    that need no gradient: same values, same result, for half the weights' memory more
    (26 MB up to conv5_1). Measured in bf16, medians of 20 alternating passes: −10 % per
    step at 128² and −5 % at 256² on the seed's objective, −1 % at 512² on the default's
    (the cast is per pass, the convolutions grow with the pixels)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.copies: dict[tuple[torch.dtype, torch.device], tuple[torch.Tensor, torch.Tensor]] = {}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        device = x.device.type
        if not torch.is_autocast_enabled(device):
            return super().forward(x)
        key = (torch.get_autocast_dtype(device), self.weight.device)
        if key not in self.copies:
            assert self.bias is not None and not self.weight.requires_grad
            self.copies[key] = (self.weight.detach().to(key[0]), self.bias.detach().to(key[0]))
        weight, bias = self.copies[key]
        return self._conv_forward(x, weight, bias)  # autocast casts x (after any padding)


def resize_to(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Resize an NCHW batch to (height, width), antialiased when shrinking."""
    if tuple(image.shape[-2:]) == size:
        return image
    return F.interpolate(image, size=size, mode="bicubic", align_corners=False,
                         antialias=True).clamp(0, 1)
