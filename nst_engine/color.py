"""Colour preservation: keep the photo's colours, take the result's luminance.

The post-hoc variant of Gatys et al. 2016 ("Preserving Color in Neural Artistic Style
Transfer"), as in neural-style's ``-original_colors``: brushwork and light come from the
painting, hue and saturation from the photo. BT.601 YCbCr, where chroma is independent
of luminance.
"""

from __future__ import annotations

import torch

_RGB_TO_YCC = torch.tensor([[0.299, 0.587, 0.114],
                            [-0.168736, -0.331264, 0.5],
                            [0.5, -0.418688, -0.081312]])
_YCC_TO_RGB = torch.linalg.inv(_RGB_TO_YCC)


def _apply(matrix: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,bjhw->bihw", matrix.to(image), image)


def preserve_colors(result: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """``result``'s luminance with ``content``'s chroma; both (B, 3, H, W) in 0..1."""
    if content.shape[-2:] != result.shape[-2:]:
        content = torch.nn.functional.interpolate(content, size=result.shape[-2:],
                                                  mode="bilinear", align_corners=False)
    y = _apply(_RGB_TO_YCC, result.float())[:, :1]
    chroma = _apply(_RGB_TO_YCC, content.float())[:, 1:]
    return _apply(_YCC_TO_RGB, torch.cat([y, chroma], dim=1)).clamp(0, 1)
