"""AdaIN (Huang & Belongie 2017): one encoder-decoder pass instead of an optimisation.

Content features at relu4_1 are re-normalised to the style's per-channel mean and std,
then pytorch-AdaIN's decoder (trained against the normalised VGG19 with reflection
padding and ceil-mode pooling) turns them back into an image. Used for the ``fast``
preset and as a starting point for the optimisation.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import torch
from torch import nn

from .device import memory_format
from .vgg import LAYERS, VGGFeatures
from .weights import load_decoder_state, load_normalised

RELU4_1 = LAYERS["relu4_1"]

# (state_dict index, in, out, upsample after): the decoder mirrors the encoder to relu4_1.
_DECODER_CONVS = ((1, 512, 256, True), (5, 256, 256, False), (8, 256, 256, False),
                  (11, 256, 256, False), (14, 256, 128, True), (18, 128, 128, False),
                  (21, 128, 64, True), (25, 64, 64, False), (28, 64, 3, False))


class Decoder(nn.Module):
    def __init__(self, state: dict[str, torch.Tensor]) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for i, (key, c_in, c_out, upsample) in enumerate(_DECODER_CONVS):
            conv = nn.Conv2d(c_in, c_out, 3, padding=1, padding_mode="reflect")
            conv.weight.data.copy_(state[f"{key}.weight"])
            conv.bias.data.copy_(state[f"{key}.bias"])
            layers.append(conv)
            if i < len(_DECODER_CONVS) - 1:
                layers.append(nn.ReLU())
            if upsample:
                layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
        self.layers = nn.Sequential(*layers)
        self.requires_grad_(False).eval()

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.layers(features)


def mean_std(features: torch.Tensor, eps: float = 1e-5) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel statistics over positions, in fp32."""
    flat = features.float().flatten(2)
    return flat.mean(-1)[..., None, None], (flat.var(-1) + eps).sqrt()[..., None, None]


def adain(content: torch.Tensor, style_mean: torch.Tensor, style_std: torch.Tensor) -> torch.Tensor:
    c_mean, c_std = mean_std(content)
    return (content.float() - c_mean) / c_std * style_std + style_mean


class AdaIN(nn.Module):
    def __init__(self, device: torch.device, dtype: torch.dtype | None) -> None:
        super().__init__()
        self.device, self.dtype = device, dtype
        # Inference only, so the weights are cast once rather than per call by autocast.
        self.run_dtype = dtype or torch.float32
        fmt = memory_format(device)
        self.encoder = VGGFeatures(load_normalised(), RELU4_1, padding="reflect",
                                   ceil_mode=True).to(device, self.run_dtype, memory_format=fmt)
        self.decoder = Decoder(load_decoder_state()).to(device, self.run_dtype, memory_format=fmt)

    def encode(self, image: torch.Tensor) -> torch.Tensor:
        image = image.to(self.device, self.run_dtype, memory_format=memory_format(self.device))
        with torch.inference_mode():
            return self.encoder(image, (RELU4_1,))[RELU4_1]

    def style_stats(self, style: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return mean_std(self.encode(style))

    def transfer(self, content: torch.Tensor,
                 styles: Sequence[tuple[torch.Tensor, torch.Tensor]],
                 weights: Sequence[float], alpha: float) -> torch.Tensor:
        """Stylise ``content`` (1,3,H,W in 0..1) given per-style (mean, std) statistics.

        Several styles blend as a weighted sum of their AdaIN targets; ``alpha`` mixes the
        target with the content's own features (0 reproduces the photo, through the decoder).
        """
        feats = self.encode(content)
        total = sum(weights)
        target = sum(w / total * adain(feats, mean, std)
                     for (mean, std), w in zip(styles, weights, strict=True))
        assert isinstance(target, torch.Tensor)
        target = alpha * target + (1 - alpha) * feats.float()
        with torch.inference_mode():
            out = self.decoder(target.to(self.run_dtype, memory_format=memory_format(self.device)))
        h, w = content.shape[-2:]
        # ceil-mode pooling then x8 upsampling can overshoot odd sizes by a few pixels
        return out[..., :h, :w].float().clamp(0, 1).contiguous()


@functools.cache
def adain_model(device: torch.device, dtype: torch.dtype | None) -> AdaIN:
    """One model per (device, dtype) per process: loading costs ~0.5 s."""
    return AdaIN(device, dtype)
