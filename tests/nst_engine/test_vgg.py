"""The feature extractor's frozen convolutions: packed or cast once, same results."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from nst_engine.device import cpu_has_bf16
from nst_engine.vgg import FrozenConv2d


def outputs_and_input_grads(conv: nn.Module, x: torch.Tensor, dtype: torch.dtype | None
                            ) -> tuple[torch.Tensor, torch.Tensor]:
    leaf = x.clone().requires_grad_(True)
    for _ in range(2):  # the second pass reuses the packed weights or the copy
        with torch.autocast("cpu", dtype=dtype or torch.bfloat16, enabled=dtype is not None):
            y = conv(leaf)
    (grad,) = torch.autograd.grad(y.float().square().sum(), leaf)
    return y, grad


def twins(padding: str = "zeros") -> tuple[FrozenConv2d, nn.Conv2d]:
    torch.manual_seed(0)
    ours = FrozenConv2d(8, 16, 3, padding=1, padding_mode=padding).requires_grad_(False)
    plain = nn.Conv2d(8, 16, 3, padding=1, padding_mode=padding).requires_grad_(False)
    plain.load_state_dict(ours.state_dict())
    return ours, plain


def same_gradient(ours: torch.Tensor, plain: torch.Tensor, dtype: torch.dtype | None) -> None:
    """Bit-identical in bf16; in fp32 to rounding: oneDNN's backward kernel and a forward
    convolution on the flipped kernel sum in different orders (measured: 2.6e-6 of 6.1)."""
    if dtype is None:
        torch.testing.assert_close(ours, plain, rtol=1e-5, atol=1e-5)
    else:
        assert torch.equal(ours, plain)


@pytest.mark.parametrize("padding", ["zeros", "reflect"])
@pytest.mark.parametrize("dtype", [None, torch.bfloat16], ids=["fp32", "bf16"])
def test_frozen_convolution_matches_a_plain_one_exactly(padding: str,
                                                        dtype: torch.dtype | None) -> None:
    ours, plain = twins(padding)
    x = torch.randn(1, 8, 20, 24).contiguous(memory_format=torch.channels_last)
    (y, grad), (y_plain, grad_plain) = (outputs_and_input_grads(c, x, dtype)
                                        for c in (ours, plain))
    assert y.dtype == y_plain.dtype == (dtype or torch.float32)
    assert torch.equal(y, y_plain)
    same_gradient(grad, grad_plain, dtype)
    # Another size reuses the weights packed for the first one, with the same results.
    x2 = torch.randn(2, 8, 9, 13).contiguous(memory_format=torch.channels_last)
    (y, grad), (y_plain, grad_plain) = (outputs_and_input_grads(c, x2, dtype)
                                        for c in (ours, plain))
    assert torch.equal(y, y_plain)
    same_gradient(grad, grad_plain, dtype)
    if dtype is None or cpu_has_bf16():
        assert list(ours.packed) == [dtype or torch.float32] and not ours.copies


def test_without_onednn_autocast_casts_the_weights_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The path CUDA takes: one low-precision copy, autocast's results."""
    monkeypatch.setattr(torch.backends.mkldnn, "is_available", lambda: False)
    ours, plain = twins()
    x = torch.randn(1, 8, 20, 24).contiguous(memory_format=torch.channels_last)
    for a, b in zip(outputs_and_input_grads(ours, x, torch.bfloat16),
                    outputs_and_input_grads(plain, x, torch.bfloat16), strict=True):
        assert torch.equal(a, b)
    assert list(ours.copies) == [(torch.bfloat16, torch.device("cpu"))] and not ours.packed
