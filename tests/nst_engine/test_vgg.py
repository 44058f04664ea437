"""The feature extractor's convolutions: one low-precision weight copy, same results."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from nst_engine.vgg import CastOnceConv2d


@pytest.mark.parametrize("padding", ["zeros", "reflect"])
def test_cast_once_convolution_matches_autocast_exactly(padding: str) -> None:
    torch.manual_seed(0)
    ours = CastOnceConv2d(8, 16, 3, padding=1, padding_mode=padding).requires_grad_(False)
    plain = nn.Conv2d(8, 16, 3, padding=1, padding_mode=padding).requires_grad_(False)
    plain.load_state_dict(ours.state_dict())
    x = torch.randn(1, 8, 20, 24).contiguous(memory_format=torch.channels_last)
    outputs, grads = [], []
    for conv in (ours, plain):
        leaf = x.clone().requires_grad_(True)
        for _ in range(2):  # the second pass reuses the copy
            with torch.autocast("cpu", dtype=torch.bfloat16):
                y = conv(leaf)
        (grad,) = torch.autograd.grad(y.float().square().sum(), leaf)
        outputs.append(y)
        grads.append(grad)
    assert outputs[0].dtype == torch.bfloat16
    assert torch.equal(outputs[0], outputs[1])
    assert torch.equal(grads[0], grads[1])
    assert list(ours.copies) == [(torch.bfloat16, torch.device("cpu"))]
    assert torch.equal(ours(x), plain(x))  # without autocast: the fp32 weights
