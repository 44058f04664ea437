"""VGG19 feature extractor, truncated at the deepest layer a loss needs."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from .device import cpu_has_bf16
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
                conv = FrozenConv2d(c_in, c_out, 3, padding=1, padding_mode=padding)
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
        idx = 0
        while idx <= last:
            layer = self.layers[idx]
            if (isinstance(layer, FrozenConv2d) and idx not in taps and idx < last
                    and isinstance(self.layers[idx + 1], nn.ReLU)):
                x = layer(x, relu=True)  # the pre-ReLU map is not wanted: fuse the two
                idx += 1
            else:
                x = layer(x)
            if idx in taps:
                out[idx] = x
            idx += 1
        return out


class FrozenConv2d(nn.Conv2d):
    """A convolution whose weights never change, kept in the form the backend runs them in.

    On a CPU with oneDNN, PyTorch hands oneDNN a plain weight tensor and oneDNN reorders
    it into its blocked layout on every call, forward and backward: two reorders per
    convolution per step, 1.2 ms each for a 512×512 kernel (more than that convolution
    itself at 128²), ~12 ms per step up to conv5_1 (measured with ``ONEDNN_VERBOSE``).
    Here the weights are packed once per dtype, for the forward pass and, flipped and
    transposed, for the input gradient (a stride-1 convolution's input gradient is the
    output gradient convolved with that kernel, padded by k−1−p): bit-identical outputs,
    and gradients too in bf16 (in fp32 to rounding: another summation order). Measured at
    16×16 with 512 channels: forward 1.9 → 0.6 ms, input gradient 2.4 → 0.7 ms in bf16
    (AMX Xeon); fp32 forward 10.3 → 4.4 ms. The packing is made on first use: load the
    weights before the first pass (``VGGFeatures`` does, in ``__init__``).

    Elsewhere (CUDA, MPS) under autocast, one low-precision copy of the weights replaces
    autocast's cast on every pass (same values): −10 % per step at 128² and −5 % at 256²
    on the seed's objective in bf16 (EPYC, before the packing).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.packed: dict[torch.dtype, Packed] = {}
        self.copies: dict[tuple[torch.dtype, torch.device], tuple[torch.Tensor, torch.Tensor]] = {}

    def forward(self, x: torch.Tensor, *, relu: bool = False) -> torch.Tensor:
        """The convolution, followed by a ReLU if ``relu`` (fused where packed)."""
        device = x.device.type
        autocasting = torch.is_autocast_enabled(device)
        dtype = torch.get_autocast_dtype(device) if autocasting else x.dtype
        if self._packable(x, dtype):
            if self.padding_mode != "zeros":
                x = F.pad(x, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            packed = self.packed.get(dtype) or self._pack(dtype, list(x.shape))
            return _PackedConv.apply(x.to(dtype).contiguous(memory_format=torch.channels_last),
                                     packed, relu)
        if not autocasting:
            y = super().forward(x)
        else:
            key = (dtype, self.weight.device)
            if key not in self.copies:
                self.copies[key] = (self._frozen(self.weight).to(dtype),
                                    self._frozen(self.bias).to(dtype))
            weight, bias = self.copies[key]
            y = self._conv_forward(x, weight, bias)  # autocast casts x (after any padding)
        return F.relu(y) if relu else y

    def _packable(self, x: torch.Tensor, dtype: torch.dtype) -> bool:
        return (x.device.type == "cpu" and x.dim() == 4 and torch.backends.mkldnn.is_available()
                and (dtype == torch.float32 or (dtype == torch.bfloat16 and cpu_has_bf16()))
                and self.stride == (1, 1) and self.dilation == (1, 1) and self.groups == 1
                and isinstance(self.padding, tuple))  # not "same"/"valid"

    def _pack(self, dtype: torch.dtype, input_size: list[int]) -> Packed:
        weight = self._frozen(self.weight).to(dtype).contiguous()
        # The module pads first (reflect) or the convolution pads with zeros.
        padding = [0, 0] if self.padding_mode != "zeros" else [int(p) for p in self.padding]
        back = [k - 1 - p for k, p in zip(self.kernel_size, padding, strict=True)]
        packed = Packed(pack(weight, padding, input_size), self._frozen(self.bias).to(dtype),
                        pack(weight.transpose(0, 1).flip(2, 3).contiguous(), back,
                             [input_size[0], self.out_channels, *input_size[2:]]),
                        padding, back)
        self.packed[dtype] = packed
        return packed

    @staticmethod
    def _frozen(param: torch.Tensor | None) -> torch.Tensor:
        assert param is not None and not param.requires_grad
        return param.detach()


@dataclass(frozen=True)
class Packed:
    """A frozen convolution's weights in oneDNN's layout, for the pass and its gradient."""

    weight: torch.Tensor
    bias: torch.Tensor
    flipped: torch.Tensor  # transposed and flipped: the input gradient's kernel
    padding: list[int]
    back_padding: list[int]


def pack(weight: torch.Tensor, padding: list[int], input_size: list[int]) -> torch.Tensor:
    """``weight`` in oneDNN's blocked layout for a stride-1 convolution. The layout is
    chosen for ``input_size`` but serves any size (bit-identical results)."""
    return torch._C._nn.mkldnn_reorder_conv2d_weight(
        weight.to_mkldnn(), padding, [1, 1], [1, 1], 1, input_size)


def packed_conv(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
                padding: list[int], *, relu: bool = False) -> torch.Tensor:
    return torch.ops.mkldnn._convolution_pointwise(
        x, weight, bias, padding, [1, 1], [1, 1], 1, "relu" if relu else "none", [], "")


class _PackedConv(torch.autograd.Function):
    """A stride-1 convolution on packed weights, optionally with the ReLU that follows it
    fused in (oneDNN applies it as the result is written); its input gradient on the
    packed flipped kernel. The weights are frozen: no gradient for them.

    Fusing the ReLU saves a pass over every activation map: the separate ReLU was 8 % of
    a step of the default objective at 512² (bf16, AMX Xeon). Its gradient still needs
    the mask, read from the saved output as autograd's ReLU does."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, packed: Packed, relu: bool) -> torch.Tensor:
        y = packed_conv(x, packed.weight, packed.bias, packed.padding, relu=relu)
        ctx.packed, ctx.relu = packed, relu
        if relu:
            ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        packed: Packed = ctx.packed
        if ctx.relu:
            (y,) = ctx.saved_tensors
            grad = torch.ops.aten.threshold_backward(grad, y, 0)
        grad = grad.contiguous(memory_format=torch.channels_last)
        return packed_conv(grad, packed.flipped, None, packed.back_padding), None, None


def resize_to(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Resize an NCHW batch to (height, width), antialiased when shrinking."""
    if tuple(image.shape[-2:]) == size:
        return image
    return F.interpolate(image, size=size, mode="bicubic", align_corners=False,
                         antialias=True).clamp(0, 1)
