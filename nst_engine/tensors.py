"""PIL images to and from torch tensors, kept apart so image decoding never needs torch."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image


def to_tensor(img: Image.Image, device: torch.device | str = "cpu") -> torch.Tensor:
    """(1, 3, H, W) float32 in 0..1."""
    arr = np.asarray(img.convert("RGB"), dtype=np.uint8)
    return torch.from_numpy(arr.copy()).permute(2, 0, 1).unsqueeze(0).to(device).float() / 255


def to_pil(tensor: torch.Tensor) -> Image.Image:
    arr = (tensor.detach()[0].float().clamp(0, 1) * 255 + 0.5).to(torch.uint8)
    return Image.fromarray(arr.permute(1, 2, 0).cpu().numpy(), mode="RGB")
